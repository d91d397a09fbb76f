"""Retention: the daily job deletes the answers and digests of rounds closed longer ago than
ROUNDTABLE_RETENTION_DAYS, and old set-aside incoming events, and nothing else; it writes
its audit line. Run with a frozen clock (both databases)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.core.audit import entries
from bot.core.digest.build import build_digest
from bot.core.digest.changes import record_digest
from bot.core.people import Person, find_participant, opt_out
from bot.core.replies import record_reply
from bot.core.retention import Purged
from bot.core.rounds import RoundRequest, close_round, get_round, participation, start_round
from bot.scheduling import jobs
from bot.scheduling.service import RETENTION_AT, RETENTION_JOB, Scheduler
from storage.database import Database
from storage.db import transaction
from storage.models import (
    BotMessage,
    Delivery,
    Digest,
    InboxEvent,
    OwedConfirmation,
    Participant,
    Reply,
    TeamsSent,
)
from tests.fakes import Transcript
from tests.helpers import seed_pack, stored_values

NOW = datetime(2027, 12, 1, 3, 30, tzinfo=UTC)
DAYS = 365


def _round(database: Database, name: str, people: list[str], *, closed_days_ago: int | None,
           opened_days_ago: int = 800) -> int:
    opened = NOW - timedelta(days=opened_days_ago)
    with transaction(database.sessions) as session:
        round_ = start_round(session, RoundRequest(
            seed_pack(), [Person(p, p.title()) for p in people],
            audience={"users": people}, digest_channel="CLEADS", platform="slack"), opened)
        for p in people:
            person = find_participant(session, p, "slack")
            assert person is not None
            record_reply(session, round_.id, "done-well", person, f"{name} said by {p}", opened,
                         external_id=f"D{p}:{name}")
        session.flush()
        record_digest(session, round_.id, "week-1", build_digest(session, round_.id, opened),
                      opened)
        if closed_days_ago is not None:
            close_round(session, round_.id, NOW - timedelta(days=closed_days_ago))
        return round_.id


def _count(database: Database, model: type, round_id: int) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(
            model.round_id == round_id)) or 0  # type: ignore[attr-defined]


def test_the_daily_job_deletes_what_is_due_and_nothing_else(database: Database) -> None:
    due = _round(database, "due", ["UOLD", "USHARED", "USTOPPED"], closed_days_ago=DAYS + 1)
    kept = _round(database, "kept", ["UNEW", "USHARED"], closed_days_ago=DAYS - 1)
    still_open = _round(database, "open", ["UOPEN"], closed_days_ago=None, opened_days_ago=900)
    with transaction(database.sessions) as session:
        stopped = find_participant(session, "USTOPPED", "slack")
        assert stopped is not None
        opt_out(session, stopped, NOW - timedelta(days=500))
    with transaction(database.inbox_sessions) as session:
        for event_id, days, tries in (("EvOldAside", DAYS + 2, 3), ("EvNewAside", 10, 3),
                                      ("EvOldWaiting", DAYS + 2, 0)):
            session.add(InboxEvent(platform="slack", event_id=event_id, attempts=tries,
                                   payload=json.dumps({"text": event_id}),
                                   received_at=NOW - timedelta(days=days)))
    jobs.install(jobs.JobContext(database, {"slack": Transcript()}, lambda: NOW,
                                 "Europe/London", DAYS))
    jobs.apply_retention()

    assert (_count(database, Reply, due), _count(database, Digest, due),
            _count(database, Delivery, due)) == (0, 0, 0)
    for round_id in (kept, still_open):
        assert _count(database, Reply, round_id) and _count(database, Digest, round_id)
    with database.sessions() as session:
        purged = get_round(session, due)
        assert purged.purged_at == NOW and purged.audience == {}
        turnout = participation(session, purged)  # the counts stay
        assert (turnout.invited, turnout.answered_any) == (3, 3)
        people = {p.platform_user_id: p for p in session.scalars(select(Participant))}
        assert "UOLD" not in people  # in no round any more
        assert {"USHARED", "UNEW", "UOPEN"} <= set(people)
        assert people["USTOPPED"].opted_out and people["USTOPPED"].display_name is None
        assert get_round(session, kept).purged_at is None
        lines = entries(session)
    with database.inbox_sessions() as session:
        assert sorted(session.scalars(select(InboxEvent.event_id))) == ["EvNewAside",
                                                                        "EvOldWaiting"]
    assert [(e.actor, e.action) for e in lines] == [("scheduler", "retention.purge")]
    assert f"rounds purged: {due};" in lines[0].detail and "1 set-aside" in lines[0].detail

    jobs.apply_retention()  # the next night: nothing due, nothing written
    with database.sessions() as session:
        assert len(entries(session)) == 1


def test_its_audit_line_names_a_message_left_in_chat_when_it_took_none_down() -> None:
    assert Purged(rounds=[3], answers=1, messages_left=1).line() == (
        "rounds purged: 3; 1 answer, 0 digests, 0 people, 0 set-aside incoming events "
        "deleted; 0 messages holding someone's words deleted in chat, 1 could not be")


def test_the_retention_period_is_counted_from_the_close(database: Database) -> None:
    round_id = _round(database, "edge", ["UEDGE"], closed_days_ago=DAYS)
    jobs.install(jobs.JobContext(database, {"slack": Transcript()}, lambda: NOW,
                                 "Europe/London", DAYS))
    jobs.apply_retention()
    assert _count(database, Reply, round_id) == 1  # exactly 365 days: kept one day more
    later = NOW + timedelta(days=1)
    jobs.install(jobs.JobContext(database, {"slack": Transcript()}, lambda: later,
                                 "Europe/London", DAYS))
    jobs.apply_retention()
    assert _count(database, Reply, round_id) == 0


def test_the_scheduler_runs_retention_daily_at_night(database: Database) -> None:
    context = jobs.JobContext(database, {"slack": Transcript()}, lambda: datetime.now(UTC),
                              "Europe/London", DAYS)
    scheduler = Scheduler(context, sweep_seconds=3600, lease_check_seconds=3600)
    scheduler.tick()
    try:
        assert scheduler._aps is not None
        job = scheduler._aps.get_job(RETENTION_JOB)
        assert job is not None and job.func is jobs.apply_retention
        fields = {f.name: str(f) for f in job.trigger.fields}
        assert (fields["hour"], fields["minute"]) == (str(RETENTION_AT["hour"]),
                                                     str(RETENTION_AT["minute"]))
    finally:
        scheduler.stop()


def test_it_deletes_notes_of_teams_activities_whose_message_is_no_longer_kept(
        database: Database) -> None:
    """What teams_sent notes goes with what it describes; a note left behind (written by a
    version that noted every message, or by a send that finished as its delivery was being
    forgotten) goes with the daily job, once a day old."""
    kept = _round(database, "kept", ["UNEW"], closed_days_ago=None)
    old, fresh = NOW - timedelta(days=2), NOW - timedelta(hours=1)
    with transaction(database.sessions) as session:
        delivery = session.scalars(select(Delivery.id).where(Delivery.round_id == kept)).one()
        digest = session.scalars(select(Digest.id).where(Digest.round_id == kept)).one()
        session.add(BotMessage(platform="teams", channel_id="t-chat", message_id="h-kept",
                               kind="confirmation", round_id=kept, created_at=old))
        for kind, ref_id, part, at in (
                ("question", delivery, "done-well", old), ("digest", digest, "0", old),
                ("message", 0, "h-kept", old),
                ("question", delivery + 100, "done-well", old),
                ("digest", digest + 100, "0", old), ("form", digest + 100, "h-form", old),
                ("message", 0, "h-said", old), ("message", 0, "h-just-sent", fresh)):
            session.add(TeamsSent(kind=kind, ref_id=ref_id, part=part, conversation_key="t-chat",
                                  activity_id=f"1:{part}", created_at=at))
    jobs.install(jobs.JobContext(database, {"slack": Transcript()}, lambda: NOW,
                                 "Europe/London", DAYS))
    jobs.apply_retention()
    with database.sessions() as session:
        assert sorted(session.execute(select(TeamsSent.kind, TeamsSent.part))) == [
            ("digest", "0"), ("message", "h-just-sent"), ("message", "h-kept"),
            ("question", "done-well")]


def test_it_deletes_acknowledgements_owed_of_a_purged_round_or_never_posted(
        database: Database) -> None:
    """An acknowledgement the bot owes holds a person's words (the reply to a greeting carries
    them for its button): it goes with its round's answers, and one that no process posted
    (its platform served by none) goes once a day old, as a home owed does."""
    due = _round(database, "due", ["UOLD"], closed_days_ago=DAYS + 1)
    kept = _round(database, "kept", ["UNEW"], closed_days_ago=None)
    with transaction(database.sessions) as session:
        people = {p.platform_user_id: p.id for p in session.scalars(select(Participant))}
        for round_id, person, words, at in (
                (due, "UOLD", "hello, words of a purged round", NOW - timedelta(hours=1)),
                (kept, "UNEW", "hello, words waiting an hour", NOW - timedelta(hours=1)),
                (kept, "UNEW", "hello, words waiting two days", NOW - timedelta(days=2)),
                (None, None, "a notice waiting two days", NOW - timedelta(days=2))):
            session.add(OwedConfirmation(
                platform="teams", kind="offer" if person else "notice", channel_id="t-chat",
                round_id=round_id, participant_id=people.get(person or ""),
                said=[{"text": words}], kept={"text": words} if person else None,
                created_at=at))
    jobs.install(jobs.JobContext(database, {"slack": Transcript()}, lambda: NOW,
                                 "Europe/London", DAYS))
    jobs.apply_retention()
    with database.sessions() as session:
        held = "\n".join(stored_values(session))
        assert "purged round" not in held and "two days" not in held
        assert [said for said in session.scalars(select(OwedConfirmation.said))] == [
            [{"text": "hello, words waiting an hour"}]]
