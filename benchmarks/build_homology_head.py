"""Build the shipped homology head: choose its scoring on training families, fit its null, save it.

The head (rnabert.alignment.heads.HomologyHead) scores mean-centred encoder embeddings mixed with
base-identity channels. Its six numbers (centre, mix, scale, bias, gap open, gap extend) are chosen
on a search benchmark built from 150 *training* families (2 queries each against the family's other
members and their dinucleotide shuffles; criterion ROC1 + pooled sensitivity at one false positive
per query); a whole-distribution null is then fitted on queries of other training families
against dinucleotide shuffles of members of yet other families: it locates the composition
correction (``composition_location``, ``composition_reference``).

The head's E-value null is fitted last, on a calibration benchmark built like the validation one
(200 training families, 2 queries each against the other members and a dinucleotide shuffle of
each, so a query meets shuffles of its own family too): the composition-corrected scores of the
queries against the shuffles, upper tail only (censored ML above each pair's E = 0.01,
``fit_null_tail``). The next 200 training families form a check benchmark whose calibration and
ranking are printed. The validation families are never read.

    python benchmarks/build_homology_head.py --out python/rnabert/weights/homology_head.safetensors
    \
        --grid 1.0,-1.0,3,0.5 1.4,-1.0,5,1 ...     (mix,bias,gap_open,gap_extend at scale 3)
    python benchmarks/build_homology_head.py --keep-scoring   # refit the calibration only
    python benchmarks/build_homology_head.py --weights W.safetensors --out head.safetensors
        # a head for other encoder weights (a fine-tuned encoder): same grid, nulls refitted
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import time
import warnings

import numpy as np

import rnabert
from rnabert.alignment.composition import (
    correction_from_shuffles,
    reference_shift,
    shuffle_scores,
)
from rnabert.alignment.engine import all_vs_all
from rnabert.alignment.heads import SHIPPED, HomologyHead
from rnabert.alignment.null import NullModel, fit_null_tail
from rnabert.alignment.params import AlignParams
from rnabert.evaluate.homology import (
    build_benchmark,
    calibration,
    development_families,
    fit_head_null,
    head_scores,
    null_sequences,
    search_metrics,
)
from rnabert.model.checkpoint import DEFAULT_WEIGHTS
from rnabert.seqs import AmbiguousBaseWarning
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
    ap.add_argument(
        "--keep-scoring",
        action="store_true",
        help="keep the shipped head's scoring and composition location; refit the E-value null "
        "and the composition spread only",
    )
    ap.add_argument(
        "--weights",
        default=str(DEFAULT_WEIGHTS),
        help="encoder weights the head scores (default: the shipped encoder)",
    )
    ap.add_argument("--calib-families", type=int, default=200)
    ap.add_argument("--tail-evalue", type=float, default=0.01)
    args = ap.parse_args()
    t0 = time.time()
    held = set(read_validation_file())
    fams = [f for f in read_families(args.data) if f.accession not in held]
    model = rnabert.load_model(args.weights)
    if args.keep_scoring:
        head = HomologyHead.load(SHIPPED)
        if head.composition_location is None:  # a head from before the tail fit
            head = dataclasses.replace(head, composition_location=head.null)
    else:
        head = choose_scoring(args, fams, model)
    head = calibrate(head, fams, model, args)
    head.save(args.out)
    print(
        f"saved {args.out}: params {head.params}, null {head.null}, composition reference "
        f"{head.composition_reference:.3f}, location {head.composition_location}, "
        f"spread {head.composition_sd:.3f}, encoder {head.encoder_sha256[:12]}…, "
        f"{time.time() - t0:.0f} s"
    )


def calibration_benchmarks(fams, n_families):
    """The calibration (fit) and check benchmarks: two disjoint seeded draws of training
    families, each built like the validation benchmark."""
    perm = np.random.default_rng(2024).permutation(len(fams))
    fit = build_benchmark([fams[i].alignment for i in perm[:n_families]], max_members=40, seed=11)
    check = build_benchmark(
        [fams[i].alignment for i in perm[n_families : 2 * n_families]], max_members=40, seed=12
    )
    return fit, check


def corrected_decoy_scores(head, bench, model):
    """(embeddings, query self-shuffle scores, raw query × database scores) of a benchmark."""
    emb = embed_quietly(bench.names, bench.seqs, model)
    self_scores = shuffle_scores(emb.subset(bench.queries), head, model=model)
    raw = all_vs_all(
        head.vectors(emb).subset(bench.queries),
        head.params,
        targets=head.vectors(emb).subset(bench.database),
    ).astype(np.float64)
    return emb, self_scores, raw


def calibration_report(name, head, bench, emb, self_scores, raw):
    """Decoy hits per query with E ≤ x (shuffles alone as the search space, as in the validation
    benchmark) and the ranking metrics, composition-corrected."""
    q = np.arange(len(bench.queries))
    corr = correction_from_shuffles(head, emb.lengths[bench.queries], self_scores)
    s = raw_to_results(head, emb, bench, corr.apply(raw, q[:, None]))
    homolog, counted = bench.truth()
    m = search_metrics(-np.log(s["e_pair"]), homolog, counted)
    decoy = np.broadcast_to(bench.decoy[bench.database][None, :], raw.shape)
    lengths = emb.lengths[bench.database].astype(np.float64)
    share = lengths[bench.decoy[bench.database]].sum() / lengths.sum()
    cal = calibration(s["e_db"] * share, decoy)
    print(
        f"| {name} | {len(q)} | "
        + " | ".join(f"{v:.3f}" for v in cal.values())
        + f" | {m['auc']:.4f} | {m['roc1']:.4f} | {m['sens_1fp']:.4f} |",
        flush=True,
    )


def raw_to_results(head, emb, bench, corrected):
    lq = emb.lengths[bench.queries][:, None]
    ld = emb.lengths[bench.database][None, :]
    residues = float(head.null.effective(emb.lengths[bench.database]).sum())
    return {
        "e_pair": head.null.evalue(corrected, lq, ld),
        "e_db": head.null.evalue(corrected, lq, residues + head.null.edge),
    }


def calibrate(head, fams, model, args):
    """The head with its composition spread and its E-value null fitted on the calibration
    benchmark (upper tail of the composition-corrected decoy scores)."""
    fit, check = calibration_benchmarks(fams, args.calib_families)
    emb, self_scores, raw = corrected_decoy_scores(head, fit, model)
    old = head
    # the typical spread of a query's scores against its own shuffles
    sd = float(np.median(self_scores.std(axis=1, ddof=1)))
    head = dataclasses.replace(head, composition_sd=sd)
    corr = correction_from_shuffles(head, emb.lengths[fit.queries], self_scores)
    corrected = corr.apply(raw, np.arange(len(fit.queries))[:, None])
    decoy = fit.decoy[fit.database]
    lq, ld = np.broadcast_arrays(
        emb.lengths[fit.queries][:, None], emb.lengths[fit.database][decoy][None, :]
    )
    null = fit_null_tail(corrected[:, decoy].ravel(), lq.ravel(), ld.ravel(), args.tail_evalue)
    head = dataclasses.replace(head, null=null)
    print(
        f"calibration: {len(fit.accessions)} families, {len(fit.queries)} queries x "
        f"{int(decoy.sum())} shuffles; spread {sd:.3f}; tail null {null}\n"
        "| benchmark, head | queries | E≤0.01 | E≤0.1 | E≤1 | E≤10 | ROC AUC | ROC1 | "
        "sens@1FP/q |\n|---|---|---|---|---|---|---|---|---|"
    )
    calibration_report("fit, previous null, shift only", old, fit, emb, self_scores, raw)
    calibration_report("fit, tail null, shift and spread", head, fit, emb, self_scores, raw)
    c_emb, c_self, c_raw = corrected_decoy_scores(head, check, model)
    calibration_report("check, previous null, shift only", old, check, c_emb, c_self, c_raw)
    calibration_report("check, tail null, shift and spread", head, check, c_emb, c_self, c_raw)
    return head


def embed_quietly(names, seqs, model):
    with warnings.catch_warnings():  # IUPAC codes become MASK, as everywhere
        warnings.simplefilter("ignore", AmbiguousBaseWarning)
        return rnabert.embed(list(zip(names, seqs)), model=model, device="cpu")


def choose_scoring(args, fams, model):
    """The grid point with the best ROC1 + pooled sensitivity on the development families, with
    its whole-distribution null (the composition location) and composition reference."""
    dev_idx = set(development_families(len(fams)).tolist())
    dev = build_benchmark(
        [fams[i].alignment for i in sorted(dev_idx)], max_members=8, seed=args.seed
    )
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
    sha = hashlib.sha256(open(args.weights, "rb").read()).hexdigest()
    # composition correction: the median excess of the null queries over their own shuffles,
    # located by the whole-distribution null (which the tail fit then replaces as the E-value null)
    reference = reference_shift(null_emb.subset(q_null), head, model=model)
    return dataclasses.replace(
        head, encoder_sha256=sha, composition_reference=reference, composition_location=head.null
    )


if __name__ == "__main__":
    main()
