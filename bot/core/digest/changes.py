"""Recorded digests and "new since the last digest".

Each digest that goes out is recorded for its period (the unique key on round and period makes
recording a one-time claim). What is stored is a snapshot of ids, titles, counts and rankings,
not people's words: enough to say what changed, and nothing that `forget-me` would leave behind.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.digest.model import DigestView, RankMove, SinceLast, ThemeChange
from storage.models import Digest

SNAPSHOT_VERSION = 1
MOVES_WITHIN = 5
"""A ranking moved when an option changed place into, out of or within the top five."""


def snapshot(view: DigestView) -> dict[str, Any]:
    """The part of a digest that later digests compare against."""
    return {
        "version": SNAPSHOT_VERSION,
        "generated_at": view.round.generated_at,
        "answered_any": view.participation.get("answered_any", 0),
        "prompts": [
            {
                "prompt_id": p.prompt_id,
                "answer_count": p.answer_count,
                "themes": [{"title": t.title, "reply_ids": t.reply_ids} for t in p.themes],
                "unthemed_reply_ids": p.unthemed_reply_ids,
                "ranking": [
                    {"option": r.option, "score": r.score, "first_places": r.first_places}
                    for r in p.ranking
                ],
            }
            for p in view.prompts
        ],
    }


def claim_digest(
    session: Session, round_id: int, period: str, now: datetime, *, late: bool = False,
    channel_id: str | None = None, content: dict[str, Any] | None = None,
) -> Digest | None:
    """Claim `period` for the round (its unique key makes this a one-time claim); None if it
    was claimed already, by another worker or earlier."""
    row = Digest(round_id=round_id, period=period, state="claimed", late=late,
                 channel_id=channel_id, content=content, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def record_digest(
    session: Session, round_id: int, period: str, view: DigestView, now: datetime
) -> Digest | None:
    """Claim `period` for the round and store the digest's snapshot; None if already claimed."""
    return claim_digest(session, round_id, period, now, late=view.round.late,
                        content=snapshot(view))


def last_recorded(session: Session, round_id: int) -> Digest | None:
    """The round's most recent recorded digest that holds a snapshot."""
    return session.scalar(
        select(Digest)
        .where(Digest.round_id == round_id, Digest.content.is_not(None))
        .order_by(Digest.created_at.desc(), Digest.id.desc())
        .limit(1)
    )


def with_changes(view: DigestView, previous: Digest | None) -> DigestView:
    """The view, leading with what changed since `previous` (unchanged when there is none)."""
    if previous is None or not previous.content:
        return view
    return replace(view, since_last=compare(previous.content, view, previous.period))


def compare(before: dict[str, Any], view: DigestView, period: str = "") -> SinceLast:
    """What is new in `view` against an earlier snapshot."""
    old_prompts = {p["prompt_id"]: p for p in before.get("prompts", [])}
    new_by_prompt: dict[str, int] = {}
    new_themes: list[ThemeChange] = []
    grown: list[ThemeChange] = []
    moves: list[RankMove] = []
    for prompt in view.prompts:
        old = old_prompts.get(prompt.prompt_id, {})
        old_themes = [set(t["reply_ids"]) for t in old.get("themes", [])]
        seen = set(old.get("unthemed_reply_ids", [])).union(*old_themes)
        current = [*prompt.unthemed_reply_ids, *(r for t in prompt.themes for r in t.reply_ids)]
        fresh = {r for r in current if r not in seen}
        if fresh:
            new_by_prompt[prompt.prompt_id] = len(fresh)
        old_themed = set().union(*old_themes)
        for theme in prompt.themes:
            ids = set(theme.reply_ids)
            added = len(ids & fresh)
            change = ThemeChange(prompt.prompt_id, theme.title, added, len(ids))
            if len(ids & old_themed) * 2 < len(ids) and added:
                new_themes.append(change)
            elif added:
                grown.append(change)
        moves += _moves(prompt.prompt_id, old.get("ranking", []), prompt.ranking)
    return SinceLast(
        previous_period=period,
        previous_at=str(before.get("generated_at", "")),
        new_answers=sum(new_by_prompt.values()),
        new_by_prompt=new_by_prompt,
        new_people=max(0, view.participation["answered_any"] - before.get("answered_any", 0)),
        new_themes=new_themes,
        grown_themes=sorted(grown, key=lambda c: -c.added),
        moves=moves,
    )


def _moves(prompt_id: str, before: list[dict[str, Any]], now: list[Any]) -> list[RankMove]:
    """Options whose place changed, among those placed with points now or before."""
    old_place = {r["option"]: i for i, r in enumerate(before, start=1) if r.get("score")}
    if not old_place:
        return []
    out = []
    for place, row in enumerate(now, start=1):
        was = old_place.get(row.option)
        if row.score and was is not None and was != place and min(place, was) <= MOVES_WITHIN:
            out.append(RankMove(prompt_id, row.option, place, was))
    return out
