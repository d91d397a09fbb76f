"""The scheduler: APScheduler with its job store in Roundtable's database, run by one process.

Every process that may schedule asks for the lease every few seconds (`tick`, called by the
process's lease loop); the one that holds it runs APScheduler, the others wait. Recurring
digests are stored jobs (they outlive the process, and a time missed while no process ran is
run once on start: coalesced, never replayed). The sweep job keeps those stored jobs in step
with the open rounds and does the periodic work.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from bot.core.errors import RoundtableError
from bot.scheduling import jobs
from bot.scheduling.timing import WallClockTrigger, digest_trigger
from storage import leases
from storage.models import JOBS_TABLE, Round

log = logging.getLogger(__name__)
SWEEP_SECONDS = 15.0
RETENTION_JOB = "retention"
RETENTION_AT = {"hour": 3, "minute": 30}
"""The daily retention run, at night in ROUNDTABLE_TIMEZONE (and once when first scheduled)."""
LEASE_CHECK_SECONDS = 5.0
JOB_THREADS = 2
"""A digest being built and posted (seconds) does not hold up the sweep; more buy nothing:
every job claims its work in the database, and the sweep runs one at a time."""


class Scheduler:
    """Takes the lease when it can (`tick`) and runs the schedule while it holds it."""

    def __init__(
        self,
        context: jobs.JobContext,
        *,
        sweep_seconds: float = SWEEP_SECONDS,
        lease_check_seconds: float = LEASE_CHECK_SECONDS,
        lease_ttl: timedelta = leases.LEASE_TTL,
        holder: str = leases.PROCESS,
    ) -> None:
        self.context = context
        self.lease_ttl = lease_ttl
        self.holder = holder
        self.sweep_seconds = sweep_seconds
        self.lease_check_seconds = lease_check_seconds
        self._aps: BackgroundScheduler | None = None
        jobs.install(context)

    @property
    def leading(self) -> bool:
        return self._aps is not None

    def tick(self) -> None:
        """Take or keep the lease (and lead), or stand down when another process has it;
        while leading, keep the digest jobs in step with the rounds."""
        try:
            held = leases.acquire(
                self.context.database.sessions, self.holder, self.context.clock(),
                self.lease_ttl,
            )
        except Exception:  # noqa: BLE001 - a database blip: stand down until it answers
            log.exception("could not reach the database for the scheduler lease")
            held = False
        if held and self._aps is None:
            self._lead()
        elif not held and self._aps is not None:
            log.warning("scheduler lease lost; standing down")
            self._resign()
        if self._aps is not None:
            try:
                sync_digest_jobs(self._aps)
            except Exception:  # noqa: BLE001 - retried at the next check
                log.exception("could not bring the digest jobs in step with the rounds")

    def stop(self) -> None:
        self._resign()
        try:
            leases.release(self.context.database.sessions, self.holder)
        except Exception:  # noqa: BLE001 - it lapses by itself
            log.exception("could not give up the scheduler lease")

    def _lead(self) -> None:
        log.info("this process now runs the schedule (%s)", self.holder)
        # The table is created by our migrations (storage.models declares it); the store's own
        # create_all then finds it there.
        store = SQLAlchemyJobStore(engine=self.context.database.engine, tablename=JOBS_TABLE)
        aps = BackgroundScheduler(
            jobstores={"default": store},
            executors={"default": ThreadPoolExecutor(JOB_THREADS)},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=self.context.zone,
        )
        aps.add_job(
            sweep,
            "interval",
            seconds=self.sweep_seconds,
            id="sweep",
            replace_existing=True,
            next_run_time=self.context.clock(),
        )
        aps.start()
        nightly = WallClockTrigger(timezone=self.context.zone, **RETENTION_AT)
        retention = aps.get_job(RETENTION_JOB)  # (the store answers once started)
        if retention is None:
            # Stored, and added once: replacing it at each start would move its next run and
            # skip a night missed while nothing ran (a missed run is run once on start).
            aps.add_job(jobs.apply_retention, nightly, id=RETENTION_JOB,
                        next_run_time=self.context.clock())
        elif not isinstance(retention.trigger, WallClockTrigger):
            aps.modify_job(RETENTION_JOB, trigger=nightly)  # stored before; keeps its next run
        self._aps = aps

    def _resign(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=True)
            self._aps = None


def sweep() -> None:
    """The periodic work: close due rounds, remind, wake the process's sender for what is due,
    finish digests, prune the event ledger."""
    for step in (jobs.close_due_rounds, jobs.remind_due, jobs.send_due_deliveries,
                 jobs.recover_digests, jobs.settle_reviews, jobs.forget_old_events,
                 jobs.forget_lapsed_leases):
        try:
            step()
        except Exception:  # noqa: BLE001 - one failing step must not starve the others
            log.exception("scheduled step %s failed", step.__name__)


def sync_digest_jobs(aps: BackgroundScheduler) -> None:
    """Add a stored digest job for each open round with a digest channel; drop those of
    closed or deleted rounds and of rounds whose channel was taken away; follow a changed
    schedule (`roundtable round set --digest-cron`).

    A job whose schedule is unchanged is left alone: replacing it would move its next run time
    and lose a digest that fell due while no process was running.
    """
    ctx = jobs.context()
    with ctx.database.sessions() as session:
        rounds = session.execute(
            select(Round.id, Round.status, Round.digest_channel, Round.digest_cron)
        ).all()
    wanted: set[str] = set()
    for round_id, status, channel, cron in rounds:
        job_id = jobs.digest_job_id(round_id)
        if status != "open" or not channel:
            continue
        try:
            trigger = digest_trigger(cron, ctx.zone)
        except RoundtableError as exc:
            log.warning("round %s has an unusable digest schedule: %s", round_id, exc)
            continue
        wanted.add(job_id)
        job = aps.get_job(job_id)
        if job is None:
            aps.add_job(jobs.post_round_digest, trigger, args=[round_id], id=job_id,
                        replace_existing=True)
        elif str(job.trigger) == str(trigger) and str(job.trigger.timezone) == ctx.zone:
            if not isinstance(job.trigger, WallClockTrigger):
                # the same schedule, stored before clock changes were handled: the trigger
                # changes, its next run (maybe missed while nothing ran) stays
                aps.modify_job(job_id, trigger=trigger)
        else:
            aps.reschedule_job(job_id, trigger=trigger)
    for job in aps.get_jobs():
        if jobs.is_digest_job(job.id) and job.id not in wanted:
            try:
                aps.remove_job(job.id)
            except JobLookupError:
                pass  # removed meanwhile
