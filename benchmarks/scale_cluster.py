"""Clustering cost at scale on synthetic data: N random sequences (80–120 nt) with random per-base
embeddings (the encoder's cost is measured apart by `rnabert bench`: sequences/s), clustered through
the prefilter path (each sequence's K nearest pooled homology vectors aligned, cost near N·K).

    python benchmarks/scale_cluster.py --n 10000 --k 100
    python benchmarks/scale_cluster.py --n 100000 --k 20

Prints wall time, candidate pairs, pairs/s and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

import rnabert


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    lengths = rng.integers(80, 121, args.n)
    letters = np.array(list("ACGU"))
    seqs = ["".join(letters[rng.integers(0, 4, n)]) for n in lengths]
    values = rng.standard_normal((int(lengths.sum()), 120)).astype(np.float32)
    emb = rnabert.Embeddings(values, np.concatenate([[0], np.cumsum(lengths)]), None, seqs)
    t = time.perf_counter()
    c = rnabert.cluster(emb, prefilter=args.k, threads=args.threads, progress=False)
    seconds = time.perf_counter() - t
    out = {
        "n": args.n,
        "k": args.k,
        "seconds": seconds,
        "candidate_pairs": c.info["candidate_pairs"],
        "pairs_per_s": c.info["candidate_pairs"] / seconds,
        "edges": c.info["edges"],
        "clusters": c.n_clusters,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "mean_length": float(lengths.mean()),
    }
    print(json.dumps(out))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
