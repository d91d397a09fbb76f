"""Grouping answer vectors into themes, with the number of themes found from the data.

Consensus clustering: spectral clustering of k-nearest-neighbour graphs is run for several
neighbourhood sizes and every plausible number of clusters; two answers belong together when
they were put together in most of those runs (a majority, > 50%), and average linkage over
that co-association cuts at one half. No single k, graph or threshold is trusted, which is
what makes the result stable on answers the engine has never seen. Several views of the same
answers (the default engine uses three: the pooled vectors, their whitened form, and the
co-association profile of those two, see ``profile``) simply add their runs to the vote.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import eigh, qr, svd

Matrix = NDArray[np.float32]
Labels = NDArray[np.int64]

NEIGHBOURS = (4, 6, 8)
MAJORITY = 0.6
MERGE_TO: int | None = 7
"""If set, groups the majority cut leaves beyond this many merge (see ``coarsen``)."""
K_DIVISOR = 3
K_CAP = 10
"""Numbers of clusters tried run from 2 to n / K_DIVISOR (themes of K_DIVISOR answers on
average at the finest), and to K_CAP at most."""


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
    """Numbers of clusters tried: 2 up to n / K_DIVISOR."""
    return range(2, max(3, min(n // K_DIVISOR, K_CAP)) + 1)


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


def consensus_labels(*views: Matrix, profile_view: bool = False) -> Labels:
    """Cluster answers given one or more views of them (unit vectors, one row per answer);
    the number of clusters comes out of the majority cut over all runs of all views.

    With ``profile_view``, the views' co-association rows become one more view: each answer
    is described by how often it was put with every other answer (``profile``), and answers
    with the same company in the runs are compared by cosine like any other view. Its runs
    vote alongside the others' (one view among the rest)."""
    n = len(views[0])
    if n < 4:
        return np.zeros(n, dtype=np.int64)
    together = consensus(*views, profile_view=profile_view)
    labels = cut(1.0 - together, MAJORITY, "average")
    if MERGE_TO is not None:
        labels = coarsen(together, labels, MERGE_TO)
    return labels


def consensus(*views: Matrix, profile_view: bool = False) -> Matrix:
    """How often each pair of answers was put together, over all runs of all views (and of
    the profile view, see `consensus_labels`): what the majority cut is taken from."""
    from threadpoolctl import threadpool_limits

    # Hundreds of small decompositions: BLAS threads cost more than they give here, and far
    # more when other processes share the cores.
    with threadpool_limits(1):
        runs = [co_association(v @ v.T) for v in views]
        if profile_view:
            company = profile(np.mean(runs, axis=0))
            runs.append(co_association(company @ company.T))
    together: Matrix = np.mean(runs, axis=0).astype(np.float32)
    return together


def coarsen(together: Matrix, labels: Labels, most: int) -> Labels:
    """When the majority cut leaves more than ``most`` groups of two or more, the cut rises
    (average linkage on the same co-association) until it leaves no more than that: the
    groups the runs most often put together merge first."""
    def groups(found: Labels) -> int:
        return int((np.bincount(found) >= 2).sum())

    if groups(labels) <= most:
        return labels
    from scipy.cluster.hierarchy import linkage as build_tree

    distance = np.clip(1.0 - together, 0.0, None)
    np.fill_diagonal(distance, 0.0)
    rows, cols = np.triu_indices(len(distance), k=1)
    heights = sorted({float(h) for h in build_tree(distance[rows, cols], method="average")[:, 2]
                      if h >= MAJORITY})
    for height in heights:
        found = cut(distance.copy(), height + 1e-6, "average")
        if groups(found) <= most:
            return found
    return labels


def profile(together: Matrix) -> Matrix:
    """Each answer's row of a co-association matrix as a unit vector: the company it keeps
    across the runs. Two answers that were grouped with the same others have similar rows
    even in runs that split them, which is what the profile view adds."""
    rows = together.astype(np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    out: Matrix = (rows / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


def threshold_labels(vectors: Matrix, threshold: float, linkage: str = "ward") -> Labels:
    """Plain agglomerative clustering cut at a fixed distance (the reference methods)."""
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.int64)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold,
                                    linkage=linkage)
    return model.fit_predict(vectors).astype(np.int64)  # type: ignore[no-any-return]


def cut(distance: Matrix, threshold: float, linkage: str) -> Labels:
    """Agglomerative clustering of a precomputed distance matrix, cut at threshold: the
    groups joined by merges below the threshold. Merges as sklearn's AgglomerativeClustering
    (n_clusters=None, distance_threshold, metric="precomputed") makes them, both being
    scipy's linkage, without importing scikit-learn (only the numbering of groups differs)."""
    from scipy.cluster.hierarchy import linkage as build_tree

    n = len(distance)
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    distance = np.clip(distance, 0.0, None)
    np.fill_diagonal(distance, 0.0)
    rows, cols = np.triu_indices(n, k=1)
    tree = build_tree(distance[rows, cols], method=linkage)
    parent = list(range(2 * n - 1))  # leaves 0..n-1, then one node per merge

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for step, (left, right, height, _) in enumerate(tree):
        if height >= threshold:  # merges come in increasing height: the rest are cut
            break
        parent[root(int(left))] = parent[root(int(right))] = n + step
    labels = np.array([root(i) for i in range(n)], dtype=np.int64)
    _, numbered = np.unique(labels, return_inverse=True)
    return numbered.astype(np.int64)


def _spectral_embedding(graph: Matrix, dims: int) -> Matrix:
    """The first ``dims`` eigenvectors of the graph's normalised Laplacian, rescaled by the
    inverse square-root degrees: what sklearn's ``spectral_embedding`` (norm_laplacian,
    drop_first=False) computes, but with a dense symmetric eigensolver, which on a few
    hundred answers is an order of magnitude faster than its shift-invert ARPACK. (Column
    signs are left as they come: the pivoted-QR assignment does not depend on them.)"""
    adjacency = graph.astype(np.float64)
    np.fill_diagonal(adjacency, 0.0)
    degree = adjacency.sum(axis=1)
    isolated = degree == 0.0
    root = np.sqrt(np.where(isolated, 1.0, degree))
    laplacian = -adjacency / root[:, None] / root[None, :]
    np.fill_diagonal(laplacian, 1.0)
    dims = min(dims, len(graph))
    _, vectors = eigh(laplacian, subset_by_index=[0, dims - 1], check_finite=False)
    out: Matrix = np.asarray(vectors / root[:, None], dtype=np.float64)
    return out


def _cluster_qr(vectors: Matrix) -> Labels:
    """Cluster assignment from a spectral embedding by pivoted QR (Damle et al. 2019), as
    sklearn's SpectralClustering(assign_labels="cluster_qr") does; deterministic."""
    k = vectors.shape[1]
    _, pivots = qr(vectors.T, pivoting=True, mode="r", check_finite=False)
    left, _, right = svd(vectors[pivots[:k], :].T, check_finite=False)
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
