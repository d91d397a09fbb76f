"""A round after its start: change where and when its digests go and when it closes, open it
again, or delete it and everything in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.core.dates import short_date
from bot.core.errors import RoundClosed, RoundtableError
from bot.core.people import forget_roundless
from bot.core.reminders import move_close
from bot.core.rounds import get_round
from bot.core.said import Code, said
from storage import reach
from storage.models import (
    BotMessage,
    Delivery,
    Digest,
    DigestEdit,
    ModelAnswer,
    Participant,
    QuestionMessage,
    Reminder,
    Reply,
    ReplyVersion,
    Round,
)

FINAL_PERIOD = "final"
CLOSED_REASON = "closed"
"""What a delivery that could not go out because its round had closed says (core.sending)."""


@dataclass(frozen=True)
class Changes:
    """What to change in a round; None leaves a field as it is, CLEAR empties it."""

    digest_channel: str | None = None
    closes_at: datetime | None = None
    clear_closing: bool = False
    digest_cron: str | None = None


CLEAR = ""
"""A digest channel or schedule of "": none (the schedule: the default, weekly)."""


def change_round(session: Session, round_id: int, changes: Changes, now: datetime, zone: str
                 ) -> Round:
    """Apply `changes`; a closing date must lie ahead, and only an open round can get one
    (its reminder a day before the close follows it)."""
    round_ = get_round(session, round_id)
    if changes.closes_at is not None or changes.clear_closing:
        if round_.status != "open":
            raise RoundClosed(said=said(f"round {round_id} is closed: reopen it to give it a "
                                        "closing date (", Code("reopen"), " takes one)"))
        if changes.closes_at is not None and changes.closes_at <= now:
            raise RoundtableError("the closing date is in the past")
        move_close(session, round_, None if changes.clear_closing else changes.closes_at, now,
                   zone)
    if changes.digest_channel is not None:
        round_.digest_channel = changes.digest_channel or None
    if changes.digest_cron is not None:
        round_.digest_cron = changes.digest_cron or None
    session.flush()
    return round_


def reopen_round(session: Session, round_id: int, now: datetime,
                 closes_at: datetime | None, zone: str) -> Round:
    """Take answers again. A closing date that has passed is dropped (or replaced by
    `closes_at`; the reminder a day before the close follows it); questions that could not go
    out because the round closed go out now; the final digest already posted stays in its
    channel, and closing again posts a new one."""
    round_ = get_round(session, round_id)
    if round_.status == "open":
        raise RoundtableError(f"round {round_id} is open already")
    if round_.purged_at is not None:
        raise RoundtableError(
            f"round {round_id} cannot be reopened: its answers and digests were deleted on "
            f"{short_date(round_.purged_at)} under the retention period; start a new round "
            "instead")
    if closes_at is not None and closes_at <= now:
        raise RoundtableError("the closing date is in the past")
    if closes_at is not None or (round_.closes_at is not None and round_.closes_at <= now):
        move_close(session, round_, closes_at, now, zone)
    closed_at = round_.closed_at or now
    round_.status, round_.closed_at = "open", None
    session.execute(update(Digest).where(
        Digest.round_id == round_id, Digest.period == FINAL_PERIOD,
    ).values(period=f"{FINAL_PERIOD}-{closed_at.isoformat(timespec='seconds')}"))
    session.execute(update(Delivery).where(
        Delivery.round_id == round_id, Delivery.state == "failed",
        Delivery.last_error == CLOSED_REASON,
    ).values(state="pending", last_error=None, not_before=None, claimed_at=None,
             claimed_by=None))
    session.flush()
    return round_


@dataclass(frozen=True)
class Contents:
    """What deleting a round would take with it."""

    round_id: int
    title: str
    status: str
    people: int
    answers: int
    digests: int


def contents(session: Session, round_id: int) -> Contents:
    round_ = get_round(session, round_id)
    people = set(session.scalars(select(Delivery.participant_id).where(
        Delivery.round_id == round_id))) | set(session.scalars(select(Reply.participant_id)
                                                              .where(Reply.round_id == round_id)))

    def count(model: type[Reply] | type[Digest]) -> int:
        return session.scalar(select(func.count()).select_from(model).where(
            model.round_id == round_id)) or 0

    return Contents(round_id, round_.pack_title, round_.status, len(people), count(Reply),
                    count(Digest))


def delete_round(session: Session, round_id: int) -> Contents:
    """Delete the round and everything in it: deliveries and the messages that asked, answers
    and their earlier versions, reminders, digests, the language model's headlines kept for
    them, and the people who were in no other round (of those who asked for no more
    questions, only their id and that wish are kept), with what was kept to reach them (roster
    records)."""
    what = contents(session, round_id)
    replies = select(Reply.id).where(Reply.round_id == round_id)
    deliveries = select(Delivery.id).where(Delivery.round_id == round_id)
    people = set(session.scalars(select(Delivery.participant_id).where(
        Delivery.round_id == round_id))) | set(session.scalars(
            select(Reply.participant_id).where(Reply.round_id == round_id)))
    reach.forget_sent(session, deliveries=deliveries,
                      digests=select(Digest.id).where(Digest.round_id == round_id),
                      messages=select(BotMessage.message_id).where(
                          BotMessage.round_id == round_id))
    for statement in (
        delete(ReplyVersion).where(ReplyVersion.reply_id.in_(replies)),
        delete(Reply).where(Reply.round_id == round_id),
        delete(QuestionMessage).where(QuestionMessage.delivery_id.in_(deliveries)),
        delete(Reminder).where(Reminder.round_id == round_id),
        delete(DigestEdit).where(DigestEdit.round_id == round_id),
        delete(Digest).where(Digest.round_id == round_id),
        delete(ModelAnswer).where(ModelAnswer.round_id == round_id),
        delete(Delivery).where(Delivery.round_id == round_id),
        delete(Round).where(Round.id == round_id),
    ):
        session.execute(statement)
    if people:
        ids = list(session.scalars(select(Participant.platform_user_id).where(
            Participant.id.in_(people))))
        forget_roundless(session, among=people)
        reach.forget_unneeded(session, among=ids)
    session.flush()
    return what
