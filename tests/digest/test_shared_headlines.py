"""The model's headlines are shared by every process through the database: the scheduler that
drafts a digest and the server that posts it once approved show the same model-written titles,
though the model would word them otherwise if asked again. What is kept is checked again at
every build, and it goes with the round, its purge, and forget-me. Against a local stand-in of
an OpenAI-compatible endpoint, through build_digest on a stored round."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update

from bot.core.digest.build import build_digest
from bot.core.digest.model import PromptDigest
from bot.core.digest.summariser import Endpoint, Summariser, summariser
from bot.core.forgetting import erase
from bot.core.replies import edit_reply
from bot.core.retention import purge
from bot.core.round_changes import delete_round
from storage.database import Database
from storage.db import transaction
from storage.model_answers import DatabaseModelAnswers
from storage.models import ModelAnswer, Round
from tests.digest.test_summariser import StandIn, endpoint
from tests.helpers import PLATFORM
from tests.model_headlines import HOSTILE_LEAKS, answering, asked
from tests.review_round import current, question, review_round

__all__ = ["endpoint"]  # the stand-in's fixture, used here too

MEMBERS = ["UAMARA", "UBEN", "UCHIDI"]
OTHERS = ["UDEV", "UELIF", "UFARAH"]
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class Process:
    """One process of the bot: a summariser of its own, with the database as shared store."""

    def __init__(self, database: Database, url: str) -> None:
        self.database = database
        self.store = DatabaseModelAnswers(database.sessions)
        # Headlines only: grouping is covered by test_model_grouping.
        self.summariser: Summariser = summariser(Endpoint(url, "m", timeout=5), grouping=False,
                                                 shared=self.store)

    def build(self, round_id: int, now: datetime) -> PromptDigest:
        """The question's digest, as this process builds it; what it keeps is written."""
        with self.database.sessions() as session:  # on SQLite, holds the write turn throughout
            view = build_digest(session, round_id, now, summariser=self.summariser)
        self.store.flush(timeout=20)
        return question(view)


def titles(prompt: PromptDigest) -> list[str]:
    return [t.title for t in prompt.themes]


def kept(database: Database) -> list[ModelAnswer]:
    with database.sessions() as session:
        return list(session.scalars(select(ModelAnswer).where(ModelAnswer.kind == "headlines")
                                    .order_by(ModelAnswer.round_id)))


def rewrite_kept(database: Database, value: Any) -> None:
    with transaction(database.sessions) as session:
        session.execute(update(ModelAnswer).where(ModelAnswer.kind == "headlines")
                        .values(value=value))


def test_a_second_process_shows_the_first_ones_headlines_without_asking_the_model(
        database: Database, now: datetime, endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    round_id = review_round(database, now, MEMBERS, starter="UFACILITATOR")
    proposed = answering(stand_in)  # asked again, it words every title differently
    drafted = Process(database, url).build(round_id, now)
    posted = Process(database, url).build(round_id, now)
    assert titles(drafted) == [proposed[n] for n in sorted(proposed)]
    assert titles(posted) == titles(drafted)
    assert all(t.written_by_model for t in posted.themes)
    assert asked(stand_in) == (0, 1)
    [row] = kept(database)
    assert row.round_id == round_id and len(row.key) == 64


def test_a_changed_answer_asks_the_model_again(
        database: Database, now: datetime, endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    round_id = review_round(database, now, MEMBERS, starter="UFACILITATOR")
    answering(stand_in)
    drafted = Process(database, url).build(round_id, now)
    with transaction(database.sessions) as session:
        edit_reply(session, "review-0", "Protected time every week to plan and to learn", now)
    posted = Process(database, url).build(round_id, now)
    assert asked(stand_in) == (0, 2)
    assert titles(posted) != titles(drafted)
    assert len(kept(database)) == 2  # the first stands for the answers as they were


def test_a_kept_headline_that_fails_the_check_is_not_shown(
        database: Database, now: datetime, endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    round_id = review_round(database, now, MEMBERS, starter="UFACILITATOR")
    offline = titles(question(current(database, round_id, now)))
    answering(stand_in)
    drafted = Process(database, url).build(round_id, now)
    [row] = kept(database)
    value = dict(row.value)
    value["1"] = {"title": "Dave Smith at <!channel>", "summary": "Dave Smith said so.",
                  "quotes": ["words nobody wrote, not even once"]}
    rewrite_kept(database, value)
    posted = Process(database, url).build(round_id, now)
    assert asked(stand_in) == (0, 1)
    assert titles(posted) == [offline[0], *titles(drafted)[1:]]
    assert not posted.themes[0].written_by_model
    assert posted.themes[0].quotes == question(current(database, round_id, now)).themes[0].quotes
    shown = json.dumps([t.summary for t in posted.themes] + titles(posted))
    assert [leak for leak in HOSTILE_LEAKS if leak in shown] == []


MALFORMED: list[Any] = [
    "a headline",
    [{"title": "Time to learn"}],
    {"one": {"title": "Time to learn"}},
    {"1": "Time to learn"},
    {"1": {"title": 5}},
    {"1": {"quotes": [1, 2]}},
    {"1": {"title": "Time to learn", "n": 1}},
]


@pytest.mark.parametrize("value", MALFORMED)
def test_a_kept_value_of_the_wrong_shape_is_ignored_and_replaced(
        database: Database, now: datetime, endpoint: tuple[StandIn, str], value: Any) -> None:
    stand_in, url = endpoint
    round_id = review_round(database, now, MEMBERS, starter="UFACILITATOR")
    answering(stand_in)
    Process(database, url).build(round_id, now)
    rewrite_kept(database, value)
    posted = Process(database, url).build(round_id, now)
    assert asked(stand_in) == (0, 2)
    assert all(t.written_by_model for t in posted.themes)
    assert titles(Process(database, url).build(round_id, now)) == titles(posted)
    assert asked(stand_in) == (0, 2)  # the new answer replaced the one of the wrong shape


@sqlite_only
def test_a_kept_value_that_is_not_json_is_ignored(
        database: Database, now: datetime, endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    round_id = review_round(database, now, MEMBERS, starter="UFACILITATOR")
    answering(stand_in)
    Process(database, url).build(round_id, now)
    with transaction(database.sessions) as session:  # PostgreSQL would refuse it
        session.execute(text("UPDATE model_answers SET value = '{\"1\": {\"title\": '"))
    posted = Process(database, url).build(round_id, now)
    assert asked(stand_in) == (0, 2)
    assert all(t.written_by_model for t in posted.themes)


def test_only_what_passes_the_check_is_kept(
        database: Database, now: datetime, endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    round_id = review_round(database, now, MEMBERS, starter="UFACILITATOR")
    proposed = answering(stand_in, hostile=True)  # all but the last theme's are hostile
    Process(database, url).build(round_id, now)
    [row] = kept(database)
    stored = json.dumps(row.value)
    assert [leak for leak in HOSTILE_LEAKS if leak in stored] == []
    assert list(row.value) == [str(max(proposed))]


def headlined_rounds(database: Database, now: datetime, url: str) -> tuple[int, int]:
    """Two rounds of different people, each with headlines kept."""
    first = review_round(database, now, MEMBERS, starter="UFACILITATOR")
    second = review_round(database, now, OTHERS, starter="UFACILITATOR")
    for round_id in (first, second):
        Process(database, url).build(round_id, now)
    assert [row.round_id for row in kept(database)] == [first, second]
    return first, second


def test_forgetting_someone_deletes_the_headlines_kept_for_the_rounds_they_answered_in(
        database: Database, now: datetime, endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    answering(stand_in)
    _first, second = headlined_rounds(database, now, url)
    with transaction(database.sessions) as session:
        erase(session, PLATFORM, MEMBERS[0], now)
    assert [row.round_id for row in kept(database)] == [second]


def test_deleting_or_purging_a_round_deletes_its_kept_headlines(
        database: Database, now: datetime, endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    answering(stand_in)
    first, second = headlined_rounds(database, now, url)
    with transaction(database.sessions) as session:
        delete_round(session, first)
    assert [row.round_id for row in kept(database)] == [second]
    with transaction(database.sessions) as session:
        round_ = session.get_one(Round, second)
        round_.status, round_.closed_at = "closed", now
        assert purge(session, now + timedelta(days=31), 30).rounds == [second]
    assert kept(database) == []


def test_the_nightly_purge_deletes_headlines_kept_longer_than_60_days(
        database: Database, now: datetime, endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    answering(stand_in)
    old, recent = headlined_rounds(database, now, url)
    written = datetime.now(UTC)  # rows are written with the time they were kept
    with transaction(database.sessions) as session:
        session.execute(update(ModelAnswer).where(ModelAnswer.round_id == old)
                        .values(created_at=written - timedelta(days=61)))
        purge(session, written, 365)
    assert [row.round_id for row in kept(database)] == [recent]
