"""Throughput of the encoder and the engine on synthetic data, each beside a reference path measured
in the same run, agreement checked before anything is timed (``rnabert bench``).

Per length L:
- encoder: sequences/s of ``rnabert.embed`` (length-bucketed batches, one per core) against the
  model's plain forward pass in batches of 64 (what a user would write); outputs must agree to 1e-4;
- engine, all-vs-all of random unit vectors: score-only global (pairs/s and GCUPS = cells of the
  DP per second), score-only local (the cosine in the homology head's mode), traceback, soft score
  and homology bits (``align_many(score="bits")``, head vectors included), against two references:
  torch's batched cosine matmul (the similarity alone, no DP) and the per-pair path (a torch
  similarity matrix per pair handed to the C++ DP), whose scores must match the engine's; on CPUs
  with AVX512_BF16 also the opt-in bf16 similarity (rate, and how far its scores move).

The scripts ``benchmarks/bench_align_cpu.py``, ``bench_encoder.py`` and ``bench_bits.py`` call
:func:`run_bench` and print its figures as tables.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Dict, Iterable, Optional, Sequence, Union

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


def bench_encoder(
    model, length: int, n: int, repeats: int, device: str, rng, extra_reference=None
) -> dict:
    """``extra_reference``: optional (name, forward) with forward(model, ids) → (b, L, dim) tensor,
    another peer timed the same way in batches of 64 (e.g. an eager re-implementation of the
    original) after its outputs are checked."""
    import torch

    from .. import embed, tokenize

    seqs = _random_seqs(rng, n, length)
    ids = torch.from_numpy(np.stack([tokenize(s) for s in seqs])).to(model.device)

    def batches(forward):
        def run():
            with torch.inference_mode():
                return torch.cat([forward(ids[i : i + 64]).float() for i in range(0, n, 64)]).cpu()

        return run

    def ours():
        return embed(seqs, model=model, device=device, progress=False)

    ours()  # warm-up: allocations and kernel choice stay out of the numbers
    t_ours, emb = _best(ours, repeats)
    peers = [("plain forward pass", model)]
    if extra_reference is not None:
        peers.append((extra_reference[0], lambda x: extra_reference[1](model, x)))
    out = {"n": n, "seq_per_s": n / t_ours}
    for k, (name, forward) in enumerate(peers):
        batches(forward)()  # warm-up, as ours
        t_ref, ref = _best(batches(forward), repeats)
        diff = float(np.abs(emb.values - ref.reshape(-1, ref.shape[-1]).numpy()).max())
        if diff > 1e-4:
            raise RuntimeError(f"encoder outputs disagree with the {name} by {diff:.2e}")
        key = "reference" if k == 0 else "extra_reference"
        out[f"{key}_seq_per_s"] = n / t_ref
        out["speedup" if k == 0 else "extra_speedup"] = t_ref / t_ours
        out["max_abs_diff" if k == 0 else "extra_max_abs_diff"] = diff
        if k:
            out["extra_reference"] = name
    return out


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
    local = AlignParams(mode="local", bias=-1.0)  # the cosine in the homology head's mode
    _, pp_loc = _per_pair(unit, offsets, check, local)
    got_loc = score_pairs(emb, check, local, **kw)
    np.testing.assert_allclose(got_loc, pp_loc, rtol=1e-5, atol=2e-4, err_msg="local vs per-pair")
    soft = all_vs_all(emb.subset(range(min(n, 8))), params, score="soft", **kw)
    want = _soft_reference(unit[offsets[0] : offsets[1]], unit[offsets[1] : offsets[2]], 1.3)
    np.testing.assert_allclose(soft[0, 1], want, rtol=1e-4, atol=1e-4, err_msg="soft")
    agreement = {
        "score_vs_per_pair": float(np.abs(got - pp).max()),
        "local_vs_per_pair": float(np.abs(got_loc - pp_loc).max()),
        "bits_vs_per_pair": float(np.abs(hb.score - head.null.bits(pp_local)).max()),
        "soft_vs_numpy": float(abs(soft[0, 1] - want)),
        "pairs_checked": int(len(check)),
    }

    t_score, dense = _best(lambda: all_vs_all(emb, params, **kw), repeats)
    t_local, _ = _best(lambda: all_vs_all(emb, local, **kw), repeats)
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
        "local": m / t_local,
        "traceback": len(sub) / t_trace,
        "soft": m / t_soft,
        "bits": m / t_bits,
    }
    return {
        "n": n,
        "pairs": m,
        "agreement": agreement,
        "pairs_per_s": rates,
        "gcups": {k: v * cells / 1e9 for k, v in rates.items()},
        "reference_torch_cosine_pairs_per_s": torch_rate,
        "reference_per_pair_pairs_per_s": pp_rate,
        "score_vs_torch_cosine": rates["score"] / torch_rate,
        "score_vs_per_pair": rates["score"] / pp_rate,
        "bits_vs_score": rates["bits"] / rates["score"],
        "bits_vs_local": rates["bits"] / rates["local"],
        "bf16": _bf16(emb, params, dense, repeats, kw) if device == "cpu" else None,
    }


def _bf16(emb, params, dense: np.ndarray, repeats: int, kw: dict) -> Optional[dict]:
    """The opt-in bf16 similarity (``RNABERT_PRECISION=bf16``) where the CPU has AVX512_BF16:
    its score-only rate and how far its scores move from the exact ones; None elsewhere."""
    from .. import backends
    from ..alignment.engine import all_vs_all

    cpu = backends()["cpu"]
    if not (cpu["features"].get("avx512_bf16") and cpu["simd_level"] == "avx512"):
        return None
    old = os.environ.get("RNABERT_PRECISION")
    os.environ["RNABERT_PRECISION"] = "bf16"
    try:
        t, approx = _best(lambda: all_vs_all(emb, params, **kw), repeats)
    finally:
        if old is None:
            del os.environ["RNABERT_PRECISION"]
        else:
            os.environ["RNABERT_PRECISION"] = old
    iu = np.triu_indices(len(emb), 1)
    d = np.abs(approx - dense)[iu]
    return {
        "pairs_per_s": len(iu[0]) / t,
        "max_abs_diff": float(d.max()),
        "mean_abs_diff": float(d.mean()),
    }


PARTS = ("encoder", "engine")


def run_bench(
    lengths: Iterable[int] = (100, 200, 440),
    *,
    device: str = "cpu",
    threads: Optional[int] = None,
    seconds: float = 1.0,
    n: Union[None, int, Dict[int, int]] = None,
    encoder_n: int = 64,
    repeats: int = 2,
    parts: Sequence[str] = PARTS,
    model=None,
    encoder_reference=None,
    seed: int = 0,
    log=print,
) -> Dict:
    """Measure ``parts`` for each length; returns {"machine": ..., "lengths": {L: {"encoder":
    ..., "engine": ...}}} (a part not measured is absent).

    ``seconds`` sizes each all-vs-all (about that long at 1 GCUPS) unless ``n`` gives its
    sequences (one number, or one per length); ``repeats``: best of; ``encoder_reference``: an
    extra encoder peer (name, forward(model, ids)), see :func:`bench_encoder`."""
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise ValueError(f"parts must be among {', '.join(PARTS)}, got {list(parts)}")
    threads = threads or os.cpu_count() or 1
    rng = np.random.default_rng(seed)
    if "encoder" in parts and model is None:
        from ..model.checkpoint import load_model

        model = load_model(device=device)
    report = {"machine": machine(threads, device), "lengths": {}}
    log(
        "rnabert bench: {cpu}, {cores} cores, {threads} threads, SIMD {simd}, device {device}; "
        "rnabert {rnabert}, torch {torch}, numpy {numpy}, Python {python}; every path is "
        "checked against its reference before it is timed".format(**report["machine"])
    )
    for length in lengths:
        size = n.get(length) if isinstance(n, dict) else n
        size = size or int(max(8, min(2000, np.sqrt(2 * seconds * 1e9 / (length * length)))))
        row = {}
        if "encoder" in parts:
            row["encoder"] = bench_encoder(
                model, length, encoder_n, repeats, device, rng, encoder_reference
            )
        if "engine" in parts:
            row["engine"] = bench_engine(length, int(size), repeats, threads, device, rng)
        report["lengths"][int(length)] = row
        log(format_length(length, row.get("encoder"), row.get("engine")))
    return report


def format_length(length: int, enc: Optional[dict], eng: Optional[dict]) -> str:
    out = [f"L={length}:"]
    if enc is not None:
        text = (
            f"encoder {enc['seq_per_s']:,.0f} seq/s (plain forward "
            f"{enc['reference_seq_per_s']:,.0f}, x{enc['speedup']:.2f}"
        )
        if "extra_reference" in enc:
            text += (
                f"; {enc['extra_reference']} {enc['extra_reference_seq_per_s']:,.0f}, "
                f"x{enc['extra_speedup']:.2f}"
            )
        out.append(text + f"; outputs agree to {enc['max_abs_diff']:.1e})" + (";" if eng else ""))
    if eng is not None:
        r, g, a = eng["pairs_per_s"], eng["gcups"], eng["agreement"]
        text = (
            f"engine, {eng['n']} seqs: score {r['score']:,.0f} pairs/s ({g['score']:.2f} GCUPS), "
            f"local {r['local']:,.0f}, traceback {r['traceback']:,.0f}, soft {r['soft']:,.0f}, "
            f"bits {r['bits']:,.0f} ({eng['bits_vs_score']:.2f} of score, "
            f"{eng['bits_vs_local']:.2f} of local); references: torch cosine matmul "
            f"{eng['reference_torch_cosine_pairs_per_s']:,.0f} pairs/s "
            f"(score x{eng['score_vs_torch_cosine']:.1f}), per-pair "
            f"{eng['reference_per_pair_pairs_per_s']:,.0f} (score x{eng['score_vs_per_pair']:.1f})"
        )
        if eng.get("bf16"):
            b = eng["bf16"]
            text += (
                f"; bf16 {b['pairs_per_s']:,.0f} pairs/s (scores move by at most "
                f"{b['max_abs_diff']:.4f}, mean {b['mean_abs_diff']:.5f})"
            )
        text += (
            f"; checked on {a['pairs_checked']} pairs: |score - per-pair| <= "
            f"{a['score_vs_per_pair']:.1e}, bits {a['bits_vs_per_pair']:.1e}"
        )
        out.append(text)
    return " ".join(out)
