"""`rnabert plot-metrics`: a run's training curves as a PNG."""

from __future__ import annotations

import argparse
from typing import Callable

NAME = "plot-metrics"
HELP = (
    "Draw a run's training curves (MLM loss and accuracy, SAL loss, validation F, learning rate) "
    "from "
    "its metrics.jsonl (needs matplotlib)."
)


def add_arguments(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    p.add_argument("metrics", help="the run's metrics.jsonl")
    p.add_argument(
        "png", nargs="?", default=None, help="output image (default: curves.png beside it)"
    )

    def run(args: argparse.Namespace) -> int:
        from ..train.plot import plot_metrics

        out = plot_metrics(args.metrics, args.png)
        print(out if out else "matplotlib is not installed: no plot (pip install matplotlib)")
        return 0

    return run
