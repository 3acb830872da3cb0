"""Build the shipped homology head: choose its scoring on training families, fit its null, save it.

The head (rnabert.alignment.heads.HomologyHead) scores mean-centred encoder embeddings mixed with
base-identity channels. Its six numbers (centre, mix, scale, bias, gap open, gap extend) are chosen
on a search benchmark built from 150 *training* families (2 queries each against the family's other
members and their dinucleotide shuffles; criterion ROC1 + pooled sensitivity at one false positive
per query); the extreme-value null is then fitted on queries of other training families against
dinucleotide shuffles of members of yet other families. The validation families are never read.

    python benchmarks/build_homology_head.py --out python/rnabert/weights/homology_head.safetensors
    \
        --grid 1.0,-1.0,3,0.5 1.4,-1.0,5,1 ...     (mix,bias,gap_open,gap_extend at scale 3)
"""

from __future__ import annotations

import argparse
import hashlib
import time

import numpy as np

import rnabert
from rnabert.alignment.heads import SHIPPED, HomologyHead
from rnabert.alignment.null import NullModel
from rnabert.alignment.params import AlignParams
from rnabert.evaluate.homology import (
    build_benchmark,
    development_families,
    fit_head_null,
    head_scores,
    null_sequences,
    search_metrics,
)
from rnabert.model.checkpoint import DEFAULT_WEIGHTS
from rnabert.train.data import read_families, read_validation_file


def identity_head(mix, bias, gap_open, gap_extend, scale=3.0, null=NullModel(1.0, 1.0)):
    """Projection = identity (the centred embedding itself), one-hot base channels weighted by
    mix."""
    base = np.zeros((6, 8), np.float32)
    base[2:6, :4] = np.eye(4, dtype=np.float32)
    base[1, :4] = 0.5
    return HomologyHead(
        np.eye(120, dtype=np.float32),
        base,
        1.0,
        float(mix),
        AlignParams(mode="local", scale=scale, bias=bias, gap_open=gap_open, gap_extend=gap_extend),
        null,
    )


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default="../shared/data/rfam14.2-seed/Rfam14.2.seed.train.gz")
    ap.add_argument("--out", default=str(SHIPPED))
    ap.add_argument("--grid", nargs="+", default=["1.4,-1.0,5,1"])
    ap.add_argument("--null-queries", type=int, default=400)
    ap.add_argument("--null-decoys", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.time()
    held = set(read_validation_file())
    fams = [f for f in read_families(args.data) if f.accession not in held]
    dev_idx = set(development_families(len(fams)).tolist())
    dev = build_benchmark(
        [fams[i].alignment for i in sorted(dev_idx)], max_members=8, seed=args.seed
    )
    model = rnabert.load_model()
    emb = rnabert.embed(list(zip(dev.names, dev.seqs)), model=model, device="cpu")
    homolog, counted = dev.truth()
    # the null's own sets: one member of each of other training families, shuffled or not
    rest = [i for i in range(len(fams)) if i not in dev_idx]
    rng = np.random.default_rng(args.seed + 7)
    seqs = null_sequences(
        [fams[i].alignment for i in rest], args.null_queries, args.null_decoys, rng
    )
    null_emb = rnabert.embed([(f"n{k}", s) for k, s in enumerate(seqs)], model=model, device="cpu")
    q_null = np.arange(args.null_queries)
    d_null = np.arange(args.null_queries, len(seqs))
    best = None
    print(
        "| mix | bias | gap open | gap extend | λ | ROC AUC | ROC1 | sens@1FP/q |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    for spec in args.grid:
        mix, bias, go, ge = (float(x) for x in spec.split(","))
        head = fit_head_null(identity_head(mix, bias, go, ge), null_emb, q_null, d_null)
        s = head_scores(head, emb, dev.queries, dev.database)
        m = search_metrics(-np.log(s["e_pair"]), homolog, counted)
        print(
            f"| {mix} | {bias} | {go} | {ge} | {head.null.lam:.3f} | {m['auc']:.4f} | "
            f"{m['roc1']:.4f} | "
            f"{m['sens_1fp']:.4f} |",
            flush=True,
        )
        if best is None or m["roc1"] + m["sens_1fp"] > best[0]:
            best = (m["roc1"] + m["sens_1fp"], head)
    head = best[1]
    sha = hashlib.sha256(open(DEFAULT_WEIGHTS, "rb").read()).hexdigest()
    import dataclasses

    # composition correction: the median excess of the null queries over their own shuffles
    from rnabert.alignment.composition import reference_shift

    reference = reference_shift(null_emb.subset(q_null), head, model=model)
    head = dataclasses.replace(head, encoder_sha256=sha, composition_reference=reference)
    head.save(args.out)
    print(
        f"saved {args.out}: params {head.params}, null {head.null}, composition reference "
        f"{reference:.3f}, encoder {sha[:12]}…, "
        f"{time.time() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()
