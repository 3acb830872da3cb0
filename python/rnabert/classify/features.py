"""Sequence-level features that need no encoder: k-mer frequencies (the classic ncRNA-type
baseline, and the comparison the embedding heads must beat)."""

from __future__ import annotations

from typing import Iterable, List, Sequence

import numpy as np

__all__ = ["kmer_frequencies", "kmer_names"]

# A C G U (T read as U, either case) -> 0..3; anything else (ambiguity codes, gaps) -> 4
_CODE = np.full(256, 4, dtype=np.int64)
for _i, _letters in enumerate(("Aa", "Cc", "Gg", "UuTt")):
    for _ch in _letters:
        _CODE[ord(_ch)] = _i


def kmer_names(ks: Iterable[int] = range(1, 7)) -> List[str]:
    """Column names of :func:`kmer_frequencies`: every k-mer over ACGU, k by k, in base-4 order."""
    out = []
    for k in ks:
        for code in range(4**k):
            out.append("".join("ACGU"[(code >> (2 * (k - 1 - p))) & 3] for p in range(k)))
    return out


def kmer_frequencies(seqs: Sequence[str], ks: Iterable[int] = range(1, 7)) -> np.ndarray:
    """k-mer frequencies of each sequence, for every k in ``ks`` side by side.

    For each k the counts of the 4**k k-mers (base-4 order, A < C < G < U, as :func:`kmer_names`)
    are divided by the number of k-mers counted, so each block sums to 1 (0 where the sequence has
    none). A k-mer holding a base other than A, C, G, U/T (an ambiguity code) is not counted.

    Returns
    -------
    float32 array, shape (len(seqs), sum of 4**k)
    """
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 1 or max(ks) > 12:
        raise ValueError(f"k must be in 1..12, got {ks}")
    width = sum(4**k for k in ks)
    out = np.zeros((len(seqs), width), dtype=np.float32)
    for row, seq in enumerate(seqs):
        codes = _CODE[np.frombuffer(seq.encode("latin-1", "replace"), dtype=np.uint8)]
        bad = np.concatenate([[0], np.cumsum(codes == 4)])  # bad[i]: invalid bases before i
        col = 0
        for k in ks:
            n = len(codes) - k + 1
            if n > 0:
                # the k-mer starting at i, as a base-4 number, for every i at once
                index = np.zeros(n, dtype=np.int64)
                for p in range(k):
                    index = index * 4 + np.minimum(codes[p : p + n], 3)
                ok = bad[k : k + n] == bad[:n]
                counts = np.bincount(index[ok], minlength=4**k)
                if ok.any():
                    out[row, col : col + 4**k] = counts / ok.sum()
            col += 4**k
    return out
