"""The scheduler lease: one holder at a time, renewed by its holder, taken over when it lapses."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.runtime import Database
from storage.leases import LEASE_TTL, acquire, release


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
