"""Reminders: only to people with open questions, never at night where they are, capped."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.core import reminders, sending
from bot.core.answers import skip
from bot.core.dates import local_time, parse_closes
from bot.core.people import Person, find_participant
from bot.core.replies import record_reply, record_vote
from bot.core.round_changes import Changes, change_round, reopen_round
from bot.core.rounds import RoundRequest, close_round, get_round, start_round
from bot.core.status import round_status
from bot.scheduling import jobs
from storage.database import Database
from storage.db import transaction
from storage.models import Participant, Reminder
from tests.fakes import Transcript
from tests.helpers import TOP5, seed_pack, wait_for

LONDON = "Europe/London"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 09:00 in London
PEOPLE = [Person("UAMARA", "Amara", timezone=LONDON), Person("UBEN", "Ben", timezone=LONDON),
          Person("UMEI", "Mei", timezone="Asia/Hong_Kong")]


def started(database: Database, gateway: Transcript) -> int:
    with transaction(database.sessions) as session:
        round_id = start_round(session, RoundRequest(
            seed_pack(), PEOPLE, closes_at=START + timedelta(days=14), platform="slack"), START).id
    sending.send_due(database.sessions, {"slack": gateway}, lambda: START, LONDON)
    return round_id


def answer_everything(database: Database, round_id: int, user: str) -> None:
    with transaction(database.sessions) as session:
        person = find_participant(session, user, "slack")
        assert person is not None
        for prompt in seed_pack().prompts:
            if prompt.kind == "text":
                record_reply(session, round_id, prompt.id, person, "an answer", START)
            else:
                record_vote(session, round_id, prompt.id, person, TOP5, START)


def plan(database: Database, round_id: int, at: datetime) -> int:
    with transaction(database.sessions) as session:
        return reminders.plan_scheduled(session, round_id, at, LONDON)


def reminded(gateway: Transcript) -> list[str]:
    return [where for where, what in gateway.sent if what.startswith("A gentle reminder")]


def test_it_reminds_only_those_with_open_questions(database: Database) -> None:
    gateway = Transcript()
    round_id = started(database, gateway)
    answer_everything(database, round_id, "UAMARA")
    day3 = START + timedelta(days=3, hours=1)  # Thursday 10:00 London, 18:00 Hong Kong
    assert plan(database, round_id, day3) == 2
    sweep = reminders.send_due(database.sessions, {"slack": gateway}, lambda: day3, LONDON)
    assert sweep.sent == 1
    assert reminded(gateway) == ["DUBEN"]  # Mei's waits for the Hong Kong morning
    nudge = gateway.to("DUBEN")[-1]  # the question waiting in the conversation, by name
    assert "question 1 of 6 is waiting" in nudge and "5 more follow it" in nudge
    assert seed_pack().prompts[0].question in nudge


def test_it_waits_for_the_morning_where_the_person_is(database: Database) -> None:
    gateway = Transcript()
    round_id = started(database, gateway)
    day3 = START + timedelta(days=3, hours=1)
    plan(database, round_id, day3)
    reminders.send_due(database.sessions, {"slack": gateway}, lambda: day3, LONDON)
    assert "DUMEI" not in reminded(gateway)
    hong_kong_night = day3 + timedelta(hours=6)  # 00:00 there
    reminders.send_due(database.sessions, {"slack": gateway}, lambda: hong_kong_night, LONDON)
    assert "DUMEI" not in reminded(gateway)
    hong_kong_morning = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # 08:00 there
    reminders.send_due(database.sessions, {"slack": gateway}, lambda: hong_kong_morning, LONDON)
    assert reminded(gateway).count("DUMEI") == 1


def test_it_drops_a_reminder_when_the_answers_arrive_first(database: Database) -> None:
    gateway = Transcript()
    round_id = started(database, gateway)
    plan(database, round_id, START + timedelta(days=3, hours=10))  # 19:00 London: waits
    answer_everything(database, round_id, "UBEN")
    morning = START + timedelta(days=4)
    sweep = reminders.send_due(database.sessions, {"slack": gateway}, lambda: morning, LONDON)
    assert "DUBEN" not in reminded(gateway)
    assert sweep.dropped >= 1


def test_it_never_sends_more_than_the_cap(database: Database) -> None:
    gateway = Transcript()
    round_id = started(database, gateway)
    for day in (3, 5, 13, 13):
        at = START + timedelta(days=day, hours=1)
        plan(database, round_id, at)
        with transaction(database.sessions) as session:
            reminders.plan_now(session, round_id, at, LONDON)  # a facilitator's `remind`
        reminders.send_due(database.sessions, {"slack": gateway}, lambda at=at: at, LONDON)
    assert reminded(gateway).count("DUBEN") == reminders.MAX_REMINDERS
    with database.sessions() as session:
        numbers = session.scalars(select(Reminder.number)).all()
    assert max(numbers) == reminders.MAX_REMINDERS


def test_it_plans_one_reminder_after_missing_both_times(database: Database) -> None:
    gateway = Transcript()
    round_id = started(database, gateway)
    after_both = START + timedelta(days=13, hours=2)
    assert plan(database, round_id, after_both) == 3
    assert plan(database, round_id, after_both) == 0  # acted on already: no backlog
    reminders.send_due(database.sessions, {"slack": gateway}, lambda: after_both, LONDON)
    assert reminded(gateway).count("DUAMARA") == 1


def test_a_refused_reminder_waits_as_long_as_the_platform_asks(database: Database) -> None:
    """Slack refused Amara's reminder, asking for ten minutes: it is not tried again sooner
    (the client would wait out the rest, holding up the sweep), and goes once it may."""
    gateway = Transcript(fail_on={4}, retry_after=600)  # calls 1-3: the questions
    round_id = started(database, gateway)
    day3 = START + timedelta(days=3, hours=1)
    plan(database, round_id, day3)
    first = reminders.send_due(database.sessions, {"slack": gateway}, lambda: day3, LONDON)
    assert (first.sent, first.deferred) == (1, 1)  # Ben's; Amara's refused
    assert reminded(gateway) == ["DUBEN"]
    calls = gateway.calls
    for minutes in (5, 6, 9):
        at = day3 + timedelta(minutes=minutes)
        reminders.send_due(database.sessions, {"slack": gateway}, lambda at=at: at, LONDON)
    assert reminded(gateway) == ["DUBEN"] and gateway.calls == calls  # not even tried
    at = day3 + timedelta(minutes=10)
    reminders.send_due(database.sessions, {"slack": gateway}, lambda: at, LONDON)
    assert reminded(gateway) == ["DUBEN", "DUAMARA"]


def test_it_counts_as_following_only_the_questions_not_sent_yet(database: Database) -> None:
    """Ben skipped question 1, so question 2 was sent and waits: four questions follow it,
    not five, and question 1 is still his to answer."""
    gateway = Transcript()
    round_id = started(database, gateway)
    with transaction(database.sessions) as session:
        skip(session, round_id, seed_pack().prompts[0].id, "UBEN", START, "slack")
    sending.send_due(database.sessions, {"slack": gateway}, lambda: START, LONDON)
    assert gateway.to("DUBEN")[-1] == seed_pack().prompts[1].id  # question 2, sent
    day3 = START + timedelta(days=3, hours=1)
    plan(database, round_id, day3)
    reminders.send_due(database.sessions, {"slack": gateway}, lambda: day3, LONDON)
    nudge = gateway.to("DUBEN")[-1]
    assert "question 2 of 6 is waiting" in nudge, nudge
    assert "4 more follow it. Question 1 is still open too." in nudge, nudge


def test_it_says_when_the_round_closes_in_the_readers_own_time(database: Database) -> None:
    """A round closing on Friday 18 December (18:00 in London) closes on Saturday morning in
    Auckland and at 10:00 in Los Angeles: each reminder says so, in its reader's time."""
    gateway = Transcript()
    people = [Person("UAMARA", "Amara", timezone=LONDON),
              Person("UKIRI", "Kiri", timezone="Pacific/Auckland"),
              Person("ULUZ", "Luz", timezone="America/Los_Angeles"),
              Person("UNOZONE", "Noor")]
    opened = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    closes = parse_closes("2026-12-18", opened, LONDON)
    with transaction(database.sessions) as session:
        round_id = start_round(session, RoundRequest(seed_pack(), people, closes_at=closes,
                                                     platform="slack"), opened).id
    for hours in (0, 8, 10):  # London's, Los Angeles' and Auckland's morning
        at = opened + timedelta(hours=hours)
        sending.send_due(database.sessions, {"slack": gateway}, lambda at=at: at, LONDON)
    with transaction(database.sessions) as session:  # the evening before the close
        reminders.plan_now(session, round_id, closes - timedelta(days=1), LONDON)
    for day_hour in ((17, 19), (17, 20), (18, 8), (18, 16)):  # Kiri's, Luz's, Amara's morning
        at = datetime(2026, 12, *day_hour, 0, tzinfo=UTC)
        reminders.send_due(database.sessions, {"slack": gateway}, lambda at=at: at, LONDON)
    closing = {who: next(line for line in gateway.to(who) if "closes" in line).split(
        "The round closes ")[1].split(".")[0] for who in ("DUAMARA", "DUKIRI", "DULUZ",
                                                          "DUNOZONE")}
    assert closing == {"DUAMARA": "Fri 18 Dec 18:00 GMT", "DUKIRI": "Sat 19 Dec 07:00 NZDT",
                       "DULUZ": "Fri 18 Dec 10:00 PST", "DUNOZONE": "Fri 18 Dec 18:00 GMT"}


@pytest.mark.parametrize(("zone", "opened", "closes", "reminded_at"), [
    # closes Fri 18 Dec at 18:00 GMT: 18:00 the day before is evening, so 17:00 that day
    (LONDON, datetime(2026, 12, 15, 9, 0), "2026-12-18", datetime(2026, 12, 17, 17, 0)),
    # Sat 19 Dec 07:00 NZDT: 07:00 the day before is early, and Friday is not the closing
    # day, so 08:00 NZDT that Friday (23 hours ahead), not 17:00 on Thursday (38 hours ahead)
    ("Pacific/Auckland", datetime(2026, 12, 15, 9, 0), "2026-12-18",
     datetime(2026, 12, 17, 19, 0)),
    # Sat 19 Dec 02:00 HKT: 02:00 the day before is nearer 08:00 than 17:00 the day before
    ("Asia/Hong_Kong", datetime(2026, 12, 15, 9, 0), "2026-12-18",
     datetime(2026, 12, 18, 0, 0)),
    # Fri 18 Dec 21:00 MSK: 08:00 the next morning is the closing day, so 17:00 MSK Thursday
    ("Europe/Moscow", datetime(2026, 12, 15, 9, 0), "2026-12-18",
     datetime(2026, 12, 17, 14, 0)),
    # Fri 10:00 PST: Thu 10:00 PST is in working hours
    ("America/Los_Angeles", datetime(2026, 12, 15, 9, 0), "2026-12-18",
     datetime(2026, 12, 17, 18, 0)),
    # closes Mon 30 Mar 18:00 BST, the clocks went forward on Sunday: 17:00 BST on Sunday
    (LONDON, datetime(2026, 3, 27, 9, 0), "2026-03-30", datetime(2026, 3, 29, 16, 0)),
    # started at 17:30 the day before: 17:00 had passed, so the next morning
    (LONDON, datetime(2026, 12, 17, 17, 30), "2026-12-18", datetime(2026, 12, 18, 8, 0)),
])
def test_the_reminder_a_day_before_the_close_comes_the_day_before_in_working_hours(
        database: Database, zone: str, opened: datetime, closes: str,
        reminded_at: datetime) -> None:
    """A day before the close, at the same time of day where the reader is; outside working
    hours, the last working hour before that, never the morning of the closing day (unless
    the round started after it)."""
    gateway = Transcript()
    opened = opened.replace(tzinfo=UTC)
    closes_at = parse_closes(closes, opened, LONDON)
    with transaction(database.sessions) as session:
        round_id = start_round(session, RoundRequest(
            seed_pack(), [Person("UKIM", "Kim", timezone=zone)], closes_at=closes_at,
            platform="slack"), opened).id
    now = [opened]
    jobs.install(jobs.JobContext(database, {"slack": gateway}, lambda: now[0], LONDON))
    while now[0] < closes_at:  # the sweep's steps, on the hour
        jobs.send_due_deliveries()
        jobs.remind_due()
        now[0] = now[0].replace(minute=0) + timedelta(hours=1)
    with database.sessions() as session:
        sent = session.scalars(select(Reminder.sent_at).where(Reminder.round_id == round_id))
        assert [at.replace(tzinfo=UTC) for at in sent if at is not None] == [reminded_at.replace(
            tzinfo=UTC)]
    assert reminded(gateway) == ["DUKIM"]


def reminders_sent(database: Database, round_id: int) -> list[datetime]:
    with database.sessions() as session:
        sent = session.scalars(select(Reminder.sent_at).where(Reminder.round_id == round_id,
                                                              Reminder.sent_at.is_not(None)))
        return sorted(at.astimezone(UTC) for at in sent if at is not None)


def run_hourly(database: Database, gateway: Transcript, start: datetime, until: datetime,
               at_hour: dict[datetime, Callable[[Session, datetime], object]]) -> None:
    """The sweep's steps on the hour; at the hours in `at_hour` a facilitator acts first."""
    now = [start]
    jobs.install(jobs.JobContext(database, {"slack": gateway}, lambda: now[0], LONDON))
    while now[0] < until:
        if now[0] in at_hour:
            with transaction(database.sessions) as session:
                at_hour[now[0]](session, now[0])
        jobs.send_due_deliveries()
        jobs.remind_due()
        now[0] = now[0].replace(minute=0) + timedelta(hours=1)


@pytest.mark.parametrize(("moved_to", "reminded_at"), [
    # later: no longer a day before the close; now 3 days after the start, and the day before
    # Tuesday's close
    ("2026-12-22", [datetime(2026, 12, 19, 9, 0, tzinfo=UTC),
                    datetime(2026, 12, 21, 17, 0, tzinfo=UTC)]),
    # earlier, to this evening: the day before has passed, so this morning, not at 17:00
    ("2026-12-18", [datetime(2026, 12, 18, 8, 0, tzinfo=UTC)]),
])
def test_it_reminds_the_day_before_the_close_a_facilitator_moved(
        database: Database, moved_to: str, reminded_at: list[datetime]) -> None:
    """The round closed on Saturday 19 December; its reminder for Friday 17:00 was planned
    when the facilitator moved the close: it comes the day before the new close, once."""
    gateway = Transcript()
    opened = datetime(2026, 12, 16, 9, 0, tzinfo=UTC)
    with transaction(database.sessions) as session:
        round_id = start_round(session, RoundRequest(
            seed_pack(), [Person("UKIM", "Kim", timezone=LONDON)],
            closes_at=parse_closes("2026-12-19", opened, LONDON), platform="slack"), opened).id
    moved = datetime(2026, 12, 18, 6, 0, tzinfo=UTC)  # after planning Friday's reminder
    closes_at = parse_closes(moved_to, moved, LONDON)
    run_hourly(database, gateway, opened, closes_at + timedelta(days=1),
               {moved: lambda session, now: change_round(session, round_id,
                                                         Changes(closes_at=closes_at), now,
                                                         LONDON)})
    assert reminders_sent(database, round_id) == reminded_at
    assert reminded(gateway) == ["DUKIM"] * len(reminded_at)
    assert f"The round closes {local_time(closes_at, LONDON)}." in gateway.to("DUKIM")[-1]


def test_a_round_reopened_with_a_new_close_reminds_the_day_before_it(database: Database) -> None:
    """Closed on Friday morning with Friday's reminder planned, and opened again on Friday to
    close on Tuesday: the reminder comes the day before Tuesday, not on Friday."""
    gateway = Transcript()
    opened = datetime(2026, 12, 16, 9, 0, tzinfo=UTC)
    with transaction(database.sessions) as session:
        round_id = start_round(session, RoundRequest(
            seed_pack(), [Person("UKIM", "Kim", timezone=LONDON)],
            closes_at=parse_closes("2026-12-19", opened, LONDON), platform="slack"), opened).id
    closed, reopened = (datetime(2026, 12, 18, hour, 0, tzinfo=UTC) for hour in (6, 7))
    closes_at = parse_closes("2026-12-22", reopened, LONDON)
    run_hourly(database, gateway, opened, closes_at, {
        closed: lambda session, now: close_round(session, round_id, now),
        reopened: lambda session, now: reopen_round(session, round_id, now, closes_at, LONDON)})
    assert reminders_sent(database, round_id) == [datetime(2026, 12, 19, 9, 0, tzinfo=UTC),
                                                  datetime(2026, 12, 21, 17, 0, tzinfo=UTC)]


def _moved_after_the_reminder(database: Database, moved: datetime, moved_to: str,
                              closes: str = "2026-12-19"
                              ) -> tuple[Transcript, int, list[datetime]]:
    """Kim's round opens on Wednesday 16 December and closes on `closes` (Saturday 19: the
    reminder a day before it comes on Friday at 17:00); at `moved` the facilitator moves the
    close to `moved_to`. What Kim was sent (Kim answers nothing), and when reminders came."""
    gateway = Transcript()
    opened = datetime(2026, 12, 16, 9, 0, tzinfo=UTC)
    with transaction(database.sessions) as session:
        round_id = start_round(session, RoundRequest(
            seed_pack(), [Person("UKIM", "Kim", timezone=LONDON)],
            closes_at=parse_closes(closes, opened, LONDON), platform="slack"), opened).id
    closes_at = parse_closes(moved_to, moved, LONDON)
    run_hourly(database, gateway, opened, closes_at, {
        moved: lambda session, now: change_round(session, round_id,
                                                 Changes(closes_at=closes_at), now, LONDON)})
    return gateway, round_id, reminders_sent(database, round_id)


FIRST_REMINDER = datetime(2026, 12, 18, 17, 0, tzinfo=UTC)


def test_a_close_moved_by_a_day_after_the_reminder_is_told_once_not_reminded_again(
        database: Database) -> None:
    """Moved to Sunday on Friday evening: Kim is told on Saturday morning that the round now
    closes on Sunday; no second "reminder" follows a few hours later."""
    gateway, _, sent = _moved_after_the_reminder(
        database, datetime(2026, 12, 18, 19, 0, tzinfo=UTC), "2026-12-20")
    said = gateway.to("DUKIM")[1:]
    assert sent == [FIRST_REMINDER, datetime(2026, 12, 19, 8, 0, tzinfo=UTC)]
    assert said[0].startswith("A gentle reminder") and "Sat 19 Dec 18:00 GMT" in said[0]
    assert said[1].startswith("The close of “SEL pharmacy system leadership"), said[1]
    assert "The round now closes Sun 20 Dec 2026 18:00 GMT, later than I said." in said[1]
    assert "Questions 1, 2, 3, 4, 5 and 6 still wait for your answer" in said[1]
    assert len(said) == 2


def test_status_counts_a_notice_of_a_moved_close_apart_from_the_reminders(
        database: Database) -> None:
    """Kim got the reminder before Saturday's close, then a notice that it moved to Sunday:
    the facilitator's `status` says 1 reminder and 1 notice, not 2 reminders."""
    _, round_id, sent = _moved_after_the_reminder(
        database, datetime(2026, 12, 18, 19, 0, tzinfo=UTC), "2026-12-20")
    assert len(sent) == 2
    with database.sessions() as session:
        lines = round_status(session, get_round(session, round_id), None).lines(LONDON)
    assert "1 reminder sent, 1 notice that the close moved, 0 digests posted" in lines[1]


def test_a_close_moved_weeks_later_after_the_reminder_is_told_and_reminded_the_day_before(
        database: Database) -> None:
    gateway, _, sent = _moved_after_the_reminder(
        database, datetime(2026, 12, 18, 19, 0, tzinfo=UTC), "2027-01-08")
    assert sent == [FIRST_REMINDER, datetime(2026, 12, 19, 8, 0, tzinfo=UTC),
                    datetime(2027, 1, 7, 17, 0, tzinfo=UTC)]
    said = gateway.to("DUKIM")[1:]
    assert "The round now closes Fri 8 Jan 2027 18:00 GMT, later than I said." in said[1]
    assert said[2].startswith("A gentle reminder") and "Fri 8 Jan 18:00 GMT" in said[2]


def test_a_close_moved_earlier_after_a_reminder_is_told_at_once_and_not_repeated(
        database: Database) -> None:
    """The reminder 3 days after the start said the round closes on 8 January; on Monday
    morning the facilitator brings the close forward to Wednesday: Kim is told at once, and
    no reminder the day before repeats it a day later."""
    gateway, _, sent = _moved_after_the_reminder(
        database, datetime(2026, 12, 21, 10, 0, tzinfo=UTC), "2026-12-23", closes="2027-01-08")
    assert sent == [datetime(2026, 12, 19, 9, 0, tzinfo=UTC),
                    datetime(2026, 12, 21, 10, 0, tzinfo=UTC)]
    said = gateway.to("DUKIM")[1:]
    assert "The round closes Fri 8 Jan 18:00 GMT." in said[0]
    assert "The round now closes Wed 23 Dec 2026 18:00 GMT, earlier than I said." in said[1]
    assert len(said) == 2


def test_a_reminder_waiting_out_a_retry_after_follows_the_close_a_facilitator_moves(
        database: Database) -> None:
    """The reminder for Friday 17:00, a day before Saturday's close, is refused for two hours;
    at 18:00 the facilitator moves the close to Tuesday. It goes the day before Tuesday, as
    if planned so, not on Saturday morning (with the reminder 3 days after the start, hours
    later, using up the cap)."""
    gateway = Transcript(fail_on={2}, retry_after=7200)  # call 1: the question
    opened = datetime(2026, 12, 16, 9, 0, tzinfo=UTC)
    with transaction(database.sessions) as session:
        round_id = start_round(session, RoundRequest(
            seed_pack(), [Person("UKIM", "Kim", timezone=LONDON)],
            closes_at=parse_closes("2026-12-19", opened, LONDON), platform="slack"), opened).id
    moved = datetime(2026, 12, 18, 18, 0, tzinfo=UTC)
    closes_at = parse_closes("2026-12-22", moved, LONDON)
    run_hourly(database, gateway, opened, closes_at, {
        moved: lambda session, now: change_round(session, round_id,
                                                 Changes(closes_at=closes_at), now, LONDON)})
    assert gateway.calls == 4  # the question, the refused reminder, and two
    assert reminders_sent(database, round_id) == [datetime(2026, 12, 19, 9, 0, tzinfo=UTC),
                                                  datetime(2026, 12, 21, 17, 0, tzinfo=UTC)]
    assert "The round closes Tue 22 Dec 18:00 GMT." in gateway.to("DUKIM")[-1]


def waiting_for_a_lock(database: Database) -> bool:
    """Whether a transaction of the test's PostgreSQL database waits for another's lock."""
    with database.engine.connect() as watching:  # a new snapshot of the activity each time
        return bool(watching.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()")).scalar())


def test_a_close_moved_while_a_reminder_is_being_planned_still_tells_everyone(
        database: Database) -> None:
    """A facilitator's `remind` plans Ben's second reminder (number 2) and has not committed
    yet when another moves the close, which plans Ben a notice of the move with the number
    it read as free. The move waits for the reminder, then still succeeds: Ben gets both."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one transaction write at a time: no two plans meet")
    gateway = Transcript()
    round_id = started(database, gateway)
    day3 = START + timedelta(days=3, hours=1)
    plan(database, round_id, day3)
    reminders.send_due(database.sessions, {"slack": gateway}, lambda: day3, LONDON)
    later = day3 + timedelta(days=2)  # a day after the first, a reminder may follow
    failed: list[BaseException] = []

    def move_the_close() -> None:
        try:
            with transaction(database.sessions) as session:
                change_round(session, round_id, Changes(closes_at=START + timedelta(days=21)),
                             later, LONDON)
        except BaseException as exc:  # reported by the test below
            failed.append(exc)

    with transaction(database.sessions) as reminding:
        assert reminders.plan_now(reminding, round_id, later, LONDON) == 3
        mover = threading.Thread(target=move_the_close)
        mover.start()
        wait_for(lambda: not mover.is_alive() or waiting_for_a_lock(database),
                 "the move to wait for the reminder being planned")
    mover.join(timeout=20)
    assert not mover.is_alive() and failed == []
    with database.sessions() as session:
        planned = session.execute(select(Reminder.moved_from.is_not(None)).join(
            Participant, Participant.id == Reminder.participant_id).where(
            Participant.platform_user_id == "UBEN", Reminder.state == "pending")).scalars().all()
    assert sorted(planned) == [False, True]  # the second reminder, and the notice of the move


@pytest.mark.parametrize("first", ["schedule", "remind"])
def test_a_remind_at_the_moment_of_the_scheduled_reminder_skips_nobody(
        database: Database, first: str) -> None:
    """A facilitator's `remind` and the scheduled reminder of day 3 are planned at the same
    moment, in either order: whichever commits second waits for the first, then finds
    everyone's reminder waiting, so each of the three people gets exactly one reminder, as
    when one follows the other."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one transaction write at a time: no two plans meet")
    gateway = Transcript()
    round_id = started(database, gateway)
    day3 = START + timedelta(days=3, hours=1)
    planned: dict[str, int] = {}
    failed: list[BaseException] = []

    def plan_as(who: str, session: Session) -> None:
        planned[who] = (reminders.plan_now(session, round_id, day3, LONDON) if who == "remind"
                        else reminders.plan_scheduled(session, round_id, day3, LONDON))

    def second() -> None:
        try:
            with transaction(database.sessions) as session:
                plan_as("remind" if first == "schedule" else "schedule", session)
        except BaseException as exc:  # reported by the test below
            failed.append(exc)

    with transaction(database.sessions) as session:
        plan_as(first, session)
        other = threading.Thread(target=second)
        other.start()
        wait_for(lambda: not other.is_alive() or waiting_for_a_lock(database),
                 "the second plan to wait for the first")
    other.join(timeout=20)
    assert not other.is_alive() and failed == []
    # `remind` after the scheduled plan brings its reminders forward; the scheduled plan
    # after `remind` finds them waiting
    assert planned == {"schedule": 3 if first == "schedule" else 0, "remind": 3}
    with database.sessions() as session:
        rows = session.scalars(select(Participant.platform_user_id).select_from(Reminder).join(
            Participant, Participant.id == Reminder.participant_id)).all()
    assert sorted(rows) == sorted(p.platform_user_id for p in PEOPLE)


def test_a_remind_hours_after_the_scheduled_reminder_does_not_remind_again(
        database: Database) -> None:
    """Nobody hears twice in a day: the scheduled reminder went out this morning, so the
    facilitator's `remind` that afternoon leaves them be, says so, and the reminder a day
    before the close still comes (the cap is not spent on a repeat)."""
    gateway = Transcript()
    round_id = started(database, gateway)
    day3 = START + timedelta(days=3, hours=1)
    assert plan(database, round_id, day3) == 3
    reminders.send_due(database.sessions, {"slack": gateway}, lambda: day3, LONDON)
    afternoon = day3 + timedelta(hours=5)
    with transaction(database.sessions) as session:  # Mei's still waits for her morning
        assert reminders.plan_now(session, round_id, afternoon, LONDON) == 1
        assert reminders.reminded_lately(session, round_id, afternoon) == 2
    hong_kong_morning = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    reminders.send_due(database.sessions, {"slack": gateway}, lambda: hong_kong_morning, LONDON)
    assert sorted(reminded(gateway)) == ["DUAMARA", "DUBEN", "DUMEI"]
    before_close = START + timedelta(days=13, hours=1)
    assert plan(database, round_id, before_close) == 3


def second_waits_for_first(database: Database, first: Callable[[Session], object],
                           second: Callable[[Session], object]) -> None:
    """On PostgreSQL: `first` runs in a transaction that has not committed when `second`
    starts in another, and waits for it; then `first` commits, and `second` goes on."""
    failed: list[BaseException] = []

    def run_second() -> None:
        try:
            with transaction(database.sessions) as session:
                second(session)
        except BaseException as exc:  # reported by the caller's assertion below
            failed.append(exc)

    with transaction(database.sessions) as session:
        first(session)
        other = threading.Thread(target=run_second)
        other.start()
        wait_for(lambda: not other.is_alive() or waiting_for_a_lock(database),
                 "the second transaction to wait for the first")
    other.join(timeout=20)
    assert not other.is_alive() and failed == []


def gentle_reminders_sent(database: Database, round_id: int, user: str) -> list[datetime]:
    """When the person was sent each reminder of the round (not notices of a moved close)."""
    with database.sessions() as session:
        sent = session.scalars(select(Reminder.sent_at).join(
            Participant, Participant.id == Reminder.participant_id).where(
            Reminder.round_id == round_id, Participant.platform_user_id == user,
            Reminder.moved_from.is_(None), Reminder.sent_at.is_not(None)))
        return sorted(at.astimezone(UTC) for at in sent if at is not None)


@pytest.mark.parametrize("first", ["plan", "move"])
def test_a_close_moved_as_its_reminder_is_planned_reminds_the_day_before_the_new_close(
        database: Database, first: str) -> None:
    """Ben was reminded 3 days after the start. On Saturday 5 December, as the reminder a
    day before Monday's close is planned, a facilitator moves the close a week later; in
    either order, whichever commits second waits for the first, then reads the round as the
    first left it. Ben is reminded the day before the new close, not on Sunday a week before
    it (which would leave none for the day before, all being planned)."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one transaction write at a time: no two plans meet")
    gateway = Transcript()
    round_id = started(database, gateway)
    day3 = START + timedelta(days=3, hours=1)
    plan(database, round_id, day3)
    reminders.send_due(database.sessions, {"slack": gateway}, lambda: day3, LONDON)
    due = datetime(2026, 12, 5, 16, 0, tzinfo=UTC)  # the reminder before Monday's, planned
    closes_at = START + timedelta(days=21)  # Monday 14 December

    def planned(session: Session) -> None:
        reminders.plan_scheduled(session, round_id, due, LONDON)

    def moved(session: Session) -> None:
        change_round(session, round_id, Changes(closes_at=closes_at), due, LONDON)

    second_waits_for_first(database, *((planned, moved) if first == "plan"
                                       else (moved, planned)))
    run_hourly(database, gateway, due, closes_at, {})
    assert gentle_reminders_sent(database, round_id, "UBEN") == [
        day3, datetime(2026, 12, 13, 9, 0, tzinfo=UTC)]
