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
    p.add_argument(
        "--resume",
        action="store_true",
        help="with -o FILE: continue an interrupted run after its last complete chunk (kept in "
        "OUT.partial); the output is byte-identical to an uninterrupted run",
    )
    p.add_argument(
        "--chunk-bases",
        type=int,
        default=None,
        metavar="N",
        help="bases embedded and written per chunk: the memory bound and the resume step "
        "(default 65536)",
    )
    p.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    p.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or summary on standard error"
    )
    add_model_options(p)

    def run(args: argparse.Namespace) -> int:
        import os

        from ..backends import resolve_device
        from ..model import load_model
        from ..model.inference import embed_to_file
        from ..outputs import check_output, run_key

        stdin = args.input == "-"
        if not stdin and not os.path.exists(args.input):
            raise CliError(f"input file not found: {args.input}")
        to_stdout = args.output == "-"
        if to_stdout and sys.stdout.isatty():
            raise CliError("embeddings are binary: redirect standard output or give -o FILE")
        if args.resume and to_stdout:
            raise CliError("--resume continues an output file: give -o FILE")
        if args.resume and stdin:
            raise CliError("--resume needs an input file, not standard input")
        if args.chunk_bases is not None and args.chunk_bases < 1:
            raise CliError(f"--chunk-bases must be >= 1, got {args.chunk_bases}")
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
        options = {
            k: v
            for k, v in vars(args).items()
            if k not in ("quiet", "no_progress", "resume", "output") and not k.startswith("_")
        }
        options["device"] = str(device)  # another device computes other last bits
        kw = dict(
            model=model,
            device=device,
            format=args.format,
            pooled=args.pooled,
            strict=args.strict,
            batch_tokens=args.batch_tokens,
            progress=progress,
            key=run_key(options, [args.input, args.weights]),
            resume=args.resume,
        )
        if args.chunk_bases is not None:
            kw["chunk_bases"] = args.chunk_bases
        if to_stdout:
            n, bases, resumed = _to_stdout(source, args, kw)
        else:
            n, bases, resumed = embed_to_file(source, args.output, **kw)
        if not args.quiet:
            note = ""
            if args.resume:
                note = (
                    f" (resumed after {resumed} complete chunk(s))"
                    if resumed
                    else " (no interrupted run to resume: started from the beginning)"
                )
            print(f"embedded {n} sequences ({bases} bases) -> {args.output}{note}", file=sys.stderr)
        return 0

    def _to_stdout(source, args, kw):
        """Binary output on standard output: written to a temporary file, then copied."""
        import os
        import shutil
        import tempfile

        from ..model.inference import embed_to_file

        fmt = args.format or "safetensors"
        with tempfile.TemporaryDirectory() as d:
            tmp = os.path.join(d, "out." + ("npz" if fmt == "npz" else "safetensors"))
            done = embed_to_file(source, tmp, **{**kw, "format": fmt})
            sys.stdout.flush()
            with open(tmp, "rb") as fh:
                shutil.copyfileobj(fh, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        return done

    return run
