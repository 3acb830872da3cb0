"""score="bits" against today's score-only all-vs-all, side by side in one run (length 100 by
default).

    python benchmarks/bench_bits.py [--n 1000] [--length 100] [--repeats 3]

Both run the same fused engine over all i < j pairs of synthetic sequences with encoder-sized random
embeddings; "bits" adds the head's vectors (centring, projection, base channels: 128 dimensions
instead of 120) and the conversion to bits. Prints pairs/s of each and their ratio.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import rnabert
from rnabert.alignment.heads import load_homology_head
from rnabert.embeddings import Embeddings


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--length", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGU"), args.length)) for _ in range(args.n)]
    emb = Embeddings.from_arrays(
        [rng.normal(size=(args.length, 120)).astype(np.float32) for _ in seqs],
        [f"s{k}" for k in range(args.n)],
        seqs,
    )
    head = load_homology_head()
    pairs = args.n * (args.n - 1) // 2
    dp = best_of(
        lambda: rnabert.align_many(emb, mode="local", bias=-1.0, progress=False), args.repeats
    )
    bits = best_of(
        lambda: rnabert.align_many(emb, score="bits", head=head, progress=False), args.repeats
    )
    print(
        f"{args.n} sequences of {args.length} nt, {pairs} pairs, best of {args.repeats}, "
        f"backends {rnabert.backends()['cpu']['simd_level']} × "
        f"{rnabert.backends()['cpu']['threads']} threads"
    )
    print(
        f"| path | pairs/s |\n|---|---|\n| score='dp' local (today) | {pairs / dp:,.0f} |\n"
        f"| score='bits' | {pairs / bits:,.0f} |\n\nratio bits / dp: {dp / bits:.2f}"
    )


if __name__ == "__main__":
    main()
