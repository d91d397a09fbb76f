"""Recorded digests and "new since the last digest".

Each digest that goes out is recorded for its period (the unique key on round and period makes
recording a one-time claim). What is stored is a snapshot of ids, titles, counts and rankings,
not people's words: enough to say what changed, and nothing that `forget-me` would leave behind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.digest.lexicon import says_nothing
from bot.core.digest.model import DigestView, PromptDigest, RankMove, SinceLast, ThemeChange
from bot.core.digest.novelty import Judgement
from bot.core.digest.spread import clustering_sample, read_first, spread
from bot.core.digest.theme_views import OTHER_ROLES
from bot.core.digest.titles import distinctive_terms, title
from bot.core.wording import reading_order
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
                    {"option": r.option, "score": r.score, "first_places": r.first_places,
                     "place": r.place}
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


def with_changes(view: DigestView, previous: Digest | None,
                 same_subject: SameSubject | None = None,
                 judge: NewAnswers | None = None,
                 placed: Mapping[str, Set[str]] | None = None) -> DigestView:
    """The view, leading with what changed since `previous` (unchanged when there is none:
    a round's first digest has no such section). `placed`: by question, the answers a
    facilitator put into a theme (bot.core.digest.edits.placed)."""
    if previous is None or not previous.content:
        return view
    return replace(view, since_last=compare(previous.content, view, previous.period,
                                            same_subject, judge, placed))


NEW_THEME_AT_LEAST = 3
"""A theme is new only with at least this many answers (fewer is one or two people's point)."""
EARLIER_SHARE = 4
"""A theme where one answer in this many or more sat in an earlier theme is the engine
regrouping a subject already there (with more answers it splits subjects finer), not news."""


def compare(before: dict[str, Any], view: DigestView, period: str = "",
            same_subject: SameSubject | None = None,
            judge: NewAnswers | None = None,
            placed: Mapping[str, Set[str]] | None = None) -> SinceLast:
    """What is new in `view` against an earlier snapshot.

    With `judge` (what build_digest uses: novelty.judge), the answers added since to a
    question that had themes are judged against those themes directly (see `_judged`),
    whatever the engine made of them this time. Otherwise the themes are matched: a theme
    keeps its identity while it holds most of the answers one of the earlier themes still
    has, and such a theme "grew" by its new answers, whatever it is called now. A theme is
    then new when it continues none, has NEW_THEME_AT_LEAST answers, most of them new, and
    is not made of answers of earlier themes (one in EARLIER_SHARE or more) nor about the
    subject of one (`same_subject`): the engine regrouping answers is not news."""
    old_prompts = {p["prompt_id"]: p for p in before.get("prompts", [])}
    new_by_prompt: dict[str, int] = {}
    new_by_role: Counter[str] = Counter()
    new_themes: list[ThemeChange] = []
    grown: list[ThemeChange] = []
    moves: list[RankMove] = []
    for prompt in view.prompts:
        old = old_prompts.get(prompt.prompt_id, {})
        old_themes = [set(t["reply_ids"]) for t in old.get("themes", [])]
        seen = set(old.get("unthemed_reply_ids", [])).union(*old_themes)
        current = [*prompt.unthemed_reply_ids, *(r for t in prompt.themes for r in t.reply_ids)]
        fresh = {r for r in current if r not in seen}
        # Counted as the question counts its answers: a reply set aside as not an answer
        # (or a vote's comment) is no new answer.
        new_answers = fresh - prompt.uncounted_ids()
        if new_answers:
            new_by_prompt[prompt.prompt_id] = len(new_answers)
        roles = {a.reply_id: a.role for a in prompt.answers}
        new_by_role.update(role for r in new_answers if (role := roles.get(r)))
        present = set(current)
        survivors = [o & present for o in old_themes]
        old_themed = set().union(*survivors)
        # A vote's ballots are counted, never themed (it shows no themes); a question with no
        # earlier theme has only new ones, shown as they are: nothing to judge against.
        if judge is not None and prompt.kind == "text" and any(survivors):
            found, more = _judged(prompt, [r for r in current if r in fresh], survivors,
                                  [t.get("title", "") for t in old.get("themes", [])], judge,
                                  (placed or {}).get(prompt.prompt_id, set()))
            new_themes += found
            grown += more
            moves += _moves(prompt.prompt_id, old.get("ranking", []), prompt.ranking)
            continue
        for theme in prompt.themes:
            ids = set(theme.reply_ids)
            added = len(ids & fresh)
            change = ThemeChange(prompt.prompt_id, theme.title, added, len(ids))
            if _continues(ids, survivors):
                if added:
                    grown.append(change)
            elif (len(ids) >= NEW_THEME_AT_LEAST and added * 2 > len(ids)
                  and len(ids & old_themed) * EARLIER_SHARE < len(ids)
                  and not (same_subject and _about_an_earlier(prompt, ids, survivors,
                                                               same_subject))):
                new_themes.append(change)
        moves += _moves(prompt.prompt_id, old.get("ranking", []), prompt.ranking)
    return SinceLast(
        previous_period=period,
        previous_at=str(before.get("generated_at", "")),
        new_answers=sum(new_by_prompt.values()),
        new_by_prompt=new_by_prompt,
        new_people=max(0, view.participation["answered_any"] - before.get("answered_any", 0)),
        new_by_role=_with_other_roles(new_by_role, sum(new_by_prompt.values())),
        new_themes=new_themes,
        grown_themes=sorted(grown, key=lambda c: -c.added),
        moves=moves,
    )


def _continues(ids: Set[str], survivors: Sequence[set[str]]) -> bool:
    """Whether a theme holding `ids` continues an earlier one: holds most of the answers it
    still has."""
    return any(o and len(ids & o) * 2 > len(o) for o in survivors)


SameSubject = Callable[[Sequence[str], Sequence[Sequence[str]]], bool]
"""(a theme's answers, each earlier theme's answers) -> whether the theme is about the
subject of one of the earlier themes."""
EARLIER_ANSWERS_COMPARED = 30
"""Answers of each earlier theme that a candidate new theme is compared with."""


JUDGED_AT_MOST = 40
"""New answers to a question that are judged one by one; beyond, an even sample of them."""
EARLIER_JUDGED = 10
"""Answers of each earlier theme (spread over it) that new answers are judged against."""
WORDS_READ_AT_MOST = 400
"""New answers to a question whose words are read for a new subject; beyond, an even sample
of them. Reading them costs no model run of the answers (only of words not met before, each
read alone once for its family), so far more are read than JUDGED_AT_MOST (eighteenth
session): a bound on the words test's cost, not a value chosen on a score."""


NewAnswers = Callable[[Sequence[str], Sequence[Sequence[str]], Sequence[int], Sequence[str]],
                      Judgement]
"""(the new answers judged one by one, each earlier theme's answers read, how many answers
each earlier theme holds, the other new answers whose words alone are read) -> which earlier
theme covers each new answer judged, and the groups of new answers (of both kinds, by their
index in the two lists one after the other) that make new themes (novelty.judge)."""


class Reading(NamedTuple):
    """What the decision reads of one question's answers."""

    judged: list[str]
    """New answers judged one by one: at most JUDGED_AT_MOST."""
    worded: list[str]
    """The other new answers whose words are read: at most WORDS_READ_AT_MOST in all."""
    earlier: list[list[str]]
    """Each earlier theme's answers read: at most EARLIER_JUDGED each."""


def not_judged(prompt: PromptDigest) -> set[str]:
    """The replies the engine did not take for answers (AnswerView.set_aside): they neither
    make a new theme nor grow one."""
    return {a.reply_id for a in prompt.answers if a.set_aside}


def reading(prompt: PromptDigest, new: Sequence[str], earlier: Sequence[Set[str]]) -> Reading:
    """What the decision reads of one question, however many answers came in: the words of
    at most WORDS_READ_AT_MOST of the `new` answers, at most JUDGED_AT_MOST of them judged one
    by one (an even sample stands for them all), and EARLIER_JUDGED of each `earlier` theme's.
    Those the engine's model read to find the themes are judged first (`spread.read_first`):
    read again, they cost no model run. A question of up to SAMPLE answers was read whole, so
    there they are simply spread."""
    kept = [a for a in prompt.answers if not says_nothing(a.text)]
    answers = [a.reply_id for a in kept if not a.set_aside]
    read = {answers[i] for i in clustering_sample([a.set_aside for a in kept])}
    worded = spread(new, WORDS_READ_AT_MOST)
    judged = read_first(worded, read, JUDGED_AT_MOST)
    chosen = set(judged)
    return Reading(judged, [r for r in worded if r not in chosen],
                   [read_first(sorted(ids), read, EARLIER_JUDGED) for ids in earlier])


def _judged(prompt: PromptDigest, fresh: list[str], survivors: list[set[str]],
            old_titles: list[str], judge: NewAnswers, placed: Set[str] = frozenset()
            ) -> tuple[list[ThemeChange], list[ThemeChange]]:
    """New and grown themes of one question, from `judge`: each new answer covered by an
    earlier theme makes it grow (named as the theme now shown that holds most of what it
    held); each group of uncovered new answers is one new theme, named as the theme now shown
    that is mostly that group, else titled from the group's own answers (a theme shown grows
    by no more new answers than it holds). But a new answer
    that a facilitator put (`placed`: merged, moved, or joined to a theme they made) into a
    theme continuing an earlier one makes that theme grow, unjudged; and a theme they made
    themselves is new by its own answers: their word is last, as in the rest of the
    digest."""
    texts = {a.reply_id: a.text for a in prompt.answers}
    shown = [(t, set(t.reply_ids)) for t in prompt.themes]
    continuing = [ids for _, ids in shown if _continues(ids, survivors)]
    grew: dict[str, ThemeChange] = {}
    grew_by: dict[str, float] = {}

    def grow(name: str, total: int, by: float) -> None:
        grew_by[name] = grew_by.get(name, 0.0) + by
        was = grew.get(name)
        grew[name] = ThemeChange(prompt.prompt_id, name, round(grew_by[name]),
                                 max(total, (was.total if was else 0)))

    fresh_set = set(fresh)
    put: set[str] = set()
    for shown_theme, holds in shown:
        if holds in continuing and (put_here := holds & fresh_set & placed):
            grow(shown_theme.title, len(holds), len(put_here))
            put |= put_here
    # A theme a facilitator made (most of its answers placed there by them, continuing none)
    # is theirs to judge: new when it has enough answers, most of them new; its answers are
    # not judged again.
    made = [(t, ids) for t, ids in shown
            if ids not in continuing and len(ids & placed) * 2 > len(ids)]
    theirs = set().union(*(ids for _, ids in made)) | put
    new = [ThemeChange(prompt.prompt_id, t.title, len(ids & fresh_set), len(ids))
           for t, ids in made
           if len(ids) >= NEW_THEME_AT_LEAST and len(ids & fresh_set) * 2 > len(ids)]
    judged_out = not_judged(prompt)
    everyone = [r for r in fresh if r in texts and r not in theirs and r not in judged_out]
    # In a large round each new answer judged counts for `weight` of them (`reading`).
    earlier = [i for i, o in enumerate(survivors) if any(r in texts for r in o)]
    holding = [{r for r in survivors[i] if r in texts} for i in earlier]
    fresh, worded, references = reading(prompt, everyone, holding)
    weight = len(everyone) / len(fresh) if fresh else 1.0
    judged = judge([texts[r] for r in fresh], [[texts[r] for r in ids] for ids in references],
                   [len(ids) for ids in holding], [texts[r] for r in worded])
    # a group's answers are of all those whose words were read: each counts for `by_words`
    listed = [*fresh, *worded]
    by_words = len(everyone) / len(listed) if listed else 1.0
    for covered in judged.covered_by:
        if covered is None:
            continue
        held = survivors[earlier[covered]]
        now = max(shown, key=lambda s: len(s[1] & held), default=None)
        if now is not None and now[1] & held:
            grow(now[0].title, len(now[1]), weight)
        else:
            grow(old_titles[earlier[covered]] if earlier[covered] < len(old_titles) else "",
                 len(held) + round(judged.covered_by.count(covered) * weight), weight)
    for group in judged.groups:
        ids = [listed[i] for i in group]
        mine = set(ids)
        now = max(shown, key=lambda s: len(s[1] & mine), default=None)
        if (now is not None and len(now[1] & mine) * 2 > len(mine)
                and len(now[1] & mine) * 2 > len(now[1]) and now[1] not in continuing):
            new.append(ThemeChange(prompt.prompt_id, now[0].title,
                                   round(len(mine) * by_words), len(now[1])))
            continue
        members = [texts[r] for r in ids]
        others = [t for r, t in texts.items() if r not in mine]
        named = title(members, range(len(members)), distinctive_terms(members, others))
        size = round(len(mine) * by_words)
        new.append(ThemeChange(prompt.prompt_id, named, size, size))
    # A theme shown now grew by at most the new answers it holds ("grew by 5 to 9" of a theme
    # that had 5 would not add up): the judge may find a new answer of its subject that the
    # engine or a facilitator put elsewhere.
    holds_new = {t.title: len(ids & fresh_set) for t, ids in shown}
    grown = [replace(c, added=min(c.added, holds_new[c.title])) if c.title in holds_new else c
             for c in grew.values()]
    return new, [c for c in grown if c.added]


def _about_an_earlier(prompt: PromptDigest, ids: set[str], survivors: list[set[str]],
                      same_subject: SameSubject) -> bool:
    """Whether the answers `ids` are about the subject of an earlier theme: compared with the
    answers that theme still holds."""
    texts = {a.reply_id: a.text for a in prompt.answers}
    earlier = [[texts[r] for r in sorted(o) if r in texts][:EARLIER_ANSWERS_COMPARED]
               for o in survivors if o]
    earlier = [e for e in earlier if e]
    return bool(earlier) and same_subject([texts[r] for r in ids if r in texts], earlier)


def _with_other_roles(by_role: Counter[str], total: int) -> dict[str, int]:
    """The new answers by the roles shown, and the rest (roles of fewer than three people, or
    none given) as "other roles", so that the line adds up; a round that shows no role has none.
    Most first, equal counts by name: the same answers always read the same."""
    out = dict(sorted(by_role.items(), key=lambda item: (-item[1], reading_order(item[0]))))
    if out and (rest := total - sum(out.values())) > 0:
        out[OTHER_ROLES] = rest
    return out


def _moves(prompt_id: str, before: list[dict[str, Any]], now: list[Any]) -> list[RankMove]:
    """Options whose place changed, among those placed with points now or before. Places are
    the shared ones (a tie is one place), so reordering within a tie is no move; a snapshot
    from before places were recorded falls back to its order."""
    old_place = {r["option"]: r.get("place") or i
                 for i, r in enumerate(before, start=1) if r.get("score")}
    if not old_place:
        return []
    shared = Counter(r.get("place") or i for i, r in enumerate(before, start=1))
    out = []
    for i, row in enumerate(now, start=1):
        place = row.place or i
        was = old_place.get(row.option)
        if row.score and was is not None and was != place and min(place, was) <= MOVES_WITHIN:
            out.append(RankMove(prompt_id, row.option, place, was, tied=row.tied,
                                previous_tied=shared[was] > 1))
    return out
