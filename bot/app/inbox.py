"""The inbox: what people send is on disk before the platform is told it arrived.

A chat platform that hears "received" does not send an event again, so an answer acknowledged
but not yet stored would be lost if the process died in between. Request threads therefore
hand each event (as its adapter translated it) to `Inbox.capture`, which returns once the
event is committed to the `inbox_events` table; concurrent captures share one commit (group
commit), so this costs little per event. Another loop works through the stored events in
batches, one transaction per batch, each event in its own savepoint, and deletes them as they
are handled.

When the database cannot take an event in time, it goes to the spool (bot/app/spool.py), a
local file, before it is acknowledged, and is replayed into the table once the database
answers again. With no spool, the platform is told to send it again (InboxUnavailable).

Beside an SQLite file the table lives in a file of its own (storage.db.inbox_url): SQLite
writes one transaction at a time per file, and in one file every capture would wait for the
batch being handled (and every batch for the captures). Apart, a batch is read from the inbox
file, handled in the main database (its event ids claimed in the same transaction), then
deleted from the inbox file; a handler that dies in between leaves events whose ids are
claimed, and the next one deletes them without handling them again. Elsewhere (PostgreSQL)
the table is in the main database and a batch is taken, handled and deleted in one
transaction.

An event whose handling raises an unexpected error is kept with the error and tried again,
up to `MAX_ATTEMPTS` times; after that it stays in the table (never dropped) for a person to
look at. Events left behind by a process that died are handled by the next one to look; on
PostgreSQL several processes share the work (rows are claimed with SKIP LOCKED).

Handling can live in a process of its own (`roundtable worker`): it announces itself with a
lease (`inbox-worker:<holder>`, renewed while it lives), and a process that captures leaves
the handling to it while that lease is live, so its requests only store and acknowledge.
When the worker stops or dies, its lease lapses and the capturing process handles again.
"""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.app.loops import Faults, Loop
from bot.app.spool import Spool, Spooled
from bot.core.inbox import BATCH, MAX_ATTEMPTS, Received, backlog
from bot.core.ports import Clock
from storage import leases
from storage.database import Database
from storage.db import database_answers, reading, transaction
from storage.models import InboxEvent, Lease
from storage.queries import claim_events

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0
"""How often to look for events left by other processes (or by this one's failures), and
for spooled events to replay."""
WORKER_POLL_SECONDS = 0.1
"""How often a worker without captures of its own looks for stored events (a cheap read).
Under load, what arrived in between is handled as one batch; the answers are on disk already."""
WORKER_LEASE = "inbox-worker:"
"""Prefix of the leases that say a process handles the inbox for the others."""
CAPTURE_TIMEOUT = 2.5
"""Slack gives up on an acknowledgement after 3 seconds; fail (or spool) first."""


class InboxUnavailable(Exception):
    """The event could not be stored in time, nor spooled; the platform should send it
    again."""


FollowUp = Callable[[], None]
"""Work to do after the batch is committed (queueing a confirmation); never inside it."""
Handler = Callable[[Session, list[Received]], list[FollowUp]]
"""Acts on events (each once, in order) in the caller's transaction; raising undoes them all."""
Capture = tuple[str, str, str, Future[None]]
"""(platform, event id, payload as JSON, whether it is stored)."""


class Inbox:
    """Stores events as they are captured (one loop) and handles them in batches (another)."""

    def __init__(self, database: Database, handle: Handler, clock: Clock, *,
                 batch: int = BATCH, poll_seconds: float = POLL_SECONDS,
                 handled_elsewhere: Callable[[], bool] = lambda: False,
                 spool: Spool | None = None, faults: Faults | None = None) -> None:
        self.sessions, self.store = database.sessions, database.inbox_sessions
        self.apart = database.inbox is not None
        self.handle, self.clock = handle, clock
        self.batch, self.poll_seconds = batch, poll_seconds
        self.retry_seconds = poll_seconds  # a worker polls more often, but retries no faster
        self.handled_elsewhere = handled_elsewhere
        self.spool, self.faults = spool, faults or Faults()
        self.capturing = True
        self.database_away = False
        """The last try to store failed: captures go to the spool without waiting."""
        self._captures: queue.SimpleQueue[Capture | None] = queue.SimpleQueue()
        self._stored = threading.Event()
        # One handler at a time in this process; storing takes turns with it only when events
        # wait in the database they are handled in (on SQLite, storage.db also makes every
        # writer of every process take turns).
        self._handling_one = threading.Lock()
        self._storing: AbstractContextManager[Any] = (
            nullcontext() if self.apart else self._handling_one)
        self._insert_sql: str | None = None
        self._when: Callable[[datetime], Any] = lambda value: value
        self._retried = 0.0
        self._replayed = 0.0
        self.loops: list[Loop] = []

    def start(self, *, capturing: bool = True, lease_ttl: timedelta = leases.LEASE_TTL,
              holder: str = leases.PROCESS) -> None:
        """Start handling stored events and, with `capturing`, storing captured ones. Without
        it (a worker process), the inbox only handles, polling every WORKER_POLL_SECONDS, and
        holds an `inbox-worker:` lease while it runs (renewed by `announce`), so capturing
        processes leave the handling to it."""
        self.capturing = capturing
        self.loops = []
        if capturing:
            self.loops.append(Loop("inbox-store", self._store_step, faults=self.faults,
                                   on_stop=lambda: self._captures.put(None)))
        else:
            self.poll_seconds = min(self.poll_seconds, WORKER_POLL_SECONDS)
            self._holder, self._lease_ttl = holder, lease_ttl
            self.announce()  # before the first batch, so the others stop handling soon
        self.loops.append(Loop("inbox-handle", self._handle_step, faults=self.faults,
                               on_stop=self._stored.set))
        self._replay()  # what an earlier process spooled
        self._stored.set()  # what was stored while no handler ran: handled now, not a poll on
        for loop in self.loops:
            loop.start()

    def stop(self) -> None:
        """Store what was captured, handle what is stored, then end the loops (a worker
        gives its lease up, so capturing processes handle again at once)."""
        for loop in self.loops:  # the store loop first: its last events are handled too
            loop.stop()
        if not self.capturing:
            try:
                leases.release(self.sessions, self._holder, WORKER_LEASE + self._holder)
            except Exception:  # noqa: BLE001 - it lapses by itself
                log.exception("could not give up the inbox worker lease")

    def announce(self) -> None:
        """A worker's lease: while it lives, capturing processes leave the handling to it."""
        if not self.capturing:
            leases.acquire(self.sessions, self._holder, self.clock(), self._lease_ttl,
                           name=WORKER_LEASE + self._holder)

    @property
    def running(self) -> bool:
        return bool(self.loops) and all(loop.alive for loop in self.loops)

    def capture(self, platform: str, event_id: str, payload: dict[str, Any]) -> None:
        """Return once the event is on disk (in the inbox, or in the spool); InboxUnavailable
        when it could be stored in neither."""
        text = json.dumps(payload, ensure_ascii=False)
        if not self.capturing or not self.running or self.loops[0].stopping.is_set():
            self._spool(platform, event_id, text, "the inbox is not running")
            return
        if self.database_away and self.spool is not None:
            self._spool(platform, event_id, text, "the database is away")
            return
        done: Future[None] = Future()
        self._captures.put((platform, event_id, text, done))
        try:
            done.result(timeout=CAPTURE_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - a timeout or the database's own error
            self._spool(platform, event_id, text, str(exc) or type(exc).__name__)

    def _spool(self, platform: str, event_id: str, text: str, why: str) -> None:
        if self.spool is None:
            raise InboxUnavailable(why)
        try:
            self.spool.keep(Spooled(platform, event_id, text, self.clock()))
        except OSError as exc:
            log.error("could not spool an incoming event (%s) after: %s", exc, why)
            raise InboxUnavailable(f"{why}; spool: {exc}") from exc

    def waiting(self) -> tuple[int, int]:
        """(events waiting to be handled, events set aside after MAX_ATTEMPTS failures)."""
        with self.store() as session:
            return backlog(session)

    # --- storing ---------------------------------------------------------------------------

    def _store_step(self) -> bool:
        """Store what was captured, many to a commit; between bursts, replay the spool."""
        items, stopping = self._take_captures()
        if items:
            with self._storing:
                failure = self._store(items)
            # the waiting requests are woken after the turn is given up: once woken they
            # take the interpreter, and the turn would wait for them to let go of it
            _settle_captures(items, failure)
            self._stored.set()
        if not stopping and (self.database_away or time.monotonic() - self._replayed
                             >= self.poll_seconds):
            self._replay()
        return not stopping

    def _take_captures(self) -> tuple[list[Capture], bool]:
        """Everything captured so far (waiting up to poll_seconds for the first); and whether
        the inbox is stopping."""
        items: list[Capture] = []
        try:
            item = self._captures.get(timeout=self.poll_seconds)
            while item is not None:
                items.append(item)
                item = self._captures.get_nowait()
            return items, True
        except queue.Empty:
            return items, False

    def _store(self, items: list[Capture]) -> Exception | None:
        """Commit the captured events; the error, if they could not be stored."""
        try:
            self._insert([(p, e, t) for p, e, t, _ in items], self.clock())
        except Exception as exc:  # noqa: BLE001 - every waiting request hears of it
            log.error("could not store %d incoming events: %s", len(items), exc)
            self.database_away = True
            return exc
        self.database_away = False
        return None

    def _replay(self) -> None:
        """Store what the spool kept, once the inbox's database answers (again)."""
        self._replayed = time.monotonic()
        if self.database_away and not database_answers(self.store.kw["bind"]):
            return
        try:
            if self.spool is not None and self.spool.replay(self._store_spooled):
                self._stored.set()
            self.database_away = False
        except Exception as exc:  # noqa: BLE001 - the database is still away; try again later
            log.info("the spool waits for the database: %s", exc)

    def _store_spooled(self, events: list[Spooled]) -> None:
        for start in range(0, len(events), self.batch):
            chunk = events[start:start + self.batch]
            self._insert([(e.platform, e.event_id, e.payload) for e in chunk],
                         chunk[0].received_at)

    def _insert(self, events: list[tuple[str, str, str]], now: datetime) -> None:
        """One INSERT of the events on a pooled connection (a retried event already waiting
        here is the same event: one is kept). Written at the driver's level: each step of
        Python on the way back from the database waits for the request threads to let go
        of the interpreter, so the fewer steps, the sooner every waiting request hears."""
        engine = self.store.kw["bind"]
        if self._insert_sql is None:
            mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
            self._insert_sql = (
                f"INSERT INTO {InboxEvent.__tablename__} (platform, event_id, payload, "
                f"received_at, attempts) VALUES ({mark}, {mark}, {mark}, {mark}, 0) "
                "ON CONFLICT (platform, event_id) DO NOTHING")
            to_db = InboxEvent.__table__.c.received_at.type.bind_processor(engine.dialect)
            self._when = to_db or (lambda value: value)
        when = self._when(now)
        with engine.begin() as connection:
            connection.exec_driver_sql(
                self._insert_sql, [(platform, event_id, payload, when)
                                   for platform, event_id, payload in events])

    # --- handling --------------------------------------------------------------------------

    def _handle_step(self) -> bool:
        """Handle stored events whenever some were stored (or every poll_seconds, for those
        a dead process left behind or that failed before), unless a worker process does."""
        signalled = self._stored.wait(self.poll_seconds)
        self._stored.clear()
        stopping = self.loops[-1].stopping.is_set() and not any(
            loop.alive for loop in self.loops[:-1])
        if not stopping and self.capturing and self.handled_elsewhere():
            return True
        # events that failed are tried again at most every retry_seconds, not at each wake
        retry = time.monotonic() - self._retried >= self.retry_seconds
        self._retried = time.monotonic() if retry else self._retried
        if signalled or stopping or self._any_stored(retry):
            # what arrived while a batch was handled is the next batch, without waiting
            # for the next poll: under load, batches grow to what one handling takes
            while self._handle_stored(retry) > 0:
                retry = False  # those that failed wait for their retry_seconds
        return not stopping

    def _any_stored(self, retry: bool) -> bool:
        """Whether anything waits (a read that takes no write lock, for polling)."""
        try:
            with reading(self.store) as session:
                return session.scalar(select(InboxEvent.id).where(self._tries(retry)).limit(1)
                                      ) is not None
        except Exception:  # noqa: BLE001 - the write transaction will say what is wrong
            return True

    @staticmethod
    def _tries(retry: bool) -> Any:
        return InboxEvent.attempts < MAX_ATTEMPTS if retry else InboxEvent.attempts == 0

    def _handle_stored(self, retry: bool = True) -> int:
        """Handle up to `batch` stored events in one transaction (with `retry`, also those
        that failed before); how many were taken."""
        try:
            with self._handling_one:
                taken, follow_ups = (self._handle_apart(retry) if self.apart
                                     else self._handle_together(retry))
        except Exception:  # noqa: BLE001 - the batch stays stored; try again shortly
            log.exception("could not handle stored events; they stay in the inbox")
            self.loops[-1].stopping.wait(1.0)
            return 0
        for work in follow_ups:
            try:
                work()
            except Exception:  # noqa: BLE001 - the answers are saved; only a message is lost
                log.exception("a follow-up of handled events failed")
        return taken

    def _waiting(self, session: Session, retry: bool) -> list[Stored]:
        rows = session.scalars(
            select(InboxEvent).where(self._tries(retry))
            .order_by(InboxEvent.id).limit(self.batch)
            .with_for_update(skip_locked=True)).all()
        return [Stored(r.id, r.platform, r.event_id, r.payload, r.attempts) for r in rows]

    def _handle_together(self, retry: bool) -> tuple[int, list[FollowUp]]:
        """Events wait where they are handled: taken (rows locked, on PostgreSQL), handled
        and removed in one transaction."""
        with transaction(self.sessions) as session:
            events = self._waiting(session, retry)
            if not events:
                return 0, []
            follow_ups, handled, failed = self._handle_batch(session, events)
            _settle(session, handled, failed)
        return len(events), follow_ups

    def _handle_apart(self, retry: bool) -> tuple[int, list[FollowUp]]:
        """Events wait in a database of their own: read there (no lock), handled in the main
        database, then removed from theirs. Dying in between leaves them waiting, and the
        next try finds their ids claimed (in the handling transaction) and does nothing."""
        with reading(self.store) as session:
            events = self._waiting(session, retry)
        if not events:
            return 0, []
        with transaction(self.sessions) as session:
            follow_ups, handled, failed = self._handle_batch(session, events)
        try:
            with transaction(self.store) as session:
                _settle(session, handled, failed)
        except Exception:  # noqa: BLE001 - the answers are saved: still confirm them
            log.exception("could not remove %d handled events; the next try will (their ids "
                          "are claimed, so they are not handled again)", len(handled))
            return 0, follow_ups  # and no going round again until then
        return len(events), follow_ups

    def _handle_batch(self, session: Session, events: Sequence[Stored]
                      ) -> tuple[list[FollowUp], list[int], dict[int, str]]:
        """Hand the events over together; if that fails, one at a time, so that one bad
        event is set aside and the rest go through. (what to do after the commit, handled,
        the error of each that failed)"""
        try:
            with session.begin_nested():
                return self._hand_over(session, events), [e.id for e in events], {}
        except Exception:  # noqa: BLE001 - retried below, event by event
            if len(events) == 1:
                return [], [], {events[0].id: _failure(events[0])}
            log.warning("a batch of %d events failed; handling them one by one", len(events))
        follow_ups: list[FollowUp] = []
        handled: list[int] = []
        failed: dict[int, str] = {}
        for event in events:
            try:
                with session.begin_nested():
                    follow_ups += self._hand_over(session, [event])
                handled.append(event.id)
            except Exception:  # noqa: BLE001 - one bad event must not hold up the rest
                failed[event.id] = _failure(event)
        return follow_ups, handled, failed

    def _hand_over(self, session: Session, events: Sequence[Stored]) -> list[FollowUp]:
        """Claim the events' ids and hand over those not handled before (a platform's retries
        of an event already handled and deleted come back with the same id)."""
        fresh: set[tuple[str, str]] = set()
        for platform in {e.platform for e in events}:
            ids = [e.event_id for e in events if e.platform == platform]
            fresh |= {(platform, i) for i in claim_events(session, ids, self.clock(), platform)}
        return self.handle(session, [
            Received(e.id, e.platform, e.event_id, json.loads(e.payload))
            for e in events if (e.platform, e.event_id) in fresh])


@dataclass(frozen=True)
class Stored:
    """An event as it waits in the table."""

    id: int
    platform: str
    event_id: str
    payload: str
    attempts: int


def _settle_captures(items: list[Capture], failure: Exception | None) -> None:
    """Tell each waiting request whether its event is on disk."""
    for *_, done in items:
        if failure is None:
            done.set_result(None)
        else:
            done.set_exception(failure)


def _failure(event: Stored) -> str:
    """Log the error being handled; what to keep of it with the event."""
    # the inbox row's number, not the event's id: an id made of a conversation and a time
    # would say who wrote, and when
    log.exception("incoming event %d failed (attempt %d of %d)", event.id, event.attempts + 1,
                  MAX_ATTEMPTS)
    exc = sys.exc_info()[1]
    return f"{type(exc).__name__}: {exc}"[:2000]


def _settle(session: Session, handled: list[int], failed: dict[int, str]) -> None:
    """Remove the handled events; count a try against each that failed, keeping its error
    (after MAX_ATTEMPTS it waits for a person)."""
    if handled:
        session.execute(delete(InboxEvent).where(InboxEvent.id.in_(handled)))
    for event_id, error in failed.items():
        session.execute(update(InboxEvent).where(InboxEvent.id == event_id).values(
            attempts=InboxEvent.attempts + 1, last_error=error))


class WorkerWatch:
    """Whether a worker process handles the inbox (someone holds a live `inbox-worker:`
    lease); the database is asked at most every `every` seconds."""

    def __init__(self, database: Database, clock: Clock, every: float = POLL_SECONDS) -> None:
        self.sessions, self.clock, self.every = database.sessions, clock, every
        self._asked, self._answer = -float("inf"), False

    def __call__(self) -> bool:
        if time.monotonic() - self._asked >= self.every:
            try:
                with reading(self.sessions) as session:
                    self._answer = session.scalar(
                        select(Lease.name).where(Lease.name.startswith(WORKER_LEASE),
                                                 Lease.expires_at > self.clock()).limit(1)
                    ) is not None
            except Exception:  # noqa: BLE001 - then handle here, as if alone
                log.exception("could not tell whether an inbox worker runs")
                self._answer = False
            self._asked = time.monotonic()
        return self._answer
