"""`rnabert plot-metrics`: a run's training curves as a picture."""

from __future__ import annotations

import argparse
from typing import Callable

from .common import CliError

NAME = "plot-metrics"
HELP = (
    "Draw a run's training curves (MLM loss and accuracy, SAL loss, validation F, learning rate) "
    "from its metrics.jsonl (needs matplotlib: pip install rnabert[plot])."
)


def add_arguments(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    p.add_argument("metrics", help="the run's metrics.jsonl")
    p.add_argument(
        "png",
        nargs="?",
        default=None,
        help="output picture: .png, .svg, .pdf or .html (default: curves.png beside it)",
    )

    def run(args: argparse.Namespace) -> int:
        import os

        from ..plot import check_picture
        from ..plot.training import training_curves

        if not os.path.exists(args.metrics):
            raise CliError(f"metrics file not found: {args.metrics}")
        try:
            if args.png is not None:
                check_picture(args.png, [args.metrics])
            out = training_curves(args.metrics, args.png)
        except (ValueError, ImportError) as e:
            raise CliError(str(e)) from None
        print(out)
        return 0

    return run
