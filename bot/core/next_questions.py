"""Questions one at a time: which question comes next for someone, queued on their delivery
once they have none waiting (answered or skipped every one asked)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.rounds import round_pack, vote_questions
from storage.models import Delivery, QuestionMessage, Reply
from storage.queries import is_an_answer


def still_waiting(asked: Iterable[tuple[str, datetime | None]], answered: Collection[str]
                  ) -> list[str]:
    """Of the questions asked (prompt id, when skipped), those still waiting for the person:
    neither answered nor skipped, in the order asked."""
    return [p for p, skipped in asked if p not in answered and skipped is None]


def ask_next(session: Session, asked: Iterable[tuple[int, int]], now: datetime) -> int:
    """Queue the next question for each (round id, participant id) whose person has no
    question waiting any more (each asked one is answered or skipped): the first of the pack,
    in order, neither asked nor answered. Returns how many were queued.

    Call it in the transaction that stored the answers or the skip; a few queries for any
    number of people.
    """
    pairs = set(asked)
    if not pairs:
        return 0
    # Locked whether or not a question is queued on them: a sender finishing one waits for
    # this transaction, then sees its answers and queues the next (see send_delivery).
    deliveries = session.scalars(select(Delivery).where(
        Delivery.round_id.in_({r for r, _ in pairs}),
        Delivery.participant_id.in_({p for _, p in pairs}))
        .order_by(Delivery.id).with_for_update()).all()  # one order: no deadlock between two
    deliveries = [d for d in deliveries if (d.round_id, d.participant_id) in pairs
                  and d.state == "sent" and d.next_prompt_id is None
                  and d.round.status == "open"]
    if not deliveries:
        return 0
    asked_by: dict[int, dict[str, datetime | None]] = {}
    for delivery_id, prompt_id, skipped_at in session.execute(
            select(QuestionMessage.delivery_id, QuestionMessage.prompt_id,
                   QuestionMessage.skipped_at)
            .where(QuestionMessage.delivery_id.in_([d.id for d in deliveries]),
                   QuestionMessage.prompt_id.is_not(None))):
        asked_by.setdefault(delivery_id, {})[str(prompt_id)] = skipped_at
    answered: dict[tuple[int, int], set[str]] = {}
    for round_id, participant_id, prompt_id in session.execute(
            select(Reply.round_id, Reply.participant_id, Reply.prompt_id).where(
                Reply.round_id.in_({d.round_id for d in deliveries}),
                Reply.participant_id.in_({d.participant_id for d in deliveries}),
                Reply.deleted_at.is_(None),
                is_an_answer(vote_questions(d.round for d in deliveries))).distinct()):
        answered.setdefault((round_id, participant_id), set()).add(prompt_id)
    packs = {d.round_id: round_pack(d.round) for d in deliveries}
    queued = 0
    for delivery in deliveries:
        done = answered.get((delivery.round_id, delivery.participant_id), set())
        asked_here = asked_by.get(delivery.id, {})
        if still_waiting(asked_here.items(), done):
            continue  # a question is still waiting for them
        following = next((p.id for p in packs[delivery.round_id].prompts
                          if p.id not in asked_here and p.id not in done), None)
        if following is not None:
            delivery.next_prompt_id = following
            delivery.follow_up_at = now
            delivery.not_before = None
            delivery.attempts = 0
            queued += 1
    return queued

