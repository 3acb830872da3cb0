"""Latency of one call: a warm ``rnabert.align(a, b, model=m)`` and ``rnabert.embed([a], model=m)``
on 120-nt sequences, against the per-call cost of the encoder's forward pass alone, in one run.

    python benchmarks/bench_latency.py [--length 120] [--repeats 200] [--threads N]

A user aligning pairs in a loop, or a web service, pays the per-call time, not the throughput. The
encoder alone is ``model(ids, ids != 0)`` under ``torch.inference_mode()`` on the same tokens (one
batch of two sequences for align, one sequence for embed), with torch's own thread count and with
its ops on one thread; everything above it is overhead of the call. The results are checked first:
align's score equals the engine's score of the same embeddings, and embed's vectors equal the bare
forward pass's.

Prints the median and the 10th/90th percentiles in milliseconds and the ratio of each call to the
bare encoder.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import rnabert


def _times(fn, repeats: int, warmup: int = 5):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    out.sort()
    return statistics.median(out), out[len(out) // 10], out[(9 * len(out)) // 10]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--length", type=int, default=120, help="bases per sequence")
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's own)"
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    rng = np.random.default_rng(args.seed)
    a, b = ("".join(rng.choice(list("ACGU"), size=args.length)) for _ in range(2))
    model = rnabert.load_model(device="cpu")
    lut = {"A": 2, "U": 3, "G": 4, "C": 5}
    ids2 = torch.tensor([[lut[c] for c in a], [lut[c] for c in b]], dtype=torch.int64)
    ids1 = ids2[:1]

    def forward(ids):
        with torch.inference_mode():
            return model(ids, ids != 0)

    # Check before timing: the calls compute what the bare encoder and the engine compute.
    ref = forward(ids2).float().numpy()
    emb = rnabert.embed([a], model=model, device="cpu", progress=False)
    assert np.allclose(emb[0], ref[0], atol=1e-4), "embed differs from the bare forward pass"
    aln = rnabert.align(a, b, model=model)
    aln_ref = rnabert.align(ref[0], ref[1])
    assert abs(aln.score - aln_ref.score) < 1e-3, (aln.score, aln_ref.score)

    def forward_one_thread(ids):
        n = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return forward(ids)
        finally:
            torch.set_num_threads(n)

    rows = [
        ("encoder forward, 2 x L", lambda: forward(ids2)),
        ("encoder forward, 1 x L", lambda: forward(ids1)),
        ("  same, ops on 1 thread, 2 x L", lambda: forward_one_thread(ids2)),
        ("  same, ops on 1 thread, 1 x L", lambda: forward_one_thread(ids1)),
        (
            "rnabert.embed([a])",
            lambda: rnabert.embed([a], model=model, device="cpu", progress=False),
        ),
        ("rnabert.align(a, b)", lambda: rnabert.align(a, b, model=model)),
        ("rnabert.align(emb_a, emb_b)", lambda: rnabert.align(ref[0], ref[1])),
    ]
    print(
        f"rnabert {rnabert.__version__}, torch {torch.__version__}, {torch.get_num_threads()} "
        "torch "
        f"threads, L = {args.length}, {args.repeats} warm calls each"
    )
    base = {}
    for name, fn in rows:
        med, lo, hi = _times(fn, args.repeats)
        base[name] = med
        n_seq = "2" if "align(a" in name else "1"
        ratio = ""
        if name.startswith("rnabert") and "emb_a" not in name:
            ratio = (
                f"  {med / base[f'encoder forward, {n_seq} x L']:4.2f}x encoder, "
                f"{med / base[f'  same, ops on 1 thread, {n_seq} x L']:4.2f}x on 1 thread"
            )
        print(f"{name:<30} median {med:7.2f} ms   p10 {lo:7.2f}   p90 {hi:7.2f}{ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
