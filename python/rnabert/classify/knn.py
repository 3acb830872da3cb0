"""Nearest-neighbour votes on homology scores: a query takes the classes of the reference
sequences it aligns to best, in bits (``align_many(score="bits")``).

Where the query's family is in the reference this is hard to beat (members of one Rfam family are
one class); where it is not, the best hits are chance alignments and the vote says little, which is
what a trained head is for. ``combine`` mixes the two.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["votes_from_hits", "knn_vote", "combine"]


def votes_from_hits(
    query: np.ndarray,
    reference: np.ndarray,
    bits: np.ndarray,
    n_queries: int,
    reference_labels: Sequence[str],
    classes: Sequence[str],
    k: int = 1,
) -> np.ndarray:
    """Vote shares of each query's ``k`` best hits among labelled reference sequences.

    Parameters
    ----------
    query, reference : int arrays, shape (m,)
        Hits: query index, reference index (as ``PairScores.i`` and ``.j``).
    bits : float array, shape (m,)
        Each hit's homology score.
    n_queries : int
    reference_labels : sequence of str, one per reference sequence
    classes : sequence of str
        The columns of the result; hits on references of other classes are ignored.
    k : int
        Hits that vote (the best by bits; equal scores: the earlier hit as given); each votes with
        weight max(bits, 0), so a weak hit counts little.

    Returns
    -------
    float64 array, shape (n_queries, classes)
        Each row sums to 1: the bits-weighted share of each class among the ``k`` best hits
        (uniform where no hit scores above 0 bits).
    """
    col = {c: i for i, c in enumerate(classes)}
    ref_class = np.array([col.get(lab, -1) for lab in reference_labels], dtype=np.int64)
    query = np.asarray(query, dtype=np.int64)
    reference = np.asarray(reference, dtype=np.int64)
    bits = np.asarray(bits, dtype=np.float64)
    keep = ref_class[reference] >= 0 if len(reference) else np.zeros(0, bool)
    query, reference, bits = query[keep], reference[keep], bits[keep]
    # best first within each query; stable, so equal scores keep the given order
    order = np.lexsort((-bits, query))
    query, reference, bits = query[order], reference[order], bits[order]
    first = np.searchsorted(query, query, side="left")
    rank = np.arange(len(query)) - first
    take = rank < max(1, int(k))
    out = np.zeros((int(n_queries), len(classes)))
    np.add.at(out, (query[take], ref_class[reference[take]]), np.maximum(bits[take], 0.0))
    total = out.sum(1, keepdims=True)
    return np.where(total > 0, out / np.where(total > 0, total, 1.0), 1.0 / len(classes))


def knn_vote(
    bits: np.ndarray, reference_labels: Sequence[str], classes: Sequence[str], k: int = 1
) -> np.ndarray:
    """:func:`votes_from_hits` from a dense score matrix ``bits`` (queries, references)."""
    bits = np.asarray(bits, dtype=np.float64)
    if bits.ndim != 2 or bits.shape[1] != len(reference_labels):
        raise ValueError(
            f"bits must have shape (queries, {len(reference_labels)}), got {bits.shape}"
        )
    q, r = np.indices(bits.shape)
    return votes_from_hits(
        q.ravel(), r.ravel(), bits.ravel(), len(bits), reference_labels, classes, k
    )


def combine(head_probabilities: np.ndarray, votes: np.ndarray, weight: float) -> np.ndarray:
    """(1 − weight) · head probabilities + weight · vote shares (rows still sum to 1)."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be in [0, 1], got {weight}")
    return (1.0 - weight) * np.asarray(head_probabilities) + weight * np.asarray(votes)
