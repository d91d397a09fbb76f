"""Homes owed: someone's own page of the app (Slack's App Home) to publish again after a change
only a use case knows of (a round deleted, someone forgotten, a round's answers deleted by
retention).

The row is written in the transaction that makes the change, so that it is as durable as the
change, whichever process makes it (a command line with no token included); a process signed
in to the platform claims it (its worker lease keeps the claim alive), publishes the person's
home as it is then, and deletes it. All the rows of one person waiting when they are claimed
are published once; one written after that is a later change, published again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from bot.core.sending import CLAIM_GRACE
from storage.leases import unclaimed_or_abandoned
from storage.models import HomeOwed

PEOPLE_AT_ONCE = 100
"""People claimed in one transaction at most (the rest at the next claim)."""
KEPT = timedelta(days=1)
"""A home owed on a platform no process publishes from is dropped after this long (retention):
the person's next opening of it shows it as it is."""

Home = tuple[str, str]
"""Whose home: (platform, their user id on it)."""


def owe_homes(session: Session, homes: Iterable[Home], now: datetime) -> None:
    """Record, in the transaction that changes what these homes show, that they are to be
    published again (each person once)."""
    rows = [{"platform": platform, "user_id": user_id, "created_at": now}
            for platform, user_id in dict.fromkeys(homes)]
    if rows:
        session.execute(insert(HomeOwed), rows)


def claim_homes(session: Session, platforms: Sequence[str], now: datetime, worker: str
                ) -> dict[Home, list[int]]:
    """Claim for `worker` the homes owed on these platforms (unclaimed, claimed by a process
    that is gone, or by `worker` itself already), the longest waiting first: each person with
    the ids of every row of theirs that was free."""
    if not platforms:
        return {}
    # its own claims too: rows left by a step of its loop that failed
    free = or_(unclaimed_or_abandoned(HomeOwed.claimed_by, HomeOwed.claimed_at, now,
                                      now - CLAIM_GRACE), HomeOwed.claimed_by == worker)
    people = session.execute(
        select(HomeOwed.platform, HomeOwed.user_id)
        .where(HomeOwed.platform.in_(platforms), free)
        .group_by(HomeOwed.platform, HomeOwed.user_id)
        .order_by(func.min(HomeOwed.id))
        .limit(PEOPLE_AT_ONCE)).all()
    claimed: dict[Home, list[int]] = {}
    for platform in dict.fromkeys(p for p, _ in people):
        user_ids = [u for p, u in people if p == platform]
        for row_id, user_id in session.execute(
                update(HomeOwed)
                .where(HomeOwed.platform == platform, HomeOwed.user_id.in_(user_ids), free)
                .values(claimed_by=worker, claimed_at=now)
                .returning(HomeOwed.id, HomeOwed.user_id)
                .execution_options(synchronize_session=False)):
            claimed.setdefault((platform, user_id), []).append(row_id)
    return claimed


def published(session: Session, row_ids: Sequence[int]) -> None:
    """These rows' home is published: owed no more."""
    if row_ids:
        session.execute(delete(HomeOwed).where(HomeOwed.id.in_(row_ids)))


def forget_stale_homes(session: Session, now: datetime) -> int:
    """Drop the homes owed for longer than KEPT (no process published them): they hold
    people's ids."""
    result = session.execute(delete(HomeOwed).where(HomeOwed.created_at < now - KEPT))
    return int(getattr(result, "rowcount", 0) or 0)
