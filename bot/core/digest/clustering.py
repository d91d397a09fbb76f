"""Grouping answer vectors into themes, with the number of themes found from the data.

Consensus clustering: spectral clustering of k-nearest-neighbour graphs is run for several
neighbourhood sizes and every plausible number of clusters; two answers belong together when
they were put together in most of those runs (a majority, > 50%), and average linkage over
that co-association cuts at one half. No single k, graph or threshold is trusted, which is
what makes the result stable on answers the engine has never seen. Several views of the same
answers (the default engine uses two: the pooled vectors and their whitened form) simply add
their runs to the vote.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import qr, svd
from sklearn.cluster import AgglomerativeClustering
from sklearn.manifold import spectral_embedding

Matrix = NDArray[np.float32]
Labels = NDArray[np.int64]

NEIGHBOURS = (4, 6, 8)
MAJORITY = 0.5


def knn_affinity(similarity: Matrix, k: int) -> Matrix:
    """Symmetric k-nearest-neighbour graph weighted by (positive) cosine similarity."""
    n = len(similarity)
    k = min(k, n - 1)
    masked = similarity.copy()
    np.fill_diagonal(masked, -np.inf)
    nearest = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    graph = np.zeros_like(similarity)
    rows = np.repeat(np.arange(n), k)
    graph[rows, nearest.ravel()] = np.clip(similarity[rows, nearest.ravel()], 0.01, None)
    return ((graph + graph.T) / 2).astype(np.float32)


def k_range(n: int) -> range:
    """Numbers of clusters tried: 2 up to n/3 (themes of three answers on average)."""
    return range(2, max(3, min(n // 3, 80)) + 1)


def co_association(similarity: Matrix) -> Matrix:
    """Share of the spectral runs (graphs x numbers of clusters) that put each pair together.

    Each graph's spectral embedding is computed once with as many eigenvectors as the largest
    k; every k then uses its first k (what a separate run for that k would compute)."""
    n = len(similarity)
    k_values = k_range(n)
    together = np.zeros((n, n), dtype=np.float32)
    runs = 0
    for neighbours in NEIGHBOURS:
        maps = _spectral_embedding(knn_affinity(similarity, neighbours), max(k_values))
        for k in k_values:
            labels = _cluster_qr(maps[:, :k])
            together += labels[:, None] == labels[None, :]
            runs += 1
    return (together / runs).astype(np.float32)


def consensus_labels(*views: Matrix) -> Labels:
    """Cluster answers given one or more views of them (unit vectors, one row per answer);
    the number of clusters comes out of the majority cut over all runs of all views."""
    n = len(views[0])
    if n < 4:
        return np.zeros(n, dtype=np.int64)
    together = np.mean([co_association(v @ v.T) for v in views], axis=0).astype(np.float32)
    return cut(1.0 - together, MAJORITY, "average")


def threshold_labels(vectors: Matrix, threshold: float, linkage: str = "ward") -> Labels:
    """Plain agglomerative clustering cut at a fixed distance (the reference methods)."""
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.int64)
    model = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold,
                                    linkage=linkage)
    return model.fit_predict(vectors).astype(np.int64)  # type: ignore[no-any-return]


def cut(distance: Matrix, threshold: float, linkage: str) -> Labels:
    """Agglomerative clustering of a precomputed distance matrix, cut at threshold."""
    distance = np.clip(distance, 0.0, None)
    np.fill_diagonal(distance, 0.0)
    model = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold,
                                    linkage=linkage, metric="precomputed")
    return model.fit_predict(distance).astype(np.int64)  # type: ignore[no-any-return]


def _spectral_embedding(graph: Matrix, dims: int) -> Matrix:
    with warnings.catch_warnings():
        # A graph that is not fully connected is fine here; sklearn warns about it.
        warnings.simplefilter("ignore", UserWarning)
        maps = spectral_embedding(graph, n_components=dims, random_state=0, drop_first=False)
    out: Matrix = np.asarray(maps, dtype=np.float64)
    return out


def _cluster_qr(vectors: Matrix) -> Labels:
    """Cluster assignment from a spectral embedding by pivoted QR (Damle et al. 2019), as
    sklearn's SpectralClustering(assign_labels="cluster_qr") does; deterministic."""
    k = vectors.shape[1]
    _, _, pivots = qr(vectors.T, pivoting=True)
    left, _, right = svd(vectors[pivots[:k], :].T)
    labels: Labels = np.abs(vectors @ (left @ right.conj())).argmax(axis=1).astype(np.int64)
    return labels


def renumber(labels: Labels, keep: NDArray[np.bool_]) -> Labels:
    """Labels 0..m-1 ordered by first appearance; -1 where keep is False."""
    out = np.full(len(labels), -1, dtype=np.int64)
    seen: dict[int, int] = {}
    for i, label in enumerate(labels):
        if keep[i]:
            out[i] = seen.setdefault(int(label), len(seen))
    return out
