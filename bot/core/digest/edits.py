"""A facilitator's edits to a round's digests, applied to every build after they were made.

A theme has no id of its own: the engine groups the answers afresh each time. An edit names a
theme by the answers it held when it was edited, and applies to the theme of today's build
that holds most of those answers (`matching`): a renamed theme keeps its name while it keeps
most of its answers, and an edit whose theme has gone applies to nothing. Answers are named by
their public id, which does not change. A theme a facilitator made (`group`) also takes in
the answers given after they chose its answers that are nearer to it than to where the engine put
them (`_joining`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.digest import not_quoted, titles
from bot.core.digest.model import AnswerView, DigestView, PromptDigest, ThemeView
from bot.core.digest.novelty import Reach
from bot.core.digest.spread import spread
from bot.core.digest.theme_views import (
    OTHER_ROLES,
    QUOTES_PER_THEME,
    origin_of,
    quotes_of,
    roles_of,
)
from bot.core.wording import reading_order
from storage.models import DigestEdit

ACTIONS = ("rename", "merge", "move", "group", "hide", "show", "lead")
HIDDEN = "(not quoted: hidden in review)"
"""The text outputs show for an answer a facilitator hid (it still counts in its theme)."""
TITLE_LIMIT = 120
LEAD_LIMIT = 280
"""A lead is one line: a headline, not a paragraph."""


@dataclass(frozen=True)
class Edit:
    prompt_id: str
    action: str
    theme: tuple[str, ...] | None = None
    other: tuple[str, ...] | None = None
    reply_id: str | None = None
    text: str | None = None
    at: datetime | None = None
    seen_at: datetime | None = None
    """group: when the draft the facilitator chose from was shown to them, at or before `at`
    (None: `at`)."""

    @property
    def since(self) -> datetime | None:
        """group: answers given after this may join the theme (the facilitator could not
        see them when they chose); those given before, they saw and left."""
        return self.seen_at or self.at


@dataclass(frozen=True)
class Joining:
    """What a theme a facilitator made needs to take in the answers given after it was made:
    when each answer was given and its words, by public id (the words of one whose author
    asked not to be quoted too: read to place it, as the engine reads them, never shown),
    and how far inside each theme's reach answers are (novelty.reach)."""

    given_at: Mapping[str, datetime]
    words: Mapping[str, str]
    reach: Callable[[Sequence[str], Sequence[Sequence[str]]], Reach | None]


class Edited(NamedTuple):
    """A view with a facilitator's edits applied (`apply_edits`)."""

    view: DigestView
    placed: dict[str, set[str]]
    """By question, the answers a facilitator put into a theme (`placed`), and those that
    joined a theme they made."""


JOINS_JUDGED_AT_MOST = 200
"""Answers given after a theme was made that are judged for joining it, the first given
first (the same ones each digest, so none goes back): a bound on the model's time (some 8 ms
an answer it has not read already), not a figure fitted to answers."""
REFERENCE_AT_MOST = 10
"""Answers of each theme (spread over it) that those answers are judged against, as for
"new since the last digest" (changes.EARLIER_JUDGED)."""


def load_edits(session: Session, round_id: int) -> list[Edit]:
    """The round's edits, in the order they were made."""
    rows = session.scalars(select(DigestEdit).where(DigestEdit.round_id == round_id)
                           .order_by(DigestEdit.id))
    return [Edit(r.prompt_id, r.action, tuple(r.theme) if r.theme is not None else None,
                 tuple(r.other) if r.other is not None else None, r.reply_id, r.text, r.at,
                 r.seen_at) for r in rows]


def placed(edits: Sequence[Edit]) -> dict[str, set[str]]:
    """By question, the answers a facilitator put into a theme: those of a theme they merged
    into another, those they moved to a theme, and those they made a new theme of."""
    out: dict[str, set[str]] = {}
    for edit in edits:
        if edit.action in ("merge", "group") and edit.other:
            out.setdefault(edit.prompt_id, set()).update(edit.other)
        elif edit.action == "move" and edit.theme and edit.reply_id:
            out.setdefault(edit.prompt_id, set()).add(edit.reply_id)
    return out


def lead_of(edits: Sequence[Edit], prompt_id: str) -> str | None:
    """The lead a question has after these edits (the last one written), or None."""
    leads = [e for e in edits if e.prompt_id == prompt_id and e.action == "lead"]
    return _lead(leads[-1]) if leads else None


def _lead(edit: Edit) -> str | None:
    return (edit.text or "").strip() or None


def matching(themes: Sequence[ThemeView], ids: Iterable[str], present: set[str]) -> int | None:
    """The index of the theme that holds most of `ids` (of those still answers of the
    question), or None when no theme holds more than half of them."""
    wanted = set(ids) & present
    if not wanted:
        return None
    best, best_shared = None, 0
    for index, theme in enumerate(themes):
        shared = len(wanted.intersection(theme.reply_ids))
        if shared > best_shared:
            best, best_shared = index, shared
    return best if best_shared * 2 > len(wanted) else None


def apply_edits(view: DigestView, edits: Sequence[Edit], joining: Joining | None = None
                ) -> Edited:
    """The view with every edit that still applies, in order; then each edited question's
    themes told again from the answers they now hold (`_settled`). Without `joining`, a
    theme a facilitator made holds only the answers they named."""
    put = placed(edits)
    if not edits:
        return Edited(view, put)
    room = any(a.said_in_room for p in view.prompts for a in p.answers)
    edits = _net_of_shown(edits)
    prompts = []
    for before in view.prompts:
        mine = [e for e in edits if e.prompt_id == before.prompt_id]
        prompt = before
        for edit in mine:
            if edit.action == "group" and joining is not None:
                joined = _joining(prompt, edit, mine, joining)
                put.setdefault(prompt.prompt_id, set()).update(joined)
                edit = replace(edit, other=(*(edit.other or ()), *joined))
            prompt = _apply(prompt, edit, view.round.anonymity)
        if mine:
            titled = {e.text for e in mine if e.action in ("rename", "group") and e.text}
            prompt = _with_answer_themes(_settled(before, prompt, titled, room))
        prompts.append(prompt)
    return Edited(replace(view, prompts=prompts), put)


def _joining(prompt: PromptDigest, edit: Edit, edits: Sequence[Edit], joining: Joining
             ) -> list[str]:
    """The answers given after the draft `edit` made its theme from was shown (`Edit.since`:
    the facilitator could not see them) that join it: those it covers (as an
    earlier theme covers a new answer, novelty.reach) and reaches further into than the
    theme the engine put them in, each theme measured on its own scale against the answers
    it held that were not given since. Not one a facilitator moved or grouped themselves
    (their word is last), nor a reply the engine did not take for an answer (a non-answer or
    a remark about the exchange); nothing when it cannot be judged."""
    since_shown = edit.since
    if since_shown is None or not edit.other or prompt.kind != "text":
        return []
    where: dict[str, int | None] = {r: i for i, t in enumerate(prompt.themes)
                                     for r in t.reply_ids}
    where.update((r, None) for r in prompt.unthemed_reply_ids)
    named = [r for r in edit.other if r in where and r in joining.words]
    chosen = {e.reply_id for e in edits if e.action == "move" and e.reply_id}
    chosen.update(r for e in edits if e.action == "group" for r in e.other or ())
    later = [a.reply_id for a in prompt.answers
             if a.reply_id in where and a.reply_id not in chosen and not a.set_aside
             and a.reply_id in joining.words
             and (given := joining.given_at.get(a.reply_id)) is not None and given > since_shown]
    if not named or not later:
        return []
    since = set(later)
    settled = [[r for r in t.reply_ids if r not in since and r not in edit.other]
               for t in prompt.themes]
    references = [[joining.words[r] for r in spread(ids, REFERENCE_AT_MOST)
                   if r in joining.words]
                  for ids in [named, *settled]]
    judged = later[:JOINS_JUDGED_AT_MOST]
    reach = joining.reach([joining.words[r] for r in judged], references)
    if reach is None:
        return []
    joined = []
    for row, reply_id in zip(reach, judged, strict=True):
        theirs, now = row[0], where[reply_id]
        if theirs >= 0 and (now is None or theirs > row[now + 1]):
            joined.append(reply_id)
    return joined


def _net_of_shown(edits: Sequence[Edit]) -> list[Edit]:
    """The edits without the hides a later "show" took back (the answer is quoted again as
    the engine chose), and without the shows themselves."""
    last: dict[str, str] = {}
    for edit in edits:
        if edit.action in ("hide", "show") and edit.reply_id:
            last[edit.reply_id] = edit.action
    return [e for e in edits if e.action != "show" and not (
        e.action == "hide" and e.reply_id and last.get(e.reply_id) == "show")]


def _settled(before: PromptDigest, after: PromptDigest, titled: set[str], room: bool
             ) -> PromptDigest:
    """A question after its edits, its themes ordered by size again. A theme whose answers
    changed (merged, moved, made a new theme) is summed up again from them: its count, roles
    and what they say, where its answers were given and whether it was raised beyond the
    room. The words of an answer a facilitator hid leave every summary, every title but one
    they wrote, and the answer's own text in the outputs (HIDDEN), as for one whose author
    asked not to be quoted."""
    was_quotable = {a.reply_id for a in before.answers if a.quotable}
    hidden = {a.reply_id: a.text for a in after.answers
              if not a.quotable and a.reply_id in was_quotable}
    unchanged = {frozenset(t.reply_ids) for t in before.themes}
    by_id = {a.reply_id: a for a in after.answers}
    theirs = not_quoted.OwnWords(list(hidden.values()),
                                 [a.text for a in after.answers if a.quotable])
    themes = []
    for theme in after.themes:
        members = [by_id[r] for r in theme.reply_ids if r in by_id]
        if frozenset(theme.reply_ids) not in unchanged:
            said = _words_of(members, after)
            origin = origin_of(members)
            theme = replace(theme, origin=origin, beyond_room=room and origin == "chat",
                            quotes=quotes_of(members, [q.reply_id for q in theme.quotes]))
            if not (theme.title in titled or theme.written_by_model
                    or _said_by_one_of(theme.title, members)):
                theme = replace(theme, title=said.title or theme.title)
            theme = replace(theme, summary=said.summary(theme, members))
        elif hidden and theirs.found_in(theme.summary):
            theme = replace(theme, summary=_words_of(members, after).summary(theme, members))
        themes.append(theme)
    if hidden:  # summaries are made without them by now; an engine's title may be theirs
        safe = not_quoted.keep_unquoted_out(themes, after.answers,
                                            {a.reply_id: a.text for a in after.answers})
        themes = [theme if theme.title in titled else replace(theme, title=kept.title)
                  for theme, kept in zip(themes, safe, strict=True)]
    answers = [replace(a, text=HIDDEN, hidden=True) if a.reply_id in hidden else a
               for a in after.answers]
    themes.sort(key=lambda t: -len(t.reply_ids))  # stable: equal sizes keep their order
    return replace(after, themes=themes, answers=answers)


SAMPLE_WORDS = 200
"""Answers of a theme (spread over it) whose words a summary made after an edit reads."""


@dataclass(frozen=True)
class _Words:
    """What a theme's answers say, read as the engine reads them at build: the texts of the
    ones that may be quoted (at most SAMPLE_WORDS, spread over them) and each content word's
    weight against the question's other answers."""

    texts: list[str]
    sample: list[AnswerView]
    scores: dict[str, float]

    @property
    def title(self) -> str | None:
        """A whole phrase of one of the answers (titles.title), or None when none may be
        quoted."""
        if not self.texts:
            return None
        return titles.title(self.texts, range(len(self.texts)), self.scores)

    def summary(self, theme: ThemeView, members: Sequence[AnswerView]) -> str:
        """The offline summary of `theme`, holding `members` (titles.summary, as at build)."""
        quoted = {q.reply_id for q in theme.quotes}
        return titles.summary(len(members), [a.role for a in members], self.scores,
                              self.texts, theme.title,
                              [i for i, a in enumerate(self.sample) if a.reply_id in quoted])


def _words_of(members: Sequence[AnswerView], prompt: PromptDigest) -> _Words:
    inside = {a.reply_id for a in members}
    sayable = [a for a in members if a.quotable]
    sample = spread(sayable, SAMPLE_WORDS)
    others = [a.text for a in prompt.answers
              if a.reply_id not in inside and a.quotable and not a.noise]
    others = spread(others, SAMPLE_WORDS)
    texts = [a.text for a in sample]
    return _Words(texts, sample, titles.distinctive_terms(texts, others))


def _said_by_one_of(title: str, members: Sequence[AnswerView]) -> bool:
    """Whether the title is a phrase of one of the answers that may be quoted (an engine's
    title taken from an answer since moved out is not)."""
    wanted = " ".join(title.lower().split())
    return any(wanted in " ".join(a.text.lower().split()) for a in members if a.quotable)


def _present(prompt: PromptDigest) -> set[str]:
    return set(prompt.unthemed_reply_ids).union(*(t.reply_ids for t in prompt.themes))


def _apply(prompt: PromptDigest, edit: Edit, anonymity: str) -> PromptDigest:
    themes = list(prompt.themes)
    present = _present(prompt)
    if edit.action == "lead":
        return replace(prompt, lead=_lead(edit))
    if edit.action == "hide" and edit.reply_id:
        return _hidden(prompt, edit.reply_id)
    if edit.action == "rename" and edit.theme and edit.text:
        index = matching(themes, edit.theme, present)
        if index is not None:
            themes[index] = replace(themes[index], title=edit.text)
        return replace(prompt, themes=themes)
    if edit.action == "merge" and edit.theme and edit.other:
        kept, merged = matching(themes, edit.theme, present), matching(themes, edit.other,
                                                                      present)
        if kept is None or merged is None or kept == merged:
            return prompt
        themes[kept] = _merged(themes[kept], themes[merged])
        del themes[merged]
        return replace(prompt, themes=themes)
    if edit.action == "move" and edit.reply_id in present:
        return _moved(prompt, edit.reply_id, edit.theme, anonymity)
    if edit.action == "group" and edit.other and edit.text:
        return _grouped(prompt, [r for r in edit.other if r in present], edit.text, anonymity)
    return prompt


def _grouped(prompt: PromptDigest, ids: list[str], title: str, anonymity: str
             ) -> PromptDigest:
    """The answers `ids` taken out of where they were, as a new theme titled `title` (placed
    by its size and summed up when the question is settled)."""
    if not ids:
        return prompt
    for reply_id in ids:
        prompt = _moved(prompt, reply_id, None, anonymity)
    by_id = {a.reply_id: a for a in prompt.answers}
    members = [by_id[r] for r in ids if r in by_id]
    theme = ThemeView(title=title, summary="", quotes=quotes_of(members, []), reply_ids=ids,
                      roles=roles_of(members, anonymity), origin=origin_of(members))
    return replace(prompt, themes=[*prompt.themes, theme],
                   unthemed_reply_ids=[r for r in prompt.unthemed_reply_ids if r not in ids])


def _merged(kept: ThemeView, other: ThemeView) -> ThemeView:
    roles = Counter(kept.roles)
    roles.update(other.roles)
    return replace(
        kept,
        quotes=(kept.quotes + other.quotes)[:QUOTES_PER_THEME],
        reply_ids=kept.reply_ids + other.reply_ids,
        roles=_ordered(roles),
        origin=kept.origin if kept.origin == other.origin else "both",
    )


def _moved(prompt: PromptDigest, reply_id: str, to: tuple[str, ...] | None, anonymity: str
           ) -> PromptDigest:
    answer = next((a for a in prompt.answers if a.reply_id == reply_id), None)
    role = (answer.role if answer else None) or OTHER_ROLES
    target = matching(prompt.themes, to, _present(prompt)) if to else None
    if to and target is None:
        return prompt  # the theme it was moved to has gone: it stays where the engine put it
    themes: list[ThemeView | None] = []
    for index, theme in enumerate(prompt.themes):
        if reply_id in theme.reply_ids and index != target:
            roles = Counter(theme.roles)
            if anonymity != "anonymous":
                roles[role] -= 1
            ids = [r for r in theme.reply_ids if r != reply_id]
            theme = replace(theme, reply_ids=ids, roles=_ordered(roles),
                            quotes=[q for q in theme.quotes if q.reply_id != reply_id])
            themes.append(theme if ids else None)
        elif index == target and reply_id not in theme.reply_ids:
            roles = Counter(theme.roles)
            if anonymity != "anonymous":
                roles[role] += 1
            themes.append(replace(theme, reply_ids=[*theme.reply_ids, reply_id],
                                  roles=_ordered(roles)))
        else:
            themes.append(theme)
    unthemed = [r for r in prompt.unthemed_reply_ids if r != reply_id]
    if target is None:
        unthemed.append(reply_id)
    # Placed by a facilitator, a reply the engine set aside is an answer: counted and shown.
    answers = [replace(a, noise=False, doubtful=False)
               if a.reply_id == reply_id and a.set_aside else a
               for a in prompt.answers]
    taken = sum(a.noise for a in prompt.answers) - sum(a.noise for a in answers)
    return replace(prompt, themes=[t for t in themes if t is not None],
                   unthemed_reply_ids=unthemed, answers=answers,
                   answer_count=prompt.answer_count + taken,
                   not_answer_count=prompt.not_answer_count - taken)


def _hidden(prompt: PromptDigest, reply_id: str) -> PromptDigest:
    """Never quoted again: out of its theme's quotes, the other answers listed and a vote's
    reasons and comments; counted."""
    reasons = [replace(r, quotes=[q for q in r.quotes if q.reply_id != reply_id])
               for r in prompt.reasons]
    return replace(
        prompt,
        themes=[replace(t, quotes=[q for q in t.quotes if q.reply_id != reply_id])
                for t in prompt.themes],
        reasons=[r for r in reasons if r.quotes],
        comments=[q for q in prompt.comments if q.reply_id != reply_id],
        answers=[replace(a, quotable=False, reason=None) if a.reply_id == reply_id else a
                 for a in prompt.answers],
    )


def _ordered(roles: Counter[str]) -> dict[str, int]:
    return dict(sorted(((k, n) for k, n in roles.items() if n > 0),
                       key=lambda kv: (kv[0] == OTHER_ROLES, -kv[1], reading_order(kv[0]))))


def _with_answer_themes(prompt: PromptDigest) -> PromptDigest:
    titles = {r: t.title for t in prompt.themes for r in t.reply_ids}
    return replace(prompt, answers=[
        a if a.theme == titles.get(a.reply_id) else replace(a, theme=titles.get(a.reply_id))
        for a in prompt.answers])
