"""`rnabert classify`: the RNA type of each sequence; `rnabert classify train`: a head of your
own."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from typing import Callable

from .common import CliError, add_plot_option, add_run_options, check_plot

# rnabert.classify.api.SHIPPED_RECIPE, written out so that --help does not import torch (a test
# keeps the two equal)
SHIPPED_RECIPE = ("conv", "conv-bases", "conv-bases", "meanmax")

NAME = "classify"
HELP = (
    "Predict the RNA type of each sequence (the 13 nRC classes with the shipped head) with "
    "per-class probabilities; 'rnabert classify train labelled.fa -o head.safetensors' trains a "
    "head on your own labelled sequences."
)
EPILOG = """\
usage forms:
  rnabert classify in.fa -o labels.tsv            predict (shipped head, or --head PATH)
  rnabert classify train labelled.fa -o head.safetensors
                                                  train a head (label: last word of each header,
                                                  e.g. '>RF00001_AB0123_1-119 5S_rRNA')

output of a prediction: TSV with a header line: name, label, probability, then one probability
column per class.
"""


def add_arguments(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    # keep the command line's "(default: X)" and lay the usage forms out as written
    p.formatter_class = type(
        "ClassifyFormatter", (argparse.RawDescriptionHelpFormatter, p.formatter_class), {}
    )
    p.description = textwrap.fill(HELP, 79)
    p.usage = (
        "rnabert classify FASTA [-o labels.tsv] [--head PATH] [--reference FASTA] [--plot PATH] "
        "[options]\n       rnabert classify train LABELLED_FASTA -o head.safetensors "
        "[training options]"
    )
    p.epilog = EPILOG
    none = argparse.SUPPRESS
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="FASTA",
        help="sequences to classify (FASTA or Stockholm, gzip allowed), or 'train' and a labelled "
        "FASTA file",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        default=none,
        help="predictions: TSV (default: standard output); train: the head (.safetensors, "
        "required)",
    )
    p.add_argument(
        "--head",
        metavar="PATH",
        default=none,
        help="classification head made by 'rnabert classify train' (default: the shipped head, "
        "13 nRC classes)",
    )
    p.add_argument(
        "--reference",
        metavar="FASTA",
        default=none,
        help="labelled sequences (label: last header word): each query is aligned to all of them "
        "(homology bits) and its best hits vote; mixed with the head by --knn-weight",
    )
    p.add_argument(
        "-k",
        "--neighbours",
        type=int,
        default=None,
        metavar="K",
        help="hits that vote (--reference; default: the number the head records, 3 for the "
        "shipped head)",
    )
    p.add_argument(
        "--knn-weight",
        type=float,
        default=none,
        metavar="W",
        help="probability = (1-W) head + W vote (default: the weight the head records, else 0.5; "
        "1: the vote alone, with the reference's classes)",
    )
    add_plot_option(p, "a 2-D map of the pooled embeddings coloured by predicted label")
    t = p.add_argument_group("training (rnabert classify train)")
    t.add_argument(
        "--pool",
        nargs="+",
        choices=("conv", "conv-bases", "mean", "meanmax", "attention"),
        default=list(SHIPPED_RECIPE),  # the shipped head's recipe
        metavar="KIND",
        help="head kinds (several: trained separately, probabilities averaged): conv "
        "(convolutions over the per-base embeddings and bases), conv-bases (over the bases "
        "alone); mean, meanmax (mean and "
        "maximum), attention (mean and learned attention pools): a classifier on pooled "
        "embeddings; a kind named again is one more head of it, seeded one higher (default: "
        "conv conv-bases conv-bases meanmax, the shipped head's recipe)",
    )
    t.add_argument(
        "--kmer",
        type=int,
        default=6,
        metavar="K",
        help="also give the pooled-embedding head the k-mer frequencies for k = 1..K (0: "
        "embeddings only)",
    )
    t.add_argument(
        "--hidden",
        type=int,
        default=none,
        metavar="N",
        help="0: logistic regression; N: one hidden layer of N units (default: chosen by "
        "cross-validation: 0 or 256; 0 or 64 with k-mers)",
    )
    t.add_argument(
        "--l2",
        type=float,
        default=none,
        help="L2 penalty (default: chosen by cross-validation among 1e-5, 1e-4, 1e-3)",
    )
    t.add_argument("--folds", type=int, default=3, help="cross-validation folds")
    t.add_argument(
        "--epochs", type=int, default=40, help="training epochs of a pooled-embedding head"
    )
    t.add_argument(
        "--conv-epochs", type=int, default=30, help="training epochs of a conv head (at most)"
    )
    t.add_argument(
        "--validation",
        type=float,
        default=0.1,
        metavar="F",
        help="conv head: hold out this fraction of the sequences and keep the epoch that "
        "classifies them best (0: train on all, keep the last epoch)",
    )
    t.add_argument("--seed", type=int, default=0, help="seeds initialisation, folds, minibatches")
    add_run_options(p)
    p.add_argument(
        "--strict",
        action="store_true",
        help="make ambiguous IUPAC bases (N, R, Y, ...) an error instead of encoding them as MASK",
    )
    p.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    p.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or summary on standard error"
    )

    def run(args: argparse.Namespace) -> int:
        for name in (
            "output",
            "head",
            "reference",
            "knn_weight",
            "plot",
            "hidden",
            "l2",
            "threads",
            "weights",
        ):
            if not hasattr(args, name):
                setattr(args, name, None)
        if args.threads is not None:
            if args.threads < 1:
                raise CliError(f"--threads must be at least 1, got {args.threads}")
            import torch

            # the encoder's batches run on torch's threads; the engine takes its own argument
            torch.set_num_threads(args.threads)
        # "train" is the subcommand, unless it is the one input and a file of that name exists
        first = args.inputs[0]
        training = first == "train" and (len(args.inputs) > 1 or not os.path.exists(first))
        if training:
            if len(args.inputs) != 2:
                raise CliError("usage: rnabert classify train labelled.fa -o head.safetensors")
            return _train(args, args.inputs[1])
        if len(args.inputs) != 1:
            raise CliError(
                f"one input file to classify, got {len(args.inputs)} ({' '.join(args.inputs)}); "
                "to train a head: rnabert classify train labelled.fa -o head.safetensors"
            )
        return _classify(args, args.inputs[0])

    return run


def _check_inputs(*paths) -> None:
    for path in paths:
        if path is None:
            continue
        if not os.path.exists(path):
            raise CliError(f"{path}: no such file")
        if os.path.isdir(path):
            raise CliError(f"{path}: is a directory")


def _progress(args) -> bool:
    return not (args.quiet or args.no_progress)


def _classify(args, path: str) -> int:
    import collections

    from ..classify import classify
    from ..outputs import check_output

    _check_inputs(path, args.head, args.reference, args.weights)
    inputs = [path, args.head, args.reference, args.weights]
    check_output(args.output, inputs)
    check_plot(args.plot, inputs + [args.output])  # before any work
    result = classify(
        path,
        head=args.head,
        model=args.weights,
        device=args.device,
        reference=args.reference,
        k=args.neighbours,
        knn_weight=args.knn_weight,
        threads=args.threads,
        strict=args.strict,
        progress=_progress(args),
    )
    result.to_tsv(sys.stdout if args.output in (None, "-") else args.output)
    if args.plot:
        from ..plot import embedding_map

        embedding_map(
            result.vectors,
            result.labels,
            args.plot,
            title=f"{os.path.basename(path)}: pooled embeddings by predicted RNA type",
        )
    if not args.quiet:
        counts = collections.Counter(result.labels).most_common()
        summary = ", ".join(f"{label} {n}" for label, n in counts[:13])
        more = f", … ({len(counts)} classes)" if len(counts) > 13 else ""
        print(f"rnabert classify: {len(result)} sequences: {summary}{more}", file=sys.stderr)
    return 0


def _train(args, path: str) -> int:

    from ..classify import train

    if not args.output or args.output == "-":
        raise CliError("a head is a binary file: give -o head.safetensors")
    _check_inputs(path, args.weights)
    for flag, used in (
        ("--head", args.head),
        ("--reference", args.reference),
        ("--plot", args.plot),
        ("--knn-weight", args.knn_weight),
    ):
        if used is not None:
            raise CliError(f"{flag} is for predictions, not for 'classify train'")
    head = train(
        path,
        model=args.weights,
        pool=args.pool,
        kmer=args.kmer,
        hidden=args.hidden,
        l2=args.l2,
        folds=args.folds,
        epochs=args.epochs,
        conv_epochs=args.conv_epochs,
        validation=args.validation,
        seed=args.seed,
        device=args.device,
        strict=args.strict,
        progress=_progress(args),
        out=args.output,
    )
    if not args.quiet:
        members = getattr(head, "members", [head])
        parts = [_summary(m) for m in members]
        print(
            f"rnabert classify train: {head.info['sequences']} sequences, {len(head.classes)} "
            f"classes, {' + '.join(parts)}"
            f"{' (probabilities averaged)' if len(parts) > 1 else ''} -> {args.output}",
            file=sys.stderr,
        )
    return 0


def _summary(head) -> str:
    """One head's kind and the scores it was chosen or stopped by."""
    import json

    if head.pool == "conv":
        text = f"{head.kind} head ({head.conv_layers} x {head.conv_channels} channels"
        validation = head.info.get("validation")
        if validation:
            v = json.loads(validation)
            text += (
                f"; epoch {v['best_epoch']} of {v['epochs']} chosen on {v['sequences']} held-out "
                f"sequences: accuracy {v['accuracy']:.3f}, macro-F1 {v['macro_f1']:.3f}"
            )
        return text + ")"
    cv = head.info.get("cross_validation", "")
    best = ""
    if cv.startswith("{"):
        table = json.loads(cv)["table"]
        row = next(
            r
            for r in table
            if r["hidden"] == int(head.info["hidden"]) and r["l2"] == float(head.info["l2"])
        )
        best = f"; cross-validated accuracy {row['accuracy']:.3f}, macro-F1 {row['macro_f1']:.3f}"
    return (
        f"pool {head.pool} head ({f'k-mers 1..{head.kmer}' if head.kmer else 'no k-mers'}, "
        f"hidden {head.info['hidden']}, l2 {head.info['l2']}{best})"
    )
