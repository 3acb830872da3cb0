"""Composition correction of homology scores: each query's own null, from shuffles of itself.

A GC-rich query scores high against any GC-rich sequence, homologous or not, so one null for all
queries makes its E-values too small (and a pooled ranking favours it). As FASTA's shuffle
statistics do, the query is aligned with a few dinucleotide shuffles of itself; how far their mean
score lies above the null's expectation for their lengths, minus the same excess for a typical
training query (``head.composition_reference``), is subtracted from every score of that query.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..embeddings import Embeddings

EULER_GAMMA = 0.5772156649


def composition_shifts(
    emb: Embeddings, head, *, model=None, shuffles: int = 8, seed: int = 0, device: str = "cpu"
) -> np.ndarray:
    """Raw-score shift of each sequence of ``emb`` (float64, (n,)): subtract it from the sequence's
    local scores under ``head`` before converting them to bits."""
    from ..model import embed
    from ..seqs import AmbiguousBaseWarning
    from ..seqs.shuffle import dinucleotide_shuffle
    from .engine import score_pairs

    if head.composition_reference is None:
        raise ValueError(
            "this homology head has no composition reference (field 'composition_reference'): "
            "composition correction needs a head built with one"
        )
    if emb.sequences is None:
        raise ValueError("composition correction shuffles the sequences: Embeddings without them")
    if shuffles < 1:
        raise ValueError(f"shuffles must be >= 1, got {shuffles}")
    n = len(emb)
    rng = np.random.default_rng(seed)
    seqs = [dinucleotide_shuffle(s, rng) for s in emb.sequences for _ in range(shuffles)]
    with warnings.catch_warnings():  # the query's ambiguous bases were reported when it was read
        warnings.simplefilter("ignore", AmbiguousBaseWarning)
        shuffled = embed(
            [(f"shuffle{k}", s) for k, s in enumerate(seqs)], model=model, device=device
        )
    pairs = np.stack([np.repeat(np.arange(n), shuffles), np.arange(n * shuffles)], axis=1)
    raw = score_pairs(head.vectors(emb), pairs, head.params, targets=head.vectors(shuffled))
    raw = np.asarray(raw, dtype=np.float64).reshape(n, shuffles)
    null = head.null
    m = null.effective(emb.lengths)
    expected = (np.log(null.K * m * m) + EULER_GAMMA) / null.lam  # Gumbel mean for m × m
    return raw.mean(axis=1) - expected - head.composition_reference


def reference_shift(emb: Embeddings, head, **kw) -> float:
    """The median shift of ``emb``'s sequences with a zero reference: a head's reference."""
    import dataclasses

    probe = dataclasses.replace(head, composition_reference=0.0)
    return float(np.median(composition_shifts(emb, probe, **kw)))


__all__ = ["composition_shifts", "reference_shift"]
