"""A database as the application uses it: the engine, its sessions, and where incoming events
wait (beside an SQLite file, a file of their own; see storage.db.inbox_url)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.db import inbox_url, make_engine, make_session_factory
from storage.migrate import prepare_inbox


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    inbox: sessionmaker[Session] | None = None
    """Where incoming events wait, when not in the main database (storage.db.inbox_url)."""

    @property
    def inbox_sessions(self) -> sessionmaker[Session]:
        return self.inbox or self.sessions

    @property
    def inbox_engine(self) -> Engine:
        return self.inbox.kw["bind"] if self.inbox is not None else self.engine

    def drop_deleted(self) -> None:
        """After a deletion people are owed (forget-me, retention): on SQLite, empty the
        write-ahead log into the database files, where deleted rows are overwritten
        (secure_delete), so that no file keeps their words. A reader holding the log keeps
        it until the next call. PostgreSQL reuses the space of deleted rows on its own."""
        for engine in {self.engine, self.inbox_engine}:
            if engine.dialect.name != "sqlite":
                continue
            connection = engine.raw_connection()
            try:
                connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()

    def dispose(self) -> None:
        if self.inbox is not None:
            self.inbox_engine.dispose()
        self.engine.dispose()


def connect(engine: Engine) -> Database:
    """The database on `engine`, with the inbox's own file beside an SQLite file (created, and
    given any events an earlier version left in the main one)."""
    url = engine.url.render_as_string(hide_password=False)
    beside = inbox_url(url)
    if beside == url:
        return Database(engine, make_session_factory(engine))
    inbox = make_engine(beside)
    prepare_inbox(engine, inbox)
    return Database(engine, make_session_factory(engine), make_session_factory(inbox))
