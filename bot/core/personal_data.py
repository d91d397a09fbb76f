"""Everything Roundtable holds about one person (`my-data`), and forgetting them (`forget-me`).

`held_about` gathers the rows that are theirs, and only theirs: where a row also names someone
else (the facilitator who started a round, a facilitator they added), that other person is
left out. `erase` deletes their rows and keeps only what no longer identifies them: each round
counts one more person who withdrew, and a one-way fingerprint of their platform id keeps them
from being asked again (bot.core.people.suppress). The bot's messages that repeat their words
are dealt with on the platform first, by the application (bot.core.bot_messages.repeating);
waiting incoming events, which live in the inbox's own database, are found by
`inbox_events_of`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.core import audit
from bot.core.people import suppress
from bot.core.public_ids import public_reply_id
from bot.core.rounds import MODE_NAMES, round_pack
from storage.models import (
    AuditEntry,
    BotMessage,
    Delivery,
    Digest,
    Facilitator,
    InboxEvent,
    Participant,
    ProcessedEvent,
    QuestionMessage,
    Reminder,
    Reply,
    ReplyVersion,
    Round,
    RoundFacilitator,
)

FORMAT_VERSION = 1


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def conversations_of(session: Session, participant: Participant) -> set[str]:
    """The person's conversations with the bot (their ids name them on the platform)."""
    return {c for c in session.scalars(select(Delivery.channel_id).where(
        Delivery.participant_id == participant.id)) if c}


def inbox_events_of(events: Iterable[InboxEvent], user_id: str, conversations: set[str]
                    ) -> list[InboxEvent]:
    """Events waiting (or set aside) that this person sent: written by them, or in their
    conversation with the bot. Payloads are as adapters translated them (`author_id`,
    `channel_id`), or as an earlier version stored Slack's own (`user`, `channel`)."""
    mine: list[InboxEvent] = []
    for event in events:
        try:
            payload = json.loads(event.payload)
        except ValueError:
            continue
        if not isinstance(payload, dict):
            continue
        inner = payload.get("event")
        if not isinstance(inner, dict):
            inner = payload
        author = inner.get("author_id") or inner.get("user")
        channel = inner.get("channel_id") or inner.get("channel")
        if author == user_id or channel in conversations:
            mine.append(event)
    return mine


def held_about(session: Session, participant: Participant, inbox: Sequence[InboxEvent],
               now: datetime) -> dict[str, Any]:
    """Everything held about this person, as JSON-ready data (what `my-data` sends them)."""
    platform, user_id = participant.platform, participant.platform_user_id
    replies = list(session.scalars(select(Reply).where(Reply.participant_id == participant.id)
                                   .order_by(Reply.created_at, Reply.id)))
    deliveries = list(session.scalars(select(Delivery).where(
        Delivery.participant_id == participant.id).order_by(Delivery.round_id)))
    round_ids = {d.round_id for d in deliveries} | {r.round_id for r in replies}
    rounds = {r.id: r for r in session.scalars(select(Round).where(Round.id.in_(round_ids)))}
    asked: dict[int, list[QuestionMessage]] = defaultdict(list)
    for message in session.scalars(select(QuestionMessage).where(
            QuestionMessage.delivery_id.in_([d.id for d in deliveries]))
            .order_by(QuestionMessage.id)):
        asked[message.delivery_id].append(message)
    reminders: dict[int, list[Reminder]] = defaultdict(list)
    for reminder in session.scalars(select(Reminder).where(
            Reminder.participant_id == participant.id).order_by(Reminder.number)):
        reminders[reminder.round_id].append(reminder)
    me = audit.person(platform, user_id)
    return {
        "about": "Everything Roundtable holds about you. Answers are yours alone here; "
                 "digests and exports show them only as each round's mode allows.",
        "format_version": FORMAT_VERSION,
        "generated_at": now.isoformat(),
        "person": {
            "platform": platform,
            "user_id": user_id,
            "name": participant.display_name,
            "role": participant.role,
            "organisation": participant.organisation,
            "time_zone": participant.timezone,
            "first_seen": _iso(participant.created_at),
            "details_from_the_platform_at": _iso(participant.details_fetched_at),
            "stopped": participant.opted_out,
            "stopped_at": _iso(participant.opted_out_at),
        },
        "rounds": [_round(rounds[d.round_id], d, asked[d.id], reminders[d.round_id])
                   for d in deliveries],
        "answers": [_answer(rounds[r.round_id], r) for r in replies],
        "facilitator": _facilitating(session, participant),
        "messages_waiting_to_be_handled": [_waiting(e) for e in inbox],
        "bot_messages_repeating_your_answers": session.scalar(
            select(func.count(BotMessage.id)).where(BotMessage.participant_id == participant.id)
        ) or 0,
        "audit_log": [
            {"at": _iso(e.at), "action": e.action, "round": e.round_id,
             "you_were": "the one acting" if e.actor == me else "whom it was about",
             "detail": e.detail}
            for e in session.scalars(select(AuditEntry).where(
                or_(AuditEntry.actor == me, AuditEntry.subject == me)).order_by(AuditEntry.id))
        ],
    }


def _round(round_: Round, delivery: Delivery, asked: list[QuestionMessage],
           reminders: list[Reminder]) -> dict[str, Any]:
    questions = {p.id: p.question for p in round_pack(round_).prompts}
    return {
        "round": round_.id,
        "title": round_.pack_title,
        "mode": MODE_NAMES.get(round_.anonymity, round_.anonymity),
        "status": round_.status,
        "digest_channel": round_.digest_channel,
        "first_message": {"state": delivery.state, "sent_at": _iso(delivery.sent_at),
                          "problem": delivery.last_error},
        "questions_sent": [{"prompt_id": m.prompt_id, "question": questions.get(
            m.prompt_id or "", ""), "sent_at": _iso(m.created_at),
            "skipped_at": _iso(m.skipped_at)} for m in asked],
        "reminders": [{"number": r.number, "state": r.state, "sent_at": _iso(r.sent_at)}
                      for r in reminders],
    }


def _answer(round_: Round, reply: Reply) -> dict[str, Any]:
    prompt = round_pack(round_).prompt(reply.prompt_id)
    return {
        "round": round_.id,
        "prompt_id": reply.prompt_id,
        "question": prompt.question if prompt else None,
        "text": reply.text,
        "choices": reply.choices,
        "source": reply.source,
        "may_be_quoted": reply.quotable,
        "given_at": _iso(reply.created_at),
        "edited_at": _iso(reply.edited_at),
        "deleted_at": _iso(reply.deleted_at),
        "earlier_versions": [{"text": v.text, "choices": v.choices,
                              "replaced_at": _iso(v.replaced_at)} for v in reply.versions],
        "id_in_digests_and_exports": public_reply_id(
            round_.secret, round_.anonymity, reply.id, reply.external_id, reply.source),
    }


def _facilitating(session: Session, participant: Participant) -> dict[str, Any]:
    platform, user_id = participant.platform, participant.platform_user_id
    listed = session.scalar(select(Facilitator).where(
        Facilitator.platform == platform, Facilitator.platform_user_id == user_id))
    owned = session.scalars(select(Round.id).where(
        Round.platform == platform, Round.started_by == user_id).order_by(Round.id))
    added = session.scalars(select(RoundFacilitator.round_id).join(
        Round, Round.id == RoundFacilitator.round_id).where(
        Round.platform == platform, RoundFacilitator.platform_user_id == user_id))
    return {
        "added_as_facilitator_at": _iso(listed.added_at) if listed else None,
        "rounds_started": list(owned),
        "rounds_co_facilitated": sorted(added),
    }


def _waiting(event: InboxEvent) -> dict[str, Any]:
    try:
        payload: Any = json.loads(event.payload)
    except ValueError:
        payload = event.payload
    return {"received_at": _iso(event.received_at), "tries": event.attempts,
            "as_received": payload}


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


def erase(session: Session, platform: str, user_id: str, now: datetime) -> Erased:
    """Delete every row about this person; keep only counts (each round's `withdrawn`) and
    the suppression fingerprint. Their digest snapshots lose their answers' ids and the titles
    of the themes those answers were in; the audit log names them FORGOTTEN. Someone who
    never answered (a facilitator) loses their facilitator rows and their name in the log."""
    done = Erased()
    participant = session.scalar(select(Participant).where(
        Participant.platform == platform, Participant.platform_user_id == user_id))
    if participant is not None:
        _erase_participant(session, participant, done)
    done.facilitator = _forget_facilitator(session, platform, user_id)
    done.audit_entries = audit.forget_person(session, audit.person(platform, user_id))
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
    done.questions_sent = _count(session, select(func.count(QuestionMessage.id)).where(
        QuestionMessage.delivery_id.in_(delivery_ids)))
    done.reminders = _count(session, select(func.count(Reminder.id)).where(
        Reminder.participant_id == participant.id))
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
