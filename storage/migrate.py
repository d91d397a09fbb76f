"""Create or migrate the database with Alembic (what `roundtable db upgrade` runs)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, Table, delete, inspect, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from storage.models import InboxEvent

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to run again when it is already there."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def is_known_revision(revision: str) -> bool:
    """Whether this code's migrations include `revision` (a newer release's is unknown)."""
    try:
        return ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(
            revision) is not None
    except CommandError:
        return False


def prepare_inbox(engine: Engine, inbox: Engine) -> int:
    """Give the inbox its own database when it has one (storage.db.inbox_url): create its
    table there, and move in the events an earlier version left waiting in the main database,
    so none is lost; how many moved. Safe to run again, and from several processes at once."""
    if inbox.url == engine.url:
        return 0
    table = cast(Table, InboxEvent.__table__)
    try:
        table.create(inbox, checkfirst=True)
    except OperationalError:  # another process starting at the same moment made it first
        if not inspect(inbox).has_table(table.name):
            raise
    if not inspect(engine).has_table(table.name):
        return 0
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(select(table).order_by(table.c.id))
                .mappings()]
    if not rows:
        return 0
    with inbox.begin() as connection:
        connection.execute(sqlite_insert(table).on_conflict_do_nothing(),
                           [{k: v for k, v in row.items() if k != "id"} for row in rows])
    with engine.begin() as connection:
        connection.execute(delete(table).where(table.c.id.in_([row["id"] for row in rows])))
    return len(rows)
