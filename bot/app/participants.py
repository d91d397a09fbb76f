"""What anyone does about themselves: answer in a form, skip a question, see their open
questions, stop the questions, forget their answers."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app.actors import Actor
from bot.app.roundtable import Roundtable
from bot.core import answers
from bot.core.home import HomeView, home_view
from bot.core.people import find_participant, opt_out
from bot.core.ports import DeliveryError, Where
from bot.core.questions import Asked, Saved
from bot.core.replies import answer_count, forget_participant
from bot.core.said import Code, Said, said
from bot.core.wording import counted
from storage.db import transaction
from storage.models import Delivery

log = logging.getLogger(__name__)


def question(app: Roundtable, actor: Actor, round_id: int, prompt_id: str) -> Asked:
    """The question as it was asked of this person (NotFound when it was not)."""
    with app.database.sessions() as session:
        return answers.asked_of(session, round_id, prompt_id, actor.user_id, actor.platform)


def answer_in_form(app: Roundtable, actor: Actor, round_id: int, prompt_id: str,
                   answer: str | Sequence[str], external_id: str) -> Saved:
    """Store an answer given in a form (RoundtableError when it cannot be), confirm it in the
    person's conversation with the bot, and bring the next question after it. (Refresh their
    home after answering the form: `refresh_home`.)"""
    with transaction(app.database.sessions) as session:
        asked = answers.asked_of(session, round_id, prompt_id, actor.user_id, actor.platform)
        answers.answer_in_form(session, asked, answer, app.clock(), external_id)
        channel = _conversation(session, asked)
    saved = Saved(asked, answer if isinstance(answer, str) else tuple(answer))
    try:
        where = Where(channel or app.gateway(actor.platform).open_direct(actor.user_id))
        app.confirmations.confirm(actor.platform, where, [saved])
    except DeliveryError as exc:
        log.warning("could not confirm a form answer to %s: %s", actor.user_id, exc.reason)
        app.outbox.wake()
    return saved


def skip(app: Roundtable, actor: Actor, round_id: int, prompt_id: str) -> None:
    """Put a question aside for now; the next one follows the notice that says so."""
    with transaction(app.database.sessions) as session:
        asked, _ = answers.skip(session, round_id, prompt_id, actor.user_id, app.clock(),
                                actor.platform)
        channel = _conversation(session, asked)
    notice = said(f"Skipped question {asked.number} for now. It stays open on your Home tab, "
                  "and you can still answer it in its thread.")
    if channel is not None:
        app.confirmations.notify(actor.platform, Where(channel), notice)
    app.outbox.wake()


def home(app: Roundtable, actor: Actor) -> HomeView:
    configured = app.platforms[actor.platform].facilitators
    with app.database.sessions() as session:
        return home_view(session, actor.platform, actor.user_id, configured)


def refresh_home(app: Roundtable, actor: Actor) -> None:
    try:
        app.gateway(actor.platform).publish_home(actor.user_id, home(app, actor))
    except DeliveryError as exc:
        log.warning("could not refresh the home of %s: %s", actor.user_id, exc.reason)


def stop(app: Roundtable, actor: Actor) -> Said:
    with transaction(app.database.sessions) as session:
        participant = find_participant(session, actor.user_id, actor.platform)
        if participant is not None:
            opt_out(session, participant, app.clock())
    return said("Done: Roundtable will not message you again. Your answers are kept; ",
                Code("forget-me"), " deletes them.")


def answers_kept(app: Roundtable, actor: Actor) -> int:
    """How many answers `forget` would delete (asked before it is done)."""
    with app.database.sessions() as session:
        participant = find_participant(session, actor.user_id, actor.platform)
        return 0 if participant is None else answer_count(session, participant)


def forget(app: Roundtable, actor: Actor) -> Said:
    """Delete everything this person answered (after they confirmed)."""
    with transaction(app.database.sessions) as session:
        participant = find_participant(session, actor.user_id, actor.platform)
        count = 0 if participant is None else forget_participant(session, participant,
                                                                 app.clock())
    return said(f"Done: {counted(count, 'answer')} deleted. Roundtable will not message you "
                "again.")


def _conversation(session: Session, asked: Asked) -> str | None:
    return session.scalar(select(Delivery.channel_id).where(
        Delivery.round_id == asked.round_id, Delivery.participant_id == asked.participant.id))
