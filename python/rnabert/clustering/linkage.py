"""Clusterings of a similarity (pair significance in bits): average linkage at a threshold, graph
components, Leiden, spectral with a given number of clusters."""

from __future__ import annotations

from typing import Optional

import numpy as np


def average_linkage(sig: np.ndarray, threshold: float) -> np.ndarray:
    """Labels 0..C-1 of average linkage (UPGMA) on a dense similarity, merging two clusters while
    the mean similarity between them is at least ``threshold``."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    n = len(sig)
    if n <= 1:
        return np.zeros(n, dtype=np.int64)
    sim = np.minimum(sig, sig.T)  # local scores are symmetric up to float rounding
    finite = sim[np.isfinite(sim)]
    top = max(float(finite.max()) if finite.size else threshold, threshold) + 1.0
    dist = top - np.clip(np.nan_to_num(sim, nan=-1e6, neginf=-1e6), -1e6, top)  # >= 0
    np.fill_diagonal(dist, 0.0)
    z = linkage(squareform(dist, checks=False), method="average")
    return (fcluster(z, t=top - threshold, criterion="distance") - 1).astype(np.int64)


def components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Connected components of the graph with edges (i, j): labels 0..C-1."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(len(i), np.int8), (i, j)), shape=(n, n))
    return connected_components(g, directed=False)[1].astype(np.int64)


def leiden(
    n: int, i: np.ndarray, j: np.ndarray, weight: np.ndarray, seed: int = 0, resolution=None
) -> np.ndarray:
    """Leiden communities (modularity, weighted) of the graph with edges (i, j, weight > 0)."""
    try:
        import igraph as ig
        import leidenalg
    except ImportError:
        raise ImportError(
            "method='leiden' needs leidenalg and igraph: pip install 'rnabert[cluster]'"
        ) from None
    g = ig.Graph(n=n, edges=np.stack([i, j], axis=1).tolist(), directed=False)
    w = np.asarray(weight, np.float64).tolist()
    if resolution is None:
        part = leidenalg.find_partition(
            g, leidenalg.ModularityVertexPartition, weights=w, seed=seed
        )
    else:
        part = leidenalg.find_partition(
            g,
            leidenalg.RBConfigurationVertexPartition,
            weights=w,
            resolution_parameter=resolution,
            seed=seed,
        )
    return np.asarray(part.membership, dtype=np.int64)


def spectral(sig: np.ndarray, k: int, seed: int = 0, restarts: int = 10) -> np.ndarray:
    """Spectral clustering into ``k`` clusters (Ng, Jordan & Weiss): affinity max(sig, 0), the k
    leading eigenvectors of the normalised affinity, rows normalised, k-means (best of
    ``restarts``)."""
    from scipy.cluster.vq import kmeans2

    n = len(sig)
    if k < 1 or k > max(n, 1):
        raise ValueError(f"n_clusters must be between 1 and the number of sequences ({n}), got {k}")
    if n <= 1 or k == 1:
        return np.zeros(n, dtype=np.int64)
    a = np.maximum(np.nan_to_num(np.minimum(sig, sig.T), nan=0.0, neginf=0.0), 0.0)
    np.fill_diagonal(a, 0.0)
    d = a.sum(1)
    inv = 1.0 / np.sqrt(np.maximum(d, 1e-12))
    m = a * inv[:, None] * inv[None, :]
    _, vecs = np.linalg.eigh(m)
    x = vecs[:, -k:]
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    rng = np.random.default_rng(seed)
    best, best_cost = None, np.inf
    for _ in range(restarts):
        centres, labels = kmeans2(x, k, minit="++", seed=int(rng.integers(2**31)))
        cost = float(((x - centres[labels]) ** 2).sum())
        if cost < best_cost:
            best, best_cost = labels, cost
    return np.asarray(best, dtype=np.int64)


def canonical(labels: np.ndarray, order_key: Optional[np.ndarray] = None) -> np.ndarray:
    """Relabel clusters 0..C-1 by decreasing size, ties by their first member: the same partition
    always gets the same numbers."""
    labels = np.asarray(labels)
    if labels.size == 0:
        return labels.astype(np.int64)
    uniq, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    first = np.full(len(uniq), labels.size, dtype=np.int64)
    np.minimum.at(first, inv, np.arange(labels.size))
    rank = np.lexsort((first, -counts))
    new = np.empty(len(uniq), dtype=np.int64)
    new[rank] = np.arange(len(uniq))
    return new[inv].astype(np.int64)
