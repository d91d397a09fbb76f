"""Leases: a named row held by one process at a time, renewed while it lives.

Used for "one scheduler at a time" and for "this sending process is alive". A holder renews its
lease well before it lapses; when the holder dies, the lease lapses and the next process to ask
takes it over. The claim is one conditional UPDATE (or the first INSERT), so it is atomic on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    SQLColumnExpression,
    and_,
    delete,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.models import Lease

SCHEDULER = "scheduler"
PROCESS = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
"""This process, as a holder of leases and of the claims they keep alive."""
PROCESS_LEASES = ("worker:", "inbox-worker:")
"""Prefixes of the leases each process takes in its own name; gone with the process."""
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
    """Give the lease up at a clean shutdown, so a successor need not wait for it to lapse. A
    lease named for this process alone (PROCESS_LEASES) is deleted: nobody will renew it."""
    with transaction(sessions) as session:
        if name.startswith(PROCESS_LEASES):
            session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
            return
        session.execute(
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
            .execution_options(synchronize_session=False)
        )


def forget_lapsed(sessions: sessionmaker[Session], now: datetime,
                  after: timedelta = timedelta(days=1)) -> int:
    """Delete the leases of processes that died without giving them up, once lapsed for
    `after` (long past any claim they kept alive); how many went."""
    with transaction(sessions) as session:
        gone = 0
        for prefix in PROCESS_LEASES:
            result = cast("CursorResult[Any]", session.execute(
                delete(Lease).where(Lease.name.startswith(prefix),
                                    Lease.expires_at < now - after)))
            gone += result.rowcount
        return gone


def worker_lease(holder: str) -> str:
    """The name of the lease that says a sending process is alive."""
    return f"worker:{holder}"


def unclaimed_or_abandoned(claimed_by: SQLColumnExpression[str | None],
                           claimed_at: SQLColumnExpression[datetime | None],
                           now: ColumnElement[datetime] | datetime,
                           stale: ColumnElement[datetime] | datetime) -> ColumnElement[bool]:
    """A row's claim is free to take: unclaimed, or claimed by a process that is gone (its
    worker lease lapsed; or, for a claimer that never held one, claimed before `stale`)."""
    lease_expiry = (
        select(Lease.expires_at)
        .where(Lease.name == literal("worker:") + claimed_by)
        .scalar_subquery()
    )
    return or_(
        claimed_by.is_(None),
        lease_expiry < now,
        and_(lease_expiry.is_(None), claimed_at < stale),
    )


def sending_alive(sessions: sessionmaker[Session], now: datetime) -> bool:
    """Whether a live process holds a worker lease: something sends the questions due."""
    with sessions() as session:
        return session.scalar(select(Lease.name).where(
            Lease.name.startswith(worker_lease("")), Lease.expires_at >= now).limit(1)) is not None
