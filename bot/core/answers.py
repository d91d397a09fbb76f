"""Which question a chat message answers: a reply in a question's thread answers that question;
any other message in the conversation answers the question that is waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.errors import NotFound
from bot.core.packs import Prompt
from bot.core.replies import Recorded, record_reply
from bot.core.rounds import round_pack
from storage.models import Delivery, Participant, QuestionMessage, Reply, Round


@dataclass(frozen=True)
class Asked:
    """A question someone was asked in a conversation."""

    round_id: int
    participant: Participant
    prompt: Prompt
    number: int


def question_in_thread(session: Session, channel_id: str, thread_ts: str) -> Asked | None:
    """The question whose message starts this thread (None for the intro or unknown threads)."""
    row = session.execute(
        select(QuestionMessage, Delivery)
        .join(Delivery, Delivery.id == QuestionMessage.delivery_id)
        .where(QuestionMessage.channel_id == channel_id, QuestionMessage.message_ts == thread_ts)
    ).first()
    if row is None or row[0].prompt_id is None:
        return None
    return _asked(row[1], row[0].prompt_id)


def waiting_question(session: Session, channel_id: str) -> Asked | None:
    """The question a plain message in this conversation answers.

    Of the newest open round asked here: the first text question the person has not answered
    yet, in the order they were asked; when all are answered, the last text question asked.
    """
    delivery = session.scalar(
        select(Delivery)
        .join(Round, Round.id == Delivery.round_id)
        .where(Delivery.channel_id == channel_id, Round.status == "open")
        .order_by(Delivery.round_id.desc())
    )
    if delivery is None:
        return None
    asked = list(
        session.scalars(
            select(QuestionMessage.prompt_id)
            .where(QuestionMessage.delivery_id == delivery.id,
                   QuestionMessage.prompt_id.is_not(None))
            .order_by(QuestionMessage.id)
        )
    )
    pack = round_pack(delivery.round)
    text_asked = [pid for pid in asked if (p := pack.prompt(pid or "")) and p.kind == "text"]
    if not text_asked:
        return None
    answered = set(
        session.scalars(
            select(Reply.prompt_id).where(
                Reply.round_id == delivery.round_id,
                Reply.participant_id == delivery.participant_id,
                Reply.deleted_at.is_(None),
            )
        )
    )
    waiting = next((pid for pid in text_asked if pid not in answered), text_asked[-1])
    return _asked(delivery, waiting or "")


def _asked(delivery: Delivery, prompt_id: str) -> Asked | None:
    pack = round_pack(delivery.round)
    for number, prompt in enumerate(pack.prompts, start=1):
        if prompt.id == prompt_id:
            return Asked(delivery.round_id, delivery.participant, prompt, number)
    return None


def answer_from_chat(
    session: Session,
    channel_id: str,
    user_id: str,
    text: str,
    external_id: str,
    now: datetime,
    thread_ts: str | None = None,
) -> tuple[Asked, Recorded] | None:
    """Store a chat message as the answer to the question it replies to (None: not an answer).

    A reply in a question's thread answers that question; any other message answers the
    question that is waiting (see `waiting_question`).
    """
    asked = question_in_thread(session, channel_id, thread_ts) if thread_ts else None
    asked = asked or waiting_question(session, channel_id)
    if asked is None or asked.participant.platform_user_id != user_id:
        return None
    if asked.prompt.kind != "text":
        return None
    recorded = record_reply(session, asked.round_id, asked.prompt.id, asked.participant, text,
                            now, source="chat", external_id=external_id)
    return asked, recorded


def open_questions(session: Session, participant: Participant) -> list[Asked]:
    """The questions of open rounds this person was sent and has not answered yet."""
    out: list[Asked] = []
    deliveries = session.scalars(
        select(Delivery)
        .join(Round, Round.id == Delivery.round_id)
        .where(Delivery.participant_id == participant.id, Delivery.state == "sent",
               Round.status == "open")
        .order_by(Delivery.round_id)
    )
    for delivery in deliveries:
        answered = set(session.scalars(select(Reply.prompt_id).where(
            Reply.round_id == delivery.round_id, Reply.participant_id == participant.id,
            Reply.deleted_at.is_(None))))
        for number, prompt in enumerate(round_pack(delivery.round).prompts, start=1):
            if prompt.id not in answered:
                out.append(Asked(delivery.round_id, participant, prompt, number))
    return out


def asked_of(session: Session, round_id: int, prompt_id: str, user_id: str) -> Asked:
    """The question as asked of this person; NotFound when they were not asked it."""
    delivery = session.scalar(
        select(Delivery).join(Participant, Participant.id == Delivery.participant_id).where(
            Delivery.round_id == round_id, Participant.platform_user_id == user_id)
    )
    asked = _asked(delivery, prompt_id) if delivery is not None else None
    if asked is None:
        raise NotFound("that question was not asked of you")
    return asked
