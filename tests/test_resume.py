"""Outputs streamed as their chunks complete and resumable after any interruption: `rnabert embed`
(safetensors, npz, pooled) and every `rnabert align` output (TSV, FASTA, Stockholm, Parquet, score
only or with alignments). A run killed with SIGKILL and rerun with --resume ends byte-identical to
an uninterrupted run; SIGINT stops within about a second with the finished chunks on disk; memory
is bounded by a chunk, also for one long sequence embedded in windows; --resume is refused in one
line where it cannot work."""

import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from rnabert import Embeddings
from rnabert.cli import main

ORIGINAL = "rnabert_original_format_random_init.pt"
CLI = [sys.executable, "-m", "rnabert.cli"]
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture
def weights(fixtures_dir):
    return str(fixtures_dir / ORIGINAL)


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """A one-layer encoder with 64 positions: windows and chunks behave as with the real one, and
    runs take a fraction of the time."""
    from rnabert.model.bert import new_model
    from rnabert.model.checkpoint import save_model
    from rnabert.model.config import RnaBertConfig

    path = tmp_path_factory.mktemp("tiny") / "tiny.safetensors"
    config = RnaBertConfig(num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=64)
    save_model(new_model(config, seed=1), path)
    return str(path)


def _fasta(path, lengths, seed=0):
    rng = np.random.default_rng(seed)
    with open(path, "w") as fh:
        for k, n in enumerate(lengths):
            fh.write(f">s{k}\n{''.join(rng.choice(list('ACGU'), size=int(n)))}\n")
    return str(path)


def _emb_file(path, rng, lengths, dim=16, with_seqs=False):
    arrays = [rng.normal(size=(int(n), dim)) for n in lengths]
    seqs = [''.join(rng.choice(list("ACGU"), size=len(a))) for a in arrays] if with_seqs else None
    Embeddings.from_arrays(
        arrays, names=[f"r{k}" for k in range(len(arrays))], sequences=seqs
    ).save(path)
    return str(path)


def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err and len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], err


def _kill_after_chunks(cmd, out, chunks=3, sig=signal.SIGKILL, env=None):
    """Start cmd, send ``sig`` once OUT.partial.json records ``chunks`` complete chunks; return
    (seconds from the signal to the exit, return code, the state file's content)."""
    state = out + ".partial.json"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        try:
            if json.loads(open(state).read())["chunks"] >= chunks:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    t0 = time.perf_counter()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    took = time.perf_counter() - t0
    assert not os.path.exists(out), "a partial output under the final name"
    return took, proc.returncode, json.loads(open(state).read()), err.decode()


# -- align: every output streamed and resumable -------------------------------------------------
@pytest.mark.parametrize("score", ["dp", "soft"])
@pytest.mark.parametrize("targets", [False, True])
@pytest.mark.parametrize("chunk_pairs", [1, 7, 1000])
def test_score_chunks_equal_the_whole_result(rng, score, targets, chunk_pairs):
    from rnabert.alignment import api

    emb = Embeddings.from_arrays([rng.normal(size=(int(n), 8)) for n in rng.integers(3, 15, 9)])
    temb = (
        Embeddings.from_arrays([rng.normal(size=(int(n), 8)) for n in rng.integers(3, 15, 5)])
        if targets
        else None
    )
    kw = dict(targets=temb, score=score, device="cpu", threads=1)
    median = float(np.median(api.align_many(emb, **kw).score))
    for min_score in (None, median):
        whole = api.align_many(emb, min_score=min_score, **kw)
        parts = list(
            api.align_many_chunks(
                emb, traceback=False, chunk_pairs=chunk_pairs, min_score=min_score, **kw
            )
        )
        if chunk_pairs == 1:
            assert len(parts) == (9 if targets else 8)  # one query row a chunk
        for name in ("i", "j", "score"):
            got = np.concatenate([getattr(p, name) for p in parts])
            np.testing.assert_array_equal(got, getattr(whole, name))
        assert 0 < len(whole) and (min_score is None or len(whole) < (45 if targets else 36))
        later = list(
            api.align_many_chunks(
                emb,
                traceback=False,
                chunk_pairs=chunk_pairs,
                min_score=min_score,
                skip_chunks=2,
                **kw,
            )
        )
        assert len(later) == max(len(parts) - 2, 0)
        for a, b in zip(later, parts[2:]):
            np.testing.assert_array_equal(a.score, b.score)


@pytest.mark.parametrize("traceback", [False, True])
def test_parquet_output_is_streamed_as_row_groups(tmp_path, rng, traceback):
    pq = pytest.importorskip("pyarrow.parquet")
    from rnabert.alignment import api

    path = _emb_file(tmp_path / "e.safetensors", rng, rng.integers(3, 12, size=8), with_seqs=True)
    whole = api.align_many(Embeddings.load(path), traceback=traceback, device="cpu").to_arrow()
    out = tmp_path / "o.parquet"
    argv = ["align", "--embeddings", path, "--format", "parquet", "-o", str(out), "-q"]
    argv += ["--chunk-pairs", "5"] + (["--traceback"] if traceback else [])
    assert main(argv) == 0
    got = pq.ParquetFile(out)
    # 28 pairs: chunks of 5 pairs with alignments; of whole query rows (7, 6, 5, 4+3, 2+1+0) without
    assert got.num_row_groups == (6 if traceback else 5)
    assert got.read().equals(whole)
    assert sorted(os.listdir(tmp_path)) == ["e.safetensors", "o.parquet"]


def test_score_only_tsv_is_streamed_in_chunks_and_equals_the_whole(tmp_path, rng):
    from rnabert.alignment import api

    path = _emb_file(tmp_path / "e.safetensors", rng, rng.integers(3, 12, size=9))
    for extra in ([], ["--min-score", "1.5"], ["--score", "soft"]):
        whole = io.StringIO()
        kw = {"min_score": 1.5} if extra[:1] == ["--min-score"] else {}
        if extra[:1] == ["--score"]:
            kw["score"] = "soft"
        api.align_many(Embeddings.load(path), device="cpu", **kw).write(whole, "tsv")
        out = tmp_path / "o.tsv"
        argv = ["align", "--embeddings", path, "-o", str(out), "-q", "--chunk-pairs", "4"]
        assert main(argv + extra) == 0
        assert out.read_text() == whole.getvalue()


ALIGN_RUNS = {  # options, chunks of the whole run
    "tsv": (["--chunk-pairs", "1"], 239),  # score only, one query row a chunk
    "parquet": (["--format", "parquet", "--chunk-pairs", "1"], 239),
    "parquet-traceback": (["--format", "parquet", "--traceback", "--chunk-pairs", "200"], 143),
}


@pytest.fixture(scope="module")
def align_job(tmp_path_factory):
    d = tmp_path_factory.mktemp("align_job")
    rng = np.random.default_rng(9)
    path = _emb_file(d / "e.safetensors", rng, rng.integers(100, 160, size=240), with_seqs=True)
    return CLI + ["align", "--embeddings", path, "-q", "--threads", "1", "--device", "cpu"]


@pytest.mark.parametrize("run", sorted(ALIGN_RUNS))
def test_sigkilled_align_resumes_to_identical_output(tmp_path, align_job, run):
    if run.startswith("parquet"):
        pytest.importorskip("pyarrow")
    options, total = ALIGN_RUNS[run]
    whole = str(tmp_path / "whole.out")
    assert main(align_job[3:] + options + ["-o", whole]) == 0
    out = str(tmp_path / "out.out")
    _, rc, state, _ = _kill_after_chunks(align_job + options + ["-o", out], out)
    assert rc == -signal.SIGKILL
    assert 3 <= state["chunks"] < total, state  # killed part-way
    done = subprocess.run(
        align_job + options + ["-o", out, "--resume"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert open(out, "rb").read() == open(whole, "rb").read()
    assert sorted(os.listdir(tmp_path)) == ["out.out", "whole.out"]


# -- --resume is refused where it cannot work ----------------------------------------------------
def test_resume_is_refused_where_it_cannot_work(tmp_path, rng, weights, capsys):
    path = _emb_file(tmp_path / "e.safetensors", rng, [5, 6, 7])
    assert main(["align", "--embeddings", path, "--resume"]) == 2
    _one_line_error(capsys, "--resume", "-o")
    assert main(["align", "--embeddings", path, "--resume", "-o", "-"]) == 2
    _one_line_error(capsys, "--resume", "-o")
