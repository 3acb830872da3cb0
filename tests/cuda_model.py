"""A step-by-step Python model of the GPU engine's warp schedule (cuda/dp.cu), for machines without
a GPU.

It transcribes `solve` and `traceback_kernel` lane by lane: 32-row strips, lane r at column t - r +
1 on step t, the row above from lane r - 1's previous step (lane 0: the row buffer the previous
strip's last row wrote), the 64-column ring of match scores filled 32 columns ahead, the last column
for semi-global ends, the local-mode butterfly reduction, traceback nibbles packed 8 per 32-bit word
and the path walk. Run on exact-arithmetic matrices it must reproduce the CPU engine's scores and
paths exactly; that checks the schedule's indexing, not the CUDA code itself (which needs a GPU:
tests marked ``gpu``).
"""

from __future__ import annotations

NEG_INF = -1.0e30
GLOBAL, LOCAL, SEMI = "global", "local", "semiglobal"
RING = 64


def _border_top(mode, go, ge, j):
    if j == 0:
        return 0.0
    return -(go + ge * j) if mode == GLOBAL else 0.0


def _border_left(mode, free_ends, go, ge, i):
    if i == 0:
        return 0.0
    if mode == GLOBAL or (mode == SEMI and free_ends == "query"):
        return -(go + ge * i)
    return 0.0


def _cell(diag, up_h, up_e, left_h, left_f, match, oe, ge, local):
    e_open, e_ext = up_h - oe, up_e - ge
    e_x = e_ext > e_open
    e = e_ext if e_x else e_open
    f_open, f_ext = left_h - oe, left_f - ge
    f_x = f_ext > f_open
    f = f_ext if f_x else f_open
    d = diag + match
    e_wins = e > f
    ef = e if e_wins else f
    if d >= ef:
        h, src = d, 0
    else:
        h, src = ef, (1 if e_wins else 2)
    if local and not h > 0.0:
        h, src = 0.0, 3
    return h, e, f, src | (4 if e_x else 0) | (8 if f_x else 0)


def _trace_step(d, state, i, j):
    if state == 0:
        src = d & 3
        if src == 3:
            return False, state, i, j, False
        if src == 0:
            return True, state, i - 1, j - 1, True
        return True, (1 if src == 1 else 2), i, j, False
    if state == 1:
        if not d & 4:
            state = 0
        return True, state, i - 1, j, False
    if not d & 8:
        state = 0
    return True, state, i, j - 1, False


def solve(S, mode="global", free_ends="both", gap_open=1.0, gap_extend=0.1):
    """(score, aligned pairs) by the GPU schedule, S a list of rows (L1 x L2)."""
    L1, L2 = len(S), len(S[0])
    go, ge = gap_open, gap_extend
    oe, local = go + ge, mode == LOCAL
    rowH = [_border_top(mode, go, ge, j) for j in range(L2 + 1)]
    rowE = [NEG_INF] * (L2 + 1)
    lastcol = [0.0] * (L1 + 1)
    lastcol[0] = _border_top(mode, go, ge, L2)
    words = (L2 + 7) // 8
    tb = [0] * (L1 * words)
    best = [[0.0, 0, 0] for _ in range(32)]
    ring = [[(-1, None)] * RING for _ in range(32)]
    for i0 in range(0, L1, 32):
        rows = min(32, L1 - i0)
        left_h = [0.0] * 32
        left_f = [NEG_INF] * 32
        out_h = [0.0] * 32
        out_e = [NEG_INF] * 32
        up_prev = [0.0] * 32
        word = [0] * 32
        for t in range(L2 + rows - 1):
            if (
                t % 32 == 0 and t < L2
            ):  # fill_chunk: lane l computes column t + l for every row of the strip
                for lane in range(32):
                    jj = t + lane
                    if jj < L2:
                        for r in range(rows):
                            ring[r][jj % RING] = (jj, S[i0 + r][jj])
            prev_h, prev_e = (
                list(out_h),
                list(out_e),
            )  # __shfl_up_sync reads the previous step's values
            for lane in range(32):
                up_h = prev_h[lane - 1] if lane > 0 else prev_h[0]
                up_e = prev_e[lane - 1] if lane > 0 else prev_e[0]
                j = t - lane + 1
                i = i0 + lane + 1
                if not (lane < rows and 1 <= j <= L2):
                    continue
                if lane == 0:
                    up_h, up_e = rowH[j], rowE[j]
                if j == 1:
                    diag = _border_left(mode, free_ends, go, ge, i - 1)
                    left_h[lane] = _border_left(mode, free_ends, go, ge, i)
                    left_f[lane] = NEG_INF
                else:
                    diag = up_prev[lane]
                col, match = ring[lane][(j - 1) % RING]
                assert col == j - 1, f"ring slot holds column {col}, lane {lane} needs {j - 1}"
                h, e, f, d = _cell(
                    diag, up_h, up_e, left_h[lane], left_f[lane], match, oe, ge, local
                )
                left_h[lane], left_f[lane], out_h[lane], out_e[lane], up_prev[lane] = (
                    h,
                    f,
                    h,
                    e,
                    up_h,
                )
                if local and h > best[lane][0]:
                    best[lane] = [h, i, j]
                if j == L2:
                    lastcol[i] = h
                if lane == rows - 1:
                    rowH[j], rowE[j] = h, e
                word[lane] |= d << (4 * ((j - 1) & 7))
                if (j - 1) & 7 == 7 or j == L2:
                    tb[(i - 1) * words + (j - 1) // 8] = word[lane]
                    word[lane] = 0
        ring = [
            [(-1, None)] * RING for _ in range(32)
        ]  # a strip never reads the previous strip's ring
    if mode == GLOBAL:
        score, ei, ej = rowH[L2], L1, L2
    elif local:
        b = best
        o = 16
        while o:  # butterfly, as the kernel's __shfl_xor_sync reduction
            nb = []
            for lane in range(32):
                (sb, bi, bj), (ob, oi, oj) = b[lane], b[lane ^ o]
                take = ob > sb or (
                    ob == sb and oi != 0 and (bi == 0 or oi < bi or (oi == bi and oj < bj))
                )
                nb.append([ob, oi, oj] if take else [sb, bi, bj])
            b = nb
            o >>= 1
        score, ei, ej = b[0]
        if not score > 0.0:
            score, ei, ej = 0.0, 0, 0
    else:
        score, ei, ej = rowH[L2], L1, L2
        for j in range(L2 - 1, -1, -1):
            v = _border_left(mode, free_ends, go, ge, L1) if j == 0 else rowH[j]
            if v > score:
                score, ei, ej = v, L1, j
        if free_ends == "both":
            for ii in range(L1 - 1, -1, -1):
                if lastcol[ii] > score:
                    score, ei, ej = lastcol[ii], ii, L2
    i, j, state, out = ei, ej, 0, []
    while i > 0 and j > 0:
        d = (tb[(i - 1) * words + (j - 1) // 8] >> (4 * ((j - 1) & 7))) & 15
        ok, state, i, j, aligned = _trace_step(d, state, i, j)
        if not ok:
            break
        if aligned:
            out.append((i, j))
    out.reverse()
    return score, out
