"""Encoder throughput: rnabert.embed vs a plain eager re-implementation of the original, side by
side.

    python benchmarks/bench_encoder.py [--n 512] [--lengths 100 300] [--threads 2] [--weights PATH]

For each length: N random sequences, our path (rnabert.embed: SDPA, fused QKV, length-bucketed
batches under a token budget, inference mode) and the reference path (reference_encoder.py: explicit
softmax attention, hand-written LayerNorm, batches of 64 in input order, fp32), both on the same
model. Agreement (≤ 1e-4) is checked before the times are trusted; the ratio is printed.
"""

import argparse
import pathlib
import sys
import time

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import rnabert  # noqa: E402
from reference_encoder import eager_forward  # noqa: E402

DEFAULT_WEIGHTS = HERE.parent / "tests" / "fixtures" / "rnabert_original_format_random_init.pt"


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=512, help="sequences per length")
    ap.add_argument("--lengths", type=int, nargs="+", default=[100, 300])
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    ap.add_argument("--ref-batch", type=int, default=64, help="batch size of the reference path")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each path (best is kept)")
    ap.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    model = rnabert.load_model(args.weights)
    rng = np.random.default_rng(0)
    print(f"torch {torch.__version__}, {args.threads} threads, {args.n} sequences per length")
    print(
        f"{'length':>6} {'reference seq/s':>16} {'rnabert seq/s':>14} {'ratio':>6} "
        f"{'max |diff|':>11}"
    )
    for length in args.lengths:
        seqs = ["".join(rng.choice(list("ACGU"), length)) for _ in range(args.n)]
        ids = torch.from_numpy(np.stack([rnabert.tokenize(s) for s in seqs]))

        def reference():
            return torch.cat(
                [
                    eager_forward(model, ids[i : i + args.ref_batch])
                    for i in range(0, len(ids), args.ref_batch)
                ]
            )

        def ours():
            return rnabert.embed(seqs, model=model, device="cpu", progress=False)

        ours()  # warm-up: first-call allocations and kernel selection stay out of the numbers
        t_ours, emb = best_of(ours, args.repeats)
        t_ref, ref = best_of(reference, args.repeats)
        diff = float(np.abs(emb.values - ref.reshape(-1, ref.shape[-1]).numpy()).max())
        status = "" if diff <= 1e-4 else "  OUTPUTS DIFFER"
        print(
            f"{length:>6} {args.n / t_ref:>16.1f} {args.n / t_ours:>14.1f} {t_ref / t_ours:>6.2f} "
            f"{diff:>11.2e}{status}"
        )
        if diff > 1e-4:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
