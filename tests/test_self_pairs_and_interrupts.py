"""All-vs-all never aligns a sequence with itself unless asked (the dense diagonal comes from the
self-score formula, checked against the numpy reference DP), and Ctrl-C stops an alignment within
about a second even when standard error is not a terminal."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import reference as ref
from rnabert import _core
from rnabert.alignment import AlignParams
from rnabert.alignment.engine import _engine_params, all_vs_all, score_pairs, self_scores
from rnabert.embeddings import Embeddings


def _emb(rng, lengths, dim=12, zero_rows=False):
    arrays = [rng.normal(size=(n, dim)).astype(np.float32) for n in lengths]
    if zero_rows:
        arrays[-1][1] = 0.0  # a zero vector: cos 0 with everything, itself included
    return Embeddings.from_arrays(arrays)


PARAMS = [
    AlignParams(),
    AlignParams(bias=-0.15, gap_extend=0.1),  # global: bias + 2 * gap_extend >= 0
    AlignParams(mode="local", bias=-0.3),  # local needs a negative bias: aligned
    AlignParams(mode="semiglobal", free_ends="query", bias=0.05),
    AlignParams(mode="local", bias=-0.5),  # formula does not hold: the self-pairs are aligned
    AlignParams(bias=-0.6),  # global, bias + 2 * gap_extend < 0: aligned too
]


@pytest.mark.parametrize("p", PARAMS, ids=lambda p: f"{p.mode}{p.bias:+g}")
def test_self_scores_match_the_reference_dp(rng, p):
    emb = _emb(rng, [1, 7, 23, 40], zero_rows=True)
    u = emb.normalized()
    want = []
    for i in range(len(emb)):
        x = u[emb.offsets[i] : emb.offsets[i + 1]].astype(np.float64)
        S = p.scale * (x @ x.T) + p.bias
        want.append(ref.align(S, p.gap_open, p.gap_extend, p.mode, p.free_ends)[0])
    got = self_scores(emb, p)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    dense = all_vs_all(emb, p)
    np.testing.assert_allclose(np.diag(dense), want, rtol=1e-5, atol=1e-4)


def test_all_vs_all_never_aligns_self_pairs(rng):
    emb = _emb(rng, [5, 6, 7, 8, 9])
    seen = []
    u = emb.normalized()
    dense = _core.all_vs_all(
        u, emb.offsets, _engine_params(AlignParams()), progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (10, 10)  # 5 * 4 / 2 pairs, no (i, i)
    assert np.isnan(np.diag(dense)).all()
    iu = np.triu_indices(5, 1)
    want = score_pairs(emb, np.stack(iu, axis=1))
    np.testing.assert_array_equal(dense[iu], want)


def test_long_sequence_self_pair_is_not_aligned(rng):
    """One 20,000-base sequence with a short one: only the one cross pair is aligned."""
    from rnabert.alignment import align_many

    emb = _emb(rng, [20_000, 50], dim=8)
    t0 = time.perf_counter()
    res = align_many(emb, device="cpu")
    assert len(res) == 1
    cross = time.perf_counter() - t0
    t0 = time.perf_counter()
    score_pairs(emb, [[0, 0]])
    assert cross < (time.perf_counter() - t0) / 5  # the self-pair alone costs 400x more cells


def _interrupt_after(cmd, delay, env=None, timeout=60):
    """Run cmd with stderr to a file (not a terminal), SIGINT after delay: (rc, seconds to exit)."""
    with open(os.devnull, "w") as devnull:
        proc = subprocess.Popen(cmd, stdout=devnull, stderr=subprocess.PIPE, env=env)
        time.sleep(delay)
        assert proc.poll() is None, "finished before the interrupt"
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=timeout)
        return proc.returncode, time.perf_counter() - t0, err.decode()


def test_sigint_stops_alignment_quickly_without_a_terminal(tmp_path, rng):
    emb = _emb(rng, rng.integers(150, 250, size=600).tolist(), dim=120)
    path = tmp_path / "emb.safetensors"
    emb.save(path)
    out = tmp_path / "hits.tsv"
    cmd = [sys.executable, "-m", "rnabert.cli", "align", "--embeddings", str(path), "-o", str(out)]
    cmd += ["--threads", "1", "--traceback"]
    rc, took, err = _interrupt_after(cmd, 4.0)
    assert rc == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert took < 2.0, f"SIGINT honoured after {took:.1f} s"
    assert not out.exists()  # what was finished stays in hits.tsv.partial, for --resume
    assert set(os.listdir(tmp_path)) <= {
        "emb.safetensors",
        "hits.tsv.partial",
        "hits.tsv.partial.json",
    }
