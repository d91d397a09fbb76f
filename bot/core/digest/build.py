"""Load a round's answers and build its digest view model."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.digest.changes import last_recorded, with_changes
from bot.core.digest.model import AnswerView, DigestView, PromptDigest, RoundInfo
from bot.core.digest.ranking import borda, tally
from bot.core.digest.theme_views import Engine, engine_grouping, engine_noise, theme_views
from bot.core.packs import Prompt
from bot.core.replies import ROOM_SOURCE
from bot.core.rounds import get_round, participation, round_pack
from storage.models import Reply, Round
from storage.queries import live_replies

MIN_ROLE_GROUP = 3
"""A role is shown beside a quote only when at least this many people of that role answered."""
CHOICE_JOIN = "; "

Summariser = Callable[[DigestView], DigestView]
"""Rewrites titles and summaries (bot.core.digest.summariser); must keep quotes verbatim."""


def build_digest(
    session: Session,
    round_id: int,
    now: datetime,
    *,
    late: bool = False,
    engine: Engine = engine_grouping,
    summariser: Summariser | None = None,
) -> DigestView:
    """Everything a digest shows, loaded first and then grouped: themes, votes, who took part,
    and what changed since the last recorded digest."""
    round_ = get_round(session, round_id)
    pack = round_pack(round_)
    replies = live_replies(session, round_id)
    by_prompt: dict[str, list[Reply]] = defaultdict(list)
    for reply in replies:
        by_prompt[reply.prompt_id].append(reply)
    shown_roles = _roles_safe_to_show(replies)
    prompts = [
        _prompt_digest(prompt, by_prompt[prompt.id], round_, shown_roles, engine)
        for prompt in pack.prompts
    ]
    info = RoundInfo(
        id=round_.id,
        pack_id=pack.id,
        title=pack.title,
        intro=pack.intro,
        workshop_date=pack.workshop_date.isoformat(),
        status=round_.status,
        anonymity=round_.anonymity,
        opens_at=round_.opens_at.isoformat(),
        closes_at=round_.closes_at.isoformat() if round_.closes_at else None,
        generated_at=now.isoformat(),
        late=late,
    )
    view = DigestView(info, participation(session, round_).as_dict(), prompts)
    if summariser is not None:
        view = summariser(view)
    return with_changes(view, last_recorded(session, round_id))


def _prompt_digest(
    prompt: Prompt, replies: list[Reply], round_: Round, shown_roles: set[str], engine: Engine
) -> PromptDigest:
    if prompt.kind == "text":
        answers = [_answer_view(r, r.text, round_, shown_roles) for r in replies if r.text]
        answers = [replace(a, noise=engine_noise(a.text)) for a in answers]
        themes, unthemed = theme_views(answers, round_.anonymity, engine)
        titles = {r: t.title for t in themes for r in t.reply_ids}
        return PromptDigest(
            prompt.id,
            prompt.section,
            prompt.kind,
            prompt.question,
            len(answers),
            themes=themes,
            unthemed_reply_ids=unthemed,
            answers=[replace(a, theme=titles.get(a.reply_id)) for a in answers],
        )
    voted = [r for r in replies if r.choices]
    ballots = [r.choices or [] for r in voted]
    ranking = (
        borda(ballots, prompt.options, prompt.picks)
        if prompt.kind == "rank"
        else tally(ballots, prompt.options)
    )
    return PromptDigest(
        prompt.id,
        prompt.section,
        prompt.kind,
        prompt.question,
        len(ballots),
        unthemed_reply_ids=[r.public_id for r in voted],
        ranking=ranking,
        answers=[
            _answer_view(r, CHOICE_JOIN.join(r.choices or []), round_, shown_roles) for r in voted
        ],
    )


def _roles_safe_to_show(replies: list[Reply]) -> set[str]:
    people_by_role: dict[str, set[int]] = defaultdict(set)
    for reply in replies:
        if reply.participant.role:
            people_by_role[reply.participant.role].add(reply.participant_id)
    return {role for role, people in people_by_role.items() if len(people) >= MIN_ROLE_GROUP}


def _answer_view(reply: Reply, text: str, round_: Round, shown_roles: set[str]) -> AnswerView:
    """The answer with the attribution the round's anonymity allows."""
    person = reply.participant
    if round_.anonymity == "named":
        name = person.display_name or person.platform_user_id
        by: str | None = f"{name} ({person.role})" if person.role else name
        role = person.role
    elif round_.anonymity == "role":
        by = role = person.role if person.role in shown_roles else None
    else:
        by = role = None
    return AnswerView(
        reply.public_id,
        text,
        by,
        role,
        reply.source == ROOM_SOURCE,
        source="room" if reply.source == ROOM_SOURCE else reply.source,
    )
