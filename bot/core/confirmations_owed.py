"""Acknowledgements owed: every change someone made that the bot will acknowledge (an answer
saved, edited or deleted) and every reply the bot owes them (a notice, a reply to a greeting)
is owed in the database, recorded in the transaction that makes the change, so that the
acknowledgement is as durable as the change.

The row is claimed by the process that made the change (as deliveries are: its worker lease
keeps the claim alive) and deleted once the acknowledgement is posted (`confirmed` for an
answer's confirmation, `discharged` for the others). A process that dies first leaves its rows
claimed by a lease that lapses; the next process to look (`take_over`) claims them and posts
them, saying what stands then: an answer deleted since is owed nothing (`not_owed`, or found
so), not even that an edit of it was taken; one edited is confirmed in its words now (the
message saying it was updated is not owed when its confirmation is taken over with it: the
confirmation has the words as edited). What is owed about a round (a notice naming one of
its questions included) goes with it when it is deleted or retention deletes its answers, and
what is owed to someone goes with them (forget-me).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from bot.core.answers import as_it_stands, asked_again
from bot.core.incoming import Kept
from bot.core.ports import Where
from bot.core.questions import Asked, Saved
from bot.core.replies import is_answered
from bot.core.said import Said, from_parts, to_parts
from bot.core.sending import CLAIM_GRACE
from storage.leases import unclaimed_or_abandoned
from storage.models import OwedConfirmation, OwedKind, Participant
from storage.queries import replies_by_external_id

KEPT = timedelta(days=1)
"""An acknowledgement no process posted (its platform served by none) is dropped after this
long (retention): it may hold the person's words, and said a day late it says little."""
TAKEN_AT_ONCE = 500
"""Rows taken over in one transaction at most (the rest at the next look)."""

Owing = tuple[int, ...]
"""The rows (ids) an acknowledgement discharges once it is posted."""


@dataclass(frozen=True)
class Revised:
    """An answer edited: to confirm as updated."""

    saved: Saved
    owed: Owing = ()


@dataclass(frozen=True)
class Withdrawn:
    """An answer deleted: its confirmation should stop repeating it."""

    asked: Asked
    answer_id: str
    rest: bool = False
    """Other words the person wrote to the question still answer it."""
    owed: Owing = ()


@dataclass(frozen=True)
class ConfirmationOf:
    """An answer whose confirmation a notice is: by its round and id, and whose it is."""

    round_id: int
    answer_id: str
    participant_id: int


@dataclass(frozen=True)
class Notice:
    """A short notice (what could not be saved, and why; what a word typed alone does)."""

    said: Said
    owed: Owing = ()
    instead_of: ConfirmationOf | None = None
    """The answer (a comment on a vote's question, or a vote become one) that the notice
    says what became of: said in place of its confirmation, where that is known; else
    posted, and kept as its confirmation, so that what becomes of it next replaces it."""


@dataclass(frozen=True)
class Offered:
    """Words not taken as an answer: the bot's reply, with a button to save them as one."""

    said: Said
    kept: Kept
    participant_id: int
    """Whose words its button carries (forget-me deletes it)."""
    owed: Owing = ()


@dataclass(frozen=True)
class Settled:
    """An offer whose words were saved otherwise: what it says instead."""

    answer_id: str
    """The id the words it holds were saved under."""
    said: Said
    owed: Owing = ()


Acknowledgement = Saved | Revised | Withdrawn | Notice | Offered | Settled


@dataclass(frozen=True)
class Owed:
    """An acknowledgement to post: where, and what, as it stands."""

    platform: str
    where: Where
    what: Acknowledgement


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
            **_answer(s),
            **_owed_by(platform, where, now, worker),
            "updated": s.updated,
            "added": s.added,
        }
        for s in saved
        if s.external_id is not None
    ]
    if rows:
        session.execute(insert(OwedConfirmation), rows)


def owe_revision(session: Session, platform: str, where: Where, saved: Saved, now: datetime,
                 worker: str) -> Owing:
    """Record that this edit of an answer, made in this transaction, is owed its
    acknowledgement (that the answer was updated)."""
    if saved.external_id is None:
        return ()
    return _owe_one(session, kind=OwedKind.REVISED, **_answer(saved),
                    **_owed_by(platform, where, now, worker))


def owe_withdrawal(session: Session, platform: str, where: Where, asked: Asked, answer_id: str,
                   now: datetime, worker: str) -> Owing:
    """Record that this deletion of an answer, made in this transaction, is owed its
    acknowledgement (the answer's confirmation says it is deleted)."""
    return _owe_one(session, kind=OwedKind.WITHDRAWN, round_id=asked.round_id,
                    participant_id=asked.participant.id, prompt_id=asked.prompt.id,
                    answer_id=answer_id, **_owed_by(platform, where, now, worker))


def owe_notice(session: Session, platform: str, where: Where, said: Said, now: datetime,
               worker: str, about: Asked | None = None, instead_of: str | None = None
               ) -> Owing:
    """Record that this notice is owed (`about`: the question it speaks of, when it speaks
    of one; `instead_of`: the answer to it whose confirmation it is). A notice about
    a question names it, may restate it, and says what became of the person's words to it:
    the deletion of its round, or forget-me, deletes it (their rows'), so that a process
    taking over does not post it."""
    return _owe_one(session, kind=OwedKind.NOTICE, said=to_parts(said),
                    round_id=about.round_id if about is not None else None,
                    participant_id=about.participant.id if about is not None else None,
                    answer_id=instead_of if about is not None else None,
                    **_owed_by(platform, where, now, worker))


def owe_offer(session: Session, platform: str, where: Where, offered: Offered, answer_id: str,
              now: datetime, worker: str) -> Owing:
    """Record that this reply to words not taken as an answer is owed, with its button
    (`answer_id`: the id the words would be saved under)."""
    return _owe_one(session, kind=OwedKind.OFFER, said=to_parts(offered.said),
                    kept=offered.kept.to_data(), round_id=offered.kept.round_id,
                    participant_id=offered.participant_id, answer_id=answer_id,
                    **_owed_by(platform, where, now, worker))


def owe_settling(session: Session, platform: str, where: Where, answer_id: str, said: Said,
                 now: datetime, worker: str, participant_id: int | None = None) -> Owing:
    """Record that the offer holding the words saved under `answer_id` is owed its change to
    `said`."""
    return _owe_one(session, kind=OwedKind.SETTLED, said=to_parts(said), answer_id=answer_id,
                    participant_id=participant_id, **_owed_by(platform, where, now, worker))


def _answer(saved: Saved) -> dict[str, Any]:
    return {
        "round_id": saved.asked.round_id,
        "participant_id": saved.asked.participant.id,
        "prompt_id": saved.asked.prompt.id,
        "answer_id": saved.external_id,
        "vote": not isinstance(saved.answer, str),
        "files_dropped": saved.files_dropped,
    }


def _owed_by(platform: str, where: Where, now: datetime, worker: str) -> dict[str, Any]:
    return {"platform": platform, "channel_id": where.channel_id, "thread_id": where.thread_id,
            "claimed_by": worker, "claimed_at": now, "created_at": now}


def _owe_one(session: Session, **values: Any) -> Owing:
    return (session.scalars(insert(OwedConfirmation).values(**values)
                            .returning(OwedConfirmation.id)).one(),)


def confirmed(session: Session, platform: str, round_id: int, answer_ids: Sequence[str]) -> None:
    """These answers' confirmation is posted: nothing more is owed for them (their edits'
    acknowledgements are owed still)."""
    if answer_ids:
        session.execute(
            delete(OwedConfirmation).where(
                OwedConfirmation.platform == platform,
                OwedConfirmation.kind == OwedKind.SAVED,
                OwedConfirmation.round_id == round_id,
                OwedConfirmation.answer_id.in_(answer_ids),
            )
        )


def discharged(session: Session, owed: Sequence[int]) -> None:
    """These acknowledgements are posted (or given up): owed no more."""
    if owed:
        session.execute(delete(OwedConfirmation).where(OwedConfirmation.id.in_(owed)))


def still_owed(session: Session, owed: Sequence[int]) -> set[int]:
    """Those of these rows that are owed still: a row about a round deleted since (or whose
    answers retention deleted), or owed to someone forgotten since, is gone with them."""
    if not owed:
        return set()
    return set(session.scalars(select(OwedConfirmation.id).where(
        OwedConfirmation.id.in_(owed))))


def not_owed(session: Session, platform: str, answer_id: str) -> None:
    """The message was deleted: as an answer, it is owed no confirmation, nor any
    acknowledgement of its edits; as words not taken as one, no offer to save them (whose
    button would hold them)."""
    session.execute(
        delete(OwedConfirmation).where(
            OwedConfirmation.platform == platform,
            OwedConfirmation.kind.in_((OwedKind.SAVED, OwedKind.REVISED, OwedKind.OFFER)),
            OwedConfirmation.answer_id == answer_id,
        )
    )


def take_over(session: Session, platforms: Sequence[str], now: datetime, worker: str) -> list[Owed]:
    """Claim for `worker` the acknowledgements owed by processes that are gone, on these
    platforms, oldest first, as they stand now. Those of answers deleted since are owed
    nothing more; an edit taken over with its answer's confirmation is confirmed by it."""
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
    rows = list(session.scalars(select(OwedConfirmation).where(OwedConfirmation.id.in_(claimed))
                                .order_by(OwedConfirmation.id)))
    confirming = {(r.platform, r.answer_id) for r in rows if r.kind == OwedKind.SAVED}
    last_edit = {(r.platform, r.answer_id): r.id for r in rows if r.kind == OwedKind.REVISED}
    owed: list[Owed] = []
    gone: list[int] = []
    for row in rows:
        what = None
        if row.kind != OwedKind.REVISED or (
                (row.platform, row.answer_id) not in confirming
                and last_edit[(row.platform, row.answer_id)] == row.id):
            what = _as_it_stands(session, row)
        if what is None:
            gone.append(row.id)
        else:
            owed.append(Owed(row.platform, Where(row.channel_id, row.thread_id), what))
    if gone:
        session.execute(delete(OwedConfirmation).where(OwedConfirmation.id.in_(gone)))
    return owed


def _as_it_stands(session: Session, row: OwedConfirmation) -> Acknowledgement | None:
    """What the row owes, as things stand now; None when nothing is owed any more."""
    owing = (row.id,)
    if row.said is not None:
        said = from_parts(row.said)
        if row.kind == OwedKind.OFFER and row.kept is not None and row.participant_id is not None:
            if row.answer_id is not None and replies_by_external_id(session, row.answer_id):
                return None  # its words were saved since: their confirmation says so
            return Offered(said, Kept.from_data(row.kept), row.participant_id, owing)
        if row.kind == OwedKind.SETTLED and row.answer_id is not None:
            return Settled(row.answer_id, said, owing)
        instead_of = None
        if row.kind == OwedKind.NOTICE and row.round_id is not None \
                and row.answer_id is not None and row.participant_id is not None:
            instead_of = ConfirmationOf(row.round_id, row.answer_id, row.participant_id)
        return Notice(said, owing, instead_of)
    if row.round_id is None or row.participant_id is None or row.prompt_id is None \
            or row.answer_id is None:
        return None
    person = session.get_one(Participant, row.participant_id)
    if row.kind == OwedKind.WITHDRAWN:
        asked = asked_again(session, row.round_id, person, row.prompt_id)
        if asked is None:
            return None
        rest = is_answered(session, row.round_id, person.id, row.prompt_id)
        return Withdrawn(asked, row.answer_id, rest, owing)
    saved = as_it_stands(session, row.round_id, person, row.prompt_id, row.answer_id,
                         vote=row.vote, updated=row.updated, files_dropped=row.files_dropped,
                         added=row.added)
    if saved is None:
        return None
    return Revised(replace(saved, updated=True), owing) if row.kind == OwedKind.REVISED else saved


def forget_owed(session: Session, now: datetime, round_id: int | None = None) -> int:
    """Drop the acknowledgements owed about `round_id` (its answers are being deleted), or,
    without one, those owed for longer than KEPT; how many were."""
    whose = (OwedConfirmation.round_id == round_id if round_id is not None
             else OwedConfirmation.created_at < now - KEPT)
    result = session.execute(delete(OwedConfirmation).where(whose))
    return int(getattr(result, "rowcount", 0) or 0)
