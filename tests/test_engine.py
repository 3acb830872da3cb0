"""The CPU alignment engine against the original's fixture, the numpy reference and itself."""

import json

import numpy as np
import pytest

import reference as ref
from rnabert.alignment.engine import (
    align_pairs,
    align_score_matrices,
    all_vs_all,
    score_pairs,
    soft_align_scores,
)
from rnabert.alignment.params import AlignParams
from rnabert.embeddings import Embeddings

MODES = [
    AlignParams(),
    AlignParams(mode="local", bias=-0.3),
    AlignParams(mode="semiglobal"),
    AlignParams(mode="semiglobal", free_ends="query"),
]
MODE_IDS = ["global", "local", "semiglobal", "query"]


def _align_one(S, params):
    """(score, aligned pairs) of one explicit matrix."""
    scores, offs, path = align_score_matrices([S], params, threads=1)
    return float(scores[0]), path[offs[0] : offs[1]]


def _kw(p: AlignParams):
    return dict(gap_open=p.gap_open, gap_extend=p.gap_extend, mode=p.mode, free_ends=p.free_ends)


def _random_emb(rng, lengths, dim=120):
    return Embeddings.from_arrays(
        [rng.standard_normal((n, dim)).astype(np.float32) for n in lengths]
    )


def _related_emb(rng, lengths, dim=120, noise=0.6):
    """Sequences derived from one ancestor, so that alignments have long diagonals and real gaps."""
    base = rng.standard_normal((max(lengths) + 20, dim)).astype(np.float32)
    arrays = []
    for n in lengths:
        idx = np.sort(rng.choice(base.shape[0], size=n, replace=n > base.shape[0]))
        arrays.append(base[idx] + noise * rng.standard_normal((n, dim)).astype(np.float32))
    return Embeddings.from_arrays(arrays)


def _pair_list(offsets, paths, k):
    return paths[offsets[k] : offsets[k + 1]].tolist()


# -- conformance with the original
# ------------------------------------------------------------------


def _fixture_cases(fixtures_dir):
    return json.loads((fixtures_dir / "reference_global_alignments.json").read_text())["cases"]


def test_fixture_one_by_one(fixtures_dir):
    for c in _fixture_cases(fixtures_dir):
        S = np.array(c["score_matrix"], dtype=np.float32)
        score, pairs = _align_one(
            S, AlignParams(gap_open=c["gap_open"], gap_extend=c["gap_extend"])
        )
        if c["exact_arithmetic"]:
            assert pairs.tolist() == c["aligned_pairs"]
            assert score == pytest.approx(c["score"], abs=1e-6)
        else:
            assert score == pytest.approx(c["score"], abs=1e-4)


def test_fixture_batched(fixtures_dir):
    cases = _fixture_cases(fixtures_dir)
    for go, ge in {(c["gap_open"], c["gap_extend"]) for c in cases}:
        group = [c for c in cases if (c["gap_open"], c["gap_extend"]) == (go, ge)]
        mats = [np.array(c["score_matrix"], dtype=np.float32) for c in group]
        scores, offs, path = align_score_matrices(
            mats, AlignParams(gap_open=go, gap_extend=ge), threads=2
        )
        s_only, offs0, path0 = align_score_matrices(
            mats, AlignParams(gap_open=go, gap_extend=ge), traceback=False
        )
        np.testing.assert_array_equal(scores, s_only)
        assert offs0.tolist() == [0] * (len(mats) + 1) and path0.shape == (0, 2)
        for k, c in enumerate(group):
            if c["exact_arithmetic"]:
                assert _pair_list(offs, path, k) == c["aligned_pairs"]
            assert scores[k] == pytest.approx(c["score"], abs=1e-4)


@pytest.mark.parametrize("level", ["scalar", "avx2", "avx512"])
def test_fixture_every_simd_level(fixtures_dir, monkeypatch, level):
    monkeypatch.setenv("RNABERT_SIMD", level)
    cases = [c for c in _fixture_cases(fixtures_dir) if c["exact_arithmetic"]]
    mats = [np.array(c["score_matrix"], dtype=np.float32) for c in cases]
    go, ge = cases[0]["gap_open"], cases[0]["gap_extend"]
    assert all((c["gap_open"], c["gap_extend"]) == (go, ge) for c in cases)
    scores, offs, path = align_score_matrices(mats, AlignParams(gap_open=go, gap_extend=ge))
    for k, c in enumerate(cases):
        assert _pair_list(offs, path, k) == c["aligned_pairs"]
        assert scores[k] == pytest.approx(c["score"], abs=1e-6)


# -- every mode against the numpy reference, on exact arithmetic (paths must be identical)
# ------------


def _grid_matrix(rng, L1, L2):
    return (rng.integers(-64, 65, size=(L1, L2)) / 64.0).astype(np.float32)


@pytest.mark.parametrize("params", MODES, ids=MODE_IDS)
def test_modes_match_reference_exactly(rng, params):
    p = AlignParams(
        mode=params.mode,
        bias=params.bias,
        free_ends=params.free_ends,
        gap_open=1.0,
        gap_extend=0.125,
    )
    sizes = [(1, 1), (1, 7), (7, 1), (2, 2), (3, 30), (30, 3)] + [
        tuple(rng.integers(1, 40, 2)) for _ in range(20)
    ]
    mats = [_grid_matrix(rng, L1, L2) for L1, L2 in sizes]
    # A few with many ties: scores on a coarse grid.
    mats += [(rng.integers(-2, 3, size=(12, 9)) / 4.0).astype(np.float32) for _ in range(5)]
    scores, offs, path = align_score_matrices(mats, p)
    for k, S in enumerate(mats):
        want_score, want_pairs = ref.align(S, **_kw(p))
        assert scores[k] == want_score
        assert _pair_list(offs, path, k) == [list(x) for x in want_pairs]
        assert ref.path_score(S, want_pairs, **_kw(p)) == pytest.approx(want_score, abs=1e-9)


@pytest.mark.parametrize("params", MODES, ids=MODE_IDS)
def test_modes_zero_gap_costs_and_ties(rng, params):
    p = AlignParams(
        mode=params.mode, bias=params.bias, free_ends=params.free_ends, gap_open=0.0, gap_extend=0.0
    )
    mats = [
        (rng.integers(-1, 2, size=(L1, L2)) / 2.0).astype(np.float32)
        for L1, L2 in [(5, 5), (8, 3), (1, 4)]
    ]
    scores, offs, path = align_score_matrices(mats, p)
    for k, S in enumerate(mats):
        want_score, want_pairs = ref.align(S, **_kw(p))
        assert scores[k] == want_score
        assert _pair_list(offs, path, k) == [list(x) for x in want_pairs]


# -- embeddings: fused similarity + DP
# -----------------------------------------------------------------


@pytest.mark.parametrize("params", MODES, ids=MODE_IDS)
def test_embedded_pairs_match_reference(rng, params):
    lengths = [1, 2, 5, 17, 33, 60]
    emb = _related_emb(rng, lengths)
    pairs = np.array(
        [(i, j) for i in range(len(lengths)) for j in range(len(lengths))], dtype=np.int64
    )
    scores = score_pairs(emb, pairs, params, threads=2)
    s2, offs, path = align_pairs(emb, pairs, params, threads=2)
    np.testing.assert_array_equal(scores, s2)
    for k, (i, j) in enumerate(pairs):
        S = ref.match_matrix(emb[i], emb[j], params.scale, params.bias)
        want, want_pairs = ref.align(S, **_kw(params))
        assert scores[k] == pytest.approx(want, abs=1e-4)
        got = _pair_list(offs, path, k)
        assert ref.path_score(S, got, **_kw(params)) == pytest.approx(want, abs=1e-4)
        assert got == [list(x) for x in want_pairs]


@pytest.mark.parametrize("params", MODES, ids=MODE_IDS)
def test_long_and_uneven_lengths(rng, params):
    lengths = [1, 3, 120, 300, 500, 440, 64]
    emb = _related_emb(rng, lengths)
    pairs = np.array(
        [(0, 4), (4, 0), (1, 3), (2, 5), (4, 4), (3, 2), (6, 6), (5, 1)], dtype=np.int64
    )
    scores = score_pairs(emb, pairs, params)
    s2, offs, path = align_pairs(emb, pairs, params)
    np.testing.assert_array_equal(scores, s2)
    unit = emb.normalized()
    for k, (i, j) in enumerate(pairs):
        a, b = unit[emb.offsets[i] : emb.offsets[i + 1]], unit[emb.offsets[j] : emb.offsets[j + 1]]
        S = params.scale * (a.astype(np.float64) @ b.T.astype(np.float64)) + params.bias
        got = np.array(_pair_list(offs, path, k)).reshape(-1, 2)
        if len(got):
            assert np.all(np.diff(got, axis=0) > 0)
            assert got[:, 0].max() < len(a) and got[:, 1].max() < len(b)
        assert ref.path_score(S, got, **_kw(params)) == pytest.approx(float(scores[k]), abs=2e-3)


def test_identical_and_one_base_sequences(rng):
    emb = _random_emb(rng, [50, 1, 1])
    pairs = np.array([[0, 0], [1, 1], [1, 2], [0, 1], [1, 0]], dtype=np.int64)
    scores, offs, path = align_pairs(emb, pairs)
    assert scores[0] == pytest.approx(50.0, abs=1e-4)  # cos = 1 on the diagonal, no gaps
    assert _pair_list(offs, path, 0) == [[i, i] for i in range(50)]
    assert scores[1] == pytest.approx(1.0, abs=1e-6)
    S = ref.match_matrix(emb[1], emb[2])
    assert scores[2] == pytest.approx(ref.align(S)[0], abs=1e-5)
    S = ref.match_matrix(emb[0], emb[1])
    assert scores[3] == pytest.approx(ref.align(S)[0], abs=1e-4)


def test_empty_pair_lists(rng):
    emb = _random_emb(rng, [5])
    assert score_pairs(emb, []).shape == (0,)
    assert soft_align_scores(emb, np.zeros((0, 2), np.int64)).shape == (0,)
    scores, offs, path = align_pairs(emb, [])
    assert scores.shape == (0,) and offs.tolist() == [0] and path.shape == (0, 2)
    scores, offs, path = align_score_matrices([])
    assert scores.shape == (0,) and offs.tolist() == [0]
    assert all_vs_all(emb).shape == (1, 1)
    assert all(len(x) == 0 for x in all_vs_all(emb, output="topk", top_k=2))


def test_any_dim_and_targets(rng):
    q = _random_emb(rng, [4, 9, 13], dim=7)
    t = _random_emb(rng, [5, 11], dim=7)
    pairs = np.array([(i, j) for i in range(3) for j in range(2)], dtype=np.int64)
    scores = score_pairs(q, pairs, targets=t)
    for k, (i, j) in enumerate(pairs):
        assert scores[k] == pytest.approx(ref.align(ref.match_matrix(q[i], t[j]))[0], abs=1e-5)
    soft = soft_align_scores(q, pairs, targets=t)
    for k, (i, j) in enumerate(pairs):
        assert soft[k] == pytest.approx(ref.soft_score(q[i], t[j]), rel=1e-5, abs=1e-6)


def test_scale_and_bias(rng):
    emb = _related_emb(rng, [20, 25])
    p = AlignParams(scale=2.5, bias=-0.4, gap_open=0.7, gap_extend=0.2)
    score = score_pairs(emb, [[0, 1]], p)[0]
    assert score == pytest.approx(
        ref.align(ref.match_matrix(emb[0], emb[1], 2.5, -0.4), 0.7, 0.2)[0], abs=1e-4
    )


def test_soft_scores_match_reference(rng):
    emb = _related_emb(rng, [1, 3, 16, 17, 40, 100])
    pairs = np.array([(i, j) for i in range(6) for j in range(6)], dtype=np.int64)
    for soft_scale in (1.3, 5.0):
        got = soft_align_scores(emb, pairs, AlignParams(soft_scale=soft_scale))
        for k, (i, j) in enumerate(pairs):
            assert got[k] == pytest.approx(
                ref.soft_score(emb[i], emb[j], soft_scale), rel=2e-5, abs=1e-6
            )


@pytest.mark.parametrize("level", ["scalar", "avx2", "avx512"])
def test_simd_levels_agree(rng, monkeypatch, level):
    emb = _related_emb(rng, [1, 7, 16, 31, 100, 130])
    pairs = np.array([(i, j) for i in range(6) for j in range(6)], dtype=np.int64)
    params = AlignParams(mode="local", bias=-0.2)
    monkeypatch.delenv("RNABERT_SIMD", raising=False)
    base = align_pairs(emb, pairs, params)
    base_soft = soft_align_scores(emb, pairs)
    monkeypatch.setenv("RNABERT_SIMD", level)
    got = align_pairs(emb, pairs, params)
    np.testing.assert_allclose(got[0], base[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got[1], base[1])
    np.testing.assert_array_equal(got[2], base[2])
    np.testing.assert_allclose(soft_align_scores(emb, pairs), base_soft, rtol=1e-5, atol=1e-6)


def test_bf16_opt_in_close_to_fp32(rng, monkeypatch):
    from rnabert import _core

    emb = _related_emb(rng, [1, 20, 64, 100])
    pairs = np.array([(i, j) for i in range(4) for j in range(4)], dtype=np.int64)
    exact = score_pairs(emb, pairs)
    monkeypatch.setenv("RNABERT_PRECISION", "bf16")
    if not (_core.cpu_features()["avx512_bf16"] and _core.simd_level() == "avx512"):
        with pytest.raises(ValueError, match="bf16"):
            score_pairs(emb, pairs)
        return
    approx = score_pairs(emb, pairs)
    lengths = emb.lengths[pairs].min(axis=1)
    assert np.all(np.abs(approx - exact) <= 0.01 * lengths + 1e-3)
    np.testing.assert_allclose(soft_align_scores(emb, pairs), soft_align_scores(emb, pairs), rtol=0)
    monkeypatch.setenv("RNABERT_PRECISION", "fp16")
    with pytest.raises(ValueError, match="RNABERT_PRECISION"):
        score_pairs(emb, pairs)


def test_threads_identical(rng):
    emb = _related_emb(rng, list(rng.integers(1, 150, size=30)))
    pairs = rng.integers(0, 30, size=(300, 2))
    for fn in (score_pairs, soft_align_scores):
        np.testing.assert_array_equal(fn(emb, pairs, threads=1), fn(emb, pairs, threads=2))
    a1, a2 = align_pairs(emb, pairs, threads=1), align_pairs(emb, pairs, threads=2)
    for x, y in zip(a1, a2):
        np.testing.assert_array_equal(x, y)


def test_progress_chunks_identical(rng, monkeypatch):
    import rnabert.alignment.engine as engine

    emb = _random_emb(rng, list(rng.integers(1, 30, size=12)))
    pairs = rng.integers(0, 12, size=(50, 2))
    whole = align_pairs(emb, pairs)
    monkeypatch.setattr(engine, "_PROGRESS_CHUNK", 7)
    chunked = align_pairs(emb, pairs, progress=True)
    for x, y in zip(whole, chunked):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(score_pairs(emb, pairs), score_pairs(emb, pairs, progress=True))


# -- all-vs-all
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("score", ["dp", "soft"])
def test_all_vs_all_dense_topk_threshold(rng, score):
    n = 40
    emb = _related_emb(rng, list(rng.integers(1, 60, size=n)), noise=1.0)
    fn = score_pairs if score == "dp" else soft_align_scores
    dense = all_vs_all(emb, score=score, threads=2)
    assert dense.shape == (n, n) and dense.dtype == np.float32
    allpairs = np.array([(i, j) for i in range(n) for j in range(n)], dtype=np.int64)
    want = fn(emb, allpairs).reshape(n, n)
    iu = np.triu_indices(n, 1)
    np.testing.assert_array_equal(dense[iu], want[iu])
    np.testing.assert_array_equal(dense, dense.T)
    # the diagonal comes from the self-score formula (dp) or aligns only the self-pairs (soft)
    np.testing.assert_allclose(np.diag(dense), np.diag(want), rtol=1e-5, atol=1e-5)

    k = 3
    qi, tj, sc = all_vs_all(emb, score=score, output="topk", top_k=k)
    assert len(qi) == n * k
    for q in range(n):
        row = [(float(dense[q, j]), j) for j in range(n) if j != q]
        row.sort(key=lambda x: (-x[0], x[1]))
        sel = qi == q
        assert tj[sel].tolist() == [j for _, j in row[:k]]
        np.testing.assert_array_equal(sc[sel], np.array([s for s, _ in row[:k]], dtype=np.float32))

    thr = float(np.median(dense[iu]))
    qi, tj, sc = all_vs_all(emb, score=score, output="threshold", min_score=thr)
    sel = dense[iu] >= thr
    assert qi.tolist() == iu[0][sel].tolist() and tj.tolist() == iu[1][sel].tolist()
    np.testing.assert_array_equal(sc, dense[iu][sel])


def test_all_vs_all_targets_and_tiles(rng):
    q = _random_emb(rng, list(rng.integers(1, 12, size=300)), dim=8)  # > one tile of 256
    t = _random_emb(rng, list(rng.integers(1, 12, size=5)), dim=8)
    dense = all_vs_all(q, targets=t)
    pairs = np.array([(i, j) for i in range(300) for j in range(5)], dtype=np.int64)
    np.testing.assert_array_equal(dense.ravel(), score_pairs(q, pairs, targets=t))
    qi, tj, sc = all_vs_all(q, targets=t, output="topk", top_k=2)
    assert len(qi) == 600
    seen = []
    qi2, tj2, sc2 = all_vs_all(q, output="threshold", min_score=-1e9, progress=True)
    assert len(qi2) == 300 * 299 // 2
    del seen


@pytest.mark.parametrize("dim", [7, 16])  # SSE 4 x 4 transposition blocks and their remainders
def test_all_vs_all_targets_in_many_tiles_score_as_pairs(rng, dim):
    from rnabert import _core

    # one query: tiles widen to ~8,192 target rows (several here); 300 queries: tiles of 256 targets
    p = AlignParams(mode="local", bias=-0.3)
    t = _random_emb(rng, list(rng.integers(1, 30, size=1200)), dim=dim)
    for nq in (1, 300):
        q = _random_emb(rng, list(rng.integers(1, 30, size=nq)), dim=dim)
        dense = all_vs_all(q, p, targets=t, threads=2)
        pairs = np.array([(i, j) for i in range(nq) for j in range(len(t))], dtype=np.int64)
        np.testing.assert_array_equal(dense.ravel(), score_pairs(q, pairs, p, targets=t))
        qi, tj, sc = all_vs_all(q, p, targets=t, output="topk", top_k=5)
        order = np.lexsort((np.arange(len(t))[None, :].repeat(nq, 0), -dense), axis=1)[:, :5]
        np.testing.assert_array_equal(tj.reshape(nq, 5), order)
        np.testing.assert_array_equal(sc.reshape(nq, 5), np.take_along_axis(dense, order, 1))
    # the engine checks each tile of targets itself: a NaN in the last one is refused
    bad = t.values.copy()
    bad[-1, 2] = np.nan
    with pytest.raises(ValueError, match=f"targets.*NaN.*sequence {len(t) - 1}"):
        _core.all_vs_all(q.values, q.offsets, p.as_dict(), bad, t.offsets)
    with pytest.raises(ValueError, match=f"targets.*NaN.*sequence {len(t) - 1}"):
        all_vs_all(q, p, targets=Embeddings(bad, t.offsets), output="topk", top_k=5)


@pytest.mark.parametrize("level", ["scalar", "avx2", "avx512"])
@pytest.mark.parametrize(
    "mode, free_ends", [("local", "both"), ("global", "both"), ("semiglobal", "both"),
                        ("semiglobal", "query")]
)  # fmt: skip
def test_all_vs_all_few_queries_read_targets_in_place(rng, monkeypatch, level, mode, free_ends):
    # a few queries against many targets take the engine's swapped path (targets as the DP's rows,
    # read in place; not for semiglobal with free query ends, which is asymmetric): the scores must
    # be the unswapped pairs' bit for bit, at every SIMD level, for lengths around the strip widths
    monkeypatch.setenv("RNABERT_SIMD", level)
    p = AlignParams(mode=mode, free_ends=free_ends, bias=-0.3 if mode == "local" else 0.0)
    lengths = [1, 2, 7, 8, 9, 15, 16, 17, 25, 33, 64] + list(rng.integers(1, 40, size=120))
    t = _related_emb(rng, lengths, dim=20)
    q = _related_emb(rng, [1, 16, 25], dim=20)
    dense = all_vs_all(q, p, targets=t, threads=2)
    pairs = np.array([(i, j) for i in range(len(q)) for j in range(len(t))], dtype=np.int64)
    np.testing.assert_array_equal(dense.ravel(), score_pairs(q, pairs, p, targets=t))
    qi, tj, sc = all_vs_all(q, p, targets=t, output="topk", top_k=4, threads=2)
    order = np.lexsort((np.arange(len(t))[None, :].repeat(len(q), 0), -dense), axis=1)[:, :4]
    np.testing.assert_array_equal(tj.reshape(len(q), 4), order)
    np.testing.assert_array_equal(sc.reshape(len(q), 4), np.take_along_axis(dense, order, 1))
    bad = t.values.copy()
    bad[t.offsets[70] + 3, 5] = np.inf  # a target in the middle, found by its own worker
    with np.errstate(invalid="ignore"), pytest.raises(ValueError, match="NaN or inf.*sequence 70"):
        all_vs_all(q, p, targets=Embeddings(bad, t.offsets), output="topk", top_k=4, threads=2)


# -- margins (loss-augmented inference)
# ------------------------------------------------------------------


def test_margins_brute_force(rng):
    for trial in range(40):
        L1, L2 = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        S = rng.normal(size=(L1, L2)).astype(np.float32)
        reference = ref.all_alignments(L1, L2)[
            int(rng.integers(0, len(ref.all_alignments(L1, L2))))
        ]
        fp, fn = float(rng.choice([0.1, 0.5, 2.0])), float(rng.choice([0.05, 0.3, 1.5]))
        go, ge = float(rng.choice([0.0, 0.5, 1.0])), 0.1
        best = max(
            ref.path_score(S, A, go, ge) + ref.delta(A, reference, fp, fn)
            for A in ref.all_alignments(L1, L2)
        )
        r = np.array(reference, dtype=np.int64).reshape(-1, 2)
        scores, offs, path = align_score_matrices(
            [S], AlignParams(gap_open=go, gap_extend=ge), reference=[r], fp_margin=fp, fn_margin=fn
        )
        assert scores[0] == pytest.approx(best, abs=1e-5)
        got = _pair_list(offs, path, 0)
        assert ref.path_score(S, got, go, ge) + ref.delta(got, reference, fp, fn) == pytest.approx(
            best, abs=1e-5
        )
        assert scores[0] == pytest.approx(
            ref.loss_augmented(S, reference, fp, fn, go, ge)[0], abs=1e-5
        )


def test_margins_batched_with_none_reference(rng):
    mats = [rng.normal(size=(6, 5)).astype(np.float32), rng.normal(size=(3, 8)).astype(np.float32)]
    refs = [np.array([[0, 0], [2, 1], [5, 4]]), None]
    scores, offs, path = align_score_matrices(mats, reference=refs, fp_margin=0.1, fn_margin=0.05)
    assert scores[0] == pytest.approx(
        ref.loss_augmented(mats[0], refs[0].tolist(), 0.1, 0.05)[0], abs=1e-5
    )
    assert scores[1] == pytest.approx(ref.loss_augmented(mats[1], [], 0.1, 0.05)[0], abs=1e-5)


# -- bad input
# -----------------------------------------------------------------------------------------


def test_bad_inputs(rng):
    emb = _random_emb(rng, [3, 4])
    with pytest.raises(ValueError, match="pairs"):
        score_pairs(emb, [[0, 2]])
    with pytest.raises(ValueError, match="pairs"):
        score_pairs(emb, [[-1, 0]])
    with pytest.raises(ValueError, match="pairs"):
        score_pairs(emb, np.zeros((3, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="pairs"):
        score_pairs(emb, np.zeros((3, 2), dtype=np.float64))
    with pytest.raises(ValueError, match="emb"):
        score_pairs(emb.values, [[0, 1]])
    bad = Embeddings(np.where(np.arange(7)[:, None] == 5, np.nan, emb.values), emb.offsets)
    with pytest.raises(ValueError, match="emb"):
        score_pairs(bad, [[0, 1]])
    with pytest.raises(ValueError, match="targets"):
        score_pairs(emb, [[0, 0]], targets=_random_emb(rng, [3], dim=5))
    with pytest.raises(ValueError, match="params"):
        score_pairs(emb, [[0, 1]], params={"mode": "global"})
    with pytest.raises(ValueError, match="threads"):
        score_pairs(emb, [[0, 1]], threads=-2)
    with pytest.raises(ValueError, match="device"):
        score_pairs(emb, [[0, 1]], device="tpu")
    with pytest.raises(ValueError, match="top_k"):
        all_vs_all(emb, output="topk")
    with pytest.raises(ValueError, match="min_score"):
        all_vs_all(emb, output="threshold")
    with pytest.raises(ValueError, match="output"):
        all_vs_all(emb, output="sparse")
    with pytest.raises(ValueError, match="score"):
        all_vs_all(emb, score="fast")
    with pytest.raises(ValueError, match=r"matrices\[1\]"):
        align_score_matrices([np.zeros((2, 2)), np.zeros((0, 2))])
    with pytest.raises(ValueError, match=r"matrices\[0\]"):
        align_score_matrices([np.array([[np.inf]])])
    with pytest.raises(ValueError, match=r"matrices\[0\]"):
        align_score_matrices([np.zeros(3)])
    with pytest.raises(ValueError, match="reference"):
        align_score_matrices([np.zeros((2, 2))], reference=[np.array([[0, 5]])])
    with pytest.raises(ValueError, match="reference"):
        align_score_matrices([np.zeros((2, 2))], reference=[])


def test_bad_params():
    for kwargs, name in [
        ({"mode": "glob"}, "mode"),
        ({"gap_open": -1}, "gap_open"),
        ({"gap_extend": np.nan}, "gap_extend"),
        ({"scale": np.inf}, "scale"),
        ({"free_ends": "target"}, "free_ends"),
        ({"mode": "local"}, "negative match bias"),
        ({"soft_scale": 0}, "soft_scale"),
        ({"bias": "x"}, "bias"),
    ]:
        with pytest.raises(ValueError, match=name):
            AlignParams(**kwargs)


def test_core_rejects_wrong_arrays_with_value_error(rng):
    from rnabert import _core

    emb = _random_emb(rng, [3, 4])
    p = AlignParams().as_dict()
    with pytest.raises(ValueError, match="emb"):
        _core.score_pairs(emb.values.astype(np.float64), emb.offsets, np.zeros((1, 2), np.int64), p)
    with pytest.raises(ValueError, match="offsets"):
        _core.score_pairs(emb.values, np.array([0, 3, 3, 7]), np.zeros((1, 2), np.int64), p)
    with pytest.raises(ValueError, match="pairs"):
        _core.score_pairs(emb.values, emb.offsets, np.array([[0, 9]], np.int64), p)
    with pytest.raises(ValueError, match="pairs"):
        _core.score_pairs(emb.values, emb.offsets, np.zeros((1, 2), np.int32), p)
    with pytest.raises(ValueError, match="mode"):
        _core.score_pairs(emb.values, emb.offsets, np.zeros((1, 2), np.int64), dict(p, mode="x"))
    nan = emb.values.copy()
    nan[4, 3] = np.nan
    with pytest.raises(ValueError, match="emb.*NaN"):
        _core.score_pairs(nan, emb.offsets, np.array([[0, 1]], np.int64), p)
    with pytest.raises(ValueError, match="emb.*NaN"):
        _core.all_vs_all(nan, emb.offsets, p)
    with pytest.raises(ValueError, match="emb"):
        _core.score_pairs(np.asfortranarray(emb.values), emb.offsets, np.zeros((1, 2), np.int64), p)


def test_cuda_device_is_a_clear_error_or_works(rng):
    emb = _random_emb(rng, [3, 4])
    np.testing.assert_array_equal(
        score_pairs(emb, [[0, 1]], device="auto"), score_pairs(emb, [[0, 1]])
    )
    try:
        score_pairs(emb, [[0, 1]], device="cuda")
    except RuntimeError as exc:
        assert "cuda" in str(exc).lower()


# -- property test (hypothesis): any small problem, any mode, exact arithmetic
# ---------------------------

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    @settings(max_examples=150, deadline=None)
    @given(
        data=st.data(),
        mode=st.sampled_from(range(len(MODES))),
        gap_open=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
        gap_extend=st.sampled_from([0.0, 0.125, 0.25]),
    )
    def test_property_engine_equals_reference(data, mode, gap_open, gap_extend):
        L1, L2 = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 12))
        S = (
            data.draw(arrays(np.int64, (L1, L2), elements=st.integers(-8, 8))).astype(np.float32)
            / 8
        )
        base = MODES[mode]
        p = AlignParams(
            mode=base.mode,
            bias=base.bias,
            free_ends=base.free_ends,
            gap_open=gap_open,
            gap_extend=gap_extend,
        )
        want_score, want_pairs = ref.align(S, **_kw(p))
        for traceback in (False, True):
            scores, offs, path = align_score_matrices([S], p, traceback=traceback)
            assert scores[0] == want_score
        assert path[offs[0] : offs[1]].tolist() == [list(x) for x in want_pairs]
except ImportError:  # hypothesis is a test extra; the seeded tests above cover the same ground
    pass
