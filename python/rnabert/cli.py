"""The rnabert command line: rnabert embed | align | ...  (one function pair per subcommand)."""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Dict, List, Optional

# name -> (add_arguments, run); each run returns an exit code.
_COMMANDS: Dict[str, tuple] = {}


def command(name: str, help: str):
    """Register a subcommand: decorate its ``add_arguments(parser)``; it returns the ``run(args)``."""

    def register(add_arguments: Callable[[argparse.ArgumentParser], Callable[[argparse.Namespace], int]]):
        _COMMANDS[name] = (help, add_arguments)
        return add_arguments

    return register


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


# ----------------------------------------------------------------------------------------------
# subcommands are defined below; each is a function taking the subparser and returning run(args)
# ----------------------------------------------------------------------------------------------


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", metavar="PATH", default=None,
                   help="model checkpoint: an rnabert .safetensors file or directory, or an original RNABERT "
                        ".pt checkpoint (default: the weights shipped with rnabert)")
    p.add_argument("--device", default="auto", help="where the encoder runs: auto, cpu, cuda, cuda:N")
    p.add_argument("--batch-tokens", type=int, default=None, metavar="N",
                   help="padded bases per encoder batch (default: 4096 on CPU, one batch per core; 65536 on GPU)")
    p.add_argument("--strict", action="store_true",
                   help="make ambiguous IUPAC bases (N, R, Y, ...) an error instead of encoding them as MASK")


def _count_fasta_records(path: str) -> Optional[int]:
    """Records in a FASTA file (one fast pass over '>' lines), for the progress bar's ETA; None if unknown."""
    from .seqs import open_text

    try:
        with open_text(path) as fh:
            first = fh.read(1)
            if first != ">":
                return None
            return 1 + sum(1 for line in fh if line.startswith(">"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


@command("embed", help="Per-base RNABERT embeddings of the sequences in a FASTA or Stockholm file.")
def _embed_command(p: argparse.ArgumentParser):
    p.add_argument("input", help="FASTA or Stockholm file (gzip allowed); alignment gaps are removed")
    p.add_argument("-o", "--output", required=True,
                   help="output file: safetensors (values [total_len, 120], offsets [n+1], names) or npz")
    p.add_argument("--format", choices=["safetensors", "npz"], default=None,
                   help="output format (default: from the output suffix, safetensors unless .npz)")
    p.add_argument("--pooled", action="store_true",
                   help="write one mean vector per sequence ([n, 120] 'pooled' plus names) instead of per-base vectors")
    p.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    _add_model_options(p)

    def run(args: argparse.Namespace) -> int:
        import os

        from .model import embed, load_model
        from .backends import resolve_device

        if not os.path.exists(args.input):
            raise CliError(f"input file not found: {args.input}")
        device = resolve_device(args.device)
        model = load_model(args.weights, device=device)
        total = None if args.no_progress else _count_fasta_records(args.input)
        progress = False if args.no_progress else (total is None or total > 200)
        emb = embed(args.input, model=model, device=device, strict=args.strict,
                    batch_tokens=args.batch_tokens, progress=progress)
        if args.pooled:
            _save_pooled(emb.pooled(), emb.names, args.output, args.format)
        else:
            emb.save(args.output, format=args.format)
        print(f"embedded {len(emb)} sequences ({emb.total_len} bases) -> {args.output}", file=sys.stderr)
        return 0

    return run


def _save_pooled(pooled, names, path: str, fmt: Optional[str]) -> None:
    import json

    import numpy as np

    fmt = fmt or ("npz" if path.endswith(".npz") else "safetensors")
    if fmt == "npz":
        with open(path, "wb") as fh:
            np.savez(fh, pooled=pooled, names=np.array(names, dtype=np.str_))
    else:
        from safetensors.numpy import save_file

        save_file({"pooled": pooled}, path, metadata={"format": "rnabert.pooled/1", "names": json.dumps(names)})



@command("align", help="Align RNAs by their RNABERT embeddings: all-vs-all within one file, or every query "
                       "of a first file against every target of a second.")
def _align_command(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    from .alignment.params import AlignParams

    d = AlignParams()
    none = argparse.SUPPRESS  # options without a default: absent from args unless given (no "default: None")
    p.add_argument("inputs", nargs="*", metavar="FASTA", default=none,
                   help="sequences (FASTA or Stockholm, gzip allowed): one file aligns all-vs-all within it; a "
                        "second file gives targets, and every query is aligned with every target. Optional "
                        "with --embeddings; given with it, a file only supplies names and letters for output")
    p.add_argument("--embeddings", action="append", metavar="FILE", default=none,
                   help="precomputed embeddings (.safetensors or .npz from `rnabert embed`) used instead of "
                        "running the model; give it twice for queries then targets")
    p.add_argument("--mode", choices=("global", "local", "semiglobal"), default=d.mode,
                   help="global: Needleman-Wunsch over both whole sequences; local: Smith-Waterman (needs a "
                        "negative --bias); semiglobal: end gaps free (see --free-ends)")
    p.add_argument("--all-vs-all", action="store_true",
                   help="score every pair i<j within one input (the default with one input; not allowed with two)")
    p.add_argument("--traceback", action="store_true",
                   help="compute the alignments too: adds identity and CIGAR (A = query: I = query base vs gap, "
                        "D = target base vs gap) to tsv/parquet; implied by --format fasta/stockholm")
    p.add_argument("--format", choices=("tsv", "fasta", "stockholm", "parquet"), default="tsv",
                   help="tsv: name_a, name_b, score (+ identity, cigar); fasta: two aligned records per pair; "
                        "stockholm: one record per pair; parquet: name_i, name_j, i, j, score (needs -o and "
                        "pyarrow: pip install rnabert[tables])")
    p.add_argument("-o", "--output", metavar="PATH", default=none, help="output file (default: standard output)")
    p.add_argument("--score", choices=("dp", "soft"), default="dp",
                   help="dp: affine-gap alignment score; soft: soft-alignment similarity used for clustering "
                        "(no traceback)")
    p.add_argument("--top-k", type=int, default=none, metavar="K", help="keep the K best targets of each query")
    p.add_argument("--min-score", type=float, default=none, metavar="X", help="keep pairs scoring at least X")
    p.add_argument("--gap-open", type=float, default=d.gap_open,
                   help="gap opening cost: a gap of length k costs gap_open + k * gap_extend")
    p.add_argument("--gap-extend", type=float, default=d.gap_extend, help="gap cost per gapped base")
    p.add_argument("--scale", type=float, default=d.scale,
                   help="match score = scale * cosine similarity + bias")
    p.add_argument("--bias", type=float, default=d.bias, help="added to every match score (negative for local)")
    p.add_argument("--free-ends", choices=("both", "query"), default=d.free_ends,
                   help="semiglobal only: 'both' = end gaps free in both sequences; 'query' = the query lies "
                        "wholly inside the target (target end gaps free)")
    p.add_argument("--soft-scale", type=float, default=d.soft_scale,
                   help="--score soft: similarity = soft_scale * cosine before the softmaxes")
    p.add_argument("--threads", type=int, default=none, metavar="N", help="CPU threads (default: all cores)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where to embed and align; auto uses a GPU when one is usable")
    p.add_argument("--weights", metavar="PATH", default=none,
                   help="model checkpoint (default: the weights shipped with rnabert)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary on standard error")

    def run(args: argparse.Namespace) -> int:
        import os
        import time

        for name in ("inputs", "embeddings", "output", "top_k", "min_score", "threads", "weights"):
            if not hasattr(args, name):
                setattr(args, name, None)

        from .alignment.api import align_many
        from .backends import resolve_device
        from .embeddings import Embeddings

        files, embs = list(args.inputs or []), list(args.embeddings or [])
        if len(files) > 2:
            raise CliError(f"at most two sequence files (queries, targets), got {len(files)}")
        if len(embs) > 2:
            raise CliError(f"--embeddings at most twice (queries, targets), got {len(embs)}")
        if not files and not embs:
            raise CliError("give a sequence file, or precomputed embeddings with --embeddings")
        if files and embs and len(files) != len(embs):
            raise CliError(f"{len(files)} sequence file(s) but {len(embs)} --embeddings file(s): give one "
                           "sequence file per embeddings file, or none")
        if args.all_vs_all and max(len(files), len(embs)) == 2:
            raise CliError("--all-vs-all takes one input; with two, every query is aligned to every target")
        traceback = args.traceback or args.format in ("fasta", "stockholm")
        if traceback and args.score == "soft":
            raise CliError("--score soft has no alignments: drop --traceback, or use --format tsv/parquet")
        if args.format == "parquet" and not args.output:
            raise CliError("--format parquet writes a binary file: give -o PATH")
        for path in files:
            if str(path).endswith((".safetensors", ".npz")):
                raise CliError(f"{path} looks like an embeddings file: pass it with --embeddings {path}")
        for path in files + embs + ([args.weights] if args.weights else []):
            if not os.path.exists(path):
                raise FileNotFoundError(f"{path}: no such file")
            if os.path.isdir(path):
                raise IsADirectoryError(f"{path}: is a directory")
        if args.format == "parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise CliError("--format parquet needs pyarrow: pip install rnabert[tables]") from None
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
                raise CliError(f"{embs[k]}: cannot read embeddings ({msg})") from None
            if files:
                emb = _with_letters(emb, files[k])
            sets.append(emb)
        params = dict(gap_open=args.gap_open, gap_extend=args.gap_extend, scale=args.scale, bias=args.bias,
                      free_ends=args.free_ends, soft_scale=args.soft_scale)
        t0 = time.perf_counter()
        result = align_many(sets[0], targets=sets[1] if len(sets) == 2 else None, mode=args.mode,
                            score=args.score, traceback=traceback, top_k=args.top_k, min_score=args.min_score,
                            device=args.device, threads=args.threads, model=args.weights,
                            progress=False if args.quiet else None, **params)
        elapsed = time.perf_counter() - t0
        if args.format == "parquet":
            result.to_parquet(args.output)
        else:
            out = open(args.output, "w") if args.output else sys.stdout
            try:
                if args.format == "tsv":
                    result.to_tsv(out)
                elif args.format == "fasta":
                    for aln in result.alignments:
                        out.write(aln.to_fasta())
                else:
                    for aln in result.alignments:
                        out.write(aln.to_stockholm())
            finally:
                if out is not sys.stdout:
                    out.close()
        if not args.quiet:
            rate = len(result) / elapsed if elapsed > 0 else float("inf")
            print(f"rnabert align: {len(result)} pairs in {elapsed:.2f} s ({rate:,.0f} pairs/s)", file=sys.stderr)
        return 0

    def _with_letters(emb, path):
        """The embeddings with names and letters taken from the sequence file they were computed from."""
        from .seqs import records_from

        records = list(records_from(path))
        if len(records) != len(emb):
            raise CliError(f"{path} has {len(records)} sequences but its embeddings hold {len(emb)}")
        for k, (r, length) in enumerate(zip(records, emb.lengths.tolist())):
            if len(r.seq) != length:
                raise CliError(f"{path}: sequence {k} ({r.name}) has {len(r.seq)} bases but its embeddings "
                               f"have {length} rows")
        return type(emb)(emb.values, emb.offsets, [r.name for r in records], [r.seq for r in records])

    return run


@command("train", help="Pre-train RNABERT (masked-language modelling + Structural Alignment Learning) on Rfam "
                       "seed alignments; resumable checkpoints in a run directory.")
def _train_command(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    from .train.trainer import TrainConfig

    d = TrainConfig(data="", out="")
    p.add_argument("--data", required=True, metavar="PATH", help="Stockholm seed alignments (gzip allowed)")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory: checkpoints, metrics.jsonl")
    p.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR exactly where it stopped")
    p.add_argument("--steps", type=int, default=d.steps, help="total steps (schedule mixed)")
    p.add_argument("--schedule", choices=("mixed", "sequential"), default=None,
                   help="mixed: an MLM and a SAL batch every step; sequential: --mlm-steps of MLM, then "
                        "--sal-steps of SAL (default: sequential when those are given, else mixed)")
    p.add_argument("--mlm-steps", type=int, default=None, help="sequential schedule: MLM-only steps first")
    p.add_argument("--sal-steps", type=int, default=None, help="sequential schedule: SAL-only steps after")
    p.add_argument("--mlm-weight", type=float, default=d.mlm_weight, help="MLM loss weight (mixed)")
    p.add_argument("--sal-weight", type=float, default=d.sal_weight, help="SAL loss weight (mixed)")
    p.add_argument("--batch-tokens", type=int, default=d.batch_tokens, help="padded bases per MLM batch")
    p.add_argument("--sal-pairs", type=int, default=d.sal_pairs, help="sequence pairs per SAL batch")
    p.add_argument("--sal-candidates", type=int, default=d.sal_candidates, metavar="K",
                   help="per SAL pair, draw K member pairs of the family and keep the least identical "
                        "(1: uniform)")
    p.add_argument("--sal-below", type=float, default=None, metavar="PERCENT",
                   help="draw each SAL pair by identity: one of the family's identity bins (<40, 40-55, ...) "
                        "below PERCENT, uniformly, then a pair of it (e.g. 70)")
    p.add_argument("--lr", type=float, default=d.lr, help="peak AdamW learning rate")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--warmup", type=float, default=d.warmup,
                   help="linear warm-up: a fraction of the steps (< 1) or a number of steps")
    p.add_argument("--clip", type=float, default=d.clip, help="gradient-norm clipping (0: none)")
    p.add_argument("--ema", type=float, default=d.ema, metavar="DECAY",
                   help="keep an exponential moving average of the weights (e.g. 0.998); validation and best/ "
                        "use it, ema/model.safetensors holds it (0: off)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device, help="auto, cpu, cuda, cuda:N (CUDA trains in bf16 autocast)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch and the aligner")
    p.add_argument("--eval-every", type=int, default=d.eval_every, help="validation F every N steps (0: never)")
    p.add_argument("--eval-pairs", type=int, default=d.eval_pairs, help="validation pairs")
    p.add_argument("--eval-per-bin", type=int, default=None, metavar="N",
                   help="validation pairs by identity: up to N per family and identity bin (then at most "
                        "--eval-pairs); uniform pairs are mostly > 70 %% identical and barely move")
    p.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every, help="checkpoint every N steps")
    p.add_argument("--log-every", type=int, default=d.log_every, help="metrics line every N steps")
    p.add_argument("--max-families", type=int, default=None, help="train on a random subset (toy runs)")
    p.add_argument("--init", metavar="CHECKPOINT", default=None, help="start from these weights")
    p.add_argument("--stop-at", type=int, default=None,
                   help="stop this session after step N (checkpointed; --resume continues the same schedule)")
    p.add_argument("--validation-file", default=None,
                   help="held-out family accessions (default: the list bundled with rnabert)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def run(args: argparse.Namespace) -> int:
        import dataclasses

        from .train.trainer import train

        schedule = args.schedule or ("sequential" if args.mlm_steps is not None or args.sal_steps is not None
                                     else "mixed")
        kwargs = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
                  if hasattr(args, f.name) and f.name not in ("schedule", "progress")}
        config = TrainConfig(**kwargs, schedule=schedule, progress=not args.no_progress)
        summary = train(config)
        best = f"{summary['best_val_f']:.4f}" if summary["best_val_f"] >= 0 else "n/a"
        print(f"rnabert train: step {summary['step']}/{summary['total_steps']} in {summary['elapsed']:.0f} s, "
              f"best validation F {best}, run in {summary['run_dir']}", file=sys.stderr)
        return 130 if summary["interrupted"] else 0

    return run


@command("evaluate-alignment", help="Pairwise alignment accuracy (F, sensitivity, PPV over aligned bases) against "
                                    "reference alignments: RNABERT side by side with baselines.")
def _evaluate_alignment_command(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    p.add_argument("--data", required=True, nargs="+", metavar="ALIGNMENTS",
                   help="Stockholm files (families) or aligned FASTA files (one family each)")
    p.add_argument("--weights", metavar="PATH", default=None,
                   help="model checkpoint (default: the weights shipped with rnabert, if any)")
    p.add_argument("--families", default=None,
                   help="comma-separated accessions, or a file of them (one a line, # comments)")
    p.add_argument("--max-pairs", type=int, default=1000, help="at most this many pairs in all")
    p.add_argument("--pairs-per-family", type=int, default=10, help="random pairs drawn per family")
    p.add_argument("--per-bin", type=int, default=None, metavar="N",
                   help="sample by identity instead: up to N pairs per family in each identity bin")
    p.add_argument("--baseline", action="store_true", help="also the nucleotide match/mismatch baseline")
    p.add_argument("--random-init", action="store_true", help="also the untrained (random-init) encoder")
    p.add_argument("--mafft", type=int, default=0, metavar="N", help="also mafft G-INS-i on N of the pairs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="where the encoder runs")
    p.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON")

    def run(args: argparse.Namespace) -> int:
        import json
        import os

        from .evaluate import evaluate_alignment, format_table

        for path in args.data:
            if not os.path.exists(path):
                raise CliError(f"alignment file not found: {path}")
        families = None
        if args.families:
            if os.path.exists(args.families):
                with open(args.families) as fh:
                    families = [x.strip() for x in fh if x.strip() and not x.startswith("#")]
            else:
                families = [x.strip() for x in args.families.split(",") if x.strip()]
        pairs, results = evaluate_alignment(args.data, args.weights, families=families, max_pairs=args.max_pairs,
                                            pairs_per_family=args.pairs_per_family, baseline=args.baseline,
                                            random_init=args.random_init, mafft=args.mafft, seed=args.seed,
                                            device=args.device, per_bin=args.per_bin,
                                            log=lambda msg: print(msg, file=sys.stderr))
        if not results:
            raise CliError("nothing to evaluate: give --weights, --baseline or --random-init")
        print(f"{len(pairs)} pairs from {len(set(pairs.family))} families")
        print(format_table(results))
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=1)
        return 0

    return run


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="rnabert",
        description="RNABERT embeddings and structural alignment of non-coding RNA.",
    )
    parser.add_argument("--version", action="version", version=f"rnabert {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, add_arguments) in _COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text,
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        p.set_defaults(_run=add_arguments(p))
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (CliError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"rnabert {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rnabert {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
