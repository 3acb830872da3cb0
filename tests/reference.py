"""Slow, obviously correct numpy implementations of everything the alignment engine computes.

Textbook clarity over speed: plain loops over the DP matrices, float64 arithmetic. Tests compare the
compiled engines against these.

Conventions (shared with csrc/dp_recurrence.h): S[i, j] scores base i of A against base j of B; a
run of k gapped bases costs gap_open + k * gap_extend. Three-state Gotoh: H (best), E (base of A
against a gap), F (base of B against a gap). Ties as the original RNABERT: H prefers the diagonal,
then F, then E (E only when strictly better than F); E and F prefer opening over extending; local
mode restarts when the best is <= 0.
"""

from __future__ import annotations

import itertools
from typing import List, Tuple

import numpy as np

NEG = -1e30
DIAG, FROM_E, FROM_F, STOP = 0, 1, 2, 3


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of a (L1, D) with every row of b (L2, D), float64 (L1, L2)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def match_matrix(a, b, scale=1.0, bias=0.0) -> np.ndarray:
    return scale * cosine_matrix(a, b) + bias


def _border_top(j, go, ge, mode, free_ends):
    if j == 0:
        return 0.0
    return -(go + ge * j) if mode == "global" else 0.0


def _border_left(i, go, ge, mode, free_ends):
    if i == 0:
        return 0.0
    if mode == "global" or (mode == "semiglobal" and free_ends == "query"):
        return -(go + ge * i)
    return 0.0


def align(
    S, gap_open=1.0, gap_extend=0.1, mode="global", free_ends="both"
) -> Tuple[float, List[Tuple[int, int]]]:
    """Optimal alignment of score matrix S: (score, aligned 0-based pairs in increasing order).

    mode "global" (Gotoh with the original's tie-breaking), "local" (Smith-Waterman, affine gaps) or
    "semiglobal" (free_ends "both": end gaps free in both sequences; "query": A aligned entirely
    inside B).
    """
    S = np.asarray(S, dtype=np.float64)
    L1, L2 = S.shape
    go, ge = float(gap_open), float(gap_extend)
    H = np.full((L1 + 1, L2 + 1), NEG)
    E = np.full((L1 + 1, L2 + 1), NEG)
    F = np.full((L1 + 1, L2 + 1), NEG)
    src = np.zeros((L1 + 1, L2 + 1), dtype=np.int8)
    e_ext = np.zeros((L1 + 1, L2 + 1), dtype=bool)
    f_ext = np.zeros((L1 + 1, L2 + 1), dtype=bool)
    for j in range(L2 + 1):
        H[0, j] = _border_top(j, go, ge, mode, free_ends)
    for i in range(L1 + 1):
        H[i, 0] = _border_left(i, go, ge, mode, free_ends)
    for i in range(1, L1 + 1):
        for j in range(1, L2 + 1):
            e_open, e_extend = H[i - 1, j] - (go + ge), E[i - 1, j] - ge
            E[i, j] = e_extend if e_extend > e_open else e_open
            e_ext[i, j] = e_extend > e_open
            f_open, f_extend = H[i, j - 1] - (go + ge), F[i, j - 1] - ge
            F[i, j] = f_extend if f_extend > f_open else f_open
            f_ext[i, j] = f_extend > f_open
            d = H[i - 1, j - 1] + S[i - 1, j - 1]
            if d >= E[i, j] and d >= F[i, j]:
                H[i, j], src[i, j] = d, DIAG
            elif E[i, j] > F[i, j]:
                H[i, j], src[i, j] = E[i, j], FROM_E
            else:
                H[i, j], src[i, j] = F[i, j], FROM_F
            if mode == "local" and H[i, j] <= 0:
                H[i, j], src[i, j] = 0.0, STOP

    # Where the alignment ends.
    if mode == "global":
        end = (L1, L2)
    elif mode == "local":
        end, best = (0, 0), 0.0
        for i in range(1, L1 + 1):  # first strict maximum, row by row
            for j in range(1, L2 + 1):
                if H[i, j] > best:
                    end, best = (i, j), H[i, j]
    else:  # semiglobal: the corner, the last row right to left, then the last column bottom to top
        end = (L1, L2)
        for j in range(L2 - 1, -1, -1):
            if H[L1, j] > H[end]:
                end = (L1, j)
        if free_ends == "both":
            for i in range(L1 - 1, -1, -1):
                if H[i, L2] > H[end]:
                    end = (i, L2)
    score = float(H[end])

    # Traceback.
    pairs = []
    i, j = end
    state = "H"
    while i > 0 and j > 0:
        if state == "H":
            s = src[i, j]
            if s == STOP:
                break
            if s == DIAG:
                pairs.append((i - 1, j - 1))
                i, j = i - 1, j - 1
            else:
                state = "E" if s == FROM_E else "F"
        elif state == "E":
            if not e_ext[i, j]:
                state = "H"
            i -= 1
        else:
            if not f_ext[i, j]:
                state = "H"
            j -= 1
    return score, pairs[::-1]


def path_score(S, pairs, gap_open=1.0, gap_extend=0.1, mode="global", free_ends="both") -> float:
    """The score of a given alignment (aligned pairs), by the scheme of ``mode``: recomputed from
    scratch."""
    S = np.asarray(S, dtype=np.float64)
    L1, L2 = S.shape
    pairs = [tuple(map(int, p)) for p in pairs]

    def run(k):
        return gap_open + gap_extend * k if k > 0 else 0.0

    if not pairs:
        if mode == "global":
            return -(run(L1) + run(L2))
        if mode == "semiglobal" and free_ends == "query":
            return -run(L1)
        return 0.0
    total = sum(S[i, j] for i, j in pairs)
    for (i0, j0), (i1, j1) in zip(pairs, pairs[1:]):
        assert i1 > i0 and j1 > j0, "pairs must increase"
        total -= run(i1 - i0 - 1) + run(j1 - j0 - 1)
    (fi, fj), (li, lj) = pairs[0], pairs[-1]
    lead_a, lead_b, tail_a, tail_b = fi, fj, L1 - 1 - li, L2 - 1 - lj
    if mode == "global":
        total -= run(lead_a) + run(lead_b) + run(tail_a) + run(tail_b)
    elif mode == "semiglobal" and free_ends == "query":
        total -= run(lead_a) + run(tail_a)
    return float(total)


def margin_matrix(shape, reference, fp_margin, fn_margin) -> np.ndarray:
    """Match-score offsets of loss-augmented inference: +fp off the reference, -fn on reference
    cells."""
    M = np.full(shape, float(fp_margin))
    for i, j in reference:
        M[i, j] = -float(fn_margin)
    return M


def loss_augmented(S, reference, fp_margin, fn_margin, gap_open=1.0, gap_extend=0.1, mode="global"):
    """max over alignments A of score(A) + Delta(A, A*), and its argmax, by the exact
    decomposition."""
    ref = sorted(set(map(tuple, reference)))
    score, pairs = align(
        np.asarray(S, np.float64) + margin_matrix(np.shape(S), ref, fp_margin, fn_margin),
        gap_open,
        gap_extend,
        mode,
    )
    return score + fn_margin * len(ref), pairs


def all_alignments(L1: int, L2: int):
    """Every alignment of an L1 x L2 problem, as lists of increasing pairs (brute force, tiny sizes
    only)."""
    out = []
    for k in range(min(L1, L2) + 1):
        for rows in itertools.combinations(range(L1), k):
            for cols in itertools.combinations(range(L2), k):
                out.append(list(zip(rows, cols)))
    return out


def delta(pairs, reference, fp_margin, fn_margin) -> float:
    """Delta(A, A*) = fp * #(pairs not in the reference) + fn * #(reference pairs not in A)."""
    a, r = set(map(tuple, pairs)), set(map(tuple, reference))
    return fp_margin * len(a - r) + fn_margin * len(r - a)


def soft_score(a_emb, b_emb, soft_scale=1.3) -> float:
    """The original's soft-alignment similarity: s = soft_scale*cos, a = row softmax, b = column
    softmax, c = a + b - a*b, score = sum(c*s) / sum(c)."""
    s = soft_scale * cosine_matrix(a_emb, b_emb)
    ea = np.exp(s - s.max(axis=1, keepdims=True))
    a = ea / ea.sum(axis=1, keepdims=True)
    eb = np.exp(s - s.max(axis=0, keepdims=True))
    b = eb / eb.sum(axis=0, keepdims=True)
    c = a + b - a * b
    return float((c * s).sum() / c.sum())
