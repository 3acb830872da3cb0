"""`rnabert cluster` from the command line: outputs, bad input, and a run killed and resumed."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from rnabert.cli import main

pytest.importorskip("scipy")
pytest.importorskip("pyarrow")


def _families(path, rng, n_fam, per_fam, length=80, mutate=0.15):
    """A FASTA of n_fam random 'families' of per_fam mutated copies of one random sequence."""
    with open(path, "w") as fh:
        for f in range(n_fam):
            base = rng.choice(list("ACGU"), length)
            for k in range(per_fam):
                s = base.copy()
                m = rng.random(length) < mutate
                s[m] = rng.choice(list("ACGU"), int(m.sum()))
                fh.write(f">fam{f}_{k}\n{''.join(s)}\n")
    return path


def test_tsv_to_stdout_and_parquet(tmp_path, rng, capsys):
    fa = _families(tmp_path / "in.fa", rng, 3, 4)
    assert main(["cluster", str(fa), "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "sequence\tcluster\trepresentative\tbits\tevalue"
    rows = [line.split("\t") for line in lines[1:]]
    assert len(rows) == 12
    by_family = {}
    for name, c, *_ in rows:
        by_family.setdefault(name.split("_")[0], set()).add(c)
    assert all(len(c) == 1 for c in by_family.values())  # each family in one cluster
    assert len({next(iter(c)) for c in by_family.values()}) == 3
    assert main(["cluster", str(fa), "-o", str(tmp_path / "c.parquet"), "--n-clusters", "3"]) == 0
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "c.parquet")
    assert table.num_rows == 12 and len(set(table.column("cluster").to_pylist())) == 3


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    empty = tmp_path / "empty.fa"
    empty.write_text("")
    bad = tmp_path / "bad.fa"
    bad.write_text(">ok\nACGUACGU\n>broken\nACGUZACG\n")
    dup = tmp_path / "dup.fa"
    dup.write_text(">x\nACGUACGUAA\n>x\nACGUACGUAC\n")
    cases = [
        (empty, "no sequences"),
        (bad, "sequence 'broken': invalid character 'Z' at position 5"),
        (dup, "dup.fa:3: duplicate sequence id 'x' (first at line 1)"),
        (tmp_path / "missing.fa", "no such file"),
    ]
    for path, message in cases:
        assert main(["cluster", str(path), "-q"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    assert main(["cluster", str(bad), "--format", "parquet"]) == 2
    assert "give -o PATH" in capsys.readouterr().err


def _start(args, env):
    return subprocess.Popen(
        [sys.executable, "-m", "rnabert.cli", "cluster", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )


def _wait_for_shards(proc, tiles, count, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        done = len(list(tiles.glob("*.parquet"))) if tiles.exists() else 0
        if done >= count:
            return done
        if proc.poll() is not None:
            pytest.fail(f"run ended before {count} tiles: {proc.stderr.read()}")
        time.sleep(0.05)
    pytest.fail("run too slow")


def test_killed_and_interrupted_run_resumes_with_identical_output(tmp_path, rng):
    fa = _families(tmp_path / "in.fa", rng, 16, 10, length=70)
    work = tmp_path / "work"
    out = tmp_path / "clusters.tsv"
    args = [str(fa), "-o", str(out), "--work-dir", str(work), "--dense-max", "20", "--block", "8"]
    args += ["--threads", "1", "-q"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    tiles = work / "edges" / "tiles"
    total = 20 * 21 // 2  # 160 sequences in blocks of 8

    proc = _start(args, env)  # SIGKILL: no chance to clean up
    _wait_for_shards(proc, tiles, 5)
    proc.kill()
    proc.wait()
    killed_at = len(list(tiles.glob("*.parquet")))
    assert 5 <= killed_at < total and not out.exists()

    proc = _start(args, env)  # SIGINT: stops between tiles, says how to resume
    _wait_for_shards(proc, tiles, killed_at + 5)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, err
    assert "resumes from" in err
    stopped_at = len(list(tiles.glob("*.parquet")))
    assert stopped_at < total and not out.exists()
    assert not list(tiles.glob(".*.tmp"))  # no half-written shard counts as done

    proc = _start(args, env)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert len(list(tiles.glob("*.parquet"))) == total

    # the same job, uninterrupted, from the same embeddings
    from rnabert import Embeddings
    from rnabert.clustering import cluster

    emb = Embeddings.load(work / "embeddings.safetensors")
    ref = cluster(emb, dense_max=20, block=8, out_dir=tmp_path / "ref", threads=1)
    ref.write(tmp_path / "ref.tsv")
    assert out.read_bytes() == (tmp_path / "ref.tsv").read_bytes()
    edges = (work / "edges" / "edges.parquet").read_bytes()
    assert edges == (tmp_path / "ref" / "edges" / "edges.parquet").read_bytes()
    labels = np.loadtxt(out, dtype=str, skiprows=1, usecols=(0, 1))
    fam = [n.split("_")[0] for n in labels[:, 0]]
    from rnabert import metrics

    assert metrics.ari(fam, labels[:, 1]) > 0.9


def test_cluster_a_database_gives_the_fasta_clusters(tmp_path, rng, capsys):
    from rnabert.search.database import Database

    fa = _families(tmp_path / "in.fa", rng, 3, 4)
    Database.build(tmp_path / "db.rnabert", str(fa), dtype="float32", progress=False)
    assert main(["cluster", str(fa), "-o", str(tmp_path / "fasta.tsv"), "-q"]) == 0
    assert main(["cluster", str(tmp_path / "db.rnabert"), "-o", str(tmp_path / "db.tsv")]) == 0
    assert "12 sequences, 3 clusters" in capsys.readouterr().err
    assert (tmp_path / "db.tsv").read_text() == (tmp_path / "fasta.tsv").read_text()
    (tmp_path / "plain").mkdir()
    assert main(["cluster", str(tmp_path / "plain"), "-q"]) == 2
    assert "not an rnabert search database" in capsys.readouterr().err
