"""`rnabert align`: align RNAs all-vs-all, or queries against targets."""

from __future__ import annotations

import argparse
import io
import os
import sys
from typing import Callable

from .common import CliError, add_plot_option, add_run_options, check_plot

NAME = "align"
HELP = (
    "Align RNAs by their RNABERT embeddings: all-vs-all within one file, or every query "
    "of a first file against every target of a second."
)


def add_arguments(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    from ..alignment.params import AlignParams

    d = AlignParams()
    none = (
        argparse.SUPPRESS
    )  # options without a default: absent from args unless given (no "default: None")
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="FASTA",
        default=none,
        help="sequences (FASTA or Stockholm, gzip allowed): one file aligns all-vs-all within it; "
        "a "
        "second file gives targets, and every query is aligned with every target. Optional "
        "with --embeddings; given with it, a file only supplies names and letters for output. "
        "'-' reads standard input",
    )
    p.add_argument(
        "--embeddings",
        action="append",
        metavar="FILE",
        default=none,
        help="precomputed embeddings (.safetensors or .npz from `rnabert embed`) used instead of "
        "running the model; give it twice for queries then targets",
    )
    p.add_argument(
        "--mode",
        choices=("global", "local", "semiglobal"),
        default=d.mode,
        help="global: Needleman-Wunsch over both whole sequences; local: Smith-Waterman (needs a "
        "negative --bias); semiglobal: end gaps free (see --free-ends)",
    )
    p.add_argument(
        "--all-vs-all",
        action="store_true",
        help="score every pair i<j within one input (the default with one input; not allowed with "
        "two)",
    )
    p.add_argument(
        "--traceback",
        action="store_true",
        help="compute the alignments too: adds identity and CIGAR (A = query: I = query base vs "
        "gap, "
        "D = target base vs gap) to tsv/parquet; implied by --format fasta/stockholm",
    )
    p.add_argument(
        "--format",
        choices=("tsv", "fasta", "stockholm", "parquet"),
        default="tsv",
        help="tsv: name_a, name_b, score (+ identity, cigar); fasta: two aligned records per pair; "
        "stockholm: one record per pair; parquet: name_i, name_j, i, j, score (needs -o and "
        "pyarrow: pip install rnabert[tables])",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        default=none,
        help="output file, written complete or not at all (default, or '-': standard output)",
    )
    p.add_argument(
        "--score",
        choices=("dp", "soft"),
        default="dp",
        help="dp: affine-gap alignment score; soft: soft-alignment similarity used for clustering "
        "(no traceback)",
    )
    p.add_argument(
        "--top-k", type=int, default=none, metavar="K", help="keep the K best targets of each query"
    )
    p.add_argument(
        "--min-score", type=float, default=none, metavar="X", help="keep pairs scoring at least X"
    )
    p.add_argument(
        "--gap-open",
        type=float,
        default=d.gap_open,
        help="gap opening cost: a gap of length k costs gap_open + k * gap_extend",
    )
    p.add_argument(
        "--gap-extend", type=float, default=d.gap_extend, help="gap cost per gapped base"
    )
    p.add_argument(
        "--scale",
        type=float,
        default=d.scale,
        help="match score = scale * cosine similarity + bias",
    )
    p.add_argument(
        "--bias", type=float, default=d.bias, help="added to every match score (negative for local)"
    )
    p.add_argument(
        "--free-ends",
        choices=("both", "query"),
        default=d.free_ends,
        help="semiglobal only: 'both' = end gaps free in both sequences; 'query' = the query lies "
        "wholly inside the target (target end gaps free)",
    )
    p.add_argument(
        "--soft-scale",
        type=float,
        default=d.soft_scale,
        help="--score soft: similarity = soft_scale * cosine before the softmaxes",
    )
    add_run_options(p)
    p.add_argument(
        "--strict",
        action="store_true",
        help="make ambiguous IUPAC bases (N, R, Y, ...) an error instead of encoding them as MASK",
    )
    p.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or summary on standard error"
    )
    p.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    p.add_argument(
        "--chunk-pairs",
        type=int,
        default=None,
        metavar="N",
        help="pairs computed and written per chunk: the memory bound and the resume step "
        "(default 16384 with --traceback, 131072 without)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="with -o: continue an interrupted run after its last complete chunk (kept in "
        "OUT.partial); the output is byte-identical to an uninterrupted run",
    )
    add_plot_option(p, "the first pair's alignment (shaded by embedding similarity)")

    def run(args: argparse.Namespace) -> int:
        import os
        import time

        for name in ("inputs", "embeddings", "output", "top_k", "min_score", "threads", "weights"):
            if not hasattr(args, name):
                setattr(args, name, None)

        from ..alignment.api import align_many_chunks
        from ..backends import resolve_device
        from ..embeddings import Embeddings

        files, embs = list(args.inputs or []), list(args.embeddings or [])
        files_given = list(files)
        if len(files) > 2:
            raise CliError(f"at most two sequence files (queries, targets), got {len(files)}")
        if len(embs) > 2:
            raise CliError(f"--embeddings at most twice (queries, targets), got {len(embs)}")
        if not files and not embs:
            raise CliError("give a sequence file, or precomputed embeddings with --embeddings")
        if files and embs and len(files) != len(embs):
            raise CliError(
                f"{len(files)} sequence file(s) but {len(embs)} --embeddings file(s): give one "
                "sequence file per embeddings file, or none"
            )
        if args.all_vs_all and max(len(files), len(embs)) == 2:
            raise CliError(
                "--all-vs-all takes one input; with two, every query is aligned to every target"
            )
        traceback = args.traceback or args.format in ("fasta", "stockholm")
        if traceback and args.score == "soft":
            raise CliError(
                "--score soft has no alignments: drop --traceback, or use --format tsv/parquet"
            )
        if args.format == "parquet" and not args.output:
            raise CliError("--format parquet writes a binary file: give -o PATH")
        for path in files:
            if str(path).endswith((".safetensors", ".npz")):
                raise CliError(
                    f"{path} looks like an embeddings file: pass it with --embeddings {path}"
                )
        if files.count("-") > 1:
            raise CliError("standard input ('-') can be read once")
        if "-" in embs:
            raise CliError("--embeddings reads a file, not standard input")
        if args.output == "-":
            args.output = None
        if args.resume and not args.output:
            raise CliError("--resume continues an output file: give -o PATH")
        if args.resume and "-" in files_given:
            raise CliError("--resume needs input files, not standard input")
        if args.chunk_pairs is not None and args.chunk_pairs < 1:
            raise CliError(f"--chunk-pairs must be >= 1, got {args.chunk_pairs}")
        for path in files + embs + ([args.weights] if args.weights else []):
            if path == "-":
                continue
            if not os.path.exists(path):
                raise FileNotFoundError(f"{path}: no such file")
            if os.path.isdir(path):
                raise IsADirectoryError(f"{path}: is a directory")
        if args.format == "parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise CliError(
                    "--format parquet needs pyarrow: pip install rnabert[tables]"
                ) from None
        from ..outputs import check_output

        check_output(args.output, files + embs + [args.weights])  # before any work
        if args.plot and "-" in files_given:
            raise CliError("--plot reads the inputs again: give files, not standard input")
        check_plot(args.plot, files + embs + [args.weights, args.output])
        files = [sys.stdin if f == "-" else f for f in files]
        if args.strict:  # read once, strictly: ambiguous bases fail here, before any work
            files = _strict_records(files)
        try:
            resolve_device(args.device, engine=True)
        except RuntimeError as exc:
            raise CliError(str(exc)) from None
        sets = []
        for k in range(max(len(files), len(embs))):
            if not embs:
                sets.append(files[k])  # embedded by align_many
                continue
            try:
                emb = Embeddings.load(embs[k])
            except Exception as exc:  # safetensors / numpy raise their own types for a corrupt file
                msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                if msg.startswith(f"{embs[k]}: "):
                    raise CliError(msg) from None
                raise CliError(f"{embs[k]}: cannot read embeddings ({msg})") from None
            if files:
                emb = _with_letters(emb, files[k])
            sets.append(emb)
        params = dict(
            gap_open=args.gap_open,
            gap_extend=args.gap_extend,
            scale=args.scale,
            bias=args.bias,
            free_ends=args.free_ends,
            soft_scale=args.soft_scale,
        )
        t0 = time.perf_counter()
        common = dict(
            targets=sets[1] if len(sets) == 2 else None,
            mode=args.mode,
            score=args.score,
            top_k=args.top_k,
            min_score=args.min_score,
            device=args.device,
            threads=args.threads,
            model=args.weights,
            progress=False if args.quiet or args.no_progress else None,
            **params,
        )
        if args.chunk_pairs is None:
            args.chunk_pairs = 16384 if traceback else 131072
        # results are computed and written chunk by chunk: memory bounded by a chunk
        n_pairs = _write_chunks(
            lambda skip: align_many_chunks(
                sets[0],
                skip_chunks=skip,
                chunk_pairs=args.chunk_pairs,
                traceback=traceback,
                **common,
            ),
            args,
            files_given + embs + [args.weights],
        )
        elapsed = time.perf_counter() - t0
        if not args.quiet:
            rate = n_pairs / elapsed if elapsed > 0 else float("inf")
            print(
                f"rnabert align: {n_pairs} pairs in {elapsed:.2f} s ({rate:,.0f} pairs/s)",
                file=sys.stderr,
            )
        if args.plot:
            _plot_first_pair(sets, args, params)
        return 0

    def _write_chunks(make_chunks, args, inputs) -> int:
        """Write each chunk's pairs as it comes (TSV header once); the number of pairs written.

        To a file: through :class:`~rnabert.outputs.ResumableOutput` (``OUT.partial``, renamed onto
        OUT when all chunks are written; Parquet: one part per chunk, joined as row groups at the
        end). ``--resume`` continues such a run after its last complete chunk.
        """
        from ..outputs import ResumableOutput, join_parquet_parts

        if not args.output:
            n = 0
            for k, part in enumerate(make_chunks(0)):
                sys.stdout.write(_text_of(part, k, args.format))
                n += len(part)
            return n
        parquet = args.format == "parquet"
        try:
            out = ResumableOutput(
                args.output, _run_key(args, inputs), resume=args.resume, parts=parquet
            )
        except ValueError as exc:
            raise CliError(str(exc)) from None
        _say_resume(args, out)
        n = out.info.get("pairs", 0)
        try:
            for k, part in enumerate(make_chunks(out.chunks), start=out.chunks):
                if parquet:
                    import pyarrow.parquet as pq

                    tmp = out.part_path(k) + ".tmp"
                    pq.write_table(part.to_arrow(), tmp)
                    os.replace(tmp, out.part_path(k))
                else:
                    out.file.write(_text_of(part, k, args.format).encode("utf-8"))
                n += len(part)
                out.chunk_done(pairs=n)
            with out.finish() as tmp:
                if parquet:
                    join_parquet_parts([out.part_path(k) for k in range(out.chunks)], tmp)
        finally:
            out.close()
        return n

    def _say_resume(args, out) -> None:
        if not args.resume or args.quiet:
            return
        if out.resumed:
            print(
                f"rnabert align: resuming {args.output} after {out.chunks} complete chunk(s) "
                f"({out.info.get('pairs', 0)} pairs)",
                file=sys.stderr,
            )
        else:
            print(
                f"rnabert align: no interrupted run to resume for {args.output}: starting",
                file=sys.stderr,
            )

    def _text_of(part, k, fmt) -> str:
        """One chunk as text: TSV rows (the header with the first chunk only) or alignments."""
        if fmt == "tsv":
            text = part.to_tsv()
            return text if k == 0 else text.split("\n", 1)[1]
        if not len(part):
            return ""
        buf = io.StringIO()
        part.write(buf, fmt)
        return buf.getvalue()

    def _run_key(args, inputs) -> str:
        """What the output depends on: the options and each input's size and modification time."""
        from ..outputs import run_key

        opts = {k: v for k, v in sorted(vars(args).items()) if not k.startswith("_")}
        # the thread count leaves the output unchanged; the device may change its last bits
        for k in ("quiet", "no_progress", "resume", "threads"):
            opts.pop(k, None)
        return run_key(opts, inputs)

    def _strict_records(files):
        from ..seqs import records_from

        return [list(records_from(f, strict=True)) for f in files]

    def _with_letters(emb, path):
        """The embeddings with names and letters taken from the sequence file they were computed
        from."""
        from ..seqs import records_from

        records = list(records_from(path))
        if len(records) != len(emb):
            raise CliError(
                f"{path} has {len(records)} sequences but its embeddings hold {len(emb)}"
            )
        for k, (r, length) in enumerate(zip(records, emb.lengths.tolist())):
            if len(r.seq) != length:
                raise CliError(
                    f"{path}: sequence {k} ({r.name}) has {len(r.seq)} bases but its embeddings "
                    f"have {length} rows"
                )
        return type(emb)(
            emb.values, emb.offsets, [r.name for r in records], [r.seq for r in records]
        )

    return run


def _plot_first_pair(sets, args, params) -> None:
    """--plot: the first pair (the first two sequences of an all-vs-all, or the first query and
    target), aligned again on its own with the same options because results stream in chunks."""
    from itertools import islice

    from ..alignment.api import align
    from ..embeddings import Embeddings
    from ..model.inference import embed
    from ..plot import alignment_figure
    from ..seqs import records_from

    def first(s, k):
        if isinstance(s, Embeddings):
            return s.subset(range(min(k, len(s))))
        recs = list(islice(records_from(s), k))
        return embed(recs, model=args.weights, device=args.device, progress=False)

    if len(sets) == 2:
        a, b = first(sets[0], 1), first(sets[1], 1)
    else:
        two = first(sets[0], 2)
        if len(two) < 2:
            print("rnabert align: one sequence, no pair to draw", file=sys.stderr)
            return
        a, b = two.subset([0]), two.subset([1])
    aln = align(a, b, mode=args.mode, model=args.weights, device=args.device, **params)
    alignment_figure(aln, args.plot, emb_a=a[0], emb_b=b[0])
    if not args.quiet:
        print(f"rnabert align: first pair drawn -> {args.plot}", file=sys.stderr)
