"""Side-by-side alignment accuracy on the held-out validation families: RNABERT, the untrained
encoder, a sequence-only baseline (match/mismatch scores, gaps tuned on TRAINING families) and mafft
G-INS-i.

    python benchmarks/eval_alignment.py --weights RUN_DIR/best/model.safetensors [--tune] [--mafft
    200]

Prints one table: F (sensitivity/PPV) micro-averaged over pairs, overall and by reference identity.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from rnabert.evaluate import evaluate, format_table, sample_pairs, tune_baseline
from rnabert.evaluate.aligners import BASELINE, BASELINE_GRID, mafft_available
from rnabert.train import data as data_mod

DATA = "/work/shared/data/rfam14.2-seed/Rfam14.2.seed.train.gz"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", default=DATA, help="Rfam seed Stockholm (training part)")
    p.add_argument("--weights", default=None, help="trained model (omit: baselines only)")
    p.add_argument(
        "--validation-file", default=None, help="held-out accessions (default: bundled list)"
    )
    p.add_argument("--max-pairs", type=int, default=1000)
    p.add_argument("--pairs-per-family", type=int, default=10)
    p.add_argument(
        "--per-bin",
        type=int,
        default=None,
        metavar="N",
        help="identity-stratified sample: up to N pairs per validation family in each identity bin",
    )
    p.add_argument("--mafft", type=int, default=200, help="pairs for mafft G-INS-i (0: skip)")
    p.add_argument(
        "--tune",
        action="store_true",
        help="grid-search the baseline on training-family pairs first and use the best setting",
    )
    p.add_argument("--tune-pairs", type=int, default=600)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", default=None, help="write all results here")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    families = data_mod.read_families(args.data)
    train_fams, val_fams = data_mod.partition(
        families, data_mod.read_validation_file(args.validation_file)
    )
    print(
        f"{len(train_fams)} training / {len(val_fams)} validation families "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    out = {}
    baseline = dict(BASELINE)
    if args.tune:
        tune_pairs = sample_pairs(
            [f.alignment for f in train_fams],
            pairs_per_family=1,
            max_pairs=args.tune_pairs,
            seed=args.seed + 1,
        )
        t1 = time.perf_counter()
        grid = tune_baseline(tune_pairs, BASELINE_GRID)
        print(
            f"baseline grid on {len(tune_pairs)} TRAINING pairs ({time.perf_counter() - t1:.1f} "
            "s); best 8:"
        )
        for params, f in grid[:8]:
            print(
                f"  F {f:.4f}  mismatch {params['mismatch']:+.2f}  gap_open "
                f"{params['gap_open']:.2f}  "
                f"gap_extend {params['gap_extend']:.2f}"
            )
        baseline = grid[0][0]
        out["baseline_grid"] = [{"params": prm, "f": f} for prm, f in grid]
    pairs = sample_pairs(
        [f.alignment for f in val_fams],
        pairs_per_family=args.pairs_per_family,
        max_pairs=args.max_pairs,
        seed=args.seed,
        per_bin=args.per_bin,
    )
    print(
        f"validation: {len(pairs)} pairs from {len(set(pairs.family))} families; baseline "
        f"{baseline}"
    )
    model = None
    if args.weights:
        from rnabert.model import load_model

        model = load_model(args.weights, device=args.device)
    if args.mafft and not mafft_available():
        print("mafft is not installed (apt-get install -y mafft): mafft column skipped")
    results = evaluate(
        pairs,
        model=model,
        baseline=True,
        random_init=True,
        mafft=args.mafft if mafft_available() else 0,
        seed=args.seed,
        device=args.device,
        baseline_params=baseline,
        log=lambda m: print(m, file=sys.stderr),
    )
    print(format_table(results))
    out["results"] = results
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
