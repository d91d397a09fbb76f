"""A round whose digests are reviewed, with written answers enough for themes: shared by the
review tests (Slack, the command line, the schedule). The answers are written for these
tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.core import people
from bot.core.digest.build import build_digest
from bot.core.digest.model import DigestView, PromptDigest
from bot.core.people import Person, find_participant
from bot.core.replies import record_reply
from bot.core.rounds import RoundRequest, start_round
from storage.database import Database
from storage.db import transaction
from tests.digest.test_stable_themes import MENTOR, PEERS, TIME
from tests.helpers import PLATFORM, seed_pack

PROMPT = "best-support"
ANSWERS = [*TIME[:6], *MENTOR[:6], *PEERS[:6]]


def review_round(database: Database, now: datetime, members: list[str], *, starter: str,
                 co_facilitator: str | None = None, channel: str = "CDIGEST",
                 unreviewed: str = "wait", hours: int = 24, role: str | None = None,
                 **more: Any) -> int:
    """Start a reviewed round for `members` (Slack ids; each holds `role`), record ANSWERS
    spread among them, and return its id."""
    with transaction(database.sessions) as session:
        round_ = start_round(session, RoundRequest(
            seed_pack(), [Person(m, m[1:].title(), role) for m in members], started_by=starter,
            digest_channel=channel, review="review", platform=PLATFORM, **more), now)
        round_.unreviewed, round_.review_hours = unreviewed, hours
        if co_facilitator:
            people.add_to_team(session, round_, co_facilitator, starter, now)
        answer_all(session, round_.id, members, now, PLATFORM)
        return round_.id


def answer_all(session: Session, round_id: int, members: list[str], now: datetime,
               platform: str) -> None:
    for n, text in enumerate(ANSWERS):
        person = find_participant(session, members[n % len(members)], platform)
        assert person is not None
        record_reply(session, round_id, PROMPT, person, text, now, external_id=f"review-{n}")
    session.flush()


def current(database: Database, round_id: int, now: datetime) -> DigestView:
    with database.sessions() as session:
        return build_digest(session, round_id, now)


def question(view: DigestView) -> PromptDigest:
    found = view.prompt(PROMPT)
    assert found is not None and len(found.themes) >= 3, found
    return found


def text_of(view: DigestView, reply_id: str) -> str:
    return next(a.text for p in view.prompts for a in p.answers if a.reply_id == reply_id)


def unquoted_in(prompt: PromptDigest, theme: int) -> str:
    """An answer of theme `theme` (1-based) that is not one of its quotes."""
    chosen = prompt.themes[theme - 1]
    quoted = {q.reply_id for q in chosen.quotes}
    return next(r for r in chosen.reply_ids if r not in quoted)
