"""Alembic: the migrations build the schema the models describe, upgrading twice is safe, and
what a database holds survives an upgrade."""

from __future__ import annotations

import json
from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from bot.core.people import Person, upsert_participant
from bot.core.replies import record_reply, record_vote
from storage.database import Database
from storage.db import transaction
from storage.migrate import current_revision, head_revision, upgrade
from storage.model_answers import DatabaseModelAnswers
from storage.models import Base
from tests.conftest import NOW
from tests.helpers import TOP5, participant, started_round


def tables(database: Database) -> set[str]:
    return set(inspect(database.engine).get_table_names())


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
        database: Database, to: Callable[[str], None]) -> None:
    """0010 moves the model's groupings into model_answers, where every process finds them
    under the same keys; going back moves them back (headlines had no table then)."""
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


def test_it_decodes_the_words_of_slack_messages_stored_before_0012_and_only_those(
        database: Database, to: Callable[[str], None]) -> None:
    """Before 0012 a Slack answer was kept as Slack encodes it; after, as its reader saw it.
    Answers from a form, from Teams or from an import were never encoded and stay as they
    are, `<` and all."""
    with transaction(database.sessions) as session:
        round_ = started_round(session, NOW)
        amara, ben = participant(session, "U0001"), participant(session, "U0002")
        ben.platform = "teams"
        slack = record_reply(session, round_.id, "done-well", amara, "x", NOW,
                             external_id="D1:1.1").reply
        form = record_reply(session, round_.id, "bought-in", amara, "INR <2 or >3 & rising",
                            NOW, source="form", external_id="view:V1").reply
        teams = record_reply(session, round_.id, "future-leaders", ben, "x", NOW,
                             external_id="T1:1").reply
        ballot = record_vote(session, round_.id, "support-factors", amara, TOP5, NOW).reply
        ids = slack.id, form.id, teams.id, ballot.id
    encoded_text = "Refer if INR &lt;2 or &gt;3 &amp; ask <@U0002|ben> <!channel>"
    try:
        to("0011")
        with database.engine.begin() as connection:
            for reply_id, text_ in ((ids[0], encoded_text), (ids[2], "&lt;at&gt; Teams"),
                                    (ids[3], "1 &gt; 2, *all*")):
                connection.execute(text("UPDATE replies SET text = :t WHERE id = :i"),
                                   {"t": text_, "i": reply_id})
            connection.execute(text(
                "INSERT INTO reply_versions (reply_id, text, replaced_at) VALUES (:i, :t, :at)"),
                {"i": ids[0], "t": "first &amp; <https://x.example|the site>", "at": NOW})
            connection.execute(text(
                "INSERT INTO inbox_events (platform, event_id, payload, received_at, attempts) "
                "VALUES ('slack', 'Ev1', :p, :at, 0), ('teams', 'Ev2', :q, :at, 0)"),
                {"p": json.dumps({"kind": "written", "channel_id": "D1", "author_id": "U0001",
                                  "text": "a &lt; b", "message_id": "2.2", "thread_id": None}),
                 "q": json.dumps({"kind": "written", "channel_id": "T1", "author_id": "U0002",
                                  "text": "a &lt; b", "message_id": "3", "thread_id": None}),
                 "at": NOW})
        to("head")
        with database.engine.connect() as connection:
            texts = dict(connection.execute(text("SELECT id, text FROM replies")).all())
            versions = connection.execute(text("SELECT text FROM reply_versions")).scalars().all()
            waiting = {platform: json.loads(payload)["text"] for platform, payload in
                       connection.execute(text("SELECT platform, payload FROM inbox_events"))}
        assert [texts[i] for i in ids] == [
            "Refer if INR <2 or >3 & ask @ben @channel", "INR <2 or >3 & rising",
            "&lt;at&gt; Teams", "1 > 2, *all*"]
        assert versions == ["first & the site"]
        assert waiting == {"slack": "a < b", "teams": "a &lt; b"}
        to("0011")
        with database.engine.connect() as connection:
            texts = dict(connection.execute(text("SELECT id, text FROM replies")).all())
        assert texts[ids[0]] == "Refer if INR &lt;2 or &gt;3 &amp; ask @ben @channel"
        assert texts[ids[1]] == "INR <2 or >3 & rising"
    finally:
        to("head")
    assert current_revision(database.engine) == head_revision()


def test_it_merges_roles_and_organisations_stored_in_two_spellings_into_the_first(
        database: Database, to: Callable[[str], None]) -> None:
    """Before roles were kept as first written, "Community Pharmacist" and "community
    pharmacist " were two groups in every digest. 0015 makes them the first one written,
    spaced as a new one is stored; going back leaves them merged."""
    stored = {"U0001": ("Community Pharmacist ", "Northside  Hub"),
              "U0002": ("community pharmacist", "northside hub"),
              "U0003": ("COMMUNITY  PHARMACIST", None),
              "U0004": ("PCN pharmacist", "Northside Hub")}
    with transaction(database.sessions) as session:
        started_round(session, NOW, 4)

    def people() -> dict[str, tuple[str | None, str | None]]:
        with database.engine.connect() as connection:
            return {user: (role, organisation) for user, role, organisation in connection.execute(
                text("SELECT platform_user_id, role, organisation FROM participants"))}

    try:
        to("0014")
        with database.engine.begin() as connection:
            for user, (role, organisation) in stored.items():
                connection.execute(text("UPDATE participants SET role = :r, organisation = :o "
                                        "WHERE platform_user_id = :u"),
                                   {"r": role, "o": organisation, "u": user})
        to("head")
        merged = {"U0001": ("Community Pharmacist", "Northside Hub"),
                  "U0002": ("Community Pharmacist", "Northside Hub"),
                  "U0003": ("Community Pharmacist", None),
                  "U0004": ("PCN pharmacist", "Northside Hub")}
        assert people() == merged
        with transaction(database.sessions) as session:  # and a newcomer joins the group
            upsert_participant(session, Person("U0005", "Eve", "community PHARMACIST"), NOW,
                               "slack")
        assert people()["U0005"] == ("Community Pharmacist", None)
        to("0014")
        assert people() == {**merged, "U0005": ("Community Pharmacist", None)}
    finally:
        to("head")
    assert current_revision(database.engine) == head_revision()


def test_it_keeps_confirmations_owed_from_0018_and_gives_their_table_up_going_back(
        database: Database, to: Callable[[str], None]) -> None:
    try:
        to("0017")
        assert "owed_confirmations" not in tables(database)
    finally:
        to("head")
    assert "owed_confirmations" in tables(database)
    assert current_revision(database.engine) == head_revision()


def test_it_confirms_words_owed_before_0019_as_saved_and_keeps_added_ones_going_forward(
        database: Database, to: Callable[[str], None]) -> None:
    """0019 gives confirmations owed whether their words were added to an answer: one owed
    before it was not; going back drops what 0019 added."""
    def columns() -> set[str]:
        return {c["name"] for c in inspect(database.engine).get_columns("owed_confirmations")}

    with transaction(database.sessions) as session:
        round_ = started_round(session, NOW, 1)
        round_id, person = round_.id, participant(session, "U0001").id
    try:
        to("0018")
        assert "added" not in columns()
        with database.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO owed_confirmations (platform, channel_id, round_id, participant_id, "
                "prompt_id, answer_id, vote, updated, files_dropped, created_at) VALUES "
                "('slack', 'D1', :round, :person, 'done-well', 'D1:1.2', false, false, false, "
                ":at)"), {"round": round_id, "person": person, "at": NOW})
        to("head")
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT added FROM owed_confirmations")).all() == [
                (False,)]
        to("0018")
        assert "added" not in columns()
    finally:
        to("head")
    assert current_revision(database.engine) == head_revision()


def test_it_keeps_confirmations_owed_before_0020_as_saved_and_only_those_going_back(
        database: Database, to: Callable[[str], None]) -> None:
    """0020 owes every acknowledgement, each of its kind: a confirmation owed before it is an
    answer's; going back keeps the answers' confirmations and gives the others up (they have
    no answer to confirm)."""
    def columns() -> set[str]:
        return {c["name"] for c in inspect(database.engine).get_columns("owed_confirmations")}

    def owed() -> list[tuple[object, ...]]:
        with database.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(
                "SELECT kind, answer_id FROM owed_confirmations ORDER BY id"))]

    with transaction(database.sessions) as session:
        round_ = started_round(session, NOW, 1)
        round_id, person = round_.id, participant(session, "U0001").id
    try:
        to("0019")
        assert "kind" not in columns()
        with database.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO owed_confirmations (platform, channel_id, round_id, participant_id, "
                "prompt_id, answer_id, vote, updated, files_dropped, created_at) VALUES "
                "('slack', 'D1', :round, :person, 'done-well', 'D1:1.2', false, false, false, "
                ":at)"), {"round": round_id, "person": person, "at": NOW})
        to("head")
        assert owed() == [("saved", "D1:1.2")]
        with database.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO owed_confirmations (platform, kind, channel_id, said, vote, updated, "
                "files_dropped, created_at) VALUES ('slack', 'notice', 'D2', :said, false, "
                "false, false, :at)"), {"said": json.dumps([{"text": "Hello."}]), "at": NOW})
        assert owed() == [("saved", "D1:1.2"), ("notice", None)]
        to("0019")
        assert "kind" not in columns()
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT answer_id FROM owed_confirmations")).all() == [
                ("D1:1.2",)]
    finally:
        to("head")
    assert current_revision(database.engine) == head_revision()


def test_it_adds_the_homes_owed_at_0021_and_gives_their_table_up_going_back(
        database: Database, to: Callable[[str], None]) -> None:
    try:
        to("0020")
        assert "homes_owed" not in tables(database)
        assert "owed_confirmations" in tables(database)
    finally:
        to("head")
    assert "homes_owed" in tables(database)
    assert current_revision(database.engine) == head_revision()


def test_it_keeps_a_digests_refusal_from_0022_and_gives_it_up_going_back(
        database: Database, to: Callable[[str], None]) -> None:
    """0022 keeps why the platform refused a digest for good beside it (its drafts say so
    until it is posted); going back drops it, and the digest stays as it was."""
    def columns() -> set[str]:
        return {c["name"] for c in inspect(database.engine).get_columns("digests")}

    with transaction(database.sessions) as session:
        round_id = started_round(session, NOW, 1).id
    try:
        to("0021")
        assert not {"refused_reason", "refused_hint"} & columns()
        with database.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO digests (round_id, period, state, late, created_at) VALUES "
                "(:round, 'week', 'failed', false, :at)"), {"round": round_id, "at": NOW})
        to("head")
        with database.engine.begin() as connection:
            assert connection.execute(text(
                "SELECT state, refused_reason, refused_hint FROM digests")).all() == [
                ("failed", None, None)]
            connection.execute(text(
                "UPDATE digests SET refused_reason = 'not_in_channel', refused_hint = "
                "'Invite @Roundtable to the channel.'"))
        to("0021")
        assert not {"refused_reason", "refused_hint"} & columns()
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT period, state FROM digests")).all() == [
                ("week", "failed")]
    finally:
        to("head")
    assert {"refused_reason", "refused_hint"} <= columns()
    assert current_revision(database.engine) == head_revision()


def test_it_keeps_the_answers_a_confirmation_repeats_from_0024_and_gives_them_up_going_back(
        database: Database, to: Callable[[str], None]) -> None:
    """0024 keeps which answers a confirmation of several repeats; rows kept before name
    none, and going back drops the list, the confirmation kept as it was."""
    def columns() -> set[str]:
        return {c["name"] for c in inspect(database.engine).get_columns("bot_messages")}

    with transaction(database.sessions) as session:
        round_id = started_round(session, NOW, 1).id
    try:
        to("0023")
        assert "answers" not in columns()
        with database.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO bot_messages (platform, channel_id, message_id, kind, round_id, "
                "created_at) VALUES ('slack', 'D1', '1.1', 'confirmation', :round, :at)"),
                {"round": round_id, "at": NOW})
        to("head")
        with database.engine.begin() as connection:
            assert connection.execute(text(
                "SELECT message_id, answers FROM bot_messages")).all() == [("1.1", None)]
            connection.execute(text("UPDATE bot_messages SET answers = :ids"),
                               {"ids": json.dumps(["D1:1.0", "D1:1.1"])})
        to("0023")
        assert "answers" not in columns()
        with database.engine.connect() as connection:
            assert connection.execute(text(
                "SELECT message_id, kind FROM bot_messages")).all() == [("1.1", "confirmation")]
    finally:
        to("head")
    assert "answers" in columns()
    assert current_revision(database.engine) == head_revision()


def test_it_keeps_whose_files_a_confirmation_said_were_not_kept_from_0025_and_back(
        database: Database, to: Callable[[str], None]) -> None:
    """0025 keeps which answers of a confirmation of several came with files it said were not
    kept; rows kept before name none, and going back drops the list, the confirmation and
    the answers it repeats kept as they were."""
    def columns() -> set[str]:
        return {c["name"] for c in inspect(database.engine).get_columns("bot_messages")}

    with transaction(database.sessions) as session:
        round_id = started_round(session, NOW, 1).id
    answers = json.dumps(["D1:1.0", "D1:1.1"])
    try:
        to("0024")
        assert "files_dropped" not in columns()
        with database.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO bot_messages (platform, channel_id, message_id, kind, round_id, "
                "answers, created_at) VALUES ('slack', 'D1', '1.2', 'confirmation', :round, "
                ":answers, :at)"), {"round": round_id, "answers": answers, "at": NOW})
        to("head")
        with database.engine.begin() as connection:
            assert connection.execute(text(
                "SELECT message_id, files_dropped FROM bot_messages")).all() == [("1.2", None)]
            connection.execute(text("UPDATE bot_messages SET files_dropped = :ids"),
                               {"ids": json.dumps(["D1:1.0"])})
        to("0024")
        assert "files_dropped" not in columns()
        with database.engine.connect() as connection:
            [(kind, kept)] = connection.execute(text(
                "SELECT kind, answers FROM bot_messages")).all()
            assert kind == "confirmation"
            assert (json.loads(kept) if isinstance(kept, str) else kept) == ["D1:1.0", "D1:1.1"]
    finally:
        to("head")
    assert "files_dropped" in columns()
    assert current_revision(database.engine) == head_revision()
