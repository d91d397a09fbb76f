"""What someone sees on their own page of the app (Slack's App Home, Teams' personal tab):
a facilitator's rounds, and anyone's open questions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.core.answers import open_questions
from bot.core.people import facilitates, find_participant, rounds_acted_on
from bot.core.questions import Asked
from bot.core.rounds import delivery_counts, participation
from storage.models import Round

ROUNDS_SHOWN = 20


@dataclass(frozen=True)
class RoundLine:
    """One of the rounds as a facilitator's home lists it."""

    id: int
    title: str
    status: str
    sent: int
    pending: int
    failed: int
    answered: int
    invited: int


@dataclass(frozen=True)
class HomeView:
    facilitator: bool
    rounds: tuple[RoundLine, ...]
    questions: tuple[Asked, ...]


def home_view(session: Session, platform: str, user_id: str, rounds: Sequence[Round] | None
              ) -> HomeView:
    """This person's home: their open questions and, for a facilitator (`rounds` given: the
    rounds they may act on), the newest of those rounds."""
    lines: list[RoundLine] = []
    for round_ in sorted(rounds or [], key=lambda r: -r.id)[:ROUNDS_SHOWN]:
        counts = delivery_counts(session, round_.id)
        turnout = participation(session, round_)
        lines.append(RoundLine(round_.id, round_.pack_title, round_.status, counts["sent"],
                               counts["pending"], counts["failed"], turnout.answered_any,
                               turnout.invited))
    participant = find_participant(session, user_id, platform)
    questions = (open_questions(session, participant)
                 if participant is not None and not participant.opted_out else [])
    return HomeView(rounds is not None, tuple(lines), tuple(questions))


def home_of(session: Session, platform: str, user_id: str, configured: tuple[str, ...], *,
            admin: bool) -> HomeView:
    """Someone's home as it is now: a facilitator (an admin, one of `configured`, one added in
    the app, or on some round's team) sees the rounds they may act on."""
    rounds = (rounds_acted_on(session, platform, user_id, configured, admin=admin,
                              open_only=False)
              if facilitates(session, platform, user_id, configured, admin=admin) else None)
    return home_view(session, platform, user_id, rounds)
