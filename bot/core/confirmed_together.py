"""Confirmations of several answers (bot_messages.confirmations_repeating) as their answers
stand now: what an edit of one of them brings such a confirmation up to, and what a deletion
of one leaves it saying."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.answers import as_it_stands, asked_again
from bot.core.bot_messages import confirmations_repeating
from bot.core.ports import Sent
from bot.core.questions import Asked, Saved
from bot.core.replies import is_answered
from storage.models import Reply


@dataclass(frozen=True)
class Gone:
    """An answer a confirmation repeated, deleted since."""

    asked: Asked
    rest: bool
    """Other words the person wrote to the question still answer it."""


@dataclass(frozen=True)
class Together:
    """A confirmation of several answers, one of them being changed, as they stand now."""

    sent: Sent
    standing: list[Saved]
    """Those it repeats that stand, as they stand now, in the order it shows them (those
    whose files it said were not kept still say so)."""
    gone: list[Gone]
    """Those deleted (their words replaced by the acknowledgement of a deletion)."""


def confirmed_together(session: Session, platform: str, round_id: int, answer_id: str
                       ) -> list[Together]:
    """The confirmations of several answers repeating this one, as their answers stand."""
    return [Together(repeated.sent, *as_they_stand(session, repeated.answers,
                                                    repeated.files_dropped))
            for repeated in confirmations_repeating(session, platform, round_id, answer_id)]


def as_they_stand(session: Session, answers: Sequence[tuple[int, str]],
                  files_dropped: Collection[tuple[int, str]] = frozenset()
                  ) -> tuple[list[Saved], list[Gone]]:
    """These answers, (round, external id) in the order a confirmation shows them: those
    that stand, as they stand now (`files_dropped`: those whose files it said were not
    kept), and those deleted since."""
    standing: list[Saved] = []
    gone: list[Gone] = []
    for round_of, one in answers:
        reply = session.scalar(select(Reply).where(Reply.round_id == round_of,
                                                   Reply.external_id == one))
        if reply is None:
            continue  # its round deleted, or its author forgotten: nothing to name
        saved = _as_it_stands(session, reply) if reply.deleted_at is None else None
        if saved is not None:
            standing.append(replace(saved, files_dropped=(round_of, one) in files_dropped))
            continue
        asked = asked_again(session, round_of, reply.participant, reply.prompt_id)
        if asked is not None:
            gone.append(Gone(asked, is_answered(session, round_of, reply.participant_id,
                                                reply.prompt_id)))
    return standing, gone


def _as_it_stands(session: Session, reply: Reply) -> Saved | None:
    """The answer as its confirmation shows it now: words written to a question answered
    before them are shown as added."""
    if reply.external_id is None:
        return None
    vote = reply.choices is not None
    added = not vote and is_answered(session, reply.round_id, reply.participant_id,
                                     reply.prompt_id, before=reply.id)
    return as_it_stands(session, reply.round_id, reply.participant, reply.prompt_id,
                        reply.external_id, vote=vote, added=added)
