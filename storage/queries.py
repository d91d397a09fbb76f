"""Small select() helpers and one-time claims shared by the core."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import ProcessedEvent, Reply


def claim_event(session: Session, event_id: str, now: datetime, platform: str = "slack") -> bool:
    """Record a platform event id; False when it was already processed (a retry)."""
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id, platform=platform, received_at=now))
    except IntegrityError:
        return False
    return True


def reply_by_external_id(session: Session, round_id: int, external_id: str) -> Reply | None:
    return session.scalar(
        select(Reply).where(Reply.round_id == round_id, Reply.external_id == external_id)
    )


def replies_by_external_id(session: Session, external_id: str) -> list[Reply]:
    """Every reply with this external id, whatever the round (a chat message belongs to one)."""
    return list(session.scalars(select(Reply).where(Reply.external_id == external_id)))
