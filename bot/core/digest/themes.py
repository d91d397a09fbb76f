"""Themes in the answers to one question: the public API of the offline theme engine.

``find_themes`` sets aside answers that say nothing (``is_noise``), lets an engine group the
rest (see ``engines.py``; the method and its measured quality are in docs/theme-engine.md),
drops groups of one, and gives each theme a title and quotes taken verbatim from its answers.
Large inputs are clustered on a fixed-size sample; every other answer joins the theme of the
sampled answer most like it (TF-IDF), so the cost grows linearly with the number of answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from bot.core.digest import engines, titles
from bot.core.digest.clustering import renumber
from bot.core.digest.lexicon import STOP_WORDS
from bot.core.digest.noise import is_noise

__all__ = ["ENGINES", "Answer", "Theme", "Themes", "find_themes", "is_noise"]

ENGINES: tuple[str, ...] = ("default", *engines.REGISTRY)
MIN_THEME = 2  # a "theme" of one answer is one person's point: it stays unthemed
MIN_TO_CLUSTER = 4  # fewer substantive answers than this make a single theme
# Answers embedded and clustered per question; the rest are assigned. Embedding is the cost
# (~1 s per 150 answers on 2 cores). 100 keeps a theme of 3% of the answers in the sample at
# least twice with probability ~0.8 (0.94 at 150); on generated answers it scores better
# than 150, not worse (docs/theme-engine.md, "Speed"). The labelled file has <= 44 a question.
SAMPLE = 100


@dataclass(frozen=True)
class Answer:
    id: str
    text: str
    role: str | None = None


@dataclass(frozen=True)
class Theme:
    title: str
    summary: str
    reply_ids: tuple[str, ...]
    quote_ids: tuple[str, ...]


@dataclass(frozen=True)
class Themes:
    themes: tuple[Theme, ...]
    unthemed_ids: tuple[str, ...]


def find_themes(answers: Sequence[Answer], *, engine: str = "default") -> Themes:
    """Group the answers to one question into themes, largest first. Every answer id ends up
    exactly once: in one theme, or in ``unthemed_ids`` (noise and one-off points)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown theme engine {engine!r}; choose one of {', '.join(ENGINES)}")
    substantive = [a for a in answers if not is_noise(a.text)]
    texts = [a.text for a in substantive]
    sample = _sample(len(substantive))
    sample_texts = [texts[i] for i in sample]
    if len(sample) < MIN_TO_CLUSTER:
        vectors = engines.tfidf_vectors(sample_texts) if sample else np.zeros((0, 1), np.float32)
        sample_labels = np.zeros(len(sample), dtype=np.int64)
    else:
        vectors, sample_labels = engines.run(engine, sample_texts)
    sizes = np.bincount(sample_labels) if len(sample_labels) else np.zeros(0, dtype=np.int64)
    keep = sizes[sample_labels] >= (MIN_THEME if len(sample) >= MIN_TO_CLUSTER else 1)
    sample_labels = renumber(sample_labels, keep)
    labels = _assign_rest(texts, sample, sample_labels)

    built: list[tuple[int, int, Theme]] = []
    for label in range(int(sample_labels.max(initial=-1)) + 1):
        members = np.flatnonzero(labels == label).tolist()
        built.append(_theme(substantive, members, label, sample, sample_labels, vectors))
    built.sort(key=lambda t: (-t[0], t[1]))
    themed = {rid for _, _, t in built for rid in t.reply_ids}
    unthemed = tuple(a.id for a in answers if a.id not in themed)
    return Themes(themes=tuple(t for _, _, t in built), unthemed_ids=unthemed)


def _theme(substantive: Sequence[Answer], members: list[int], label: int,
           sample: list[int], sample_labels: NDArray[np.int64],
           vectors: NDArray[np.float32]) -> tuple[int, int, Theme]:
    in_sample = np.flatnonzero(sample_labels == label).tolist()
    sample_members = [substantive[sample[k]].text for k in in_sample]
    others = [substantive[sample[k]].text for k, lab in enumerate(sample_labels) if lab != label]
    member_vectors = vectors[in_sample]
    order = titles.central_order(member_vectors)
    quote_positions = titles.quotes(member_vectors, sample_members)
    scores = titles.distinctive_terms(sample_members, others)
    theme = Theme(
        title=titles.title(sample_members, order, scores),
        summary=titles.summary(len(members), [substantive[i].role for i in members], scores,
                               sample_members),
        reply_ids=tuple(substantive[i].id for i in members),
        quote_ids=tuple(substantive[sample[in_sample[q]]].id for q in quote_positions),
    )
    return len(members), members[0], theme


def _sample(n: int) -> list[int]:
    """All indices when few; otherwise a fixed pseudo-random sample, in input order."""
    if n <= SAMPLE:
        return list(range(n))
    rng = np.random.default_rng(0)
    return sorted(rng.choice(n, size=SAMPLE, replace=False).tolist())


def _assign_rest(texts: Sequence[str], sample: list[int],
                 sample_labels: NDArray[np.int64]) -> NDArray[np.int64]:
    """Labels for all texts: the sample's own, and for the rest that of the most similar
    sampled answer by TF-IDF cosine (none when it shares no word with any sampled answer)."""
    labels = np.full(len(texts), -1, dtype=np.int64)
    labels[sample] = sample_labels
    rest = np.setdiff1d(np.arange(len(texts)), sample)
    if sample_labels.max(initial=-1) < 0 or len(rest) == 0:
        return labels
    matrix = _tfidf(texts)
    if matrix is None:  # nothing but stop words
        return labels
    sampled = matrix[sample].T
    for start in range(0, len(rest), 10_000):  # bounded memory for very large inputs
        chunk = rest[start : start + 10_000]
        similarity = (matrix[chunk] @ sampled).toarray()
        nearest = similarity.argmax(axis=1)
        labels[chunk] = np.where(similarity.max(axis=1) > 0, sample_labels[nearest], -1)
    return labels


_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def _tfidf(texts: Sequence[str]) -> csr_matrix | None:
    """Unit TF-IDF rows of the texts (sublinear tf, smoothed idf, stop words left out), the
    matrix sklearn's TfidfVectorizer(stop_words=STOP_WORDS, sublinear_tf=True) gives, with
    its columns in the same (alphabetical) order, but without importing scikit-learn.
    None when the texts hold no word but stop words."""
    vocabulary: dict[str, int] = {}
    columns: list[int] = []
    indptr = [0]
    for text in texts:
        for token in _TOKEN.findall(text.lower()):
            if token not in STOP_WORDS:
                columns.append(vocabulary.setdefault(token, len(vocabulary)))
        indptr.append(len(columns))
    if not vocabulary:
        return None
    matrix = csr_matrix((np.ones(len(columns)), np.asarray(columns, np.int64),
                         np.asarray(indptr, np.int64)), shape=(len(texts), len(vocabulary)))
    matrix.sum_duplicates()  # term counts, each row's terms in order of first appearance
    # Columns in alphabetical order, each row's entries left in the order above: the very
    # layout sklearn builds, so that every sum below adds in the same order and the figures
    # come out the same to the last bit.
    alphabetical = np.empty(len(vocabulary), dtype=np.int64)
    for position, term in enumerate(sorted(vocabulary)):
        alphabetical[vocabulary[term]] = position
    matrix.indices = alphabetical[matrix.indices].astype(matrix.indices.dtype)
    matrix.has_sorted_indices = False
    doc_freq = np.bincount(matrix.indices, minlength=len(vocabulary)).astype(np.float64)
    idf = np.log((len(texts) + 1) / (doc_freq + 1)) + 1.0
    np.log(matrix.data, matrix.data)
    matrix.data += 1.0
    matrix.data *= idf[matrix.indices]
    squares = csr_matrix((matrix.data * matrix.data, matrix.indices, matrix.indptr),
                         shape=matrix.shape)
    norms = np.sqrt(squares @ np.ones(matrix.shape[1]))  # summed in column order, as sklearn
    matrix.data /= np.repeat(np.where(norms > 0, norms, 1.0), np.diff(matrix.indptr))
    return matrix
