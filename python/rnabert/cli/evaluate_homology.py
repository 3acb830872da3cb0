"""`rnabert evaluate-homology`: do scores tell homologs from unrelated RNAs? Search ranking,
calibration and clustering on held-out Rfam families, beside blastn, nhmmer and Smith-Waterman."""

from __future__ import annotations

import argparse
import json
import pathlib
import time
from typing import Callable

from .common import CliError

NAME = "evaluate-homology"
HELP = (
    "Homology detection on the validation families of a Rfam seed file: per-query ROC AUC and "
    "ROC1, sensitivity at one false positive per query, E-value calibration, clustering ARI; the "
    "homology head beside the plain cosine, Smith-Waterman, blastn and nhmmer."
)


def add_arguments(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    p.add_argument(
        "--data",
        default="../shared/data/rfam14.2-seed/Rfam14.2.seed.train.gz",
        metavar="STOCKHOLM",
        help="Rfam seed alignments holding the validation families (and training families for the "
        "nulls and thresholds of the comparison methods)",
    )
    p.add_argument("--weights", metavar="PATH", default=None, help="encoder (default: shipped)")
    p.add_argument("--head", metavar="PATH", default=None, help="homology head (default: shipped)")
    p.add_argument("--max-members", type=int, default=40, help="members per family at most")
    p.add_argument("--no-peers", action="store_true", help="skip blastn and nhmmer")
    p.add_argument(
        "--no-comparisons",
        action="store_true",
        help="skip the plain-cosine and Smith-Waterman heads (with --no-peers: the homology head "
        "alone, plain and composition-corrected)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON")

    def run(args: argparse.Namespace) -> int:
        from ..alignment.heads import load_homology_head
        from ..evaluate.homology import evaluate_homology_on_rfam, format_results
        from ..model.checkpoint import load_model

        if not pathlib.Path(args.data).exists():
            raise CliError(f"{args.data}: no such file")
        if args.json and not pathlib.Path(args.json).resolve().parent.is_dir():
            raise CliError(f"{args.json}: its folder does not exist")
        t0 = time.time()
        try:
            model = load_model(args.weights)
            head = load_homology_head(args.head)
            results, thresholds = evaluate_homology_on_rfam(
                args.data,
                model=model,
                head=head,
                max_members=args.max_members,
                peers=not args.no_peers,
                comparisons=not args.no_comparisons,
                seed=args.seed,
            )
        except (ValueError, FileNotFoundError) as exc:
            raise CliError(str(exc)) from None
        print(format_results(results))
        print(f"clustering thresholds (bits, chosen on training families): {thresholds}")
        print(f"total {time.time() - t0:.0f} s")
        if args.json:
            with open(args.json, "w") as fh:
                json.dump({"results": results, "thresholds": thresholds}, fh, indent=1)
        return 0

    return run
