"""score="bits" against the score-only local all-vs-all of the same sequences, side by side in one
run: the engine part of `rnabert bench` (``rnabert.evaluate.throughput.run_bench``) at one length.

    python benchmarks/bench_bits.py [--n 1000] [--length 100] [--repeats 3]
    rnabert bench --only engine --lengths 100 --n 1000     # the same figures and more

Both run the same fused engine over all i < j pairs of synthetic sequences with encoder-sized random
embeddings; "bits" adds the head's vectors (centring, projection, base channels: 128 dimensions
instead of 120) and the conversion to bits; "local" is the plain cosine in the head's mode (local,
bias -1). Both are checked against the per-pair path first. Prints pairs/s of each and their ratio.
"""

from __future__ import annotations

import argparse

from rnabert.evaluate.throughput import run_bench


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--length", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="engine threads (0: all cores)")
    args = ap.parse_args(argv)
    report = run_bench(
        [args.length],
        n=args.n,
        parts=("engine",),
        threads=args.threads or None,
        repeats=max(1, args.repeats),
        log=lambda line: print("#", line, flush=True),
    )
    e = report["lengths"][args.length]["engine"]
    r = e["pairs_per_s"]
    print(
        f"{e['n']} sequences of {args.length} nt, {e['pairs']} pairs, best of {args.repeats}\n"
        f"| path | pairs/s |\n|---|---|\n| score='dp' local | {r['local']:,.0f} |\n"
        f"| score='bits' | {r['bits']:,.0f} |\n\nratio bits / local: {e['bits_vs_local']:.2f}"
    )
    return report


if __name__ == "__main__":
    main()
