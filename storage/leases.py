"""Leases: a named row held by one process at a time, renewed while it lives.

Used for "one scheduler at a time" and for "this sending process is alive". A holder renews its
lease well before it lapses; when the holder dies, the lease lapses and the next process to ask
takes it over. The claim is one conditional UPDATE (or the first INSERT), so it is atomic on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.models import Lease

SCHEDULER = "scheduler"
LEASE_TTL = timedelta(seconds=30)
"""How long a silent holder keeps a lease; a successor takes over within this."""


def acquire(
    sessions: sessionmaker[Session],
    holder: str,
    now: datetime,
    ttl: timedelta = LEASE_TTL,
    name: str = SCHEDULER,
) -> bool:
    """Take or renew the lease for `holder`; False while someone else holds a live lease."""
    with transaction(sessions) as session:
        claimed = cast(
            "CursorResult[Any]",
            session.execute(
                update(Lease)
                .where(
                    Lease.name == name,
                    or_(Lease.holder == holder, Lease.expires_at < now),
                )
                .values(holder=holder, acquired_at=now, expires_at=now + ttl)
                .execution_options(synchronize_session=False)
            ),
        )
        if claimed.rowcount == 1:
            return True
        if session.get(Lease, name) is not None:
            return False
    try:
        with transaction(sessions) as session:
            session.add(Lease(name=name, holder=holder, acquired_at=now, expires_at=now + ttl))
    except IntegrityError:
        return False  # another process inserted it first
    return True


def release(sessions: sessionmaker[Session], holder: str, name: str = SCHEDULER) -> None:
    """Give the lease up at a clean shutdown, so a successor need not wait for it to lapse."""
    with transaction(sessions) as session:
        session.execute(
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
            .execution_options(synchronize_session=False)
        )


def worker_lease(holder: str) -> str:
    """The name of the lease that says a sending process is alive."""
    return f"worker:{holder}"
