"""Themes in the answers to one question: the public API of the offline theme engine.

``find_themes`` sets aside replies that are not answers (``noise.py``: nothing specific in
them and little relevance to the question's subject), lets an engine group the rest (see
``engines.py``; the method and its measured quality are in docs/theme-engine.md), keeps the
largest MAX_THEMES groups of two or more as themes (the rest are "other answers"), and gives
each theme a title and quotes taken verbatim from its answers. A question with fewer than
MIN_TO_THEME answers gets no theme: its answers are listed. Large inputs are clustered on a
fixed-size sample; every other answer joins the theme of the sampled answer most like it
(TF-IDF), so the cost grows linearly with the number of answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from bot.core.digest import embeddings, engines, noise, titles
from bot.core.digest.clustering import renumber
from bot.core.digest.lexicon import STOP_WORDS, same_words, says_nothing
from bot.core.digest.spread import clustering_sample, model_sample

__all__ = ["ENGINES", "Answer", "Proposer", "Theme", "Themes", "find_themes"]

log = logging.getLogger(__name__)
ENGINES: tuple[str, ...] = ("default", *engines.REGISTRY)
MIN_THEME = 2  # a "theme" of one writer's answers is one person's point: they stay among the others
MIN_TO_THEME = 5  # fewer answers than this are listed, not themed
MAX_THEMES = 7  # themes shown per question, largest first; the rest are "other answers"
COPIES_AS_POINTS = 2
"""How many points copies of one answer are to the clustering: a popular answer weighs more
than one said once, while every point keeps neighbours beyond its own copies."""


@dataclass(frozen=True)
class Answer:
    id: str
    text: str
    role: str | None = None
    writer: str | None = None
    """Who wrote it (any key): a theme needs answers of MIN_THEME writers; None, a writer of
    its own."""


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
    """Answers in no theme (the "other answers") and the replies that are not answers."""
    non_answer_ids: tuple[str, ...] = ()
    """Replies that are not answers: never themed, titled or quoted (a subset of unthemed)."""
    grouped_by_model: bool = False
    """True when the groups are a language model's proposal (see ``Proposer``)."""
    doubtful_ids: tuple[str, ...] = ()
    """Replies that read like remarks about the exchange (``noise.doubtful``): listed with the
    other answers (a subset of unthemed), never themed, titled or quoted, and not counted as
    non-answers."""


Proposer = Callable[[Sequence[Answer], str], "Sequence[int] | None"]
"""(the answers to group, the question) -> a group number per answer (NO_GROUP: in none;
WITHHELD: not shown to the proposer), or None to leave the grouping to the engine. Used for a
language model's grouping: whatever it proposes, replies that are not answers stay out, a
group of one is no theme, at most MAX_THEMES are shown, and titles and quotes are still taken
from each group's own answers."""
NO_GROUP = -1
WITHHELD = -2
"""An answer the proposer was not given (its author asked not to be quoted): it joins the
group of the answer most like it."""


def find_themes(answers: Sequence[Answer], *, question: str = "",
                engine: str = "default", propose: Proposer | None = None) -> Themes:
    """Group the answers to one question into at most MAX_THEMES themes, largest first.
    Every answer id ends up exactly once: in one theme, or in ``unthemed_ids``. With
    `propose`, its groups of the (sampled) answers replace the engine's where it gives any."""
    if engine not in ENGINES:
        raise ValueError(f"unknown theme engine {engine!r}; choose one of {', '.join(ENGINES)}")
    kept = [a for a in answers if not says_nothing(a.text)]
    sample = model_sample(len(kept))
    refused, doubtful, remark = _not_answers(kept, sample, question)
    # A doubtful reply (noise.doubtful: it reads like a remark about the exchange) is
    # listed with the other answers: never themed, titled or quoted, nor counted as refused.
    out = [no or unsure for no, unsure in zip(refused, doubtful, strict=True)]
    if len(kept) < noise.MIN_TO_JUDGE:
        # Too few replies to tell an answer of everyday words from a remark: such replies
        # are listed with the other answers, and only those that name something are themed.
        out = [left_out or not noise.is_specific(a.text)
               for a, left_out in zip(kept, out, strict=True)]
    substantive = [a for a, left_out in zip(kept, out, strict=True) if not left_out]
    remarks = [said for said, left_out in zip(remark, out, strict=True) if not left_out]
    non_answers = tuple(a.id for a in answers if says_nothing(a.text)) + tuple(
        a.id for a, no in zip(kept, refused, strict=True) if no)
    non_answer_ids = _in_order(answers, non_answers)
    doubtful_ids = tuple(a.id for a, no, unsure in zip(kept, refused, doubtful, strict=True)
                         if unsure and not no)

    def themes(shown: tuple[Theme, ...] = (), by_model: bool = False) -> Themes:
        """The result: the `shown` themes, and every other reply listed unthemed."""
        themed = {rid for t in shown for rid in t.reply_ids}
        return Themes(shown, tuple(a.id for a in answers if a.id not in themed),
                      non_answer_ids, by_model, doubtful_ids)

    if len(substantive) < MIN_TO_THEME:
        return themes()
    texts = [a.text for a in substantive]
    sample = clustering_sample(out)
    sample_texts = [texts[i] for i in sample]
    proposed = (_proposed(propose, [substantive[i] for i in sample], question)
                if propose is not None else None)
    if proposed is None:
        vectors, sample_labels = _run_distinct(engine, sample_texts)
    else:
        vectors = engines.vectors(engine, sample_texts)
        sample_labels = _join_withheld(proposed, vectors)
    if sample_labels.max(initial=-1) < 0:
        return themes(by_model=proposed is not None)
    sizes = np.bincount(sample_labels[sample_labels >= 0])
    # A group is a theme when MIN_THEME writers or more gave its answers, and it names
    # something or the learned view reads fewer than half of it as remarks: "no comment",
    # "see above" and "not sure" are none, while "Protected time" or "More staff" from many
    # people is the answer most of them gave. Other groups' replies are listed as others.
    named = np.zeros(len(sizes), dtype=bool)
    remarked = np.zeros(len(sizes), dtype=np.int64)
    writers: list[set[str]] = [set() for _ in sizes]
    for i, label in zip(sample, sample_labels.tolist(), strict=True):
        if label >= 0:
            named[label] |= noise.is_specific(texts[i])
            remarked[label] += remarks[i]
            writers[label].add(substantive[i].writer or f"answer {substantive[i].id}")
    theme = (named | (2 * remarked < sizes)) & (np.array([len(w) for w in writers]) >= MIN_THEME)
    keep = (sample_labels >= 0) & theme[sample_labels]
    sample_labels = renumber(sample_labels, keep)
    labels = _assign_rest(texts, sample, sample_labels)

    built: list[tuple[int, int, Theme]] = []
    for label in range(int(sample_labels.max(initial=-1)) + 1):
        members = np.flatnonzero(labels == label).tolist()
        built.append(_theme(substantive, members, label, sample, sample_labels, vectors))
    built.sort(key=lambda t: (-t[0], t[1]))
    return themes(tuple(t for _, _, t in built[:MAX_THEMES]), proposed is not None)


def _run_distinct(engine: str, texts: Sequence[str]) -> tuple[NDArray[np.float32],
                                                             NDArray[np.int64]]:
    """The engine's vectors and groups of the texts, copies of one answer ("Protected time",
    "protected time.") counted as at most COPIES_AS_POINTS points: forty copies as forty
    points made each copy's nearest neighbours its own copies, and the clustering's graphs fell
    apart into several themes of one title. Copies always land in one group; an answer no
    group takes that MIN_THEME people or more gave is a group of its own, and so is each
    such answer where fewer than MIN_TO_THEME answers differ (too few to group)."""
    position: dict[str, int] = {}  # each distinct answer's number, in order of appearance
    where = np.array([position.setdefault(same_words(text), len(position)) for text in texts],
                     dtype=np.int64)
    distinct = [texts[i] for i in np.unique(where, return_index=True)[1]]
    copies = np.bincount(where, minlength=len(distinct))
    points = np.repeat(np.arange(len(distinct)), np.minimum(copies, COPIES_AS_POINTS))
    if len(distinct) >= MIN_TO_THEME:
        vectors, labels = engines.run(engine, [distinct[n] for n in points])
        # a text's points are identical, so each lands where its first does
        firsts = np.searchsorted(points, np.arange(len(distinct)))
        vectors, labels = vectors[firsts], labels[firsts].copy()
    else:
        vectors = engines.vectors(engine, distinct)
        labels = np.full(len(distinct), -1, dtype=np.int64)
    lone = (labels < 0) & (copies >= MIN_THEME)
    labels[lone] = labels.max(initial=-1) + 1 + np.arange(int(lone.sum()))
    return vectors[where], labels[where]


def _proposed(propose: Proposer, answers: list[Answer],
              question: str) -> NDArray[np.int64] | None:
    """The proposer's groups as labels, or None when it gives none: anything but one whole
    number per answer is not used."""
    labels = propose(answers, question)
    if labels is None or len(labels) != len(answers):
        return None
    if not all(isinstance(label, int) and not isinstance(label, bool) for label in labels):
        return None
    array = np.asarray(labels, dtype=np.int64)
    array[(array < 0) & (array != WITHHELD)] = NO_GROUP
    return array if array.max(initial=NO_GROUP) >= 0 else None


def _join_withheld(labels: NDArray[np.int64], vectors: NDArray[np.float32]) -> NDArray[np.int64]:
    """Labels 0, 1, … (NO_GROUP for none), each withheld answer in the group of the grouped
    answer most like it."""
    labels = labels.copy()
    grouped = np.flatnonzero(labels >= 0)
    for i in np.flatnonzero(labels == WITHHELD):
        labels[i] = labels[grouped[int(np.argmax(vectors[grouped] @ vectors[i]))]]
    return renumber(labels, labels >= 0)


def _in_order(answers: Sequence[Answer], ids: Sequence[str]) -> tuple[str, ...]:
    wanted = set(ids)
    return tuple(a.id for a in answers if a.id in wanted)


def _not_answers(kept: Sequence[Answer], sample: list[int],
                 question: str) -> noise.Judged:
    """Which replies are set aside as not answers, which are doubtful, to be listed with the
    other answers, and which read as remarks (``noise.set_aside``), judged on the sampled
    replies; a reply outside the sample that names nothing specific follows the sampled reply
    most like it (TF-IDF), and is doubtful when it shares no word with any sampled reply.
    Unjudged (too few replies, no model), every reply is taken for a possible remark."""
    unjudged = noise.Judged([False] * len(kept), [False] * len(kept), [True] * len(kept))
    if len(kept) < noise.MIN_TO_JUDGE:
        return unjudged
    try:
        encoder = embeddings.default_encoder()
    except embeddings.ModelUnavailable:
        return unjudged
    texts = [kept[i].text for i in sample]
    plain = embeddings.pool(encoder, [*texts, question] if question else texts).plain
    asked = plain[len(texts)] if question else None
    scores = noise.relevance(plain[: len(texts)], np.ones(len(texts), dtype=bool), asked)
    judged = noise.set_aside(texts, plain[: len(texts)], scores)
    refused, unsure, remark = [False] * len(kept), [False] * len(kept), [False] * len(kept)
    for position, index in enumerate(sample):
        refused[index] = judged.refused[position]
        unsure[index] = judged.doubtful[position]
        remark[index] = judged.remark[position]
    in_sample = set(sample)
    outside = [i for i in range(len(kept))
               if i not in in_sample and not noise.is_specific(kept[i].text)]
    matrix = _tfidf(texts + [kept[i].text for i in outside]) if outside else None
    if matrix is None:
        return noise.Judged(refused, unsure, remark)
    similarity = (matrix[len(texts):] @ matrix[: len(texts)].T).toarray()
    nearest = similarity.argmax(axis=1)
    for row, index in enumerate(outside):
        alike = similarity[row, nearest[row]] > 0
        refused[index] = bool(alike and judged.refused[nearest[row]])
        unsure[index] = bool(not alike or judged.doubtful[nearest[row]])
        remark[index] = bool(not alike or judged.remark[nearest[row]])
    return noise.Judged(refused, unsure, remark)


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
    heading = titles.title(sample_members, order, scores)
    theme = Theme(
        title=heading,
        summary=titles.summary(len(members), [substantive[i].role for i in members], scores,
                               sample_members, heading, quote_positions),
        reply_ids=tuple(substantive[i].id for i in members),
        quote_ids=tuple(substantive[sample[in_sample[q]]].id for q in quote_positions),
    )
    return len(members), members[0], theme


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
