"""`rnabert search`: find the homologs of query RNAs in a database built by `rnabert db build`."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from .common import CliError, add_model_options

NAME = "search"
HELP = (
    "Search query RNAs against a database: prefilter, local alignment under the homology head, "
    "hits with bits, E-values and coordinates."
)


def add_arguments(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    p.add_argument("queries", help="FASTA file of queries (gzip allowed)")
    p.add_argument("database", help="database directory (rnabert db build)")
    p.add_argument("-o", "--output", required=True, help="hits file")
    p.add_argument(
        "--format",
        choices=["tsv", "json", "parquet"],
        default=None,
        help="hits format (default: from the suffix, tsv unless .json/.jsonl/.parquet)",
    )
    p.add_argument("--max-evalue", type=float, default=10.0, help="report hits with E <= this")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--exhaustive",
        dest="exhaustive",
        action="store_true",
        default=None,
        help="rescore every target (default: only for databases of at most 20 × --candidates)",
    )
    mode.add_argument(
        "--prefilter",
        dest="exhaustive",
        action="store_false",
        help="always prefilter, whatever the database's size",
    )
    p.add_argument(
        "--no-composition",
        dest="composition",
        action="store_false",
        help="one null for every query (default: each query's own, from 8 shuffles of itself)",
    )
    p.add_argument("--strand", choices=["plus", "minus", "both"], default="plus")
    p.add_argument(
        "--candidates", type=int, default=200, help="targets per query kept by the prefilter"
    )
    p.add_argument("--max-hits", type=int, default=500, help="most hits reported per query")
    p.add_argument(
        "--min-score",
        type=float,
        default=None,
        help="cosine databases only (no E-values): the least raw local score reported",
    )
    p.add_argument("--threads", type=int, default=None, help="engine threads (default: all)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted search")
    p.add_argument(
        "--alignments",
        metavar="OUT.sto",
        default=None,
        help="also write each query's hits as a query-anchored Stockholm alignment",
    )
    p.add_argument("--no-progress", action="store_true")
    add_model_options(p)

    def run(args: argparse.Namespace) -> int:
        import os

        from ..backends import resolve_device
        from ..model import load_model
        from ..search import search

        if not os.path.exists(args.queries):
            raise CliError(f"queries file not found: {args.queries}")
        from ..search import Database

        db = Database.open(args.database)
        if db.scoring.null is None:
            print(
                f"rnabert search: note: {args.database} scores with the plain cosine of a model "
                "without a homology head: the bits column holds raw local scores and there are no "
                "E-values (--max-evalue is ignored; use --min-score)",
                file=sys.stderr,
            )
        model = load_model(args.weights, device=resolve_device(args.device))
        hits = search(
            args.queries,
            db,
            model=model,
            max_evalue=args.max_evalue,
            exhaustive=args.exhaustive,
            strand=args.strand,
            candidates=args.candidates,
            max_hits=args.max_hits,
            min_score=args.min_score,
            output=args.output,
            format=args.format,
            resume=args.resume,
            alignments=args.alignments,
            composition=args.composition,
            threads=args.threads,
            device=args.device,
            progress=False if args.no_progress else None,
        )
        queries = len({h.query for h in hits})
        print(f"{len(hits)} hits for {queries} queries -> {args.output}", file=sys.stderr)
        return 0

    return run
