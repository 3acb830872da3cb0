"""`rnabert db build|add|info`: the on-disk database that `rnabert search` searches."""

from __future__ import annotations

import argparse
import json
from typing import Callable

from .common import CliError, add_model_options

NAME = "db"
HELP = "Build, extend or describe a homolog-search database (per-base scoring vectors on disk)."


def add_arguments(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    b = sub.add_parser(
        "build",
        help="embed a FASTA file of targets into a new database (an interrupted build resumes)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    b.add_argument("targets", help="FASTA file of targets (gzip allowed)")
    b.add_argument("-o", "--output", required=True, help="database directory to create")
    b.add_argument(
        "--head",
        default="auto",
        help="scoring: auto (the shipped homology head for the shipped model, else cosine), "
        "cosine, or the path of a homology head",
    )
    b.add_argument("--dtype", choices=["float16", "float32"], default="float16")
    b.add_argument(
        "--segment",
        type=int,
        default=2000,
        help="targets longer than this are stored as overlapping segments of this many bases",
    )
    b.add_argument("--overlap", type=int, default=400, help="bases shared by adjacent segments")
    b.add_argument("--no-progress", action="store_true")
    add_model_options(b)
    a = sub.add_parser("add", help="append the targets of a FASTA file to a database")
    a.add_argument("database")
    a.add_argument("targets")
    a.add_argument("--no-progress", action="store_true")
    add_model_options(a)
    i = sub.add_parser("info", help="describe a database")
    i.add_argument("database")
    i.add_argument("--verify", action="store_true", help="check every chunk's sha256")
    i.add_argument("--json", action="store_true", help="print the description as JSON")

    def run(args: argparse.Namespace) -> int:
        import os

        from ..search import Database

        progress = None if not getattr(args, "no_progress", False) else False
        if args.action == "info":
            db = Database.open(args.database, verify=args.verify)
            info = db.info()
            if args.json:
                print(json.dumps(info, indent=1))
            else:
                for k, v in info.items():
                    print(f"{k}\t{v}")
                if args.verify:
                    print("checksums\tok")
            return 0
        if not os.path.exists(args.targets):
            raise CliError(f"targets file not found: {args.targets}")
        model = _model(args)
        if args.action == "build":
            db = Database.build(
                args.output,
                args.targets,
                model=model,
                head=args.head,
                dtype=args.dtype,
                segment=args.segment,
                overlap=args.overlap,
                device=args.device,
                progress=progress,
            )
        else:
            db = Database.open(args.database).add(
                args.targets, model=model, device=args.device, progress=progress
            )
        info = db.info()
        print(
            f"{db.path}: {info['targets']} targets, {info['target_residues']} bases, "
            f"{info['units']} units, scoring {info['scoring']}"
        )
        return 0

    return run


def _model(args):
    from ..backends import resolve_device
    from ..model import load_model

    return load_model(args.weights, device=resolve_device(args.device))
