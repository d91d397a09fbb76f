"""A scheduled digest of a round in review waits for approval; at the round's deadline it is
posted as built, or keeps waiting, as the round says. Time is frozen and moved by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from bot.core.ports import utcnow
from bot.scheduling import jobs
from bot.scheduling.service import sweep
from storage.database import Database
from storage.models import Digest
from tests.fakes import Transcript
from tests.review_round import review_round

MEMBERS = ["UAMARA", "UBEN", "UCHIDI"]
FRIDAY_NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # the default digest time (London)
OPENED = FRIDAY_NOON - timedelta(days=4)


def states(database: Database) -> list[tuple[str, str, str | None]]:
    with database.sessions() as session:
        return [(d.period, d.state, d.approved_by)
                for d in session.scalars(select(Digest).order_by(Digest.id))]


def scheduled(database: Database, gateway: Transcript, round_id: int) -> None:
    jobs.install(jobs.JobContext(database, gateway.gateways, utcnow, "Europe/London"))
    jobs.post_round_digest(round_id)


def test_a_digest_nobody_approved_posts_as_built_at_the_deadline(database: Database) -> None:
    gateway = Transcript()
    round_id = review_round(database, OPENED, MEMBERS, starter="UFAC", channel="CLEADS",
                            unreviewed="post", hours=24)
    with time_machine.travel(FRIDAY_NOON + timedelta(seconds=20), tick=False) as clock:
        scheduled(database, gateway, round_id)
        assert gateway.to("CLEADS") == []
        assert gateway.to("DUFAC") == ["draft 1"]
        period = FRIDAY_NOON.isoformat()
        assert states(database) == [(period, "review", None)]

        clock.move_to(FRIDAY_NOON + timedelta(hours=23, minutes=59))
        sweep()
        scheduled(database, gateway, round_id)  # the same period again: nothing new
        assert gateway.to("CLEADS") == [] and states(database) == [(period, "review", None)]

        clock.move_to(FRIDAY_NOON + timedelta(hours=24, minutes=1))
        sweep()
        sweep()
        assert gateway.to("CLEADS") == ["digest"]
        assert states(database) == [(period, "posted", "scheduler")]
        assert gateway.to("DUFAC") == ["draft 1", "draft 1 posted"]


def test_a_digest_nobody_approved_keeps_waiting_where_the_round_says_wait(
        database: Database) -> None:
    gateway = Transcript()
    round_id = review_round(database, OPENED, MEMBERS, starter="UFAC", channel="CLEADS",
                            unreviewed="wait", hours=24)
    with time_machine.travel(FRIDAY_NOON + timedelta(seconds=20), tick=False) as clock:
        scheduled(database, gateway, round_id)
        clock.move_to(FRIDAY_NOON + timedelta(days=3))
        sweep()
        assert gateway.to("CLEADS") == []
        first = FRIDAY_NOON.isoformat()
        assert states(database) == [(first, "review", None)]

        # a week on, the next digest takes the place of the one still waiting
        clock.move_to(FRIDAY_NOON + timedelta(days=7, seconds=20))
        scheduled(database, gateway, round_id)
        second = (FRIDAY_NOON + timedelta(days=7)).isoformat()
        assert states(database) == [(first, "superseded", None), (second, "review", None)]
        assert gateway.to("DUFAC") == ["draft 1", "draft 1 superseded", "draft 2"]
        assert gateway.to("CLEADS") == []
