"""Sending a round's questions: the outbox rows, their claims, and recovery after a crash.

A delivery is an outbox row. Questions are asked one at a time: the first message carries the
pack's intro and the first question; each later question is queued on the row (`ask_next`) once
the person has no question waiting, and sent by the same outbox. A sender claims the row with a
conditional UPDATE naming itself, sends the message tagged with the delivery and prompt ids, and
records it as a QuestionMessage in its own transaction. A claim lives as long as its sender's
worker lease: when a sender dies between the platform posting a message and the row being
written, the next sender looks the delivery's tagged messages up in the conversation before it
sends anything again. Nobody is messaged outside working hours in their own time zone: a
delivery due at night waits for the morning. Each message goes out on the platform of the
person it is for (`gateways`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, literal, or_, select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker

from bot.core.next_questions import ask_next
from bot.core.ports import ChatGateway, Clock, DeliveryError, Gateways, Sent
from bot.core.questions import Question
from bot.core.replies import is_answered
from bot.core.rounds import round_pack
from bot.core.said import from_parts
from bot.core.working_hours import next_working_time
from storage.db import transaction
from storage.leases import PROCESS
from storage.models import Delivery, Lease, Participant, QuestionMessage

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
at about one message a second, few enough that a crash leaves little to look up afterwards."""


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


def due_deliveries(session: Session, now: datetime, limit: int = 100,
                   platforms: Collection[str] | None = None) -> list[int]:
    """Ids of deliveries with a message to send now (a first message, or a next question),
    unclaimed or abandoned by a dead sender; only for people on `platforms` when given (a
    process sends only where it has a gateway)."""
    query = select(Delivery.id).where(
        _something_to_send(),
        or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
        _claimable(now),
    )
    if platforms is not None:
        query = query.join(Participant, Participant.id == Delivery.participant_id).where(
            Participant.platform.in_(list(platforms)))
    return list(session.scalars(query.order_by(Delivery.id).limit(limit)))


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
    gateways: Gateways,
    delivery_id: int,
    clock: Clock,
    default_zone: str,
    worker: str = PROCESS,
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
        gateway = gateways.get(participant.platform)
        if gateway is None:
            return Outcome(delivery_id, "skipped")  # another process sends on that platform
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
        notice = delivery.round.privacy_notice
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
            question = Question(round_id, delivery_id, prompt, number, len(pack.prompts), intro,
                                from_parts(notice) if intro and notice else None)
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
            delivery.message_id = session.scalar(
                select(QuestionMessage.message_id)
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


def send_due(
    sessions: sessionmaker[Session], gateways: Gateways, clock: Clock, default_zone: str,
    stopping: Callable[[], bool] = lambda: False, *, worker: str = PROCESS,
    in_flight: int = IN_FLIGHT, pool: Executor | None = None,
) -> list[Outcome]:
    """Send every delivery that is due now, `in_flight` at a time, until `stopping()`, on the
    `pool` given (a process's long-lived senders) or on threads of its own.

    A pipeline, not batches: as soon as one send ends the next begins, so one send waiting out
    a Retry-After holds up only itself.
    """
    if pool is None:
        with ThreadPoolExecutor(in_flight, thread_name_prefix="roundtable-send") as own:
            return send_due(sessions, gateways, clock, default_zone, stopping, worker=worker,
                            in_flight=in_flight, pool=own)
    outcomes: list[Outcome] = []
    tried: set[int] = set()
    queue: list[int] = []
    running: set[Future[Outcome | None]] = set()
    platforms = list(gateways)
    while not stopping():
        if len(queue) < in_flight:
            with sessions() as session:
                fresh = [i for i in due_deliveries(session, clock(), in_flight * 16, platforms)
                         if i not in tried]
            tried.update(fresh)
            queue += fresh
        while queue and len(running) < in_flight:
            running.add(pool.submit(_send_unless_stopping, sessions, gateways,
                                    queue.pop(0), clock, default_zone, worker, stopping))
        if not running:
            break
        done, running = wait(running, return_when=FIRST_COMPLETED)
        outcomes += [o for o in (f.result() for f in done) if o is not None]
    outcomes += [o for o in (f.result() for f in wait(running).done) if o is not None]
    return outcomes


def _send_unless_stopping(sessions: sessionmaker[Session], gateways: Gateways,
                          delivery_id: int, clock: Clock, default_zone: str, worker: str,
                          stopping: Callable[[], bool]) -> Outcome | None:
    if stopping():
        return None
    return send_delivery(sessions, gateways, delivery_id, clock, default_zone, worker)


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
                           channel_id=sent.channel_id, message_id=sent.message_id,
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

