"""Which answers added since the last digest continue its themes, and which start new ones.

Judged against the earlier digest's themes directly, not by matching the themes the engine
makes this time: with more answers it regroups (it folds a few new answers into existing
themes, or splits a subject finer), and matching its new themes to the old ones made both
false "new theme" lines and missed ones.

A new subject is read in the words: a word (or words of one family, "money" and "funding")
that new answers share, far more often than the earlier answers use it (more than chance
allows, each earlier theme counted at its size), marks those answers as a new subject; answers
so tied, NEW_GROUP_AT_LEAST or more, make one new theme. Words cost no model run of the
answers, so they are read in more of the new answers than are judged one by one
(changes.reading). Until the fifteenth session the answer vectors and the engine's consensus
could also announce a group; on the sets chosen on they added almost no new subject found and
most of the false new themes (docs/digest.md).

Which earlier theme each other new answer continues is read in two views, each on that
theme's own scale (how close its own members are to the rest of it): the answer vectors
(cosine to the theme's centroid), and the engine's own consensus (how often the engine's
clustering runs over the new and the earlier answers together put the answer with the
theme's members). The cosine measure (`reach`) also decides which answers given after a
facilitator made a theme join it (edits.py).

Vectors are the theme engine's (MiniLM, rarity-weighted and centred over the answers being
compared), or, without the model, TF-IDF. Without either, only the words are read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float32]
Reach = NDArray[np.float64]

COVER_QUANTILE = 0.1
"""A new answer is within an earlier theme's reach by its vectors when it is at least as close
to the theme's centroid as this quantile of the theme's own members (each measured against
the centroid of the rest): the theme's own scale, not one for all themes."""
TOGETHER_COVER = 0.1
"""The same in the consensus view: the answer's mean share of runs with the theme's members,
against this quantile of theirs with the rest of the theme.

COVER_QUANTILE and TOGETHER_COVER were chosen by ``bench/new_theme_rules.py`` (thirteenth
session) over the 33 labelled sets the fine-tuned layers never trained on; SHRINK is that
rule's (chosen over 49 sets read out of fold, ``bench/new_themes.py --folds``). Replies the
engine does not take for answers are left out of the judgement (changes.not_judged)."""
SHRINK = 30.0
"""Each theme's bar is pulled towards that of all earlier themes' members taken together, as
if the theme had this many more members of that kind (a small theme's own scale is rough)."""
WORDS_BY_CHANCE = 0.7
"""A word shared by NEW_GROUP_AT_LEAST new answers or more marks a new subject when that many
of the new answers or more would hold it by chance less often than this (drawing the new
answers at random from all the answers, new and earlier, that hold it or not), divided by the
number of words so tested: a judgement expects fewer than this many words to pass by chance.
Chosen with WORD_FAMILY by ``bench/new_theme_rules.py`` on the 33 decide sets, two seeds."""
WORD_FAMILY = 0.6
"""Words are read by family: two words are of one when the model's vectors of each word alone
are at least this close (cosine), as "money", "funding" and "budget" are; a new answer holds
a word when it holds any of the word's family. Without the model, each word is its own
family."""
NEW_GROUP_AT_LEAST = 3
PAIRED = 2
"""A word exactly two new answers share is tested too, in a family of tests of its own at the
same level: five answers of one subject often share no word three of them hold, but are tied
pairwise ("pay" in two, "fee" in two, one answer holding both), and answers tied so make one
group (`_merged`). Chosen by ``bench/new_theme_rules.py`` on the decide sets, two seeds
(sixteenth session)."""


@dataclass(frozen=True)
class Judgement:
    covered_by: list[int | None]
    """Per new answer, the earlier theme that covers it (its index), or None."""
    groups: list[list[int]]
    """Groups of new answers sharing a new subject's words (their indices, the most central
    first) that make a new theme each; their answers are covered by no earlier theme."""


def judge(new: Sequence[str], earlier: Sequence[Sequence[str]],
          sizes: Sequence[int] | None = None, worded: Sequence[str] = ()) -> Judgement:
    """Which earlier theme covers each of the `new` answers, and the new themes among them
    and the `worded` ones, other new answers whose words alone are read (they cost no model
    run): a group's indices run over `new`, then `worded`. `sizes`: how many answers each
    earlier theme holds, where only some of them are given."""
    if not new and not worded:
        return Judgement([], [])
    vectors = _vectors([*new, *(t for group in earlier for t in group)]) if new else None
    groups = new_themes([*new, *worded], earlier,
                        None if vectors is None else vectors[: len(new)], sizes)
    grouped = {i for group in groups for i in group}
    covered = ([None] * len(new) if vectors is None
               else covering(vectors[: len(new)], _split(vectors[len(new):], earlier)))
    return Judgement([None if i in grouped else c for i, c in enumerate(covered)], groups)


def new_themes(new: Sequence[str], earlier: Sequence[Sequence[str]],
               vectors: Matrix | None = None, sizes: Sequence[int] | None = None
               ) -> list[list[int]]:
    """The groups of `new` answers (their indices) that make a new theme each: those sharing
    a new subject's words (`new_words`), the most central first by their `vectors` (which
    may cover only the first of the `new` answers: those beyond come last). Each earlier
    theme's answers count for the `sizes` it holds."""
    sizes = sizes or [len(group) for group in earlier]
    weights = [size / len(group) for group, size in zip(earlier, sizes, strict=True)
               for _ in group]
    found = new_words(new, [t for group in earlier for t in group], weights)
    return [sorted(g) if vectors is None else _central_first(sorted(g), vectors)
            for g in found]


def new_words(new: Sequence[str], earlier: Sequence[str],
              weights: Sequence[float] | None = None) -> list[set[int]]:
    """Sets of three or more new answers (their indices) tied by words, or words of one
    family (WORD_FAMILY), that the earlier answers use far less (WORDS_BY_CHANCE): a word
    three or more of them share, or two (PAIRED); sets that share an answer are one. With
    `weights`, each earlier answer stands for that many:
    where a large theme is read in part, its words keep their share of the earlier answers."""
    from bot.core.digest.lexicon import content_words, singular

    held = [{singular(w) for w in content_words(t)} for t in new]
    before = [{singular(w) for w in content_words(t)} for t in earlier]
    # as many earlier answers as were read, each counting for its share of all of them
    share = ([w * len(before) / sum(weights) for w in weights] if weights and sum(weights)
             else [1.0] * len(before))
    families = _families(sorted(set().union(*held, *before)))
    holding = {word: {i for i, words in enumerate(held) if families[word] & words}
               for word in set().union(*held)}
    everyone = len(held) + len(before)

    def used_before(word: str) -> int:
        return round(sum(s for s, words in zip(share, before, strict=True)
                         if families[word] & words))

    def marking(tested: list[str]) -> list[set[int]]:
        return [holding[word] for word in tested
                if _by_chance(len(holding[word]), len(holding[word]) + used_before(word),
                              len(held), everyone) < WORDS_BY_CHANCE / len(tested)]

    # words two answers share are tested apart: they mark a subject only with others, and
    # counted with the rest they would make each word of three answers harder to pass
    marked = [*marking(sorted(w for w, ids in holding.items() if len(ids) >= NEW_GROUP_AT_LEAST)),
              *marking(sorted(w for w, ids in holding.items() if len(ids) == PAIRED))]
    return [g for g in _merged(marked) if len(g) >= NEW_GROUP_AT_LEAST]


def _families(words: Sequence[str]) -> dict[str, set[str]]:
    """Each word's family: the words whose vectors, each word read alone, are at least
    WORD_FAMILY close to its own; the word alone without the model."""
    alone = {word: {word} for word in words}
    if not words:
        return alone
    try:
        from bot.core.digest import embeddings
    except ImportError:
        return alone
    try:
        vectors = _word_vectors(words)
    except embeddings.ModelUnavailable:
        return alone
    close = vectors @ vectors.T >= WORD_FAMILY
    return {word: alone[word] | {words[int(j)] for j in np.flatnonzero(close[i])}
            for i, word in enumerate(words)}


_WORD_VECTORS: dict[str, NDArray[np.float32]] = {}
WORD_VECTORS_KEPT = 50_000


def _word_vectors(words: Sequence[str]) -> Matrix:
    """The model's vector of each word read alone (unit length), kept for the process: a
    round's questions and digests share most of their words."""
    from bot.core.digest import embeddings

    # read into a mapping of its own: another digest's thread may clear the kept ones
    known = {w: v for w in dict.fromkeys(words) if (v := _WORD_VECTORS.get(w)) is not None}
    missing = [w for w in dict.fromkeys(words) if w not in known]
    if missing:
        fresh = dict(zip(missing, embeddings.pool(embeddings.default_encoder(), missing).plain,
                         strict=True))
        if len(_WORD_VECTORS) + len(fresh) > WORD_VECTORS_KEPT:
            _WORD_VECTORS.clear()
        _WORD_VECTORS.update(fresh)
        known.update(fresh)
    return np.array([known[w] for w in words], dtype=np.float32)


def _by_chance(at_least: int, holding: int, drawn: int, everyone: int) -> float:
    """The chance that `drawn` answers taken at random from `everyone`, of which `holding` hold
    a word, include `at_least` that hold it (the hypergeometric tail)."""
    ways = sum(math.comb(holding, k) * math.comb(everyone - holding, drawn - k)
               for k in range(at_least, min(holding, drawn) + 1))
    return ways / math.comb(everyone, drawn)


def _merged(groups: Sequence[set[int]]) -> list[set[int]]:
    """`groups` with any two that share an answer made one: an answer holding two new
    subjects' words ties them together."""
    out: list[set[int]] = []
    for group in groups:
        group = set(group)
        while overlapping := [o for o in out if o & group]:
            for o in overlapping:
                out.remove(o)
                group |= o
        out.append(group)
    return out


def reach(new: Sequence[str], themes: Sequence[Sequence[str]]) -> Reach | None:
    """How far inside each theme's reach each of the `new` answers is, on that theme's own
    scale, as `judge` measures it by the vectors: its closeness to the theme's centroid less
    the theme's bar, at least 0 where the theme covers it. A row per new answer, a column per
    theme (-inf for a theme with no answers, and for an answer or theme with no vector:
    nothing in it the vectors know). None when nothing can be judged."""
    if not new:
        return np.zeros((0, len(themes)))
    vectors = _vectors([*new, *(t for group in themes for t in group)])
    if vectors is None:
        return None
    return reach_vectors(vectors[: len(new)], _split(vectors[len(new):], themes))


def reach_vectors(new: Matrix, themes: Sequence[Matrix]) -> Reach:
    """`reach` on vectors (rows of unit length, or zero where a text had none)."""
    out = np.full((len(new), len(themes)), -np.inf)
    index = [i for i, e in enumerate(themes)
             if len(e) and np.linalg.norm(e.astype(np.float64).sum(axis=0)) > 0]
    if index:
        out[:, index] = _reach(new, [themes[i] for i in index])
    out[np.linalg.norm(new, axis=1) == 0] = -np.inf
    return out


def _split(rows: Matrix, groups: Sequence[Sequence[str]]) -> list[Matrix]:
    out, start = [], 0
    for group in groups:
        out.append(rows[start: start + len(group)])
        start += len(group)
    return out


def _vectors(texts: Sequence[str]) -> Matrix | None:
    try:
        from bot.core.digest import embeddings, engines
    except ImportError:
        return None
    try:
        return embeddings.pool(embeddings.default_encoder(), texts).weighted
    except embeddings.ModelUnavailable:
        return np.asarray(engines.tfidf_vectors(texts), dtype=np.float32)


def _unit(x: NDArray[np.float64]) -> NDArray[np.float64]:
    norm: NDArray[np.float64] = x / max(float(np.linalg.norm(x)), 1e-12)
    return norm


def _closeness(members: Matrix) -> list[float]:
    total = members.astype(np.float64).sum(axis=0)
    return [float(np.dot(m, _unit(total - m))) for m in members] if len(members) > 1 else []


def _bars(own: Sequence[Sequence[float]], quantile: float) -> NDArray[np.float64]:
    """Each theme's bar from its members' own closeness to the rest of it (`own`)."""
    pooled_values = [v for values in own for v in values]
    pooled = float(np.quantile(pooled_values, quantile)) if pooled_values else 0.0
    return np.array([
        (len(v) * float(np.quantile(v, quantile)) + SHRINK * pooled) / (len(v) + SHRINK)
        if len(v) else pooled for v in own])


def _reach(new: Matrix, themes: Sequence[Matrix]) -> NDArray[np.float64]:
    """How far each new answer's closeness to each theme's centroid is over the theme's bar
    (at least 0: within its reach). `themes` have rows."""
    centroids = np.array([_unit(e.astype(np.float64).mean(axis=0)) for e in themes])
    close: NDArray[np.float64] = new.astype(np.float64) @ centroids.T
    return close - _bars([_closeness(e) for e in themes], COVER_QUANTILE)


def _together(new: Matrix, themes: Sequence[Matrix]) -> NDArray[np.float64]:
    """The engine's consensus view: how far each new answer's mean share of runs with each
    theme's members is over the theme's bar (its members' own shares with the rest of it)."""
    from bot.core.digest import clustering, embeddings

    rows = np.vstack([new, *themes]).astype(np.float32)
    if len(rows) < NEW_GROUP_AT_LEAST + 1:
        return np.full((len(new), len(themes)), -np.inf)
    shares = clustering.consensus(rows, embeddings.whitened(rows),
                                  profile_view=True).astype(np.float64)
    bounds = np.cumsum([len(new), *(len(theme) for theme in themes)])
    ranges = [range(start, end) for start, end in zip(bounds[:-1], bounds[1:], strict=True)]
    with_theme = np.array([shares[: len(new), list(r)].mean(axis=1) for r in ranges]
                          ).T.reshape(len(new), len(themes))
    own = [[float(shares[i, [j for j in r if j != i]].mean()) for i in r] if len(r) > 1
           else [] for r in ranges]
    return with_theme - _bars(own, TOGETHER_COVER) if ranges else with_theme


def covering(new: Matrix, earlier: Sequence[Matrix]) -> list[int | None]:
    """Per new answer (rows of unit length), the earlier theme whose reach holds it (its
    index): by its vectors, else by the consensus; None for neither."""
    themes = [e for e in earlier if len(e)]
    index = [i for i, e in enumerate(earlier) if len(e)]
    if not themes:
        return [None] * len(new)
    over, over_together = _reach(new, themes), _together(new, themes)
    return [_covering(over[i], over_together[i], index) for i in range(len(new))]


def _central_first(members: list[int], vectors: Matrix) -> list[int]:
    """`members` with a row of `vectors`, the closest to their centroid first; the others
    after them, in order."""
    known = [i for i in members if i < len(vectors)]
    if not known:
        return members
    centre = _unit(vectors[known].astype(np.float64).sum(axis=0))
    return [*sorted(known, key=lambda i: -float(np.dot(vectors[i], centre))),
            *(i for i in members if i >= len(vectors))]


def _within(over: NDArray[np.float64]) -> bool:
    """Whether an answer's row of `over` puts it within some theme's reach."""
    return bool(over.size) and float(over.max()) >= 0


def _covering(by_vectors: NDArray[np.float64], by_together: NDArray[np.float64],
              index: Sequence[int]) -> int | None:
    """The earlier theme whose reach holds the answer: by its vectors, else by the consensus."""
    for over in (by_vectors, by_together):
        if _within(over):
            return index[int(over.argmax())]
    return None
