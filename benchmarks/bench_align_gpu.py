"""Throughput of the CUDA alignment engine (rnabert._cuda) against the CPU engine, in one run.

1. All-vs-all, score-only global alignment of random unit-vector embeddings (width 120) at lengths
100
   and 300, at least 10^7 pairs each (N = 4,473): pairs/s and GCUPS (cells = L1 * L2 per pair).
2. The CPU engine (rnabert._core, all cores) on a subset of the same work (the first rows of the
same
   all-vs-all), as a rate; the ratio GPU / CPU.
3. The encoder on the GPU (rnabert.embed, device="cuda"): sequences/s at length ~100 and ~300.
4. End to end: embed 1,500 random RNA sequences on the GPU and score all their pairs on the GPU.

Before timing anything it checks that the GPU engine agrees with the CPU engine (scores of a few
thousand pairs of mixed lengths in every mode, tracebacks, soft scores, the exact-arithmetic
fixture); a disagreement stops the run. GPU timings synchronise the device (the engine returns host
arrays, so every call ends with a stream synchronisation), take the best of REPEATS after a warm-up
call, and never use all-zero inputs. Without a GPU it exits with a message and status 2.

    python benchmarks/bench_align_gpu.py                 # full run
    python benchmarks/bench_align_gpu.py --quick         # N = 1,000 (5*10^5 pairs) per length
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

import numpy as np

REPEATS = 2
HERE = pathlib.Path(__file__).resolve().parent


def _block(rng, n, length, dim=120):
    v = rng.standard_normal((n * length, dim)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return np.ascontiguousarray(v), np.arange(0, (n + 1) * length, length, dtype=np.int64)


def _mixed_block(rng, lengths, dim=120):
    v = rng.standard_normal((int(sum(lengths)), dim)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return np.ascontiguousarray(v), np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def _params(**kw):
    p = {
        "mode": "global",
        "scale": 1.0,
        "bias": 0.0,
        "gap_open": 1.0,
        "gap_extend": 0.1,
        "free_ends": "both",
        "soft_scale": 1.3,
        "precision": "fp32",
    }
    p.update(kw)
    return p


def _best(fn, repeats=REPEATS):
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def check_agreement(cuda, core, rng) -> None:
    """Stops the run unless the GPU engine agrees with the CPU engine."""
    lengths = [int(x) for x in rng.integers(1, 1001, 40)] + [1, 32, 33, 64, 65, 440, 441]
    v, o = _mixed_block(rng, lengths)
    n = len(lengths)
    i, j = np.triu_indices(n, 0)
    pairs = np.stack([i, j], 1).astype(np.int64)
    worst = 0.0
    for p in (
        _params(),
        _params(mode="local", bias=-0.3),
        _params(mode="semiglobal"),
        _params(mode="semiglobal", free_ends="query"),
    ):
        c = core.score_pairs(v, o, pairs, p)
        g = cuda.score_pairs(v, o, pairs, p)
        if not np.isfinite(g).all():
            sys.exit(f"GPU scores contain NaN/inf ({p['mode']}): not timing")
        err = float(np.max(np.abs(g - c) / (1.0 + np.abs(c))))
        worst = max(worst, err)
        if err > 1e-5:
            sys.exit(
                f"GPU and CPU scores disagree ({p['mode']}, {p['free_ends']}): max rel diff "
                f"{err:.3g}"
            )
        _cs, co, cp = core.align_pairs(v, o, pairs[:300], p)
        _gs, go_, gp = cuda.align_pairs(v, o, pairs[:300], p)
        same = np.mean(
            [np.array_equal(cp[co[k] : co[k + 1]], gp[go_[k] : go_[k + 1]]) for k in range(300)]
        )
        if same < 0.99:
            sys.exit(
                f"GPU and CPU tracebacks differ on {100 * (1 - same):.1f}% of pairs ({p['mode']})"
            )
    soft_c = core.soft_align_scores(v, o, pairs, _params())
    soft_g = cuda.soft_align_scores(v, o, pairs, _params())
    if not np.allclose(soft_g, soft_c, rtol=1e-4, atol=1e-6):
        sys.exit("GPU and CPU soft scores disagree")
    cases = json.loads(
        (HERE.parent / "tests/fixtures/reference_global_alignments.json").read_text()
    )["cases"]
    for c in cases:
        if c["exact_arithmetic"]:
            _s, _offs, path = cuda.align_score_matrices(
                [np.array(c["score_matrix"], np.float32)],
                _params(gap_open=c["gap_open"], gap_extend=c["gap_extend"]),
            )
            if path.tolist() != c["aligned_pairs"]:
                sys.exit("GPU alignment differs from the reference fixture")
    print(
        f"agreement: GPU = CPU on {len(pairs)} pairs x 4 modes (max rel score diff {worst:.2g}), "
        "tracebacks, "
        f"soft scores, fixture"
    )


def all_vs_all_rates(cuda, core, rng, n, length, cpu_rows):
    v, o = _block(rng, n, length)
    p = _params()
    pairs_total = n * (n - 1) // 2
    cuda.all_vs_all(v[: 64 * length], o[:65], p, output="threshold", min_score=1e30)  # warm-up
    # one timed pass: 10^7 pairs take long enough that launch and transfer jitter is negligible
    _, t_gpu = _best(
        lambda: cuda.all_vs_all(v, o, p, output="threshold", min_score=1e30), repeats=1
    )
    gpu_rate = pairs_total / t_gpu
    # The CPU on the first cpu_rows rows of the same upper triangle.
    i = np.concatenate([np.full(n - 1 - r, r) for r in range(cpu_rows)])
    j = np.concatenate([np.arange(r + 1, n) for r in range(cpu_rows)])
    sub = np.stack([i, j], 1).astype(np.int64)
    ref, t_cpu = _best(lambda: core.score_pairs(v, o, sub, p))
    got = cuda.score_pairs(v, o, sub, p)
    if not np.allclose(got, ref, rtol=1e-5, atol=1e-4):
        sys.exit(f"L={length}: GPU and CPU scores of the timed work disagree")
    cpu_rate = len(sub) / t_cpu
    return {
        "L": length,
        "N": n,
        "pairs": pairs_total,
        "gpu_s": t_gpu,
        "gpu_rate": gpu_rate,
        "gcups": gpu_rate * length * length / 1e9,
        "cpu_pairs": len(sub),
        "cpu_rate": cpu_rate,
        "ratio": gpu_rate / cpu_rate,
    }


def _random_rna(rng, n, lo, hi):
    return [
        (f"s{k}", "".join(rng.choice(list("ACGU"), int(rng.integers(lo, hi + 1)))))
        for k in range(n)
    ]


def encoder_rate(rnabert, rng, n, lo, hi):
    seqs = _random_rna(rng, n, lo, hi)
    rnabert.embed(seqs[:64], device="cuda")  # warm-up: weights to the GPU, kernels chosen
    _, t = _best(lambda: rnabert.embed(seqs, device="cuda"))
    return n / t


def end_to_end(rnabert, cuda, rng, n=1500):
    seqs = _random_rna(rng, n, 60, 400)
    p = _params()
    t0 = time.perf_counter()
    emb = rnabert.embed(seqs, device="cuda")
    t1 = time.perf_counter()
    unit = np.ascontiguousarray(emb.normalized(), dtype=np.float32)
    dense = cuda.all_vs_all(unit, emb.offsets, p)
    t2 = time.perf_counter()
    if not np.isfinite(dense).all():
        sys.exit("end to end: non-finite scores")
    return {"n": n, "embed_s": t1 - t0, "align_s": t2 - t1, "pairs": n * (n - 1) // 2}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N = 1,000 per length instead of 4,473")
    ap.add_argument("--lengths", type=int, nargs="+", default=[100, 300])
    args = ap.parse_args()
    try:
        from rnabert import _cuda as cuda
    except ImportError as exc:
        sys.exit(f"rnabert._cuda is not built ({exc}); nothing to benchmark")
    if cuda.device_count() == 0:
        print(
            "no CUDA GPU is visible on this machine: the GPU benchmark needs one (nothing was "
            "timed)"
        )
        sys.exit(2)
    import rnabert
    from rnabert import _core as core

    rng = np.random.default_rng(7)
    dev = cuda.devices()[0]
    print(
        f"device: {dev['name']} (cc {dev['compute_capability']}, {dev['multiprocessors']} SMs), "
        f"CUDA runtime {cuda.runtime_version()}, driver {cuda.driver_version()}, CPU threads "
        f"{os.cpu_count()}, "
        f"VALIDATED={cuda.VALIDATED}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    check_agreement(cuda, core, rng)
    n = 1000 if args.quick else 4473  # 4473 * 4472 / 2 >= 10^7 pairs
    rows = []
    for length in args.lengths:
        cpu_rows = max(1, int(20000 * (100 / length) ** 2 // n))  # ~1-10 s of CPU work
        rows.append(all_vs_all_rates(cuda, core, rng, n, length, cpu_rows))
    enc = {L: encoder_rate(rnabert, rng, 2000, L - 20, L + 20) for L in (100, 300)}
    e2e = end_to_end(rnabert, cuda, rng)
    print()
    print("    L      N       pairs |  GPU pairs/s   GCUPS |  CPU pairs/s (subset)  GPU/CPU")
    for r in rows:
        print(
            f"{r['L']:5d} {r['N']:6d} {r['pairs']:11d} | {r['gpu_rate']:12,.0f} {r['gcups']:7.1f} "
            "| "
            f"{r['cpu_rate']:12,.0f} ({r['cpu_pairs']:7d})  {r['ratio']:6.1f}x"
        )
    print(f"encoder on GPU: {enc[100]:,.0f} seq/s at ~100 nt, {enc[300]:,.0f} seq/s at ~300 nt")
    print(
        f"end to end, {e2e['n']} sequences (60-400 nt): embed {e2e['embed_s']:.2f} s + all-vs-all "
        f"{e2e['pairs']:,} pairs {e2e['align_s']:.2f} s = {e2e['embed_s'] + e2e['align_s']:.2f} s"
    )


if __name__ == "__main__":
    main()
