"""What anyone does about themselves: answer in a form, skip a question, keep an answer from
being quoted, see their open questions, stop the questions (the operator too, for someone, on
a written request). Their data (`my-data`, `forget-me`) is bot.app.personal_data's."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app.access import who
from bot.app.actors import Actor
from bot.app.conversations import STOPPED, help_reply, skipped
from bot.app.roundtable import Roundtable
from bot.core import answers
from bot.core.confirmations_owed import owe, owe_notice
from bot.core.home import HomeView
from bot.core.incoming import Kept
from bot.core.people import find_participant, stop_asking
from bot.core.ports import DeliveryError, Where
from bot.core.questions import Asked, Saved
from bot.core.replies import answer_count, dont_quote, is_answered
from bot.core.said import Said, said
from storage.db import transaction
from storage.models import Delivery

log = logging.getLogger(__name__)
NOT_QUOTED = said("Done: that answer counts in its theme but will never be quoted.")
MY_DATA_FILE = "roundtable-my-data.json"


def question(app: Roundtable, actor: Actor, round_id: int, prompt_id: str) -> Asked:
    """The question as it was asked of this person (NotFound when it was not)."""
    with app.database.sessions() as session:
        return answers.asked_of(session, round_id, prompt_id, actor.user_id, actor.platform)


def answer_in_form(app: Roundtable, actor: Actor, round_id: int, prompt_id: str,
                   answer: str | Sequence[str], external_id: str) -> Saved:
    """Store an answer given in a form (RoundtableError when it cannot be), confirm it in the
    person's conversation with the bot (as updated, when a vote replaced their ballot), and
    bring the next question after it. (Refresh their home after answering the form:
    `refresh_home`.)"""
    now = app.clock()
    with transaction(app.database.sessions) as session:
        asked = answers.asked_of(session, round_id, prompt_id, actor.user_id, actor.platform)
        stored = answers.answer_in_form(session, asked, answer, now, external_id)
        added = isinstance(answer, str) and is_answered(
            session, round_id, asked.participant.id, prompt_id, besides=external_id)
        saved = Saved(asked, answer if isinstance(answer, str) else tuple(answer), external_id,
                      updated=stored.replaced, added=added)
        channel = _conversation(session, asked)
        if channel is not None:  # owed with the answer, as an answer written in chat is
            owe(session, actor.platform, Where(channel), [saved], now, app.outbox.worker)
    try:
        if channel is None:  # never asked in a conversation: owed once it is opened
            where = Where(app.gateway(actor.platform).open_direct(actor.user_id))
            with transaction(app.database.sessions) as session:
                owe(session, actor.platform, where, [saved], now, app.outbox.worker)
        else:
            where = Where(channel)
        app.confirmations.confirm(actor.platform, where, [saved])
    except DeliveryError as exc:
        log.warning("could not confirm a form answer in round %s: %s", round_id, exc.reason)
        app.outbox.wake()
    return saved


def save_kept(app: Roundtable, actor: Actor, kept: Kept) -> Said:
    """"Save as my answer" on the bot's reply to a greeting: the words saved as the answer to
    the question that waited then (confirmed, and the next question follows, as for any
    answer); what the button did. RoundtableError when they cannot be."""
    with transaction(app.database.sessions) as session:
        follow_ups, done = app.conversations.save_kept(session, actor.platform, actor.user_id,
                                                       kept)
    for follow_up in follow_ups:
        follow_up()
    return done


def help_here(app: Roundtable, actor: Actor, channel_id: str, *,
              beside_commands: bool = False) -> Said | None:
    """What `help` written alone in someone's conversation with the bot gets, on every
    platform: what to do there and the question waiting, restated. With `beside_commands`
    (the platform lists its commands too), None when no question waits: the list says the
    rest."""
    waiting = _waiting(app, actor, channel_id)
    return None if beside_commands and waiting is None else help_reply(waiting)


def question_waits(app: Roundtable, actor: Actor, channel_id: str) -> bool:
    """Whether words `actor` writes in their conversation `channel_id` would answer a
    question now."""
    return _waiting(app, actor, channel_id) is not None


def _waiting(app: Roundtable, actor: Actor, channel_id: str) -> answers.Waiting | None:
    with app.database.sessions() as session:
        return answers.question_waiting(
            session, answers.ChatMessage(channel_id, actor.user_id, "", ""), actor.platform)


def skip(app: Roundtable, actor: Actor, round_id: int, prompt_id: str) -> None:
    """Put a question aside for now; the next one follows the notice that says so."""
    now = app.clock()
    with transaction(app.database.sessions) as session:
        asked, _ = answers.skip(session, round_id, prompt_id, actor.user_id, now,
                                actor.platform)
        channel = _conversation(session, asked)
        notice = skipped(asked)
        if channel is not None:  # owed with the skip, as every acknowledgement is
            owed = owe_notice(session, actor.platform, Where(channel), notice, now,
                              app.outbox.worker, asked)
    if channel is not None:
        app.confirmations.notify(actor.platform, Where(channel), notice, owed)
    app.outbox.wake()


def keep_from_quotes(app: Roundtable, actor: Actor, external_id: str) -> Said:
    """"Don't quote me" on one of the actor's answers: counted in its theme, never quoted."""
    not_quoted(app, actor, external_id)
    return NOT_QUOTED


def not_quoted(app: Roundtable, actor: Actor, external_id: str,
               shown: Sequence[answers.Shown] = ()) -> list[Saved]:
    """"Don't quote me" on one of the actor's answers (RoundtableError when it is not their
    live answer, or they asked already), pressed on a confirmation that showed the answers
    `shown` (that one alone, when none are given): those answers as they stand now, to confirm
    again with the note in place of that one's button; empty when none stands any more."""
    with transaction(app.database.sessions) as session:
        reply = dont_quote(session, external_id, (actor.platform, actor.user_id))
        return answers.confirmed_again(session, reply.participant, shown or [external_id])


def home(app: Roundtable, actor: Actor) -> HomeView:
    return app.home_of(actor.platform, actor.user_id)


def refresh_home(app: Roundtable, actor: Actor) -> None:
    """Publish the actor's home now, from the request they made (one person: a change many
    people's homes show is owed to them, bot.core.homes_owed)."""
    if not app.signed_in(actor.platform):  # nobody's home to publish from here
        return
    try:
        app.gateway(actor.platform).publish_home(actor.user_id, home(app, actor))
    except DeliveryError as exc:
        log.warning("could not refresh a home tab on %s: %s", actor.platform, exc.reason)


def stop(app: Roundtable, actor: Actor) -> Said:
    """No more messages to this person (they keep their answers)."""
    stop_person(app, actor, actor.platform, actor.user_id)
    return STOPPED


def stop_person(app: Roundtable, actor: Actor, platform: str, user_id: str
                ) -> Literal["stopped", "already"] | None:
    """Stop messaging someone (themselves, or the operator on their request): stopped, or
    already (nothing changes); None when Roundtable knows nothing of them."""
    with transaction(app.database.sessions) as session:
        return stop_asking(session, platform, user_id, app.clock(), who(actor))


def answers_kept(app: Roundtable, actor: Actor) -> int:
    """How many answers `forget` would delete (asked before it is done), not counting any
    the person deleted: they hold no words."""
    with app.database.sessions() as session:
        participant = find_participant(session, actor.user_id, actor.platform)
        return 0 if participant is None else answer_count(session, participant)


def _conversation(session: Session, asked: Asked) -> str | None:
    return session.scalar(select(Delivery.channel_id).where(
        Delivery.round_id == asked.round_id, Delivery.participant_id == asked.participant.id))


