"""Small select() helpers and one-time claims shared by the core."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, exists, insert, or_, select
from sqlalchemy.orm import Session

from storage.models import Delivery, Participant, ProcessedEvent, Reminder, Reply


def claim_events(session: Session, event_ids: list[str], now: datetime,
                 platform: str) -> set[str]:
    """Record platform event ids; returns those not processed before (the rest are retries)."""
    seen = set(session.scalars(select(ProcessedEvent.event_id).where(
        ProcessedEvent.event_id.in_(event_ids))))
    fresh = [e for e in dict.fromkeys(event_ids) if e not in seen]
    if fresh:
        session.execute(insert(ProcessedEvent), [
            {"event_id": e, "platform": platform, "received_at": now} for e in fresh])
    return set(fresh)


def forget_old_events(session: Session, before: datetime) -> int:
    """Drop ledger entries older than `before` (Slack stops retrying within hours; an answer's
    own unique id still guards it); how many went."""
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def reply_by_external_id(session: Session, round_id: int, external_id: str) -> Reply | None:
    return session.scalar(
        select(Reply).where(Reply.round_id == round_id, Reply.external_id == external_id)
    )


def replies_by_external_id(session: Session, external_id: str) -> list[Reply]:
    """Every reply with this external id, whatever the round (a chat message belongs to one)."""
    return list(session.scalars(select(Reply).where(Reply.external_id == external_id)))


def is_an_answer(votes: Mapping[int, Collection[str]]) -> ColumnElement[bool]:
    """A condition on replies: those that answer their question. `votes` holds, per round id,
    the ids of its rank and choice questions: to those, only a ballot is an answer (words
    written to one are a comment on it, and leave it waiting)."""
    return or_(Reply.choices.is_not(None), *(
        and_(Reply.round_id == round_id, Reply.prompt_id.not_in(list(prompt_ids)))
        for round_id, prompt_ids in votes.items()))


def in_a_round() -> ColumnElement[bool]:
    """Whether a participant is in some round: asked a question, answered, or reminded."""
    return (exists().where(Delivery.participant_id == Participant.id)
            | exists().where(Reply.participant_id == Participant.id)
            | exists().where(Reminder.participant_id == Participant.id))
