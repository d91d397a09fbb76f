"""Sending a round's questions: the outbox rows, their claims, and recovery after a crash.

A delivery is an outbox row. Questions are asked one at a time: the first message carries the
pack's intro and the first question; each later question is queued on the row (`ask_next`) once
the person has no question waiting, and sent by the same outbox. A sender claims the row with a
conditional UPDATE naming itself, sends the message tagged with the delivery and prompt ids, and
records it as a QuestionMessage in its own transaction. A claim lives as long as its sender's
worker lease: when a sender dies between the platform posting a message and the row being
written, the next sender looks the delivery's tagged messages up in the conversation before it
sends anything again. Nobody is messaged outside working hours in their own time zone: a
delivery due at night waits for the morning.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, CursorResult, and_, literal, or_, select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker

from bot.core.digest.build import build_digest
from bot.core.digest.changes import claim_digest, snapshot
from bot.core.errors import NotFound
from bot.core.ports import ChatGateway, DeliveryError, Question, Sent
from bot.core.replies import is_answered
from bot.core.rounds import get_round, round_pack
from storage.db import reading, transaction
from storage.models import (
    Delivery,
    Digest,
    Lease,
    QuestionMessage,
    Reply,
)

log = logging.getLogger(__name__)
STALE_DIGEST_CLAIM = timedelta(minutes=10)
"""Longer than any digest takes to build and post: a claim this old was not going to finish."""
WORKER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
"""This process, as a sender: its claims live as long as its worker lease (see Outbox)."""
WORKDAY_START = time(8, 0)
WORKDAY_END = time(18, 0)
CLAIM_GRACE = timedelta(seconds=30)
"""A claim whose sender holds no live worker lease is taken for dead after this long."""
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=5)
FOLLOW_UP_WINDOW = timedelta(minutes=30)
"""The next question goes at once, night or day, this long after the person's answer asked for
it: they are writing to us then. Later than that it waits for their working hours."""
IN_FLIGHT = 8
"""Deliveries sent at once: enough to keep Slack's per-workspace rate busy while each DM goes
at about one message a second, few enough that a crash leaves little to look up afterwards."""

Clock = Callable[[], datetime]


def next_working_time(now: datetime, zone: str | None, default_zone: str) -> datetime | None:
    """None when `now` is within 08:00-18:00 where the person is; else the next 08:00 there."""
    try:
        tz = ZoneInfo(zone or default_zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo(default_zone)
    local = now.astimezone(tz)
    if WORKDAY_START <= local.time() < WORKDAY_END:
        return None
    day = local.date() if local.time() < WORKDAY_START else local.date() + timedelta(days=1)
    return datetime.combine(day, WORKDAY_START, tzinfo=tz)


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Unclaimed, or claimed by a sender that is gone: its worker lease lapsed (or, for a sender
    that never held one, its claim is older than CLAIM_GRACE)."""
    lease_expiry = (
        select(Lease.expires_at)
        .where(Lease.name == literal("worker:") + Delivery.claimed_by)
        .scalar_subquery()
    )
    return or_(
        Delivery.claimed_by.is_(None),
        lease_expiry < now,
        and_(lease_expiry.is_(None), Delivery.claimed_at < now - CLAIM_GRACE),
    )


def _something_to_send() -> ColumnElement[bool]:
    return or_(Delivery.state == "pending",
               and_(Delivery.state == "sent", Delivery.next_prompt_id.is_not(None)))


def due_deliveries(session: Session, now: datetime, limit: int = 100) -> list[int]:
    """Ids of deliveries with a message to send now (a first message, or a next question),
    unclaimed or abandoned by a dead sender."""
    return list(
        session.scalars(
            select(Delivery.id)
            .where(
                _something_to_send(),
                or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
                _claimable(now),
            )
            .order_by(Delivery.id)
            .limit(limit)
        )
    )


def claim(session: Session, delivery_id: int, now: datetime, worker: str) -> bool:
    """Take a delivery for sending; False when another sender has it or nothing is left."""
    result = cast("CursorResult[Any]", session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, _something_to_send(), _claimable(now))
        .values(claimed_at=now, claimed_by=worker, attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False)
    ))
    return result.rowcount == 1


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    state: str
    """sent, failed, deferred (night where they are, or a retry later) or skipped (not ours)."""


def send_delivery(
    sessions: sessionmaker[Session],
    gateway: ChatGateway,
    delivery_id: int,
    clock: Clock,
    default_zone: str,
    worker: str = WORKER,
) -> Outcome:
    """Send what one delivery has to send: its first message (the intro and first question),
    or the next question queued on it.

    When an earlier attempt's outcome is unknown (its sender died, or a connection dropped
    before the platform answered), the conversation is searched for the tagged message before it is
    sent again.
    """
    now = clock()
    with transaction(sessions) as session:
        # Locked from here (PostgreSQL; SQLite locks the database at BEGIN), so nothing but
        # the claim below changes it in this transaction.
        delivery = session.get(Delivery, delivery_id, with_for_update={"of": Delivery},
                               options=[joinedload(Delivery.participant),
                                        joinedload(Delivery.round)])
        if delivery is None or not (delivery.state == "pending" or delivery.next_prompt_id):
            return Outcome(delivery_id, "skipped")
        participant = delivery.participant
        answering = (delivery.follow_up_at is not None
                     and now - delivery.follow_up_at < FOLLOW_UP_WINDOW)
        wait = None if answering else next_working_time(now, participant.timezone, default_zone)
        if wait is not None:
            delivery.not_before = wait
            return Outcome(delivery_id, "deferred")
        unknown = delivery.uncertain or delivery.claimed_by is not None
        if not claim(session, delivery_id, now, worker):
            return Outcome(delivery_id, "skipped")
        session.expire(delivery, ["claimed_at", "claimed_by", "attempts"])  # the claim's
        if unknown:
            delivery.uncertain = True  # stays until the conversation has been looked at
        first = delivery.state == "pending"
        if participant.opted_out or delivery.round.status != "open":
            why = "stopped" if participant.opted_out else "closed"
            _finish(delivery, "failed" if first else "sent", now, why if first else None)
            return Outcome(delivery_id, "failed" if first else "skipped")
        user_id, channel = participant.platform_user_id, delivery.channel_id
        pack = round_pack(delivery.round)
        round_id = delivery.round_id
        already = _recorded(session, delivery_id)
        prompt_id = (delivery.next_prompt_id or pack.prompts[0].id) if first else str(
            delivery.next_prompt_id)
        pair = (round_id, delivery.participant_id)
        if not first and is_answered(session, *pair, prompt_id):
            # answered ahead (Home tab) while it waited to be sent: ask the one after instead
            delivery.next_prompt_id = None
            ask_next(session, [pair], now)
            if delivery.next_prompt_id is None:
                _finish(delivery, "sent", now)
                return Outcome(delivery_id, "skipped")
            prompt_id = delivery.next_prompt_id
    sent: Sent | None = None
    try:
        if unknown and channel is not None:
            already = _recover(sessions, gateway, delivery_id, channel, already, clock())
        if channel is None:
            channel = gateway.open_direct(user_id)
            with transaction(sessions) as session:
                session.get_one(Delivery, delivery_id).channel_id = channel
        if prompt_id not in already:
            number, prompt = next((n, p) for n, p in enumerate(pack.prompts, start=1)
                                  if p.id == prompt_id)
            intro = pack if first and not already else None
            question = Question(round_id, delivery_id, prompt, number, len(pack.prompts), intro)
            sent = gateway.send_question(channel, question)
    except DeliveryError as exc:
        return _failed(sessions, delivery_id, exc, clock(), first=first)
    # Written down with the delivery's new state in one transaction; should it fail, the
    # claim stays, and the next sender looks in the conversation before sending again.
    with transaction(sessions) as session:
        if sent is not None:
            session.add(_question_message(delivery_id, prompt_id, sent, clock()))
        if first:
            delivery = session.get_one(Delivery, delivery_id)
            delivery.message_ts = session.scalar(
                select(QuestionMessage.message_ts)
                .where(QuestionMessage.delivery_id == delivery_id)
                .order_by(QuestionMessage.id)
            )
            _finish(delivery, "sent", clock())
            return Outcome(delivery_id, "sent")
        # a next question (the hot path under load): one UPDATE, as _finish would leave it
        session.execute(update(Delivery).where(Delivery.id == delivery_id).values(
            state="sent", claimed_at=None, claimed_by=None, next_prompt_id=None,
            follow_up_at=None, last_error=None).execution_options(synchronize_session=False))
        if is_answered(session, *pair, prompt_id):
            # answered (in a form) while it was being sent, when its answer could not yet ask
            # for the next (this one was still queued): ask now
            ask_next(session, [pair], clock())
    return Outcome(delivery_id, "sent")


def still_waiting(asked: Iterable[tuple[str, datetime | None]], answered: Collection[str]
                  ) -> list[str]:
    """Of the questions asked (prompt id, when skipped), those still waiting for the person:
    neither answered nor skipped, in the order asked."""
    return [p for p, skipped in asked if p not in answered and skipped is None]


def ask_next(session: Session, asked: Iterable[tuple[int, int]], now: datetime) -> int:
    """Queue the next question for each (round id, participant id) whose person has no
    question waiting any more (each asked one is answered or skipped): the first of the pack,
    in order, neither asked nor answered. Returns how many were queued.

    Call it in the transaction that stored the answers or the skip; a few queries for any
    number of people.
    """
    pairs = set(asked)
    if not pairs:
        return 0
    # Locked whether or not a question is queued on them: a sender finishing one waits for
    # this transaction, then sees its answers and queues the next (see send_delivery).
    deliveries = session.scalars(select(Delivery).where(
        Delivery.round_id.in_({r for r, _ in pairs}),
        Delivery.participant_id.in_({p for _, p in pairs}))
        .order_by(Delivery.id).with_for_update()).all()  # one order: no deadlock between two
    deliveries = [d for d in deliveries if (d.round_id, d.participant_id) in pairs
                  and d.state == "sent" and d.next_prompt_id is None
                  and d.round.status == "open"]
    if not deliveries:
        return 0
    asked_by: dict[int, dict[str, datetime | None]] = {}
    for delivery_id, prompt_id, skipped_at in session.execute(
            select(QuestionMessage.delivery_id, QuestionMessage.prompt_id,
                   QuestionMessage.skipped_at)
            .where(QuestionMessage.delivery_id.in_([d.id for d in deliveries]),
                   QuestionMessage.prompt_id.is_not(None))):
        asked_by.setdefault(delivery_id, {})[str(prompt_id)] = skipped_at
    answered: dict[tuple[int, int], set[str]] = {}
    for round_id, participant_id, prompt_id in session.execute(
            select(Reply.round_id, Reply.participant_id, Reply.prompt_id).where(
                Reply.round_id.in_({d.round_id for d in deliveries}),
                Reply.participant_id.in_({d.participant_id for d in deliveries}),
                Reply.deleted_at.is_(None)).distinct()):
        answered.setdefault((round_id, participant_id), set()).add(prompt_id)
    packs = {d.round_id: round_pack(d.round) for d in deliveries}
    queued = 0
    for delivery in deliveries:
        done = answered.get((delivery.round_id, delivery.participant_id), set())
        asked_here = asked_by.get(delivery.id, {})
        if still_waiting(asked_here.items(), done):
            continue  # a question is still waiting for them
        following = next((p.id for p in packs[delivery.round_id].prompts
                          if p.id not in asked_here and p.id not in done), None)
        if following is not None:
            delivery.next_prompt_id = following
            delivery.follow_up_at = now
            delivery.not_before = None
            delivery.attempts = 0
            queued += 1
    return queued


def send_due(
    sessions: sessionmaker[Session], gateway: ChatGateway, clock: Clock, default_zone: str,
    stopping: Callable[[], bool] = lambda: False, *, worker: str = WORKER,
    in_flight: int = IN_FLIGHT,
) -> list[Outcome]:
    """Send every delivery that is due now, `in_flight` at a time, until `stopping()`.

    A pipeline, not batches: as soon as one send ends the next begins, so one send waiting out
    a Retry-After holds up only itself.
    """
    outcomes: list[Outcome] = []
    tried: set[int] = set()
    queue: list[int] = []
    running: set[Future[Outcome | None]] = set()
    with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="roundtable-send") as pool:
        while not stopping():
            if len(queue) < in_flight:
                with sessions() as session:
                    fresh = [i for i in due_deliveries(session, clock(), limit=in_flight * 16)
                             if i not in tried]
                tried.update(fresh)
                queue += fresh
            while queue and len(running) < in_flight:
                running.add(pool.submit(_send_unless_stopping, sessions, gateway,
                                        queue.pop(0), clock, default_zone, worker, stopping))
            if not running:
                break
            done, running = wait(running, return_when=FIRST_COMPLETED)
            outcomes += [o for o in (f.result() for f in done) if o is not None]
        outcomes += [o for o in (f.result() for f in running) if o is not None]
    return outcomes


def _send_unless_stopping(sessions: sessionmaker[Session], gateway: ChatGateway,
                          delivery_id: int, clock: Clock, default_zone: str, worker: str,
                          stopping: Callable[[], bool]) -> Outcome | None:
    if stopping():
        return None
    return send_delivery(sessions, gateway, delivery_id, clock, default_zone, worker)


def _recorded(session: Session, delivery_id: int) -> set[str | None]:
    return set(session.scalars(
        select(QuestionMessage.prompt_id).where(QuestionMessage.delivery_id == delivery_id)))


def _recover(sessions: sessionmaker[Session], gateway: ChatGateway, delivery_id: int,
             channel: str, already: set[str | None], now: datetime) -> set[str | None]:
    """Record the messages of this delivery that arrived although nobody wrote them down."""
    found = gateway.find_sent(channel, delivery_id)
    for prompt_id, sent in found.items():
        if prompt_id not in already:
            _record(sessions, delivery_id, prompt_id, sent, now)
    with transaction(sessions) as session:
        session.get_one(Delivery, delivery_id).uncertain = False
    return already | set(found)


def _record(
    sessions: sessionmaker[Session], delivery_id: int, prompt_id: str | None, sent: Sent,
    now: datetime,
) -> None:
    with transaction(sessions) as session:
        session.add(_question_message(delivery_id, prompt_id, sent, now))


def _question_message(delivery_id: int, prompt_id: str | None, sent: Sent, now: datetime
                      ) -> QuestionMessage:
    return QuestionMessage(delivery_id=delivery_id, prompt_id=prompt_id,
                           channel_id=sent.channel_id, message_ts=sent.message_ts,
                           created_at=now)


def _finish(delivery: Delivery, state: str, now: datetime, error: str | None = None) -> None:
    first = delivery.state == "pending"
    delivery.state = state
    delivery.claimed_at = None
    delivery.claimed_by = None
    delivery.next_prompt_id = None
    delivery.follow_up_at = None
    if state == "sent":
        if first:
            delivery.sent_at = now
        delivery.last_error = None
    else:
        delivery.last_error = error


def _failed(
    sessions: sessionmaker[Session], delivery_id: int, exc: DeliveryError, now: datetime, *,
    first: bool = True,
) -> Outcome:
    """A failed first message fails the delivery for good when trying again cannot help, or
    after MAX_ATTEMPTS; a failed next question is given up the same way but leaves the
    delivery sent (the person has the questions asked so far, and the Home tab)."""
    with transaction(sessions) as session:
        delivery = session.get_one(Delivery, delivery_id)
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
            # Still rate limited after the client's own waits: carry on when the platform says.
            delivery.attempts -= 1
            delivery.not_before = now + timedelta(seconds=exc.retry_after)
            return Outcome(delivery_id, "deferred")
        if delivery.attempts >= MAX_ATTEMPTS:
            _finish(delivery, "failed" if first else "sent", now)
            delivery.last_error = exc.reason
            return Outcome(delivery_id, "failed")
        delivery.not_before = now + RETRY_AFTER
        return Outcome(delivery_id, "deferred")


# --- digests ----------------------------------------------------------------------------------


def post_digest(
    sessions: sessionmaker[Session], gateway: ChatGateway, round_id: int, period: str,
    clock: Clock, fallback_channel: str | None = None, *, late: bool = False,
) -> Sent | None:
    """Post the round's digest for `period` once: the Digest row is claimed before posting.

    It goes to the round's digest channel, or to `fallback_channel` when the round has none.
    None when that period's digest was already claimed (by another worker or earlier). A claim
    whose posting fails, or whose poster dies, is taken up again by `recover_digests`.
    """
    now = clock()
    with transaction(sessions) as session:
        round_ = get_round(session, round_id)
        channel = round_.digest_channel or fallback_channel
        if channel is None:
            raise NotFound(f"round {round_id} has no digest channel")
        digest = claim_digest(session, round_id, period, now, late=late, channel_id=channel)
        if digest is None:
            return None
        digest_id = digest.id
    return _send_digest(sessions, gateway, digest_id, clock)


def recover_digests(sessions: sessionmaker[Session], gateway: ChatGateway, clock: Clock
                    ) -> list[Sent]:
    """Digests claimed over STALE_DIGEST_CLAIM ago and never marked posted (the platform failed
    them, or their poster died): each is looked for in its channel first, by the id its top
    message carries, and only what is not there is posted. One worker takes each (a
    conditional UPDATE)."""
    now = clock()
    with reading(sessions) as session:
        stale = session.execute(select(Digest.id, Digest.created_at).where(
            Digest.state == "claimed", Digest.channel_id.is_not(None),
            Digest.created_at < now - STALE_DIGEST_CLAIM)).all()
    recovered: list[Sent] = []
    for digest_id, claimed_at in stale:
        with transaction(sessions) as session:
            taken = cast(CursorResult[Any], session.execute(
                update(Digest).where(Digest.id == digest_id, Digest.state == "claimed",
                                     Digest.created_at == claimed_at)
                .values(created_at=now))).rowcount
            channel = session.get_one(Digest, digest_id).channel_id
        if not taken or channel is None:
            continue
        try:
            found = gateway.find_digest(channel, digest_id, claimed_at)
            recovered.append(_send_digest(sessions, gateway, digest_id, clock, posted=found))
        except DeliveryError as exc:
            log.warning("digest %s still not posted: %s", digest_id, exc.reason)
    return recovered


def _send_digest(sessions: sessionmaker[Session], gateway: ChatGateway, digest_id: int,
                 clock: Clock, posted: Sent | None = None) -> Sent:
    """Build and post a claimed digest (or the parts missing from one `posted` before), then
    mark it posted. A digest the platform refuses for good (the channel is gone) is marked
    failed, not retried."""
    with reading(sessions) as session:
        row = session.get_one(Digest, digest_id)
        round_id, channel, late = row.round_id, str(row.channel_id), row.late
        view = build_digest(session, round_id, row.created_at, late=late)
    try:
        sent = gateway.post_digest(channel, view, digest_id, top=posted)
    except DeliveryError as exc:
        if exc.permanent:
            with transaction(sessions) as session:
                session.get_one(Digest, digest_id).state = "failed"
        raise
    with transaction(sessions) as session:
        row = session.get_one(Digest, digest_id)
        row.state, row.message_ts, row.posted_at = "posted", sent.message_ts, clock()
        row.content = snapshot(view)  # what the next digest compares against
    return sent
