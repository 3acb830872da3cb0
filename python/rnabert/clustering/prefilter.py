"""Candidate pairs for very large inputs: each sequence's nearest neighbours by its pooled homology
vector, then only those pairs are aligned — cost near N·k alignments instead of N²/2.

The pooled vector is the mean of the homology head's per-base vectors (centred embeddings plus base
channels), unit-normalised; neighbours are found by exact inner products in row blocks (memory:
one block × N floats). Homologs whose pooled vectors are not among each other's k nearest are
missed, which is what the exhaustive tile path is for.

Pairs are aligned block against block (:func:`score_pairs_blocked`): the engine sees two blocks of
about :data:`PAIR_BLOCK_RESIDUES` bases at a time, views of the stored vectors, so memory stays
bounded whatever N when the vectors are memory-mapped (``vectors.HeadVectors``).
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from .vectors import block_size

QUERY_BLOCK = 256  # rows of the similarity computed at once: 256 × N float32
PAIRS_PER_STEP = 1 << 16  # pairs per engine call within a block pair: progress and Ctrl-C steps
PAIR_BLOCK_RESIDUES = 1 << 21  # bases per block of sequences scored against another: 1 GiB


def candidate_pairs(pooled: np.ndarray, k: int, progress: bool = False) -> np.ndarray:
    """Unique pairs (i < j), int64 (m, 2), sorted: j among i's k nearest rows of ``pooled`` (unit
    vectors, float32 (n, d)) by inner product, or i among j's."""
    pooled = np.ascontiguousarray(pooled, np.float32)
    n = len(pooled)
    k = min(k, n - 1)
    if k < 1:
        return np.zeros((0, 2), np.int64)
    keys = []
    blocks = range(0, n, QUERY_BLOCK)
    if progress:
        from tqdm.auto import tqdm

        blocks = tqdm(blocks, desc="prefilter", unit="block")
    for s in blocks:
        e = min(n, s + QUERY_BLOCK)
        sim = pooled[s:e] @ pooled.T
        sim[np.arange(e - s), np.arange(s, e)] = -np.inf  # not itself
        nn = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        i = np.repeat(np.arange(s, e, dtype=np.int64), k)
        j = nn.ravel().astype(np.int64)
        keys.append(np.unique(np.minimum(i, j) * n + np.maximum(i, j)))
    key = np.unique(np.concatenate(keys))
    return np.stack([key // n, key % n], axis=1).astype(np.int64)


def score_pairs_blocked(
    vectors,
    pairs: np.ndarray,
    params,
    *,
    threads: Optional[int] = None,
    device: str = "cpu",
    progress: bool = False,
    desc: str = "align (bits)",
) -> np.ndarray:
    """Local scores of ``pairs`` (int64 (m, 2), any order) of ``vectors`` (``HeadVectors``), in the
    order given: the pairs are grouped by the blocks their two sequences fall in, and each group is
    scored by the engine on views of those two blocks."""
    from ..alignment.engine import score_pairs

    pairs = np.asarray(pairs, np.int64).reshape(-1, 2)
    out = np.empty(len(pairs), np.float32)
    if not len(pairs):
        return out
    n = len(vectors)
    size = block_size(vectors, PAIR_BLOCK_RESIDUES)
    a, b = pairs[:, 0] // size, pairs[:, 1] // size
    key = a * (-(-n // size)) + b
    order = np.argsort(key, kind="stable")
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(key[order])) + 1, [len(order)]])
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(pairs), desc=desc, unit="pairs", unit_scale=True)
    query, query_at = None, -1
    try:
        for s, e in zip(bounds[:-1], bounds[1:]):
            idx = order[s:e]
            qa, tb = int(a[idx[0]]), int(b[idx[0]])
            if qa != query_at:  # groups come sorted by query block: each is built once
                query, query_at = vectors.block(qa * size, min(n, (qa + 1) * size)), qa
            local = pairs[idx] - np.array([qa * size, tb * size], np.int64)
            target = None if tb == qa else vectors.block(tb * size, min(n, (tb + 1) * size))
            # a group can hold millions of pairs: scored a step at a time, the bar moves and
            # Ctrl-C is seen between steps (pair scores do not depend on their batch)
            for c in range(0, len(idx), PAIRS_PER_STEP):
                out[idx[c : c + PAIRS_PER_STEP]] = score_pairs(
                    query,
                    local[c : c + PAIRS_PER_STEP],
                    params,
                    targets=target,
                    threads=threads,
                    device=device,
                )
                if bar is not None:
                    bar.update(len(idx[c : c + PAIRS_PER_STEP]))
    finally:
        if bar is not None:
            bar.close()
    return out


def prefilter_edges(
    vectors,
    hom,
    *,
    k: int,
    min_sig: float,
    threads: Optional[int] = None,
    device: str = "cpu",
    progress: bool = False,
) -> Dict[str, np.ndarray]:
    """Edges (i, j, bits, sig) of the candidate pairs of ``vectors`` (``HeadVectors``) whose
    significance reaches ``min_sig``, sorted by (i, j)."""
    from ..execute import significance

    pairs = candidate_pairs(vectors.pooled, k, progress)
    raw = score_pairs_blocked(
        vectors, pairs, hom.params, threads=threads, device=device, progress=progress
    )
    lengths = vectors.lengths
    bits = hom.null.bits(raw)
    sig = significance(bits, lengths[pairs[:, 0]], lengths[pairs[:, 1]], hom.null)
    keep = sig >= min_sig
    return {
        "i": pairs[keep, 0].copy(),
        "j": pairs[keep, 1].copy(),
        "bits": bits[keep].astype(np.float32),
        "sig": sig[keep].astype(np.float32),
        "candidates": len(pairs),
    }
