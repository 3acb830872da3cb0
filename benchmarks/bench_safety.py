"""Figures for "never lose the user's data or work": peak memory of a traceback and of a
score-only all-vs-all through the CLI, time for the CLI to honour SIGINT with standard error
redirected to a file, the cost of self-pairs in an all-vs-all, and the peak memory of embedding
many sequences and one long sequence.

    python benchmarks/bench_safety.py [--n 400] [--scores-n 3000] [--many 2000] [--long 50000]
        [--skip NAME,...] [--json out.json]

Every figure runs ``rnabert`` in a fresh subprocess; RNABERT_BENCH_ROOT=DIR measures another build
(the before figures in RESULTS.md: an unpacked wheel of the commit before these changes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

# With RNABERT_BENCH_ROOT=DIR the package is imported from DIR (an unpacked wheel of another build)
# even where an editable install would redirect the import.
_ROOT = os.environ.get("RNABERT_BENCH_ROOT")
CLI = (
    [
        sys.executable,
        "-c",
        f"import sys; sys.path.insert(0, {_ROOT!r}); "
        "sys.meta_path = [f for f in sys.meta_path if 'rnabert' not in repr(f).lower()]; "
        "from rnabert.cli import main; sys.exit(main())",
    ]
    if _ROOT
    else [sys.executable, "-m", "rnabert.cli"]
)


def _peak_rss_mb(cmd, **kw) -> tuple:
    """(peak RSS in MB, seconds) of one subprocess, measured by /usr/bin/time."""
    t0 = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "PEAK_KB %M"] + cmd, capture_output=True, text=True, **kw
    )
    took = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{cmd}: {done.stderr[-2000:]}")
    kb = int(done.stderr.rsplit("PEAK_KB", 1)[1].split()[0])
    return kb / 1024, took


def _random_fasta(path, n, lo, hi, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    with open(path, "w") as fh:
        for i in range(n):
            L = int(rng.integers(lo, hi + 1))
            fh.write(f">s{i}\n{''.join(rng.choice(list('ACGU'), size=L))}\n")


def _embeddings(d, n, lo, hi):
    """An embeddings file of n random sequences (random vectors: no model run)."""
    import numpy as np

    from rnabert import Embeddings

    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=(int(rng.integers(lo, hi + 1)), 120)) for _ in range(n)]
    path = os.path.join(d, f"emb{n}_{lo}_{hi}.safetensors")
    Embeddings.from_arrays(arrays).save(path)
    return path


def traceback_memory(d, n) -> dict:
    emb = _embeddings(d, n, 80, 160)
    out = os.path.join(d, "tb.tsv")
    mb, s = _peak_rss_mb(
        CLI + ["align", "--embeddings", emb, "--traceback", "-q", "-o", out, "--device", "cpu"]
    )
    return {"pairs": n * (n - 1) // 2, "peak_rss_mb": round(mb), "seconds": round(s, 1)}


def score_only_memory(d, n, lo=20, hi=40) -> dict:
    """Peak memory of a score-only all-vs-all written as TSV (n (n - 1) / 2 rows; short sequences,
    so that the pairs, not the DP, are what costs)."""
    emb = _embeddings(d, n, lo, hi)
    out = os.path.join(d, "scores.tsv")
    mb, s = _peak_rss_mb(CLI + ["align", "--embeddings", emb, "-q", "-o", out, "--device", "cpu"])
    rows = sum(1 for _ in open(out)) - 1
    assert rows == n * (n - 1) // 2, rows  # checked before it counts
    return {
        "pairs": rows,
        "output_mb": round(os.path.getsize(out) / 2**20),
        "peak_rss_mb": round(mb),
        "seconds": round(s, 1),
    }


def many_embed_memory(d, n, lo=80, hi=120) -> dict:
    """Peak memory of `rnabert embed` of n sequences (shipped weights) into safetensors."""
    fa = os.path.join(d, f"many{n}.fa")
    _random_fasta(fa, n, lo, hi, seed=3)
    out = os.path.join(d, f"many{n}.safetensors")
    mb, s = _peak_rss_mb(CLI + ["embed", fa, "-o", out, "--no-progress", "--device", "cpu"])
    from rnabert import Embeddings

    emb = Embeddings.load(out)  # checked before it counts
    assert len(emb) == n and emb.values.shape[1] == 120
    return {
        "sequences": n,
        "bases": emb.total_len,
        "output_mb": round(os.path.getsize(out) / 2**20),
        "peak_rss_mb": round(mb),
        "seconds": round(s, 1),
    }


def sigint_delay(d, n=1200, after=5.0) -> dict:
    emb = _embeddings(d, n, 150, 250)
    out = os.path.join(d, "int.tsv")
    with open(os.path.join(d, "stderr.log"), "w") as log:
        proc = subprocess.Popen(
            CLI + ["align", "--embeddings", emb, "--traceback", "-o", out, "--device", "cpu"],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        time.sleep(after)
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        try:
            rc = proc.wait(timeout=600)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = None
        took = time.perf_counter() - t0
    return {"sigint_after_s": after, "exit_after_s": round(took, 2), "rc": rc}


def self_pair_cost(d, long=40_000, short=500) -> dict:
    import numpy as np

    from rnabert import Embeddings

    rng = np.random.default_rng(2)
    emb = Embeddings.from_arrays([rng.normal(size=(long, 120)), rng.normal(size=(short, 120))])
    path = os.path.join(d, "two.safetensors")
    emb.save(path)
    t0 = time.perf_counter()
    subprocess.run(
        CLI + ["align", "--embeddings", path, "-q", "--device", "cpu"],
        check=True,
        capture_output=True,
    )
    return {"lengths": [long, short], "cli_seconds": round(time.perf_counter() - t0, 2)}


def long_embed_memory(d, length) -> dict:
    fa = os.path.join(d, "long.fa")
    _random_fasta(fa, 1, length, length)
    out = os.path.join(d, "long.safetensors")
    mb, s = _peak_rss_mb(CLI + ["embed", fa, "-o", out, "--no-progress", "--device", "cpu"])
    return {"length": length, "peak_rss_mb": round(mb), "seconds": round(s, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400, help="sequences in the traceback all-vs-all")
    ap.add_argument(
        "--scores-n", type=int, default=3000, help="sequences in the score-only all-vs-all"
    )
    ap.add_argument("--many", type=int, default=2000, help="sequences of 80-120 nt to embed")
    ap.add_argument("--long", type=int, default=50_000, help="length of the long sequence")
    ap.add_argument("--skip", default="", help="comma-separated figures to skip")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    res = {"root": _ROOT or "installed", "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory() as d:
        for name, fn in (
            ("traceback_all_vs_all", lambda: traceback_memory(d, args.n)),
            ("score_only_all_vs_all", lambda: score_only_memory(d, args.scores_n)),
            ("many_embed", lambda: many_embed_memory(d, args.many)),
            ("sigint", lambda: sigint_delay(d)),
            ("self_pairs", lambda: self_pair_cost(d)),
            ("long_embed", lambda: long_embed_memory(d, args.long)),
        ):
            if name in skip:
                continue
            res[name] = fn()
            print(name, res[name], flush=True)
    res["baseline_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
