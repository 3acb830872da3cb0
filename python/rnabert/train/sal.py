"""Structural Alignment Learning: the structured hinge loss of pairwise alignment, batched.

For a pair (a, b) with reference alignment A* (the seed alignment's shared columns) and the cosine
matrix S of their embeddings,

    loss = max_A [score(A) + Δ(A, A*)] − score(A*),    score(A) = Σ_{(i,j)∈A} S_ij − gaps(A),
    Δ(A, A*) = fp · |A \\ A*| + fn · |A* \\ A|.

The max (and its argmax Â) comes from the engine's loss-augmented DP on the detached matrices, all
pairs of a batch in one call. The loss is then rebuilt in torch as a gather of S at Â's and A*'s
pairs, so gradients reach the embeddings through those cosines only; the gap costs and Δ are
constants computed exactly from the paths with numpy. Because A* is one of the alignments the DP
maximises over, the loss is >= 0 (up to float32 rounding of the engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..alignment.engine import align_score_matrices
from ..alignment.params import AlignParams
from ..alignment.paths import concat_pairs, true_positives
from .config import FN_MARGIN, FP_MARGIN, GAP_EXTEND, GAP_OPEN


def path_gap_costs(
    path: np.ndarray,
    offsets: np.ndarray,
    len_a,
    len_b,
    gap_open: float = GAP_OPEN,
    gap_extend: float = GAP_EXTEND,
) -> np.ndarray:
    """Gap cost of each global alignment given by its aligned pairs.

    Between consecutive aligned pairs (and before the first / after the last, end gaps counting as
    in global mode), ``di`` unaligned bases of A and ``dj`` of B cost ``open + di·extend`` (if di >
    0) plus ``open + dj·extend`` (if dj > 0): the cheapest way to place them, which is what the DP
    does.

    Parameters
    ----------
    path : int array, shape (K, 2)
        Aligned (i, j) of all alignments, each strictly increasing in i and j.
    offsets : int array, shape (m + 1,)
        Alignment p is ``path[offsets[p]:offsets[p + 1]]``.
    len_a, len_b : int arrays, shape (m,)

    Returns
    -------
    float64 array, shape (m,)
    """
    path = np.asarray(path, dtype=np.int64).reshape(-1, 2)
    offsets = np.asarray(offsets, dtype=np.int64)
    m = len(offsets) - 1
    n = np.diff(offsets)
    ext_offs = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(n + 2, out=ext_offs[1:])
    total = int(ext_offs[-1])
    ii = np.empty(total, dtype=np.int64)
    jj = np.empty(total, dtype=np.int64)
    pid = np.repeat(np.arange(m), n)
    pos = np.arange(len(path)) - offsets[pid] + ext_offs[pid] + 1
    ii[pos], jj[pos] = path[:, 0], path[:, 1]
    ii[ext_offs[:-1]] = -1  # sentinels: before the first base ...
    jj[ext_offs[:-1]] = -1
    ii[ext_offs[1:] - 1] = np.asarray(len_a, dtype=np.int64)  # ... and after the last
    jj[ext_offs[1:] - 1] = np.asarray(len_b, dtype=np.int64)
    di = ii[1:] - ii[:-1] - 1
    dj = jj[1:] - jj[:-1] - 1
    keep = np.ones(total, dtype=bool)
    keep[ext_offs[:-1]] = False  # a difference across two alignments is no segment
    keep = keep[1:]
    seg_pid = np.repeat(np.arange(m), n + 2)[1:][keep]
    di, dj = di[keep], dj[keep]
    cost = np.where(di > 0, gap_open + gap_extend * di, 0.0) + np.where(
        dj > 0, gap_open + gap_extend * dj, 0.0
    )
    return np.bincount(seg_pid, weights=cost, minlength=m)


def margin_delta(
    path, offsets, ref_path, ref_offsets, fp_margin: float = FP_MARGIN, fn_margin: float = FN_MARGIN
) -> np.ndarray:
    """Δ(A, A*) = fp · #(pairs of A not in A*) + fn · #(pairs of A* not in A), per alignment
    (float64)."""
    tp = true_positives(path, offsets, ref_path, ref_offsets)
    return fp_margin * (np.diff(offsets) - tp) + fn_margin * (np.diff(ref_offsets) - tp)


def _gathered_scores(
    ua: torch.Tensor, ub: torch.Tensor, path: np.ndarray, offsets: np.ndarray
) -> torch.Tensor:
    """Σ of cos(a_i, b_j) over each alignment's pairs, differentiable: shape (m,)."""
    m = len(offsets) - 1
    pid = torch.from_numpy(np.repeat(np.arange(m), np.diff(offsets))).to(ua.device)
    i = torch.from_numpy(np.ascontiguousarray(path[:, 0], dtype=np.int64)).to(ua.device)
    j = torch.from_numpy(np.ascontiguousarray(path[:, 1], dtype=np.int64)).to(ua.device)
    cos = (ua[pid, i] * ub[pid, j]).sum(-1)
    return torch.zeros(m, dtype=ua.dtype, device=ua.device).index_add(0, pid, cos)


@dataclass
class SalResult:
    """One SAL batch: ``loss`` (mean hinge, differentiable) and per-pair diagnostics (numpy)."""

    loss: torch.Tensor
    per_pair: np.ndarray  # hinge values, float64 (m,)
    engine_scores: np.ndarray  # max_A [score(A) + Δ], from the DP, float32 (m,)
    rebuilt_scores: (
        np.ndarray
    )  # score(Â) + Δ(Â, A*), rebuilt here: equals engine_scores up to rounding
    path: np.ndarray
    path_offsets: np.ndarray


def sal_loss(
    emb_a: torch.Tensor,
    emb_b: torch.Tensor,
    len_a: Sequence[int],
    len_b: Sequence[int],
    refs: Sequence[np.ndarray],
    *,
    fp_margin: float = FP_MARGIN,
    fn_margin: float = FN_MARGIN,
    gap_open: float = GAP_OPEN,
    gap_extend: float = GAP_EXTEND,
    threads: Optional[int] = None,
) -> SalResult:
    """The structured hinge loss of a batch of pairs.

    Parameters
    ----------
    emb_a, emb_b : float tensors, shape (m, La, D) and (m, Lb, D)
        Embeddings of the pairs' first and second sequences, padded; row p holds ``len_a[p]`` and
        ``len_b[p]`` real positions.
    len_a, len_b : int sequences, length m
    refs : list of int arrays, shapes (k_p, 2)
        Reference aligned pairs of each pair (strictly increasing in both columns).

    Returns
    -------
    SalResult
    """
    if emb_a.dtype in (torch.float16, torch.bfloat16):
        emb_a, emb_b = emb_a.float(), emb_b.float()
    la = np.asarray(len_a, dtype=np.int64)
    lb = np.asarray(len_b, dtype=np.int64)
    m = len(la)
    ua = F.normalize(emb_a, dim=-1)
    ub = F.normalize(emb_b, dim=-1)
    with torch.no_grad():
        full = torch.bmm(ua, ub.transpose(1, 2)).float().cpu().numpy()
    mats: List[np.ndarray] = [full[p, : la[p], : lb[p]] for p in range(m)]
    params = AlignParams(mode="global", gap_open=gap_open, gap_extend=gap_extend)
    engine_scores, offs, path = align_score_matrices(
        mats,
        params,
        reference=list(refs),
        fp_margin=fp_margin,
        fn_margin=fn_margin,
        threads=threads,
    )
    path = np.asarray(path, dtype=np.int64)
    ref_path, ref_offs = concat_pairs(refs)
    const_hat = margin_delta(path, offs, ref_path, ref_offs, fp_margin, fn_margin) - path_gap_costs(
        path, offs, la, lb, gap_open, gap_extend
    )
    const_ref = -path_gap_costs(ref_path, ref_offs, la, lb, gap_open, gap_extend)
    s_hat = _gathered_scores(ua, ub, path, offs)
    s_ref = _gathered_scores(ua, ub, ref_path, ref_offs)
    dev, dt = s_hat.device, s_hat.dtype
    hat = s_hat + torch.as_tensor(const_hat, dtype=dt, device=dev)
    per_pair = hat - (s_ref + torch.as_tensor(const_ref, dtype=dt, device=dev))
    return SalResult(
        per_pair.mean(),
        per_pair.detach().double().cpu().numpy(),
        engine_scores,
        hat.detach().double().cpu().numpy(),
        path,
        offs,
    )
