"""Scheduled digests: once per period, late when the bot was down, never a replayed backlog."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import time_machine
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select, text

from bot.core.people import Person
from bot.core.ports import utcnow
from bot.core.rounds import RoundRequest, start_round
from bot.scheduling import jobs
from bot.scheduling.service import Scheduler, sync_digest_jobs
from bot.scheduling.timing import WallClockTrigger
from bot.slack.gateway import SlackGateway, make_client
from storage.database import Database
from storage.db import transaction
from storage.models import JOBS_TABLE, Digest, Round
from tests.fakes import Transcript
from tests.helpers import PATIENCE, seed_pack
from tests.slack_api_stub import SlackStub

LONDON = "Europe/London"
FRIDAY_NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def a_round(
    database: Database, opened: datetime, cron: str | None = None, closes: datetime | None = None
) -> int:
    with transaction(database.sessions) as session:
        round_ = start_round(
            session,
            RoundRequest(
                seed_pack(), [Person("UAMARA", "Amara")], digest_channel="CLEADS", closes_at=closes,
                platform="slack",
            ),
            opened,
        )
        round_.digest_cron = cron
        return round_.id


def run_job(
    database: Database, gateway: Transcript, at: datetime, job: Callable[[], object]
) -> None:
    jobs.install(jobs.JobContext(database, {"slack": gateway}, lambda: at, LONDON))
    job()


def digests(database: Database) -> list[tuple[str, bool]]:
    with database.sessions() as session:
        return [(d.period, d.late) for d in session.scalars(select(Digest).order_by(Digest.id))]


def test_it_posts_a_weekly_digest_once_per_period(database: Database) -> None:
    gateway = Transcript()
    round_id = a_round(database, FRIDAY_NOON - timedelta(days=4))
    for seconds in (0, 20, 40):
        run_job(
            database,
            gateway,
            FRIDAY_NOON + timedelta(seconds=seconds),
            lambda: jobs.post_round_digest(round_id),
        )
    assert gateway.to("CLEADS") == ["digest"]
    assert digests(database) == [(FRIDAY_NOON.isoformat(), False)]


def test_it_marks_a_digest_late_when_the_bot_was_down_at_its_time(database: Database) -> None:
    gateway = Transcript()
    round_id = a_round(database, FRIDAY_NOON - timedelta(days=4))
    run_job(
        database,
        gateway,
        FRIDAY_NOON + timedelta(hours=1),
        lambda: jobs.post_round_digest(round_id),
    )
    assert digests(database) == [(FRIDAY_NOON.isoformat(), True)]


def test_it_posts_once_after_missing_three_digest_times(database: Database) -> None:
    gateway = Transcript()
    opened = FRIDAY_NOON - timedelta(days=4)
    round_id = a_round(database, opened, closes=FRIDAY_NOON + timedelta(days=30))
    back = FRIDAY_NOON + timedelta(weeks=2, hours=3)  # missed three Fridays
    for _ in range(3):  # a coalesced misfire, and any extra runs, post one digest
        run_job(database, gateway, back, lambda: jobs.post_round_digest(round_id))
    assert gateway.to("CLEADS") == ["digest"]
    assert digests(database) == [((FRIDAY_NOON + timedelta(weeks=2)).isoformat(), True)]


def test_it_closes_a_due_round_with_one_final_digest(database: Database) -> None:
    gateway = Transcript()
    closes = FRIDAY_NOON + timedelta(days=3)
    round_id = a_round(database, FRIDAY_NOON - timedelta(days=4), closes=closes)
    for minutes in (1, 2):
        run_job(database, gateway, closes + timedelta(minutes=minutes), jobs.close_due_rounds)
    with database.sessions() as session:
        assert session.get_one(Round, round_id).status == "closed"
    assert digests(database) == [("final", False)]


def test_a_final_digest_is_marked_late_when_the_bot_was_down_at_the_close(
        database: Database) -> None:
    """As a weekly digest is: the group is told the final digest comes late, not left to
    wonder why the round's close went unmarked for hours."""
    gateway = Transcript()
    closes = FRIDAY_NOON + timedelta(days=3)
    a_round(database, FRIDAY_NOON - timedelta(days=4), closes=closes)
    run_job(database, gateway, closes + timedelta(hours=3), jobs.close_due_rounds)
    assert digests(database) == [("final", True)]


class Ticking:
    """A scheduler ticking as a process's lease loop ticks it, on a thread of the test's."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.ticks = 0

    @property
    def leading(self) -> bool:
        return self.scheduler.leading

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.scheduler.tick()
            self.ticks += 1
            self._stop.wait(self.scheduler.lease_check_seconds)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.scheduler.stop()


def wait_for(condition: Callable[[], bool], seconds: float = PATIENCE) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the scheduler"
        time.sleep(0.05)


def test_it_runs_a_digest_missed_while_no_scheduler_ran_once_on_start(database: Database) -> None:
    """The stored job outlives its process; on start it runs once, coalesced, marked late."""
    gateway = Transcript()
    now = datetime.now(UTC)
    round_id = a_round(database, now - timedelta(days=1), cron="0 0 12 * * *")
    first = Ticking(Scheduler(
        jobs.JobContext(database, {"slack": gateway}, lambda: datetime.now(UTC), "UTC"),
        sweep_seconds=3600,
        lease_check_seconds=0.05,
        holder="first",
    ))
    first.start()
    wait_for(lambda: _stored_job_count(database) >= 2)  # the sweep and the round's digest job
    first.stop()
    # Pretend the process died three days ago: the stored digest job is long overdue.
    store = SQLAlchemyJobStore(engine=database.engine, tablename=JOBS_TABLE)
    job = store.lookup_job(jobs.digest_job_id(round_id))
    assert job is not None
    job.next_run_time = now - timedelta(days=3)
    store.update_job(job)
    second = Ticking(Scheduler(
        jobs.JobContext(database, {"slack": gateway}, lambda: datetime.now(UTC), "UTC"),
        sweep_seconds=3600,
        lease_check_seconds=0.05,
        holder="second",
    ))
    second.start()
    try:
        wait_for(lambda: len(digests(database)) >= 1)
    finally:
        second.stop()
    assert gateway.to("CLEADS") == ["digest"]
    [(period, late)] = digests(database)
    assert late


def test_it_lets_only_the_lease_holder_run_the_schedule(database: Database) -> None:
    gateway = Transcript()
    context = jobs.JobContext(database, {"slack": gateway}, lambda: datetime.now(UTC), "UTC")
    one = Ticking(Scheduler(context, sweep_seconds=3600, lease_check_seconds=0.05,
                            holder="one"))
    two = Ticking(Scheduler(context, sweep_seconds=3600, lease_check_seconds=0.05,
                            holder="two"))
    one.start()
    wait_for(lambda: one.leading)
    two.start()
    try:
        wait_for(lambda: two.ticks >= 5)  # several lease checks by the second process
        assert not two.leading
        one.stop()  # a clean stop releases the lease at once
        wait_for(lambda: two.leading)
    finally:
        two.stop()


def _stored_job_count(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM apscheduler_jobs")).scalar_one())


def test_it_tells_the_channel_that_a_digest_is_late(database: Database) -> None:
    stub = SlackStub().start()
    stub.add_channel("CLEADS", ["UFAC"])
    try:
        gateway = SlackGateway(make_client("xoxb-test", stub.base_url))
        round_id = a_round(database, FRIDAY_NOON - timedelta(days=4))
        jobs.install(jobs.JobContext(database, {"slack": gateway},
                                     lambda: FRIDAY_NOON + timedelta(hours=1), LONDON))
        jobs.post_round_digest(round_id)
        [top] = [c for c in stub.posted("CLEADS") if not c.params.get("thread_ts")]
    finally:
        stub.stop()
    assert "Posted late" in json.dumps(top.params["blocks"])


def test_the_facilitator_who_started_a_round_hears_why_its_scheduled_digest_failed(
        database: Database) -> None:
    stub = SlackStub().start()
    stub.add_user("UFAC", "Fola")
    try:
        gateway = SlackGateway(make_client("xoxb-test", stub.base_url))
        with transaction(database.sessions) as session:
            round_ = start_round(session, RoundRequest(
                seed_pack(), [Person("UAMARA", "Amara")], started_by="UFAC",
                digest_channel="CGONE", platform="slack"), FRIDAY_NOON - timedelta(days=4))
            round_id = round_.id
        jobs.install(jobs.JobContext(database, {"slack": gateway}, lambda: FRIDAY_NOON,
                                     LONDON))
        jobs.post_round_digest(round_id)  # the channel does not exist (any more)
        [told] = stub.posted("DUFAC")
    finally:
        stub.stop()
    assert told.params["text"].startswith(
        f"The scheduled digest of round {round_id} could not be posted in <#CGONE>: "
        "channel_not_found.")
    assert "/invite @Roundtable" in told.params["text"]
    assert digests(database) == [(FRIDAY_NOON.isoformat(), False)]


def test_the_facilitator_hears_that_a_final_digest_that_failed_is_not_tried_again(
        database: Database) -> None:
    """A closed round has no next digest time: the starter is told only the command posts it."""
    stub = SlackStub().start()
    stub.add_user("UFAC", "Fola")
    try:
        gateway = SlackGateway(make_client("xoxb-test", stub.base_url))
        with transaction(database.sessions) as session:
            round_id = start_round(session, RoundRequest(
                seed_pack(), [Person("UAMARA", "Amara")], started_by="UFAC",
                digest_channel="CGONE", platform="slack",
                closes_at=FRIDAY_NOON - timedelta(hours=1)), FRIDAY_NOON - timedelta(days=4)).id
        jobs.install(jobs.JobContext(database, {"slack": gateway}, lambda: FRIDAY_NOON,
                                     LONDON))
        assert jobs.close_due_rounds() == [round_id]
        [told] = stub.posted("DUFAC")
    finally:
        stub.stop()
    text = told.params["text"]
    assert text.startswith(f"The final digest of round {round_id} could not be posted in "
                           "<#CGONE>: channel_not_found."), text
    assert "next digest time" not in text
    assert text.endswith("Nothing will post it otherwise: the round is closed."), text


def within(seconds: float, job: Callable[[], object]) -> None:
    """Run `job`, failing (not hanging the suite) if it has not returned within `seconds`."""
    done = threading.Event()
    threading.Thread(target=lambda: (job(), done.set()), daemon=True).start()
    assert done.wait(seconds), "the job did not return"


def test_a_nightly_digest_posts_once_on_the_night_the_clocks_go_back(database: Database) -> None:
    """25 Oct 2026: 01:30 in London happens at 00:30 UTC (BST) and again at 01:30 UTC (GMT)."""
    gateway = Transcript()
    round_id = a_round(database, datetime(2026, 10, 20, 12, 0, tzinfo=UTC), cron="30 1 * * *")
    jobs.install(jobs.JobContext(database, {"slack": gateway}, utcnow, LONDON))
    with time_machine.travel(datetime(2026, 10, 25, 0, 30, 5, tzinfo=UTC), tick=False) as clock:
        jobs.post_round_digest(round_id)
        for later in ((1, 30, 5), (1, 59, 0), (2, 30, 0)):
            clock.move_to(datetime(2026, 10, 25, *later, tzinfo=UTC))
            within(10, lambda: jobs.post_round_digest(round_id))
    assert gateway.to("CLEADS") == ["digest"]
    assert digests(database) == [("2026-10-25T01:30:00+01:00", False)]


def test_a_nightly_digest_posts_once_on_the_night_the_clocks_go_forward(
        database: Database) -> None:
    """29 Mar 2026: 01:30 does not happen in London; as in cron, the digest posts at the first
    moment after the gap (02:00 BST), on time, once."""
    gateway = Transcript()
    round_id = a_round(database, datetime(2026, 3, 28, 12, 0, tzinfo=UTC), cron="30 1 * * *")
    jobs.install(jobs.JobContext(database, {"slack": gateway}, utcnow, LONDON))
    with time_machine.travel(datetime(2026, 3, 29, 0, 59, tzinfo=UTC), tick=False) as clock:
        jobs.post_round_digest(round_id)  # 00:59 GMT: not yet
        assert digests(database) == []
        clock.move_to(datetime(2026, 3, 29, 1, 0, 5, tzinfo=UTC))  # 02:00:05 BST
        jobs.post_round_digest(round_id)
        assert gateway.to("CLEADS") == ["digest"]
        for later in ((1, 30, 5), (2, 0, 0)):
            clock.move_to(datetime(2026, 3, 29, *later, tzinfo=UTC))
            jobs.post_round_digest(round_id)
    assert gateway.to("CLEADS") == ["digest"]
    assert digests(database) == [("2026-03-29T02:00:00+01:00", False)]


def test_a_digest_job_stored_before_takes_the_new_trigger_and_keeps_its_missed_run(
        database: Database) -> None:
    round_id = a_round(database, FRIDAY_NOON - timedelta(days=4))
    jobs.install(jobs.JobContext(database, {"slack": Transcript()}, utcnow, LONDON))
    aps = BackgroundScheduler(jobstores={"default": MemoryJobStore()}, timezone=LONDON)
    aps.start(paused=True)
    try:
        missed = FRIDAY_NOON - timedelta(weeks=1)
        stored = CronTrigger(minute="0", hour="12", day="*", month="*", day_of_week="fri",
                             timezone=LONDON)  # as digest_trigger made it before
        aps.add_job(jobs.post_round_digest, stored,
                    args=[round_id], id=jobs.digest_job_id(round_id), next_run_time=missed)
        sync_digest_jobs(aps)
        job = aps.get_job(jobs.digest_job_id(round_id))
        assert isinstance(job.trigger, WallClockTrigger)
        assert job.next_run_time == missed
    finally:
        aps.shutdown(wait=False)


def test_a_digest_scheduled_on_29_february_posts_on_that_day(database: Database) -> None:
    """A leap day's schedule falls due every four years; it is found, not given up on."""
    gateway = Transcript()
    leap_day = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    round_id = a_round(database, leap_day - timedelta(days=3), cron="0 12 29 2 *")
    run_job(database, gateway, leap_day + timedelta(seconds=20),
            lambda: jobs.post_round_digest(round_id))
    assert gateway.to("CLEADS") == ["digest"]
    assert digests(database) == [("2028-02-29T12:00:00+00:00", False)]


def test_a_schedule_naming_a_day_and_a_weekday_posts_on_either_as_cron_does(
        database: Database) -> None:
    """`0 9 1 * 1`: on the 1st of each month and on every Monday, at 09:00."""
    gateway = Transcript()
    round_id = a_round(database, datetime(2026, 7, 1, 10, 0, tzinfo=UTC), cron="0 9 1 * 1")
    monday = datetime(2026, 7, 6, 8, 0, 20, tzinfo=UTC)  # 09:00:20 BST
    run_job(database, gateway, monday, lambda: jobs.post_round_digest(round_id))
    assert gateway.to("CLEADS") == ["digest"]
    assert digests(database) == [("2026-07-06T09:00:00+01:00", False)]


def test_an_hourly_digest_posts_in_both_passes_of_the_hour_the_clocks_repeat(
        database: Database) -> None:
    """25 Oct 2026: London's 01:30 comes at 00:30 UTC (BST) and at 01:30 UTC (GMT); an
    hourly digest posts at each, as cron runs an hourly job, and each once."""
    gateway = Transcript()
    round_id = a_round(database, datetime(2026, 10, 24, 12, 0, tzinfo=UTC), cron="30 * * * *")
    for hour in (0, 0, 1, 1, 2):
        run_job(database, gateway, datetime(2026, 10, 25, hour, 30, 5, tzinfo=UTC),
                lambda: jobs.post_round_digest(round_id))
    assert gateway.to("CLEADS") == ["digest"] * 3
    assert digests(database) == [("2026-10-25T01:30:00+01:00", False),
                                 ("2026-10-25T01:30:00+00:00", False),
                                 ("2026-10-25T02:30:00+00:00", False)]


def test_a_stored_job_that_read_a_day_and_a_weekday_as_both_takes_either(
        database: Database) -> None:
    """A job stored when `0 9 1 * 1` meant Mondays that are the 1st (next: 1 Feb 2027) is
    brought in step: its next run is the next Monday, and it stays so once stored."""
    wednesday = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    round_id = a_round(database, wednesday, cron="0 9 1 * 1")
    jobs.install(jobs.JobContext(database, {"slack": Transcript()}, utcnow, LONDON))
    aps = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=database.engine, tablename=JOBS_TABLE)},
        timezone=LONDON)
    with time_machine.travel(wednesday, tick=False):
        aps.start(paused=True)
        try:
            stored = WallClockTrigger(minute="0", hour="9", day="1", day_of_week="mon",
                                      timezone=LONDON)
            aps.add_job(jobs.post_round_digest, stored, args=[round_id],
                        id=jobs.digest_job_id(round_id))
            sync_digest_jobs(aps)
            sync_digest_jobs(aps)
            job = aps.get_job(jobs.digest_job_id(round_id))
            monday = datetime(2026, 7, 6, 8, 0, tzinfo=UTC)  # 09:00 BST
            assert job.next_run_time == monday
            assert job.trigger.get_next_fire_time(monday, monday) == datetime(
                2026, 7, 13, 8, 0, tzinfo=UTC)
        finally:
            aps.shutdown(wait=False)
