"""A confirmation (or an offer) just posted, whose words were taken back while the platform
was answering: how to take it down instead of recording it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.answers import asked_again
from bot.core.bot_messages import TakeDown, rounds_standing
from bot.core.ports import Sent
from bot.core.questions import deleted
from bot.core.replies import is_answered
from storage.models import Participant, Reply


def gone_since_posted(session: Session, platform: str, sent: Sent, participant_id: int,
                      round_id: int, answer_ids: Sequence[str]) -> TakeDown | None:
    """How to take down a confirmation just posted, of these answers of the round, whose
    words no longer all stand; None when they do (it is to be recorded). Its author
    forgotten, or its round deleted (or purged), since: deleted, as forget-me and a round's
    deletion delete those recorded (so too an offer, which confirms no answer, whose button
    holds its author's words). One of its answers deleted: it says so, as the deletion's
    acknowledgement does, when it confirms that answer alone; else deleted.

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
        return TakeDown(platform, sent)
    standing = {r.external_id for r in replies if r.deleted_at is None}
    if all(a in standing for a in answer_ids):
        return None
    gone = [r for r in replies if r.deleted_at is not None]
    asked = asked_again(session, round_id, person, gone[0].prompt_id
                        ) if len(answer_ids) == 1 and gone else None
    if asked is None:
        return TakeDown(platform, sent)
    rest = is_answered(session, round_id, participant_id, asked.prompt.id)
    return TakeDown(platform, sent, deleted(asked, rest))
