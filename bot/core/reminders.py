"""Reminders: who is nudged about their open questions, when, and never more than the cap.

Scheduled reminders fall 3 days after a round opens and 1 day before it closes. Acting on a
reminder time is claimed on the round (`reminder_slots_done`), so two schedulers, or a restart
after missing both times, plan one reminder, not a backlog. Each planned reminder is an outbox
row that waits for 08:00-18:00 where the person is, and is dropped if they answer meanwhile.

"A day before the close" is the same time of day, the day before, where the reader is; when
that is outside their working hours, the last working hour before it (17:00), not the next
morning, which may be the closing day. A reader far east of the round, whose close falls
early in their day (07:00 in Auckland for 18:00 in London), gets it the morning before the
close, which is nearer a day before than 17:00 the day before that, and leaves them a
working day. Only when 17:00 is before the round started does it wait for the next
morning. Such a reminder is planned PLAN_AHEAD early, each row waiting for its reader's
time; people first asked after that are not reminded so soon after (their first message
says when the round closes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.core.dates import readers_zone, round_closes
from bot.core.next_questions import still_waiting
from bot.core.ports import Clock, DeliveryError, Gateways, Where, gateway_for
from bot.core.rounds import get_round, round_pack, vote_questions
from bot.core.said import OpenQuestions, Said, said
from bot.core.wording import listed
from bot.core.working_hours import last_working_time, next_working_time
from storage.db import transaction
from storage.models import Delivery, Participant, QuestionMessage, Reminder, Reply, Round
from storage.queries import is_an_answer

MAX_REMINDERS = 2
FIRST_AFTER = timedelta(days=3)
BEFORE_CLOSE = timedelta(days=1)
PLAN_AHEAD = timedelta(hours=18)
"""How far a reader's time can come before a day before the close: from just before 08:00
back to 17:00 the day before (15 hours), with room for a clock change."""
LATELY = timedelta(days=1)
"""Nobody is reminded again within this: a facilitator's `remind` and a scheduled reminder
meeting (or following each other within hours) would say the same thing twice."""
CLAIM_LEASE = timedelta(minutes=10)
RETRY_AFTER = timedelta(minutes=5)
"""A reminder the platform failed, without saying when to try again, is tried this much later."""


@dataclass(frozen=True)
class ReminderTime:
    """One of a round's scheduled reminders."""

    at: datetime
    before_close: bool = False
    """A day before the close: it comes by then where each reader is (else: from `at` on)."""

    @property
    def planned_at(self) -> datetime:
        return self.at - PLAN_AHEAD if self.before_close else self.at

    def for_reader(self, round_: Round, timezone: str | None, zone: str, now: datetime
                   ) -> datetime | None:
        """When it may go to a reader in `timezone` (None: now)."""
        if not self.before_close or round_.closes_at is None:
            return next_working_time(now, timezone, zone)
        closes = round_.closes_at.astimezone(readers_zone(timezone, zone))
        day_before = datetime.combine(closes.date() - BEFORE_CLOSE, closes.timetz())
        earlier = last_working_time(day_before, timezone, zone)
        if earlier is None:
            return day_before
        later = next_working_time(day_before, timezone, zone)
        if later is not None and later.date() < closes.date() and (
                later - day_before < day_before - earlier):
            return later  # a close early in the reader's day: the morning before it
        if earlier >= round_.opens_at:
            return earlier
        return later


def reminder_times(round_: Round) -> list[ReminderTime]:
    """The round's scheduled reminders, at most MAX_REMINDERS of them, in the order they are
    planned."""
    times = [ReminderTime(round_.opens_at + FIRST_AFTER)]
    if round_.closes_at is not None:
        last = ReminderTime(round_.closes_at - BEFORE_CLOSE, before_close=True)
        times = [t for t in times if t.at < last.at] + [last]
    return sorted((t for t in times if t.at > round_.opens_at),
                  key=lambda t: t.planned_at)[:MAX_REMINDERS]


def move_close(session: Session, round_: Round, closes_at: datetime | None, now: datetime,
               zone: str) -> None:
    """Give the round a new close (None: none) and keep its reminder a day before the close
    about the new one. When the old one was planned already, its rows still waiting are moved
    to each reader's time before the new close if that has come (so none comes after it, and
    nobody gets two), or taken back and planned again when it comes."""
    lock_round(session, round_.id)
    old = _before_close(round_)
    claimed = old is not None and old in reminder_times(round_)[:round_.reminder_slots_done]
    waiting_rows = _planned_for(session, round_, old, zone) if old and claimed else []
    told, round_.closes_at = round_.closes_at, closes_at
    if told is not None and told != closes_at:
        _tell_of_move(session, round_, told, now, zone)
    if not claimed:
        return
    new = _before_close(round_)
    for row, timezone in waiting_rows:
        if new is not None and new.planned_at <= now:
            row.not_before = new.for_reader(round_, timezone, zone, now)
            row.scheduled_for = new.at
        else:  # not sent, so not counted against the cap either
            session.delete(row)
    round_.reminder_slots_done = sum(t.planned_at <= now for t in reminder_times(round_))


def _tell_of_move(session: Session, round_: Round, told: datetime, now: datetime,
                  zone: str) -> None:
    """Plan a notice of the new close for everyone a reminder told the close `told` who still
    has questions open: in their working hours, once however often it moves meanwhile (it
    says the close as it is when it goes; one moved back to what they were told is dropped).
    A reminder is what people plan their answering by, so one naming a wrong close is put
    right; the first message named a close weeks away, and the reminder before the new close
    names it."""
    reminded = set(session.scalars(select(Reminder.participant_id).where(
        Reminder.round_id == round_.id, Reminder.state == "sent")))
    pending = {row.participant_id: row for row in session.scalars(select(Reminder).where(
        Reminder.round_id == round_.id, Reminder.state == "pending",
        Reminder.moved_from.is_not(None)))}
    numbers = _last_numbers(session, round_.id)
    notices = []
    for participant_id, timezone in _who_to_remind(session, round_):
        row = pending.get(participant_id)
        if row is not None:
            if row.moved_from == round_.closes_at:
                session.delete(row)  # back to the close they were told
            continue
        if participant_id in reminded:
            notices.append({"round_id": round_.id, "participant_id": participant_id,
                            "number": numbers.get(participant_id, 0) + 1, "state": "pending",
                            "not_before": next_working_time(now, timezone, zone),
                            "created_at": now, "moved_from": told})
    if notices:
        session.execute(insert(Reminder), notices)


def lock_round(session: Session, round_id: int) -> None:
    """Take the round's row for this transaction before reading its reminders' numbers: every
    plan of reminders (the scheduler's, a facilitator's `remind`, notices of a moved close)
    takes it first, so two plans meeting come one after the other, the second reading what
    the first planned, and none finds the number it read as free taken. The round is read
    again as it is then (this session may hold it as it was before the lock): its close, and
    which reminder times were acted on, as the plan or move that came first left them."""
    session.get(Round, round_id, with_for_update=True, populate_existing=True)


def told_of_move(session: Session, round_id: int, now: datetime) -> int:
    """How many people the close moved at `now` will be told of it (`_tell_of_move`)."""
    return session.scalar(select(func.count()).select_from(Reminder).where(
        Reminder.round_id == round_id, Reminder.state == "pending",
        Reminder.moved_from.is_not(None), Reminder.created_at == now)) or 0


def _last_numbers(session: Session, round_id: int) -> dict[int, int]:
    """Each participant's highest reminder number in the round (nudges and notices)."""
    return dict(session.execute(
        select(Reminder.participant_id, func.max(Reminder.number))
        .where(Reminder.round_id == round_id).group_by(Reminder.participant_id)).all())


def _before_close(round_: Round) -> ReminderTime | None:
    return next((t for t in reminder_times(round_) if t.before_close), None)


def _planned_for(session: Session, round_: Round, scheduled: ReminderTime, zone: str
                 ) -> list[tuple[Reminder, str | None]]:
    """The round's rows still waiting for `scheduled`'s time (not a facilitator's `remind`),
    also those a retry put off. Rows planned before they were marked with their time are
    known by the time they were given."""
    rows = session.execute(
        select(Reminder, Participant.timezone)
        .join(Participant, Participant.id == Reminder.participant_id)
        .where(Reminder.round_id == round_.id, Reminder.state == "pending",
               Reminder.moved_from.is_(None),
               Reminder.created_at >= scheduled.planned_at)).all()
    return [(row, timezone) for row, timezone in rows
            if row.scheduled_for == scheduled.at or (
                row.scheduled_for is None
                and row.not_before == scheduled.for_reader(round_, timezone, zone,
                                                           row.created_at))]


def plan_scheduled(session: Session, round_id: int, now: datetime, zone: str) -> int:
    """Plan the reminder whose time has come, once; returns how many people it will reach."""
    lock_round(session, round_id)  # a close moved meanwhile moves the reminder before it
    round_ = get_round(session, round_id)
    times = [t for t in reminder_times(round_) if t.planned_at <= now]
    due = len(times)
    done = round_.reminder_slots_done
    if round_.status != "open" or due <= done:
        return 0
    claimed = cast("CursorResult[Any]", session.execute(
        update(Round)
        .where(Round.id == round_id, Round.reminder_slots_done == done)
        .values(reminder_slots_done=due)
        .execution_options(synchronize_session=False)
    ))
    if claimed.rowcount != 1:
        return 0  # another scheduler acted on this time
    return plan_now(session, round_id, now, zone, times[-1])


def plan_now(session: Session, round_id: int, now: datetime, zone: str,
             scheduled: ReminderTime | None = None) -> int:
    """Plan one reminder for everyone with open questions who is under the cap: now (in their
    working hours), or the `scheduled` one at each reader's time. A scheduled one skips
    people told of a moved close less than FIRST_AFTER ago: that notice named the close, and
    a reminder hours after it would only repeat it. Nobody is reminded twice within LATELY:
    a plan skips whoever was sent one since, a scheduled one whoever has one waiting, and a
    facilitator's `remind` brings a waiting one forward to now instead of adding another."""
    lock_round(session, round_id)
    round_ = get_round(session, round_id)
    sent_so_far: dict[int, int] = dict(session.execute(
        select(Reminder.participant_id, func.count())
        .where(Reminder.round_id == round_id, Reminder.moved_from.is_(None))
        .group_by(Reminder.participant_id)).all())
    numbers = _last_numbers(session, round_id)
    left_be = set(session.scalars(select(Reminder.participant_id).where(
        Reminder.round_id == round_id, Reminder.moved_from.is_not(None),
        Reminder.created_at > now - FIRST_AFTER))) if scheduled else set()
    left_be |= _sent_since(session, round_id, now - LATELY)
    waiting_rows = {r.participant_id: r for r in session.scalars(select(Reminder).where(
        Reminder.round_id == round_id, Reminder.moved_from.is_(None),
        Reminder.state == "pending"))}
    rows: list[dict[str, object]] = []
    brought = 0
    for participant_id, timezone in _who_to_remind(session, round_):
        waiting_row = waiting_rows.get(participant_id)
        if participant_id in left_be or (waiting_row is not None and scheduled is not None):
            continue
        if waiting_row is not None:  # `remind`: the one waiting comes now, as planned now
            waiting_row.not_before = next_working_time(now, timezone, zone)
            waiting_row.created_at = now
            brought += 1
        elif sent_so_far.get(participant_id, 0) < MAX_REMINDERS:
            rows.append({"round_id": round_id, "participant_id": participant_id,
                         "number": numbers.get(participant_id, 0) + 1, "state": "pending",
                         "not_before": (scheduled.for_reader(round_, timezone, zone, now)
                                        if scheduled else next_working_time(now, timezone, zone)),
                         "created_at": now,
                         "scheduled_for": scheduled.at if scheduled else None})
    if rows:
        session.execute(insert(Reminder), rows)
    session.flush()
    return len(rows) + brought


def _sent_since(session: Session, round_id: int, since: datetime) -> set[int]:
    return set(session.scalars(select(Reminder.participant_id).where(
        Reminder.round_id == round_id, Reminder.moved_from.is_(None),
        Reminder.sent_at > since)))


def reminded_lately(session: Session, round_id: int, now: datetime) -> int:
    """How many people with open questions a plan at `now` leaves be, since they were sent a
    reminder less than LATELY before it."""
    lately = _sent_since(session, round_id, now - LATELY)
    return sum(1 for participant_id, _ in _who_to_remind(session, get_round(session, round_id))
               if participant_id in lately)


def waiting(session: Session, round_id: int, planned_at: datetime) -> int:
    """The round's reminders planned at `planned_at` (by `plan_now`) but not yet sent (outside
    working hours, or a retry); not those planned ahead for their time."""
    return session.scalar(select(func.count()).select_from(Reminder).where(
        Reminder.round_id == round_id, Reminder.state == "pending",
        Reminder.moved_from.is_(None), Reminder.created_at == planned_at)) or 0


def open_prompt_ids(session: Session, round_: Round, participant_id: int) -> list[str]:
    answered = set(session.scalars(select(Reply.prompt_id).where(
        Reply.round_id == round_.id, Reply.participant_id == participant_id,
        Reply.deleted_at.is_(None), is_an_answer(vote_questions([round_])))))
    return [p.id for p in round_pack(round_).prompts if p.id not in answered]


def _who_to_remind(session: Session, round_: Round) -> list[tuple[int, str | None]]:
    """Participants who were sent the questions, have not said stop, and have some open."""
    prompt_ids = {p.id for p in round_pack(round_).prompts}
    answered: dict[int, set[str]] = defaultdict(set)
    for participant_id, prompt_id in session.execute(select(Reply.participant_id, Reply.prompt_id)
                                                     .where(Reply.round_id == round_.id,
                                                            Reply.deleted_at.is_(None),
                                                            is_an_answer(
                                                                vote_questions([round_])))):
        answered[participant_id].add(prompt_id)
    rows = session.execute(
        select(Participant.id, Participant.timezone)
        .join(Delivery, Delivery.participant_id == Participant.id)
        .where(Delivery.round_id == round_.id, Delivery.state == "sent",
               Participant.opted_out.is_(False))
        .order_by(Participant.id)
    ).all()
    return [(pid, tz) for pid, tz in rows if not answered[pid] >= prompt_ids]


@dataclass(frozen=True)
class ReminderSweep:
    sent: int = 0
    deferred: int = 0
    dropped: int = 0
    failed: int = 0


def send_due(sessions: sessionmaker[Session], gateways: Gateways, clock: Clock,
             zone: str) -> ReminderSweep:
    """Send every reminder that is due, in working hours, to people who still have questions;
    each is tried once a call (one put off comes back when it is due, at a later call)."""
    sent = deferred = dropped = failed = 0
    after = 0
    while True:
        now = clock()
        with sessions() as session:
            batch = list(session.scalars(
                select(Reminder.id)
                .join(Participant, Participant.id == Reminder.participant_id).where(
                    Reminder.id > after,
                    Participant.platform.in_(list(gateways)),
                    Reminder.state == "pending",
                    or_(Reminder.not_before.is_(None), Reminder.not_before <= now),
                    or_(Reminder.claimed_at.is_(None), Reminder.claimed_at < now - CLAIM_LEASE),
                ).order_by(Reminder.id).limit(100)))
        if not batch:
            return ReminderSweep(sent, deferred, dropped, failed)
        after = batch[-1]
        for reminder_id in batch:
            outcome = _send_one(sessions, gateways, reminder_id, clock, zone)
            sent += outcome == "sent"
            deferred += outcome == "deferred"
            dropped += outcome == "dropped"
            failed += outcome == "failed"


def _send_one(sessions: sessionmaker[Session], gateways: Gateways, reminder_id: int,
              clock: Clock, zone: str) -> str:
    now = clock()
    with transaction(sessions) as session:
        reminder = session.get_one(Reminder, reminder_id)
        participant = session.get_one(Participant, reminder.participant_id)
        round_ = get_round(session, reminder.round_id)
        delivery = session.scalar(select(Delivery).where(
            Delivery.round_id == round_.id, Delivery.participant_id == participant.id))
        open_ids = open_prompt_ids(session, round_, participant.id)
        if (round_.status != "open" or participant.opted_out or not open_ids
                or delivery is None or delivery.channel_id is None):
            reminder.state = "dropped"
            return "dropped"
        wait = next_working_time(now, participant.timezone, zone)
        if wait is not None:
            reminder.not_before = wait
            return "deferred"
        claimed = cast("CursorResult[Any]", session.execute(
            update(Reminder)
            .where(Reminder.id == reminder_id, Reminder.state == "pending",
                   or_(Reminder.claimed_at.is_(None), Reminder.claimed_at < now - CLAIM_LEASE))
            .values(claimed_at=now)
            .execution_options(synchronize_session=False)))
        if claimed.rowcount != 1:
            return "skipped"
        asked = session.execute(
            select(QuestionMessage.prompt_id, QuestionMessage.skipped_at)
            .where(QuestionMessage.delivery_id == delivery.id,
                   QuestionMessage.prompt_id.is_not(None))
            .order_by(QuestionMessage.id)).all()
        answered = {p.id for p in round_pack(round_).prompts} - set(open_ids)
        first = next(iter(still_waiting([(str(p), at) for p, at in asked], answered)), None)
        readers = str(readers_zone(participant.timezone, zone))
        channel, nudge = delivery.channel_id, (
            close_moved_text(round_, open_ids, reminder.moved_from, readers)
            if reminder.moved_from is not None else
            reminder_text(round_, open_ids, first, sent={str(p) for p, _ in asked},
                          zone=readers))
        platform = participant.platform
    try:
        posted = gateway_for(gateways, platform).say(Where(channel), nudge)
    except DeliveryError as exc:
        with transaction(sessions) as session:
            row = session.get_one(Reminder, reminder_id)
            row.claimed_at, row.last_error = None, exc.reason
            if exc.permanent:
                row.state = "failed"
            else:  # not before the platform allows (a 429's Retry-After)
                row.not_before = clock() + (RETRY_AFTER if exc.retry_after is None
                                            else timedelta(seconds=exc.retry_after))
        return "failed" if exc.permanent else "deferred"
    with transaction(sessions) as session:
        row = session.get_one(Reminder, reminder_id)
        row.state, row.sent_at, row.claimed_at = "sent", clock(), None
        row.channel_id, row.message_id = posted.channel_id, posted.message_id
    return "sent"


def reminder_text(round_: Round, open_ids: list[str], waiting: str | None = None,
                  sent: Collection[str] = (), zone: str = "UTC") -> Said:
    """The nudge: the question waiting in the conversation, if one is, and what else is open:
    the questions not `sent` yet follow it; those sent already (skipped) are open too. When
    the round closes is said in the reader's `zone`."""
    pack = round_pack(round_)
    numbers = [str(i) for i, p in enumerate(pack.prompts, start=1) if p.id in open_ids]
    closes = f" {round_closes(round_.closes_at, zone)}" if round_.closes_at else ""
    if waiting is not None:
        number, prompt = next((i, p) for i, p in enumerate(pack.prompts, start=1)
                              if p.id == waiting)
        more = sum(1 for p in open_ids if p not in sent and p != waiting)
        after = (f" {more} more {'follows' if more == 1 else 'follow'} it." if more else "")
        earlier = [str(i) for i, p in enumerate(pack.prompts, start=1)
                   if p.id in open_ids and p.id in sent and p.id != waiting]
        if earlier:
            after += (f" Question{'' if len(earlier) == 1 else 's'} {listed(earlier)} "
                      f"{'is' if len(earlier) == 1 else 'are'} still open too.")
        return said(f"A gentle reminder about “{pack.title}”, whenever suits you: question "
                    f"{number} of {len(pack.prompts)} is waiting for your answer: "
                    f"“{prompt.question}”{after}{closes} Just write here to answer it.")
    return said(f"A gentle reminder about “{pack.title}”: {_still_open(numbers)} for your "
                f"answer, whenever suits you.{closes} You will find them ", OpenQuestions(), ".")


def close_moved_text(round_: Round, open_ids: list[str], told: datetime, zone: str) -> Said:
    """The notice that the close a reminder named (`told`) has moved, in the reader's `zone`,
    with what is still open."""
    pack = round_pack(round_)
    numbers = [str(i) for i, p in enumerate(pack.prompts, start=1) if p.id in open_ids]
    change = (round_closes(round_.closes_at, zone, weeks_away=True, moved_from=told)
              if round_.closes_at else "The round has no closing date now.")
    still = _still_open(numbers)
    return said(f"The close of “{pack.title}” has moved. {change} {still[0].upper()}{still[1:]} "
                "for your answer, whenever suits you. You will find them ", OpenQuestions(), ".")


def _still_open(numbers: list[str]) -> str:
    """"questions 2 and 3 still wait", "question 4 still waits"."""
    one = len(numbers) == 1
    return (f"question{'' if one else 's'} {listed(numbers)} still "
            f"{'waits' if one else 'wait'}")
