"""Keeping the words of answers whose authors said "don't quote me" out of every title and
summary. Such an answer counts in its theme, and the engine reads its words to find the
theme; but titles and summaries are made of phrases of the theme's answers, so a title may be
a phrase of exactly that answer. A title or summary that carries a run of its words (three,
or the whole of a shorter title) found in no answer that may be quoted is replaced: the title
by the first phrase of an answer that may be quoted; the summary is left out (the theme's
line gives its count)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from bot.core.digest.model import AnswerView, ThemeView

RUN = 3
"""Consecutive words that make a phrase someone's own."""
_WORD = re.compile(r"[\w’']+")
_CLAUSE = re.compile(r"[.!?;:,()\n\"“”…]+")
TITLE_WORDS = 8


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def _runs(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def keep_unquoted_out(themes: Sequence[ThemeView], answers: Sequence[AnswerView],
                      words_of: dict[str, str]) -> list[ThemeView]:
    """The themes, with any title or summary made of a not-to-be-quoted answer's own words
    replaced. `words_of` holds the text of every answer by id (the views may already say
    NOT_QUOTED in place of it)."""
    hidden = [words_of.get(a.reply_id, "") for a in answers if not a.quotable]
    if not any(hidden):
        return list(themes)
    theirs = OwnWords(hidden, [words_of.get(a.reply_id, a.text) for a in answers
                               if a.quotable])
    out = []
    for theme in themes:
        members = {r for r in theme.reply_ids}
        quotable = [a for a in answers if a.reply_id in members and a.quotable]
        title, summary = theme.title, theme.summary
        if theirs.found_in(title):
            title = _plain_title(quotable, words_of) or "Answers not to be quoted"
        if theirs.found_in(summary):
            summary = ""  # the theme's line still gives its count and roles
        out.append(replace(theme, title=title, summary=summary))
    return out


class OwnWords:
    """The runs of words (RUN, or a whole shorter text) that only answers not to be quoted
    hold, none that may be: read once for a question, asked of each title and summary (a
    round of thousands of answers would read them all again per theme)."""

    def __init__(self, hidden: Sequence[str], allowed: Sequence[str]) -> None:
        self._hidden, self._allowed = hidden, allowed
        self._only: dict[int, set[tuple[str, ...]]] = {}

    def found_in(self, text: str) -> bool:
        said = _words(text)
        if not said:
            return False
        n = min(RUN, len(said))
        if n not in self._only:
            theirs = set().union(*(_runs(_words(t), n) for t in self._hidden))
            self._only[n] = theirs - set().union(*(_runs(_words(t), n) for t in self._allowed))
        return bool(_runs(said, n) & self._only[n])


def _plain_title(quotable: Sequence[AnswerView], words_of: dict[str, str]) -> str | None:
    """The first phrase of the first answer of the theme that may be quoted."""
    for answer in quotable:
        for clause in _CLAUSE.split(words_of.get(answer.reply_id, answer.text)):
            said = clause.strip().split()
            if len(said) >= 2:
                title = " ".join(said[:TITLE_WORDS])
                return title[0].upper() + title[1:]
    return None
