"""The blastn/nhmmer runners of the homology benchmark, on a tiny synthetic three-family set."""

from __future__ import annotations

import numpy as np
import pytest

from rnabert.evaluate import peers

RNA = np.array(list("ACGU"))
N_FAMILIES, MEMBERS, LENGTH, MUT_RATE, N_RANDOM = 3, 4, 80, 0.15, 3

needs_blastn = pytest.mark.skipif(
    not peers.blastn_available(),
    reason="blastn/makeblastdb not installed (apt-get install ncbi-blast+)",
)
needs_nhmmer = pytest.mark.skipif(
    not peers.nhmmer_available(), reason="nhmmer not installed (apt-get install hmmer)"
)
TOOLS = [
    pytest.param(peers.run_blastn, "blastn", marks=needs_blastn, id="blastn"),
    pytest.param(peers.run_nhmmer, "nhmmer", marks=needs_nhmmer, id="nhmmer"),
]


def _mutate(rng: np.random.Generator, seq: np.ndarray) -> np.ndarray:
    """Point-substitute ~MUT_RATE of positions with a different base."""
    out = seq.copy()
    where = rng.random(len(seq)) < MUT_RATE
    for k in np.flatnonzero(where):
        out[k] = rng.choice([b for b in RNA if b != seq[k]])
    return out


def _dataset():
    """queries: one member per family; targets: other members + random + edge cases.

    Returns (queries, targets, family_of_target) where family is -1 for
    sequences belonging to no family.
    """
    rng = np.random.default_rng(12345)
    queries, targets, family = [], [], []
    for f in range(N_FAMILIES):
        ancestor = rng.choice(RNA, LENGTH)
        for m in range(MEMBERS):
            seq = "".join(_mutate(rng, ancestor))
            # Names with characters tools like to mangle ('/', '|', spaces...).
            if m == 0:
                queries.append((f"fam{f}/query|{m} x.y-z", seq))
            else:
                if m == 1:
                    seq = seq[:40] + "N" + seq[41:]  # an ambiguity code must be accepted
                targets.append((f"gi|{f}{m}|fam{f}/{m}.1-80", seq))
                family.append(f)
    for r in range(N_RANDOM):
        targets.append((f"random/{r}|decoy", "".join(rng.choice(RNA, LENGTH))))
        family.append(-1)
    # Guaranteed no-hit columns: empty, and shorter than blastn's word size.
    targets.append(("empty|/", ""))
    family.append(-1)
    targets.append(("tiny/|", "ACGU"))
    family.append(-1)
    return queries, targets, np.array(family)


@pytest.mark.parametrize("run, tool", TOOLS)
def test_best_hit_is_own_family(run, tool):
    queries, targets, family = _dataset()
    res = run(queries, targets, threads=1)

    assert isinstance(res, peers.PeerResult)
    assert res.tool == tool
    assert res.version and res.version != "unknown"
    assert res.seconds > 0
    shape = (len(queries), len(targets))
    assert res.bits.shape == shape and res.evalue.shape == shape
    assert res.bits.dtype == np.float64 and res.evalue.dtype == np.float64

    for q in range(len(queries)):
        best = int(np.argmax(res.bits[q]))
        assert family[best] == q, f"{tool}: query {q} best target {targets[best][0]!r}"
        assert np.isfinite(res.bits[q, best])
        # Each family member was found, with a small E-value.
        members = family == q
        assert np.all(np.isfinite(res.bits[q, members]))
        assert res.evalue[q, best] < 1e-3

    # No-hit conventions: -inf bits exactly where E-value is +inf, never NaN.
    nohit = np.isneginf(res.bits)
    assert np.array_equal(nohit, np.isposinf(res.evalue))
    assert not np.isnan(res.bits).any() and not np.isnan(res.evalue).any()
    assert np.all(np.isfinite(res.bits[~nohit]))
    # The empty target can never be hit; blastn cannot seed on a 4-mer.
    assert nohit[:, -2].all()
    if tool == "blastn":
        assert nohit[:, -1].all()


@pytest.mark.parametrize("run, tool", TOOLS)
def test_empty_inputs_give_no_hit_matrices(run, tool):
    queries, targets, _ = _dataset()
    res = run([], targets)
    assert res.bits.shape == (0, len(targets))
    res = run(queries, [("only empty", "")])
    assert res.bits.shape == (len(queries), 1)
    assert np.isneginf(res.bits).all() and np.isposinf(res.evalue).all()


@pytest.mark.parametrize(
    "run, message", [(peers.run_blastn, "ncbi-blast+"), (peers.run_nhmmer, "hmmer")]
)
def test_missing_tool_raises(monkeypatch, run, message):
    monkeypatch.setattr(peers.shutil, "which", lambda _name: None)
    with pytest.raises(RuntimeError, match=message):
        run([("q", "ACGU")], [("t", "ACGU")])


@needs_blastn
def test_tool_failure_reports_stderr():
    # An invalid word size makes blastn exit non-zero with a message on stderr.
    with pytest.raises(RuntimeError, match="blastn failed"):
        peers.run_blastn([("q", "ACGUACGUACGU")], [("t", "ACGUACGUACGU")], word_size=1)
