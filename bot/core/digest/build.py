"""Load a round's answers and build its digest view model."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.digest.model import AnswerView, DigestView, PromptDigest, RoundInfo
from bot.core.digest.ranking import borda, tally
from bot.core.packs import Prompt
from bot.core.replies import ROOM_SOURCE
from bot.core.rounds import get_round, participation, round_pack
from storage.models import Reply, Round
from storage.queries import live_replies

MIN_ROLE_GROUP = 3
"""A role is shown beside a quote only when at least this many people of that role answered."""


def build_digest(
    session: Session, round_id: int, now: datetime, *, late: bool = False
) -> DigestView:
    round_ = get_round(session, round_id)
    pack = round_pack(round_)
    replies = live_replies(session, round_id)
    by_prompt: dict[str, list[Reply]] = defaultdict(list)
    for reply in replies:
        by_prompt[reply.prompt_id].append(reply)
    shown_roles = _roles_safe_to_show(replies)
    prompts = [
        _prompt_digest(prompt, by_prompt[prompt.id], round_, shown_roles) for prompt in pack.prompts
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
    return DigestView(info, participation(session, round_).as_dict(), prompts)


def _prompt_digest(
    prompt: Prompt, replies: list[Reply], round_: Round, shown_roles: set[str]
) -> PromptDigest:
    if prompt.kind == "text":
        answers = [_answer_view(r, round_, shown_roles) for r in replies if r.text]
        return PromptDigest(
            prompt.id,
            prompt.section,
            prompt.kind,
            prompt.question,
            len(answers),
            unthemed_reply_ids=[a.reply_id for a in answers],
            answers=answers,
        )
    ballots = [r.choices for r in replies if r.choices]
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
        unthemed_reply_ids=[r.public_id for r in replies if r.choices],
        ranking=ranking,
    )


def _roles_safe_to_show(replies: list[Reply]) -> set[str]:
    people_by_role: dict[str, set[int]] = defaultdict(set)
    for reply in replies:
        if reply.participant.role:
            people_by_role[reply.participant.role].add(reply.participant_id)
    return {role for role, people in people_by_role.items() if len(people) >= MIN_ROLE_GROUP}


def _answer_view(reply: Reply, round_: Round, shown_roles: set[str]) -> AnswerView:
    person = reply.participant
    role = person.role if person.role in shown_roles else None
    if round_.anonymity == "named":
        by = person.display_name or person.platform_user_id
        by = f"{by} ({person.role})" if person.role else by
    elif round_.anonymity == "role":
        by = role
    else:
        by = None
    return AnswerView(
        reply.public_id,
        reply.text or "",
        by,
        role if round_.anonymity != "anonymous" else None,
        reply.source == ROOM_SOURCE,
    )
