"""A person's data: a copy of everything held about them (`my-data`, or the operator's
`roundtable participant export` on a written request), and forgetting them (`forget-me`, or
`roundtable participant forget`): first the bot's messages that repeat their words, on the
platform, then every row about them (bot.core.forgetting); the answer says exactly what was
done."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.app.access import who
from bot.app.actors import Actor
from bot.app.participants import answers_kept
from bot.app.roundtable import Roundtable
from bot.core import audit, digest_review
from bot.core.bot_messages import (
    TakeDown,
    TakenDown,
    card_form_closed,
    forget_forms,
    forms_of,
    forms_opened_since,
    hold_person,
    remember_copy,
    repeating,
    rounds_standing,
    take_down,
    taken_down_after,
    words_recorded_since,
)
from bot.core.dates import long_date
from bot.core.errors import RoundtableError
from bot.core.forgetting import Erased, erase
from bot.core.homes_owed import owe_homes
from bot.core.imports import IMPORT_PLATFORM, imported_round, one_imported_person
from bot.core.people import find_participant
from bot.core.personal_data import (
    conversations_of,
    held_about,
    held_about_no_participant,
    inbox_events_of,
)
from bot.core.ports import Attachment, DeliveryError, Sent, Where
from bot.core.rounds import round_pack
from bot.core.said import Command, Place, Said, said
from bot.core.wording import PLATFORM_NAMES, all_of_yours, counted, listed
from storage.db import transaction
from storage.models import Delivery, InboxEvent, Reply, Round

log = logging.getLogger(__name__)
MY_DATA_FILE = "roundtable-my-data.json"
FORGET_CANCELLED = "participant.forget.cancel"
"""The audit action of a Cancel pressed on forget-me's question (its id as detail)."""
FORGOTTEN_MEANWHILE = "participant.forget.meanwhile"
"""The audit action of what forget-me found recorded while it ran, taken off chat after."""


def _platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


def _their_id(platform: str) -> str:
    """What someone's id on a platform is called."""
    if platform == IMPORT_PLATFORM:
        return "label in the imported file"
    return f"{_platform_name(platform)} id"


def resolve_person(app: Roundtable, platform: str, user_id: str) -> str:
    """The stored id of whom the operator names: on most platforms the id given; of an
    imported person (a CSV's label, meaningful within one round's file), the one round's
    person of that label (`p14@round3`). A label imported into several rounds is refused
    (NotFound), naming the ids to choose from."""
    if platform != IMPORT_PLATFORM:
        return user_id
    with app.database.sessions() as session:
        return one_imported_person(session, user_id) or user_id


def describe_person(platform: str, user_id: str) -> str:
    """How the command line names someone: an imported person with the round of their file."""
    round_id = imported_round(user_id) if platform == IMPORT_PLATFORM else None
    if round_id is None:
        return user_id
    return f"{user_id.removesuffix(f'@round{round_id}')} (imported into round {round_id})"


def held(app: Roundtable, platform: str, user_id: str) -> dict[str, Any] | None:
    """Everything held about someone (None: nothing at all)."""
    with app.database.sessions() as session:
        participant = find_participant(session, user_id, platform)
        if participant is None:
            return held_about_no_participant(session, platform, user_id, app.clock())
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
        return said("Roundtable holds no answers of yours and has asked you no questions, so "
                    "there is no file of them to send.")
    gateway = app.gateway(actor.platform)
    content = json.dumps(data, indent=2, ensure_ascii=False).encode()
    try:
        sent = gateway.send_file(
            Where(gateway.open_direct(actor.user_id)),
            Attachment(MY_DATA_FILE, "Everything Roundtable holds about you", content),
            said("Everything Roundtable holds about you, as of this moment: your details, the "
                 "questions sent to you, every answer with its earlier versions, which of my "
                 "replies hold words of yours in a Save as my answer button, and what the "
                 "audit log says you did."))
    except DeliveryError as exc:
        log.warning("could not send someone their data on %s: %s", actor.platform, exc.reason)
        return said(f"I could not send you the file ({exc.reason}). Please try again later; "
                    "an admin can also export it for you.")
    if not _remember_copy(app, actor, sent, {r["round"] for r in data["rounds"]}
                          | {a["round"] for a in data["answers"]}):
        return said(f"I sent you {MY_DATA_FILE}, but answers it held were deleted as it was "
                    "sent, so I took it down. ", Command("my-data"), " sends you what "
                    "Roundtable holds now.")
    return said(f"I have sent you {MY_DATA_FILE} in our conversation: "
                f"{_answers_held(data['answers'])}. ", Command("forget-me"), " deletes it all.")


def _answers_held(answers: Sequence[dict[str, Any]]) -> str:
    """The answers a copy holds, and apart from them those the person deleted: of these only
    that they were given is kept (their question and dates), not their words."""
    deleted = sum(1 for a in answers if a["deleted_at"] is not None)
    held = counted(len(answers) - deleted, "answer")
    if not deleted:
        return f"{held} and everything else held about you"
    words = "its words are" if deleted == 1 else "their words are"
    return (f"{held}, and everything else held about you, including that you deleted "
            f"{counted(deleted, 'answer')} ({words} gone)")


def _remember_copy(app: Roundtable, actor: Actor, sent: Sequence[Sent], round_ids: set[int]
                   ) -> bool:
    """The copy repeats every answer: forget-me, and the deletion of any round it covers,
    take it down. False when it is taken down at once instead: a round it covers was
    deleted (or purged) while it was being sent, or the person was (forgotten, or deleted
    with their last round), so that it holds words that are gone, and that deletion could
    not know of it."""
    with transaction(app.database.sessions) as session:
        participant = find_participant(session, actor.user_id, actor.platform)
        if participant is None and not round_ids:
            # never asked a question (a facilitator): nothing of a round in it, no one to
            # record it for, as when it was read
            return True
        rounds = rounds_standing(session, round_ids)  # first, as forget-me locks them
        if (participant is not None and hold_person(session, participant.id)
                and rounds == round_ids):
            remember_copy(session, actor.platform, sent, participant.id, sorted(rounds),
                          app.clock())
            return True
    take_down(app.gateways, [TakeDown(actor.platform, one, file=True) for one in sent])
    return False


def export_person(app: Roundtable, actor: Actor, platform: str, user_id: str
                  ) -> dict[str, Any] | None:
    """The operator's copy of what is held about someone, on their written request (an
    imported label names the person of one round: `resolve_person`)."""
    user_id = resolve_person(app, platform, user_id)
    data = held(app, platform, user_id)
    with transaction(app.database.sessions) as session:
        audit.record(session, app.clock(), who(actor), "participant.export",
                     subject=audit.person(platform, user_id),
                     detail="exported" if data is not None else "nothing held")
    return data


def forget_warning(app: Roundtable, actor: Actor) -> Said:
    """forget-me's question, above its Delete and Cancel buttons: all that Delete deletes,
    the same on every platform."""
    count = answers_kept(app, actor)
    return said("This deletes everything Roundtable holds about you: "
                f"{all_of_yours(count, 'answer or vote', 'answers and votes')}, the questions "
                f"sent to you, your name, time zone and {_their_id(actor.platform)}. My "
                "messages that repeat your answers are deleted, and digest messages that drew "
                "on them are replaced. You will get no more questions. It cannot be undone. (",
                Command("my-data"), " first sends you a copy of it all.)")


def forget_asked() -> str:
    """A new id for forget-me's question, carried by its Delete and Cancel buttons."""
    return secrets.token_hex(8)


def cancel_forget(app: Roundtable, actor: Actor, asked: str | None) -> Said:
    """Cancel on forget-me's question: recorded, so that question's Delete pressed later (a
    copy of the card on another device, one not yet replaced) deletes nothing. `asked` is
    None on a question of an earlier version, which had no id."""
    if asked is not None:
        with transaction(app.database.sessions) as session:
            audit.record(session, app.clock(), who(actor), FORGET_CANCELLED, detail=asked)
    return said("Nothing was deleted.")


def forget(app: Roundtable, actor: Actor, platform: str | None = None,
           user_id: str | None = None, asked: str | None = None) -> Said:
    """Forget someone (the actor, or whom the operator names): first the bot's messages that
    repeat their words (confirmations deleted, digest parts replaced), then every row about
    them; the answer says exactly what was done. An imported label names the person of one
    round (`resolve_person`). Refused when `asked`, the question whose button this is, was
    cancelled."""
    if asked is not None:
        with app.database.sessions() as session:
            if audit.recorded(session, FORGET_CANCELLED, None, asked):
                raise RoundtableError(said=said(
                    "you cancelled that, so nothing was deleted. To delete your answers, "
                    "write ", Command("forget-me"), " again."))
    platform, user_id = platform or actor.platform, user_id or actor.user_id
    yourself = (platform, user_id) == (actor.platform, actor.user_id)
    user_id = resolve_person(app, platform, user_id)
    app.confirmations.flush()  # where this process's latest confirmations landed
    with app.database.sessions() as session:
        participant = find_participant(session, user_id, platform)
        conversations = conversations_of(session, participant) if participant else set()
        mine = repeating(session, participant.id) if participant else None
        rounds = set(session.scalars(select(Delivery.round_id).where(
            Delivery.participant_id == participant.id).union(select(Reply.round_id).where(
                Reply.participant_id == participant.id)))) if participant else set()
        questions = _question_numbers(session, mine.digest_parts if mine else [])
        # each message on the platform it was posted to: a digest goes to the round's
        # channel, whatever the platform of the people it quotes (an import has none)
        messages = ([TakeDown(m.platform, Sent(m.channel_id, m.message_id))
                     for m in mine.confirmations]
                    + [TakeDown(m.platform, Sent(m.channel_id, m.message_id),
                                _removed(app, questions.get(m.id)))
                       for m in mine.digest_parts]
                    + [TakeDown(m.platform, Sent(m.channel_id, m.message_id),
                                _removed(app, f"the summary of round {m.round_id}"))
                       for m in mine.digest_tops]
                    + [TakeDown(m.platform, Sent(m.channel_id, m.message_id), file=True)
                       for m in mine.copies]) if mine else []
        # a facilitator's edit form open on a draft of their rounds may list their answers
        messages += forms_of(session, rounds, _form_closed(app))
    work = take_down(app.gateways, messages)
    now = app.clock()
    by = audit.FORGOTTEN if yourself else who(actor)
    with transaction(app.database.sessions) as session:
        # a form opened on a draft of their rounds since `forms_of` read them may list
        # their words too: found here, with the rounds locked (bot.app.review.form_opened)
        opened = forms_opened_since(session, sorted(rounds), messages, now, _form_closed(app))
        if participant is not None:  # so too one whose post the platform answered meanwhile
            opened += words_recorded_since(session, participant.id, messages)
        erased = erase(session, platform, user_id, now)
        forget_forms(session, rounds)
        # their open questions are gone from their home
        if yourself or (participant is not None and platform in app.platforms):
            owe_homes(session, [(platform, user_id)], now)
        audit.record(session, now, by, "participant.forget", detail=_counts(erased, work))
    work.add(taken_down_after(app.database.sessions, app.gateways, opened, app.clock, by,
                              FORGOTTEN_MEANWHILE))
    for round_id in sorted(rounds):  # drafts waiting for review quote them no more
        work.failed += digest_review.refresh_drafts(
            app.database.sessions, app.gateways, round_id, app.clock,
            summariser=app.summariser, closing=card_form_closed(round_id))
    waiting = 0
    with transaction(app.database.inbox_sessions) as inbox:
        events = inbox_events_of(inbox.scalars(select(InboxEvent)), user_id, conversations)
        if events:
            inbox.execute(delete(InboxEvent).where(InboxEvent.id.in_([e.id for e in events])))
            waiting = len(events)
    app.database.drop_deleted()
    app.homes.wake()
    if participant is None and not (erased.facilitator or erased.audit_entries or waiting
                                    or erased.reached):
        return said("Roundtable held nothing about " + ("you" if yourself else "them")
                    + "; it will not ask " + ("you" if yourself else "them")
                    + " in any future round.")
    return _forgotten(erased, work, waiting, platform, yourself=yourself,
                      known=participant is not None)


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


def _removed(app: Roundtable, digest_part: str | None) -> Said:
    """What a digest message drawing on a forgotten person's answers says instead."""
    return said(f"This digest message ({digest_part}) was removed on {long_date(app.clock())}: "
                "someone asked Roundtable to delete their answers, and it drew on them. The "
                "next digest and the export leave them out.")


def _form_closed(app: Roundtable) -> Said:
    """What an edit form of a round a forgotten person answered in shows instead."""
    return said(f"This form was closed on {long_date(app.clock())}: someone who answered in this "
                "round asked Roundtable to delete their answers. Press Edit on the draft again "
                "to edit it as it is now.")


def left_in_chat(work: TakenDown, what: str) -> Said:
    """The messages `take_down` left as they were, where, and why: "1 message {what} in
    Slack (its reason): ask an admin to remove it." (nothing when none)."""
    if not work.failed:
        return said()
    return said(f"{counted(len(work.failed), 'message')} {what} in {_on(work.failed_on)} "
                f"({', '.join(sorted(set(_reasons(work))))}): ask an admin to remove "
                f"{'it' if len(work.failed) == 1 else 'them'}.")


def _reasons(work: TakenDown) -> list[str]:
    """Why each message was left as it was, in words."""
    return [reason or f"this process cannot reach {_platform_name(platform)}"
            for platform, reason in work.failed]


def _on(platforms: Sequence[str]) -> str:
    return listed([_platform_name(p) for p in platforms])


def _counts(erased: Erased, work: TakenDown) -> str:
    """The audit line's detail: counts only."""
    return (f"{counted(erased.answers, 'answer')}, {counted(erased.votes, 'vote')}, "
            f"{counted(erased.versions, 'earlier version')}, "
            f"{counted(len(erased.rounds), 'round')}; {counted(work.deleted, 'message')} "
            f"deleted, {counted(work.replaced, 'digest part')} replaced, "
            f"{len(work.failed)} not changed")


def _forgotten(erased: Erased, work: TakenDown, waiting: int, platform: str, *,
               yourself: bool, known: bool = True) -> Said:
    """What was done; `known`: Roundtable held the person themselves (not only a facilitator
    place, an audit entry naming them or a message waiting)."""
    your, you = ("your", "you") if yourself else ("their", "them")
    deleted = [counted(erased.answers, "answer")] if known else []
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
    if known:
        deleted.append(f"{your} label and role from the imported file"
                       if platform == IMPORT_PLATFORM
                       else f"{your} name, role, time zone and {_their_id(platform)}")
    elif erased.reached:  # someone never asked, whom Teams had named (writing to the bot)
        deleted.append(f"the name, email address, time zone and {_their_id(platform)} kept to "
                       f"reach {you}")
    out = (said(f"Done. Roundtable deleted {listed(deleted)}.") if deleted
           else said(f"Done. Roundtable held no answers, name or role of {your}s."))
    if work.deleted or work.replaced:
        repeated = work.deleted - work.copies
        out += said(f" In {_on(work.changed_on)}: deleted " + listed(
            ([counted(repeated, "message") + f" of mine that repeated {your} answers"]
             if repeated or not work.copies else [])
            + ([f"{your} data as my-data sent it to {you}"] if work.copies else [])))
        if work.replaced:
            out += said(", and replaced " + counted(work.replaced, "digest message")
                        + " that drew on them, in ")
            for n, channel in enumerate(work.replaced_in):
                out += said(", " if n else "", Place(channel))
        out += "."
    if work.failed:
        out += said(" ") + left_in_chat(work, "could not be changed")
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
    out += said(kept + f"a one-way fingerprint of {your} {_their_id(platform)} (not the "
                + (f"label) and of each of {your} answers, so that importing the file again, "
                   f"into any round, skips {your} rows."
                   if platform == IMPORT_PLATFORM else
                   f"id), so that Roundtable never messages {you} again."))
    if yourself:
        out += said(" What you wrote in our conversation is yours: "
                    f"{_platform_name(platform)} keeps it until you delete it there.")
    return out
