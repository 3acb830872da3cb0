"""Clustering cost at scale on synthetic data: N random sequences (80–120 nt) with random per-base
embeddings (the encoder's cost is measured apart by `rnabert bench`: sequences/s), clustered through
the prefilter path (each sequence's K nearest pooled homology vectors aligned, cost near N·K).

    python benchmarks/scale_cluster.py --n 10000 30000 100000 --k 100 --threads 2

Each N runs in a fresh process (so each peak is its own). Prints one JSON line per N: wall time,
candidate pairs, pairs/s, edges, clusters, whether the head vectors went to a memory-mapped file,
and memory: the peak resident set (VmHWM, which counts the mapped file's pages the kernel kept),
the peak anonymous memory (RssAnon sampled every 0.2 s: what cannot be dropped under pressure) and
the resident set before clustering (the synthetic input, held by the caller).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np


def _status(field: str) -> int:
    """A /proc/self/status field in KiB (0 where there is no /proc)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class PeakSampler(threading.Thread):
    def __init__(self, every: float = 0.2):
        super().__init__(daemon=True)
        self.every, self.peak_anon, self.stop = every, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.peak_anon = max(self.peak_anon, _status("RssAnon"))
            self.stop.wait(self.every)


def synthetic(n: int, seed: int):
    """n random sequences of 80–120 nt and random float32 embeddings, made a chunk at a time."""
    import rnabert

    rng = np.random.default_rng(seed)
    lengths = rng.integers(80, 121, n)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    letters = np.frombuffer(b"ACGU", np.uint8)
    bases = letters[rng.integers(0, 4, int(offsets[-1]))].tobytes().decode()
    seqs = [bases[offsets[k] : offsets[k + 1]] for k in range(n)]
    values = np.empty((int(offsets[-1]), 120), np.float32)
    step = 1 << 20
    for s in range(0, len(values), step):
        values[s : s + step] = rng.standard_normal((min(step, len(values) - s), 120), np.float32)
    return rnabert.Embeddings(values, offsets, None, seqs), float(lengths.mean())


def one(n: int, k: int, threads: int, seed: int, out_dir, progress: bool) -> dict:
    import rnabert

    emb, mean_length = synthetic(n, seed)
    before = _status("VmRSS")
    sampler = PeakSampler()
    sampler.start()
    t = time.perf_counter()
    c = rnabert.cluster(emb, prefilter=k, threads=threads, progress=progress, out_dir=out_dir)
    seconds = time.perf_counter() - t
    sampler.stop.set()
    sampler.join()
    gib = 1024 * 1024
    return {
        "n": n,
        "k": k,
        "threads": threads,
        "seconds": round(seconds, 1),
        "candidate_pairs": c.info["candidate_pairs"],
        "pairs_per_s": round(c.info["candidate_pairs"] / seconds),
        "edges": c.info["edges"],
        "clusters": c.n_clusters,
        "vectors_on_disk": c.info["vectors_on_disk"],
        "peak_rss_gib": round(_status("VmHWM") / gib, 2),
        "peak_anon_gib": round(max(sampler.peak_anon, _status("RssAnon")) / gib, 2),
        "input_rss_gib": round(before / gib, 2),
        "mean_length": round(mean_length, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, nargs="+", default=[10_000])
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out-dir", help="run directory of each N (head vectors); default temporary")
    ap.add_argument("--progress", action="store_true", help="progress bars on standard error")
    ap.add_argument("--json", help="also write the rows to this file (a JSON list)")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child process
    args = ap.parse_args()
    if args.one:
        out = None if args.out_dir is None else os.path.join(args.out_dir, f"n{args.n[0]}")
        row = one(args.n[0], args.k, args.threads, args.seed, out, args.progress)
        print(json.dumps(row), flush=True)
        return
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    env.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    rows = []
    for n in args.n:
        cmd = [sys.executable, __file__, "--one", "--n", str(n), "--k", str(args.k)]
        cmd += ["--threads", str(args.threads), "--seed", str(args.seed)]
        cmd += ["--progress"] if args.progress else []
        cmd += ["--out-dir", args.out_dir] if args.out_dir else []
        done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
