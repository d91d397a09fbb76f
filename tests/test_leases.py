"""The scheduler lease: one holder at a time, renewed by its holder, taken over when it lapses."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from storage.database import Database
from storage.leases import LEASE_TTL, acquire, forget_lapsed, release, worker_lease
from storage.models import Lease


def test_it_gives_the_schedule_to_one_process_at_a_time(database: Database, now: datetime) -> None:
    assert acquire(database.sessions, "web-1", now)
    assert not acquire(database.sessions, "web-2", now)
    assert acquire(database.sessions, "web-1", now + LEASE_TTL / 2)
    assert not acquire(database.sessions, "web-2", now + LEASE_TTL)


def test_it_hands_the_schedule_over_when_the_holder_goes_silent(
    database: Database, now: datetime
) -> None:
    assert acquire(database.sessions, "web-1", now)
    later = now + LEASE_TTL + timedelta(seconds=1)
    assert acquire(database.sessions, "web-2", later)
    assert not acquire(database.sessions, "web-1", later)


def test_it_lets_a_successor_in_at_once_after_a_clean_release(
    database: Database, now: datetime
) -> None:
    assert acquire(database.sessions, "web-1", now)
    release(database.sessions, "web-1")
    assert acquire(database.sessions, "web-2", now)


def test_it_forgets_the_leases_of_processes_that_died_once_long_lapsed(
    database: Database, now: datetime
) -> None:
    for holder in ("host:1:a", "host:2:b"):
        assert acquire(database.sessions, holder, now, name=worker_lease(holder))
    assert acquire(database.sessions, "web-1", now)  # the scheduler's lease is kept
    assert forget_lapsed(database.sessions, now + timedelta(hours=1)) == 0  # not long enough
    assert forget_lapsed(database.sessions, now + timedelta(days=2)) == 2
    with database.sessions() as session:
        assert session.scalars(select(Lease.name)).all() == ["scheduler"]
