"""Throughput of the CPU alignment engine beside the ways it replaces, as a table: the engine part
of `rnabert bench` (``rnabert.evaluate.throughput.run_bench``) at fixed sizes.

All-vs-all of N random unit-vector embeddings (RNABERT's width, 120) at lengths 100, 200 and 440:
score-only global (pairs/s, GCUPS), traceback, soft score; ratios against torch merely computing the
same cosine matrices (batched matmul, no DP) and against the original's per-pair path (a torch
similarity matrix per pair into a C++ DP); on CPUs with AVX512_BF16 the opt-in bf16 path
(RNABERT_PRECISION=bf16): its rate and the largest and mean |score difference| from the exact
scores. Every path is checked against its reference before it is timed (run_bench).

    python benchmarks/bench_align_cpu.py            # N=1000 @100, 400 @200, 150 @440
    python benchmarks/bench_align_cpu.py --quick    # N=200 @100, 100 @200, 40 @440
    rnabert bench --only engine --lengths 100 --n 1000   # the same figures, one length
"""

from __future__ import annotations

import argparse

from rnabert.evaluate.throughput import run_bench


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="smaller N (about a minute)")
    ap.add_argument("--threads", type=int, default=0, help="engine threads (0: all cores)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--repeats", type=int, default=2, help="time each path this often, keep the best"
    )
    args = ap.parse_args(argv)
    sizes = {100: 200, 200: 100, 440: 40} if args.quick else {100: 1000, 200: 400, 440: 150}
    report = run_bench(
        list(sizes),
        n=sizes,
        parts=("engine",),
        threads=args.threads or None,
        repeats=max(1, args.repeats),
        seed=args.seed,
        log=lambda line: print("#", line, flush=True),
    )
    print(
        "| L | N | pairs | score pairs/s | GCUPS | traceback pairs/s | soft pairs/s | "
        "vs torch cosine only | vs per-pair | bf16 pairs/s (max / mean score diff) |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    for length, row in report["lengths"].items():
        e = row["engine"]
        r = e["pairs_per_s"]
        b = e["bf16"]
        bf16 = (
            "n/a"
            if not b
            else f"{b['pairs_per_s']:,.0f} ({b['max_abs_diff']:.3f} / {b['mean_abs_diff']:.4f})"
        )
        print(
            f"| {length} | {e['n']} | {e['pairs']:,} | {r['score']:,.0f} | "
            f"{e['gcups']['score']:.2f} | {r['traceback']:,.0f} | {r['soft']:,.0f} | "
            f"{e['score_vs_torch_cosine']:.1f}× | {e['score_vs_per_pair']:.1f}× | {bf16} |"
        )
    return report


if __name__ == "__main__":
    main()
