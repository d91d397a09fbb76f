"""Answers and votes in storage: idempotent, edits keep history, deletions honoured (both DBs)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.core.answers import confirmed_again
from bot.core.errors import InvalidAnswer, NotAllowed, RoundClosed, RoundtableError
from bot.core.replies import (
    delete_reply,
    dont_quote,
    edit_reply,
    record_reply,
    record_vote,
)
from bot.core.rounds import close_round
from storage.database import Database
from storage.db import transaction
from storage.models import Participant, Reply, ReplyVersion
from tests.helpers import TOP5, participant, started_round


def test_it_stores_the_same_message_once(database: Database, now: datetime) -> None:
    with transaction(database.sessions) as session:
        round_ = started_round(session, now)
        amara = participant(session, "U0001")
        first = record_reply(
            session,
            round_.id,
            "done-well",
            amara,
            "Covid vaccines",
            now,
            external_id="D1:1700000000.000100",
        )
        again = record_reply(
            session,
            round_.id,
            "done-well",
            amara,
            "Covid vaccines",
            now + timedelta(minutes=1),
            external_id="D1:1700000000.000100",
        )
    assert first.created and not again.created
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Reply)) == 1


def test_it_keeps_one_row_when_a_retry_arrives_in_another_transaction(
    database: Database, now: datetime
) -> None:
    with transaction(database.sessions) as session:
        round_id = started_round(session, now).id
    for _ in range(3):
        with transaction(database.sessions) as session:
            person = participant(session, "U0002")
            record_reply(
                session, round_id, "bought-in", person, "The ICS board", now, external_id="D2:1.2"
            )
    with database.sessions() as session:
        assert session.scalars(select(Reply.text)).all() == ["The ICS board"]


def test_it_keeps_the_earlier_text_when_an_answer_is_edited(
    database: Database, now: datetime
) -> None:
    with transaction(database.sessions) as session:
        round_ = started_round(session, now)
        person = participant(session, "U0001")
        record_reply(
            session, round_.id, "done-well", person, "first thought", now, external_id="D1:1.1"
        )
    with transaction(database.sessions) as session:
        edit_reply(session, "D1:1.1", "second thought", now + timedelta(hours=1))
        edit_reply(session, "D1:1.1", "third thought", now + timedelta(hours=2))
    with database.sessions() as session:
        reply = session.scalars(select(Reply)).one()
        assert reply.text == "third thought"
        assert reply.edited_at == now + timedelta(hours=2)
        assert [v.text for v in reply.versions] == ["first thought", "second thought"]


def test_it_honours_a_deletion_and_a_retry_does_not_restore_it(
    database: Database, now: datetime
) -> None:
    with transaction(database.sessions) as session:
        round_ = started_round(session, now)
        person = participant(session, "U0001")
        record_reply(
            session, round_.id, "done-well", person, "regret this", now, external_id="D1:1.1"
        )
        edit_reply(session, "D1:1.1", "regret this more", now)
        delete_reply(session, "D1:1.1", now)
        retried = record_reply(
            session, round_.id, "done-well", person, "regret this", now, external_id="D1:1.1"
        )
    assert not retried.created
    with database.sessions() as session:
        reply = session.scalars(select(Reply)).one()
        assert reply.deleted_at is not None and reply.text is None
        assert session.scalar(select(func.count()).select_from(ReplyVersion)) == 0


def test_it_replaces_a_vote_and_keeps_the_old_ranking(database: Database, now: datetime) -> None:
    with transaction(database.sessions) as session:
        round_ = started_round(session, now)
        person = participant(session, "U0003")
        record_vote(session, round_.id, "support-factors", person, TOP5, now)
        record_vote(session, round_.id, "support-factors", person, list(reversed(TOP5)), now)
    with database.sessions() as session:
        vote = session.scalars(select(Reply)).one()
        assert vote.choices == list(reversed(TOP5))
        assert [v.choices for v in vote.versions] == [TOP5]


@pytest.mark.parametrize(
    "choices, problem",
    [
        (["Protected time"], "A ranking here needs your top 5, and 1 was chosen: choose 5 "
                             "options, best first."),
        (TOP5[:4] + ["Free pizza"], "“Free pizza” is not one of this question's options"),
        (TOP5[:4] + ["Protected time"], "once"),
    ],
)
def test_it_refuses_a_bad_ranking_and_stores_nothing(
    database: Database, now: datetime, choices: list[str], problem: str
) -> None:
    with transaction(database.sessions) as session:
        round_ = started_round(session, now)
        person = participant(session, "U0001")
        with pytest.raises(InvalidAnswer, match=problem):
            record_vote(session, round_.id, "support-factors", person, choices, now)
        assert session.scalar(select(func.count()).select_from(Reply)) == 0


def test_it_refuses_answers_to_a_closed_round(database: Database, now: datetime) -> None:
    with transaction(database.sessions) as session:
        round_ = started_round(session, now)
        person = participant(session, "U0001")
        close_round(session, round_.id, now)
        with pytest.raises(RoundClosed):
            record_reply(session, round_.id, "done-well", person, "late", now)


def test_it_refuses_an_unknown_question_and_an_empty_answer(
    database: Database, now: datetime
) -> None:
    with transaction(database.sessions) as session:
        round_ = started_round(session, now)
        person = participant(session, "U0001")
        with pytest.raises(InvalidAnswer, match="has no such question: answer the questions"):
            record_reply(session, round_.id, "nope", person, "text", now)
        with pytest.raises(InvalidAnswer, match="An answer needs some words: write your answer"):
            record_reply(session, round_.id, "done-well", person, "   ", now)


def test_it_keeps_an_answer_that_says_dont_quote_me_from_quotes_for_good(
        database: Database, now: datetime) -> None:
    with transaction(database.sessions) as session:
        round_ = started_round(session, now)
        person = participant(session, "U0001")
        said = record_reply(session, round_.id, "done-well", person,
                            "The ICS board failed us. Don’t quote me on that.", now,
                            external_id="D1:1.1").reply
        plain = record_reply(session, round_.id, "bought-in", person, "GP practices", now,
                             external_id="D1:1.2").reply
        assert (said.quotable, plain.quotable) == (False, True)
        edited = edit_reply(session, "D1:1.2", "GP practices #noquote", now).reply
        assert not edited.quotable
        again = edit_reply(session, "D1:1.2", "GP practices", now).reply
        assert not again.quotable  # an edit never makes an answer quotable again
        with pytest.raises(RoundtableError, match="You asked already that this answer is "
                           "never quoted"):
            dont_quote(session, "D1:1.1", ("slack", "U0001"))  # its words asked already
        with pytest.raises(NotAllowed):
            dont_quote(session, "D1:1.1", ("slack", "U0002"))
        pressed = record_reply(session, round_.id, "future-leaders", person, "Trainees", now,
                               external_id="D1:1.3").reply
        assert dont_quote(session, "D1:1.3", ("slack", "U0001")) is pressed
        assert not pressed.quotable


def test_a_confirmation_shown_again_holds_only_its_authors_answers_as_they_stand(
        database: Database, now: datetime) -> None:
    """"Don't quote me" shows a confirmation again from what its button lists: written words
    as edited since (and still added beside the answer given before), a vote as the ballot
    now, typed in words; anyone else's answer, or one deleted since, is left out."""
    with transaction(database.sessions) as session:
        round_ = started_round(session, now)
        amara, ben = participant(session, "U0001"), participant(session, "U0002")
        record_reply(session, round_.id, "done-well", amara, "Covid vaccines", now,
                     external_id="D1:1.1")
        record_reply(session, round_.id, "done-well", amara, "And flu jabs", now,
                     external_id="D1:1.2")
        record_vote(session, round_.id, "support-factors", amara, TOP5, now, source="chat",
                    external_id="D1:1.3", text=", ".join(TOP5))
        record_vote(session, round_.id, "support-factors", amara, list(reversed(TOP5)), now,
                    source="chat", external_id="D1:1.4", text="the other way round")
        record_reply(session, round_.id, "bought-in", amara, "GP practices", now,
                     external_id="D1:1.5")
        record_reply(session, round_.id, "done-well", ben, "Ben's words", now,
                     external_id="D2:1.1")
        edit_reply(session, "D1:1.2", "And flu jabs in pharmacies", now)
        delete_reply(session, "D1:1.5", now)
    with database.sessions() as session:
        person = session.get_one(Participant, amara.id)
        shown = confirmed_again(session, person, [
            "D1:1.2", (round_.id, "support-factors"), "D2:1.1", "D1:1.5", "D9:9.9",
            (round_.id, "best-support")])
    assert [(s.asked.prompt.id, s.answer, s.added, s.updated) for s in shown] == [
        ("done-well", "And flu jabs in pharmacies", True, True),
        ("support-factors", tuple(reversed(TOP5)), False, False)]
    assert shown[1].typed
