"""Rounds: deliveries at start, the pack frozen at start, participation figures (both DBs)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.errors import RoundClosed
from bot.core.people import Person, find_participant, opt_out
from bot.core.replies import record_reply, record_vote
from bot.core.rounds import RoundRequest, close_round, participation, round_pack, start_round
from storage.database import Database
from storage.db import transaction
from storage.models import Delivery, Reply
from tests.helpers import TOP5, people, seed_pack, started_round


def test_it_creates_one_pending_delivery_per_person(database: Database, now: datetime) -> None:
    with transaction(database.sessions) as session:
        audience = people(4) + people(2)  # two people named twice
        round_ = start_round(session, RoundRequest(seed_pack(), audience, platform="slack"), now)
        states = session.scalars(select(Delivery.state).where(Delivery.round_id == round_.id))
        assert sorted(states) == ["pending"] * 4


def test_it_leaves_out_people_who_said_stop(database: Database, now: datetime) -> None:
    with transaction(database.sessions) as session:
        started_round(session, now, n=3)
        stopped = find_participant(session, "U0002", "slack")
        assert stopped is not None
        opt_out(session, stopped, now)
        second = started_round(session, now, n=3)
        invited = session.scalars(
            select(Delivery.participant_id).where(Delivery.round_id == second.id)
        ).all()
        assert stopped.id not in invited and len(invited) == 2


def test_it_keeps_the_pack_as_it_was_at_the_start(database: Database, now: datetime) -> None:
    with transaction(database.sessions) as session:
        round_id = started_round(session, now).id
    with database.sessions() as session:
        from bot.core.rounds import get_round

        pack = round_pack(get_round(session, round_id))
    assert pack == seed_pack()
    assert [p.id for p in pack.prompts] == [
        "done-well",
        "bought-in",
        "future-leaders",
        "best-support",
        "anti-governance",
        "support-factors",
    ]


def test_it_counts_participation_by_role(database: Database, now: datetime) -> None:
    audience = people(2, "community pharmacist") + [
        Person("U0100", "Lead", "PCN pharmacy lead"),
        Person("U0101", "Chief", "chief pharmacist"),
    ]
    with transaction(database.sessions) as session:
        round_ = start_round(session, RoundRequest(seed_pack(), audience, platform="slack"), now)
        cp = find_participant(session, "U0001", "slack")
        lead = find_participant(session, "U0100", "slack")
        assert cp is not None and lead is not None
        for prompt in seed_pack().prompts:
            if prompt.kind == "text":
                record_reply(session, round_.id, prompt.id, lead, "an answer", now)
            else:
                record_vote(session, round_.id, prompt.id, lead, TOP5, now)
        record_reply(session, round_.id, "done-well", cp, "one answer", now)
        figures = participation(session, round_)
    assert (figures.invited, figures.answered_any, figures.answered_all) == (4, 2, 1)
    assert vars(figures.by_role["community pharmacist"]) == {
        "invited": 2,
        "answered_any": 1,
        "answered_all": 0,
    }
    assert figures.silent_roles == ["chief pharmacist"]


def test_it_closes_a_round_once(database: Database, now: datetime) -> None:
    with transaction(database.sessions) as session:
        round_ = started_round(session, now)
        close_round(session, round_.id, now + timedelta(days=1))
        assert round_.status == "closed"
        with pytest.raises(RoundClosed):
            close_round(session, round_.id, now + timedelta(days=2))


def test_it_refuses_a_closing_date_in_the_past(database: Database, now: datetime) -> None:
    with transaction(database.sessions) as session, pytest.raises(RoundClosed):
        started_round(session, now, closes_at=now - timedelta(days=1))


def test_words_written_to_a_vote_question_are_taking_part_not_answering_it(
        database: Database, now: datetime) -> None:
    audience = [Person("U0100", "Lead", "PCN pharmacy lead")]
    with transaction(database.sessions) as session:
        round_ = start_round(session, RoundRequest(seed_pack(), audience, platform="slack"), now)
        lead = find_participant(session, "U0100", "slack")
        assert lead is not None
        for prompt in seed_pack().prompts:
            if prompt.kind == "text":
                record_reply(session, round_.id, prompt.id, lead, "an answer", now)
            else:  # words and no ballot: kept as a comment, as a chat message is
                session.add(Reply(round_id=round_.id, prompt_id=prompt.id,
                                  participant_id=lead.id, text="I could not choose",
                                  source="chat", created_at=now))
        before = participation(session, round_)
        vote = next(p for p in seed_pack().prompts if p.kind != "text")
        record_vote(session, round_.id, vote.id, lead, TOP5, now)
        after = participation(session, round_)
    assert (before.answered_any, before.answered_all) == (1, 0)  # the vote still waits
    assert (after.answered_any, after.answered_all) == (1, 1)
