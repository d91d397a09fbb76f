"""The scheduled jobs: module-level functions that take ids, so APScheduler can store them.

What a job needs at run time (the database, the chat gateway, the clock, the summariser that
may word digest headlines) is set once per process by `install()`. Every job is safe to run
twice: the work it does is claimed in the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.core import audit, digest_posts, digest_review, reminders, retention, sending
from bot.core.digest.build import Summariser
from bot.core.digest_refused import tell_digest_refused, tell_refused
from bot.core.errors import RoundtableError
from bot.core.homes_owed import Home
from bot.core.ports import Clock, DeliveryError, Gateways
from bot.core.rounds import close_round
from bot.scheduling.timing import digest_trigger, latest_fire_time
from storage import leases
from storage.database import Database
from storage.db import transaction
from storage.models import Digest, Round, apscheduler_jobs
from storage.queries import forget_old_events as forget_old_events_before

log = logging.getLogger(__name__)
LATE_AFTER = timedelta(minutes=1)
"""A digest posted this long after its time says that it is late."""
FINAL_PERIOD = "final"
EVENT_LEDGER_KEEPS = timedelta(days=7)


@dataclass(frozen=True)
class JobContext:
    database: Database
    gateways: Gateways
    clock: Clock
    zone: str
    retention_days: int = retention.DEFAULT_DAYS
    summariser: Summariser | None = None
    """Words digest headlines with the configured language model (None: offline only)."""
    admins_homes: tuple[Home, ...] = ()
    """The admins' homes (they list every round): owed again when retention changes a round."""
    wake_sender: Callable[[], None] | None = None
    """The process's own sender (its outbox), woken to send what is due instead of a second
    sender working beside it: the outbox alone knows when what it put off falls due again, and
    deliveries another sender put off in the meantime left it idle for its full minute."""


_context: JobContext | None = None


def install(context: JobContext) -> None:
    global _context
    _context = context


def context() -> JobContext:
    if _context is None:
        raise RuntimeError("scheduling.jobs.install() was not called in this process")
    return _context


def digest_job_id(round_id: int) -> str:
    return f"digest-{round_id}"


def is_digest_job(job_id: str) -> bool:
    return job_id.startswith("digest-")


def forget_digest_job(session: Session, round_id: int) -> None:
    """Delete a round's stored digest job (the round is being deleted), whether or not a
    scheduler runs now."""
    session.execute(delete(apscheduler_jobs).where(
        apscheduler_jobs.c.id == digest_job_id(round_id)))


def post_round_digest(round_id: int) -> None:
    """The recurring digest: posts the period that fell due last, once, marked late if it is."""
    ctx = context()
    now = ctx.clock()
    with ctx.database.sessions() as session:
        round_ = session.get(Round, round_id)
        if round_ is None or round_.status != "open" or not round_.digest_channel:
            return
        due = latest_fire_time(digest_trigger(round_.digest_cron, ctx.zone), now)
        if due is None or due < round_.opens_at:
            return
    late = now - due > LATE_AFTER
    _post(ctx, round_id, due.isoformat(), late=late)


def close_due_rounds() -> list[int]:
    """Close rounds whose closing time has passed and post each one's final digest once,
    marked late when its round closed well after its time (nothing ran then)."""
    ctx = context()
    now = ctx.clock()
    with ctx.database.sessions() as session:
        due = {
            round_id: closes_at
            for round_id, closes_at in session.execute(
                select(Round.id, Round.closes_at).where(
                    Round.status == "open", Round.closes_at.is_not(None), Round.closes_at <= now
                )
            )
        }
    closed = []
    for round_id in due:
        try:
            with transaction(ctx.database.sessions) as session:
                close_round(session, round_id, now)
        except RoundtableError:
            continue  # closed meanwhile (by a facilitator or another scheduler)
        closed.append(round_id)
    with ctx.database.sessions() as session:
        finals = list(
            session.scalars(
                select(Round.id).where(
                    Round.status == "closed",
                    Round.digest_channel.is_not(None),
                    ~select(Digest.id)
                    .where(Digest.round_id == Round.id, Digest.period == FINAL_PERIOD)
                    .exists(),
                )
            )
        )
    for round_id in finals:
        closes_at = due.get(round_id)
        _post(ctx, round_id, FINAL_PERIOD,
              late=closes_at is not None and now - closes_at > LATE_AFTER)
    return closed


def remind_due() -> None:
    """Plan the reminders whose time has come, then send those due in working hours."""
    ctx = context()
    now = ctx.clock()
    with ctx.database.sessions() as session:
        open_ids = list(session.scalars(select(Round.id).where(Round.status == "open")))
    for round_id in open_ids:
        with transaction(ctx.database.sessions) as session:
            reminders.plan_scheduled(session, round_id, now, ctx.zone)
    reminders.send_due(ctx.database.sessions, ctx.gateways, ctx.clock, ctx.zone)


def send_due_deliveries() -> None:
    ctx = context()
    if ctx.wake_sender is not None:
        ctx.wake_sender()
    else:
        sending.send_due(ctx.database.sessions, ctx.gateways, ctx.clock, ctx.zone)


def forget_old_events() -> None:
    """Keep the ledger of handled event ids to the weeks in which Slack could still retry."""
    ctx = context()
    with transaction(ctx.database.sessions) as session:
        forget_old_events_before(session, ctx.clock() - EVENT_LEDGER_KEEPS)


def apply_retention() -> None:
    """The daily retention run: answers and digests of rounds closed longer ago than the
    retention period, and old set-aside incoming events, are deleted (bot.core.retention)."""
    ctx = context()
    done = retention.apply_retention(ctx.database, ctx.clock(), ctx.retention_days,
                                     audit.SCHEDULER, ctx.gateways,
                                     admins_homes=ctx.admins_homes)
    if done.anything:
        log.info("retention: %s", done.line())


def forget_lapsed_leases() -> None:
    """Leases of processes that died without giving them up."""
    ctx = context()
    leases.forget_lapsed(ctx.database.sessions, ctx.clock())


def recover_digests() -> None:
    """Post (or find already posted) digests whose claim was left unfinished."""
    ctx = context()
    for sent in digest_posts.recover_digests(
            ctx.database.sessions, ctx.gateways, ctx.clock, summariser=ctx.summariser,
            posted_now=partial(_refresh_draft, ctx), refused=partial(_refused_at_recovery, ctx)):
        log.info("an unfinished digest is now posted in %s", sent.channel_id)


def _refresh_draft(ctx: JobContext, digest_id: int) -> None:
    """The facilitators' copies of a draft brought up to date (it was posted, refused, or a
    newer one took its place)."""
    digest_review.refresh_draft(ctx.database.sessions, ctx.gateways, digest_id, ctx.clock,
                                summariser=ctx.summariser)


def _refused_at_recovery(ctx: JobContext, digest_id: int, exc: DeliveryError) -> None:
    """A digest recovery found refused for good (failed now) is told as one refused when
    first posted: a reviewed one's drafts say why and keep Approve; of one posted as built,
    the round's starter hears it."""
    with ctx.database.sessions() as session:
        reviewed = session.get_one(Digest, digest_id).review_until is not None
    if reviewed:
        _refresh_draft(ctx, digest_id)
    else:
        tell_digest_refused(ctx.database.sessions, ctx.gateways, digest_id, exc)


def settle_reviews() -> None:
    """Digests nobody approved by their deadline: posted as built where the round says so."""
    ctx = context()
    for digest_id in digest_review.settle_due(ctx.database.sessions, ctx.gateways, ctx.clock,
                                              summariser=ctx.summariser):
        log.info("digest %s posted as built at its review deadline", digest_id)


def _hold(ctx: JobContext, round_id: int, period: str, *, late: bool) -> bool:
    """In a round whose digests are reviewed: claim the period for review and show the
    draft to its facilitators (True); False when the round posts as built."""
    with transaction(ctx.database.sessions) as session:
        round_ = session.get_one(Round, round_id)
        if not digest_review.in_review(round_):
            return False
        older = digest_review.waiting_draft(session, round_id)
        older_id = older.id if older is not None else None
        held = digest_review.hold_digest(session, round_, period, ctx.clock(), late=late)
        digest_id = held.id if held is not None else None
    if digest_id is not None:
        if older_id is not None:  # its copies now say that this one took its place
            _refresh_draft(ctx, older_id)
        shown = digest_review.send_drafts(ctx.database.sessions, ctx.gateways, digest_id,
                                          ctx.clock, summariser=ctx.summariser)
        log.info("digest of round %s for %s waits for review (shown to %s)", round_id, period,
                 shown)
    return True


def _post(ctx: JobContext, round_id: int, period: str, *, late: bool) -> None:
    if _hold(ctx, round_id, period, late=late):
        return
    try:
        sent = digest_posts.post_digest(
            ctx.database.sessions, ctx.gateways, round_id, period, ctx.clock, late=late,
            actor=audit.SCHEDULER, summariser=ctx.summariser,
        )
    except DeliveryError as exc:
        log.warning("digest of round %s for %s not posted: %s", round_id, period, exc.reason)
        if exc.permanent:
            tell_refused(ctx.database.sessions, ctx.gateways, round_id, period, exc)
        return
    except RoundtableError as exc:
        log.warning("digest of round %s for %s not posted: %s", round_id, period, exc)
        return
    if sent is not None:
        log.info("digest of round %s for %s posted%s", round_id, period, " (late)" if late else "")


