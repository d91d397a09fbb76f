"""Forgetting someone (`forget-me`): every row about them is deleted, and only what no longer
identifies them is kept: each round counts one more person who withdrew, and a one-way
fingerprint of their platform id keeps them from being asked again
(bot.core.people.suppress); an imported person's answers leave a fingerprint each, so that
importing their file again skips them (bot.core.imports.keep_rows_out). Their answers' ids
leave the stored digest snapshots (with the titles of the themes they were in), the language
model's headlines kept for the rounds they answered in are deleted (they may hold their
words), and the audit log names them FORGOTTEN.
The bot's messages that repeat their words are dealt with on the platform first, by the
application (bot.core.bot_messages.repeating); waiting incoming events live in the inbox's
own database (bot.core.personal_data.inbox_events_of)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.core import audit
from bot.core.bot_messages import FORM
from bot.core.imports import IMPORT_PLATFORM, keep_rows_out
from bot.core.people import suppress
from bot.core.public_ids import public_reply_id
from storage import reach
from storage.models import (
    BotMessage,
    Delivery,
    Digest,
    DigestEdit,
    Facilitator,
    ModelAnswer,
    Participant,
    ProcessedEvent,
    QuestionMessage,
    Reminder,
    Reply,
    ReplyVersion,
    Round,
    RoundFacilitator,
)


@dataclass
class Erased:
    """What `erase` deleted or changed."""

    answers: int = 0
    votes: int = 0
    versions: int = 0
    rounds: list[int] = field(default_factory=list)
    questions_sent: int = 0
    reminders: int = 0
    digests_scrubbed: int = 0
    facilitator: bool = False
    audit_entries: int = 0
    reached: bool = False
    """A record kept to reach them (their name, email, time zone and id on the platform)
    was deleted."""


def erase(session: Session, platform: str, user_id: str, now: datetime) -> Erased:
    """Delete every row about this person; keep only counts (each round's `withdrawn`) and
    the suppression fingerprint. Their digest snapshots lose their answers' ids and the titles
    of the themes those answers were in; the audit log names them FORGOTTEN. Someone who
    never answered (a facilitator) loses their facilitator rows and their name in the log."""
    done = Erased()
    participant = session.scalar(select(Participant).where(
        Participant.platform == platform, Participant.platform_user_id == user_id))
    if participant is not None:
        if platform == IMPORT_PLATFORM:  # their file may be imported again, into any round
            keep_rows_out(session, participant, now)
        _erase_participant(session, participant, done)
    done.facilitator = _forget_facilitator(session, platform, user_id)
    # the edit forms they opened on drafts are kept by their id (bot_messages.FORM)
    session.execute(delete(BotMessage).where(BotMessage.kind == FORM,
                                             BotMessage.platform == platform,
                                             BotMessage.channel_id == user_id))
    done.reached = reach.forget(session, user_id)
    done.audit_entries = audit.forget_person(session, audit.person(platform, user_id))
    _forget_reviewer(session, audit.person(platform, user_id))
    suppress(session, platform, user_id, now)
    session.flush()
    return done


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(query) or 0)


def _erase_participant(session: Session, participant: Participant, done: Erased) -> None:
    replies = session.execute(select(
        Reply.id, Reply.round_id, Reply.choices, Reply.external_id, Reply.source
    ).where(Reply.participant_id == participant.id)).all()
    reply_ids = [r.id for r in replies]
    done.answers = sum(1 for r in replies if r.choices is None)
    done.votes = len(replies) - done.answers
    done.versions = _count(session, select(func.count(ReplyVersion.id)).where(
        ReplyVersion.reply_id.in_(reply_ids)))
    deliveries = session.execute(select(Delivery.id, Delivery.round_id, Delivery.channel_id)
                                 .where(Delivery.participant_id == participant.id)).all()
    delivery_ids = [d.id for d in deliveries]
    done.rounds = sorted({d.round_id for d in deliveries} | {r.round_id for r in replies})
    rounds = {r.id: r for r in session.scalars(select(Round).where(Round.id.in_(done.rounds)))}
    done.digests_scrubbed = _scrub_digests(session, rounds, replies)
    # made of the answers of their rounds, theirs among them: the next digest asks again
    session.execute(delete(ModelAnswer).where(
        ModelAnswer.round_id.in_({r.round_id for r in replies})))
    done.questions_sent = _count(session, select(func.count(QuestionMessage.id)).where(
        QuestionMessage.delivery_id.in_(delivery_ids)))
    done.reminders = _count(session, select(func.count(Reminder.id)).where(
        Reminder.participant_id == participant.id))
    reach.forget_sent(session, deliveries=select(Delivery.id).where(
        Delivery.participant_id == participant.id), messages=select(BotMessage.message_id)
                      .where(BotMessage.participant_id == participant.id))
    session.execute(delete(ReplyVersion).where(ReplyVersion.reply_id.in_(reply_ids)))
    session.execute(delete(Reply).where(Reply.id.in_(reply_ids)))
    session.execute(delete(QuestionMessage).where(QuestionMessage.delivery_id.in_(delivery_ids)))
    session.execute(delete(Delivery).where(Delivery.id.in_(delivery_ids)))
    session.execute(delete(Reminder).where(Reminder.participant_id == participant.id))
    session.execute(delete(BotMessage).where(BotMessage.participant_id == participant.id))
    for conversation in {d.channel_id for d in deliveries if d.channel_id}:
        # ledger ids made of a conversation and a time (events that came without an id)
        session.execute(delete(ProcessedEvent).where(
            ProcessedEvent.event_id.startswith(f"{conversation}:", autoescape=True)))
    for round_ in rounds.values():
        round_.withdrawn += 1
    session.delete(participant)


def _scrub_digests(session: Session, rounds: dict[int, Round], replies: Sequence[Any]) -> int:
    """Take the person's answers out of the stored snapshots of their rounds' digests: their
    ids, and the titles of the themes they were in (made from the answers' words)."""
    theirs: dict[int, set[str]] = defaultdict(set)
    for r in replies:
        round_ = rounds[r.round_id]
        theirs[r.round_id].add(public_reply_id(round_.secret, round_.anonymity, r.id,
                                               r.external_id, r.source))
    scrubbed = 0
    for digest in session.scalars(select(Digest).where(
            Digest.round_id.in_(list(theirs)), Digest.content.is_not(None))):
        content, changed = _without(digest.content or {}, theirs[digest.round_id])
        if changed:
            digest.content = content
            scrubbed += 1
    return scrubbed


def _without(content: dict[str, Any], ids: set[str]) -> tuple[dict[str, Any], bool]:
    changed = False
    prompts = []
    for prompt in content.get("prompts", []):
        themes = []
        for theme in prompt.get("themes", []):
            kept = [r for r in theme.get("reply_ids", []) if r not in ids]
            if len(kept) != len(theme.get("reply_ids", [])):
                changed = True
                theme = {**theme, "reply_ids": kept, "title": ""}
            themes.append(theme)
        unthemed = [r for r in prompt.get("unthemed_reply_ids", []) if r not in ids]
        changed = changed or len(unthemed) != len(prompt.get("unthemed_reply_ids", []))
        prompts.append({**prompt, "themes": themes, "unthemed_reply_ids": unthemed})
    return {**content, "prompts": prompts}, changed


def _forget_reviewer(session: Session, who: str) -> None:
    """A digest's edits and its approval name who made them as the audit log does: as the
    log does, they name a forgotten person FORGOTTEN."""
    session.execute(update(DigestEdit).where(DigestEdit.actor == who)
                    .values(actor=audit.FORGOTTEN))
    session.execute(update(Digest).where(Digest.approved_by == who)
                    .values(approved_by=audit.FORGOTTEN))


def _forget_facilitator(session: Session, platform: str, user_id: str) -> bool:
    """Their place as a facilitator, of rounds and on the list; and their id wherever a
    round or a facilitator row names them (a round they started has no owner any more:
    Roundtable's admins act on it)."""
    on_platform = select(Round.id).where(Round.platform == platform)
    listed = session.execute(delete(Facilitator).where(
        Facilitator.platform == platform, Facilitator.platform_user_id == user_id))
    teams = session.execute(delete(RoundFacilitator).where(
        RoundFacilitator.platform_user_id == user_id, RoundFacilitator.round_id.in_(on_platform)))
    owned = session.execute(update(Round).where(
        Round.platform == platform, Round.started_by == user_id).values(started_by=None))
    session.execute(update(Facilitator).where(
        Facilitator.platform == platform, Facilitator.added_by == user_id).values(added_by=None))
    session.execute(update(RoundFacilitator).where(
        RoundFacilitator.added_by == user_id, RoundFacilitator.round_id.in_(on_platform))
        .values(added_by=None))
    for round_ in session.scalars(select(Round).where(Round.platform == platform)):
        users = (round_.audience or {}).get("users") or []
        if user_id in users:
            round_.audience = {**round_.audience, "users": [u for u in users if u != user_id]}
    return any(int(getattr(r, "rowcount", 0) or 0) for r in (listed, teams, owned))
