"""`rnabert average-checkpoints`: the mean of several checkpoints' weights, as one model."""

from __future__ import annotations

import argparse
from typing import Callable

NAME = "average-checkpoints"
HELP = "Average several checkpoints of one run into one model (after-the-fact weight averaging)."


def add_arguments(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    p.add_argument(
        "checkpoints", nargs="+", help="safetensors checkpoints (or original .pt files) to average"
    )
    p.add_argument(
        "-o", "--out", required=True, help="where to write the averaged model (safetensors)"
    )

    def run(args: argparse.Namespace) -> int:
        from ..train.average import write_average

        write_average(args.checkpoints, args.out)
        print(f"averaged {len(args.checkpoints)} checkpoints -> {args.out}")
        return 0

    return run
