"""forget-me deletes every row about a person and keeps only counts; my-data holds exactly
their own rows (both databases)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.core import audit
from bot.core.bot_messages import remember_confirmation, remember_digest, repeating
from bot.core.digest.build import build_digest
from bot.core.digest.changes import record_digest
from bot.core.forgetting import erase
from bot.core.people import Person, add_facilitator, find_participant
from bot.core.personal_data import held_about, inbox_events_of
from bot.core.ports import Sent
from bot.core.replies import edit_reply, record_reply, record_vote
from bot.core.rounds import RoundRequest, get_round, participation, start_round
from bot.core.status import round_status
from storage.database import Database
from storage.db import transaction
from storage.models import (
    Delivery,
    Digest,
    DigestEdit,
    InboxEvent,
    QuestionMessage,
    Reminder,
    Reply,
)
from tests.helpers import TOP5, seed_pack, stored_values

PEOPLE = [Person("UAMARA", "Amara Okafor", "community pharmacist", "Boots", "Europe/London"),
          Person("UBEN", "Ben Walsh", "PCN pharmacist", "Lewisham PCN", "Europe/London")]
AMARA_SAID = ["Frankly the ICS board never listened to us", "Protected time, at last"]


def _round_with_answers(database: Database, now: datetime, mode: str = "role") -> int:
    with transaction(database.sessions) as session:
        round_ = start_round(session, RoundRequest(
            seed_pack(), PEOPLE, started_by="UFAC", audience={"users": ["UAMARA", "UBEN"]},
            digest_channel="CLEADS", anonymity=mode, platform="slack"), now)  # type: ignore[arg-type]
        amara, ben = (find_participant(session, p.platform_user_id, "slack") for p in PEOPLE)
        assert amara is not None and ben is not None
        for delivery in session.scalars(select(Delivery)):
            delivery.state, delivery.channel_id = "sent", "D" + (
                "UAMARA" if delivery.participant_id == amara.id else "UBEN")
            session.add(QuestionMessage(delivery_id=delivery.id, prompt_id="done-well",
                                        channel_id=delivery.channel_id,
                                        message_id=f"{delivery.id}.1", created_at=now))
        record_reply(session, round_.id, "done-well", amara, "first go", now,
                     external_id="DUAMARA:1900000001.000200")
        edit_reply(session, "DUAMARA:1900000001.000200", AMARA_SAID[0], now)
        record_reply(session, round_.id, "best-support", amara, AMARA_SAID[1], now,
                     external_id="DUAMARA:1900000002.000200")
        record_vote(session, round_.id, "support-factors", amara, TOP5, now,
                    external_id="view:V1")
        record_reply(session, round_.id, "done-well", ben, "Care homes work", now,
                     external_id="DUBEN:1900000003.000200")
        session.add(Reminder(round_id=round_.id, participant_id=amara.id, number=1,
                             state="sent", created_at=now))
        session.flush()
        record_digest(session, round_.id, "week-1", build_digest(session, round_.id, now), now)
        remember_confirmation(session, "slack", Sent("DUAMARA", "1800000001.000100"),
                              amara.id, round_.id, now)
        remember_digest(session, "slack", round_.id, 1,
                        {0: Sent("CLEADS", "1800000002.000100"),
                         1: Sent("CLEADS", "1800000003.000100"),
                         4: Sent("CLEADS", "1800000004.000100")},
                        [p.id for p in seed_pack().prompts], now + timedelta(minutes=1))
        add_facilitator(session, "UAMARA", "UADMIN", now, "slack")
        audit.record(session, now, audit.person("slack", "UAMARA"), "participant.my-data")
        audit.record(session, now, "cli", "participant.export",
                     subject=audit.person("slack", "UAMARA"))
        return round_.id


def test_it_finds_the_bots_messages_that_repeat_someones_words(database: Database,
                                                                now: datetime) -> None:
    _round_with_answers(database, now)
    with database.sessions() as session:
        amara = find_participant(session, "UAMARA", "slack")
        ben = find_participant(session, "UBEN", "slack")
        assert amara is not None and ben is not None
        theirs = repeating(session, amara.id)
        assert [m.message_id for m in theirs.confirmations] == ["1800000001.000100"]
        # the parts about questions 1 (done-well) and 4 (best-support), not the top
        assert [m.part for m in theirs.digest_parts] == [1, 4]
        assert [m.part for m in repeating(session, ben.id).digest_parts] == [1]


def test_it_forgets_every_row_about_a_person_and_keeps_counts_that_add_up(
        database: Database, now: datetime) -> None:
    round_id = _round_with_answers(database, now)
    with transaction(database.sessions) as session:
        done = erase(session, "slack", "UAMARA", now)
    assert (done.answers, done.votes, done.versions, done.rounds) == (2, 1, 1, [round_id])
    assert (done.questions_sent, done.reminders, done.digests_scrubbed) == (1, 1, 1)
    assert done.facilitator and done.audit_entries == 2
    with database.sessions() as session:
        everything = "\n".join(stored_values(session))
        for trace in ("UAMARA", "Amara", "Okafor", "first go", *AMARA_SAID, "Boots"):
            assert trace not in everything, trace
        assert "Care homes work" in everything and "UBEN" in everything  # Ben's stay
        round_ = get_round(session, round_id)
        assert round_.withdrawn == 1 and round_.audience == {"users": ["UBEN"]}
        turnout = participation(session, round_)
        assert (turnout.invited, turnout.answered_any, turnout.withdrawn) == (1, 1, 1)
        assert sum(r.invited for r in turnout.by_role.values()) == turnout.invited
        status = round_status(session, round_, None)
        assert status.delivered + status.pending + status.failed == status.invited
        assert "1 person asked to be forgotten" in "\n".join(status.lines())
        view = build_digest(session, round_id, now)
        assert view.answer_count == session.scalar(select(func.count(Reply.id)))
    # and a new round for the same people does not ask them again
    with transaction(database.sessions) as session:
        again = start_round(session, RoundRequest(seed_pack(), PEOPLE, platform="slack"), now)
        assert len(again.deliveries) == 1 and find_participant(session, "UAMARA", "slack") is None


def test_it_forgets_a_facilitator_who_never_answered(database: Database, now: datetime) -> None:
    round_id = _round_with_answers(database, now)
    with transaction(database.sessions) as session:
        done = erase(session, "slack", "UFAC", now)
    assert done.facilitator and done.answers == 0
    with database.sessions() as session:
        assert "UFAC" not in "\n".join(stored_values(session))
        assert get_round(session, round_id).started_by is None


def test_it_forgets_a_facilitator_who_edited_and_approved_a_digest(
        database: Database, now: datetime) -> None:
    """The digest's edits and its approval name whoever made them, as the audit log does;
    once that facilitator is forgotten, neither names them any more."""
    round_id = _round_with_answers(database, now)
    ufac = audit.person("slack", "UFAC")
    with transaction(database.sessions) as session:
        digest = session.scalars(select(Digest).where(Digest.round_id == round_id)).one()
        digest.approved_by = ufac
        session.add(DigestEdit(round_id=round_id, prompt_id="done-well", action="lead",
                               text="What you told us", actor=ufac, at=now))
    with transaction(database.sessions) as session:
        erase(session, "slack", "UFAC", now)
    with database.sessions() as session:
        assert "UFAC" not in "\n".join(stored_values(session))
        assert session.scalars(select(DigestEdit.actor)).all() == [audit.FORGOTTEN]
        assert session.scalars(select(Digest.approved_by)).all() == [audit.FORGOTTEN]


def test_it_gives_a_person_exactly_their_own_data(database: Database, now: datetime) -> None:
    round_id = _round_with_answers(database, now)
    with transaction(database.inbox_sessions) as session:
        session.add_all([
            InboxEvent(platform="slack", event_id="Ev1", received_at=now, attempts=3,
                       payload=json.dumps({"kind": "written", "channel_id": "DUAMARA",
                                           "author_id": "UAMARA", "text": "stuck answer",
                                           "message_id": "1.1"})),
            InboxEvent(platform="slack", event_id="Ev2", received_at=now, attempts=3,
                       payload=json.dumps({"kind": "written", "channel_id": "DUBEN",
                                           "author_id": "UBEN", "text": "Ben's stuck one",
                                           "message_id": "1.2"}))])
    with database.sessions() as session, database.inbox_sessions() as inbox:
        amara = find_participant(session, "UAMARA", "slack")
        assert amara is not None
        waiting = inbox_events_of(inbox.scalars(select(InboxEvent)), "UAMARA", {"DUAMARA"})
        data = held_about(session, amara, waiting, now)
    text = json.dumps(data, ensure_ascii=False)
    assert data["person"]["user_id"] == "UAMARA" and data["person"]["name"] == "Amara Okafor"
    assert [a["text"] for a in data["answers"]] == [AMARA_SAID[0], AMARA_SAID[1], None]
    assert data["answers"][0]["earlier_versions"][0]["text"] == "first go"
    assert data["answers"][2]["choices"] == TOP5
    assert data["rounds"][0]["round"] == round_id and data["rounds"][0]["mode"] == "by role"
    assert [r["number"] for r in data["rounds"][0]["reminders"]] == [1]
    assert data["messages_waiting_to_be_handled"][0]["as_received"]["text"] == "stuck answer"
    assert data["facilitator"]["added_as_facilitator_at"] is not None
    assert {e["action"] for e in data["audit_log"]} == {"participant.my-data",
                                                        "participant.export"}
    for someone_else in ("UBEN", "Ben", "Care homes", "UFAC", "UADMIN", "Lewisham"):
        assert someone_else not in text, someone_else
