"""Who may do what: facilitators start rounds; a round is acted on by its team (whoever
started it, while they are a facilitator, and the co-facilitators they added to it) and by
Roundtable's admins (ROUNDTABLE_ADMINS); the command line is the operator, who may do
everything. Refusals say who may, so the person knows whom to ask."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.app.actors import Actor
from bot.app.roundtable import Roundtable
from bot.core import audit, people
from bot.core.errors import NotAllowed
from bot.core.rounds import get_round
from bot.core.said import Command, Said, said
from storage.models import Round


def who(actor: Actor) -> str:
    """How the audit log names the actor."""
    return audit.OPERATOR if actor.is_operator else audit.person(actor.platform, actor.user_id)


def is_admin(app: Roundtable, actor: Actor) -> bool:
    return actor.is_operator or actor.user_id in app.settings.admins


def may_start(app: Roundtable, actor: Actor) -> bool:
    """A facilitator: may start rounds."""
    if is_admin(app, actor):
        return True
    with app.database.sessions() as session:
        return people.is_facilitator(session, actor.user_id,
                                     app.facilitators_on(actor.platform), actor.platform)


def may_facilitate(app: Roundtable, actor: Actor) -> bool:
    """A facilitator, or on the team of some round: may use the facilitators' commands
    (each round's own check comes after)."""
    with app.database.sessions() as session:
        return people.facilitates(session, actor.platform, actor.user_id,
                                  app.facilitators_on(actor.platform),
                                  admin=is_admin(app, actor))


FACILITATOR_ONLY = frozenset({"start", "invite", "status", "remind", "digest", "close", "set",
                              "list", "reopen", "delete", "add-facilitator",
                              "remove-facilitator", "review"})


def refusal(what: str) -> Said:
    """Why a facilitator's command was refused, the command named the platform's way."""
    return said("only facilitators can use ", Command(what), ". If you should be one, ask one "
                "of Roundtable's admins to add you.")


def require_facilitator(app: Roundtable, actor: Actor, what: str) -> None:
    if not may_facilitate(app, actor):
        raise NotAllowed(said=refusal(what))


def may_act_on(app: Roundtable, session: Session, actor: Actor, round_: Round) -> bool:
    """Admins on every round; otherwise its co-facilitators, and whoever started it while
    they are still a facilitator."""
    return is_admin(app, actor) or people.acts_on(
        session, round_, actor.platform, actor.user_id, app.facilitators_on(actor.platform))


def round_of(app: Roundtable, session: Session, actor: Actor, round_id: int) -> Round:
    """The round, when the actor may act on it; NotAllowed (a clear refusal) when not."""
    round_ = get_round(session, round_id)
    if not may_act_on(app, session, actor, round_):
        raise NotAllowed(f"round {round_id} is not one of yours: only the facilitator who "
                         "started it, the co-facilitators they added, and Roundtable's admins "
                         "can act on it")
    return round_


def visible_rounds(app: Roundtable, session: Session, actor: Actor, *, open_only: bool = True
                   ) -> list[Round]:
    """The rounds this actor may act on (every round, for an admin), oldest first."""
    return people.rounds_acted_on(session, actor.platform, actor.user_id,
                                  app.facilitators_on(actor.platform), admin=is_admin(app, actor),
                                  open_only=open_only)

