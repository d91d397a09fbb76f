"""The composition root's database half: settings to an engine and a session factory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.core.errors import RoundtableError
from storage.db import inbox_url, make_engine, make_session_factory
from storage.migrate import current_revision, head_revision, prepare_inbox


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    inbox: sessionmaker[Session] | None = None
    """Where incoming events wait, when not in the main database (storage.db.inbox_url)."""

    @property
    def inbox_sessions(self) -> sessionmaker[Session]:
        return self.inbox or self.sessions


def open_database(settings: Settings, *, check_schema: bool = True) -> Database:
    """Connect, and refuse clearly when the schema is missing or behind."""
    engine = make_engine(settings.database_url)
    if check_schema:
        try:
            current = current_revision(engine)
        except Exception as exc:  # noqa: BLE001 - any connection failure is reported as one line
            raise RoundtableError(
                f"DATABASE_URL: cannot connect ({exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''})"
            ) from None
        if current != head_revision():
            raise RoundtableError(
                "the database is not set up or is behind: run `roundtable db upgrade`"
            )
    return connect(engine)


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


def utcnow() -> datetime:
    return datetime.now(UTC)
