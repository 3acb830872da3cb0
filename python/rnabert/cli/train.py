"""`rnabert train`: pre-train RNABERT (MLM + SAL) in a resumable run directory."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

NAME = "train"
HELP = (
    "Pre-train RNABERT (masked-language modelling + Structural Alignment Learning) on Rfam "
    "seed alignments; resumable checkpoints in a run directory."
)


def add_arguments(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    from ..train.config import TrainConfig

    d = TrainConfig(data="", out="")
    p.add_argument(
        "--data", required=True, metavar="PATH", help="Stockholm seed alignments (gzip allowed)"
    )
    p.add_argument(
        "--out", required=True, metavar="RUN_DIR", help="run directory: checkpoints, metrics.jsonl"
    )
    p.add_argument(
        "--resume", action="store_true", help="continue the run in RUN_DIR exactly where it stopped"
    )
    p.add_argument("--steps", type=int, default=d.steps, help="total steps (schedule mixed)")
    p.add_argument(
        "--schedule",
        choices=("mixed", "sequential"),
        default=None,
        help="mixed: an MLM and a SAL batch every step; sequential: --mlm-steps of MLM, then "
        "--sal-steps of SAL (default: sequential when those are given, else mixed)",
    )
    p.add_argument(
        "--mlm-steps", type=int, default=None, help="sequential schedule: MLM-only steps first"
    )
    p.add_argument(
        "--sal-steps", type=int, default=None, help="sequential schedule: SAL-only steps after"
    )
    p.add_argument("--mlm-weight", type=float, default=d.mlm_weight, help="MLM loss weight (mixed)")
    p.add_argument("--sal-weight", type=float, default=d.sal_weight, help="SAL loss weight (mixed)")
    p.add_argument(
        "--batch-tokens", type=int, default=d.batch_tokens, help="padded bases per MLM batch"
    )
    p.add_argument(
        "--sal-pairs", type=int, default=d.sal_pairs, help="sequence pairs per SAL batch"
    )
    p.add_argument(
        "--sal-candidates",
        type=int,
        default=d.sal_candidates,
        metavar="K",
        help="per SAL pair, draw K member pairs of the family and keep the least identical "
        "(1: uniform)",
    )
    p.add_argument(
        "--sal-below",
        type=float,
        default=None,
        metavar="PERCENT",
        help="draw each SAL pair by identity: one of the family's identity bins (<40, 40-55, ...) "
        "below PERCENT, uniformly, then a pair of it (e.g. 70)",
    )
    p.add_argument("--lr", type=float, default=d.lr, help="peak AdamW learning rate")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument(
        "--warmup",
        type=float,
        default=d.warmup,
        help="linear warm-up: a fraction of the steps (< 1) or a number of steps",
    )
    p.add_argument("--clip", type=float, default=d.clip, help="gradient-norm clipping (0: none)")
    p.add_argument(
        "--ema",
        type=float,
        default=d.ema,
        metavar="DECAY",
        help="keep an exponential moving average of the weights (e.g. 0.998); validation and best/ "
        "use it, ema/model.safetensors holds it (0: off)",
    )
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument(
        "--device", default=d.device, help="auto, cpu, cuda, cuda:N (CUDA trains in bf16 autocast)"
    )
    p.add_argument(
        "--threads", type=int, default=None, help="CPU threads for torch and the aligner"
    )
    p.add_argument(
        "--eval-every", type=int, default=d.eval_every, help="validation F every N steps (0: never)"
    )
    p.add_argument("--eval-pairs", type=int, default=d.eval_pairs, help="validation pairs")
    p.add_argument(
        "--eval-per-bin",
        type=int,
        default=None,
        metavar="N",
        help="validation pairs by identity: up to N per family and identity bin (then at most "
        "--eval-pairs); uniform pairs are mostly > 70 %% identical and barely move",
    )
    p.add_argument(
        "--checkpoint-every", type=int, default=d.checkpoint_every, help="checkpoint every N steps"
    )
    p.add_argument("--log-every", type=int, default=d.log_every, help="metrics line every N steps")
    p.add_argument(
        "--max-families", type=int, default=None, help="train on a random subset (toy runs)"
    )
    p.add_argument("--init", metavar="CHECKPOINT", default=None, help="start from these weights")
    p.add_argument(
        "--stop-at",
        type=int,
        default=None,
        help="stop this session after step N (checkpointed; --resume continues the same schedule)",
    )
    p.add_argument(
        "--validation-file",
        default=None,
        help="held-out family accessions (default: the list bundled with rnabert)",
    )
    p.add_argument(
        "--homology-weight",
        type=float,
        default=d.homology_weight,
        metavar="W",
        help="mixed schedule: also a homology batch every step (logistic loss on local-alignment "
        "significance under the homology head, hard negatives mined in the batch), weighted W "
        "(0: off)",
    )
    p.add_argument(
        "--homology-families",
        type=int,
        default=d.homology_families,
        metavar="N",
        help="families per homology batch (two members and one dinucleotide shuffle each)",
    )
    p.add_argument(
        "--homology-candidates",
        type=int,
        default=d.homology_candidates,
        metavar="K",
        help="each family's positive pair is the least identical of K member pairs drawn",
    )
    p.add_argument(
        "--homology-hard",
        type=int,
        default=None,
        metavar="K",
        help="hardest in-batch negatives kept per homology batch (default: --homology-families)",
    )
    p.add_argument(
        "--homology-random",
        type=int,
        default=None,
        metavar="K",
        help="random other negatives kept per homology batch (default: --homology-families)",
    )
    p.add_argument(
        "--homology-head",
        metavar="PATH",
        default=None,
        help="homology head whose scoring and null λ the loss uses (default: the shipped head)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def run(args: argparse.Namespace) -> int:
        import dataclasses

        from ..train.trainer import train

        schedule = args.schedule or (
            "sequential" if args.mlm_steps is not None or args.sal_steps is not None else "mixed"
        )
        kwargs = {
            f.name: getattr(args, f.name)
            for f in dataclasses.fields(TrainConfig)
            if hasattr(args, f.name) and f.name not in ("schedule", "progress")
        }
        config = TrainConfig(**kwargs, schedule=schedule, progress=not args.no_progress)
        summary = train(config)
        best = f"{summary['best_val_f']:.4f}" if summary["best_val_f"] >= 0 else "n/a"
        print(
            f"rnabert train: step {summary['step']}/{summary['total_steps']} in "
            f"{summary['elapsed']:.0f} s, "
            f"best validation F {best}, run in {summary['run_dir']}",
            file=sys.stderr,
        )
        return 130 if summary["interrupted"] else 0

    return run
