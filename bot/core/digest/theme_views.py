"""From a question's answers to theme views: the engine's grouping, checked and quoted.

The engine (themes.py) decides which answers go together; this module holds the promises the
digest makes about them whatever the engine returns: every answer sits exactly once in a theme
or among the unthemed, every quote is an answer of its theme word for word (or its marked
beginning), and an answer that says nothing is never quoted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from bot.core.digest.lexicon import says_nothing
from bot.core.digest.model import AnswerView, QuoteView, ThemeView
from bot.core.wording import reading_order

QUOTE_LIMIT = 600
"""Longer answers are quoted by their beginning, cut at a word and marked with "…"."""
CUT_MARK = "…"
QUOTES_PER_THEME = 3
OTHER_ROLES = "other roles"


@dataclass(frozen=True)
class Grouping:
    """An engine's answer, in plain terms: themes of reply ids, and the rest."""

    themes: list[tuple[str, str, list[str], list[str]]]
    """(title, summary, reply ids, quote ids) per theme."""
    unthemed: list[str]
    non_answers: list[str] = field(default_factory=list)
    """Replies that are not answers: never in a theme, never quoted."""
    grouped_by_model: bool = False
    """The themes are a language model's grouping (titles and quotes still the engine's)."""
    doubtful: list[str] = field(default_factory=list)
    """Replies that read like remarks about the exchange: listed unthemed, never in a theme,
    never quoted, and not counted as non-answers."""


Engine = Callable[[Sequence[AnswerView], str], Grouping]
"""(a question's answers, the question) -> their grouping."""


class QuestionThemes(NamedTuple):
    themes: list[ThemeView]
    unthemed: list[str]
    """Answers in no theme, and replies that are not answers, in answer order."""
    non_answers: set[str]
    doubtful: frozenset[str] = frozenset()
    """Listed with the unthemed, but read by the engine as remarks about the exchange rather
    than answers (see Grouping.doubtful)."""

    def marked(self, answers: Sequence[AnswerView]) -> list[AnswerView]:
        """The answers, each marked as the engine set it aside: `noise`, `doubtful`."""
        return [replace(a, noise=a.noise or a.reply_id in self.non_answers,
                        doubtful=a.reply_id in self.doubtful) for a in answers]


def quote_text(text: str, limit: int = QUOTE_LIMIT) -> str:
    """The answer verbatim, or its beginning cut at a word boundary and marked with "…"."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = text[: limit - len(CUT_MARK)]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip().rstrip(",;:") + CUT_MARK


def is_verbatim(quote: str, answer: str) -> bool:
    """True when `quote` is `answer` word for word, or a marked cut of it."""
    answer = answer.strip()
    if quote == answer:
        return True
    return quote.endswith(CUT_MARK) and answer.startswith(quote[: -len(CUT_MARK)])


Propose = Callable[[Sequence[str], str], "Sequence[int] | None"]
"""(answers' words, question) -> a group number per answer (-1: none), or None."""


def engine_grouping(answers: Sequence[AnswerView], question: str = "",
                    name: str = "default", propose: Propose | None = None) -> Grouping:
    """Ask the theme engine (with `propose`, the groups it proposes where it gives any);
    without an engine, every answer is listed unthemed. `propose` is never given the words
    of an answer whose author asked not to be quoted."""
    try:
        from bot.core.digest.themes import WITHHELD, Answer, find_themes
    except ImportError:
        return Grouping([], [a.reply_id for a in answers])
    private = {a.reply_id for a in answers if not a.quotable}

    def shown_only(sample: Sequence[Answer], asked: str) -> list[int] | None:
        assert propose is not None
        sent = [a for a in sample if a.id not in private]
        labels = propose([a.text for a in sent], asked) if sent else None
        if labels is None or len(labels) != len(sent):
            return None
        given = dict(zip((a.id for a in sent), labels, strict=True))
        return [given.get(a.id, WITHHELD) for a in sample]

    found = find_themes([Answer(a.reply_id, a.text, a.role, a.writer) for a in answers],
                        question=question, engine=name,
                        propose=shown_only if propose is not None else None)
    return Grouping(
        [(t.title, t.summary, list(t.reply_ids), list(t.quote_ids)) for t in found.themes],
        list(found.unthemed_ids),
        list(found.non_answer_ids),
        found.grouped_by_model,
        list(found.doubtful_ids),
    )


def named_engine(name: str) -> Engine:
    """The theme engine's method `name` (see themes.ENGINES) as an Engine."""
    return lambda answers, question: engine_grouping(answers, question, name)


def proposing_engine(propose: Propose) -> Engine:
    """The default engine, taking the groups `propose` gives (a language model's)."""
    return lambda answers, question: engine_grouping(answers, question, propose=propose)


def theme_views(
    answers: Sequence[AnswerView], anonymity: str, engine: Engine = engine_grouping,
    question: str = "",
) -> QuestionThemes:
    """Themes for one question's answers, the ids of the answers in none (in answer order),
    and the ids of the replies that are not answers."""
    if not answers:
        return QuestionThemes([], [], set())
    noise = {a.reply_id for a in answers if a.noise or says_nothing(a.text)}
    heard = [a for a in answers if a.reply_id not in noise]
    grouping = engine(heard, question) if heard else Grouping([], [])
    noise |= set(grouping.non_answers) & {a.reply_id for a in answers}
    by_id = {a.reply_id: a for a in answers}
    placed: set[str] = set()
    views: list[ThemeView] = []
    for title, summary, reply_ids, quote_ids in grouping.themes:
        members = [
            by_id[r] for r in dict.fromkeys(reply_ids)
            if r in by_id and r not in placed and r not in noise
        ]
        if not members:
            continue
        placed.update(a.reply_id for a in members)
        views.append(
            ThemeView(
                title=title.strip() or members[0].text[:60],
                summary=summary.strip(),
                quotes=quotes_of(members, quote_ids),
                reply_ids=[a.reply_id for a in members],
                roles=roles_of(members, anonymity),
                origin=origin_of(members),
                grouped_by_model=grouping.grouped_by_model,
            )
        )
    unthemed = [a.reply_id for a in answers if a.reply_id not in placed]
    return QuestionThemes(views, unthemed, noise,
                          frozenset(grouping.doubtful).intersection(unthemed) - noise)


def quotes_of(members: list[AnswerView], quote_ids: Sequence[str]) -> list[QuoteView]:
    """The engine's quotes that are members and differ; topped up in answer order to two."""
    in_theme = {a.reply_id: a for a in members}
    chosen: list[AnswerView] = []

    def take(answer: AnswerView) -> None:
        if answer.quotable and len(chosen) < QUOTES_PER_THEME and all(
                _differs(answer.text, c.text) for c in chosen):
            chosen.append(answer)

    for quote_id in quote_ids:
        if quote_id in in_theme:
            take(in_theme[quote_id])
    for answer in members:
        if len(chosen) >= 2:
            break
        take(answer)
    return [QuoteView(a.reply_id, quote_text(a.text), a.by) for a in chosen]


def _differs(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) != " ".join(b.lower().split())


def roles_of(members: list[AnswerView], anonymity: str) -> dict[str, int]:
    """Roles in the theme as the round allows: none when anonymous, small groups folded."""
    if anonymity == "anonymous":
        return {}
    counts = Counter(a.role or OTHER_ROLES for a in members)
    return dict(sorted(counts.items(),
                       key=lambda kv: (kv[0] == OTHER_ROLES, -kv[1], reading_order(kv[0]))))


def origin_of(members: list[AnswerView]) -> str:
    room = sum(a.said_in_room for a in members)
    return "room" if room == len(members) else "chat" if room == 0 else "both"
