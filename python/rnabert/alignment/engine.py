"""The alignment engine's Python face: arrays in, arrays out, one call into C++ (or CUDA) per batch.

Every function takes an :class:`~rnabert.embeddings.Embeddings` block (unit-normalised once, here,
through ``Embeddings.normalized()``), validates its arguments cheaply (ValueError naming the argument),
and hands pointers to the compiled engine, which releases the GIL and runs on all cores. ``_backend`` is
the one place that chooses between the CPU and the CUDA engine.

Experimental, opt-in: ``RNABERT_PRECISION=bf16`` (environment, read at every call) computes the cosines
from bf16-rounded vectors on CPUs with AVX512_BF16 (about 1.5x faster; alignment scores move by ~1e-3
per aligned base, see benchmarks/NOTES_cpu_engine.md). The default, "fp32", is exact.
"""

from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..embeddings import Embeddings, join_ragged
from .params import AlignParams

_PRECISION_ENV = "RNABERT_PRECISION"
_ENGINE_FUNCTIONS = ("score_pairs", "align_pairs", "soft_align_scores", "all_vs_all", "align_score_matrices")
_PROGRESS_CHUNK = 8192  # pairs per C++ call when a progress bar is shown (~0.1-1 s of work each)


def engine_device(device: str = "cpu") -> str:
    """The one place that chooses between the CPU and CUDA engines: returns "cpu" or "cuda".

    "cpu"; "cuda" (a RuntimeError says why it is unusable); or "auto": the CUDA engine when a GPU is
    usable, the module implements the alignment functions and its kernels are marked validated
    (``_cuda.VALIDATED``) — or RNABERT_BACKEND=cuda forces it — else the CPU engine.
    """
    from ..backends import _FORCE_ENV, cuda_module, default_device

    if device == "auto":
        if default_device() != "cuda":
            return "cpu"
        try:
            mod = _cuda_engine(cuda_module())
        except RuntimeError:
            return "cpu"
        forced = os.environ.get(_FORCE_ENV) == "cuda"
        return "cuda" if forced or getattr(mod, "VALIDATED", False) else "cpu"
    if device == "cpu":
        return "cpu"
    if device == "cuda":
        _cuda_engine(cuda_module())
        return "cuda"
    raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', got {device!r}")


def _cuda_engine(mod):
    missing = [f for f in _ENGINE_FUNCTIONS if not hasattr(mod, f)]
    if missing:
        raise RuntimeError("device='cuda': this build's CUDA engine does not implement the alignment "
                           f"functions yet ({', '.join(missing)}); use device='cpu'")
    return mod


def _backend(device: str = "cpu"):
    """The compiled engine module for ``device`` (see `engine_device`)."""
    from ..backends import cpu_module, cuda_module

    return cuda_module() if engine_device(device) == "cuda" else cpu_module()


def _engine_params(p: AlignParams) -> dict:
    d = p.as_dict()
    precision = os.environ.get(_PRECISION_ENV, "fp32")
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"{_PRECISION_ENV} must be 'fp32' or 'bf16', got {precision!r}")
    d["precision"] = precision
    return d


def _threads(threads) -> int:
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 0:
        raise ValueError(f"threads must be None or an integer >= 0, got {threads!r}")
    return int(threads)


def _params(params) -> AlignParams:
    if not isinstance(params, AlignParams):
        raise ValueError(f"params must be an AlignParams, got {type(params).__name__}")
    return params


def _unit_block(emb, name: str) -> Tuple[np.ndarray, np.ndarray]:
    if not isinstance(emb, Embeddings):
        raise ValueError(f"{name} must be an rnabert Embeddings block, got {type(emb).__name__}")
    unit = emb.normalized()
    if not np.isfinite(unit).all():
        bad = int(np.argmax(~np.isfinite(unit).all(axis=1)))
        raise ValueError(f"{name} contains NaN or inf (row {bad})")
    return unit, emb.offsets


def _pairs(pairs, n_query: int, n_target: int) -> np.ndarray:
    arr = np.asarray(pairs)
    if arr.size == 0 and (arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] in (0, 2))):
        return np.empty((0, 2), dtype=np.int64)  # an empty list of pairs, whatever numpy made of it
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"pairs must have shape (m, 2), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"pairs must be integers, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr.size:
        if arr[:, 0].min() < 0 or arr[:, 0].max() >= n_query:
            raise ValueError(f"pairs: query index out of range [0, {n_query})")
        if arr[:, 1].min() < 0 or arr[:, 1].max() >= n_target:
            raise ValueError(f"pairs: target index out of range [0, {n_target})")
    return arr


def _prepare(emb, pairs, params, targets, threads, device):
    mod = _backend(device)
    p = _params(params)
    values, offsets = _unit_block(emb, "emb")
    if targets is not None:
        tvalues, toffsets = _unit_block(targets, "targets")
        if tvalues.shape[1] != values.shape[1]:
            raise ValueError(f"targets has embedding width {tvalues.shape[1]}, emb has {values.shape[1]}")
        n_t = len(targets)
    else:
        tvalues, toffsets, n_t = None, None, len(emb)
    arr = _pairs(pairs, len(emb), n_t)
    return mod, p, values, offsets, tvalues, toffsets, arr, _threads(threads)


def _chunks(m: int, progress: bool, desc: str):
    """Slices of the pair list: all at once, or (with a progress bar) chunks big enough that the
    per-call overhead is negligible, the bar counting pairs/s."""
    if not progress:
        yield slice(0, m)
        return
    from tqdm.auto import tqdm

    with tqdm(total=m, desc=desc, unit="pairs", unit_scale=True) as bar:
        for s in range(0, max(m, 1), _PROGRESS_CHUNK):
            e = min(m, s + _PROGRESS_CHUNK)
            yield slice(s, e)
            bar.update(e - s)


def score_pairs(emb: Embeddings, pairs, params: AlignParams = AlignParams(), *, targets: Optional[Embeddings] = None,
                threads=None, device: str = "cpu", progress: bool = False) -> np.ndarray:
    """Alignment scores (no traceback) of pairs of sequences.

    Parameters
    ----------
    emb : Embeddings
        The query sequences (and the targets when ``targets`` is None).
    pairs : int array, shape (m, 2)
        Row k scores sequence ``pairs[k, 0]`` of ``emb`` against ``pairs[k, 1]`` of ``targets`` (or ``emb``).
    params : AlignParams
    targets : Embeddings, optional
    threads : int, optional
        CPU threads (None or 0: all cores).
    device : {"cpu", "cuda"}
    progress : bool
        Show a tqdm bar (pairs/s).

    Returns
    -------
    float32 array, shape (m,)
    """
    mod, p, v, o, tv, to, arr, th = _prepare(emb, pairs, params, targets, threads, device)
    out = np.empty(len(arr), dtype=np.float32)
    for sl in _chunks(len(arr), progress, "align (score)"):
        out[sl] = mod.score_pairs(v, o, arr[sl], _engine_params(p), tv, to, threads=th)
    return out


def soft_align_scores(emb: Embeddings, pairs, params: AlignParams = AlignParams(), *,
                      targets: Optional[Embeddings] = None, threads=None, device: str = "cpu",
                      progress: bool = False) -> np.ndarray:
    """The original's soft-alignment similarity of pairs: float32 array, shape (m,).

    s = soft_scale * cos; a = softmax of s over each row, b = over each column; c = a + b - a*b;
    score = sum(c * s) / sum(c). Arguments as :func:`score_pairs`.
    """
    mod, p, v, o, tv, to, arr, th = _prepare(emb, pairs, params, targets, threads, device)
    out = np.empty(len(arr), dtype=np.float32)
    for sl in _chunks(len(arr), progress, "soft score"):
        out[sl] = mod.soft_align_scores(v, o, arr[sl], _engine_params(p), tv, to, threads=th)
    return out


def align_pairs(emb: Embeddings, pairs, params: AlignParams = AlignParams(), *, targets: Optional[Embeddings] = None,
                threads=None, device: str = "cpu",
                progress: bool = False) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Alignments (with traceback) of pairs of sequences.

    Returns
    -------
    scores : float32 array, shape (m,)
    path_offsets : int64 array, shape (m + 1,)
    path : int32 array, shape (K, 2)
        The aligned 0-based (i, j) of pair p are ``path[path_offsets[p]:path_offsets[p + 1]]``, increasing.
    """
    mod, p, v, o, tv, to, arr, th = _prepare(emb, pairs, params, targets, threads, device)
    parts = []
    for sl in _chunks(len(arr), progress, "align"):
        parts.append(mod.align_pairs(v, o, arr[sl], _engine_params(p), tv, to, threads=th))
    if not parts:
        return np.empty(0, np.float32), np.zeros(1, np.int64), np.empty((0, 2), np.int32)
    return join_paths(parts)


def join_paths(parts):
    """Join (scores, path_offsets, path) results of consecutive pair chunks into one."""
    if len(parts) == 1:
        return parts[0]
    path, offsets = join_ragged([pa for _, _, pa in parts], [offs for _, offs, _ in parts])
    return np.concatenate([s for s, _, _ in parts]), offsets, path


def all_vs_all(emb: Embeddings, params: AlignParams = AlignParams(), *, targets: Optional[Embeddings] = None,
               score: str = "dp", output: str = "dense", top_k: Optional[int] = None,
               min_score: Optional[float] = None, threads=None, device: str = "cpu", progress: bool = False):
    """Scores of every pair of one set (i < j), or of every query against every target, streamed in tiles.

    Parameters
    ----------
    emb : Embeddings
        n sequences.
    targets : Embeddings, optional
        n_t sequences; None scores all pairs i < j of ``emb``.
    score : {"dp", "soft"}
        Alignment score (``params.mode``) or the soft-alignment similarity.
    output : {"dense", "topk", "threshold"}
        ``"dense"``: float32 array, shape (n, n_t). Without targets it is symmetric and its diagonal holds
        each sequence's score against itself (computed, not NaN).
        ``"topk"``: arrays (i int64, j int64, score float32): the ``top_k`` best partners of each query,
        self excluded, best first (ties: smaller j first).
        ``"threshold"``: arrays (i, j, score) of every pair with score >= ``min_score`` (i < j without
        targets), sorted by (i, j).
        Top-k and threshold keep only one tile of scores in memory (plus k entries per query).
    """
    mod = _backend(device)
    p = _params(params)
    values, offsets = _unit_block(emb, "emb")
    tv = to = None
    if targets is not None:
        tv, to = _unit_block(targets, "targets")
        if tv.shape[1] != values.shape[1]:
            raise ValueError(f"targets has embedding width {tv.shape[1]}, emb has {values.shape[1]}")
    if score not in ("dp", "soft"):
        raise ValueError(f"score must be 'dp' or 'soft', got {score!r}")
    if output not in ("dense", "topk", "threshold"):
        raise ValueError(f"output must be 'dense', 'topk' or 'threshold', got {output!r}")
    k = 0
    if output == "topk":
        if top_k is None or isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
            raise ValueError(f"top_k must be an integer >= 1 for output='topk', got {top_k!r}")
        k = int(top_k)
    ms = 0.0
    if output == "threshold":
        if min_score is None or not np.isfinite(float(min_score)):
            raise ValueError(f"min_score must be a finite number for output='threshold', got {min_score!r}")
        ms = float(min_score)
    bar = None
    callback = None
    if progress:
        from tqdm.auto import tqdm

        n = len(emb)
        total = n * (n - 1) // 2 + (n if output == "dense" else 0) if targets is None else n * len(targets)
        bar = tqdm(total=total, desc=f"all-vs-all ({score})", unit="pairs", unit_scale=True)

        def callback(done, _total):
            bar.update(done - bar.n)
    try:
        return mod.all_vs_all(values, offsets, _engine_params(p), tv, to, score=score, output=output, top_k=k,
                              min_score=ms, threads=_threads(threads), progress=callback)
    finally:
        if bar is not None:
            bar.close()


def align_score_matrices(matrices: Sequence[np.ndarray], params: AlignParams = AlignParams(), *,
                         reference: Optional[Sequence[np.ndarray]] = None, fp_margin: float = 0.0,
                         fn_margin: float = 0.0, traceback: bool = True,
                         threads=None) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Align explicit score matrices (match scores used as-is: ``params.scale``/``bias`` are ignored).

    Parameters
    ----------
    matrices : list of 2-D float arrays, shapes (L1_p, L2_p)
    reference : list of int arrays, shapes (k_p, 2), optional
        Reference aligned pairs per matrix, for margins (an entry may be None).
    fp_margin, fn_margin : float
        Loss-augmented inference: the engine maximises score(A) + fp * #(aligned pairs not in the
        reference) + fn * #(reference pairs not aligned), exactly (see csrc/dp.cpp for the decomposition);
        the returned score is that maximum, margins included.
    traceback : bool
        False returns scores only (path_offsets all zero, path empty).

    Returns
    -------
    scores float32 (m,), path_offsets int64 (m+1,), path int32 (K, 2), as :func:`align_pairs`.
    """
    p = _params(params)
    if isinstance(matrices, np.ndarray) and matrices.ndim == 2:
        raise ValueError("matrices must be a list of 2-D arrays (wrap one matrix in a list)")
    mats: List[np.ndarray] = []
    for k, S in enumerate(matrices):
        a = np.asarray(S)
        if a.ndim != 2:
            raise ValueError(f"matrices[{k}] must be 2-D, got shape {a.shape}")
        if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
            raise ValueError(f"matrices[{k}] must hold real numbers, got dtype {a.dtype}")
        if a.shape[0] == 0 or a.shape[1] == 0:
            raise ValueError(f"matrices[{k}] is empty (shape {a.shape})")
        a = np.ascontiguousarray(a, dtype=np.float32)
        if not np.isfinite(a).all():
            raise ValueError(f"matrices[{k}] contains NaN or inf")
        mats.append(a)
    refs = None
    if reference is not None:
        if len(reference) != len(mats):
            raise ValueError(f"reference must have one entry per matrix ({len(mats)}), got {len(reference)}")
        refs = []
        for k, r in enumerate(reference):
            if r is None:
                refs.append(None)
                continue
            a = np.asarray(r)
            if a.size == 0:
                a = a.reshape(0, 2)
            if a.ndim != 2 or a.shape[1] != 2 or not np.issubdtype(a.dtype, np.integer):
                raise ValueError(f"reference[{k}] must be an integer array of shape (k, 2), got "
                                 f"{a.dtype} {a.shape}")
            refs.append(np.ascontiguousarray(a, dtype=np.int64))
    for name, x in (("fp_margin", fp_margin), ("fn_margin", fn_margin)):
        if not np.isfinite(float(x)):
            raise ValueError(f"{name} must be finite, got {x!r}")
    mod = _backend("cpu")
    return mod.align_score_matrices(mats, p.as_dict(), refs, float(fp_margin), float(fn_margin), bool(traceback),
                                    _threads(threads))

