"""Alignment accuracy against reference alignments, as the RNABERT paper: over aligned base pairs
(i, j), TP = predicted pairs that the reference also aligns, PPV = TP / predicted, sensitivity = TP
/ reference, F = their harmonic mean, **micro-averaged** (counts summed over pairs first); and a
family-level bootstrap interval for the difference of two methods' F."""

from __future__ import annotations

from typing import Dict, Sequence

import numpy as np

from ..alignment.paths import concat_pairs, true_positives
from ..seqs.identity import BIN_LABELS, identity_bin
from .pairs import PairSet


def counts(pairs: PairSet, offsets: np.ndarray, path: np.ndarray) -> Dict[str, np.ndarray]:
    """Per pair: tp, predicted, reference counts (int64 arrays, shape (m,))."""
    ref_path, ref_offs = concat_pairs(pairs.refs)
    tp = true_positives(path, offsets, ref_path, ref_offs)
    return {
        "tp": tp,
        "pred": np.diff(offsets).astype(np.int64),
        "ref": np.diff(ref_offs).astype(np.int64),
    }


def scores_of(tp, pred, ref) -> Dict[str, float]:
    """Micro-averaged PPV, sensitivity, F from summed counts (0 when undefined)."""
    tp, pred, ref = float(np.sum(tp)), float(np.sum(pred)), float(np.sum(ref))
    ppv = tp / pred if pred else 0.0
    sens = tp / ref if ref else 0.0
    f = 2 * ppv * sens / (ppv + sens) if ppv + sens else 0.0
    return {"f": f, "sens": sens, "ppv": ppv, "tp": int(tp), "pred": int(pred), "ref": int(ref)}


def summarize(c: Dict[str, np.ndarray], identity: np.ndarray) -> Dict[str, Dict[str, float]]:
    """Overall and per-identity-bin scores: {"all": {...}, "<40": {...}, ...}, each with ``n``
    pairs."""
    out = {"all": {**scores_of(c["tp"], c["pred"], c["ref"]), "n": len(c["tp"])}}
    bins = identity_bin(identity)
    for k, label in enumerate(BIN_LABELS):
        sel = bins == k
        out[label] = {**scores_of(c["tp"][sel], c["pred"][sel], c["ref"][sel]), "n": int(sel.sum())}
    return out


def bootstrap_difference(
    c_a: Dict[str, np.ndarray],
    c_b: Dict[str, np.ndarray],
    identity: np.ndarray,
    families: Sequence[str],
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> Dict[str, Dict[str, float]]:
    """F(a) − F(b) overall and per identity bin, with a family-level bootstrap interval.

    Pairs of one family are not independent (they share members and structure), so families are
    resampled with replacement, all of a family's pairs together, and both methods' micro-averaged F
    recomputed on each resample. Returns {column: {"diff", "lo", "hi", "p_le_0", "families"}}, where
    ``p_le_0`` is the fraction of resamples in which a does not beat b.
    """
    fam_names, fam_idx = np.unique(np.asarray(families), return_inverse=True)
    nf = len(fam_names)
    bins = identity_bin(identity)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(nf, np.full(nf, 1.0 / nf), size=n_boot).astype(np.float64)  # (B, nf)
    out = {}
    for label, sel in [("all", np.ones(len(bins), bool))] + [
        (lab, bins == k) for k, lab in enumerate(BIN_LABELS)
    ]:
        if not sel.any():
            continue

        def f_of(c, w):
            sums = [
                np.bincount(fam_idx[sel], weights=c[key][sel], minlength=nf)
                for key in ("tp", "pred", "ref")
            ]
            tp, pred, ref = (w @ x for x in sums)
            ppv = np.divide(tp, pred, out=np.zeros_like(tp), where=pred > 0)
            sens = np.divide(tp, ref, out=np.zeros_like(tp), where=ref > 0)
            return np.divide(
                2 * ppv * sens, ppv + sens, out=np.zeros_like(tp), where=ppv + sens > 0
            )

        ones = np.ones((1, nf))
        diff = float((f_of(c_a, ones) - f_of(c_b, ones))[0])
        boot = f_of(c_a, weights) - f_of(c_b, weights)
        # A resample can miss every family of a sparse bin: such draws carry no information on it.
        has = (weights @ np.bincount(fam_idx[sel], minlength=nf).astype(np.float64)) > 0
        boot = boot[has]
        alpha = (1.0 - level) / 2
        out[label] = {
            "diff": diff,
            "lo": float(np.quantile(boot, alpha)),
            "hi": float(np.quantile(boot, 1 - alpha)),
            "p_le_0": float(np.mean(boot <= 0)),
            "families": int(len(np.unique(fam_idx[sel]))),
        }
    return out
