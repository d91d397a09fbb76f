"""Titles, summaries and quotes for a theme, all taken from the answers themselves."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from bot.core.digest.lexicon import STOP_WORDS, WORD, content_words, words
from bot.core.wording import listed

Matrix = NDArray[np.float32]
MAX_TITLE_WORDS = 5
MAX_TITLE_CHARS = 60
NEAR_DUPLICATE = 0.7


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
    """A phrase of two to five words (one if no answer has more), verbatim from an answer of
    the theme, that carries the theme's most distinctive words; taken from the most central
    answer that holds it. ``scores`` come from ``distinctive_terms``."""
    member_words = [set(words(t)) for t in members]
    best: tuple[bool, float, str] | None = None
    for rank, index in enumerate(central_order):
        for phrase, phrase_words in _phrases(members[index]):
            keys = {w for w in phrase_words if w in scores}
            if not keys:
                continue
            support = sum(1 for seen in member_words if keys & seen)
            score = sum(scores[w] for w in keys) * math.sqrt(support)
            score *= (1.0 - 0.03 * rank) / len(phrase_words) ** 0.25
            candidate = (len(phrase_words) > 1, score, phrase)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    if best is None:
        return _first_words(members[central_order[0]] if members else "")
    return _capitalise(best[2])


def summary(size: int, roles: Sequence[str | None], scores: dict[str, float],
            members: Sequence[str] = ()) -> str:
    """One sentence: how many answers, the roles with three or more of them, the top terms
    (as the phrases the answers use, "care homes" rather than "care" and "homes")."""
    noun = "answer" if size == 1 else "answers"
    sentence = f"{size} {noun}"
    counts = Counter(r for r in roles if r)
    # Roles with fewer than three answers are not named: it could name the people.
    named = [f"{role} ({n})" for role, n in counts.most_common(2) if n >= 3]
    if named:
        sentence += ", mostly from " + " and ".join(named)
    top = summary_terms(members, scores)
    if top:
        sentence += ", about " + listed(top)
    return sentence + "."


def summary_terms(members: Sequence[str], scores: dict[str, float], limit: int = 3
                  ) -> list[str]:
    """The theme's most distinctive words, each joined to its neighbour where most answers
    that use it say them together ("end of life", "care homes")."""
    said = Counter(w for t in members for w in _content_set(t))
    # In a theme of three or more, a word only one answer uses is not what the theme is about.
    least = 2 if len(members) >= 3 else 1
    ranked = [w for w, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
              if said[w] >= least or not members]
    together = Counter(p for t in members for p in set(_word_pairs(t)))
    terms: list[str] = []
    used: set[str] = set()
    for word in ranked:
        if len(terms) == limit:
            break
        if word in used:
            continue
        pairs = [(n, p) for p, n in together.items()
                 if word in (p[0], p[-1]) and n >= 2 and 2 * n >= said[word]
                 and not used & {p[0], p[-1]}]
        if pairs:
            _, phrase = max(pairs, key=lambda item: (item[0], scores.get(item[1][0], 0.0)
                                                     + scores.get(item[1][-1], 0.0)))
            terms.append(_as_written(phrase, members))
            used |= {phrase[0], phrase[-1]}
        else:
            terms.append(_as_written((word,), members))
            used.add(word)
    return terms


def _as_written(term: Sequence[str], members: Sequence[str]) -> str:
    """The term as the answers most often write it ("ICS board", not "ics board")."""
    pattern = re.compile(r"\b" + r"\W+".join(
        r"['’]?".join(re.escape(ch) for ch in word) for word in term) + r"\b", re.IGNORECASE)
    plain = " ".join(term)
    seen = Counter(m.group() for text in members for m in pattern.finditer(text))
    if not seen:
        return plain
    form = seen.most_common(1)[0][0]
    if form == _capitalise(plain) or "'" in form or "’" in form:
        return plain  # capitalised only for starting a sentence; or a possessive
    return form


def _word_pairs(text: str) -> list[tuple[str, ...]]:
    """Adjacent content words ("care homes"), or two joined by "of" ("end of life")."""
    said = words(text)
    pairs: list[tuple[str, ...]] = []
    for i, word in enumerate(said[:-1]):
        if word in STOP_WORDS:
            continue
        after = said[i + 1]
        if after not in STOP_WORDS:
            pairs.append((word, after))
        elif after == "of" and i + 2 < len(said) and said[i + 2] not in STOP_WORDS:
            pairs.append((word, "of", said[i + 2]))
    return pairs


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


def _phrases(text: str) -> list[tuple[str, list[str]]]:
    """Verbatim spans of 1-5 words inside one clause, not starting or ending on a stop word."""
    out = []
    for clause in re.split(r"[.!?;:,()\n\"“”]|\s[-–—]\s", text):
        spans = [(m.start(), m.end(), m.group().lower().replace("'", "").replace("’", ""))
                 for m in WORD.finditer(clause)]
        for i in range(len(spans)):
            for j in range(i, min(i + MAX_TITLE_WORDS, len(spans))):
                first, last = spans[i][2], spans[j][2]
                if first in STOP_WORDS or last in STOP_WORDS or len(last) < 2:
                    continue
                phrase = clause[spans[i][0] : spans[j][1]]
                if len(phrase) <= MAX_TITLE_CHARS:
                    out.append((phrase, [s[2] for s in spans[i : j + 1]]))
    return out


def _first_words(text: str) -> str:
    found = WORD.findall(text)[:MAX_TITLE_WORDS]
    return _capitalise(" ".join(found)) if found else "Other answers"


def _capitalise(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]
