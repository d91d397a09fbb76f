"""Alembic: the migrations build the schema the models describe, upgrading twice is safe, and
what a database holds survives an upgrade."""

from __future__ import annotations

import json

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from storage.database import Database
from storage.migrate import alembic_config, current_revision, head_revision, upgrade
from storage.model_answers import DatabaseModelAnswers
from storage.models import Base
from tests.conftest import NOW


def test_it_has_no_difference_between_models_and_migrations(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_it_upgrades_twice_without_harm(database: Database) -> None:
    upgrade(database.engine)
    upgrade(database.engine)
    assert current_revision(database.engine) == head_revision()


def test_it_keeps_the_groupings_of_a_database_it_upgrades_past_0010_and_back(
        database: Database) -> None:
    """0010 moves the model's groupings into model_answers, where every process finds them
    under the same keys; going back moves them back (headlines had no table then)."""
    config = alembic_config(database.engine.url.render_as_string(hide_password=False))

    def to(revision: str) -> None:
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.upgrade if revision == "head" else command.downgrade)(config, revision)

    grouping = {"key": "a" * 64, "labels": [0, 1, -1, 0, 1]}
    try:
        to("0009")
        with database.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO model_groupings (key, labels, created_at) "
                "VALUES (:key, :labels, :at)"),
                {**grouping, "labels": json.dumps(grouping["labels"]), "at": NOW})
        to("head")
        store = DatabaseModelAnswers(database.sessions)
        assert store.load("grouping", grouping["key"]) == grouping["labels"]
        store.keep("headlines", "b" * 64, {"1": {"title": "Time to learn"}})
        store.flush(timeout=20)
        to("0009")
        with database.engine.connect() as connection:
            rows = connection.execute(text("SELECT key, labels FROM model_groupings")).all()
        assert [(key, json.loads(labels) if isinstance(labels, str) else labels)
                for key, labels in rows] == [(grouping["key"], grouping["labels"])]
    finally:
        to("head")
    assert current_revision(database.engine) == head_revision()
