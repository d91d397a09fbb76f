"""Sending a round's questions: the outbox rows, their claims, and recovery after a crash.

A delivery is an outbox row. Questions are asked one at a time: the first message carries the
pack's intro and the first question; each later question is queued on the row (`ask_next`) once
the person has no question waiting, and sent by the same outbox.

One bookkeeper (the thread that calls `send_due`) claims due deliveries with a conditional
UPDATE naming its process, a few at a time, and hands each to a sender; the senders (a pool of
`in_flight` threads) only talk to the platform: they send the message tagged with the delivery
and prompt ids and bring back what happened. The bookkeeper writes what they bring back (a
QuestionMessage, the delivery's new state) and claims the next ones in one transaction, so a
burst of messages costs a few transactions, not several for each message.

A claim lives as long as its process's worker lease: when a process dies between the platform
posting a message and the bookkeeper writing it down, the next sender looks the delivery's
tagged messages up in the conversation before it sends anything again (it opens the
conversation to look in, when it was never written down: `open_direct` gives the same one each
time). A look-up the platform refuses for now (Slack allows about one history read a minute)
is not waited for: the delivery is put off until the platform says (its `not_before`, the
Outcome's `until`), and everything else goes on. Nobody is messaged outside working hours in
their own time zone: a delivery due at night waits for the morning. Each message goes out on
the platform of the person it is for (`gateways`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    bindparam,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Executable

from bot.core.dates import readers_zone, round_closes
from bot.core.next_questions import ask_next
from bot.core.packs import Pack
from bot.core.ports import ChatGateway, Clock, DeliveryError, Gateways, Sent
from bot.core.questions import Question
from bot.core.rounds import round_pack, vote_questions
from bot.core.said import from_parts
from bot.core.working_hours import next_working_time
from storage.db import transaction
from storage.leases import PROCESS, unclaimed_or_abandoned
from storage.models import Delivery, Participant, QuestionMessage, Reply, Round
from storage.queries import is_an_answer

log = logging.getLogger(__name__)
CLAIM_GRACE = timedelta(seconds=30)
"""A claim whose sender holds no live worker lease is taken for dead after this long."""
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=5)
FOLLOW_UP_WINDOW = timedelta(minutes=30)
"""The next question goes at once, night or day, this long after the person's answer asked for
it: they are writing to us then. Later than that it waits for their working hours."""
IN_FLIGHT = 8
"""Deliveries sent at once: enough to keep Slack's per-workspace rate busy while each DM goes
at about one message a second, few enough that a crash leaves little to look up afterwards
(no more than this are claimed at a time)."""
DATABASE_PAUSE = 1.0
"""Seconds between attempts to write what was sent while the database cannot be reached."""


def _claimable(now: ColumnElement[datetime], stale: ColumnElement[datetime]
               ) -> ColumnElement[bool]:
    """Unclaimed, or claimed by a sender that is gone: its worker lease lapsed (or, for a sender
    that never held one, its claim is older than CLAIM_GRACE: before `stale`)."""
    return unclaimed_or_abandoned(Delivery.claimed_by, Delivery.claimed_at, now, stale)


def _something_to_send() -> ColumnElement[bool]:
    return or_(Delivery.state == "pending",
               and_(Delivery.state == "sent", Delivery.next_prompt_id.is_not(None)))


@dataclass(frozen=True)
class _Statements:
    due: Executable
    """Due deliveries after `after`, `room` at most, with what deciding about them needs."""
    claim: Executable
    """Claim deliveries `ids` for `worker`; returns the ids it claimed."""


@cache
def _statements() -> _Statements:
    """Built once: building these expressions cost more than running them."""
    now: ColumnElement[datetime] = bindparam("now")  # typed by the columns compared with
    stale: ColumnElement[datetime] = bindparam("stale")
    due = (
        select(Delivery.id, Delivery.state, Delivery.claimed_by, Delivery.uncertain,
               Delivery.attempts, Delivery.follow_up_at, Delivery.next_prompt_id,
               Delivery.channel_id, Delivery.round_id, Delivery.participant_id,
               Participant.platform, Participant.platform_user_id, Participant.timezone,
               Participant.opted_out, Round.status)
        .join(Participant, Participant.id == Delivery.participant_id)
        .join(Round, Round.id == Delivery.round_id)
        .where(Delivery.id > bindparam("after"), _something_to_send(),
               or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
               _claimable(now, stale),
               Participant.platform.in_(bindparam("platforms", expanding=True)))
        .order_by(Delivery.id).limit(bindparam("room"))
        # Locked from here (PostgreSQL; SQLite locks the database at BEGIN), so nothing but
        # the claim changes them in this transaction.
        .with_for_update(of=Delivery)
    )
    claim = (
        update(Delivery)
        .where(Delivery.id.in_(bindparam("ids", expanding=True)), _something_to_send(),
               _claimable(now, stale))
        .values(claimed_at=now, claimed_by=bindparam("worker"),
                attempts=Delivery.attempts + 1)
        .returning(Delivery.id)
    )
    return _Statements(due, claim)


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    state: str
    """sent, failed, deferred (night where they are, or a retry later) or skipped (not ours)."""
    until: datetime | None = None
    """When a deferred delivery falls due again (None: at the next call)."""


@dataclass(frozen=True)
class Job:
    """One message for a sender to send, with everything it needs read beforehand: a sender
    never touches the database."""

    delivery_id: int
    platform: str
    user_id: str
    channel: str | None
    prompt_id: str
    first: bool
    look_first: bool
    """An earlier attempt's outcome is unknown: look in the conversation before sending."""
    already: frozenset[str | None]
    """Prompts of this delivery already recorded as sent."""
    round_id: int
    participant_id: int
    pack: Pack
    notice: list[dict[str, str]] | None
    closes: str | None = None
    """With the first message: when the round closes, in the reader's own time."""


@dataclass(frozen=True)
class Attempt:
    """What a sender brings back: all it learnt, for the bookkeeper to write down."""

    job: Job
    ended: datetime
    channel: str | None = None
    looked: bool = False
    found: dict[str | None, Sent] = field(default_factory=dict)
    """Messages of the delivery that arrived in an earlier attempt nobody wrote down."""
    sent: Sent | None = None
    error: DeliveryError | None = None


def send_due(
    sessions: sessionmaker[Session], gateways: Gateways, clock: Clock, default_zone: str,
    stopping: Callable[[], bool] = lambda: False, *, worker: str = PROCESS,
    in_flight: int = IN_FLIGHT, pool: Executor | None = None,
) -> list[Outcome]:
    """Send every delivery that is due now, `in_flight` at a time, until `stopping()`, on the
    `pool` given (a process's long-lived senders) or on threads of its own. The calling thread
    is the bookkeeper: it claims and writes down, the pool's threads send.

    A pipeline, not batches: as soon as one send ends the next is claimed, so one send waiting
    out a Retry-After holds up only itself. Each delivery due when the call begins is tried
    once (one that must be tried again at once, after an unknown outcome, waits for the next
    call).
    """
    if pool is None:
        with ThreadPoolExecutor(in_flight, thread_name_prefix="roundtable-send") as own:
            return send_due(sessions, gateways, clock, default_zone, stopping, worker=worker,
                            in_flight=in_flight, pool=own)
    return _Bookkeeper(sessions, gateways, clock, default_zone, worker, in_flight).run(
        pool, stopping)


class _Bookkeeper:
    """Claims due deliveries in order of id (one pass: each is taken once) and writes down
    what their senders bring back, a batch to a transaction."""

    def __init__(self, sessions: sessionmaker[Session], gateways: Gateways, clock: Clock,
                 default_zone: str, worker: str, in_flight: int) -> None:
        self.sessions, self.gateways, self.clock = sessions, gateways, clock
        self.default_zone, self.worker, self.in_flight = default_zone, worker, in_flight
        self.platforms = list(gateways)
        self.after = 0
        """The pass has taken every due delivery up to this id."""
        self.more = True
        self.outcomes: list[Outcome] = []
        self._packs: dict[int, tuple[Pack, list[dict[str, str]] | None, datetime | None]] = {}
        self._votes: dict[int, set[str]] = {}
        """Per round, its vote questions (storage.queries.is_an_answer)."""

    def run(self, pool: Executor, stopping: Callable[[], bool]) -> list[Outcome]:
        running: set[Future[Attempt]] = set()
        ended: list[Attempt] = []
        broken: BaseException | None = None
        while True:
            room = (self.in_flight - len(running)
                    if self.more and broken is None and not stopping() else 0)
            if ended or room:
                try:
                    jobs = self._write_and_claim(ended, room)
                except OperationalError:
                    if stopping() or not (ended or running):
                        raise
                    # The database is away: what was sent is kept and written once it is back
                    # (until then its claims stay, so nobody sends it again); nothing more is
                    # claimed in this pass.
                    log.warning("could not write down what was sent; trying again",
                                exc_info=True)
                    time.sleep(DATABASE_PAUSE)
                    jobs, self.more = [], False
                    if not running:
                        continue
                else:
                    ended = []
                running |= {pool.submit(_attempt, self.gateways[job.platform], job, self.clock)
                            for job in jobs}
            if not running:
                if room and self.more:
                    continue  # what was claimed needed no sending: claim on
                break
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                error = future.exception()
                if error is None:
                    ended.append(future.result())
                elif broken is None:
                    broken = error  # raised once the others are written down; its claim stays
        if broken is not None:
            raise broken
        return self.outcomes

    def _write_and_claim(self, ended: list[Attempt], room: int) -> list[Job]:
        with transaction(self.sessions) as session:
            now = self.clock()
            outcomes = self._write(session, ended) if ended else []
            jobs = self._claim(session, room, now, outcomes) if room else []
        self.outcomes += outcomes
        return jobs

    # --- claiming ----------------------------------------------------------------------------

    def _claim(self, session: Session, room: int, now: datetime, outcomes: list[Outcome]
               ) -> list[Job]:
        """Claim up to `room` due deliveries after the pass's last; what needs sending becomes
        a Job, the rest an outcome now (deferred to the morning, failed, skipped)."""
        statements = _statements()
        rows = session.execute(statements.due, {
            "now": now, "stale": now - CLAIM_GRACE, "after": self.after, "room": room,
            "platforms": self.platforms}).all()
        self.more = len(rows) == room
        if not rows:
            return []
        self.after = rows[-1].id
        waiting: list[Row[Any]] = []
        mornings: list[dict[str, Any]] = []
        for row in rows:
            answering = (row.follow_up_at is not None
                         and now - row.follow_up_at < FOLLOW_UP_WINDOW)
            morning = None if answering else next_working_time(now, row.timezone,
                                                               self.default_zone)
            if morning is not None:
                mornings.append({"id": row.id, "not_before": morning})
                outcomes.append(Outcome(row.id, "deferred", morning))
            else:
                waiting.append(row)
        if mornings:
            session.execute(update(Delivery), mornings)
        if not waiting:
            return []
        claimed = set(session.scalars(statements.claim.execution_options(
            synchronize_session=False), {
            "ids": [r.id for r in waiting], "now": now, "stale": now - CLAIM_GRACE,
            "worker": self.worker}))
        outcomes += [Outcome(r.id, "skipped") for r in waiting if r.id not in claimed]
        ours = [r for r in waiting if r.id in claimed]
        unknown = {r.id for r in ours if r.uncertain or r.claimed_by is not None}
        if unknown:  # stays until the conversation has been looked at
            session.execute(update(Delivery), [{"id": i, "uncertain": True} for i in unknown])
        # a first message never tried before has nothing recorded
        recorded = _recorded(session, [r.id for r in ours
                                       if r.state != "pending" or r.attempts > 0])
        answered = self._answered(session, {
            (r.round_id, r.participant_id, str(r.next_prompt_id))
            for r in ours if r.state != "pending"})
        jobs: list[Job] = []
        finished: list[dict[str, Any]] = []
        for row in ours:
            first = row.state == "pending"
            if row.opted_out or row.status != "open":
                why = "stopped" if row.opted_out else "closed"
                finished.append({"id": row.id, **_finished("failed" if first else "sent",
                                                           first, now, why if first else None)})
                outcomes.append(Outcome(row.id, "failed" if first else "skipped"))
                continue
            pack, notice, closes_at = self._pack(session, row.round_id)
            prompt_id = (row.next_prompt_id or pack.prompts[0].id) if first else str(
                row.next_prompt_id)
            if not first and (row.round_id, row.participant_id, prompt_id) in answered:
                # answered ahead (from the list of open questions) while it waited to be
                # sent: ask the one after
                following = _ask_after(session, row.id, now)
                if following is None:
                    outcomes.append(Outcome(row.id, "skipped"))
                    continue
                prompt_id = following
            closes = (round_closes(closes_at, str(readers_zone(row.timezone, self.default_zone)),
                                   weeks_away=True) if first and closes_at else None)
            jobs.append(Job(row.id, row.platform, row.platform_user_id, row.channel_id,
                            prompt_id, first, row.id in unknown,
                            frozenset(recorded.get(row.id, set())), row.round_id,
                            row.participant_id, pack, notice, closes))
        if finished:
            session.execute(update(Delivery), finished)
        return jobs

    def _pack(self, session: Session, round_id: int
              ) -> tuple[Pack, list[dict[str, str]] | None, datetime | None]:
        """The round's pack, privacy notice and close, read once a pass (the pack is the pack
        as it was at the start)."""
        known = self._packs.get(round_id)
        if known is None:
            round_ = session.get_one(Round, round_id)
            known = self._packs[round_id] = (round_pack(round_), round_.privacy_notice,
                                             round_.closes_at)
            self._votes.update(vote_questions([round_]))
        return known

    def _answered(self, session: Session, asked: set[tuple[int, int, str]]
                  ) -> set[tuple[int, int, str]]:
        """Of the (round, participant, prompt) `asked`, those with a live answer (to a vote: a
        ballot; words written to it are a comment)."""
        if not asked:
            return set()
        rounds = {r for r, _, _ in asked}
        for round_id in rounds:
            self._pack(session, round_id)
        found = session.execute(
            select(Reply.round_id, Reply.participant_id, Reply.prompt_id).where(
                Reply.round_id.in_(rounds),
                Reply.participant_id.in_({p for _, p, _ in asked}),
                Reply.prompt_id.in_({q for _, _, q in asked}),
                Reply.deleted_at.is_(None),
                is_an_answer({r: self._votes[r] for r in rounds})))
        return {(r, p, q) for r, p, q in found if (r, p, q) in asked}

    # --- writing down ------------------------------------------------------------------------

    def _write(self, session: Session, ended: list[Attempt]) -> list[Outcome]:
        """What the senders brought back, in one transaction: the messages found and sent,
        and each delivery's new state."""
        present = set(session.scalars(
            select(Delivery.id).where(Delivery.id.in_([a.job.delivery_id for a in ended]))
            .order_by(Delivery.id).with_for_update()))  # after any answer being stored
        outcomes: list[Outcome] = []
        messages: list[dict[str, Any]] = []
        firsts: list[dict[str, Any]] = []
        nexts: list[dict[str, Any]] = []
        asked: list[Job] = []
        """next questions sent: answered meanwhile?"""
        earlier: list[int] = []
        failed: list[Attempt] = []
        for attempt in sorted(ended, key=lambda a: a.job.delivery_id):
            job = attempt.job
            if job.delivery_id not in present:  # its round was deleted while it was sent
                outcomes.append(Outcome(job.delivery_id, "skipped"))
                continue
            messages += [_question_message(job.delivery_id, prompt_id, sent, attempt.ended)
                         for prompt_id, sent in attempt.found.items()
                         if prompt_id not in job.already]
            if attempt.error is not None:
                failed.append(attempt)
                continue
            if attempt.sent is not None:
                messages.append(_question_message(job.delivery_id, job.prompt_id, attempt.sent,
                                                  attempt.ended))
            done = {"id": job.delivery_id, "channel_id": attempt.channel, "uncertain": False,
                    **_finished("sent", job.first, attempt.ended)}
            if job.first:
                if job.already or attempt.found or attempt.sent is None:
                    earlier.append(job.delivery_id)  # its first message: the earliest recorded
                done["message_id"] = attempt.sent.message_id if attempt.sent else None
                firsts.append(done)
            else:
                nexts.append(done)
                asked.append(job)
            outcomes.append(Outcome(job.delivery_id, "sent"))
        if messages:
            session.execute(insert(QuestionMessage), messages)
        for group in (firsts, nexts):
            if group:
                session.execute(update(Delivery), group)
        if earlier:
            tops: dict[int, str] = {}
            for delivery_id, message_id in session.execute(
                    select(QuestionMessage.delivery_id, QuestionMessage.message_id)
                    .where(QuestionMessage.delivery_id.in_(earlier))
                    .order_by(QuestionMessage.id.desc())):
                tops[delivery_id] = message_id  # the earliest last
            session.execute(update(Delivery), [{"id": i, "message_id": tops.get(i)}
                                               for i in earlier])
        for attempt in failed:
            delivery = session.get_one(Delivery, attempt.job.delivery_id)
            if attempt.channel is not None and delivery.channel_id is None:
                delivery.channel_id = attempt.channel
            if attempt.looked:
                delivery.uncertain = False
            assert attempt.error is not None
            outcomes.append(_failed(delivery, attempt.error, attempt.ended,
                                    first=attempt.job.first))
        session.flush()
        if asked:
            answered = self._answered(session, {(j.round_id, j.participant_id, j.prompt_id)
                                                for j in asked})
            if answered:
                # answered (in a form) while it was being sent, when its answer could not
                # yet ask for the next (this one was still queued): ask now
                ask_next(session, [(r, p) for r, p, _ in answered], self.clock())
        return outcomes


def _attempt(gateway: ChatGateway, job: Job, clock: Clock) -> Attempt:
    """A sender's part: look first if an earlier attempt's outcome is unknown, then send what
    is not there yet. Never touches the database."""
    channel, found, looked = job.channel, {}, False
    try:
        if job.look_first:
            channel = channel or gateway.open_direct(job.user_id)
            found = gateway.find_sent(channel, job.delivery_id)
            looked = True
        if channel is None:
            channel = gateway.open_direct(job.user_id)
        already = job.already | set(found)
        sent = None
        if job.prompt_id not in already:
            number, prompt = next((n, p) for n, p in enumerate(job.pack.prompts, start=1)
                                  if p.id == job.prompt_id)
            intro = job.pack if job.first and not already else None
            question = Question(job.round_id, job.delivery_id, prompt, number,
                                len(job.pack.prompts), intro,
                                from_parts(job.notice) if intro and job.notice else None,
                                job.closes if intro else None)
            sent = gateway.send_question(channel, question)
    except DeliveryError as exc:
        return Attempt(job, clock(), channel, looked, found, error=exc)
    return Attempt(job, clock(), channel, looked, found, sent)


def _recorded(session: Session, delivery_ids: list[int]) -> dict[int, set[str | None]]:
    recorded: dict[int, set[str | None]] = {}
    if delivery_ids:
        for delivery_id, prompt_id in session.execute(
                select(QuestionMessage.delivery_id, QuestionMessage.prompt_id)
                .where(QuestionMessage.delivery_id.in_(delivery_ids))):
            recorded.setdefault(delivery_id, set()).add(prompt_id)
    return recorded


def _ask_after(session: Session, delivery_id: int, now: datetime) -> str | None:
    """The question queued on a delivery was answered ahead: queue the one after it instead
    (None, and the delivery done, when none is left)."""
    delivery = session.get_one(Delivery, delivery_id)
    session.expire(delivery, ["claimed_at", "claimed_by", "attempts", "uncertain"])
    delivery.next_prompt_id = None
    ask_next(session, [(delivery.round_id, delivery.participant_id)], now)
    if delivery.next_prompt_id is None:
        _finish(delivery, "sent", now)
        return None
    return delivery.next_prompt_id


def _question_message(delivery_id: int, prompt_id: str | None, sent: Sent, now: datetime
                      ) -> dict[str, Any]:
    return {"delivery_id": delivery_id, "prompt_id": prompt_id, "channel_id": sent.channel_id,
            "message_id": sent.message_id, "created_at": now}


def _finished(state: str, first: bool, now: datetime, error: str | None = None
              ) -> dict[str, Any]:
    """A delivery's columns once its message is done with (sent, or failed with `error`),
    claim released."""
    done: dict[str, Any] = {"state": state, "claimed_at": None, "claimed_by": None,
                            "next_prompt_id": None, "follow_up_at": None,
                            "last_error": None if state == "sent" else error}
    if state == "sent" and first:
        done["sent_at"] = now
    return done


def _finish(delivery: Delivery, state: str, now: datetime, error: str | None = None) -> None:
    for column, value in _finished(state, delivery.state == "pending", now, error).items():
        setattr(delivery, column, value)


def _failed(delivery: Delivery, exc: DeliveryError, now: datetime, *, first: bool = True
            ) -> Outcome:
    """A failed first message fails the delivery for good when trying again cannot help, or
    after MAX_ATTEMPTS; a failed next question is given up the same way but leaves the
    delivery sent (the person has the questions asked so far, and their list of open
    questions)."""
    delivery_id = delivery.id
    if exc.permanent:
        _finish(delivery, "failed" if first else "sent", now)
        delivery.last_error = exc.reason
        return Outcome(delivery_id, "failed")
    delivery.claimed_at = None
    delivery.claimed_by = None
    delivery.last_error = exc.reason
    if exc.uncertain:
        # Look in the conversation and carry on at once; this is no failure of the person.
        delivery.uncertain = True
        delivery.not_before = now
        return Outcome(delivery_id, "deferred")
    if exc.retry_after is not None:
        # Rate limited (still, after the client's own waits; or a look-up in the conversation,
        # which is not waited for): carry on when the platform says, other work meanwhile.
        delivery.attempts -= 1
        delivery.not_before = now + timedelta(seconds=exc.retry_after)
        return Outcome(delivery_id, "deferred", delivery.not_before)
    if delivery.attempts >= MAX_ATTEMPTS:
        _finish(delivery, "failed" if first else "sent", now)
        delivery.last_error = exc.reason
        return Outcome(delivery_id, "failed")
    delivery.not_before = now + RETRY_AFTER
    return Outcome(delivery_id, "deferred", delivery.not_before)
