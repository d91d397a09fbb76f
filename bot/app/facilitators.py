"""Who facilitates: admins make and unmake facilitators (who start rounds); the owner of a
round (or an admin) adds and removes its co-facilitators. Each change is in the audit log."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.app.access import is_admin, require_facilitator, round_of, who
from bot.app.actors import Actor
from bot.app.roundtable import Roundtable
from bot.core import audit, people
from bot.core.errors import NotAllowed, RoundtableError
from bot.core.said import Code, Command, Part, Said, said
from storage.db import transaction
from storage.models import Round


def add_facilitator(app: Roundtable, actor: Actor, user_id: str,
                    round_id: int | None = None) -> Said:
    """Make someone a facilitator (admins), or a co-facilitator of one round (its owner, or
    an admin)."""
    require_facilitator(app, actor, "add-facilitator")
    now, subject = app.clock(), audit.person(actor.platform, user_id)
    with transaction(app.database.sessions) as session:
        if round_id is None:
            if not is_admin(app, actor):
                raise NotAllowed(said=said(
                    "only Roundtable's admins can make someone a facilitator. To share one of "
                    "your rounds, add them to it: ", *_for_one_round("add-facilitator")))
            added = people.add_facilitator(session, user_id, actor.user_id, now,
                                           actor.platform)
            if added:
                audit.record(session, now, who(actor), "facilitator.add", subject=subject)
            return said("Done: they can now start rounds (and act on the rounds they start)."
                        if added else "They were already a facilitator.")
        round_ = _owned(app, session, actor, round_id)
        added = people.add_to_team(session, round_, user_id, actor.user_id, now)
        if added:
            audit.record(session, now, who(actor), "facilitator.add", round_id=round_id,
                         subject=subject)
    return said(f"Done: they can now act on round {round_id}." if added
                else f"They already facilitate round {round_id}.")


def remove_facilitator(app: Roundtable, actor: Actor, user_id: str,
                       round_id: int | None = None) -> Said:
    """Take someone's facilitator rights away: everywhere (admins), or on one round (its
    owner, or an admin)."""
    require_facilitator(app, actor, "remove-facilitator")
    now, subject = app.clock(), audit.person(actor.platform, user_id)
    with transaction(app.database.sessions) as session:
        if round_id is None:
            if not is_admin(app, actor):
                raise NotAllowed(said=said(
                    "only Roundtable's admins can remove a facilitator. To take someone off "
                    "one of your rounds: ", *_for_one_round("remove-facilitator")))
            if user_id in app.facilitators_on(actor.platform):
                raise RoundtableError("they are a facilitator by the server's settings "
                                      "(ROUNDTABLE_FACILITATORS): the operator removes them "
                                      "there")
            removed = people.remove_facilitator(session, user_id, actor.platform)
            if removed:
                audit.record(session, now, who(actor), "facilitator.remove", subject=subject)
            return said("Done: they can no longer start rounds, nor act on any round."
                        if removed else "They were not a facilitator.")
        round_ = _owned(app, session, actor, round_id)
        if user_id == round_.started_by:
            raise RoundtableError(f"they started round {round_id}: an admin removes them as a "
                                  "facilitator to take it from them")
        removed = people.remove_from_team(session, round_, user_id)
        if removed:
            audit.record(session, now, who(actor), "facilitator.remove", round_id=round_id,
                         subject=subject)
    return said(f"Done: they can no longer act on round {round_id}." if removed
                else f"They were not a co-facilitator of round {round_id}.")


def _for_one_round(command: str) -> tuple[Part, ...]:
    """The command with a round, in words that hold on every platform (people are named with
    @ in Slack, by email in Teams)."""
    return Command(command), " with ", Code("round N"), " after the person."


def _owned(app: Roundtable, session: Session, actor: Actor, round_id: int) -> Round:
    """The round, when the actor started it or is an admin (who changes its team)."""
    round_ = round_of(app, session, actor, round_id)
    if not is_admin(app, actor) and round_.started_by != actor.user_id:
        raise NotAllowed(f"only the facilitator who started round {round_id} (or an admin) "
                         "changes who facilitates it")
    return round_
