"""Composition correction of homology scores: each query's own null, from shuffles of itself.

A GC-rich query scores high against any GC-rich sequence, homologous or not, so one null for all
queries makes its E-values too small (and a pooled ranking favours it). As FASTA's shuffle
statistics do, the query is aligned with a few dinucleotide shuffles of itself:

- location: how far their mean score lies above the expectation for their lengths (under the
  head's ``composition_location`` null, or its null for heads without one), minus the same excess
  for a typical training query (``head.composition_reference``), is the query's *shift*;
- spread (heads with ``composition_sd``): a query whose shuffles scatter more than a typical
  query's (repeats, long low-complexity stretches) has a heavier tail of unrelated scores, so its
  scores are also scaled towards the typical location by σ_typical / σ_query (never above 1; the
  query's standard deviation, from few shuffles, is shrunk towards the typical one first).

:class:`QueryCorrection` applies both; ``composition_shifts`` gives the location part alone.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..embeddings import Embeddings

EULER_GAMMA = 0.5772156649
# weight (in degrees of freedom) of the typical spread when a query's own is estimated from its
# shuffles: 8 shuffles give 7, so the query's own sample and the prior count equally
SD_PRIOR_DF = 7.0


def _require_reference(head):
    if head.composition_reference is None:
        raise ValueError(
            "this homology head has no composition reference (field 'composition_reference'): "
            "composition correction needs a head built with one"
        )


def shuffle_scores(
    emb: Embeddings, head, *, model=None, shuffles: int = 8, seed: int = 0, device: str = "cpu"
) -> np.ndarray:
    """Local scores under ``head`` of each sequence of ``emb`` against ``shuffles`` dinucleotide
    shuffles of itself, float64 (n, shuffles)."""
    from ..model import embed
    from ..seqs import AmbiguousBaseWarning
    from ..seqs.shuffle import dinucleotide_shuffle
    from .engine import score_pairs

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
    return np.asarray(raw, dtype=np.float64).reshape(n, shuffles)


def expected_self_score(head, lengths) -> np.ndarray:
    """The mean local score of a typical query of each length against shuffles of itself: the
    Gumbel mean for m × m under the head's location null, plus its composition reference."""
    _require_reference(head)
    loc = head.composition_location if head.composition_location is not None else head.null
    m = loc.effective(lengths)
    return (np.log(loc.K * m * m) + EULER_GAMMA) / loc.lam + head.composition_reference


@dataclass(frozen=True)
class QueryCorrection:
    """Per-query affine correction of raw local scores: S' = typical + (S − typical − shift)·scale.

    ``shift``: the query's excess location over a typical query of its length; ``scale`` ≤ 1
    (1 for a head without ``composition_sd``); ``typical``: that typical location (raw score
    units). With scale 1 this is S − shift."""

    shift: np.ndarray
    scale: np.ndarray
    typical: np.ndarray

    def apply(self, raw, query) -> np.ndarray:
        """Corrected scores of raw scores ``raw`` whose queries are ``query`` (indices into this
        correction's sequences; broadcast against ``raw``, e.g. q[:, None] for a matrix)."""
        raw = np.asarray(raw, dtype=np.float64)
        t = self.typical[query]
        return t + (raw - t - self.shift[query]) * self.scale[query]

    def raw_threshold(self, corrected) -> np.ndarray:
        """The raw score at which each query's corrected score reaches ``corrected`` (the inverse
        of :meth:`apply`, float64 (n,)): its minimum is an engine threshold that admits every pair
        that may pass."""
        return self.typical + self.shift + (corrected - self.typical) / self.scale


def correction_from_shuffles(head, lengths, self_scores) -> QueryCorrection:
    """The :class:`QueryCorrection` of sequences of ``lengths`` whose scores against shuffles of
    themselves are ``self_scores`` (n, shuffles): separated from the shuffling so that a
    calibration can reuse its scores."""
    s = np.asarray(self_scores, dtype=np.float64)
    typical = expected_self_score(head, lengths)
    shift = s.mean(axis=1) - typical
    scale = np.ones(len(s))
    if head.composition_sd is not None and s.shape[1] > 1:
        df = s.shape[1] - 1
        var = s.var(axis=1, ddof=1)
        sd = np.sqrt((df * var + SD_PRIOR_DF * head.composition_sd**2) / (df + SD_PRIOR_DF))
        scale = np.minimum(1.0, head.composition_sd / np.maximum(sd, 1e-12))
    return QueryCorrection(shift, scale, typical)


def composition_correction(
    emb: Embeddings, head, *, model=None, shuffles: int = 8, seed: int = 0, device: str = "cpu"
) -> QueryCorrection:
    """The composition correction of each sequence of ``emb`` as a query: subtract-and-scale its
    raw local scores under ``head`` (``.apply``) before converting them to bits."""
    _require_reference(head)
    raw = shuffle_scores(emb, head, model=model, shuffles=shuffles, seed=seed, device=device)
    return correction_from_shuffles(head, emb.lengths, raw)


def composition_shifts(
    emb: Embeddings, head, *, model=None, shuffles: int = 8, seed: int = 0, device: str = "cpu"
) -> np.ndarray:
    """Raw-score shift of each sequence of ``emb`` (float64, (n,)): the location part of
    :func:`composition_correction` (subtract it from the sequence's local scores under ``head``
    before converting them to bits; the same as ``.apply`` for a head without
    ``composition_sd``)."""
    return composition_correction(
        emb, head, model=model, shuffles=shuffles, seed=seed, device=device
    ).shift


def reference_shift(emb: Embeddings, head, **kw) -> float:
    """The median shift of ``emb``'s sequences with a zero reference: a head's reference."""
    import dataclasses

    probe = dataclasses.replace(head, composition_reference=0.0)
    return float(np.median(composition_shifts(emb, probe, **kw)))


__all__ = [
    "QueryCorrection",
    "composition_correction",
    "composition_shifts",
    "correction_from_shuffles",
    "expected_self_score",
    "reference_shift",
    "shuffle_scores",
]
