"""`rnabert evaluate-alignment`: alignment accuracy against reference alignments, RNABERT beside
baselines."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from .common import CliError

NAME = "evaluate-alignment"
HELP = (
    "Pairwise alignment accuracy (F, sensitivity, PPV over aligned bases) against "
    "reference alignments: RNABERT side by side with baselines."
)


def add_arguments(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    p.add_argument(
        "--data",
        required=True,
        nargs="+",
        metavar="ALIGNMENTS",
        help="Stockholm files (families) or aligned FASTA files (one family each)",
    )
    p.add_argument(
        "--weights",
        metavar="PATH",
        default=None,
        help="model checkpoint (default: the weights shipped with rnabert, if any)",
    )
    p.add_argument(
        "--families",
        default=None,
        help="comma-separated accessions, or a file of them (one a line, # comments)",
    )
    p.add_argument("--max-pairs", type=int, default=1000, help="at most this many pairs in all")
    p.add_argument("--pairs-per-family", type=int, default=10, help="random pairs drawn per family")
    p.add_argument(
        "--per-bin",
        type=int,
        default=None,
        metavar="N",
        help="sample by identity instead: up to N pairs per family in each identity bin",
    )
    p.add_argument(
        "--baseline", action="store_true", help="also the nucleotide match/mismatch baseline"
    )
    p.add_argument(
        "--random-init", action="store_true", help="also the untrained (random-init) encoder"
    )
    p.add_argument(
        "--mafft", type=int, default=0, metavar="N", help="also mafft G-INS-i on N of the pairs"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="where the encoder runs")
    p.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON")

    def run(args: argparse.Namespace) -> int:
        import json
        import os

        from ..evaluate import evaluate_alignment, format_table

        for path in args.data:
            if not os.path.exists(path):
                raise CliError(f"alignment file not found: {path}")
        families = None
        if args.families:
            if os.path.exists(args.families):
                with open(args.families) as fh:
                    families = [x.strip() for x in fh if x.strip() and not x.startswith("#")]
            else:
                families = [x.strip() for x in args.families.split(",") if x.strip()]
        pairs, results = evaluate_alignment(
            args.data,
            args.weights,
            families=families,
            max_pairs=args.max_pairs,
            pairs_per_family=args.pairs_per_family,
            baseline=args.baseline,
            random_init=args.random_init,
            mafft=args.mafft,
            seed=args.seed,
            device=args.device,
            per_bin=args.per_bin,
            log=lambda msg: print(msg, file=sys.stderr),
        )
        if not results:
            raise CliError("nothing to evaluate: give --weights, --baseline or --random-init")
        print(f"{len(pairs)} pairs from {len(set(pairs.family))} families")
        print(format_table(results))
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=1)
        return 0

    return run
