"""Confirmations owed: an answer saved is owed its confirmation, recorded in the transaction
that saves it, so that the confirmation is as durable as the answer.

The row is claimed by the process that saved the answer (as deliveries are: its worker lease
keeps the claim alive) and deleted once the confirmation is posted (`confirmed`). A process that
dies first leaves its rows claimed by a lease that lapses; the next process to look
(`take_over`) claims them and posts them, the answers as they stand then: one deleted since is
owed nothing (`not_owed`, or found so), one edited is confirmed in its words now (the message
saying it was updated is not owed: the confirmation, when it comes, has the words as edited).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from bot.core.answers import as_it_stands
from bot.core.ports import Where
from bot.core.questions import Saved
from bot.core.sending import CLAIM_GRACE
from storage.leases import unclaimed_or_abandoned
from storage.models import OwedConfirmation, Participant

TAKEN_AT_ONCE = 500
"""Rows taken over in one transaction at most (the rest at the next look)."""


@dataclass(frozen=True)
class Owed:
    """A confirmation to post: where, and the answer as it stands."""

    platform: str
    where: Where
    saved: Saved


def owe(
    session: Session,
    platform: str,
    where: Where,
    saved: Sequence[Saved],
    now: datetime,
    worker: str,
) -> None:
    """Record that these answers, saved in this transaction, are owed their confirmation,
    which `worker` (this process) will post."""
    rows = [
        {
            "platform": platform,
            "channel_id": where.channel_id,
            "thread_id": where.thread_id,
            "round_id": s.asked.round_id,
            "participant_id": s.asked.participant.id,
            "prompt_id": s.asked.prompt.id,
            "answer_id": s.external_id,
            "vote": not isinstance(s.answer, str),
            "updated": s.updated,
            "files_dropped": s.files_dropped,
            "added": s.added,
            "claimed_by": worker,
            "claimed_at": now,
            "created_at": now,
        }
        for s in saved
        if s.external_id is not None
    ]
    if rows:
        session.execute(insert(OwedConfirmation), rows)


def confirmed(session: Session, platform: str, round_id: int, answer_ids: Sequence[str]) -> None:
    """These answers' confirmation is posted: nothing more is owed for them."""
    if answer_ids:
        session.execute(
            delete(OwedConfirmation).where(
                OwedConfirmation.platform == platform,
                OwedConfirmation.round_id == round_id,
                OwedConfirmation.answer_id.in_(answer_ids),
            )
        )


def not_owed(session: Session, platform: str, answer_id: str) -> None:
    """The answer was deleted: it is owed no confirmation."""
    session.execute(
        delete(OwedConfirmation).where(
            OwedConfirmation.platform == platform, OwedConfirmation.answer_id == answer_id
        )
    )


def take_over(session: Session, platforms: Sequence[str], now: datetime, worker: str) -> list[Owed]:
    """Claim for `worker` the confirmations owed by processes that are gone, on these
    platforms, oldest first: the answers as they stand now. Those of answers deleted since
    are owed nothing more."""
    free = unclaimed_or_abandoned(
        OwedConfirmation.claimed_by, OwedConfirmation.claimed_at, now, now - CLAIM_GRACE
    )
    waiting = list(
        session.scalars(
            select(OwedConfirmation.id)
            .where(OwedConfirmation.platform.in_(platforms), free)
            .order_by(OwedConfirmation.id)
            .limit(TAKEN_AT_ONCE)
        )
    )
    if not waiting:
        return []
    claimed = set(
        session.scalars(
            update(OwedConfirmation)
            .where(OwedConfirmation.id.in_(waiting), free)
            .values(claimed_by=worker, claimed_at=now)
            .returning(OwedConfirmation.id)
            .execution_options(synchronize_session=False)
        )
    )
    owed: list[Owed] = []
    gone: list[int] = []
    for row in session.scalars(
        select(OwedConfirmation)
        .where(OwedConfirmation.id.in_(claimed))
        .order_by(OwedConfirmation.id)
    ):
        saved = as_it_stands(
            session,
            row.round_id,
            session.get_one(Participant, row.participant_id),
            row.prompt_id,
            row.answer_id,
            vote=row.vote,
            updated=row.updated,
            files_dropped=row.files_dropped,
            added=row.added,
        )
        if saved is None:
            gone.append(row.id)
        else:
            owed.append(Owed(row.platform, Where(row.channel_id, row.thread_id), saved))
    if gone:
        session.execute(delete(OwedConfirmation).where(OwedConfirmation.id.in_(gone)))
    return owed
