"""The Ray executor on a local 2-CPU cluster: the same edges and clusters as the local runner, also
when a worker process is killed mid-job."""

import os
import signal
import threading
import time

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("pyarrow")
pytest.importorskip("scipy")

from rnabert import Embeddings  # noqa: E402
from rnabert.alignment.heads import load_homology_head  # noqa: E402
from rnabert.execute import Scoring, edge_run  # noqa: E402


@pytest.fixture(scope="module")
def cluster_2cpu():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def vectors():
    """Head vectors of random sequences, no encoder needed: the runners only see vectors."""
    rng = np.random.default_rng(5)
    head = load_homology_head()
    seqs = ["".join(rng.choice(list("ACGU"), int(n))) for n in rng.integers(40, 90, 120)]
    lengths = [len(s) for s in seqs]
    values = rng.standard_normal((sum(lengths), head.input_dim)).astype(np.float32)
    emb = Embeddings(values, np.concatenate([[0], np.cumsum(lengths)]), None, seqs)
    return head.vectors(emb), Scoring(head.params, head.null)


def _same(a, b):
    assert set(a) == set(b)
    for c in a:
        np.testing.assert_array_equal(a[c], b[c])


def test_ray_gives_the_local_edges_and_clusters(cluster_2cpu, vectors, tmp_path):
    vec, scoring = vectors
    local = edge_run(vec, scoring, min_sig=-2.0, top_k=2, block=16, out_dir=tmp_path / "local")
    remote = edge_run(
        vec, scoring, min_sig=-2.0, top_k=2, block=16, out_dir=tmp_path / "ray", executor="ray"
    )
    assert len(local["i"]) > 0
    _same(local, remote)
    assert (tmp_path / "local" / "edges.parquet").read_bytes() == (
        tmp_path / "ray" / "edges.parquet"
    ).read_bytes()

    from rnabert.clustering import cluster

    emb = Embeddings.from_arrays(
        [np.random.default_rng(k).standard_normal((50, 120)).astype(np.float32) for k in range(30)],
        sequences=["ACGU" * 12 + "AC"] * 15 + ["GGCA" * 12 + "UU"] * 15,
    )
    a = cluster(emb, dense_max=4, block=8)
    b = cluster(emb, dense_max=4, block=8, executor="ray")
    assert a.labels.tolist() == b.labels.tolist() and a.n_clusters >= 2


def _tile_workers():
    """PIDs of Ray worker processes running a tile task (Ray names them after the task)."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read()
        except OSError:
            continue
        if b"ray::_tile_task" in cmd:
            pids.append(int(pid))
    return pids


def test_a_killed_worker_is_retried_and_the_output_is_complete(cluster_2cpu, vectors, tmp_path):
    vec, scoring = vectors
    expected = edge_run(vec, scoring, min_sig=-2.0, block=6)
    killed = []

    def killer():
        t0 = time.time()
        while not killed and time.time() - t0 < 60:
            pids = _tile_workers()
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.01)

    th = threading.Thread(target=killer)
    th.start()
    got = edge_run(vec, scoring, min_sig=-2.0, block=6, out_dir=tmp_path, executor="ray")
    th.join()
    assert killed, "no tile worker was seen running"
    _same(expected, got)
    assert len(list((tmp_path / "tiles").glob("*.parquet"))) == 20 * 21 // 2
