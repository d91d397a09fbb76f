"""Everything Roundtable holds about one person (`my-data`).

`held_about` gathers the rows that are theirs, and only theirs: where a row also names someone
else (the facilitator who started a round, a facilitator they added), that other person is
left out. Waiting incoming events, which live in the inbox's own database, are found by
`inbox_events_of`. Forgetting them is bot.core.forgetting's.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.core import audit
from bot.core.bot_messages import CONFIRMATION, FORM, MY_DATA, each_once, unsaved_offers
from bot.core.public_ids import public_reply_id
from bot.core.rounds import MODE_NAMES, round_pack
from storage import reach
from storage.models import (
    AuditEntry,
    BotMessage,
    Delivery,
    Facilitator,
    InboxEvent,
    Participant,
    QuestionMessage,
    Reminder,
    Reply,
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
        "how_the_bot_reaches_you": reach.held(session, user_id),
        "rounds": [_round(rounds[d.round_id], d, asked[d.id], reminders[d.round_id])
                   for d in deliveries],
        "answers": [_answer(rounds[r.round_id], r) for r in replies],
        "facilitator": _facilitating(session, platform, user_id),
        "messages_waiting_to_be_handled": [_waiting(e) for e in inbox],
        "bot_messages_repeating_your_answers": len(each_once(session.scalars(
            select(BotMessage).where(BotMessage.participant_id == participant.id,
                                     BotMessage.kind == CONFIRMATION)))),
        "copies_of_your_data_sent_before": _copies(session, participant),
        "your_words_in_a_save_button": [
            _offer(rounds.get(m.round_id or 0) or session.get(Round, m.round_id), m)
            for m in unsaved_offers(session, participant.id)],
        "audit_log": _audit_log(session, platform, user_id),
    }


def held_about_no_participant(session: Session, platform: str, user_id: str, now: datetime
                              ) -> dict[str, Any] | None:
    """What is held about someone who never was asked or answered (a facilitator): their
    place as one, and what the audit log says they did; None when nothing is held."""
    facilitating = _facilitating(session, platform, user_id)
    audit_log = _audit_log(session, platform, user_id)
    reached = reach.held(session, user_id)
    if not (any(facilitating.values()) or audit_log or reached):
        return None
    return {
        "about": "Everything Roundtable holds about you. You have given no answers, and no "
                 "round has asked you its questions.",
        "format_version": FORMAT_VERSION,
        "generated_at": now.isoformat(),
        "person": {"platform": platform, "user_id": user_id},
        "how_the_bot_reaches_you": reached,
        "rounds": [],
        "answers": [],
        "facilitator": facilitating,
        "audit_log": audit_log,
    }


def _audit_log(session: Session, platform: str, user_id: str) -> list[dict[str, Any]]:
    me = audit.person(platform, user_id)
    return [{"at": _iso(e.at), "action": e.action, "round": e.round_id,
             "you_were": "the one acting" if e.actor == me else "whom it was about",
             "detail": e.detail}
            for e in session.scalars(select(AuditEntry).where(
                or_(AuditEntry.actor == me, AuditEntry.subject == me)).order_by(AuditEntry.id))]


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


def _offer(round_: Round | None, message: BotMessage) -> dict[str, Any]:
    prompt = round_pack(round_).prompt(message.prompt_id or "") if round_ else None
    return {
        "what": OFFER_HOLDS,
        "round": message.round_id,
        "prompt_id": message.prompt_id,
        "question": prompt.question if prompt else None,
        "replied_at": _iso(message.created_at),
        "where": f"your conversation with the bot on {message.platform.title()}",
    }


def _copies(session: Session, participant: Participant) -> list[dict[str, Any]]:
    """The copies of their data that my-data sent them before and that are still in chat
    (each repeats their answers): one a copy, however many messages hold it."""
    copies: dict[tuple[str, str, datetime], dict[str, Any]] = {}
    for message in session.scalars(select(BotMessage).where(
            BotMessage.participant_id == participant.id, BotMessage.kind == MY_DATA)
            .order_by(BotMessage.created_at, BotMessage.id)):
        copies.setdefault((message.platform, message.channel_id, message.created_at), {
            "what": COPY_HOLDS,
            "sent_at": _iso(message.created_at),
            "where": f"your conversation with the bot on {message.platform.title()}",
        })
    return list(copies.values())


COPY_HOLDS = ("A copy of your data that you asked for with my-data: it repeats every answer "
              "you had given then, there in our conversation. forget-me deletes it; so does "
              "deleting a round it covers, or that round's retention period running out.")
OFFER_HOLDS = ("My reply to a message of yours I did not take as an answer (a greeting, a "
               "question about me, or emoji alone). Its Save as my answer button holds your "
               "words, there in our conversation only, not in Roundtable's database: press it "
               "to save them as your answer to this question. forget-me deletes the reply; "
               "so does deleting the round, or its retention period running out.")


def _facilitating(session: Session, platform: str, user_id: str) -> dict[str, Any]:
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
        "edit_forms_opened": [
            {"round": m.round_id, "opened_at": _iso(m.created_at), "what": FORM_KEPT.format(
                platform=m.platform.title())}
            for m in session.scalars(select(BotMessage).where(
                BotMessage.kind == FORM, BotMessage.platform == platform,
                BotMessage.channel_id == user_id).order_by(BotMessage.id))],
    }


FORM_KEPT = ("An edit form of a draft digest, open in {platform} until you closed it: "
             "Roundtable keeps its id to close it if the answers it lists are deleted.")


def _waiting(event: InboxEvent) -> dict[str, Any]:
    try:
        payload: Any = json.loads(event.payload)
    except ValueError:
        payload = event.payload
    return {"received_at": _iso(event.received_at), "tries": event.attempts,
            "as_received": payload}


