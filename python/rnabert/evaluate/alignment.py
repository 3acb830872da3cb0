"""The alignment-accuracy workflow: sample pairs of reference alignments, align them with RNABERT
and the baselines, score and compare (F, sensitivity, PPV; see :mod:`.stats`).

Identity bins are :mod:`rnabert.seqs.identity`'s.
"""

from __future__ import annotations

import os
import time
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .aligners import (
    BASELINE,
    BASELINE_GRID,
    align_with_baseline,
    align_with_mafft,
    align_with_model,
    mafft_available,
)
from .pairs import PairSet, read_alignments, sample_pairs, subset
from .stats import bootstrap_difference, counts, scores_of, summarize


def model_f(model, pairs: PairSet) -> float:
    """Micro-averaged F of the model's alignments of ``pairs`` (the trainer's validation metric)."""
    offs, path = align_with_model(model, pairs)
    c = counts(pairs, offs, path)
    return scores_of(c["tp"], c["pred"], c["ref"])["f"]


def tune_baseline(
    pairs: PairSet, grid: Optional[Dict[str, Sequence[float]]] = None
) -> List[Tuple[Dict, float]]:
    """Grid search of the baseline's mismatch and gap costs (match fixed at 1: only ratios matter).

    Run it on TRAINING families. Returns [(params, F)], best first.
    """
    grid = grid or BASELINE_GRID
    results = []
    for mm in grid["mismatch"]:
        for go in grid["gap_open"]:
            for ge in grid["gap_extend"]:
                params = {"match": 1.0, "mismatch": mm, "gap_open": go, "gap_extend": ge}
                offs, path = align_with_baseline(pairs, **params)
                c = counts(pairs, offs, path)
                results.append((params, scores_of(c["tp"], c["pred"], c["ref"])["f"]))
    results.sort(key=lambda r: -r[1])
    return results


def evaluate(
    pairs: PairSet,
    *,
    model=None,
    baseline: bool = True,
    random_init: bool = True,
    mafft: int = 0,
    seed: int = 0,
    device: str = "cpu",
    baseline_params: Optional[Dict] = None,
    log=print,
) -> Dict[str, Dict]:
    """Score every requested method on the same pairs: {method: summarize(...)}.

    ``baseline_params`` (match, mismatch, gap_open, gap_extend) default to :data:`BASELINE`.

    ``mafft`` > 0 runs mafft on that many pairs (a seeded random subset of the sample) and also
    reports the other methods on exactly those pairs, suffixed ``@mafft``.
    """
    identity = pairs.identity
    results: Dict[str, Dict] = {}
    per_pair: Dict[str, Dict[str, np.ndarray]] = {}
    if model is not None:
        t0 = time.perf_counter()
        per_pair["rnabert"] = counts(pairs, *align_with_model(model, pairs))
        log(f"rnabert: {len(pairs)} pairs in {time.perf_counter() - t0:.1f} s")
    if random_init:
        from ..model import new_model

        net = new_model(seed=seed).to(device)
        per_pair["random-init"] = counts(pairs, *align_with_model(net, pairs))
    if baseline:
        per_pair["baseline"] = counts(
            pairs, *align_with_baseline(pairs, **(baseline_params or BASELINE))
        )
    for name, c in per_pair.items():
        results[name] = summarize(c, identity)
    if "rnabert" in per_pair and "baseline" in per_pair:
        # The paired comparison that says whether the gain over sequence alignment is more than
        # noise.
        results["rnabert"]["vs_baseline"] = bootstrap_difference(
            per_pair["rnabert"], per_pair["baseline"], identity, pairs.family, seed=seed
        )
    if mafft > 0:
        if not mafft_available():
            log("mafft not found (apt-get install mafft): skipping the mafft comparison")
        else:
            n = min(mafft, len(pairs))
            # Random, not the first n: a sample can be ordered by family (identity-stratified
            # sampling is).
            pick = np.sort(
                np.random.default_rng([seed, 7]).choice(len(pairs), size=n, replace=False)
            )
            sub = subset(pairs, pick)
            offs, path, sec = align_with_mafft(sub)
            results["mafft G-INS-i"] = summarize(counts(sub, offs, path), identity[pick])
            results["mafft G-INS-i"]["all"]["sec_per_pair"] = sec
            log(f"mafft: {n} pairs, {sec:.3f} s per pair")
            for name, c in per_pair.items():
                results[f"{name}@mafft"] = summarize(
                    {k: v[pick] for k, v in c.items()}, identity[pick]
                )
    return results


def evaluate_alignment(
    data,
    weights=None,
    *,
    families: Optional[Iterable[str]] = None,
    max_pairs: Optional[int] = 1000,
    pairs_per_family: int = 10,
    baseline: bool = True,
    random_init: bool = True,
    mafft: int = 0,
    seed: int = 0,
    device: str = "auto",
    per_bin: Optional[int] = None,
    log=print,
) -> Tuple[PairSet, Dict[str, Dict]]:
    """Sample pairs from reference alignments and score the model and the baselines on them.

    Parameters
    ----------
    data : path or list of paths
        Stockholm files (families) or aligned FASTA files (one family each).
    weights : path, RnaBert or None
        The model to evaluate; None uses the shipped weights when there are any (else no model
        column).
    families : accessions to keep (None: all).
    per_bin : sample up to this many pairs per family and identity bin (see :func:`sample_pairs`).

    Returns
    -------
    (PairSet, {method: summarize(...)}): print the second with :func:`format_table`.
    """
    from ..backends import resolve_device
    from ..model.bert import RnaBert
    from ..model.checkpoint import DEFAULT_WEIGHTS, load_model

    paths = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    pairs = sample_pairs(
        read_alignments(paths), families, pairs_per_family, max_pairs, seed, per_bin=per_bin
    )
    if not len(pairs):
        raise ValueError(
            "no pairs to evaluate: no family (of those asked for) has two sequences sharing a "
            "column"
        )
    dev = resolve_device(device)
    if isinstance(weights, RnaBert):
        model = weights.to(dev)
    elif weights is not None or DEFAULT_WEIGHTS.exists():
        model = load_model(weights, device=dev)
    else:
        model = None
        log("no trained weights (give weights=...): the model column is skipped")
    return pairs, evaluate(
        pairs,
        model=model,
        baseline=baseline,
        random_init=random_init,
        mafft=mafft,
        seed=seed,
        device=str(dev),
        log=log,
    )
