"""Files for our eyes only: the SQLite database and its inbox (with their -wal and -shm), the
exports, a person's data and the spool are created 0600, in folders created 0700, under the
usual umask of 022 (which would make them 0644 and 0755)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app.spool import Spool, Spooled
from bot.core.digest.export import FORMATS, write_export
from bot.core.people import Person
from bot.core.replies import record_vote
from bot.core.rounds import RoundRequest, start_round
from storage.database import connect
from storage.db import make_engine, transaction
from storage.migrate import upgrade
from tests.digest.builders import view_of
from tests.helpers import TOP5, run_cli, seed_pack


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def test_the_database_and_its_inbox_are_created_0600_in_a_0700_folder(
        tmp_path: Path, umask_022: None) -> None:
    folder = tmp_path / "data" / "roundtable"
    engine = make_engine(f"sqlite:///{folder / 'roundtable.db'}")
    upgrade(engine)
    database = connect(engine)
    try:
        with transaction(database.sessions) as session:  # a write, so -wal and -shm exist
            start_round(session, RoundRequest(seed_pack(), [Person("U1", "One")], platform="slack"),
                        datetime.now(UTC))
        with database.inbox_engine.begin() as connection:
            connection.execute(text("SELECT count(*) FROM inbox_events"))
        files = sorted(p.name for p in folder.iterdir())
        for name in ("roundtable.db", "roundtable.db-wal", "roundtable.db-shm",
                     "roundtable.inbox.db", "roundtable.inbox.db-wal", "roundtable.inbox.db-shm",
                     "roundtable.db-write.lock"):
            assert name in files, files
            assert mode(folder / name) == 0o600, (name, oct(mode(folder / name)))
        assert mode(folder) == mode(folder.parent) == 0o700
    finally:
        database.dispose()


def test_exports_are_created_0600(tmp_path: Path, umask_022: None) -> None:
    view = view_of({"done-well": ["Protected time", "Executive backing"]}, [TOP5, TOP5[::-1]])
    out = tmp_path / "exports"
    for fmt in FORMATS:
        for path in write_export(view, fmt, out / f"round-1.{fmt}"):
            assert mode(path) == 0o600, (path.name, oct(mode(path)))
    assert any(p.suffix == ".png" for p in out.iterdir())  # the Markdown export's chart too
    assert mode(out) == 0o700


def test_an_export_written_over_a_readable_file_becomes_0600(tmp_path: Path,
                                                            umask_022: None) -> None:
    path = tmp_path / "round-1.csv"
    path.write_text("old")
    path.chmod(0o644)
    write_export(view_of({"done-well": ["x"]}), "csv", path)
    assert mode(path) == 0o600


def test_the_spool_is_0600_in_a_0700_folder(tmp_path: Path, umask_022: None) -> None:
    spool = Spool(tmp_path / "data" / "spool")
    spool.keep(Spooled("slack", "Ev1", "{}", datetime.now(UTC)))
    assert mode(spool.path) == 0o600
    assert mode(spool.folder) == mode(spool.folder.parent) == 0o700


def test_the_command_line_writes_0600_files(tmp_path: Path) -> None:
    # a subprocess, with umask 022 as a login shell gives it
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'roundtable.db'}"}
    previous = os.umask(0o022)
    try:
        assert run_cli("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
        engine = make_engine(env["DATABASE_URL"])
        with transaction(connect(engine).sessions) as session:
            round_ = start_round(session, RoundRequest(seed_pack(), [Person("U1", "One")],
                                                       platform="slack"), datetime.now(UTC))
            voter = round_.deliveries[0].participant
            record_vote(session, round_.id, "support-factors", voter, TOP5, datetime.now(UTC))
        engine.dispose()
        exported = run_cli("export", "--round", "1", "--format", "md", cwd=tmp_path, env=env)
        person = run_cli("participant", "export", "U1", cwd=tmp_path, env=env)
    finally:
        os.umask(previous)
    assert exported.returncode == 0 and person.returncode == 0, exported.stderr + person.stderr
    for written in exported.stdout.splitlines() + person.stdout.splitlines():
        assert mode(Path(written)) == 0o600, written
    assert mode(tmp_path / "db") == 0o700
    assert mode(tmp_path / "db" / "roundtable.db") == 0o600
