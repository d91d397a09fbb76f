"""Load a round's answers and build its digest view model."""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.digest.changes import last_recorded, with_changes
from bot.core.digest.edits import Joining, apply_edits, load_edits
from bot.core.digest.lexicon import says_nothing
from bot.core.digest.model import (
    AnswerView,
    DigestView,
    OptionReasons,
    PromptDigest,
    QuoteView,
    RoundInfo,
)
from bot.core.digest.not_quoted import keep_unquoted_out
from bot.core.digest.novelty import judge, reach
from bot.core.digest.ranking import RankRow, borda, in_top, tally
from bot.core.digest.theme_views import (
    Engine,
    QuestionThemes,
    engine_grouping,
    quote_text,
    theme_views,
)
from bot.core.packs import Prompt
from bot.core.public_ids import public_reply_id
from bot.core.replies import ROOM_SOURCE
from bot.core.rounds import MIN_GROUP, get_round, participation, round_pack, takes_part
from bot.core.typed_votes import read_vote_and_reason
from storage.models import Participant, Reply, Round

MIN_ROLE_GROUP = MIN_GROUP
"""A role is shown beside a quote only when at least this many people of that role answered
(and an organisation only when this many of that role and organisation did)."""
CHOICE_JOIN = "; "
NOT_QUOTED = "(asked not to be quoted)"
"""What outputs show in place of the words of an answer whose author said "don't quote me"."""

Summariser = Callable[[DigestView], DigestView]
"""Rewrites titles and summaries (bot.core.digest.summariser); must keep quotes verbatim.
One with an `engine` (a language model's grouping) also groups the answers."""


class Answered(NamedTuple):
    """One live reply with the little of its author a digest needs (loaded as plain rows)."""

    id: int
    external_id: str | None
    prompt_id: str
    participant_id: int
    text: str | None
    choices: list[str] | None
    source: str
    quotable: bool
    role: str | None
    organisation: str | None
    name: str | None
    user_id: str
    created_at: datetime
    public_id: str = ""
    """The id outputs name the answer by (bot/core/public_ids.py), set once loaded."""


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
    if engine is engine_grouping:
        engine = getattr(summariser, "engine", None) or engine
    round_ = get_round(session, round_id)
    pack = round_pack(round_)
    replies = _live_answers(session, round_)
    by_prompt: dict[str, list[Answered]] = defaultdict(list)
    for reply in replies:
        by_prompt[reply.prompt_id].append(reply)
    shown_roles = _roles_safe_to_show(replies)
    prompts = [
        _prompt_digest(prompt, by_prompt[prompt.id], round_, shown_roles, engine)
        for prompt in pack.prompts
    ]
    if any(reply.source == ROOM_SOURCE for reply in replies):
        prompts = [_beyond_the_room(p) for p in prompts]
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
    view = DigestView(info, {}, prompts)
    if summariser is not None:
        view = summariser(view)
    joining = Joining({r.public_id: r.created_at for r in replies},
                      {r.public_id: r.text for r in replies if r.text}, reach)
    edited = apply_edits(view, load_edits(session, round_id), joining)  # their word is last
    # Who answered, by the rule status, the home page and the kept summary use (a reply with
    # no letter answers nothing), not by the model's set-aside: every view gives one count.
    shown = participation(session, round_).shown(round_.anonymity, shown_roles.roles,
                                                 shown_roles.organisations)
    return with_changes(replace(edited.view, participation=shown),
                        last_recorded(session, round_id), judge=judge, placed=edited.placed)


def _beyond_the_room(prompt: PromptDigest) -> PromptDigest:
    """Mark the themes no answer from the room is in (the round has answers from the room)."""
    if not prompt.themes:
        return prompt
    return replace(prompt, themes=[replace(t, beyond_room=t.origin == "chat")
                                   for t in prompt.themes])


def _live_answers(session: Session, round_: Round) -> list[Answered]:
    """The round's replies that were not deleted, oldest first, as plain rows (fast at 100k),
    each with the id outputs name it by."""
    rows = session.execute(
        select(
            Reply.id,
            Reply.external_id,
            Reply.prompt_id,
            Reply.participant_id,
            Reply.text,
            Reply.choices,
            Reply.source,
            Reply.quotable,
            Participant.role,
            Participant.organisation,
            Participant.display_name,
            Participant.platform_user_id,
            Reply.created_at,
        )
        .join(Participant, Participant.id == Reply.participant_id)
        .where(Reply.round_id == round_.id, Reply.deleted_at.is_(None))
        .order_by(Reply.created_at, Reply.id)
    )
    return [
        answered._replace(public_id=public_reply_id(
            round_.secret, round_.anonymity, answered.id, answered.external_id, answered.source))
        for answered in (Answered._make((*row, "")) for row in rows)
    ]


def _prompt_digest(
    prompt: Prompt, replies: list[Answered], round_: Round, shown_roles: Shown, engine: Engine
) -> PromptDigest:
    if prompt.kind == "text":
        written = [r for r in replies if r.text]
        answers = [
            _answer_view(r, r.text or "", round_, shown_roles, noise=says_nothing(r.text or ""))
            for r in written
        ]
        built = _themes_once(round_.id, prompt, answers, round_.anonymity, engine)
        themes = keep_unquoted_out(built.themes, answers,
                                   {a.reply_id: a.text for a in answers})
        titles = {r: t.title for t in themes for r in t.reply_ids}
        marked = built.marked(answers)
        not_answers = sum(a.noise for a in marked)
        return PromptDigest(
            prompt.id,
            prompt.section,
            prompt.kind,
            prompt.question,
            len(marked) - not_answers,
            themes=themes,
            unthemed_reply_ids=built.unthemed,
            answers=[_outward(replace(a, theme=titles.get(a.reply_id))) for a in marked],
            not_answer_count=not_answers,
        )
    voted = [r for r in replies if r.choices]
    ballots = [r.choices or [] for r in voted]
    ranking = (
        borda(ballots, prompt.options, prompt.picks)
        if prompt.kind == "rank"
        else tally(ballots, prompt.options)
    )
    said = [r for r in replies if not r.choices and r.text]
    comments = [
        _outward(_answer_view(r, r.text or "", round_, shown_roles,
                              noise=says_nothing(r.text or ""), comment=True))
        for r in said
    ]
    ballots_seen = [_with_reason(prompt, r, _answer_view(r, CHOICE_JOIN.join(r.choices or []),
                                                         round_, shown_roles))
                    for r in voted]
    reasons, others = _reasons(prompt, ranking, voted, ballots_seen, comments)
    return PromptDigest(
        prompt.id,
        prompt.section,
        prompt.kind,
        prompt.question,
        len(ballots),
        unthemed_reply_ids=[r.public_id for r in replies if r.choices or r.text],
        ranking=ranking,
        answers=ballots_seen + comments,
        picks=prompt.picks,
        reasons=reasons,
        comments=others,
    )


def _reasons(prompt: Prompt, ranking: list[RankRow], voted: list[Answered],
             ballots: list[AnswerView], comments: list[AnswerView]
             ) -> tuple[list[OptionReasons], list[QuoteView]]:
    """A reason is the words typed after a ballot, in the same message: each is shown under
    the option its author put first, where that option is in the top. Words written to the
    question apart from a ballot are comments on the question, whenever they were written,
    and are listed as such (with the reasons whose first choice is outside the top)."""
    top = [row.option for row in ranking if in_top(row, prompt.picks)]
    under: dict[str, list[QuoteView]] = {option: [] for option in top}
    others: list[QuoteView] = []
    for reply, view in zip(voted, ballots, strict=True):
        if view.reason:
            quote = QuoteView(view.reply_id, quote_text(view.reason), view.by)
            under.get((reply.choices or [""])[0], others).append(quote)
    others += [QuoteView(view.reply_id, quote_text(view.text), view.by)
               for view in comments if not view.noise and view.quotable]
    return [OptionReasons(o, q) for o, q in under.items() if q], others


_BUILT: OrderedDict[tuple[object, ...], QuestionThemes] = OrderedDict()
_BUILT_LOCK = threading.Lock()
BUILT_KEPT = 32
"""Questions whose themes are kept: a digest's formats and its post share one build."""


def _themes_once(round_id: int, prompt: Prompt, answers: list[AnswerView], anonymity: str,
                 engine: Engine) -> QuestionThemes:
    """The question's themes, built once per round, question and set of answers (and the
    way they may be attributed): exporting four formats or posting after a preview reuses
    them, and any new, edited or deleted answer builds them again."""
    key = (round_id, prompt.id, prompt.question, anonymity, engine,
           tuple((a.reply_id, a.text, a.by, a.role, a.source, a.said_in_room, a.noise,
            a.quotable)
                 for a in answers))
    with _BUILT_LOCK:
        if key in _BUILT:
            _BUILT.move_to_end(key)
            return _BUILT[key]
    built = theme_views(answers, anonymity, engine, prompt.question)
    with _BUILT_LOCK:
        _BUILT[key] = built
        while len(_BUILT) > BUILT_KEPT:
            _BUILT.popitem(last=False)
    return built


class Shown(NamedTuple):
    """What a by-role round may name: roles, and role-and-organisation pairs, that at least
    MIN_ROLE_GROUP people who answered share (beside a quote), and organisations as many
    answered from (in who took part, which names roles by the same rule)."""

    roles: set[str]
    pairs: set[tuple[str, str]]
    organisations: set[str]


def _roles_safe_to_show(replies: list[Answered]) -> Shown:
    """Counted over the people who said something: a reply with nothing in it ("+1") is
    set aside as not an answer, and its writer has not answered."""
    people_by_role: dict[str, set[int]] = defaultdict(set)
    people_by_pair: dict[tuple[str, str], set[int]] = defaultdict(set)
    people_by_organisation: dict[str, set[int]] = defaultdict(set)
    for reply in replies:
        if not takes_part(reply.choices, reply.text):
            continue
        if reply.organisation:
            people_by_organisation[reply.organisation].add(reply.participant_id)
        if reply.role:
            people_by_role[reply.role].add(reply.participant_id)
            if reply.organisation:
                people_by_pair[(reply.role, reply.organisation)].add(reply.participant_id)
    return Shown(
        {role for role, people in people_by_role.items() if len(people) >= MIN_ROLE_GROUP},
        {pair for pair, people in people_by_pair.items() if len(people) >= MIN_ROLE_GROUP},
        {org for org, people in people_by_organisation.items()
         if len(people) >= MIN_ROLE_GROUP},
    )


def _with_reason(prompt: Prompt, reply: Answered, view: AnswerView) -> AnswerView:
    """The ballot with the reason typed after it, where its writer lets it be quoted."""
    reason = read_vote_and_reason(prompt, reply.text)[1] if reply.text else None
    return replace(view, reason=reason) if view.quotable else view


def _outward(answer: AnswerView) -> AnswerView:
    """The answer as the view outputs get shows it: without its words where its author asked
    not to be quoted (NOT_QUOTED)."""
    return answer if answer.quotable else replace(answer, text=NOT_QUOTED)


def _answer_view(
    reply: Answered,
    text: str,
    round_: Round,
    shown_roles: Shown,
    *,
    noise: bool = False,
    comment: bool = False,
) -> AnswerView:
    """The answer with the attribution the round's anonymity allows, with its words (an
    answer its author asked not to be quoted keeps them only for finding its theme: see
    `_outward`)."""
    name = organisation = None
    if round_.anonymity == "named":
        name, organisation = reply.name or reply.user_id, reply.organisation
        by: str | None = f"{name} ({reply.role})" if reply.role else name
        role = reply.role
    elif round_.anonymity == "role":
        role = reply.role if reply.role in shown_roles.roles else None
        by = role
        if role and reply.organisation and (role, reply.organisation) in shown_roles.pairs:
            organisation = reply.organisation
            by = f"{role}, {organisation}"
    else:
        by = role = None
    return AnswerView(
        reply.public_id,
        text,
        by,
        role,
        reply.source == ROOM_SOURCE,
        source="room" if reply.source == ROOM_SOURCE else reply.source,
        noise=noise,
        quotable=reply.quotable,
        comment=comment,
        name=name,
        organisation=organisation,
        writer=str(reply.participant_id),
    )
