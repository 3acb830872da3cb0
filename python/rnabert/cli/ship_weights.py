"""`rnabert ship-weights`: copy trained weights into the package with their hash and probe
embeddings."""

from __future__ import annotations

import argparse
from typing import Callable

NAME = "ship-weights"
HELP = (
    "Ship a trained checkpoint inside the package (python/rnabert/weights/), with its sha256 and "
    "the embeddings of fixed probe sequences that the tests check."
)


def add_arguments(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    p.add_argument("weights", help="trained checkpoint (safetensors) to ship")
    p.add_argument(
        "--note", default=None, help="a line stored in the safetensors metadata (e.g. the run)"
    )

    def run(args: argparse.Namespace) -> int:
        from ..model.checkpoint import DEFAULT_WEIGHTS
        from ..train.ship import ship

        rec = ship(args.weights, {"note": args.note} if args.note else None)
        print(f"shipped {args.weights} -> {DEFAULT_WEIGHTS} (sha256 {rec['sha256']})")
        return 0

    return run
