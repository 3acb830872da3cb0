"""Candidate pairs for very large inputs: each sequence's nearest neighbours by its pooled homology
vector, then only those pairs are aligned — cost near N·k alignments instead of N²/2.

The pooled vector is the mean of the homology head's per-base vectors (centred embeddings plus base
channels), unit-normalised; neighbours are found by exact inner products in row blocks (memory:
one block × N floats). Homologs whose pooled vectors are not among each other's k nearest are
missed, which is what the exhaustive tile path is for.
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from ..embeddings import Embeddings

QUERY_BLOCK = 256  # rows of the similarity computed at once: 256 × N float32


def pooled_unit(vectors: Embeddings) -> np.ndarray:
    sums = np.add.reduceat(vectors.values.astype(np.float64), vectors.offsets[:-1], axis=0)
    p = sums / vectors.lengths[:, None]
    p /= np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
    return p.astype(np.float32)


def candidate_pairs(vectors: Embeddings, k: int, progress: bool = False) -> np.ndarray:
    """Unique pairs (i < j), int64 (m, 2), sorted: j among i's k nearest pooled vectors or i
    among j's."""
    pooled = pooled_unit(vectors)
    n = len(pooled)
    k = min(k, n - 1)
    if k < 1:
        return np.zeros((0, 2), np.int64)
    rows, cols = [], []
    blocks = range(0, n, QUERY_BLOCK)
    if progress:
        from tqdm.auto import tqdm

        blocks = tqdm(blocks, desc="prefilter", unit="block")
    for s in blocks:
        e = min(n, s + QUERY_BLOCK)
        sim = pooled[s:e] @ pooled.T
        sim[np.arange(e - s), np.arange(s, e)] = -np.inf  # not itself
        nn = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        rows.append(np.repeat(np.arange(s, e), k))
        cols.append(nn.ravel())
    i, j = np.concatenate(rows), np.concatenate(cols)
    a, b = np.minimum(i, j), np.maximum(i, j)
    key = np.unique(a.astype(np.int64) * n + b)
    return np.stack([key // n, key % n], axis=1).astype(np.int64)


def prefilter_edges(
    vectors: Embeddings,
    hom,
    *,
    k: int,
    min_sig: float,
    threads: Optional[int] = None,
    device: str = "cpu",
    progress: bool = False,
    chunk: int = 1 << 18,
) -> Dict[str, np.ndarray]:
    """Edges (i, j, bits, sig) of the candidate pairs whose significance reaches ``min_sig``."""
    from ..alignment.engine import score_pairs
    from ..execute import significance

    pairs = candidate_pairs(vectors, k, progress)
    lengths = vectors.lengths
    parts = []
    for s in range(0, len(pairs), chunk):
        p = pairs[s : s + chunk]
        raw = np.asarray(
            score_pairs(vectors, p, hom.params, threads=threads, device=device, progress=progress)
        )
        bits = hom.null.bits(raw)
        sig = significance(bits, lengths[p[:, 0]], lengths[p[:, 1]], hom.null)
        keep = sig >= min_sig
        parts.append((p[keep], bits[keep], sig[keep]))
    if not parts:
        from ..execute.tiles import empty_edges

        return empty_edges()
    p = np.concatenate([x[0] for x in parts]).reshape(-1, 2)
    return {
        "i": p[:, 0].copy(),
        "j": p[:, 1].copy(),
        "bits": np.concatenate([x[1] for x in parts]).astype(np.float32),
        "sig": np.concatenate([x[2] for x in parts]).astype(np.float32),
        "candidates": len(pairs),
    }
