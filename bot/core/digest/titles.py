"""Titles, summaries and quotes for a theme, all taken from the answers themselves."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from bot.core.digest import noise
from bot.core.digest.grounded import markup
from bot.core.digest.lexicon import STOP_WORDS, WORD, content_words, same_words, words
from bot.core.wording import plural, reading_order

Matrix = NDArray[np.float32]
MAX_TITLE_WORDS = 12
MAX_TITLE_CHARS = 90
NEAR_DUPLICATE = 0.7
ALSO_SAID_WORDS = 2
"""Content words a clause needs to be quoted in a summary ("they also say …"): one everyday
word alone ("what worked", "be open") says nothing a reader can use; one that names
something specific ("The LPC") does, but only where it is a sentence of its own ("The LPC."):
cut from the rest of its sentence at a comma ("The LPC, the practices and us agreed…") it
no longer says what the answer said."""
_SENTENCE_END = re.compile(r"[.!?;\n]+")


def distinctive_terms(members: Sequence[str], others: Sequence[str]) -> dict[str, float]:
    """Content words scored by how much more often they occur in the theme than elsewhere."""
    inside = Counter(w for t in members for w in _content_set(t))
    outside = Counter(w for t in others for w in _content_set(t))
    n_in, n_out = max(len(members), 1), len(others)
    scores = {}
    for word, count in inside.items():
        share_in = count / n_in
        share_out = (outside[word] + 0.5) / (n_out + 1.0)
        scores[word] = share_in * math.log(1.0 + share_in / share_out)
    return scores


def title(members: Sequence[str], central_order: Sequence[int],
          scores: dict[str, float]) -> str:
    """A whole phrase from an answer of the theme: a clause (the words between two marks of
    punctuation) of two to MAX_TITLE_WORDS words that neither starts on a joining word nor
    ends on a function word, chosen for the theme's distinctive words it carries, how many
    answers share them, and how central its answer is. ``scores`` come from
    ``distinctive_terms``. Never cut inside a phrase: where no answer has such a clause, the
    longest opening of one that ends on a whole phrase (``_opening_phrase``)."""
    member_words = [set(words(t)) for t in members]
    best: tuple[float, str] | None = None
    for rank, index in enumerate(central_order):
        for clause in whole_clauses(members[index]):
            said = words(clause)
            keys = {w for w in said if w in scores}
            if not keys:
                continue
            support = sum(1 for seen in member_words if keys & seen)
            score = sum(scores[w] for w in keys) * math.sqrt(support)
            score *= (1.0 - 0.03 * rank) / math.sqrt(len(said))
            if said[0] in _LEANS_ON_CONTEXT or _asked(clause, members[index]):
                score *= _ELSEWHERE
            if best is None or score > best[0]:
                best = (score, clause)
    if best is not None:
        return _capitalise(best[1])
    for index in central_order:  # no clause carries a distinctive word: the shortest whole one
        clauses = sorted(whole_clauses(members[index]), key=len)
        if clauses:
            return _capitalise(clauses[0])
    for index in central_order:  # no whole clause at all: the opening phrase of one
        for clause in _clauses(members[index]):
            if opening := _opening_phrase(clause):
                return _capitalise(opening)
    return _capitalise(_first_clause(members[central_order[0]])) if members else "Other answers"


_LEANS_ON_CONTEXT = frozenset({
    "i", "id", "im", "ive", "ill", "my", "me", "he", "she", "his", "her", "hes", "shes",
    "they", "theyre", "theyve", "theyd", "them", "their", "it", "its", "there", "theres",
    "this", "that", "thats", "these", "those"})
"""Words that open a clause about one person's own story ("I went…", "My dad…") or that
point to something outside it ("It should…", "They buy…", "There were…"): such a clause
names no subject a reader can take as the theme's."""
_ELSEWHERE = 0.5
"""What a clause that leans on its context, or asks a question, is worth as a title: half, so
that it is still the title where no other clause of the theme carries half as much."""


def _asked(clause: str, text: str) -> bool:
    """Whether the clause ends on a question mark in its answer."""
    at = text.find(clause)
    return at >= 0 and text[at + len(clause):].lstrip(" '\"’”)").startswith("?")


def summary(size: int, roles: Sequence[str | None], scores: dict[str, float],
            members: Sequence[str] = (), shown: str = "", quoted: Sequence[int] = ()) -> str:
    """One sentence: the roles with three or more of the answers where they gave most of
    them, and up to two more things the theme's answers say in their own words (clauses other
    than the title, from answers that are not `quoted` nor copies of one: the quotes are shown
    beside it, and a summary repeating them tells a reader nothing). Every format shows the
    theme's count and roles beside it ("5 answers · …"), so with nothing else to say there is
    no summary: "" (not the count again)."""
    counts = Counter(r for r in roles if r)
    # Roles with fewer than three answers are not named: it could name the people.
    top = [(role, n) for role, n in sorted(counts.items(),
                                           key=lambda kv: (-kv[1], reading_order(kv[0])))[:2]
           if n >= 3]
    parts = []
    # Only where the roles named gave more than half of the answers: "most from community
    # pharmacists (3)" beside "6 answers" would contradict the count shown with it.
    if top and 2 * sum(n for _, n in top) > size:
        parts.append("mostly from " + " and ".join(f"{plural(role)} ({n})" for role, n in top))
    quoted_words = {same_words(members[i]) for i in quoted}
    said = _also_said([m for m in members if same_words(m) not in quoted_words], scores,
                      shown)
    if said:
        parts.append("they also say " + " and ".join(f"“{clause}”" for clause in said))
    if not parts:
        return ""
    return _capitalise("; ".join(parts)) + "."


def _also_said(members: Sequence[str], scores: dict[str, float], shown: str,
               limit: int = 2) -> list[str]:
    """Up to ``limit`` clauses from different answers, richest in distinctive words first,
    none repeating the title or each other."""
    ranked: list[tuple[float, int, str]] = []
    for index, text in enumerate(members):
        options = [(sum(scores.get(w, 0.0) for w in set(words(c))) / math.sqrt(len(words(c))),
                    c) for c in whole_clauses(text)]
        options = [o for o in options if o[0] > 0 and o[1].lower() != shown.lower()
                   and (len(content_words(o[1])) >= ALSO_SAID_WORDS
                        or (noise.is_specific(o[1]) and _a_sentence(o[1], text)))]
        if options:
            score, clause = max(options)
            ranked.append((score, index, clause))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    chosen: list[str] = []
    for _, _, clause in ranked:
        if len(chosen) == limit:
            break
        if all(not _overlaps(clause, other) for other in [shown, *chosen]):
            chosen.append(clause)
    return chosen


def _a_sentence(clause: str, text: str) -> bool:
    """Whether `clause` is a whole sentence of `text`, not cut from one at a comma or dash."""
    return any([c for c in _clauses(sentence) if c] == [clause]
               for sentence in _SENTENCE_END.split(text))


def _overlaps(a: str, b: str) -> bool:
    first, second = set(content_words(a)), set(content_words(b))
    return bool(first) and len(first & second) >= NEAR_DUPLICATE * len(first | second)


_CLAUSE_BREAK = re.compile(r"\s\d{1,2}[.)](?=\s)|(?!(?<=\d)[.:,]\d)[.!?;:,()\[\]\n\"“”…]+"
                           r"|\s[-–—+=]+\s|\s[-–—]+$|^[-–—]+\s")
"""Marks of punctuation (but a point, colon or comma inside a number: "1:1", "9.30",
"2,000"), dashes between words, and the numbers of a list written on one line ("1. insulin
2. epilepsy meds 3. …": the next item's number is not part of this one)."""
_LIST_MARK = re.compile(r"^\s*(?:[-*•>]+|\d+[.)]|[a-z][.)])\s*", re.IGNORECASE)
_JOINING = frozenset({"and", "or", "but", "so", "because", "if", "which", "that", "then",
                      "than", "as", "when", "while", "though", "although", "whether", "nor",
                      "unless", "until", "whereas", "plus", "also", "etc",
                      # words that open an example or an aside, not a phrase of its own
                      "like", "eg", "ie", "such", "including", "especially", "except", "via"})


def whole_clauses(text: str) -> list[str]:
    """The answer's clauses that read as whole phrases: 2 to MAX_TITLE_WORDS words, not
    starting on a joining word ("and", "because"), not ending on a function word, at most
    MAX_TITLE_CHARS long. Verbatim, but for list marks and stray quotes at the ends."""
    out = []
    for clause in _clauses(text):
        if MASK in clause:
            continue
        said = words(clause)
        if not 2 <= len(said) <= MAX_TITLE_WORDS or len(clause) > MAX_TITLE_CHARS:
            continue
        if said[0] in _JOINING or said[-1] in STOP_WORDS or said[-1] in _JOINING:
            continue
        if clause.count("'") % 2 and not re.search(r"\w'\w", clause):
            continue
        out.append(clause)
    return out


def _clauses(text: str) -> list[str]:
    """The text between marks of punctuation, without list marks and stray quotes at the ends;
    a clause that held markup (a mention, link, user id or tag) holds MASK in its place."""
    return [_unadorned(_LIST_MARK.sub("", part).strip(" '‘’\t*_~"))
            for part in _CLAUSE_BREAK.split(_masked(text))]


def _unadorned(clause: str) -> str:
    """The clause without emoji and other symbols at its ends ("Protected time 🙏🙏"): they
    are no part of its words, and a title of them reads as a chat message."""
    start, end = 0, len(clause)
    while start < end and _adornment(clause[start]):
        start += 1
    while end > start and _adornment(clause[end - 1]):
        end -= 1
    return clause[start:end]


def _adornment(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("So", "Sk", "Mn", "Cf")


MASK = "\x00"
"""Stands for a piece of markup in a clause: such a clause is never a title or quoted."""
_TOKEN = re.compile(r"([(\[{\"“‘']*)(\S+?)([)\]}\"”’'.,:!?…]*)(?=\s|$)")
"""A word with the brackets and punctuation around it apart (they still end a clause)."""


def _masked(text: str) -> str:
    """The text with each word that holds markup (grounded.markup) as MASK. A whole word goes,
    since punctuation inside a link or tag would otherwise split it into clean-looking
    clauses ("example/a for the notes")."""
    if not markup(text):
        return text
    return _TOKEN.sub(lambda m: m.group(1) + MASK + m.group(3) if markup(m.group(2))
                      else m.group(), text)


_PHRASE_OPENERS = _JOINING | frozenset({
    "about", "after", "against", "among", "at", "before", "behind", "between", "by", "for",
    "from", "in", "into", "of", "off", "on", "onto", "over", "per", "through", "to", "towards",
    "under", "with", "within", "without", "who", "whom", "whose", "whoever", "where"})
"""Words that open a new phrase (prepositions, conjunctions, relative words): a clause cut
just before one ends on a whole phrase, where a cut before "it" or "them" would not."""


def _opening_phrase(clause: str) -> str | None:
    """The longest opening of `clause` that is a whole phrase by itself: it stops just before
    a word that opens the next phrase ("Weekly huddle with notes sent" of "Weekly huddle with
    notes sent to whoever missed it"), and reads as ``whole_clauses`` asks."""
    found = list(WORD.finditer(clause))
    for n in range(len(found) - 1, 1, -1):
        if words(found[n].group())[0] in _PHRASE_OPENERS:
            opening = clause[: found[n - 1].end()]
            if whole_clauses(opening) == [opening]:
                return opening
    return None


def _first_clause(text: str) -> str:
    parts = [p.strip() for clause in _CLAUSE_BREAK.split(_masked(text))
             for p in clause.split(MASK) if words(p)]
    return parts[0] if parts else "Other answers"


def quotes(vectors: Matrix, texts: Sequence[str], limit: int = 3) -> list[int]:
    """Indices of the most central answers that are not near-duplicates of each other."""
    order = central_order(vectors)
    chosen: list[int] = []
    for i in order:
        if len(chosen) == limit:
            break
        if any(_near_duplicate(texts, i, j) for j in chosen):
            continue
        chosen.append(i)
    return chosen


def central_order(vectors: Matrix) -> list[int]:
    """Indices by decreasing cosine similarity to the theme's centroid (ties: input order)."""
    if len(vectors) == 0:
        return []
    centroid = vectors.mean(axis=0)
    norm = float(np.linalg.norm(centroid))
    if norm == 0.0:
        return list(range(len(vectors)))
    closeness = vectors @ (centroid / norm)
    return sorted(range(len(vectors)), key=lambda i: (-round(float(closeness[i]), 6), i))


@lru_cache(maxsize=8192)
def _content_set(text: str) -> frozenset[str]:
    return frozenset(content_words(text))


def _near_duplicate(texts: Sequence[str], i: int, j: int) -> bool:
    """Same words, give or take a few: sharing 70% of their distinct words."""
    a, b = set(words(texts[i])), set(words(texts[j]))
    return len(a & b) >= NEAR_DUPLICATE * max(len(a | b), 1)


def _capitalise(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]
