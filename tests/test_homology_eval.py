"""Homology benchmark metrics: ROC AUC / ROC1 / pooled sensitivity, ARI, average linkage, the
benchmark."""

import itertools

import numpy as np
import pytest

from rnabert.clustering.linkage import average_linkage
from rnabert.evaluate.homology import build_benchmark, search_metrics
from rnabert.metrics import ari as adjusted_rand_index
from rnabert.seqs import StockholmAlignment


def _auc_by_pairs(pos, neg):
    return np.mean(
        [1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg)]
    )


def test_search_metrics_against_their_definitions(rng):
    score = rng.normal(size=(5, 30)).round(1)  # rounding makes ties
    homolog = rng.random((5, 30)) < 0.3
    homolog[:, 0] = True
    homolog[:, 1] = False
    counted = rng.random((5, 30)) < 0.9
    counted[:, :2] = True
    m = search_metrics(score, homolog, counted)
    aucs, roc1 = [], []
    for q in range(5):
        s, t = score[q, counted[q]], homolog[q, counted[q]]
        aucs.append(_auc_by_pairs(s[t], s[~t]))
        roc1.append(np.mean(s[t] > s[~t].max()))
    assert m["auc"] == pytest.approx(np.mean(aucs)) and m["roc1"] == pytest.approx(np.mean(roc1))
    # pooled: the best threshold that admits fewer than 5 false positives (one per query)
    s, t = score[counted], homolog[counted]
    best = 0.0
    for thr in np.unique(s):
        if (~t & (s >= thr)).sum() < 5:
            best = max(best, (t & (s >= thr)).sum() / t.sum())
    assert m["sens_1fp"] == pytest.approx(best)


def test_adjusted_rand_index():
    a = [0, 0, 0, 1, 1, 1, 2, 2]
    assert adjusted_rand_index(a, a) == 1.0
    assert adjusted_rand_index(a, [5, 5, 5, 7, 7, 7, 9, 9]) == 1.0  # names do not matter
    # the textbook example (Hubert & Arabie): value computed by hand from the contingency table
    t, p = [0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]
    assert adjusted_rand_index(t, p) == pytest.approx(0.24242424)
    assert adjusted_rand_index([0] * 4, [0, 1, 2, 3]) == pytest.approx(0.0)


def test_average_linkage_threshold():
    pytest.importorskip("scipy")
    sim = np.array([[50, 40, 1, 0], [40, 50, 2, 1], [1, 2, 50, 30], [0, 1, 30, 50]], dtype=float)
    labels = average_linkage(sim, 10.0)
    assert labels[0] == labels[1] != labels[2] == labels[3]
    assert len(set(average_linkage(sim, 35.0))) == 3  # only the 40 pair merges
    assert len(set(average_linkage(sim, -5.0))) == 1


def test_build_benchmark_layout():
    rng = np.random.default_rng(0)
    alns = []
    for k in range(3):
        rows = {f"f{k}s{i}": "".join(rng.choice(list("ACGU"), 30)) for i in range(4 + k)}
        alns.append(
            StockholmAlignment(None, rows, gf={"AC": f"RF0000{k}", "CL": "CL1" if k < 2 else ""})
        )
    alns.append(
        StockholmAlignment(None, {"x": "ACGUACGUACGU", "y": "ACGUACGUACGA"}, gf={"AC": "RF9"})
    )
    b = build_benchmark(alns, seed=1)
    assert b.accessions == [
        "RF00000",
        "RF00001",
        "RF00002",
    ]  # RF9 has no member left for the database
    assert len(b.queries) == 6 and not b.decoy[b.queries].any()
    real_db = b.database[~b.decoy[b.database]]
    assert len(real_db) == (2 + 3 + 4) and b.decoy[b.database].sum() == len(real_db)
    homolog, counted = b.truth()
    assert homolog.sum() == 2 * 2 + 2 * 3 + 2 * 4
    # family 0 and 1 share a clan: their real members are neither positive nor negative
    q0 = 0
    sisters = (b.family[b.database] == 1) & ~b.decoy[b.database]
    assert not counted[q0, sisters].any() and b.truth(clan_neutral=False)[1][q0, sisters].all()


def test_evaluate_homology_command_refuses_bad_input(tmp_path):
    import subprocess
    import sys

    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnabert.cli",
            "evaluate-homology",
            "--data",
            str(tmp_path / "none.sto"),
        ],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "none.sto: no such file" in missing.stderr
    assert "Traceback" not in missing.stderr
    other = tmp_path / "other.sto"
    other.write_text("# STOCKHOLM 1.0\n#=GF AC RF99999\na ACGUACGU\nb ACGUACGA\n//\n")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnabert.cli",
            "evaluate-homology",
            "--data",
            str(other),
            "--no-peers",
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2 and "holds none of the validation families" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_head_scores_apply_the_query_correction(rng):
    """The corrected method's E-values are the null's of each query's corrected scores; a
    correction of scale 1 is its shift subtracted."""
    from rnabert.alignment.composition import QueryCorrection
    from rnabert.alignment.engine import all_vs_all
    from rnabert.alignment.heads import sequence_head
    from rnabert.embeddings import Embeddings
    from rnabert.evaluate.homology import head_scores

    seqs = ["".join(rng.choice(list("ACGU"), int(rng.integers(20, 60)))) for _ in range(7)]
    emb = Embeddings.from_arrays(
        [np.zeros((len(s), 120), np.float32) for s in seqs], sequences=seqs
    )
    head = sequence_head()
    queries, database = np.array([0, 3]), np.array([1, 2, 4, 5, 6])
    raw = all_vs_all(
        head.vectors(emb).subset(queries), head.params, targets=head.vectors(emb).subset(database)
    ).astype(np.float64)
    corr = QueryCorrection(
        rng.normal(0, 3, 7), np.where(np.arange(7) == 3, 0.5, 1.0), rng.normal(10, 1, 7)
    )
    got = head_scores(head, emb, queries, database, correction=corr)
    want = (
        corr.typical[queries][:, None]
        + (raw - corr.typical[queries][:, None] - corr.shift[queries][:, None])
        * corr.scale[queries][:, None]
    )
    np.testing.assert_allclose(got["raw"], want)
    np.testing.assert_allclose(got["raw"][0], raw[0] - corr.shift[0])  # scale 1: a shift
    L = emb.lengths
    np.testing.assert_allclose(
        got["e_pair"], head.null.evalue(want, L[queries][:, None], L[database][None, :])
    )
