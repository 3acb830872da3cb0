"""Throughput of the encoder and the engine on synthetic data, each beside a reference path measured
in the same run, agreement checked before anything is timed (``rnabert bench``).

Per length L:
- encoder: sequences/s of ``rnabert.embed`` (length-bucketed batches, one per core) against the
  model's plain forward pass in batches of 64 (what a user would write); outputs must agree to 1e-4;
- engine, all-vs-all of random unit vectors: score-only (pairs/s and GCUPS = cells of the DP per
  second), traceback, soft score and homology bits (``align_many(score="bits")``, head vectors
  included), against two references: torch's batched cosine matmul (the similarity alone, no DP)
  and the per-pair path (a torch similarity matrix per pair handed to the C++ DP), whose scores
  must match the engine's.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Dict, Iterable, Optional

import numpy as np


def _best(fn, repeats: int):
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def machine(threads: int, device: str) -> dict:
    import torch

    from .. import __version__, backends

    info = backends()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "host": platform.node(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "threads": threads,
        "simd": info["cpu"]["simd_level"],
        "device": device,
        "cuda_devices": info.get("cuda", {}).get("devices") if device != "cpu" else None,
        "rnabert": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _random_seqs(rng, n: int, length: int):
    return ["".join(rng.choice(list("ACGU"), length)) for _ in range(n)]


def bench_encoder(model, length: int, n: int, repeats: int, device: str, rng) -> dict:
    import torch

    from .. import embed, tokenize

    seqs = _random_seqs(rng, n, length)
    ids = torch.from_numpy(np.stack([tokenize(s) for s in seqs])).to(model.device)

    def reference():
        with torch.inference_mode():
            return torch.cat([model(ids[i : i + 64]).float() for i in range(0, n, 64)]).cpu()

    def ours():
        return embed(seqs, model=model, device=device, progress=False)

    ours()  # warm-up: allocations and kernel choice stay out of the numbers
    t_ours, emb = _best(ours, repeats)
    t_ref, ref = _best(reference, repeats)
    diff = float(np.abs(emb.values - ref.reshape(-1, ref.shape[-1]).numpy()).max())
    if diff > 1e-4:
        raise RuntimeError(f"encoder outputs disagree with the plain forward pass by {diff:.2e}")
    return {
        "n": n,
        "seq_per_s": n / t_ours,
        "reference_seq_per_s": n / t_ref,
        "speedup": t_ref / t_ours,
        "max_abs_diff": diff,
    }


def _per_pair(unit, offsets, pairs, params, scale_bias=True):
    """The reference path: a torch similarity matrix per pair, then the C++ DP on it."""
    import torch

    from ..alignment.engine import align_score_matrices

    x = torch.from_numpy(unit)
    out = np.empty(len(pairs), np.float32)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one small matmul per pair: more threads only add barrier waits
    try:
        t = time.perf_counter()
        with torch.no_grad():
            for k, (i, j) in enumerate(pairs):
                a = x[offsets[i] : offsets[i + 1]]
                b = x[offsets[j] : offsets[j + 1]]
                S = (a @ b.T).numpy()
                if scale_bias:
                    S = params.scale * S + params.bias
                out[k] = align_score_matrices([S], params, threads=1)[0][0]
        rate = len(pairs) / (time.perf_counter() - t)
    finally:
        torch.set_num_threads(threads)
    return rate, out


def _torch_cosine_rate(unit, n, length, max_pairs, threads) -> float:
    import torch

    torch.set_num_threads(threads)
    x = torch.from_numpy(unit.reshape(n, length, -1))
    done, t0 = 0, time.perf_counter()
    with torch.no_grad():
        for i in range(n):
            for c in range(0, n, 128):
                done += torch.matmul(x[i], x[c : c + 128].transpose(1, 2)).shape[0]
            if done >= max_pairs:
                break
    return done / (time.perf_counter() - t0)


def _soft_reference(a: np.ndarray, b: np.ndarray, soft_scale: float) -> float:
    s = soft_scale * (a @ b.T).astype(np.float64)
    ea = np.exp(s - s.max(1, keepdims=True))
    pa = ea / ea.sum(1, keepdims=True)
    eb = np.exp(s - s.max(0, keepdims=True))
    pb = eb / eb.sum(0, keepdims=True)
    c = pa + pb - pa * pb
    return float((c * s).sum() / c.sum())


def bench_engine(length: int, n: int, repeats: int, threads: int, device: str, rng) -> dict:
    from ..alignment.api import align_many
    from ..alignment.engine import align_pairs, all_vs_all, score_pairs
    from ..alignment.heads import load_homology_head
    from ..alignment.params import AlignParams
    from ..embeddings import Embeddings

    seqs = _random_seqs(rng, n, length)
    emb = Embeddings.from_arrays(
        [rng.standard_normal((length, 120)).astype(np.float32) for _ in range(n)],
        [f"s{k}" for k in range(n)],
        seqs,
    )
    unit, offsets = emb.normalized(), emb.offsets
    params = AlignParams()
    head = load_homology_head()
    m = n * (n - 1) // 2
    iu = np.triu_indices(n, 1)
    all_pairs = np.stack(iu, axis=1).astype(np.int64)
    check = all_pairs[rng.choice(m, size=min(m, 100), replace=False)]
    kw = dict(threads=threads, device=device)

    # agreement first: every timed path against its reference on the same pairs
    pp_rate, pp = _per_pair(unit, offsets, check, params, scale_bias=False)
    got = score_pairs(emb, check, params, **kw)
    np.testing.assert_allclose(got, pp, rtol=1e-5, atol=2e-4, err_msg="score-only vs per-pair")
    np.testing.assert_allclose(
        align_pairs(emb, check, params, **kw)[0], got, rtol=1e-6, atol=1e-5, err_msg="traceback"
    )
    vec = head.vectors(emb)
    _, pp_local = _per_pair(vec.values, offsets, check, head.params)
    hb = align_many(emb, check, score="bits", head=head, progress=False, threads=threads)
    np.testing.assert_allclose(
        hb.score, head.null.bits(pp_local), rtol=1e-4, atol=2e-3, err_msg="bits vs per-pair"
    )
    soft = all_vs_all(emb.subset(range(min(n, 8))), params, score="soft", **kw)
    want = _soft_reference(unit[offsets[0] : offsets[1]], unit[offsets[1] : offsets[2]], 1.3)
    np.testing.assert_allclose(soft[0, 1], want, rtol=1e-4, atol=1e-4, err_msg="soft")

    t_score, _ = _best(lambda: all_vs_all(emb, params, **kw), repeats)
    sub = all_pairs[rng.choice(m, size=min(m, 20_000), replace=False)]
    t_trace, _ = _best(lambda: align_pairs(emb, sub, params, **kw), repeats)
    t_soft, _ = _best(lambda: all_vs_all(emb, params, score="soft", **kw), repeats)
    t_bits, _ = _best(
        lambda: align_many(emb, score="bits", head=head, progress=False, threads=threads),
        repeats,
    )
    more = all_pairs[: min(500, max(50, m // 20))]  # the per-pair path is slow: a sample
    pp_rate = max(pp_rate, _per_pair(unit, offsets, more, params, False)[0])
    torch_rate = _torch_cosine_rate(unit, n, length, min(m, 30_000), threads)
    cells = float(length) * length
    rates = {
        "score": m / t_score,
        "traceback": len(sub) / t_trace,
        "soft": m / t_soft,
        "bits": m / t_bits,
    }
    return {
        "n": n,
        "pairs": m,
        "pairs_per_s": rates,
        "gcups": {k: v * cells / 1e9 for k, v in rates.items()},
        "reference_torch_cosine_pairs_per_s": torch_rate,
        "reference_per_pair_pairs_per_s": pp_rate,
        "score_vs_torch_cosine": rates["score"] / torch_rate,
        "score_vs_per_pair": rates["score"] / pp_rate,
        "bits_vs_score": rates["bits"] / rates["score"],
    }


def run_bench(
    lengths: Iterable[int] = (100, 200, 440),
    *,
    device: str = "cpu",
    threads: Optional[int] = None,
    seconds: float = 1.0,
    encoder_n: int = 64,
    repeats: int = 2,
    model=None,
    seed: int = 0,
    log=print,
) -> Dict:
    """Measure everything for each length; returns {"machine": ..., "lengths": {L: {...}}}.

    ``seconds`` sizes each all-vs-all (about that long at 1 GCUPS); ``repeats``: best of."""
    from ..model.checkpoint import load_model

    threads = threads or os.cpu_count() or 1
    rng = np.random.default_rng(seed)
    model = load_model(device=device) if model is None else model
    report = {"machine": machine(threads, device), "lengths": {}}
    log(
        "rnabert bench: {cpu}, {cores} cores, {threads} threads, SIMD {simd}, device {device}; "
        "rnabert {rnabert}, torch {torch}".format(**report["machine"])
    )
    for length in lengths:
        n = int(max(8, min(2000, np.sqrt(2 * seconds * 1e9 / (length * length)))))
        enc = bench_encoder(model, length, encoder_n, repeats, device, rng)
        eng = bench_engine(length, n, repeats, threads, device, rng)
        report["lengths"][int(length)] = {"encoder": enc, "engine": eng}
        log(format_length(length, enc, eng))
    return report


def format_length(length: int, enc: dict, eng: dict) -> str:
    r, g = eng["pairs_per_s"], eng["gcups"]
    return (
        f"L={length}: encoder {enc['seq_per_s']:,.0f} seq/s (plain forward "
        f"{enc['reference_seq_per_s']:,.0f}, x{enc['speedup']:.2f}); engine, {eng['n']} seqs: "
        f"score {r['score']:,.0f} pairs/s ({g['score']:.2f} GCUPS), traceback "
        f"{r['traceback']:,.0f}, soft {r['soft']:,.0f}, bits {r['bits']:,.0f} "
        f"({eng['bits_vs_score']:.2f} of score); references: torch cosine matmul "
        f"{eng['reference_torch_cosine_pairs_per_s']:,.0f} pairs/s "
        f"(score x{eng['score_vs_torch_cosine']:.1f}), per-pair "
        f"{eng['reference_per_pair_pairs_per_s']:,.0f} (score x{eng['score_vs_per_pair']:.1f})"
    )
