"""Alembic: the migrations build the schema the models describe, and upgrading twice is safe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.database import Database
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import Base


def test_it_has_no_difference_between_models_and_migrations(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_it_upgrades_twice_without_harm(database: Database) -> None:
    upgrade(database.engine)
    upgrade(database.engine)
    assert current_revision(database.engine) == head_revision()
