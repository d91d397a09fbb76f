"""Whether a group of answers is about the subject of an earlier theme: what keeps a theme
the engine regrouped from being announced as new.

Compared by meaning with the theme engine's own vectors (MiniLM), or, without the model, by
the words the answers share (TF-IDF). Without either, nothing is taken for the same subject.
"""

from __future__ import annotations

from collections.abc import Sequence

SAME_SUBJECT = 0.7
"""Cosine between a group's mean vector and an earlier theme's from which they are taken to
be about one subject. With MiniLM's plain mean vectors (what the model was trained to
compare), halves of one subject's answers to a question score about 0.8 to 0.9, and two
subjects of the same question 0.3 to 0.6."""


def same_subject(answers: Sequence[str], earlier: Sequence[Sequence[str]]) -> bool:
    """True when `answers`, taken together, are about the subject of one of `earlier`."""
    return max(similarities(answers, earlier), default=0.0) >= SAME_SUBJECT


def similarities(answers: Sequence[str], earlier: Sequence[Sequence[str]]) -> list[float]:
    """The cosine of the group's mean vector with each earlier group's."""
    try:
        import numpy as np

        from bot.core.digest import embeddings, engines
    except ImportError:
        return []
    texts = [*answers, *(t for group in earlier for t in group)]
    try:
        vectors = embeddings.pool(embeddings.default_encoder(), texts).plain
    except embeddings.ModelUnavailable:
        vectors = engines.tfidf_vectors(texts)

    def centre(rows: object) -> object:
        mean = np.asarray(rows).mean(axis=0)
        return mean / max(float(np.linalg.norm(mean)), 1e-12)

    mine = centre(vectors[: len(answers)])
    out, start = [], len(answers)
    for group in earlier:
        theirs = centre(vectors[start: start + len(group)])
        out.append(float(np.dot(mine, theirs)))  # type: ignore[call-overload]
        start += len(group)
    return out
