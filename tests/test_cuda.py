"""The CUDA engine (rnabert._cuda): host-side planning and argument checks everywhere, kernels on a
GPU.

Unmarked tests run on any machine where the module was built: the module imports, says VALIDATED is
False, plans cover their work exactly once within their budgets, bad arguments raise ValueError
before the GPU is touched, a good call without a GPU raises RuntimeError, and a Python model of the
kernels' warp schedule (tests/cuda_model.py) reproduces the CPU engine exactly. Tests marked ``gpu``
compare every entry point with the CPU engine on random data and run only where a GPU is visible.
"""

import json

import numpy as np
import pytest

_cuda = pytest.importorskip("rnabert._cuda")
import cuda_model  # noqa: E402  (after the skip: it models the module's kernels)
from rnabert import _core  # noqa: E402
from rnabert.backends import ENGINE_FUNCTIONS  # noqa: E402

MODES = [
    {"mode": "global", "bias": 0.0, "free_ends": "both"},
    {"mode": "local", "bias": -0.3, "free_ends": "both"},
    {"mode": "semiglobal", "bias": 0.0, "free_ends": "both"},
    {"mode": "semiglobal", "bias": 0.0, "free_ends": "query"},
]
MODE_IDS = ["global", "local", "semiglobal", "query"]
NO_GPU = _cuda.device_count() == 0


def _params(
    mode="global",
    bias=0.0,
    free_ends="both",
    gap_open=1.0,
    gap_extend=0.1,
    scale=1.0,
    soft_scale=1.3,
    precision="fp32",
):
    return {
        "mode": mode,
        "scale": scale,
        "bias": bias,
        "gap_open": gap_open,
        "gap_extend": gap_extend,
        "free_ends": free_ends,
        "soft_scale": soft_scale,
        "precision": precision,
    }


def _unit_block(rng, lengths, dim=120):
    v = rng.standard_normal((int(sum(lengths)), dim)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return np.ascontiguousarray(v), offsets


def _related_block(rng, lengths, dim=120, noise=0.6):
    base = rng.standard_normal((max(lengths) + 20, dim)).astype(np.float32)
    rows = []
    for n in lengths:
        idx = np.sort(rng.choice(base.shape[0], size=n, replace=n > base.shape[0]))
        rows.append(base[idx] + noise * rng.standard_normal((n, dim)).astype(np.float32))
    v = np.concatenate(rows)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return np.ascontiguousarray(v), np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


# -- the module itself
# -------------------------------------------------------------------------------


def test_module_imports_and_is_not_validated():
    assert _cuda.VALIDATED is False
    for name in ENGINE_FUNCTIONS + ("score_pairs_device", "soft_align_scores_device"):
        assert callable(getattr(_cuda, name))
    assert _cuda.device_count() >= 0
    assert _cuda.runtime_version() >= 12000


@pytest.mark.parametrize("name", ENGINE_FUNCTIONS)
def test_signatures_are_cores_plus_stream(name):
    """engine.py calls either module the same way: _cuda takes _core's keywords less the CPU's
    threads and simd, plus stream."""

    def arg_names(fn):
        sig = fn.__doc__.splitlines()[0]
        inner = sig[sig.index("(") + 1 : sig.rindex(")")]
        return [part.split(":")[0].strip() for part in inner.split(", ") if ":" in part]

    core, gpu = arg_names(getattr(_core, name)), arg_names(getattr(_cuda, name))
    core = [a for a in core if a not in ("threads", "simd")]
    assert gpu[: len(core)] == core
    assert gpu[len(core) :] == ["stream"]


# -- host-side planning
# ------------------------------------------------------------------------------


def _random_pairs(rng, n_a, n_b, m):
    return np.stack([rng.integers(0, n_a, m), rng.integers(0, n_b, m)], axis=1).astype(np.int64)


@pytest.mark.parametrize("trace", [False, True])
def test_plan_batches_cover_every_pair_once_within_budget(rng, trace):
    len_a = rng.integers(1, 1001, 50).astype(np.int64)
    len_b = rng.integers(1, 1001, 70).astype(np.int64)
    pairs = _random_pairs(rng, 50, 70, 3000)
    budget = 4 << 20
    order, starts = _cuda.testing.plan_batches(
        len_a, len_b, pairs, trace=trace, budget=budget, max_pairs=500
    )
    assert sorted(order.tolist()) == list(range(len(pairs)))
    cost = len_a[pairs[:, 0]] * len_b[pairs[:, 1]]
    assert np.all(np.diff(cost[order]) <= 0), "pairs must be ordered by cost, largest first"
    assert starts[0] == 0 and starts[-1] == len(pairs) and np.all(np.diff(starts) > 0)
    for s, e in zip(starts[:-1], starts[1:]):
        assert e - s <= 500
        ks = order[s:e]
        used = sum(
            _cuda.testing.pair_bytes(int(len_a[pairs[k, 0]]), int(len_b[pairs[k, 1]]), trace)
            for k in ks
        )
        assert used <= budget or e - s == 1, "only a pair alone may exceed the budget"


def test_plan_batches_pair_over_budget_gets_its_own_batch():
    len_a = np.array([5000, 10], np.int64)
    pairs = np.array([[0, 0], [1, 1], [1, 0], [1, 1]], np.int64)
    order, starts = _cuda.testing.plan_batches(len_a, len_a, pairs, trace=True, budget=1 << 20)
    assert order[0] == 0 and starts.tolist()[:2] == [0, 1]
    assert _cuda.testing.pair_bytes(5000, 5000, True) > 1 << 20


def test_plan_batches_empty_and_bad_input():
    order, starts = _cuda.testing.plan_batches(
        np.array([3], np.int64), np.array([4], np.int64), np.empty((0, 2), np.int64)
    )
    assert order.tolist() == [] and starts.tolist() == [0]
    with pytest.raises(ValueError, match="pairs"):
        _cuda.testing.plan_batches(
            np.array([3], np.int64), np.array([4], np.int64), np.array([[0, 1]], np.int64)
        )


def test_traceback_bytes_are_four_bits_per_cell():
    assert (
        _cuda.testing.pair_bytes(100, 100, True) - _cuda.testing.pair_bytes(100, 100, False)
        == 100 * 13 * 4 + 100 * 8 + 24
    )
    assert _cuda.testing.pair_bytes(1000, 1000, False) == _cuda.testing.pair_bytes(
        1, 1, False
    )  # score-only: no L1 x L2 storage


@pytest.mark.parametrize(
    "n_a,n_b,self_,tile",
    [
        (1, 1, True, 4),
        (10, 10, True, 3),
        (17, 17, True, 16),
        (7, 13, False, 4),
        (5, 1, False, 2),
        (300, 300, True, 64),
    ],
)
@pytest.mark.parametrize("diagonal", [False, True])
def test_tiles_cover_the_grid_exactly_once(n_a, n_b, self_, tile, diagonal):
    tiles = _cuda.testing.plan_tiles(n_a, n_b, self_, tile)
    seen = np.zeros((n_a, n_b), np.int64)
    for q0, q1, t0, t1 in tiles:
        assert 0 <= q0 < q1 <= n_a and 0 <= t0 < t1 <= n_b
        assert q1 - q0 <= tile and t1 - t0 <= tile
        for i, j in _cuda.testing.tile_pairs(q0, q1, t0, t1, self_, diagonal):
            assert q0 <= i < q1 and t0 <= j < t1
            seen[i, j] += 1
    want = np.ones((n_a, n_b), np.int64)
    if self_:
        want = np.triu(want, 0 if diagonal else 1)
    np.testing.assert_array_equal(seen, want)


def test_length_order_is_a_stable_sort(rng):
    lengths = rng.integers(1, 20, 200).astype(np.int64)
    np.testing.assert_array_equal(
        _cuda.testing.length_order(lengths), np.argsort(lengths, kind="stable")
    )


def test_tile_for_budget_respects_budget():
    for budget in (1, 1000, 1 << 20, 1 << 30):
        t = _cuda.testing.tile_for_budget(budget)
        assert t >= 1
        assert t == 1 or t * t * 64 <= budget
    assert _cuda.testing.tile_for_budget(1 << 30) >= 1024
    assert _cuda.testing.byte_budget() > 0


def test_byte_budget_env(monkeypatch):
    monkeypatch.setenv("RNABERT_CUDA_BUDGET_MB", "16")
    assert _cuda.testing.byte_budget() == 16 << 20
    monkeypatch.setenv("RNABERT_CUDA_BUDGET_MB", "nonsense")
    assert _cuda.testing.byte_budget() == 1024 << 20


def test_launch_shape_fits_shared_memory():
    h100 = {"sm_count": 132, "shared_optin": 227 * 1024}
    s = _cuda.testing.launch_shape(10**6, 120, False, **h100)
    assert s["warps_per_block"] == 4 and s["shared_bytes"] <= h100["shared_optin"]
    assert s["blocks"] == 132 * 16
    assert _cuda.testing.launch_shape(3, 120, False, **h100)["blocks"] == 1
    small = _cuda.testing.launch_shape(100, 120, False, sm_count=108, shared_optin=48 * 1024)
    assert (
        small["warps_per_block"] == 2 and small["shared_bytes"] <= 48 * 1024
    )  # 2 x (8 KiB ring + 15 KiB strip)
    assert (
        _cuda.testing.launch_shape(100, 120, True, sm_count=108, shared_optin=48 * 1024)[
            "warps_per_block"
        ]
        == 4
    )
    with pytest.raises(ValueError, match="shared memory"):
        _cuda.testing.launch_shape(100, 4096, False, sm_count=108, shared_optin=48 * 1024)
    assert _cuda.testing.scratch_floats(10, 20) == 2 * 21 + 11


# -- the kernels' schedule, modelled in Python against the CPU engine
# ---------------------------------


def _grid(rng, L1, L2, values=64):
    return (rng.integers(-values, values + 1, size=(L1, L2)) / values).astype(np.float32)


@pytest.mark.parametrize("md", MODES, ids=MODE_IDS)
def test_warp_schedule_model_matches_cpu_engine(rng, md):
    sizes = [
        (1, 1),
        (1, 9),
        (9, 1),
        (32, 32),
        (33, 65),
        (64, 64),
        (70, 100),
        (31, 130),
        (5, 200),
        (97, 3),
    ]
    sizes += [tuple(int(x) for x in rng.integers(1, 90, 2)) for _ in range(6)]
    for L1, L2 in sizes:
        for values in (64, 1):  # 1: scores in {-1, 0, 1}, many ties
            S = _grid(rng, L1, L2, values)
            if md["mode"] == "local":
                S = S - np.float32(0.25)
            p = _params(md["mode"], 0.0, md["free_ends"], gap_open=1.0, gap_extend=0.125)
            scores, _offs, path = _core.align_score_matrices([S], p)
            ms, mp = cuda_model.solve(
                S.astype(np.float64).tolist(), md["mode"], md["free_ends"], 1.0, 0.125
            )
            assert ms == float(scores[0]), (L1, L2, values)
            assert mp == [tuple(x) for x in path.tolist()], (L1, L2, values)


def test_warp_schedule_model_on_the_fixture(fixtures_dir):
    cases = json.loads((fixtures_dir / "reference_global_alignments.json").read_text())["cases"]
    for c in cases:
        if not c["exact_arithmetic"]:
            continue
        S = np.array(c["score_matrix"], dtype=np.float64).tolist()
        score, pairs = cuda_model.solve(S, "global", "both", c["gap_open"], c["gap_extend"])
        assert [list(p) for p in pairs] == c["aligned_pairs"]
        assert score == pytest.approx(c["score"], abs=1e-6)


# -- argument checks (before the GPU is touched) and behaviour without a GPU
# ---------------------------


def test_bad_arguments_raise_value_error(rng):
    v, o = _unit_block(rng, [5, 7])
    pairs = np.array([[0, 1]], np.int64)
    p = _params()
    with pytest.raises(ValueError, match="emb"):
        _cuda.score_pairs(v.astype(np.float64), o, pairs, p)
    with pytest.raises(ValueError, match="offsets"):
        _cuda.score_pairs(v, o[:-1], pairs, p)
    with pytest.raises(ValueError, match="pairs"):
        _cuda.score_pairs(v, o, np.array([[0, 2]], np.int64), p)
    with pytest.raises(ValueError, match="mode"):
        _cuda.align_pairs(v, o, pairs, _params(mode="nope"))
    with pytest.raises(ValueError, match="gap_open"):
        _cuda.soft_align_scores(v, o, pairs, _params(gap_open=-1.0))
    bad = v.copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _cuda.score_pairs(bad, o, pairs, p)
    with pytest.raises(ValueError, match="output"):
        _cuda.all_vs_all(v, o, p, output="everything")
    with pytest.raises(ValueError, match="top_k"):
        _cuda.all_vs_all(v, o, p, output="topk", top_k=0)
    with pytest.raises(ValueError, match="matrices"):
        _cuda.align_score_matrices([np.zeros((0, 3), np.float32)], p)
    with pytest.raises(ValueError, match="reference"):
        _cuda.align_score_matrices(
            [np.ones((2, 3), np.float32)], p, [np.array([[2, 0]], np.int64)], 0.1, 0.05
        )
    with pytest.raises(ValueError, match="dtype"):
        _cuda.score_pairs_device(1, 1, 1, 1, 1, 120, p, 1, dtype="int8")
    with pytest.raises(ValueError, match="precision"):
        _cuda.soft_align_scores_device(1, 1, 1, 1, 1, 120, _params(precision="bf16"), 1)
    with pytest.raises(ValueError, match="offsets_ptr"):
        _cuda.score_pairs_device(1, 0, 1, 1, 1, 120, p, 1)


def test_empty_pair_lists_need_no_gpu(rng):
    v, o = _unit_block(rng, [5, 7])
    none = np.empty((0, 2), np.int64)
    assert _cuda.score_pairs(v, o, none, _params()).shape == (0,)
    s, offs, path = _cuda.align_pairs(v, o, none, _params())
    assert s.shape == (0,) and offs.tolist() == [0] and path.shape == (0, 2)
    assert _cuda.align_score_matrices([], _params())[1].tolist() == [0]
    _cuda.score_pairs_device(0, 0, 0, 0, 1, 120, _params(), 0)  # m = 0: nothing to do


@pytest.mark.skipif(not NO_GPU, reason="checks the behaviour without a GPU")
def test_calls_without_a_gpu_raise_runtime_error(rng):
    v, o = _unit_block(rng, [5, 7])
    pairs = np.array([[0, 1]], np.int64)
    p = _params()
    calls = [
        lambda: _cuda.score_pairs(v, o, pairs, p),
        lambda: _cuda.align_pairs(v, o, pairs, p),
        lambda: _cuda.soft_align_scores(v, o, pairs, p),
        lambda: _cuda.all_vs_all(v, o, p),
        lambda: _cuda.align_score_matrices([np.ones((2, 3), np.float32)], p),
        lambda: _cuda.score_pairs_device(1, 1, 1, 1, 1, 120, p, 1),
        lambda: _cuda.soft_align_scores_device(1, 1, 1, 1, 1, 120, p, 1, 0, "bf16"),
    ]
    for call in calls:
        with pytest.raises(RuntimeError, match="no CUDA device"):
            call()
    assert issubclass(_cuda.CudaError, RuntimeError)


# -- on a GPU: every entry point against the CPU engine
# ---------------------------------------------

LENGTHS = [1, 2, 3, 17, 31, 32, 33, 63, 64, 65, 100, 127, 200, 441, 512, 513, 1000]


def _mixed_lengths(rng, n):
    return [int(x) for x in rng.choice(LENGTHS + list(rng.integers(1, 1001, 8)), n)]


def _all_pairs(n):
    i, j = np.triu_indices(n, 0)
    return np.stack([i, j], axis=1).astype(np.int64)


@pytest.mark.gpu
@pytest.mark.parametrize("md", MODES, ids=MODE_IDS)
def test_score_and_align_pairs_match_cpu(rng, md):
    v, o = _related_block(rng, _mixed_lengths(rng, 24))
    pairs = _all_pairs(24)
    p = _params(**md)
    cpu = _core.score_pairs(v, o, pairs, p)
    gpu = _cuda.score_pairs(v, o, pairs, p)
    assert np.isfinite(gpu).all()
    np.testing.assert_allclose(gpu, cpu, rtol=1e-5, atol=1e-4)
    cs, co, cp = _core.align_pairs(v, o, pairs, p)
    gs, go_, gp = _cuda.align_pairs(v, o, pairs, p)
    np.testing.assert_array_equal(gs, _cuda.score_pairs(v, o, pairs, p))
    np.testing.assert_allclose(gs, cs, rtol=1e-5, atol=1e-4)
    same = 0
    for k in range(len(pairs)):
        a, b = cp[co[k] : co[k + 1]], gp[go_[k] : go_[k + 1]]
        same += a.shape == b.shape and np.array_equal(a, b)
        if gs[k] == cs[k]:  # bit-identical scores: the paths must be identical too
            np.testing.assert_array_equal(b, a)
    assert same >= 0.99 * len(pairs)


@pytest.mark.gpu
def test_targets_and_pair_order(rng):
    q, qo = _unit_block(rng, _mixed_lengths(rng, 9))
    t, to = _unit_block(rng, _mixed_lengths(rng, 13))
    pairs = _random_pairs(rng, 9, 13, 200)
    p = _params()
    np.testing.assert_allclose(
        _cuda.score_pairs(q, qo, pairs, p, t, to),
        _core.score_pairs(q, qo, pairs, p, t, to),
        rtol=1e-5,
        atol=1e-4,
    )


@pytest.mark.gpu
def test_soft_scores_match_cpu(rng):
    v, o = _unit_block(rng, _mixed_lengths(rng, 16))
    pairs = _all_pairs(16)
    for scale in (1.3, 10.0):
        p = _params(soft_scale=scale)
        np.testing.assert_allclose(
            _cuda.soft_align_scores(v, o, pairs, p),
            _core.soft_align_scores(v, o, pairs, p),
            rtol=1e-4,
            atol=1e-6,
        )


@pytest.mark.gpu
@pytest.mark.parametrize("score", ["dp", "soft"])
def test_all_vs_all_matches_cpu(rng, score, monkeypatch):
    monkeypatch.setenv("RNABERT_CUDA_BUDGET_MB", "1")  # many small tiles
    v, o = _related_block(rng, [int(x) for x in rng.integers(1, 300, 70)])
    p = _params()
    dense_c = _core.all_vs_all(v, o, p, score=score)
    dense_g = _cuda.all_vs_all(v, o, p, score=score)
    np.testing.assert_allclose(dense_g, dense_c, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(dense_g, dense_g.T)
    ic, jc, sc = _core.all_vs_all(v, o, p, score=score, output="topk", top_k=5)
    ig, jg, sg = _cuda.all_vs_all(v, o, p, score=score, output="topk", top_k=5)
    np.testing.assert_array_equal(ig, ic)
    np.testing.assert_allclose(sg, sc, rtol=1e-4, atol=1e-4)
    assert (jg == jc).mean() > 0.98
    thr = float(np.median(dense_c))
    ic, jc, sc = _core.all_vs_all(v, o, p, score=score, output="threshold", min_score=thr)
    ig, jg, sg = _cuda.all_vs_all(v, o, p, score=score, output="threshold", min_score=thr)
    assert abs(len(ig) - len(ic)) <= 2
    q, qo = _unit_block(rng, [5, 80, 300])
    np.testing.assert_allclose(
        _cuda.all_vs_all(v, o, p, q, qo, score=score),
        _core.all_vs_all(v, o, p, q, qo, score=score),
        rtol=1e-4,
        atol=1e-4,
    )


@pytest.mark.gpu
def test_fixture_identical_alignments(fixtures_dir):
    cases = json.loads((fixtures_dir / "reference_global_alignments.json").read_text())["cases"]
    for go, ge in {(c["gap_open"], c["gap_extend"]) for c in cases}:
        group = [c for c in cases if (c["gap_open"], c["gap_extend"]) == (go, ge)]
        mats = [np.array(c["score_matrix"], dtype=np.float32) for c in group]
        scores, offs, path = _cuda.align_score_matrices(mats, _params(gap_open=go, gap_extend=ge))
        s_only, offs0, _ = _cuda.align_score_matrices(
            mats, _params(gap_open=go, gap_extend=ge), traceback=False
        )
        np.testing.assert_array_equal(scores, s_only)
        assert offs0.tolist() == [0] * (len(mats) + 1)
        for k, c in enumerate(group):
            if c["exact_arithmetic"]:
                assert path[offs[k] : offs[k + 1]].tolist() == c["aligned_pairs"]
                assert scores[k] == pytest.approx(c["score"], abs=1e-6)
            else:
                assert scores[k] == pytest.approx(c["score"], abs=1e-4)


@pytest.mark.gpu
@pytest.mark.parametrize("md", MODES, ids=MODE_IDS)
def test_matrices_with_margins_identical_to_cpu(rng, md):
    mats, refs = [], []
    for _ in range(30):
        L1, L2 = (int(x) for x in rng.integers(1, 120, 2))
        S = _grid(rng, L1, L2) - (np.float32(0.25) if md["mode"] == "local" else np.float32(0))
        mats.append(S)
        k = int(rng.integers(0, min(L1, L2) + 1))
        refs.append(
            np.stack(
                [
                    np.sort(rng.choice(L1, k, replace=False)),
                    np.sort(rng.choice(L2, k, replace=False)),
                ],
                axis=1,
            ).astype(np.int64)
        )
    p = _params(md["mode"], 0.0, md["free_ends"], gap_open=1.0, gap_extend=0.125)
    c = _core.align_score_matrices(mats, p, refs, 0.125, 0.0625)
    g = _cuda.align_score_matrices(mats, p, refs, 0.125, 0.0625)
    for x, y in zip(c, g):
        np.testing.assert_array_equal(y, x)


@pytest.mark.gpu
def test_bf16_precision_bounded_error(rng):
    v, o = _related_block(rng, _mixed_lengths(rng, 12))
    pairs = _all_pairs(12)
    exact = _core.score_pairs(v, o, pairs, _params())
    lengths = np.diff(o)
    bound = (
        0.01 * np.minimum(lengths[pairs[:, 0]], lengths[pairs[:, 1]]) + 1e-3
    )  # ~1e-3 per aligned base, x10
    got = _cuda.score_pairs(v, o, pairs, _params(precision="bf16"))
    assert np.all(np.abs(got - exact) <= bound)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["fp32", "fp16", "bf16"])
def test_device_entry_point_with_torch_tensors(rng, dtype):
    torch = pytest.importorskip("torch")
    v, o = _unit_block(rng, _mixed_lengths(rng, 10))
    pairs = _all_pairs(10)
    p = _params()
    exact = _core.score_pairs(v, o, pairs, p)
    tdt = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[dtype]
    tv = torch.from_numpy(v).to("cuda", tdt)
    to = torch.from_numpy(o).cuda()
    tp = torch.from_numpy(pairs).cuda()
    out = torch.full(
        (len(pairs),), float("nan"), device="cuda"
    )  # poisoned: every element must be written
    stream = torch.cuda.current_stream()
    _cuda.score_pairs_device(
        tv.data_ptr(),
        to.data_ptr(),
        tp.data_ptr(),
        len(pairs),
        10,
        v.shape[1],
        p,
        out.data_ptr(),
        stream.cuda_stream,
        dtype,
    )
    stream.synchronize()
    got = out.cpu().numpy()
    assert np.isfinite(got).all()
    if dtype == "fp32":
        np.testing.assert_allclose(got, exact, rtol=1e-5, atol=1e-4)
    else:
        lengths = np.diff(o)
        assert np.all(
            np.abs(got - exact)
            <= 0.01 * np.minimum(lengths[pairs[:, 0]], lengths[pairs[:, 1]]) + 1e-3
        )
    with pytest.raises(ValueError, match="pairs"):
        bad = torch.tensor([[0, 10]], device="cuda")
        _cuda.score_pairs_device(
            tv.data_ptr(),
            to.data_ptr(),
            bad.data_ptr(),
            1,
            10,
            v.shape[1],
            p,
            out.data_ptr(),
            stream.cuda_stream,
            dtype,
        )
    soft = torch.full((len(pairs),), float("nan"), device="cuda")
    _cuda.soft_align_scores_device(
        tv.data_ptr(),
        to.data_ptr(),
        tp.data_ptr(),
        len(pairs),
        10,
        v.shape[1],
        p,
        soft.data_ptr(),
        stream.cuda_stream,
        dtype,
    )
    stream.synchronize()
    tol = 1e-4 if dtype == "fp32" else 2e-2
    np.testing.assert_allclose(
        soft.cpu().numpy(), _core.soft_align_scores(v, o, pairs, p), rtol=tol, atol=1e-6
    )


@pytest.mark.gpu
def test_long_sequences_and_local_ends(rng):
    v, o = _related_block(rng, [1000, 999, 1, 2000])
    pairs = np.array([[0, 1], [1, 0], [0, 2], [2, 3], [3, 0]], np.int64)
    for md in MODES:
        p = _params(**md)
        np.testing.assert_allclose(
            _cuda.score_pairs(v, o, pairs, p),
            _core.score_pairs(v, o, pairs, p),
            rtol=1e-5,
            atol=1e-3,
        )


@pytest.mark.gpu
def test_self_test_and_repeatability(rng):
    assert _cuda.self_test(0)
    v, o = _unit_block(rng, _mixed_lengths(rng, 20))
    pairs = _all_pairs(20)
    a = _cuda.score_pairs(v, o, pairs, _params())
    b = _cuda.score_pairs(v, o, pairs, _params())
    np.testing.assert_array_equal(a, b)  # a moving result is a race
