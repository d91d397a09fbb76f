"""The form that edits one question of a draft digest, whatever the platform shows it in: its
fields and their labels, the choices it offers, and the changes a submitted one asks for.

An adapter builds its own widgets from `choices` and hands back what was submitted as a flat
mapping, field name → value (a string; a list of strings for the fields in MANY: the answers
to move, the quotes to hide, the hidden answers to quote again). Every field may be left
empty; the pairs (a theme and its new title, two themes to merge, answers and where they go)
are filled in both or neither, and answers moved to a new theme need its title. A vote's form
has no themes: it hides (and quotes again) the vote's reasons and comments, which the digest
quotes word for word; `label` words its fields for it.

A theme's choice names it by its number, the mark of the answers it holds (theme_marks) and
its title, as the form shows it: a form saved after another edit renumbered the themes edits
the theme it showed, wherever it is now, or nothing when that theme has changed. An answer's
choice names it by its id, or by a key when an imported id is too long for a chat form's choice
(`review.answer_key`; an edit reads either).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.app import review
from bot.app.actors import Actor
from bot.app.review import Change, ThemeRef, answer_key
from bot.app.roundtable import Roundtable
from bot.core.digest.model import PromptDigest, QuoteView, ThemeView
from bot.core.digest.synthesis import other_answers
from bot.core.digest.theme_marks import ThemeMark, mark_of

RENAME_THEME, RENAME_TITLE = "rename_theme", "rename_title"
MERGE_THEME, MERGE_INTO = "merge_theme", "merge_into"
MOVE_ANSWER, MOVE_TO, NEW_TITLE = "move_answer", "move_to", "new_title"
HIDE, SHOW, LEAD = "hide", "show", "lead"
FIELDS = (RENAME_THEME, RENAME_TITLE, MERGE_THEME, MERGE_INTO, MOVE_ANSWER, MOVE_TO, NEW_TITLE,
          HIDE, SHOW, LEAD)
MANY = (MOVE_ANSWER, HIDE, SHOW)
"""The fields that take several choices (a list of strings)."""
LABELS = {
    RENAME_THEME: "Rename theme", RENAME_TITLE: "New title",
    MERGE_THEME: "Merge theme", MERGE_INTO: "into theme",
    MOVE_ANSWER: "Move answers", MOVE_TO: "to",
    NEW_TITLE: "Title of the new theme (when they go to a new theme)",
    HIDE: "Hide quotes (the answers still count)",
    SHOW: "Quote again (answers hidden in review)",
    LEAD: "Lead (one line, above the themes)",
}
VOTE_LABELS = {
    HIDE: "Hide reasons or comments (the ballots still count)",
    SHOW: "Quote again (reasons and comments hidden in review)",
}
"""A vote's form: what it quotes are the reasons and comments written to it."""
NEW, OTHER = "new", "other"
"""Where answers can be moved besides a theme: a new theme, titled in NEW_TITLE, or "Other
answers"."""
CHOICES = 100
"""At most this many choices in one list (Slack takes no more options in a select; a Teams card
may have room for fewer answers, and asks for fewer)."""
THEMES = CHOICES - 2
"""At most this many themes: where answers go lists them with "Other answers" and a new
theme."""
OTHER_ANSWERS = "Other answers"
NEW_THEME = "A new theme (title below)"
TITLE_KEPT = 40
"""Characters of a theme's title its choice's value keeps, to name the theme in a refusal
(within Slack's 150 for the whole value)."""
SET_ASIDE = "(set aside as not an answer) "
"""How the form marks a reply the engine did not take for an answer."""
UNQUOTED = "(theme {}, not quoted) "
"""How the form marks an answer a theme holds and does not quote."""
OUT_OF_DATE = "this form is out of date: please open it again"
THEME_NUMBER = re.compile(r"[0-9]{1,9}")
SEEN = "seen"
"""The key under which a form's own data (a Slack modal's metadata, a Teams card's Save) holds
when its draft was built, the draft's `generated_at` (`seen_in` reads it back for
review.edit), so that answers given since may join a theme the form makes."""

Fields = Mapping[str, str | Sequence[str]]


class FieldError(ValueError):
    """A form field filled in wrongly: which one, and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Choice:
    value: str
    text: str
    """As people wrote it (an answer, a quote, a theme's title): each adapter makes it safe
    and short for its platform."""


@dataclass(frozen=True)
class Choices:
    """What a question's form offers to choose from. `themes` empty: only the lead."""

    themes: list[Choice]
    """Numbered as the draft shows them: "1. Time to learn", its value the theme's number,
    mark and title (`theme_value`)."""
    answers: list[Choice]
    """Written answers that can be moved, the first ones: those the engine set aside as not
    answers first (their text starts with SET_ASIDE; moved, they are taken for answers); those
    a theme holds and does not quote are marked UNQUOTED with its number."""
    answers_in_all: int
    """How many could be moved: more than `answers` holds when the list was cut."""
    quotes: list[Choice]
    """What the digest quotes and may be hidden: the themes' quotes and the other answers it
    lists; a vote's reasons and comments."""
    hidden: list[Choice] = field(default_factory=list)
    """Answers a facilitator hid, that may be quoted again: their words, read for the form
    (they are out of the draft)."""
    in_all: dict[str, int] = field(default_factory=dict)
    """How many a list cut to fit held in all, by the field that offers it (RENAME_THEME for
    the themes, MOVE_ANSWER, HIDE, SHOW); a list not cut is not in it."""

    @property
    def targets(self) -> list[Choice]:
        """Where answers can go: a theme, "Other answers", or a new theme."""
        return [*self.themes, Choice(OTHER, OTHER_ANSWERS), Choice(NEW, NEW_THEME)]


def choices(prompt: PromptDigest, answers: int = CHOICES,
            hidden_words: Mapping[str, str] | None = None) -> Choices:
    """The choices one question's form offers, at most CHOICES (or `answers`) in a list; an
    answer hidden in review by its words in `hidden_words` (review.Opened), else by its id."""
    words = hidden_words or {}
    every_hidden = [_choice(a.reply_id, words.get(a.reply_id) or f"Answer {a.reply_id} (hidden)")
                    for a in prompt.answers if a.hidden]
    hidden = every_hidden[:CHOICES]
    if prompt.kind != "text":
        quoted = [_choice(q.reply_id, q.text) for q in vote_quotes(prompt)]
        return Choices([], [], 0, quoted[:CHOICES], hidden,
                       _cut({HIDE: quoted, SHOW: every_hidden}, CHOICES))
    every_theme = [Choice(theme_value(n, t), f"{n}. {t.title}")
                   for n, t in enumerate(prompt.themes, start=1)]
    themes = every_theme[:THEMES]
    if not themes:  # the digest lists its answers word for word: each may be hidden
        listed = [_choice(a.reply_id, a.text) for a in other_answers(prompt)]
        return Choices([], [], 0, listed[:CHOICES], hidden,
                       _cut({HIDE: listed, SHOW: every_hidden}, CHOICES))
    # Replies the engine set aside come first: the ones a facilitator most needs to see.
    unquoted = _unquoted_marks(prompt)
    movable = [_choice(a.reply_id, SET_ASIDE + a.text) for a in prompt.answers if a.noise] + [
        _choice(a.reply_id, unquoted.get(a.reply_id, "") + a.text) for a in prompt.answers
        if not a.noise]
    # what the digest quotes word for word: the themes' quotes, then the other answers listed
    quotes = [*(_choice(q.reply_id, q.text) for t in prompt.themes for q in t.quotes),
              *(_choice(a.reply_id, a.text) for a in other_answers(prompt))]
    listed_answers = min(answers, CHOICES)
    in_all = {**_cut({RENAME_THEME: every_theme}, THEMES),
              **_cut({MOVE_ANSWER: movable}, listed_answers),
              **_cut({HIDE: quotes, SHOW: every_hidden}, CHOICES)}
    return Choices(themes, movable[:listed_answers], len(movable), quotes[:CHOICES], hidden,
                   in_all)


def _choice(reply_id: str, text: str) -> Choice:
    """An answer's choice: its value names it by `review.answer_key`, within what a chat form's
    choice holds however long an imported id is."""
    return Choice(answer_key(reply_id), text)


def _cut(lists: Mapping[str, Sequence[Choice]], most: int) -> dict[str, int]:
    """How many each list cut to `most` held in all, by its field (the lists not cut: none)."""
    return {name: len(every) for name, every in lists.items() if len(every) > most}


def _unquoted_marks(prompt: PromptDigest) -> dict[str, str]:
    """How the answers a theme holds and does not quote are marked in the answers to move
    ("(theme 2, not quoted) "): the one list where a chat form shows them."""
    return {r: UNQUOTED.format(number) for number, theme in enumerate(prompt.themes, start=1)
            for r in set(theme.reply_ids) - {q.reply_id for q in theme.quotes}}


def vote_quotes(prompt: PromptDigest) -> list[QuoteView]:
    """What the digest quotes of a vote: the reasons under each top option, then the
    comments on the question."""
    return [*(q for r in prompt.reasons for q in r.quotes), *prompt.comments]


def label(field: str, prompt: PromptDigest) -> str:
    """A field's label in the form of `prompt` (a vote's speaks of reasons and comments)."""
    return (VOTE_LABELS.get(field) if prompt.kind != "text" else None) or LABELS[field]


def set_aside_note(prompt: PromptDigest) -> str | None:
    """What a draft says of a question's replies set aside as not answers, when it has any."""
    count = sum(a.noise for a in prompt.answers)
    if not count or not prompt.themes:
        return None
    return (f"Set aside as not answers: {count} (Edit lists them first under “Move answers”; "
            "one you move counts as an answer)")


def changes_from(prompt_id: str, lead_before: str | None, fields: Fields) -> list[Change]:
    """The changes a submitted form asks for (none when nothing was filled in); FieldError,
    naming the field, when a pair is half filled in. The lead counts as a change only when it
    differs from `lead_before`, and only when the form had the field."""

    def picked(field: str) -> str:
        value = fields.get(field)
        return value.strip() if isinstance(value, str) else ""

    def several(field: str) -> list[str]:
        value = fields.get(field) or []
        return [v for v in ([value] if isinstance(value, str) else map(str, value)) if v]

    changes: list[Change] = []
    theme, title = picked(RENAME_THEME), picked(RENAME_TITLE)
    if theme or title:
        if not (theme and title):
            raise FieldError(RENAME_TITLE if theme else RENAME_THEME,
                             "give both the theme and its new title")
        changes.append(Change("rename", prompt_id, theme=_theme(RENAME_THEME, theme),
                              text=title, source=RENAME_TITLE))
    merged, into = picked(MERGE_THEME), picked(MERGE_INTO)
    if merged or into:
        if not (merged and into):
            raise FieldError(MERGE_INTO if merged else MERGE_THEME, "give both themes to merge")
        changes.append(Change("merge", prompt_id, theme=_theme(MERGE_THEME, merged),
                              into=_theme(MERGE_INTO, into), source=MERGE_INTO))
    answers, to, title = several(MOVE_ANSWER), picked(MOVE_TO), picked(NEW_TITLE)
    if answers or to:
        if not (answers and to):
            raise FieldError(MOVE_TO if answers else MOVE_ANSWER,
                             "give both the answers and where they go")
        if to == NEW:
            if not title:
                raise FieldError(NEW_TITLE, "give the new theme its title")
            changes.append(Change("group", prompt_id, reply_ids=tuple(answers), text=title,
                                  source=NEW_TITLE))
        else:
            target = None if to == OTHER else _theme(MOVE_TO, to)
            changes += [Change("move", prompt_id, reply_id=r, to=target, source=MOVE_TO)
                        for r in answers]
    if title and to != NEW:
        raise FieldError(MOVE_TO, "choose “a new theme” for the answers to take this title")
    changes += [Change("hide", prompt_id, reply_id=r, source=HIDE) for r in several(HIDE)]
    changes += [Change("show", prompt_id, reply_id=r, source=SHOW) for r in several(SHOW)]
    if LEAD in fields:
        lead = picked(LEAD)
        if lead != (lead_before or ""):
            changes.append(Change("lead", prompt_id, text=lead, source=LEAD))
    return changes


def seen_in(data: Mapping[str, object]) -> datetime | None:
    """When a submitted form's draft was built, as its data carried it back: None when it is
    missing or not a time with its zone (an older form, or one tampered with: a new theme it
    makes then takes in only answers given after it is saved)."""
    value = data.get(SEEN)
    if not isinstance(value, str):
        return None
    try:
        seen = datetime.fromisoformat(value)
    except ValueError:
        return None
    return seen if seen.tzinfo is not None else None


def changes_asked(app: Roundtable, actor: Actor, round_id: int, prompt_id: str,
                  fields: Fields) -> list[Change]:
    """The changes a form submitted for one question asks for, its lead compared with the
    lead the question has now."""
    return changes_from(prompt_id, review.lead_now(app, actor, round_id, prompt_id), fields)


def theme_value(number: int, theme: ThemeView) -> str:
    """A theme's choice value: `2:14.<sample>:Time to learn` (its number, the mark of its
    answers, its title cut to TITLE_KEPT): some 110 characters, within Slack's 150."""
    title = " ".join(theme.title.split())
    if len(title) > TITLE_KEPT:
        title = title[:TITLE_KEPT - 1].rstrip() + "…"
    return f"{number}:{mark_of(theme.reply_ids).text}:{title}"


def _theme(field: str, value: str) -> ThemeRef:
    number, _, rest = value.partition(":")
    mark_text, _, title = rest.partition(":")
    mark = ThemeMark.parse(mark_text)
    if not THEME_NUMBER.fullmatch(number):  # not isdigit(): "²" is a digit int() refuses
        raise FieldError(field, "choose a theme from the list")
    if mark is None:  # a form made before themes were marked: it numbers them as they were
        raise FieldError(field, OUT_OF_DATE)
    return ThemeRef(int(number), mark, title, field)
