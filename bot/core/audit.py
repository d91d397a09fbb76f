"""The audit log: who started, closed, posted, exported, reviewed which round; who ran
forget-me, my-data or a purge; who added or removed a facilitator; when.

An entry names people by platform and user id (`slack:U0123`), the operator at the command
line as `cli` and the schedule as `scheduler`. It never holds the words of an answer, and
never the id of someone who asked to be forgotten: their forget-me is recorded as done by
FORGOTTEN, and their id is replaced by it in earlier entries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import AuditEntry

OPERATOR = "cli"
SCHEDULER = "scheduler"
FORGOTTEN = "a forgotten person"


def person(platform: str, user_id: str) -> str:
    """How the log names someone on a platform."""
    return f"{platform}:{user_id}"


def record(session: Session, at: datetime, actor: str, action: str, *,
           round_id: int | None = None, subject: str | None = None, detail: str = "") -> None:
    """Add an entry in the caller's transaction (so it stands or falls with what it records)."""
    session.add(AuditEntry(at=at, actor=actor, action=action, round_id=round_id,
                           subject=subject, detail=detail[:1000]))


def recorded(session: Session, action: str, round_id: int | None, detail: str) -> bool:
    """Whether an entry of this action, round (None: of no round) and detail is in the log."""
    of_round = (AuditEntry.round_id.is_(None) if round_id is None
                else AuditEntry.round_id == round_id)
    return session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == action, of_round, AuditEntry.detail == detail).limit(1)
    ) is not None


def done_to_round(session: Session, action: str, round_id: int) -> bool:
    """Whether the log has an entry of this action on this round (`round.delete`: whether a
    round that is gone was deleted, rather than never there)."""
    return session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == action, AuditEntry.round_id == round_id).limit(1)) is not None


def entries(session: Session, round_id: int | None = None, limit: int = 200
            ) -> list[AuditEntry]:
    """The newest entries (of one round, when given), oldest first."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if round_id is not None:
        query = query.where(AuditEntry.round_id == round_id)
    return list(reversed(session.scalars(query).all()))


def line(entry: AuditEntry) -> str:
    """One entry as a line of text."""
    parts = [f"{entry.at:%Y-%m-%d %H:%M:%S} UTC", entry.actor, entry.action]
    if entry.round_id is not None:
        parts.append(f"round {entry.round_id}")
    if entry.subject:
        parts.append(entry.subject)
    if entry.detail:
        parts.append(entry.detail)
    return "  ".join(parts)


def forget_person(session: Session, who: str) -> int:
    """Replace someone's id by FORGOTTEN wherever the log names them; how many entries."""
    changed = 0
    for column in (AuditEntry.actor, AuditEntry.subject):
        result = session.execute(update(AuditEntry).where(column == who).values(
            {column.key: FORGOTTEN}))
        changed += int(getattr(result, "rowcount", 0) or 0)
    return changed
