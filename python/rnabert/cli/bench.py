"""`rnabert bench`: encoder and engine throughput on this machine, beside reference paths."""

from __future__ import annotations

import argparse
from typing import Callable

from .common import CliError

NAME = "bench"
HELP = (
    "Measure encoder sequences/s and engine pairs/s and GCUPS (score-only, traceback, soft, bits) "
    "on synthetic data, each beside a reference path timed in the same run, after checking that "
    "they agree."
)


def add_arguments(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    p.add_argument(
        "--lengths",
        default="100,200,440",
        metavar="L,L,...",
        help="sequence lengths to measure (comma-separated)",
    )
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to run")
    p.add_argument(
        "--threads", type=int, default=None, metavar="N", help="CPU threads (default: all cores)"
    )
    p.add_argument(
        "--seconds",
        type=float,
        default=1.0,
        help="size of each all-vs-all: about this long at 1 GCUPS",
    )
    p.add_argument(
        "--n",
        type=int,
        default=None,
        metavar="N",
        help="sequences in each engine all-vs-all (default: sized by --seconds)",
    )
    p.add_argument(
        "--encoder-n", type=int, default=64, metavar="N", help="sequences embedded per length"
    )
    p.add_argument(
        "--only", choices=("encoder", "engine"), default=None, help="measure only this part"
    )
    p.add_argument(
        "--repeats", type=int, default=2, help="time each path this often, keep the best"
    )
    p.add_argument("--json", metavar="PATH", default=None, help="also write the report as JSON")

    def run(args: argparse.Namespace) -> int:
        import json

        from ..backends import resolve_device
        from ..evaluate.throughput import run_bench

        try:
            lengths = [int(x) for x in args.lengths.split(",") if x.strip()]
        except ValueError:
            raise CliError(f"--lengths must be integers separated by commas, got {args.lengths!r}")
        if not lengths or min(lengths) < 2 or max(lengths) > 10_000:
            raise CliError(f"--lengths must be between 2 and 10000, got {args.lengths!r}")
        if args.seconds <= 0 or args.repeats < 1:
            raise CliError("--seconds must be > 0 and --repeats >= 1")
        if (args.n is not None and args.n < 2) or args.encoder_n < 1:
            raise CliError("--n must be >= 2 and --encoder-n >= 1")
        try:
            resolve_device(args.device, engine=True)
        except RuntimeError as exc:
            raise CliError(str(exc)) from None
        report = run_bench(
            lengths,
            device=args.device,
            threads=args.threads,
            seconds=args.seconds,
            n=args.n,
            encoder_n=args.encoder_n,
            repeats=args.repeats,
            parts=(args.only,) if args.only else ("encoder", "engine"),
        )
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(report, fh, indent=1)
        return 0

    return run
