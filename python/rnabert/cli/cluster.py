"""`rnabert cluster`: cluster RNAs into families by homology bits."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from .common import CliError, add_plot_option, add_run_options, check_plot

NAME = "cluster"
HELP = (
    "Cluster RNAs into families by homology (bits of the shipped homology head), without being "
    "told how many families there are; one row per sequence: cluster, representative, bits."
)


def add_arguments(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    from ..clustering import DEFAULT_THRESHOLD, DENSE_MAX

    none = argparse.SUPPRESS
    p.add_argument(
        "input",
        metavar="FASTA|DB",
        help="sequences (FASTA or Stockholm, gzip allowed), or a search database (`rnabert db "
        "build`), whose stored vectors are clustered without embedding again",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        default=none,
        help="clusters: TSV with a header (sequence, cluster, representative, bits, evalue), or "
        "Parquet for a .parquet name or --format parquet (default: TSV on standard output)",
    )
    p.add_argument("--format", choices=("tsv", "parquet"), default=none, help="output format")
    p.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        metavar="BITS",
        help="pair significance (-log2 of the pair's E-value) at which average linkage stops "
        "merging; the edge threshold of the graph methods",
    )
    p.add_argument(
        "--method",
        choices=("auto", "average", "leiden", "components"),
        default="auto",
        help="auto/average: average linkage (exact; by graph components on large inputs); "
        "leiden: Leiden communities of the graph of pairs above the threshold; components: its "
        "connected components",
    )
    p.add_argument(
        "--n-clusters",
        type=int,
        default=none,
        metavar="K",
        help="spectral clustering into exactly K clusters (the original RNABERT protocol, for "
        "comparison)",
    )
    p.add_argument(
        "--top-k",
        type=int,
        default=0,
        metavar="K",
        help="graph methods: also link each sequence to its K most significant partners",
    )
    p.add_argument(
        "--work-dir",
        metavar="DIR",
        default=none,
        help="run directory (embeddings, edge shards per tile, edges.parquet): an interrupted run "
        "given the same directory resumes from its last complete tile, with identical output",
    )
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="where the tiles of a large all-vs-all run: this machine, or Ray tasks (pip install "
        "rnabert[distributed])",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        default=none,
        help="an existing Ray cluster (default: the one in RAY_ADDRESS, or a local one)",
    )
    p.add_argument(
        "--dense-max",
        type=int,
        default=DENSE_MAX,
        metavar="N",
        help="inputs up to N sequences are clustered from a dense matrix; larger ones stream the "
        "all-vs-all in tiles and keep only the edges",
    )
    p.add_argument(
        "--prefilter",
        type=int,
        default=none,
        metavar="K",
        help="align only each sequence's K nearest neighbours by pooled homology vector (cost near "
        "N*K; default: exhaustive up to 20,000 sequences, 100 above; 0: always exhaustive)",
    )
    p.add_argument(
        "--block", type=int, default=none, metavar="N", help="sequences per tile side (256)"
    )
    add_run_options(p)
    p.add_argument(
        "--head",
        metavar="PATH",
        default=none,
        help="homology head for that checkpoint (default: the one shipped with the weights)",
    )
    p.add_argument("--seed", type=int, default=0, help="seeds Leiden and spectral clustering")
    p.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or summary on standard error"
    )
    add_plot_option(p, "the clusters (sizes, bits to the representative; a dendrogram when small)")

    def run(args: argparse.Namespace) -> int:
        import os
        import time

        import numpy as np

        for name in (
            "output",
            "format",
            "n_clusters",
            "work_dir",
            "ray_address",
            "block",
            "prefilter",
            "threads",
            "weights",
            "head",
        ):
            if not hasattr(args, name):
                setattr(args, name, None)
        from ..clustering import cluster

        for path in [args.input] + [x for x in (args.weights, args.head) if x]:
            if not os.path.exists(path):
                raise FileNotFoundError(f"{path}: no such file")
            if os.path.isdir(path) and path != args.input:  # the input may be a database
                raise IsADirectoryError(f"{path}: is a directory")
        fmt = args.format
        if fmt is None and args.output and args.output.lower().endswith((".parquet", ".pq")):
            fmt = "parquet"
        if fmt == "parquet" and not args.output:
            raise CliError("--format parquet writes a binary file: give -o PATH")
        if args.n_clusters is not None and args.method != "auto":
            raise CliError("--n-clusters selects spectral clustering: leave --method at auto")
        check_plot(args.plot, [args.input, args.output, args.weights, args.head])
        t0 = time.perf_counter()
        try:
            result = cluster(
                args.input,
                threshold=args.threshold,
                method=args.method,
                n_clusters=args.n_clusters,
                top_k=args.top_k,
                model=args.weights,
                head=args.head,
                device=args.device,
                threads=args.threads,
                out_dir=args.work_dir,
                executor=args.executor,
                ray_address=args.ray_address,
                block=args.block,
                dense_max=args.dense_max,
                prefilter=args.prefilter,
                seed=args.seed,
                progress=False if args.quiet else None,
            )
        except ImportError as exc:
            raise CliError(str(exc)) from None
        except KeyboardInterrupt:
            if args.work_dir:
                print(
                    f"rnabert cluster: stopped; the same command resumes from {args.work_dir}",
                    file=sys.stderr,
                )
            raise
        elapsed = time.perf_counter() - t0
        result.write(args.output or sys.stdout, fmt or "tsv")
        if args.plot:
            _plot(result, args)
        if not args.quiet:
            singletons = int((np.bincount(result.labels) == 1).sum()) if len(result) else 0
            print(
                f"rnabert cluster: {len(result)} sequences, {result.n_clusters} clusters "
                f"({singletons} singletons; {result.method}, {args.threshold:g} bits) in "
                f"{elapsed:.1f} s",
                file=sys.stderr,
            )
        return 0

    return run


def _plot(result, args) -> None:
    """The cluster picture; for a small FASTA input also the dendrogram, whose pair bits cost one
    more all-vs-all (a database's vectors are not re-aligned for a picture)."""
    import os

    from ..plot import cluster_figure
    from ..plot.clusters import DENDROGRAM_MAX, significance_matrix

    sim = None
    if len(result) <= DENDROGRAM_MAX and not os.path.isdir(args.input):
        from ..alignment import align_many

        bits = align_many(
            args.input,
            score="bits",
            model=args.weights,
            head=args.head,
            device=args.device,
            threads=args.threads,
            progress=False,
        )
        sim = significance_matrix(bits)
    cluster_figure(result, args.plot, similarity=sim)
