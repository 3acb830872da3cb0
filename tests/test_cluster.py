"""Family clustering: metrics, the dense and streamed paths, run directories, bad input."""

import json
import os
import pathlib
import tempfile

import numpy as np
import pytest

import rnabert
from rnabert import metrics
from rnabert.clustering import canonical, cluster

pytest.importorskip("scipy")
EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples" / "rfam_examples.fa"


# -- metrics ---------------------------------------------------------------------------------------
def test_metrics_hand_computed():
    t, p = [0, 0, 1, 1], [0, 0, 1, 2]
    # contingency [[2,0,0],[0,1,1]]: index 1, row pairs 2, column pairs 1, all pairs 6
    assert metrics.ari(t, p) == pytest.approx((1 - 2 / 6) / (1.5 - 2 / 6))
    h_pred = -(0.5 * np.log(0.5) + 2 * 0.25 * np.log(0.25))
    assert metrics.homogeneity(t, p) == pytest.approx(1.0)
    assert metrics.completeness(t, p) == pytest.approx(np.log(2) / h_pred)
    assert metrics.nmi(t, p) == pytest.approx(np.log(2) / ((np.log(2) + h_pred) / 2))
    assert metrics.v_measure(t, p) == pytest.approx(metrics.nmi(t, p))
    assert metrics.ari(["a", "a", "b"], [5, 5, 7]) == 1.0
    assert metrics.nmi([0, 0, 0], [1, 1, 1]) == 1.0
    with pytest.raises(ValueError, match="one length"):
        metrics.ari([0, 1], [0])


def test_metrics_match_sklearn_when_installed(rng):
    sk = pytest.importorskip("sklearn.metrics")
    for _ in range(5):
        t, p = rng.integers(0, 6, 80), rng.integers(0, 9, 80)
        assert metrics.ari(t, p) == pytest.approx(sk.adjusted_rand_score(t, p))
        assert metrics.nmi(t, p) == pytest.approx(sk.normalized_mutual_info_score(t, p))
        assert metrics.homogeneity(t, p) == pytest.approx(sk.homogeneity_score(t, p))
        assert metrics.completeness(t, p) == pytest.approx(sk.completeness_score(t, p))


def test_canonical_labels_by_size_then_first_member():
    assert canonical(np.array([7, 3, 3, 9, 9, 9])).tolist() == [2, 1, 1, 0, 0, 0]
    assert canonical(np.array([4, 2, 4, 2])).tolist() == [0, 1, 0, 1]


# -- clustering ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def emb():
    return rnabert.embed(str(EXAMPLES))


def _families(names):
    return [n.split("|")[0] for n in names]


def test_default_clustering_finds_the_example_families(emb):
    c = rnabert.cluster(emb)
    assert c.method == "average" and len(c) == len(emb)
    assert metrics.ari(_families(emb.names), c.labels) >= 0.8
    # representatives are members of their own cluster; their bits are their self-scores
    assert all(c.labels[c.representative[k]] == c.labels[k] for k in range(len(c)))
    reps = np.unique(c.representative)
    assert len(reps) == c.n_clusters
    assert (c.bits[reps] >= c.bits.max() - 1e-3).all() or (c.bits[reps] > 0).all()
    assert np.all(np.diff(np.bincount(c.labels)) <= 0)  # cluster 0 is the largest


def test_streamed_path_gives_the_dense_clusters(emb, tmp_path):
    dense = cluster(emb)
    streamed = cluster(emb, dense_max=5, block=7, out_dir=tmp_path / "run")
    assert streamed.info["edges"] > 0 and streamed.info["components_split_by_leiden"] == 0
    assert streamed.labels.tolist() == dense.labels.tolist()
    assert streamed.representative.tolist() == dense.representative.tolist()
    np.testing.assert_array_equal(streamed.bits, dense.bits)
    assert (tmp_path / "run" / "edges" / "edges.parquet").exists()


def test_prefilter_path_finds_the_same_families(emb):
    dense = cluster(emb)
    pre = cluster(emb, prefilter=12)
    assert 0 < pre.info["candidate_pairs"] < len(emb) * (len(emb) - 1) // 2
    assert metrics.ari(dense.labels, pre.labels) == 1.0
    from rnabert.clustering.prefilter import candidate_pairs
    from rnabert.clustering.vectors import pooled_unit

    pairs = candidate_pairs(pooled_unit(emb), 3)
    assert (pairs[:, 0] < pairs[:, 1]).all() and len(np.unique(pairs, axis=0)) == len(pairs)
    assert len(pairs) >= 3 * len(emb) // 2


def test_run_directory_resumes_with_identical_edges(emb, tmp_path):
    run = tmp_path / "run"
    cluster(emb, dense_max=5, block=7, out_dir=run)
    edges = (run / "edges" / "edges.parquet").read_bytes()
    shards = sorted((run / "edges" / "tiles").glob("*.parquet"))
    assert len(shards) == 21  # 6 blocks of 7: 6 * 7 / 2 tiles
    for s in shards[::3]:  # as if the run had stopped before these tiles
        s.unlink()
    (run / "edges" / "edges.parquet").unlink()
    again = cluster(emb, dense_max=5, block=7, out_dir=run)
    assert (run / "edges" / "edges.parquet").read_bytes() == edges
    assert again.labels.tolist() == cluster(emb).labels.tolist()


def test_run_directory_of_another_run_is_refused(emb, tmp_path):
    cluster(emb, dense_max=5, block=7, out_dir=tmp_path)
    with pytest.raises(ValueError, match="holds a different run"):
        cluster(emb, dense_max=5, block=8, out_dir=tmp_path)
    manifest = json.loads((tmp_path / "edges" / "manifest.json").read_text())
    assert manifest["tiles"] == 21 and manifest["format"] == "rnabert-edges/1"


def test_graph_methods_and_spectral(emb):
    fam = _families(emb.names)
    leiden = cluster(emb, method="leiden", top_k=3)
    comps = cluster(emb, method="components")
    spec = cluster(emb, n_clusters=4)
    assert leiden.method == "leiden" and metrics.ari(fam, leiden.labels) > 0.5
    assert comps.method == "components" and comps.n_clusters <= cluster(emb).n_clusters
    assert spec.method == "spectral" and spec.n_clusters == 4
    with pytest.raises(ValueError, match="n_clusters must be between 1"):
        cluster(emb, n_clusters=len(emb) + 1)


def test_empty_and_single_inputs(emb):
    empty = cluster([])
    assert len(empty) == 0 and empty.n_clusters == 0
    one = cluster(emb.subset([3]))
    assert one.labels.tolist() == [0] and one.representative.tolist() == [0]
    assert np.isfinite(one.bits).all()


def test_duplicate_names_are_refused(emb):
    with pytest.raises(ValueError, match=r"duplicate sequence name 'x'"):
        cluster([("x", "GGGAAACCCUUU"), ("y", "ACGUACGUACGU"), ("x", "GGGAAACCCUUA")])
    same = rnabert.Embeddings(emb.values, emb.offsets, ["x"] * len(emb), emb.sequences)
    with pytest.raises(ValueError, match=r"duplicate sequence name 'x' \(records 1 and 2\)"):
        cluster(same)


def test_invalid_characters_name_the_record_and_position():
    with pytest.raises(ValueError, match=r"sequence 'b'.*'X' at position 3"):
        cluster([("a", "ACGUACGU"), ("b", "ACXGU")])


def test_outputs_tsv_and_parquet(emb, tmp_path):
    c = cluster(emb.subset(range(6)))
    c.write(tmp_path / "c.tsv")
    lines = (tmp_path / "c.tsv").read_text().splitlines()
    assert lines[0].split("\t") == ["sequence", "cluster", "representative", "bits", "evalue"]
    assert len(lines) == 7 and lines[1].split("\t")[0] == emb.names[0]
    pq = pytest.importorskip("pyarrow.parquet")
    c.write(tmp_path / "c.parquet")
    table = pq.read_table(tmp_path / "c.parquet")
    assert table.column("cluster").to_pylist() == c.labels.tolist()
    assert table.column("representative").to_pylist()[0] == emb.names[c.representative[0]]
    assert os.path.getsize(tmp_path / "c.parquet") > 0


def test_bad_arguments(emb):
    with pytest.raises(ValueError, match="method must be one of"):
        cluster(emb, method="kmeans")
    with pytest.raises(ValueError, match="executor must be one of"):
        cluster(emb, dense_max=5, executor="slurm")
    with pytest.raises(ValueError, match="threshold"):
        cluster(emb, threshold=float("nan"))


def test_medoid_ties_go_to_the_first_member_whatever_the_self_scores():
    from rnabert.clustering.api import _medoids_dense

    sig = np.array([[1e16, 0.1], [0.1, 3.0]])  # equal totals; self-scores of very different size
    assert _medoids_dense(np.array([0, 0]), sig).tolist() == [0, 0]


# -- head vectors in chunks ------------------------------------------------------------------------
def test_chunked_head_vectors_on_disk_give_identical_edges_and_clusters(emb, tmp_path, monkeypatch):
    from rnabert.alignment.heads import load_homology_head
    from rnabert.clustering import prefilter, vectors

    head = load_homology_head()
    whole = vectors.HeadVectors.compute(head, emb)
    assert not whole.on_disk
    np.testing.assert_array_equal(whole.values, head.vectors(emb).normalized())
    pre = cluster(emb, prefilter=12)
    comp = cluster(emb, dense_max=5, block=7)
    dense = cluster(emb)
    edges = prefilter.prefilter_edges(whole, head, k=12, min_sig=10.0)

    monkeypatch.setattr(vectors, "CHUNK_RESIDUES", 300)  # a few sequences a chunk
    monkeypatch.setattr(vectors, "IN_MEMORY_BYTES", 0)  # always a memory-mapped file
    monkeypatch.setattr(prefilter, "PAIR_BLOCK_RESIDUES", 500)  # many blocks of pairs
    monkeypatch.setattr(prefilter, "PAIRS_PER_STEP", 7)  # and several engine calls per block pair
    chunked = vectors.HeadVectors.compute(head, emb, directory=tmp_path)
    assert chunked.on_disk and (tmp_path / vectors.FILE_NAME).exists()
    np.testing.assert_array_equal(chunked.values, whole.values)
    np.testing.assert_array_equal(chunked.pooled, whole.pooled)
    got = prefilter.prefilter_edges(chunked, head, k=12, min_sig=10.0)
    assert got["candidates"] == edges["candidates"] and len(got["i"]) > 0
    for c in ("i", "j", "bits", "sig"):
        np.testing.assert_array_equal(got[c], edges[c])
    chunked.close()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    # a temporary file has no name from the start: a run killed by SIGKILL leaves nothing behind
    unnamed = vectors.HeadVectors.compute(head, emb)
    assert unnamed.on_disk and not any(scratch.iterdir())
    np.testing.assert_array_equal(unnamed.values, whole.values)
    unnamed.close()
    for before, kw in ((pre, {"prefilter": 12}), (comp, {"dense_max": 5, "block": 7}), (dense, {})):
        after = cluster(emb, **kw)
        assert after.info["vectors_on_disk"]
        assert after.labels.tolist() == before.labels.tolist()
        assert after.representative.tolist() == before.representative.tolist()
        np.testing.assert_array_equal(after.bits, before.bits)
        assert not any(scratch.iterdir())  # the temporary file is gone
    # a run directory keeps it
    cluster(emb, prefilter=12, out_dir=tmp_path / "run")
    assert (tmp_path / "run" / vectors.FILE_NAME).exists()


# -- a search database as input --------------------------------------------------------------------
def test_cluster_of_a_database_equals_cluster_of_its_fasta(emb, tmp_path):
    from rnabert.search.database import Database

    fasta = cluster(emb)  # embedded from the FASTA
    exact = Database.build(tmp_path / "db32", str(EXAMPLES), dtype="float32", progress=False)
    half = Database.build(tmp_path / "db16", str(EXAMPLES), progress=False)
    for db, bits_tol in ((exact, 0.0), (str(tmp_path / "db16"), 0.05)):
        got = cluster(db)  # a Database or the path of one
        assert got.names == fasta.names and got.method == fasta.method
        assert got.labels.tolist() == fasta.labels.tolist()
        assert got.representative.tolist() == fasta.representative.tolist()
        np.testing.assert_allclose(got.bits, fasta.bits, rtol=0, atol=bits_tol)
    # the prefilter reads the database's pooled vectors
    pre = cluster(half, prefilter=12)
    want = cluster(emb, prefilter=12)
    assert pre.info["candidate_pairs"] == want.info["candidate_pairs"]
    assert pre.labels.tolist() == want.labels.tolist()


def test_database_of_another_head_or_model_is_refused(tmp_path, fixtures_dir):
    from rnabert.alignment.heads import SHIPPED, sequence_head
    from rnabert.search.database import Database, DatabaseError

    fa = tmp_path / "few.fa"
    fa.write_text(">a\nGGGAAACCCAUGCUAGCUAGC\n>b\nGGGAAACCCAUGCUAGCUAGG\n")
    Database.build(tmp_path / "seq", str(fa), head=sequence_head(), progress=False)
    with pytest.raises(DatabaseError, match="another homology head"):
        cluster(str(tmp_path / "seq"))
    Database.build(tmp_path / "cos", str(fa), head="cosine", progress=False)
    with pytest.raises(DatabaseError, match="without a homology head"):
        cluster(str(tmp_path / "cos"))
    other = fixtures_dir / "rnabert_original_format_random_init.pt"
    Database.build(tmp_path / "other", str(fa), model=str(other), head=SHIPPED, progress=False)
    with pytest.raises(DatabaseError, match="built with another model"):
        cluster(str(tmp_path / "other"))
    Database.build(tmp_path / "seg", str(fa), segment=12, overlap=4, progress=False)
    with pytest.raises(DatabaseError, match="overlapping segments"):
        cluster(str(tmp_path / "seg"))
    with pytest.raises(ValueError, match="not an rnabert search database"):
        cluster(str(tmp_path))
