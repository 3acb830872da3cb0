"""Homology evaluation on the held-out validation families, every method side by side in one run.

    python benchmarks/eval_homology.py [--json out.json]

Methods: the shipped homology head (score="bits"); the shipped encoder's plain cosine in local mode
(today's scoring before the head); a sequence-only Smith-Waterman (+2/−3, gaps 5 + 2k) through the
same
engine; blastn -task blastn -word_size 7 and nhmmer (skipped with a message where not installed).
The nulls of the engine methods are fitted on shuffled decoys of *training* families, and the
clustering threshold (bits of pair significance, −log2 of the pair's E-value) is chosen on 150
training families; the validation families only ever get measured.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

import rnabert
from rnabert.alignment.heads import HomologyHead, load_homology_head, sequence_head
from rnabert.alignment.null import NullModel
from rnabert.alignment.params import AlignParams
from rnabert.evaluate.homology import (
    _draw_cluster_sets,
    adjusted_rand_index,
    build_benchmark,
    cluster_with_head,
    evaluate_homology,
    fit_head_null,
    format_results,
)
from rnabert.seqs import AmbiguousBaseWarning
from rnabert.seqs.shuffle import dinucleotide_shuffle
from rnabert.train.data import read_families, read_validation_file


def cosine_head(bias=-0.5):
    """The shipped encoder's plain cosine (no centring, no base channel), local mode."""
    return HomologyHead(
        np.eye(120, dtype=np.float32),
        np.zeros((6, 1), np.float32),
        0.0,
        0.0,
        AlignParams(mode="local", scale=1.0, bias=bias, gap_open=1.0, gap_extend=0.1),
        NullModel(1.0, 1.0),
    )


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default="../shared/data/rfam14.2-seed/Rfam14.2.seed.train.gz")
    ap.add_argument("--max-members", type=int, default=40)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.time()
    held = set(read_validation_file())
    fams = read_families(args.data)
    train = [f for f in fams if f.accession not in held]
    val = [f.alignment for f in fams if f.accession in held]
    model = rnabert.load_model()

    def embed(names, seqs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AmbiguousBaseWarning)
            return rnabert.embed(list(zip(names, seqs)), model=model, device="cpu")

    # nulls: one member of each of 200 training families against shuffles of 600 others
    rng = np.random.default_rng(args.seed + 7)
    pick = rng.choice(len(train), 800, replace=False)
    seqs = []
    for k, i in enumerate(pick):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AmbiguousBaseWarning)
            recs = train[i].alignment.records()
        s = recs[int(rng.integers(len(recs)))].seq
        seqs.append(s if k < 200 else dinucleotide_shuffle(s, rng))
    null_emb = embed([f"n{k}" for k in range(len(seqs))], seqs)
    qn, dn = np.arange(200), np.arange(200, 800)
    heads = {
        "rnabert bits (homology head)": load_homology_head(),
        "shipped encoder, plain cosine (local)": fit_head_null(cosine_head(), null_emb, qn, dn),
        "sequence-only SW +2/−3 (same engine)": fit_head_null(sequence_head(), null_emb, qn, dn),
    }
    for name, h in heads.items():
        print(f"{name}: {h.params}, {h.null}", flush=True)

    # clustering threshold per head, chosen on 150 training families
    dev_idx = np.random.default_rng(123).choice(len(train), 150, replace=False)
    dev = build_benchmark(
        [train[i].alignment for i in sorted(dev_idx)], max_members=8, seed=args.seed
    )
    dev_emb = embed(dev.names, dev.seqs)
    dev_sets = _draw_cluster_sets(dev, args.seed)
    thresholds = {}
    for name, h in heads.items():
        scores = {}
        for thr in (0.0, 5.0, 10.0, 15.0, 20.0, 30.0):
            scores[thr] = np.mean(
                [
                    adjusted_rand_index(dev.family[m], cluster_with_head(h, dev_emb, m, thr))
                    for m in dev_sets.values()
                ]
            )
        thresholds[name] = max(scores, key=scores.get)
        print(
            f"{name}: clustering threshold {thresholds[name]} bits (training-family ARI "
            f"{scores[thresholds[name]]:.3f})",
            flush=True,
        )

    bench = build_benchmark(val, max_members=args.max_members, seed=args.seed)
    print(
        f"validation benchmark: {len(bench.accessions)} families, {len(bench.queries)} queries, "
        f"{len(bench.database)} database sequences ({int(bench.decoy.sum())} shuffles)",
        flush=True,
    )
    emb = embed(bench.names, bench.seqs)
    results = {}
    for name, h in heads.items():
        results.update(
            evaluate_homology(
                bench,
                emb,
                {name: h},
                cluster_threshold=thresholds[name],
                peers=False,
                seed=args.seed,
            )
        )
    if not args.no_peers:
        results.update(
            evaluate_homology(bench, emb, {}, cluster_threshold=0.0, peers=True, seed=args.seed)
        )
    print(format_results(results))
    print(f"total {time.time() - t0:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"results": results, "thresholds": thresholds}, fh, indent=1)


if __name__ == "__main__":
    main()
