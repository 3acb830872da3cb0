"""The alignment engine's Python face: arrays in, arrays out, one call into C++ (or CUDA) per batch.

Every function takes an :class:`~rnabert.embeddings.Embeddings` block (unit-normalised once, here,
through ``Embeddings.normalized()``), validates its arguments cheaply (ValueError naming the
argument), and hands pointers to the compiled engine, which releases the GIL and runs on all cores.
The engine module comes from :func:`rnabert.backends.engine_module`, which asks the one device
choice, :func:`rnabert.backends.resolve_device`.

Experimental, opt-in: ``RNABERT_PRECISION=bf16`` (environment, read at every call) computes the
cosines from bf16-rounded vectors on CPUs with AVX512_BF16 (about 1.5x faster; alignment scores move
by ~1e-3 per aligned base, see benchmarks/NOTES_cpu_engine.md). The default, "fp32", is exact.
"""

from __future__ import annotations

import os
from typing import Optional, Sequence, Tuple

import numpy as np

from ..backends import cpu_module, engine_module
from ..embeddings import Embeddings
from . import validate
from .params import AlignParams
from .paths import join_paths

_PRECISION_ENV = "RNABERT_PRECISION"
_PROGRESS_CHUNK = 8192  # at most this many pairs per C++ call (~0.1-1 s of work each)
_CHUNK_CELLS = 2.0e8  # and about this many DP cells: Ctrl-C is honoured between calls


def _engine_params(p: AlignParams) -> dict:
    d = p.as_dict()
    precision = os.environ.get(_PRECISION_ENV, "fp32")
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"{_PRECISION_ENV} must be 'fp32' or 'bf16', got {precision!r}")
    d["precision"] = precision
    return d


def _unit_block(emb, name: str, check: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """``check=False`` for blocks that go to an engine: the CPU and CUDA engines refuse NaN and inf
    in every value they read (naming the argument, sequence and row), and a second pass here cost a
    search's prefilter a sixth of its time (its database blocks hold millions of rows)."""
    if not isinstance(emb, Embeddings):
        raise ValueError(f"{name} must be an rnabert Embeddings block, got {type(emb).__name__}")
    unit = emb.normalized()
    if not check:
        return unit, emb.offsets
    # Unit rows are bounded, so their column sums are finite exactly when every value is: one pass
    # with no mask the size of the block.
    if not np.isfinite(np.add.reduce(unit, axis=0)).all():
        bad = int(np.argmax(~np.isfinite(unit).all(axis=1)))
        raise ValueError(f"{name} contains NaN or inf (row {bad})")
    return unit, emb.offsets


def _threads_kw(mod, threads) -> dict:
    """``threads`` for the CPU engine (checked for both: the rule is the same wherever a call runs);
    the CUDA engine has no thread count."""
    th = validate.threads(threads)
    return {"threads": th} if mod is cpu_module() else {}


def _prepare(emb, pairs, params, targets, threads, device):
    mod = engine_module(device)
    p = validate.params(params)
    values, offsets = _unit_block(emb, "emb", check=False)
    if targets is not None:
        tvalues, toffsets = _unit_block(targets, "targets", check=False)
        if tvalues.shape[1] != values.shape[1]:
            raise ValueError(
                f"targets has embedding width {tvalues.shape[1]}, emb has {values.shape[1]}"
            )
        n_t = len(targets)
    else:
        tvalues, toffsets, n_t = None, None, len(emb)
    arr = validate.pairs(pairs, len(emb), n_t)
    return mod, p, values, offsets, tvalues, toffsets, arr, _threads_kw(mod, threads)


def _chunks(m: int, progress: bool, desc: str, cost: Optional[np.ndarray] = None):
    """Slices of the pair list, each a fraction of a second of work: at most
    :data:`_PROGRESS_CHUNK` pairs and about :data:`_CHUNK_CELLS` DP cells (``cost``: cells per
    pair). Python runs its signal handlers between them, so Ctrl-C is honoured within a chunk; with
    ``progress`` a bar counts pairs/s."""
    bounds = [0]
    if cost is None or m == 0:
        bounds = list(range(0, m, _PROGRESS_CHUNK)) + [m]
    else:
        total = np.cumsum(cost, dtype=np.float64)
        s = 0
        while s < m:
            base = total[s - 1] if s else 0.0
            e = int(np.searchsorted(total, base + _CHUNK_CELLS, side="right"))
            e = min(max(e, s + 1), s + _PROGRESS_CHUNK, m)
            bounds.append(e)
            s = e
    bounds = sorted(set(bounds + [m]))
    if not progress:
        for s, e in zip(bounds[:-1], bounds[1:]):
            yield slice(s, e)
        if m == 0:
            yield slice(0, 0)
        return
    from tqdm.auto import tqdm

    with tqdm(total=m, desc=desc, unit="pairs", unit_scale=True) as bar:
        for s, e in zip(bounds[:-1], bounds[1:]):
            yield slice(s, e)
            bar.update(e - s)
        if m == 0:
            yield slice(0, 0)


def _pair_cost(o, to, arr) -> np.ndarray:
    """DP cells of each pair (L_i * L_j)."""
    la = np.diff(o)
    lb = la if to is None else np.diff(to)
    return la[arr[:, 0]].astype(np.float64) * lb[arr[:, 1]]


def score_pairs(
    emb: Embeddings,
    pairs,
    params: AlignParams = AlignParams(),
    *,
    targets: Optional[Embeddings] = None,
    threads=None,
    device: str = "cpu",
    progress: bool = False,
) -> np.ndarray:
    """Alignment scores (no traceback) of pairs of sequences.

    Parameters
    ----------
    emb : Embeddings
        The query sequences (and the targets when ``targets`` is None).
    pairs : int array, shape (m, 2)
        Row k scores sequence ``pairs[k, 0]`` of ``emb`` against ``pairs[k, 1]`` of ``targets`` (or
        ``emb``).
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
    return _pair_scores(
        "score_pairs", "align (score)", emb, pairs, params, targets, threads, device, progress
    )


def soft_align_scores(
    emb: Embeddings,
    pairs,
    params: AlignParams = AlignParams(),
    *,
    targets: Optional[Embeddings] = None,
    threads=None,
    device: str = "cpu",
    progress: bool = False,
) -> np.ndarray:
    """The original's soft-alignment similarity of pairs: float32 array, shape (m,).

    s = soft_scale * cos; a = softmax of s over each row, b = over each column; c = a + b - a*b;
    score = sum(c * s) / sum(c). Arguments as :func:`score_pairs`.
    """
    return _pair_scores(
        "soft_align_scores", "soft score", emb, pairs, params, targets, threads, device, progress
    )


def _pair_scores(
    function, desc, emb, pairs, params, targets, threads, device, progress
) -> np.ndarray:
    """One float per pair from the engine's ``function`` (score_pairs or soft_align_scores)."""
    mod, p, v, o, tv, to, arr, kw = _prepare(emb, pairs, params, targets, threads, device)
    kernel = getattr(mod, function)
    out = np.empty(len(arr), dtype=np.float32)
    for sl in _chunks(len(arr), progress, desc, _pair_cost(o, to, arr)):
        out[sl] = kernel(v, o, arr[sl], _engine_params(p), tv, to, **kw)
    return out


def align_pairs(
    emb: Embeddings,
    pairs,
    params: AlignParams = AlignParams(),
    *,
    targets: Optional[Embeddings] = None,
    threads=None,
    device: str = "cpu",
    progress: bool = False,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Alignments (with traceback) of pairs of sequences.

    Returns
    -------
    scores : float32 array, shape (m,)
    path_offsets : int64 array, shape (m + 1,)
    path : int32 array, shape (K, 2)
        The aligned 0-based (i, j) of pair p are ``path[path_offsets[p]:path_offsets[p + 1]]``,
        increasing.
    """
    mod, p, v, o, tv, to, arr, kw = _prepare(emb, pairs, params, targets, threads, device)
    parts = []
    for sl in _chunks(len(arr), progress, "align", _pair_cost(o, to, arr)):
        parts.append(mod.align_pairs(v, o, arr[sl], _engine_params(p), tv, to, **kw))
    if not parts:
        return np.empty(0, np.float32), np.zeros(1, np.int64), np.empty((0, 2), np.int32)
    return join_paths(parts)


def all_vs_all(
    emb: Embeddings,
    params: AlignParams = AlignParams(),
    *,
    targets: Optional[Embeddings] = None,
    score: str = "dp",
    output: str = "dense",
    top_k: Optional[int] = None,
    min_score: Optional[float] = None,
    threads=None,
    device: str = "cpu",
    progress: bool = False,
    diagonal: bool = True,
):
    """Scores of every pair of one set (i < j), or of every query against every target, streamed in
    tiles.

    Parameters
    ----------
    emb : Embeddings
        n sequences.
    targets : Embeddings, optional
        n_t sequences; None scores all pairs i < j of ``emb``.
    score : {"dp", "soft"}
        Alignment score (``params.mode``) or the soft-alignment similarity.
    output : {"dense", "topk", "threshold"}
        ``"dense"``: float32 array, shape (n, n_t). Without targets it is symmetric and its diagonal
        holds each sequence's score against itself (``diagonal=False``: NaN). Self-pairs are never
        aligned in the all-vs-all: the diagonal comes from the self-score formula (the sum of
        ``scale * |u|^2 + bias`` over a sequence's bases, the score of aligning it base for base
        with itself, optimal when ``scale``, the gap costs and ``bias`` (local, semiglobal) or
        ``bias + 2 * gap_extend`` (global) are >= 0), and otherwise from aligning only those n
        pairs. ``"topk"``: arrays (i int64, j int64, score float32): the ``top_k`` best partners of
        each query, self excluded, best first (ties: smaller j first). ``"threshold"``: arrays (i,
        j, score) of every pair with score >= ``min_score`` (i < j without targets), sorted by (i,
        j). Top-k and threshold keep only one tile of scores in memory (plus k entries per query).
    """
    mod = engine_module(device)
    p = validate.params(params)
    values, offsets = _unit_block(emb, "emb", check=False)
    tv = to = None
    if targets is not None:
        tv, to = _unit_block(targets, "targets", check=False)
        if tv.shape[1] != values.shape[1]:
            raise ValueError(
                f"targets has embedding width {tv.shape[1]}, emb has {values.shape[1]}"
            )
    validate.one_of("score", score, ("dp", "soft"))
    validate.one_of("output", output, ("dense", "topk", "threshold"))
    k = validate.positive_int("top_k", top_k) if output == "topk" else 0
    ms = validate.finite("min_score", min_score) if output == "threshold" else 0.0
    kw = _threads_kw(mod, threads)
    bar = None
    callback = None
    if progress:
        from tqdm.auto import tqdm

        n = len(emb)
        total = (
            n * (n - 1) // 2 + (n if output == "dense" else 0)
            if targets is None
            else n * len(targets)
        )
        bar = tqdm(total=total, desc=f"all-vs-all ({score})", unit="pairs", unit_scale=True)

        def callback(done, _total):
            bar.update(done - bar.n)

    try:
        out = mod.all_vs_all(
            values,
            offsets,
            _engine_params(p),
            tv,
            to,
            score=score,
            output=output,
            top_k=k,
            min_score=ms,
            progress=callback,
            **kw,
        )
    finally:
        if bar is not None:
            bar.close()
    if targets is None and output == "dense":
        out = np.asarray(out)
        idx = np.arange(len(emb))
        if diagonal:
            out[idx, idx] = self_scores(emb, p, score=score, threads=threads, device=device)
        else:
            out[idx, idx] = np.nan
    return out


def self_scores(
    emb: Embeddings,
    params: AlignParams = AlignParams(),
    *,
    score: str = "dp",
    threads=None,
    device: str = "cpu",
) -> np.ndarray:
    """Each sequence's score against itself: float32 array, shape (n,).

    Where aligning a sequence base for base with itself is provably optimal (``scale``,
    ``gap_open``, ``gap_extend`` >= 0 and ``bias + 2 * gap_extend >= 0`` in global mode,
    ``bias >= 0`` in local and semi-global modes; fp32 cosines), that is the score, computed
    without a DP: the sum of ``scale * |u_i|^2 + bias`` over the sequence's unit vectors u_i (by
    Cauchy-Schwarz no pairing of other bases or gap beats it). Otherwise (and for the soft score)
    the n self-pairs are aligned.
    """
    p = validate.params(params)
    unit, offsets = _unit_block(emb, "emb")
    n = len(emb)
    formula = (
        score == "dp"
        and _engine_params(p)["precision"] == "fp32"
        and p.scale >= 0
        and p.gap_open >= 0
        and p.gap_extend >= 0
        and (p.bias + 2 * p.gap_extend >= 0 if p.mode == "global" else p.bias >= 0)
    )
    if formula:
        sq = np.einsum("ij,ij->i", unit, unit, dtype=np.float64)
        per_base = p.scale * sq + p.bias
        sums = np.add.reduceat(per_base, offsets[:-1]) if n else np.zeros(0)
        return sums.astype(np.float32)
    pairs = np.stack([np.arange(n), np.arange(n)], axis=1).astype(np.int64)
    fn = score_pairs if score == "dp" else soft_align_scores
    return np.asarray(fn(emb, pairs, p, threads=threads, device=device), dtype=np.float32)


def align_score_matrices(
    matrices: Sequence[np.ndarray],
    params: AlignParams = AlignParams(),
    *,
    reference: Optional[Sequence[np.ndarray]] = None,
    fp_margin: float = 0.0,
    fn_margin: float = 0.0,
    traceback: bool = True,
    threads=None,
    device: str = "cpu",
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Align explicit score matrices (match scores used as-is: ``params.scale``/``bias`` are
    ignored).

    Parameters
    ----------
    matrices : list of 2-D float arrays, shapes (L1_p, L2_p)
    reference : list of int arrays, shapes (k_p, 2), optional
        Reference aligned pairs per matrix, for margins (an entry may be None).
    fp_margin, fn_margin : float
        Loss-augmented inference: the engine maximises score(A) + fp * #(aligned pairs not in the
        reference) + fn * #(reference pairs not aligned), exactly (see csrc/dp.cpp for the
        decomposition); the returned score is that maximum, margins included.
    traceback : bool
        False returns scores only (path_offsets all zero, path empty).

    Returns
    -------
    scores float32 (m,), path_offsets int64 (m+1,), path int32 (K, 2), as :func:`align_pairs`.
    """
    p = validate.params(params)
    mats = validate.matrices(matrices)
    refs = validate.references(reference, len(mats))
    fp, fn = validate.finite("fp_margin", fp_margin), validate.finite("fn_margin", fn_margin)
    mod = engine_module(device)
    kw = _threads_kw(mod, threads)
    if not mats:
        return np.zeros(0, np.float32), np.zeros(1, np.int64), np.zeros((0, 2), np.int32)
    return mod.align_score_matrices(mats, p.as_dict(), refs, fp, fn, bool(traceback), **kw)
