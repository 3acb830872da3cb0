"""Encoder throughput: rnabert.embed beside the model's plain forward pass and a plain eager
re-implementation of the original, in one run: the encoder part of `rnabert bench`
(``rnabert.evaluate.throughput.run_bench``) with reference_encoder.py as an extra peer.

    python benchmarks/bench_encoder.py [--n 512] [--lengths 100 300] [--threads 2] [--weights PATH]
    rnabert bench --only encoder --encoder-n 512 --lengths 100,300   # without the eager peer

For each length: N random sequences, our path (rnabert.embed: SDPA, fused QKV, length-bucketed
batches under a token budget, inference mode) and the references (the model's forward pass and
reference_encoder.py: explicit softmax attention, hand-written LayerNorm, fp32), each in batches of
64 in input order, on the same model. Agreement (≤ 1e-4) is checked before anything is timed.
"""

import argparse
import pathlib
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import rnabert  # noqa: E402
from reference_encoder import eager_forward  # noqa: E402
from rnabert.evaluate.throughput import run_bench  # noqa: E402

DEFAULT_WEIGHTS = HERE.parent / "tests" / "fixtures" / "rnabert_original_format_random_init.pt"


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=512, help="sequences per length")
    ap.add_argument("--lengths", type=int, nargs="+", default=[100, 300])
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each path (best is kept)")
    ap.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    report = run_bench(
        args.lengths,
        parts=("encoder",),
        threads=args.threads,
        encoder_n=args.n,
        repeats=max(1, args.repeats),
        model=rnabert.load_model(args.weights),
        encoder_reference=("eager original", eager_forward),
        log=lambda line: print("#", line, flush=True),
    )
    print(
        "| length | eager original seq/s | plain forward seq/s | rnabert seq/s | ratio to eager | "
        "max |diff| |\n|---:|---:|---:|---:|---:|---:|"
    )
    for length, row in report["lengths"].items():
        e = row["encoder"]
        print(
            f"| {length} | {e['extra_reference_seq_per_s']:.1f} | {e['reference_seq_per_s']:.1f} | "
            f"{e['seq_per_s']:.1f} | {e['extra_speedup']:.2f} | "
            f"{max(e['max_abs_diff'], e['extra_max_abs_diff']):.1e} |"
        )
    return report


if __name__ == "__main__":
    main()
