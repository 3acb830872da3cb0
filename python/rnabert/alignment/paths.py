"""Alignments as ragged blocks of aligned pairs: joining them and comparing them with a reference.

An alignment set is ``path`` (K, 2) — the aligned 0-based (i, j) of every alignment, each increasing
— with ``offsets`` (m + 1,): alignment p is ``path[offsets[p]:offsets[p + 1]]``, as the engines
return it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..embeddings import join_ragged

_KEY_SHIFT = 21  # residue indices < 2**21 in the pair keys below


def join_paths(parts):
    """Join (scores, path_offsets, path) results of consecutive pair chunks into one."""
    if len(parts) == 1:
        return parts[0]
    path, offsets = join_ragged([pa for _, _, pa in parts], [offs for _, offs, _ in parts])
    return np.concatenate([s for s, _, _ in parts]), offsets, path


def concat_pairs(refs: Sequence[np.ndarray]):
    """Aligned-pair arrays (k_p, 2) as one ragged block: (path int64 (K, 2), offsets int64 (m +
    1,))."""
    if len(refs) == 0:
        return np.zeros((0, 2), np.int64), np.zeros(1, np.int64)
    return join_ragged([np.asarray(r, dtype=np.int64).reshape(-1, 2) for r in refs])


def _keys(path: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    pid = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))
    return (
        (pid << (2 * _KEY_SHIFT))
        | (path[:, 0].astype(np.int64) << _KEY_SHIFT)
        | path[:, 1].astype(np.int64)
    )


def true_positives(path, offsets, ref_path, ref_offsets) -> np.ndarray:
    """Per alignment, how many of its pairs are also in the reference: int64 array, shape (m,)."""
    path = np.asarray(path, dtype=np.int64).reshape(-1, 2)
    ref_path = np.asarray(ref_path, dtype=np.int64).reshape(-1, 2)
    offsets = np.asarray(offsets, dtype=np.int64)
    hit = np.isin(_keys(path, offsets), _keys(ref_path, np.asarray(ref_offsets, dtype=np.int64)))
    pid = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    return np.bincount(pid, weights=hit, minlength=len(offsets) - 1).astype(np.int64)
