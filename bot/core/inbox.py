"""The inbox table's rules: what waits, what was set aside after failing, and giving it back.

(bot/app/inbox.py stores and handles the events; this is what `status` and `roundtable inbox`
read and change.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.core.said import Code, Said, said
from bot.core.wording import counted
from storage.models import InboxEvent

BATCH = 500
"""Events handled in one transaction at most. Large batches make a burst cheap (a person's
answers in one batch share the reading of their conversation)."""
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Received:
    """One stored event, as its platform's adapter translated it."""

    id: int
    platform: str
    event_id: str
    payload: dict[str, Any]


def backlog(session: Session, platform: str | None = None) -> tuple[int, int]:
    """(events waiting to be handled, events set aside after MAX_ATTEMPTS failures)."""
    set_aside = case((InboxEvent.attempts >= MAX_ATTEMPTS, 1), else_=0)
    query = select(func.count(), func.coalesce(func.sum(set_aside), 0))
    if platform is not None:
        query = query.where(InboxEvent.platform == platform)
    total, aside = session.execute(query).one()
    return int(total) - int(aside), int(aside)


def backlog_line(session: Session) -> Said | None:
    """What `status` says about the inbox, when there is something to say."""
    waiting, aside = backlog(session)
    if aside:
        return said(f"{counted(aside, 'incoming message')} could not be handled after "
                    f"{MAX_ATTEMPTS} tries; they are kept word for word (",
                    Code("roundtable inbox list"), ", then ", Code("roundtable inbox retry"),
                    " once the cause is fixed)")
    if waiting > BATCH:
        return said(f"{waiting} incoming messages are waiting to be handled")
    return None


def set_aside(session: Session) -> list[InboxEvent]:
    """The events that failed MAX_ATTEMPTS times, oldest first (kept word for word)."""
    return list(session.scalars(select(InboxEvent).where(InboxEvent.attempts >= MAX_ATTEMPTS)
                                .order_by(InboxEvent.id)))


def retry_set_aside(session: Session) -> int:
    """Give set-aside events their tries back (after the cause is fixed); how many."""
    events = set_aside(session)
    for event in events:
        event.attempts = 0
    return len(events)
