"""`rnabert search`: find the homologs of query RNAs in a database built by `rnabert db build`."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from .common import CliError, add_model_options, add_plot_option, check_plot

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
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted search after its last complete batch of queries (kept in "
        "OUT.partial, and OUT.sto.partial with --alignments); every file ends byte-identical to an "
        "uninterrupted run's",
    )
    p.add_argument(
        "--batch-queries",
        type=int,
        default=16,
        metavar="N",
        help="queries searched and written per batch: the resume step",
    )
    p.add_argument(
        "--alignments",
        metavar="OUT.sto",
        default=None,
        help="also write each query's hits as a query-anchored Stockholm alignment",
    )
    p.add_argument("--no-progress", action="store_true")
    add_plot_option(p, "the best hits as query-anchored alignments")
    p.add_argument(
        "--plot-hits",
        type=int,
        default=1,
        metavar="N",
        help="with --plot: the N best hits of each query (default 1), at most 12 in all",
    )
    p.add_argument(
        "--fold",
        action="store_true",
        help="with --plot: mark each query's secondary structure predicted by ViennaRNA (else "
        "the structure of a Stockholm query file's SS_cons, when it has one)",
    )
    add_model_options(p)

    def run(args: argparse.Namespace) -> int:
        import os

        from ..backends import resolve_device
        from ..model import load_model
        from ..search import search

        if not os.path.exists(args.queries):
            raise CliError(f"queries file not found: {args.queries}")
        if args.output == "-":
            raise CliError("search writes a hits file: give -o PATH (standard output is not one)")
        if args.batch_queries < 1:
            raise CliError(f"--batch-queries must be >= 1, got {args.batch_queries}")
        check_plot(args.plot, [args.queries, args.output])
        if args.plot is not None and args.plot_hits < 1:
            raise CliError(f"--plot-hits must be at least 1, got {args.plot_hits}")
        if args.fold and args.plot is None:
            raise CliError("--fold marks structures in the --plot picture: give --plot too")
        if args.fold:
            try:
                import RNA  # noqa: F401
            except ImportError:
                raise CliError("--fold needs ViennaRNA's Python module: pip install ViennaRNA")
        from ..search import Database
        from ..search.searching import check_outputs, input_files

        db = Database.open(args.database)
        check_outputs(args.output, args.alignments, input_files(args.queries, db))  # before work
        if args.resume and args.plot is not None and os.path.exists(args.output + ".partial.json"):
            # the hits of the batches searched before the interruption are in the file only
            raise CliError(
                "--plot draws the hits this run finds, and a resumed run skips the queries "
                "searched before: resume without --plot"
            )
        if db.scoring.null is None:
            print(
                f"rnabert search: note: {args.database} scores with the plain cosine of a model "
                "without a homology head: the bits column holds raw local scores and there are no "
                "E-values (--max-evalue is ignored; use --min-score)",
                file=sys.stderr,
            )
        done = _batches_done(args.output) if args.resume else None
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
            batch_queries=args.batch_queries,
            composition=args.composition,
            threads=args.threads,
            device=args.device,
            progress=False if args.no_progress else None,
        )
        if args.resume:
            _say_resume(args.output, done)
        queries = len({h.query for h in hits})
        print(f"{len(hits)} hits for {queries} queries -> {args.output}", file=sys.stderr)
        if args.plot is not None:
            _plot(args, db, model, hits)
        return 0

    def _batches_done(output):
        """The complete batches an interrupted search recorded for ``output`` (None: none)."""
        import json

        try:
            with open(output + ".partial.json") as fh:
                return int(json.load(fh)["chunks"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _say_resume(output, done) -> None:
        if done is None:
            print(f"rnabert search: there was no interrupted search to resume for {output}",
                  file=sys.stderr)  # fmt: skip
        else:
            print(f"rnabert search: resumed {output} after {done} complete batch(es) of queries",
                  file=sys.stderr)  # fmt: skip

    def _plot(args, db, model, hits) -> None:
        from ..plot import search_hit_figure
        from ..plot.search import MAX_PANELS
        from ..search.hits import hit_alignment
        from ..seqs import records_from

        chosen, per_query = [], {}
        for h in hits:  # each query's hits come best first
            if per_query.get(h.query, 0) < args.plot_hits and len(chosen) < MAX_PANELS:
                per_query[h.query] = per_query.get(h.query, 0) + 1
                chosen.append(h)
        if not chosen:
            print("rnabert search: no hits, so no picture", file=sys.stderr)
            return
        seqs = {r.name: r.seq for r in records_from(args.queries)}
        kw = {"model": model, "device": args.device, "threads": args.threads}
        drawn = [hit_alignment(db, h, seqs[h.query], **kw) for h in chosen]
        structure = "fold" if args.fold else _stockholm_structures(args.queries)
        out = search_hit_figure(drawn, args.plot, structure=structure)
        print(f"{len(drawn)} hits drawn -> {out}", file=sys.stderr)

    def _stockholm_structures(path):
        """Each member's structure from a Stockholm query file's SS_cons; None for FASTA."""
        from ..plot.structure import member_structure
        from ..seqs import read_stockholm

        out = {}
        try:
            for aln in read_stockholm(path):
                if aln.ss_cons:
                    for r in aln.records():
                        out[r.name] = member_structure(aln.aligned[r.name], aln.ss_cons)
        except ValueError:  # not Stockholm: a FASTA file gives no structures
            return None
        return out or None

    return run
