"""pytest-benchmark cases for the CPU alignment engine (small, a few seconds in all).

    pytest benchmarks/test_bench_engine.py --benchmark-enable

Each case checks its answer against a slower path before it is timed.
"""

import json
import pathlib

import numpy as np
import pytest

from rnabert.alignment.engine import (
    align_pairs,
    align_score_matrices,
    all_vs_all,
    score_pairs,
    soft_align_scores,
)
from rnabert.alignment.params import AlignParams
from rnabert.embeddings import Embeddings

FIXTURE = (
    pathlib.Path(__file__).resolve().parents[1]
    / "tests"
    / "fixtures"
    / "reference_global_alignments.json"
)


def _emb(n, length, seed=0):
    rng = np.random.default_rng(seed)
    emb = Embeddings.from_arrays(
        [rng.standard_normal((length, 120)).astype(np.float32) for _ in range(n)]
    )
    emb.normalized()
    return emb


@pytest.fixture(scope="module")
def emb100():
    return _emb(60, 100)


@pytest.fixture(scope="module")
def pairs100():
    iu = np.triu_indices(60, 1)
    return np.stack(iu, axis=1).astype(np.int64)  # 1,770 pairs


def _per_pair(emb, pairs):
    unit = emb.normalized()
    out = []
    for i, j in pairs:
        a = unit[emb.offsets[i] : emb.offsets[i + 1]]
        b = unit[emb.offsets[j] : emb.offsets[j + 1]]
        out.append(align_score_matrices([(a @ b.T).astype(np.float32)])[0][0])
    return np.array(out, dtype=np.float32)


def test_score_pairs_len100(benchmark, emb100, pairs100):
    np.testing.assert_allclose(
        score_pairs(emb100, pairs100[:50]), _per_pair(emb100, pairs100[:50]), atol=2e-4
    )
    benchmark(score_pairs, emb100, pairs100)


def test_align_pairs_len100(benchmark, emb100, pairs100):
    scores = score_pairs(emb100, pairs100)
    np.testing.assert_array_equal(align_pairs(emb100, pairs100)[0], scores)
    benchmark(align_pairs, emb100, pairs100)


def test_soft_scores_len100(benchmark, emb100, pairs100):
    s = soft_align_scores(emb100, pairs100[:5])
    unit = emb100.normalized()
    for k, (i, j) in enumerate(pairs100[:5]):
        m = 1.3 * (
            unit[emb100.offsets[i] : emb100.offsets[i + 1]].astype(np.float64)
            @ unit[emb100.offsets[j] : emb100.offsets[j + 1]].T
        )
        a = np.exp(m - m.max(1, keepdims=True))
        a /= a.sum(1, keepdims=True)
        b = np.exp(m - m.max(0, keepdims=True))
        b /= b.sum(0, keepdims=True)
        c = a + b - a * b
        assert s[k] == pytest.approx((c * m).sum() / c.sum(), rel=1e-5)
    benchmark(soft_align_scores, emb100, pairs100)


def test_all_vs_all_dense_len100(benchmark, emb100, pairs100):
    dense = all_vs_all(emb100)
    np.testing.assert_array_equal(
        dense[pairs100[:, 0], pairs100[:, 1]], score_pairs(emb100, pairs100)
    )
    benchmark(all_vs_all, emb100)


def test_align_score_matrices_fixture(benchmark):
    cases = json.loads(FIXTURE.read_text())["cases"]
    cases = [c for c in cases if c["gap_open"] == 1.0 and c["gap_extend"] == 0.1]
    mats = [np.array(c["score_matrix"], dtype=np.float32) for c in cases] * 20
    scores, _, _ = align_score_matrices(mats[: len(cases)], AlignParams())
    np.testing.assert_allclose(scores, [c["score"] for c in cases], atol=1e-4)
    benchmark(align_score_matrices, mats, AlignParams())
