"""Which answers added since the last digest continue its themes, and which start new ones.

Judged against the earlier digest's themes directly, not by re-clustering: with more answers
the engine regroups (it folds a few new answers into existing themes, or splits a subject
finer), and matching its new themes to the old ones made both false "new theme" lines and
missed ones. Here each new answer is compared with each earlier theme's centroid, on that
theme's own scale (how close its own members are to the rest of it), and the new answers no
earlier theme covers are grouped among themselves: a group of NEW_GROUP_AT_LEAST that agrees
with itself more than with any earlier theme is one new theme. The same measure (`reach`)
decides which answers given after a facilitator made a theme join it (edits.py).

Vectors are the theme engine's (MiniLM, rarity-weighted and centred over the answers being
compared), or, without the model, TF-IDF. Without either, nothing is judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float32]
Reach = NDArray[np.float64]

COVER_QUANTILE = 0.25
"""A new answer is covered by an earlier theme when it is at least as close to the theme's
centroid as this quantile of the theme's own members' closeness (each member measured against
the centroid of the others): the theme's own scale, not one for all themes. COVER_QUANTILE,
SHRINK and GROUP_LINK were chosen by ``bench/new_themes.py --folds`` over 49 labelled sets,
each read by fine-tuned layers that never trained on it (fewest errors), once replies the
engine does not take for answers were left out of the judgement (changes._judged)."""
SHRINK = 30.0
"""Each theme's bar is pulled towards that of all earlier themes' members taken together, as
if the theme had this many more members of that kind (a small theme's own scale is rough)."""
GROUP_LINK = 0.25
"""Uncovered new answers are grouped (average link) while their mean cosine stays at or above
this."""
NEW_GROUP_AT_LEAST = 3


@dataclass(frozen=True)
class Judgement:
    covered_by: list[int | None]
    """Per new answer, the earlier theme that covers it (its index), or None."""
    groups: list[list[int]]
    """Groups of uncovered new answers (their indices, the most central first) that make a
    new theme each."""


def judge(new: Sequence[str], earlier: Sequence[Sequence[str]]) -> Judgement:
    """Which earlier theme covers each of the `new` answers, and the new themes among the rest."""
    if not new:
        return Judgement([], [])
    texts = [*new, *(t for group in earlier for t in group)]
    vectors = _vectors(texts)
    if vectors is None:
        return Judgement([None] * len(new), [])
    return judge_vectors(vectors[: len(new)], _split(vectors[len(new):], earlier))


def reach(new: Sequence[str], themes: Sequence[Sequence[str]]) -> Reach | None:
    """How far inside each theme's reach each of the `new` answers is, on that theme's own
    scale, as `judge` measures it: its closeness to the theme's centroid less the theme's
    bar, at least 0 where the theme covers it. A row per new answer, a column per theme
    (-inf for a theme with no answers, and for an answer or theme with no vector: nothing
    in it the vectors know). None when nothing can be judged."""
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
        out[:, index] = _reach(new, [themes[i] for i in index])[1]
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


def _bars(themes: Sequence[Matrix], quantile: float) -> NDArray[np.float64]:
    own = [_closeness(e) for e in themes]
    pooled_values = [v for values in own for v in values]
    pooled = float(np.quantile(pooled_values, quantile)) if pooled_values else 0.0
    return np.array([
        (len(v) * float(np.quantile(v, quantile)) + SHRINK * pooled) / (len(v) + SHRINK)
        if v else pooled for v in own])


def _reach(new: Matrix, themes: Sequence[Matrix]
           ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each new answer's closeness to each theme's centroid, and how far that is over the
    theme's bar (at least 0: the theme covers the answer). `themes` have rows."""
    centroids = np.array([_unit(e.astype(np.float64).mean(axis=0)) for e in themes])
    close = new.astype(np.float64) @ centroids.T
    return close, close - _bars(themes, COVER_QUANTILE)


def judge_vectors(new: Matrix, earlier: Sequence[Matrix]) -> Judgement:
    """`judge` on vectors (rows of unit length)."""
    themes = [e for e in earlier if len(e)]
    index = [i for i, e in enumerate(earlier) if len(e)]
    covered_by: list[int | None] = [None] * len(new)
    close = np.zeros((len(new), len(themes)))
    if themes:
        close, over = _reach(new, themes)
        covered_by = [index[int(b)] if over[i, b] >= 0 else None
                      for i, b in enumerate(over.argmax(axis=1))]
    rest = [i for i, c in enumerate(covered_by) if c is None]
    groups = []
    for group in _average_link(new[rest], GROUP_LINK):
        if len(group) < NEW_GROUP_AT_LEAST:
            continue
        members = [rest[i] for i in group]
        vectors = new[members].astype(np.float64)
        total = vectors.sum(axis=0)
        cohesion = float(np.mean([np.dot(v, _unit(total - v)) for v in vectors]))
        nearest = float(close[members].mean(axis=0).max()) if themes else -1.0
        if cohesion > nearest:
            centre = _unit(total)
            groups.append(sorted(members, key=lambda i: -float(np.dot(new[i], centre))))
    return Judgement(covered_by, groups)


def _average_link(vectors: Matrix, link: float) -> list[list[int]]:
    """Average-link clusters of the rows, merged while their mean cosine is >= `link`."""
    if len(vectors) < 2:
        return [[i] for i in range(len(vectors))]
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(vectors.astype(np.float64), method="average", metric="cosine")
    labels = fcluster(tree, t=1.0 - link, criterion="distance")
    clusters: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        clusters.setdefault(int(label), []).append(i)
    return list(clusters.values())
