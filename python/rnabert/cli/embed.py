"""`rnabert embed`: per-base embeddings of a sequence file."""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Optional

from .common import CliError, add_model_options

NAME = "embed"
HELP = "Per-base RNABERT embeddings of the sequences in a FASTA or Stockholm file."


def count_fasta_records(path: str) -> Optional[int]:
    """Records in a FASTA file (one fast pass over '>' lines), for the progress bar's ETA; None if
    unknown."""
    from ..seqs import open_text

    try:
        with open_text(path) as fh:
            first = fh.read(1)
            if first != ">":
                return None
            return 1 + sum(1 for line in fh if line.startswith(">"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def add_arguments(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    p.add_argument(
        "input",
        help="FASTA or Stockholm file (gzip allowed; '-' reads standard input); alignment gaps are "
        "removed",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file: safetensors (values [total_len, 120], offsets [n+1], names) or npz; "
        "written complete or not at all ('-': standard output)",
    )
    p.add_argument(
        "--format",
        choices=["safetensors", "npz"],
        default=None,
        help="output format (default: from the output suffix, safetensors unless .npz)",
    )
    p.add_argument(
        "--pooled",
        action="store_true",
        help="write one mean vector per sequence ([n, 120] 'pooled' plus names) instead of "
        "per-base vectors",
    )
    p.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    p.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or summary on standard error"
    )
    add_model_options(p)

    def run(args: argparse.Namespace) -> int:
        import os

        from ..backends import resolve_device
        from ..model import embed, load_model
        from ..outputs import check_output

        stdin = args.input == "-"
        if not stdin and not os.path.exists(args.input):
            raise CliError(f"input file not found: {args.input}")
        to_stdout = args.output == "-"
        if to_stdout and sys.stdout.isatty():
            raise CliError("embeddings are binary: redirect standard output or give -o FILE")
        check_output(None if to_stdout else args.output, [args.input, args.weights])
        quiet = args.quiet or args.no_progress
        device = resolve_device(args.device)
        model = load_model(args.weights, device=device)
        if stdin:
            source, total = sys.stdin, None
        else:
            source = args.input
            total = None if quiet else count_fasta_records(args.input)
        progress = False if quiet else (total is None or total > 200)
        emb = embed(
            source,
            model=model,
            device=device,
            strict=args.strict,
            batch_tokens=args.batch_tokens,
            progress=progress,
        )
        if to_stdout:
            _to_stdout(emb, args)
        elif args.pooled:
            emb.save_pooled(args.output, format=args.format)
        else:
            emb.save(args.output, format=args.format)
        if not args.quiet:
            print(
                f"embedded {len(emb)} sequences ({emb.total_len} bases) -> {args.output}",
                file=sys.stderr,
            )
        return 0

    def _to_stdout(emb, args) -> None:
        """Binary output on standard output: written to a temporary file, then copied."""
        import os
        import shutil
        import tempfile

        fmt = args.format or "safetensors"
        with tempfile.TemporaryDirectory() as d:
            tmp = os.path.join(d, "out." + ("npz" if fmt == "npz" else "safetensors"))
            (emb.save_pooled if args.pooled else emb.save)(tmp, format=fmt)
            sys.stdout.flush()
            with open(tmp, "rb") as fh:
                shutil.copyfileobj(fh, sys.stdout.buffer)
            sys.stdout.buffer.flush()

    return run
