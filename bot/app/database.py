"""Opening the database for a command or a process: clear words when it cannot be used."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.config import Settings
from bot.core.errors import RoundtableError
from storage.database import Database, connect
from storage.db import make_engine
from storage.migrate import current_revision, head_revision, is_known_revision


def open_database(settings: Settings, *, check_schema: bool = True) -> Database:
    """Connect, and refuse clearly when the schema is missing or behind."""
    engine = make_engine(settings.database_url)
    if check_schema:
        current = known_revision(engine)
        if current != head_revision():
            raise RoundtableError(
                "the database is not set up or is behind: run `roundtable db upgrade`"
            )
    return connect(engine)


def known_revision(engine: Engine) -> str | None:
    """The database's schema revision (None: none yet); refused in one line when it cannot be
    reached, or when a newer release migrated it (this code can neither use nor upgrade it)."""
    try:
        current = current_revision(engine)
    except Exception as exc:  # noqa: BLE001 - any connection failure is reported as one line
        raise RoundtableError(
            f"DATABASE_URL: cannot connect ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})"
        ) from None
    if current is not None and not is_known_revision(current):
        raise RoundtableError(
            f"the database is at revision {current}, newer than this Roundtable knows: run "
            "the release that upgraded it, or restore the backup taken before the upgrade "
            "(docs/operations.md, Upgrades)")
    return current
