"""Engine and session factory: SQLite with WAL and foreign keys, or PostgreSQL via psycopg 3.

SQLite lets one transaction write at a time, and a writer that finds the database busy sleeps
and retries (1, 2, 5 ... 100 ms) until its busy timeout. Under load that turns a wait of a
millisecond into tens of them, and a process writing transaction after transaction starves
the others. So on an SQLite file every write transaction first takes its turn (`_WriteTurn`):
a lock among this process's threads, then an flock on `<database>-write.lock` among processes;
waiters wake as soon as the turn is free. The turn is given back right after COMMIT or
ROLLBACK. Reading takes no turn.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: SQLite's own busy handler alone
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from storage.files import private_file

SQLITE_BUSY_TIMEOUT_MS = 15_000
CONNECT_TIMEOUT = 3
"""Seconds to reach a PostgreSQL server before giving up."""
READ_ONLY = "roundtable_read_only"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and foreign keys on every connection.

    A statement's parameters are kept out of error messages (`hide_parameters`): they are
    people's answers and ids, and errors end up in logs and in the inbox's `last_error`.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        connect_args: dict[str, Any] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        database = make_url(url).database
        if database not in (None, "", ":memory:") and "mode=memory" not in url and not (
                database or "").startswith("file:"):
            # SQLite creates -wal and -shm with the database file's permissions: 0600 here
            private_file(Path(str(database)).absolute())
        if fcntl is not None and database not in (None, "", ":memory:") and (
                "mode=memory" not in url):
            connect_args["factory"] = _turn_taking(_WriteTurn.of(os.path.abspath(database)))
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql"):
        # an unreachable server fails in seconds, not after the system's TCP timeout: the
        # inbox then keeps answers in its spool instead of making Slack wait
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", CONNECT_TIMEOUT)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let the "begin" listener issue BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # deleted rows are overwritten, not left in free space (forget-me, retention)
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # pysqlite's own transaction handling defers BEGIN; we take the write lock at the first
    # statement so that SELECT-then-INSERT sequences are isolated. Sessions opened by
    # `reading` only read, and take no lock, so they never hold up a writer.
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    if not read_only:
        dbapi_connection = conn.connection.dbapi_connection
        if isinstance(dbapi_connection, _TurnTaking):
            dbapi_connection.take_turn()
    try:
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
    except BaseException:
        dbapi_connection = conn.connection.dbapi_connection
        if isinstance(dbapi_connection, _TurnTaking):
            dbapi_connection.give_turn()
        raise


class _WriteTurn:
    """One writer at a time to one SQLite file: among threads, then among processes."""

    _turns: dict[str, _WriteTurn] = {}
    _made = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = f"{path}-write.lock"
        self.threads = threading.Lock()
        self.fd: int | None = None

    @classmethod
    def of(cls, path: str) -> _WriteTurn:
        with cls._made:
            return cls._turns.setdefault(path, cls(path))

    def take(self) -> None:
        if not self.threads.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise sqlite3.OperationalError("database is locked")
        try:
            if self.fd is None:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            self.threads.release()
            raise

    def give(self) -> None:
        try:
            if self.fd is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()


class _TurnTaking(sqlite3.Connection):
    """A connection that holds the write turn from BEGIN IMMEDIATE to COMMIT or ROLLBACK."""

    turn: _WriteTurn
    holding = False

    def take_turn(self) -> None:
        if not self.holding:
            self.turn.take()
            self.holding = True

    def give_turn(self) -> None:
        if self.holding:
            self.holding = False
            self.turn.give()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.give_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.give_turn()


def _turn_taking(turn: _WriteTurn) -> type[_TurnTaking]:
    return type("TurnTaking", (_TurnTaking,), {"turn": turn})


def inbox_url(url: str) -> str:
    """Where incoming events wait to be handled (bot/core/inbox.py). Beside an SQLite file, a
    file of their own: SQLite writes one transaction at a time per file, so storing an event
    then never waits for answers being saved, nor they for it. Anywhere else, the database
    itself (PostgreSQL locks rows, not the whole database; an in-memory SQLite has no beside).
    """
    parsed = make_url(url)
    database = parsed.database
    if (parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:")
            or "mode=memory" in url):
        return url
    path = Path(database)
    return parsed.set(database=str(path.with_name(f"{path.stem}.inbox{path.suffix or '.db'}"))
                      ).render_as_string(hide_password=False)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reading only (it is never committed). On SQLite it does not take the
    write lock, so a long read, such as building a digest, holds up no answer being stored."""
    with factory() as session:
        session.connection(execution_options={READ_ONLY: True})
        yield session


def database_answers(engine: Engine) -> bool:
    """True when the database answers a trivial query (for /healthz)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return False
