"""Shared fixtures: every storage and core test runs on SQLite and on a real PostgreSQL server.

PostgreSQL is reached through ROUNDTABLE_TEST_POSTGRES_URL (a server URL whose user may create
databases, e.g. postgresql://postgres@127.0.0.1:5432/postgres). Each test run gets its own fresh
database, dropped at the end; without the variable the PostgreSQL half is skipped, visibly.
"""

from __future__ import annotations

# ruff: noqa: E402 - the thread settings below must come before any import of numpy
import os

# Several test workers share the machine's cores, and each spawns servers and commands of its
# own: a BLAS thread pool per process, as wide as the machine, makes them wait on each other
# (in one run of test_theme_shape, 40% more CPU for the same work). One thread each, set before
# numpy is first imported, and inherited by every process the tests start.
for _pool in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")
# Each HTTP client httpx makes (the Teams SDK makes three for each bot a test starts, the token
# fetch one more) loads certifi's whole bundle into a new TLS context, 40 ms of CPU each here,
# though every stand-in speaks plain HTTP: from a folder of certificates (httpx reads
# SSL_CERT_DIR), a context reads one only when it checks a certificate, 0.3 ms.
if os.path.isdir("/etc/ssl/certs"):
    os.environ.setdefault("SSL_CERT_DIR", "/etc/ssl/certs")

import compileall
import shutil
import sys
import uuid
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from storage.database import Database, connect
from storage.db import make_engine
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import Base
from tests.pg_cluster import private_postgres  # noqa: F401 - a fixture, for every test
from tests.stand_in_limits import slack_within_limits  # noqa: F401 - a fixture, for every test

POSTGRES_ENV = "ROUNDTABLE_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgres"]
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC


def pytest_report_header() -> str:
    url = os.environ.get(POSTGRES_ENV)
    return (
        f"PostgreSQL tests: {url}"
        if url
        else f"PostgreSQL tests: SKIPPED ({POSTGRES_ENV} is not set)"
    )


def _driver_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def pytest_configure(config: pytest.Config) -> None:
    """Compile the project's modules once, before the test workers start. Where the
    environment says PYTHONDONTWRITEBYTECODE (some CI images do), every worker, every
    `roundtable` process a test starts and every forked command would otherwise compile the
    same sources again: over a run, minutes of CPU. Cached code is only read, never trusted
    over a newer source (the timestamps are checked as usual)."""
    if os.environ.get("PYTEST_XDIST_WORKER") or not sys.dont_write_bytecode:
        return  # a worker (the controller compiled), or Python caches as it imports
    root = Path(__file__).resolve().parents[1]
    for package in ("bot", "storage", "tests"):
        compileall.compile_dir(root / package, quiet=1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Some tests run on one database (`_one_database_each`). Tests marked `long` run
    first, the rest in their order. Each test worker (xdist) runs
    its share in order while idle workers take from the end of the busiest one's queue: a
    long test late in a share ran on alone at the end of the run (the killed-sender fan-out,
    three quarters of a minute, when the other workers had finished)."""
    _one_database_each(config, items)
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


TESTS = Path(__file__).resolve().parent
ONE_DATABASE_EACH = {
    "slack", "teams",  # the bot at its HTTP endpoint, as Slack and Teams reach it
    # the command line, run as a person runs it
    "test_digest_review_cli.py", "test_round_admin.py", "test_import_people.py",
    # the digest's words and numbers: the database only holds the answers they are made of
    *(f"digest/test_{name}.py" for name in (
        "renderers", "group_joins", "shared_headlines", "model_grouping", "votes_readable",
        "totals", "anonymity")),
}


def _one_database_each(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The end-to-end tests (the bot at its endpoints, the command line) and the tests of the
    digest's text run each on one database: about half of them on SQLite and half on
    PostgreSQL, chosen by a hash of the test's name (the same every run). What they reach of
    storage is the same code, run on both databases by the core and storage tests; two
    copies of each were a fifth of the suite's time. A test marked `each_database` (writers racing,
    a crash or an outage: how each database locks and fails is what it tests) keeps both
    copies, as does every test when no PostgreSQL server is set (its PostgreSQL copies are
    then skipped, visibly)."""
    if not os.environ.get(POSTGRES_ENV):
        return
    kept: list[pytest.Item] = []
    left: list[pytest.Item] = []
    for item in items:
        spec = getattr(item, "callspec", None)
        params: dict[str, object] = {} if spec is None else spec.params
        backend = params.get("database_url")
        where = item.path.relative_to(TESTS) if item.path.is_relative_to(TESTS) else None
        if (backend not in BACKENDS or item.get_closest_marker("each_database") is not None
                or where is None or not {where.parts[0], where.as_posix()} & ONE_DATABASE_EACH):
            kept.append(item)
            continue
        others = "-".join(f"{k}={v}" for k, v in sorted(params.items())
                          if k != "database_url")
        name = f"{item.path.name}::{getattr(item, 'originalname', item.name)}[{others}]"
        chosen = BACKENDS[zlib.crc32(name.encode()) % 2]
        (kept if backend == chosen else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh database for this test run (per xdist worker), dropped afterwards."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"PostgreSQL half skipped: {POSTGRES_ENV} is not set")
    admin = make_engine(_driver_url(server), isolation_level="AUTOCOMMIT")
    name = f"roundtable_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(_driver_url(server)).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


def _truncate(engine: Engine) -> None:
    """Empty every table and restart its ids. DELETE and ALTER SEQUENCE, not TRUNCATE: on
    tables this small they take a sixth of the time (TRUNCATE makes new files for each); all
    sent as one batch, not a round trip each (half the time again, after every test)."""
    with engine.begin() as conn:
        sequences = conn.execute(text(
            "SELECT sequence_name FROM information_schema.sequences "
            "WHERE sequence_schema = current_schema()")).scalars().all()
        conn.exec_driver_sql("; ".join([
            *(f'DELETE FROM "{table.name}"' for table in reversed(Base.metadata.sorted_tables)),
            *(f'ALTER SEQUENCE "{sequence}" RESTART' for sequence in sequences)]))


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A migrated, empty database URL on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "roundtable.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = make_engine(url)
    _truncate(engine)
    engine.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    engine = make_engine(database_url)
    database = connect(engine)  # as the app connects: on SQLite, the inbox in a file of its own
    yield database
    if database.inbox is not None:
        database.inbox.kw["bind"].dispose()
    engine.dispose()


@pytest.fixture
def to(database: Database) -> Iterator[Callable[[str], None]]:
    """Takes the test's database to a revision (`migrate`); at the end, back to head."""
    from tests.helpers import migrate

    yield lambda revision: migrate(database, revision)
    migrate(database, "head")
    assert current_revision(database.engine) == head_revision()


@pytest.fixture
def now() -> datetime:
    return NOW
