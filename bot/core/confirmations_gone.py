"""A confirmation (or an offer) just posted, whose words were taken back while the platform
was answering: how to take it down, or what it says instead, rather than record it as it
was posted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.answers import asked_again
from bot.core.bot_messages import TakeDown, rounds_standing
from bot.core.confirmed_together import as_they_stand
from bot.core.ports import Sent
from bot.core.questions import deleted, deleted_among
from bot.core.replies import is_answered
from storage.models import Participant, Reply


@dataclass(frozen=True)
class SincePosted:
    """What becomes of a confirmation just posted, its words as they stand now."""

    record: bool
    """Whether to record where it landed: it still names answers that an edit or a
    deletion of one of them finds it by."""
    change: TakeDown | None = None
    """How to take it down, or what it says instead, when its words no longer all stand."""


def since_posted(session: Session, platform: str, sent: Sent, participant_id: int,
                 round_id: int, answer_ids: Sequence[str]) -> SincePosted:
    """What becomes of a confirmation just posted, of these answers of the round. Its words
    all standing: recorded. Its author forgotten, or its round deleted (or purged), since:
    deleted, as forget-me and a round's deletion delete those recorded (so too an offer,
    which confirms no answer, whose button holds its author's words). Its one answer
    deleted: it says so, as the deletion's acknowledgement does. Some of several deleted:
    recorded, and it says which are deleted and which stay saved, as a deletion of one of
    them says in a confirmation recorded before.

    Called in the transaction that records it, it locks the rows it reads: its round's
    (forget-me and a round's deletion lock the round first), then the answers' (a
    deletion of an answer changes its row first), then its author's: a deletion committed
    while the confirmation was being posted is seen here, and one committed after finds
    the record (a deletion of an answer looks for its confirmation once it has committed;
    forget-me and a round's deletion or purge look again, `words_recorded_since` and
    `words_recorded_in`)."""
    round_stands = bool(rounds_standing(session, [round_id]))
    replies = list(session.scalars(select(Reply).where(
        Reply.round_id == round_id, Reply.external_id.in_(answer_ids))
        .order_by(Reply.id).with_for_update())) if answer_ids else []
    person = session.scalar(select(Participant).where(Participant.id == participant_id)
                            .with_for_update(key_share=True))
    if person is None or not round_stands:
        return SincePosted(False, TakeDown(platform, sent))
    standing = {r.external_id for r in replies if r.deleted_at is None}
    if all(a in standing for a in answer_ids):
        return SincePosted(True)
    if len(answer_ids) > 1:
        left, gone = as_they_stand(session, [(round_id, a) for a in answer_ids])
        if gone:
            return SincePosted(True, TakeDown(platform, sent, deleted_among(
                [(g.asked, g.rest) for g in gone], [s.asked for s in left])))
        return SincePosted(False, TakeDown(platform, sent))
    deleted_reply = next((r for r in replies if r.deleted_at is not None), None)
    asked = None if deleted_reply is None else asked_again(session, round_id, person,
                                                           deleted_reply.prompt_id)
    if asked is None:
        return SincePosted(False, TakeDown(platform, sent))
    rest = is_answered(session, round_id, participant_id, asked.prompt.id)
    return SincePosted(False, TakeDown(platform, sent, deleted(asked, rest)))
