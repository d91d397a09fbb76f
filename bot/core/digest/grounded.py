"""Checking a language model's headline like a quote: a theme's title or summary written by
a model is kept only when every word of it is found in the theme's answers (or is a common
joining word), and it holds no name, user id, mention, quotation mark, link or fragment of a
tag. What fails is not shown; the offline title or summary stands in its place."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.digest.lexicon import STOP_WORDS

GLUE = frozenset({
    "people", "person", "answer", "answers", "said", "say", "says", "saying", "mention",
    "mentions", "mentioned", "name", "names", "named", "many", "several", "some", "most",
    "few", "like", "likes", "theme", "themes", "point", "points", "view", "views", "want",
    "wants", "need", "needs", "think", "thinks", "feel", "feels", "often", "especially",
    "including", "particularly", "respondents", "participants",
})
"""Words a headline may use though no answer does: they say who said it, not what."""
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_MENTION = (re.compile(r"@|<[@!#]|<[^>]*>"), "a mention")
_QUOTATION = (re.compile(r"[\"“”„«»‹›`]|(?<![^\W_])['‘’]|['‘’](?![^\W_])"), "a quotation mark")
_MARKUP = (
    _MENTION,
    (re.compile(r"://|\bwww\.|\b[\w-]+\.(?:com|org|net|io|uk|gov|nhs|info|co)\b",
                re.IGNORECASE), "a link"),
    (re.compile(r"\b[A-Z]*\d[A-Z\d]*[A-Z][A-Z\d]*\b|\b[UWB][A-Z\d]{7,}\b|\b\d+:[\w-]{6,}"),
     "a user id"),
    (re.compile(r"[<>]|&(?:[a-z]+|#\d+);", re.IGNORECASE), "a tag fragment"),
)
_FORBIDDEN = (_MENTION, _QUOTATION, *_MARKUP[1:])


def markup(text: str) -> str | None:
    """What in `text` is chat or web markup rather than words (a mention, a link, a user id,
    a fragment of a tag), None when nothing is. Offline titles and the clauses a summary
    quotes are chosen among clauses without any (bot.core.digest.titles)."""
    return next((what for pattern, what in _MARKUP if pattern.search(text)), None)


def _forms(word: str) -> set[str]:
    """A word and its simple stems (plural, past, -ing), so "hubs" is grounded by "hub"."""
    w = word.lower().replace("’", "'").removesuffix("'s")
    forms = {w}
    for suffix in ("ies", "es", "s", "ed", "d", "ing"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            forms.add(w[: -len(suffix)] + ("y" if suffix == "ies" else ""))
    return forms


class Grounding:
    """The words of a theme's answers, for checking what a model wrote about them."""

    def __init__(self, answers: list[str], names: Iterable[str] = ()) -> None:
        self.forms: set[str] = set()
        self.capitalised: set[str] = set()
        for text in answers:
            for match in _WORD.finditer(text):
                word = match.group(0)
                self.forms |= _forms(word)
                if word[:1].isupper():
                    self.capitalised.add(word.lower())
        self.names = {part.lower() for name in names for part in _WORD.findall(name)}

    def problem(self, text: str) -> str | None:
        """Why `text` may not stand as a headline of these answers, None when it may (the
        reason names no word of it: it goes to the log)."""
        for pattern, what in _FORBIDDEN:
            if pattern.search(text):
                return f"it holds {what}"
        sentence_start = True
        for match in _WORD.finditer(text):
            word = match.group(0)
            lower = word.lower()
            if lower in self.names:
                return "it names a person"
            if (word[:1].isupper() and not sentence_start and not word.isupper()
                    and lower not in self.capitalised):
                return "it holds a name the answers do not"
            if not (_forms(word) & self.forms) and lower not in STOP_WORDS \
                    and lower not in GLUE:
                return "it holds a word that no answer of the theme holds"
            end = text[match.end():match.end() + 2].lstrip(" ")
            sentence_start = end[:1] in (".", "!", "?", ":", ";")
        return None
