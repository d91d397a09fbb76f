"""The private PostgreSQL server (tests/pg_cluster.py): it really stops, and comes back on the
same port with its data."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import current_revision, head_revision
from tests.pg_cluster import PostgresUnavailable, PrivatePostgres


def test_a_stopped_server_refuses_connections_and_comes_back_with_its_data(
        private_postgres: PrivatePostgres) -> None:
    pg = private_postgres
    engine = make_engine(pg.url)
    assert current_revision(engine) == head_revision()  # migrated, as the fixture promises
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE kept (note text)"))
        conn.execute(text("INSERT INTO kept VALUES ('before the outage')"))
    port = pg.port
    for mode in ("immediate", "fast"):
        pg.stop(mode)
        assert not pg.running
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(pg.conninfo, connect_timeout=2).close()
        with pytest.raises(Exception, match="(?i)connect|refused"):
            with engine.connect() as conn:  # the pool's old connections are dead too
                conn.execute(text("SELECT 1"))
        pg.start()
        assert pg.running and pg.port == port and pg.accepts_connections()
        with engine.connect() as conn:  # pre-ping replaces the dead pooled connections
            assert conn.execute(text("SELECT note FROM kept")).scalars().all() == [
                "before the outage"]
    engine.dispose()


def test_down_starts_the_server_again_even_when_the_block_fails(
        private_postgres: PrivatePostgres) -> None:
    with pytest.raises(RuntimeError, match="inside"), private_postgres.down():
        assert not private_postgres.accepts_connections()
        raise RuntimeError("inside the outage")
    assert private_postgres.accepts_connections()


def test_cleanup_removes_the_server_and_its_files(tmp_path: Path) -> None:
    try:
        pg = PrivatePostgres.create(tmp_path)
    except PostgresUnavailable as exc:
        pytest.skip(f"private PostgreSQL server unavailable: {exc}")
    pg.start()
    pg.cleanup()
    assert not pg.accepts_connections() and not pg.data.exists()


def test_missing_binaries_are_reported_for_a_skip_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(PostgresUnavailable, match="initdb"):
        PrivatePostgres.create(tmp_path, bindir=tmp_path / "no-such-bin")
