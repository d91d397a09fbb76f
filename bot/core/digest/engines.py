"""The theme engines: each turns substantive answers into vectors and cluster labels.

``consensus`` (the default) embeds answers with all-MiniLM-L6-v2, pools token states by
rarity within the question, and clusters by consensus over three views of the answers: the
pooled vectors, their whitened form, and the company each answer keeps in those two views'
runs (its co-association profile). The others are kept for measurement
(bench/digest_quality.py): the TF-IDF baseline, off-the-shelf MiniLM with Ward, and the
ablations that show what the pooling, the consensus and each view add.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from bot.core.digest import clustering, embeddings
from bot.core.digest.lexicon import STOP_WORDS

Matrix = NDArray[np.float32]
Labels = NDArray[np.int64]
Engine = Callable[[Sequence[str]], tuple[Matrix, Labels]]

log = logging.getLogger(__name__)
# scikit-learn is imported only by the engines kept for measurement (and the model-free
# fallback): the default engine does without it, which saves about a second per process.

# Cut height of the off-the-shelf reference (Ward on centred MiniLM vectors). It is the value
# that suited the labelled file best, so that engine's figures are an optimistic reference.
WARD_THRESHOLD = 1.4


def tfidf_vectors(texts: Sequence[str]) -> Matrix:
    """TF-IDF (uni- and bigrams, English stop words) reduced by LSA, centred unit vectors."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(stop_words=sorted(STOP_WORDS), sublinear_tf=True,
                            ngram_range=(1, 2), min_df=1)
    try:
        sparse = tfidf.fit_transform(texts)
    except ValueError:  # nothing but stop words
        return np.zeros((len(texts), 1), np.float32)
    dims = min(100, sparse.shape[0] - 1, sparse.shape[1] - 1)
    if dims < 2:
        dense = sparse.toarray().astype(np.float32)
    else:
        dense = TruncatedSVD(dims, random_state=0).fit_transform(sparse).astype(np.float32)
    return embeddings.centred(dense)


def tfidf_agglomerative(texts: Sequence[str]) -> tuple[Matrix, Labels]:
    """Baseline: TF-IDF + LSA, average-linkage cosine clustering, k by best silhouette."""
    from sklearn.metrics import silhouette_score

    vectors = tfidf_vectors(texts)
    n = len(texts)
    if n < 4:
        return vectors, np.zeros(n, dtype=np.int64)
    distance = 1.0 - vectors @ vectors.T
    best: tuple[float, Labels] | None = None
    for k in range(2, max(3, n // 3) + 1):
        labels = _agglomerative_k(distance, k)
        if len(set(labels.tolist())) < 2:
            continue
        score = float(silhouette_score(np.clip(distance, 0, None), labels, metric="precomputed"))
        if best is None or score > best[0]:
            best = (score, labels)
    return vectors, best[1] if best else np.zeros(n, dtype=np.int64)


def tfidf_consensus(texts: Sequence[str]) -> tuple[Matrix, Labels]:
    """TF-IDF + LSA vectors with the consensus clustering (needs no model)."""
    vectors = tfidf_vectors(texts)
    return vectors, clustering.consensus_labels(vectors)


def minilm_ward(texts: Sequence[str]) -> tuple[Matrix, Labels]:
    """Off-the-shelf reference: mean-pooled MiniLM, centred, Ward cut at a fixed height."""
    vectors = embeddings.pooled_vectors(embeddings.default_encoder(), texts, weighted=False)
    return vectors, clustering.threshold_labels(vectors, WARD_THRESHOLD)


def minilm_mean_consensus(texts: Sequence[str]) -> tuple[Matrix, Labels]:
    """Ablation: plain mean pooling, consensus clustering."""
    vectors = embeddings.pooled_vectors(embeddings.default_encoder(), texts, weighted=False)
    return vectors, clustering.consensus_labels(vectors)


def minilm_consensus(texts: Sequence[str]) -> tuple[Matrix, Labels]:
    """Default: rarity-weighted MiniLM token pooling; consensus clustering over three views,
    the pooled vectors, their whitened form and the co-association profile of those two."""
    vectors = embeddings.pooled_vectors(embeddings.default_encoder(), texts)
    return vectors, clustering.consensus_labels(vectors, embeddings.whitened(vectors),
                                                profile_view=True)


def minilm_meaning_views(texts: Sequence[str]) -> tuple[Matrix, Labels]:
    """Variant: the default's views plus the model's own sentence vector (plain mean pooling,
    what it was trained to compare), centred, as one more view that must agree."""
    pooled = embeddings.pool(embeddings.default_encoder(), texts)
    vectors = pooled.weighted
    return vectors, clustering.consensus_labels(vectors, embeddings.whitened(vectors),
                                                embeddings.centred(pooled.plain),
                                                profile_view=True)


def minilm_two_views(texts: Sequence[str]) -> tuple[Matrix, Labels]:
    """Ablation (the previous default): the same, without the profile view."""
    vectors = embeddings.pooled_vectors(embeddings.default_encoder(), texts)
    return vectors, clustering.consensus_labels(vectors, embeddings.whitened(vectors))


def minilm_one_view(texts: Sequence[str]) -> tuple[Matrix, Labels]:
    """Ablation (the default before that): consensus on the pooled vectors alone."""
    vectors = embeddings.pooled_vectors(embeddings.default_encoder(), texts)
    return vectors, clustering.consensus_labels(vectors)


def _agglomerative_k(distance: Matrix, k: int) -> Labels:
    from sklearn.cluster import AgglomerativeClustering

    d = np.clip(distance, 0.0, None)
    np.fill_diagonal(d, 0.0)
    model = AgglomerativeClustering(n_clusters=k, linkage="average", metric="precomputed")
    return model.fit_predict(d).astype(np.int64)  # type: ignore[no-any-return]


REGISTRY: dict[str, Engine] = {
    "consensus": minilm_consensus,
    "minilm-meaning": minilm_meaning_views,
    "minilm-two-views": minilm_two_views,
    "minilm-one-view": minilm_one_view,
    "tfidf": tfidf_agglomerative,
    "tfidf-consensus": tfidf_consensus,
    "minilm-ward": minilm_ward,
    "minilm-mean-consensus": minilm_mean_consensus,
}
DEFAULT = "consensus"
FALLBACK = "tfidf-consensus"


def run(name: str, texts: Sequence[str]) -> tuple[Matrix, Labels]:
    """Vectors and labels from the named engine; the default falls back to the model-free
    engine (with a warning) when the packaged model is not installed."""
    engine = REGISTRY[DEFAULT if name == "default" else name]
    try:
        return engine(texts)
    except embeddings.ModelUnavailable as exc:
        if name != "default":
            raise
        log.warning("theme engine %s unavailable (%s); using %s", DEFAULT, exc, FALLBACK)
        return REGISTRY[FALLBACK](texts)


def vectors(name: str, texts: Sequence[str]) -> Matrix:
    """The vectors the named engine compares answers by, without its clustering: what titles
    and quotes of groups found some other way (a language model's) are chosen with."""
    key = DEFAULT if name == "default" else name
    if key.startswith("tfidf"):
        return tfidf_vectors(texts)
    try:
        return embeddings.pooled_vectors(embeddings.default_encoder(), texts)
    except embeddings.ModelUnavailable:
        if name != "default":
            raise
        return tfidf_vectors(texts)
