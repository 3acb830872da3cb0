"""Alignment-accuracy evaluation: exact counts on hand-made alignments, identity bins, the
baselines."""

import numpy as np
import pytest

from conftest import EXAMPLES
from rnabert.evaluate import aligners, stats, tables
from rnabert.evaluate import alignment as workflow
from rnabert.evaluate import pairs as ep
from rnabert.seqs import StockholmAlignment
from rnabert.seqs import identity as ident_mod

EXAMPLE_STO = EXAMPLES / "rfam_examples.sto"


def _pairset(rows_by_family):
    """A PairSet of (family, row_a, row_b) given as gapped strings."""
    ps = ep.PairSet()
    for fam, ra, rb in rows_by_family:
        aln = StockholmAlignment(None, {"a": ra, "b": rb}, gf={"AC": fam})
        ps.add(fam, aln, "a", "b", ra.replace("-", ""), rb.replace("-", ""))
    return ps


def test_counts_and_scores_on_a_hand_made_alignment():
    # reference: a = ACG-UA, b = AC-GUA -> pairs (0,0) (1,1) (3,3) (4,4)
    ps = _pairset([("F1", "ACG-UA", "AC-GUA")])
    np.testing.assert_array_equal(ps.refs[0], [[0, 0], [1, 1], [3, 3], [4, 4]])
    # predicted: (0,0) (1,1) (2,2) (3,3) (4,4): 4 TP, 5 predicted
    pred = np.array([[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]])
    c = stats.counts(ps, np.array([0, 5]), pred)
    assert c["tp"].tolist() == [4] and c["pred"].tolist() == [5] and c["ref"].tolist() == [4]
    s = stats.scores_of(c["tp"], c["pred"], c["ref"])
    assert s["ppv"] == pytest.approx(0.8) and s["sens"] == pytest.approx(1.0)
    assert s["f"] == pytest.approx(2 * 0.8 / 1.8)


def test_scores_are_micro_averaged_over_pairs():
    ps = _pairset([("F1", "ACGUA", "ACGUA"), ("F2", "AC-GU", "ACAGU")])
    # pair 0: ref 5 pairs, predict 2 of them; pair 1: ref (0,0)(1,1)(2,3)(3,4), predict
    # (0,0)(1,1)(2,2)(3,3)
    path = np.array([[0, 0], [1, 1], [0, 0], [1, 1], [2, 2], [3, 3]])
    c = stats.counts(ps, np.array([0, 2, 6]), path)
    assert (
        c["tp"].tolist() == [2, 2] and c["pred"].tolist() == [2, 4] and c["ref"].tolist() == [5, 4]
    )
    s = stats.scores_of(c["tp"], c["pred"], c["ref"])
    assert s["ppv"] == pytest.approx(4 / 6) and s["sens"] == pytest.approx(4 / 9)
    assert s["tp"] == 4 and s["pred"] == 6 and s["ref"] == 9
    assert stats.scores_of([0], [0], [3]) == {
        "f": 0.0,
        "sens": 0.0,
        "ppv": 0.0,
        "tp": 0,
        "pred": 0,
        "ref": 3,
    }


def test_identity_and_bins():
    ps = _pairset([("F1", "ACGU", "ACGA"), ("F2", "AC-GUN", "ACCG-N"), ("F3", "AAAA", "CCCC")])
    # F1: 3 of 4 identical; F2: aligned columns A/A C/C G/G N/N -> 3 of 4 (N never identical); F3: 0
    np.testing.assert_allclose(ps.identity, [75.0, 75.0, 0.0])
    bins = ident_mod.identity_bin(np.array([0, 39.9, 40, 54.99, 55, 69.9, 70, 84.9, 85, 100]))
    assert bins.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    out = stats.summarize(
        {"tp": np.array([4, 2, 0]), "pred": np.array([4, 4, 4]), "ref": np.array([4, 4, 4])},
        ps.identity,
    )
    assert (
        out["all"]["n"] == 3
        and out["70-85"]["n"] == 2
        and out["<40"]["n"] == 1
        and out[">=85"]["n"] == 0
    )
    assert out["70-85"]["f"] == pytest.approx(6 / 8) and out["<40"]["f"] == 0.0


def test_baseline_is_exact_on_identical_sequences():
    ps = _pairset([("F1", "ACGUAGGCUA", "ACGUAGGCUA")])
    offs, path = aligners.align_with_baseline(ps)
    c = stats.counts(ps, offs, path)
    assert stats.scores_of(c["tp"], c["pred"], c["ref"])["f"] == 1.0


def test_sample_pairs_is_deterministic_and_filters_families():
    alns = ep.read_alignments([EXAMPLE_STO])
    a = ep.sample_pairs(alns, ["RF00050", "RF00015"], pairs_per_family=5, seed=1)
    b = ep.sample_pairs(alns, ["RF00050", "RF00015"], pairs_per_family=5, seed=1)
    assert set(a.family) == {"RF00050", "RF00015"} and len(a) == 10
    assert list(zip(a.name_a, a.name_b)) == list(zip(b.name_a, b.name_b))
    assert len({(x, y) for x, y in zip(a.name_a, a.name_b)}) == 10  # distinct pairs
    assert len(ep.sample_pairs(alns, None, pairs_per_family=100, max_pairs=7, seed=0)) == 7


def test_aligned_fasta_input(tmp_path):
    path = tmp_path / "pair.fa"
    path.write_text(">x\nACG-UA\n>y\nAC-GUA\n")
    alns = ep.read_alignments([path])
    ps = ep.sample_pairs(alns, seed=0)
    assert len(ps) == 1 and ps.family == ["pair.fa"]
    assert ps.refs[0].tolist() == [[0, 0], [1, 1], [3, 3], [4, 4]]


def test_evaluate_runs_every_method_on_the_same_pairs():
    alns = ep.read_alignments([EXAMPLE_STO])
    ps = ep.sample_pairs(alns, pairs_per_family=3, seed=0)
    from rnabert.model import new_model

    res = workflow.evaluate(
        ps, model=new_model(seed=1), baseline=True, random_init=True, log=lambda m: None
    )
    assert set(res) == {"rnabert", "random-init", "baseline"}
    cmp = res["rnabert"]["vs_baseline"]["all"]
    assert cmp["diff"] == pytest.approx(res["rnabert"]["all"]["f"] - res["baseline"]["all"]["f"])
    assert cmp["lo"] <= cmp["diff"] <= cmp["hi"]
    for r in res.values():
        assert r["all"]["n"] == len(ps) == sum(r[b]["n"] for b in ident_mod.BIN_LABELS)
        assert 0 <= r["all"]["f"] <= 1
        assert r["all"]["ref"] == sum(len(x) for x in ps.refs)
    table = tables.format_table(res)
    assert "baseline" in table and "F (sensitivity/PPV)" in table


def test_tune_baseline_orders_the_grid():
    ps = ep.sample_pairs(ep.read_alignments([EXAMPLE_STO]), pairs_per_family=3, seed=0)
    res = workflow.tune_baseline(
        ps, {"mismatch": (-1.0,), "gap_open": (0.0, 2.0), "gap_extend": (0.0, 0.5)}
    )
    assert len(res) == 4 and [f for _, f in res] == sorted((f for _, f in res), reverse=True)


def test_mafft_rows_to_pairs():
    assert aligners._pairs_of_rows("AC-GU", "-CAG-").tolist() == [[1, 0], [2, 2]]


@pytest.mark.skipif(not aligners.mafft_available(), reason="mafft is not installed")
def test_mafft_on_two_pairs():
    ps = _pairset([("F1", "ACGUAGGCUAGC", "ACGUAGGCUAGC"), ("F2", "GGGAAACCCUUU", "GGGAAACCCUUU")])
    offs, path, sec = aligners.align_with_mafft(ps)
    c = stats.counts(ps, offs, path)
    assert c["tp"].tolist() == [12, 12] and sec > 0


def test_family_identities_match_pair_identity():
    for aln in ep.read_alignments([EXAMPLE_STO]):
        records = {r.name: r.seq for r in aln.records()}
        names = list(aln.names)
        ident = ep.family_identities(aln, names, records)
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                ref = aln.reference_pairs(names[a], names[b])
                want = (
                    ident_mod.pair_identity(records[names[a]], records[names[b]], ref)
                    if len(ref)
                    else -1.0
                )
                assert ident[a, b] == pytest.approx(want, abs=1e-3)


def test_identity_stratified_sampling_caps_each_bin_per_family():
    rows = {f"s{k}": "ACGUACGUACGUACGUACGU" for k in range(3)}
    rows.update(
        {"x": "ACGUACGUACGUUUUUUUUU", "y": "CAGGCAGGCAGGCAGGCAGG", "z": "-CGUACGUAC----------"}
    )
    alns = [StockholmAlignment(None, rows, gf={"AC": "F1"})]
    ps = ep.sample_pairs(alns, per_bin=1, seed=0)
    bins = ident_mod.identity_bin(ps.identity)
    assert np.bincount(bins).max() == 1
    assert len(ps) == len(set(bins.tolist())) >= 3  # one pair in each bin that has any
    again = ep.sample_pairs(alns, per_bin=1, seed=0)
    assert list(zip(ps.name_a, ps.name_b)) == list(zip(again.name_a, again.name_b))
    # A large cap takes every pair sharing a column, each once.
    every = ep.sample_pairs(alns, per_bin=100, seed=3)
    assert len(every) == 15 and len(set(zip(every.name_a, every.name_b))) == 15


def test_bootstrap_difference_intervals():
    rng = np.random.default_rng(0)
    m = 60
    fams = [f"F{k % 12}" for k in range(m)]
    identity = rng.uniform(20, 100, size=m)
    ref = rng.integers(50, 100, size=m)
    base = {"tp": (ref * 0.6).astype(np.int64), "pred": ref.copy(), "ref": ref}
    same = stats.bootstrap_difference(base, base, identity, fams, n_boot=200)
    assert all(
        d["diff"] == 0 and d["lo"] == 0 and d["hi"] == 0 and d["p_le_0"] == 1.0
        for d in same.values()
    )
    better = {"tp": base["tp"] + 5, "pred": ref.copy(), "ref": ref}
    diff = stats.bootstrap_difference(better, base, identity, fams, n_boot=200)
    assert set(diff) <= {"all", *ident_mod.BIN_LABELS} and "all" in diff
    for label, d in diff.items():
        assert 0 < d["lo"] <= d["diff"] <= d["hi"] and d["p_le_0"] == 0.0
    want = (
        stats.summarize(better, identity)["all"]["f"] - stats.summarize(base, identity)["all"]["f"]
    )
    assert diff["all"]["diff"] == pytest.approx(want) and diff["all"]["families"] == 12
    # Mixed evidence: better in half the families, worse in the others -> the interval straddles 0.
    mixed = {
        "tp": base["tp"] + np.where(np.arange(m) % 12 < 6, 5, -5),
        "pred": ref.copy(),
        "ref": ref,
    }
    d = stats.bootstrap_difference(mixed, base, identity, fams, n_boot=500)["all"]
    assert d["lo"] < 0 < d["hi"]
    assert "family-bootstrap" in tables.format_difference(diff)


@pytest.mark.skipif(not aligners.mafft_available(), reason="mafft is not installed")
def test_mafft_column_and_the_others_use_the_same_random_pairs():
    ps = ep.sample_pairs(ep.read_alignments([EXAMPLE_STO]), pairs_per_family=3, seed=0)
    res = workflow.evaluate(
        ps, baseline=True, random_init=False, mafft=4, seed=2, log=lambda m: None
    )
    maf, base = res["mafft G-INS-i"]["all"], res["baseline@mafft"]["all"]
    assert maf["n"] == base["n"] == 4 and maf["ref"] == base["ref"] and maf["sec_per_pair"] > 0
