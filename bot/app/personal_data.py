"""A person's data: a copy of everything held about them (`my-data`, or the operator's
`roundtable participant export` on a written request), and forgetting them (`forget-me`, or
`roundtable participant forget`): first the bot's messages that repeat their words, on the
platform, then every row about them (bot.core.forgetting); the answer says exactly what was
done."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.app.access import who
from bot.app.actors import Actor
from bot.app.participants import refresh_home
from bot.app.roundtable import Roundtable
from bot.core import audit, digest_review
from bot.core.bot_messages import repeating
from bot.core.forgetting import Erased, erase
from bot.core.people import find_participant
from bot.core.personal_data import conversations_of, held_about, inbox_events_of
from bot.core.ports import Attachment, DeliveryError, Sent, Where
from bot.core.rounds import round_pack
from bot.core.said import Command, Place, Said, said
from bot.core.wording import counted, listed
from storage.db import transaction
from storage.models import Delivery, InboxEvent, Round

log = logging.getLogger(__name__)
MY_DATA_FILE = "roundtable-my-data.json"


def held(app: Roundtable, platform: str, user_id: str) -> dict[str, Any] | None:
    """Everything held about someone (None: nothing at all)."""
    with app.database.sessions() as session:
        participant = find_participant(session, user_id, platform)
        if participant is None:
            return None
        conversations = conversations_of(session, participant)
        with app.database.inbox_sessions() as inbox:
            waiting = inbox_events_of(inbox.scalars(select(InboxEvent).order_by(InboxEvent.id)),
                                      user_id, conversations)
        return held_about(session, participant, waiting, app.clock())


def my_data(app: Roundtable, actor: Actor) -> Said:
    """Send the person a file of everything held about them, in their conversation with the
    bot; the answer says what happened."""
    data = held(app, actor.platform, actor.user_id)
    with transaction(app.database.sessions) as session:
        audit.record(session, app.clock(), who(actor), "participant.my-data",
                     detail="sent" if data is not None else "nothing held")
    if data is None:
        return said("Roundtable holds nothing about you: no answers, no name, no Slack id.")
    gateway = app.gateway(actor.platform)
    content = json.dumps(data, indent=2, ensure_ascii=False).encode()
    try:
        gateway.send_file(Where(gateway.open_direct(actor.user_id)),
                          Attachment(MY_DATA_FILE, "Everything Roundtable holds about you",
                                     content),
                          said("Everything Roundtable holds about you, as of this moment: "
                               "your details, the questions sent to you, every answer with its "
                               "earlier versions, and what the audit log says you did."))
    except DeliveryError as exc:
        log.warning("could not send someone their data on %s: %s", actor.platform, exc.reason)
        return said(f"I could not send you the file ({exc.reason}). Please try again later; "
                    "an admin can also export it for you.")
    return said(f"I have sent you {MY_DATA_FILE} in our conversation: "
                f"{counted(len(data['answers']), 'answer')} and everything else held about "
                "you. ", Command("forget-me"), " deletes it all.")


def export_person(app: Roundtable, actor: Actor, platform: str, user_id: str
                  ) -> dict[str, Any] | None:
    """The operator's copy of what is held about someone, on their written request."""
    data = held(app, platform, user_id)
    with transaction(app.database.sessions) as session:
        audit.record(session, app.clock(), who(actor), "participant.export",
                     subject=audit.person(platform, user_id),
                     detail="exported" if data is not None else "nothing held")
    return data


@dataclass
class PlatformWork:
    """What forget-me did (or could not do) to the bot's own messages on the platform."""

    deleted: int = 0
    replaced: int = 0
    channels: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def forget(app: Roundtable, actor: Actor, platform: str | None = None,
           user_id: str | None = None) -> Said:
    """Forget someone (the actor, or whom the operator names): first the bot's messages that
    repeat their words (confirmations deleted, digest parts replaced), then every row about
    them; the answer says exactly what was done."""
    platform, user_id = platform or actor.platform, user_id or actor.user_id
    app.confirmations.flush()  # where this process's latest confirmations landed
    with app.database.sessions() as session:
        participant = find_participant(session, user_id, platform)
        conversations = conversations_of(session, participant) if participant else set()
        mine = repeating(session, participant.id) if participant else None
        rounds = set(session.scalars(select(Delivery.round_id).where(
            Delivery.participant_id == participant.id))) if participant else set()
        questions = _question_numbers(session, mine.digest_parts if mine else [])
        messages = ([(Sent(m.channel_id, m.message_id), None) for m in mine.confirmations]
                    + [(Sent(m.channel_id, m.message_id), questions.get(m.id))
                       for m in mine.digest_parts]
                    + [(Sent(m.channel_id, m.message_id), f"the summary of round {m.round_id}")
                       for m in mine.digest_tops]) if mine else []
    work = _remove_messages(app, platform, messages)
    now = app.clock()
    with transaction(app.database.sessions) as session:
        erased = erase(session, platform, user_id, now)
        audit.record(session, now, audit.FORGOTTEN if actor.user_id == user_id else who(actor),
                     "participant.forget", detail=_counts(erased, work))
    for round_id in sorted(rounds):  # drafts waiting for review quote them no more
        digest_review.refresh_drafts(app.database.sessions, app.gateways, round_id, app.clock,
                                     summariser=app.summariser)
    waiting = 0
    with transaction(app.database.inbox_sessions) as inbox:
        events = inbox_events_of(inbox.scalars(select(InboxEvent)), user_id, conversations)
        if events:
            inbox.execute(delete(InboxEvent).where(InboxEvent.id.in_([e.id for e in events])))
            waiting = len(events)
    yourself = actor.user_id == user_id
    if yourself:
        refresh_home(app, actor)
    if participant is None and not (erased.facilitator or erased.audit_entries or waiting):
        return said("Roundtable held nothing about " + ("you" if yourself else "them")
                    + "; it will not ask " + ("you" if yourself else "them")
                    + " in any future round.")
    return _forgotten(erased, work, waiting, yourself=yourself)


def _question_numbers(session: Session, parts: Sequence[Any]) -> dict[int, str]:
    """For each digest part, the question it was about, as "question 2: …"."""
    out: dict[int, str] = {}
    for part in parts:
        round_ = session.get(Round, part.round_id)
        if round_ is None:
            continue
        for number, prompt in enumerate(round_pack(round_).prompts, start=1):
            if prompt.id == part.prompt_id:
                out[part.id] = f"question {number} of round {round_.id}"
    return out


def _remove_messages(app: Roundtable, platform: str,
                     messages: Sequence[tuple[Sent, str | None]]) -> PlatformWork:
    work = PlatformWork()
    gateway = app.gateways.get(platform)
    for sent, digest_part in messages:
        if gateway is None:
            work.failed.append(f"this process cannot reach {platform}")
            continue
        try:
            if digest_part is None:
                gateway.delete_message(sent)
                work.deleted += 1
            else:
                gateway.replace_message(sent, said(
                    f"This digest message ({digest_part}) was removed on "
                    f"{app.clock():%d %B %Y}: someone asked Roundtable to delete their answers, "
                    "and it drew on them. The next digest and the export leave them out."))
                work.replaced += 1
                if sent.channel_id not in work.channels:
                    work.channels.append(sent.channel_id)
        except DeliveryError as exc:
            log.warning("forget-me could not change a message on %s: %s", platform, exc.reason)
            work.failed.append(exc.reason)
    return work


def _counts(erased: Erased, work: PlatformWork) -> str:
    """The audit line's detail: counts only."""
    return (f"{counted(erased.answers, 'answer')}, {counted(erased.votes, 'vote')}, "
            f"{counted(erased.versions, 'earlier version')}, "
            f"{counted(len(erased.rounds), 'round')}; {counted(work.deleted, 'message')} "
            f"deleted, {counted(work.replaced, 'digest part')} replaced, "
            f"{len(work.failed)} not changed")


def _forgotten(erased: Erased, work: PlatformWork, waiting: int, *, yourself: bool) -> Said:
    your, you = ("your", "you") if yourself else ("their", "them")
    deleted = [counted(erased.answers, "answer")]
    if erased.votes:
        deleted.append(counted(erased.votes, "vote"))
    if erased.versions:
        deleted.append(counted(erased.versions, "earlier version") + " of edited answers")
    if erased.rounds:
        rounds = counted(len(erased.rounds), "round")
        deleted.append((f"the {counted(erased.questions_sent, 'question')} sent to {you} in "
                        f"{rounds}" if erased.questions_sent else
                        f"{your} invitation to {rounds}")
                       + (f" and {counted(erased.reminders, 'reminder')}" if erased.reminders
                          else ""))
    if waiting:
        deleted.append(counted(waiting, "message") + " waiting to be handled")
    if erased.facilitator:
        deleted.append(f"{your} place as a facilitator")
    deleted.append(f"{your} name, role, time zone and Slack id")
    out = said(f"Done. Roundtable deleted {listed(deleted)}.")
    if work.deleted or work.replaced:
        out += said(" In Slack: deleted " + counted(work.deleted, "message") + " of mine that "
                    f"repeated {your} answers")
        if work.replaced:
            out += said(", and replaced " + counted(work.replaced, "digest message")
                        + " that drew on them, in ")
            for n, channel in enumerate(work.channels):
                out += said(", " if n else "", Place(channel))
        out += "."
    if work.failed:
        out += said(f" {counted(len(work.failed), 'message')} could not be changed in Slack "
                    f"({', '.join(sorted(set(work.failed)))}): ask an admin to remove "
                    f"{'it' if len(work.failed) == 1 else 'them'}.")
    if erased.digests_scrubbed:
        stored = counted(erased.digests_scrubbed, "stored digest")
        out += said(f" Removed {your} answers from {stored}.")
    if erased.audit_entries:
        out += said(f" The audit log no longer names {you} "
                    f"({counted(erased.audit_entries, 'entry', 'entries')}).")
    rounds = ("rounds " if len(erased.rounds) > 1 else "round ") + listed(
        [str(r) for r in erased.rounds])
    kept = (f" Kept: only that one person withdrew from {rounds} (so the counts still add "
            "up), and " if erased.rounds else " Kept: ")
    out += said(kept + f"a one-way fingerprint of {your} Slack id (not the id), so that "
                f"Roundtable never messages {you} again.")
    if yourself:
        out += said(" What you wrote in our conversation is yours: Slack keeps it until you "
                    "delete it there.")
    return out
