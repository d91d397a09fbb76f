"""The composition root's database half: settings to an engine and a session factory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.core.errors import RoundtableError
from storage.db import make_engine, make_session_factory
from storage.migrate import current_revision, head_revision


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]


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
    return Database(engine, make_session_factory(engine))


def utcnow() -> datetime:
    return datetime.now(UTC)
