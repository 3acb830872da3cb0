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


# -- embed: streamed, resumable ----------------------------------------------------------------
@pytest.mark.parametrize("fmt,pooled", [("safetensors", False), ("npz", False), ("npz", True)])
def test_streamed_embed_file_equals_in_memory_result(tmp_path, weights, fmt, pooled):
    from rnabert.model import embed

    # two long sequences (windows) between short ones
    fa = _fasta(tmp_path / "in.fa", [30, 500, 12, 7, 900, 40, 33])
    whole = embed(fa, model=weights, device="cpu")
    out = str(tmp_path / f"o.{fmt}")
    argv = ["embed", fa, "-o", out, "--weights", weights, "--device", "cpu", "-q"]
    assert main(argv + (["--pooled"] if pooled else [])) == 0
    if fmt == "safetensors":  # the default chunking is embed()'s: the very same bytes
        ref = tmp_path / "ref.safetensors"
        whole.save(ref)
        assert open(out, "rb").read() == ref.read_bytes()
    if pooled:
        with np.load(out) as z:
            np.testing.assert_allclose(z["pooled"], whole.pooled(), rtol=1e-6, atol=1e-6)
            assert list(z["names"]) == whole.names
    else:
        got = Embeddings.load(out)
        np.testing.assert_array_equal(got.values, whole.values)
        np.testing.assert_array_equal(got.offsets, whole.offsets)
        assert got.names == whole.names and got.sequences == whole.sequences
    # small chunks: the same vectors up to the batching's last bits
    small = str(tmp_path / f"small.{fmt}")
    argv = ["embed", fa, "-o", small, "--weights", weights, "--device", "cpu", "-q"]
    assert main(argv + ["--chunk-bases", "50"] + (["--pooled"] if pooled else [])) == 0
    if pooled:
        with np.load(small) as z:
            np.testing.assert_allclose(z["pooled"], whole.pooled(), atol=1e-5)
    else:
        np.testing.assert_allclose(Embeddings.load(small).values, whole.values, atol=1e-5)
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["in.fa", f"o.{fmt}", f"small.{fmt}"]
        + (["ref.safetensors"] if fmt == "safetensors" else [])
    )


def test_safetensors_bytes_depend_only_on_content(tmp_path, rng):
    """The safetensors library writes its metadata in hash order, different from run to run."""
    path = tmp_path / "e.safetensors"
    _emb_file(path, rng, [3, 4, 5], with_seqs=True)
    code = (
        "import sys; from rnabert import Embeddings; "
        f"Embeddings.load({str(path)!r}).save(sys.argv[1])"
    )
    outs = []
    for k in range(4):
        dest = tmp_path / f"copy{k}.safetensors"
        subprocess.run([sys.executable, "-c", code, str(dest)], check=True)
        outs.append(dest.read_bytes())
    assert all(o == path.read_bytes() for o in outs)


@pytest.fixture(scope="module")
def embed_job(tmp_path_factory, tiny_weights):
    """Inputs slow enough to interrupt (about 100 chunks: many short sequences; one long sequence
    in 64-base windows, streamed 8 windows a chunk) and their uninterrupted outputs."""
    d = tmp_path_factory.mktemp("embed_job")
    rng = np.random.default_rng(5)
    inputs = {
        "many": _fasta(d / "many.fa", rng.integers(60, 140, size=400), seed=5),
        "long": _fasta(d / "long.fa", [40_000], seed=6),
    }
    jobs = {}
    for name, fa in inputs.items():
        argv = ["embed", fa, "--weights", tiny_weights, "--device", "cpu", "-q"]
        argv += ["--chunk-bases", "400" if name == "many" else "512"]
        for fmt, extra in (("safetensors", []), ("npz", ["--pooled"])):
            path = str(d / f"whole_{name}.{fmt}")
            assert main(argv + ["-o", path] + extra) == 0
            jobs[name, fmt] = (CLI + argv + extra, open(path, "rb").read())
    return jobs


@pytest.mark.parametrize(
    "job", [("many", "safetensors"), ("long", "safetensors"), ("long", "npz")], ids="-".join
)
def test_sigkilled_embed_resumes_to_identical_output(tmp_path, embed_job, job):
    cmd, want = embed_job[job]
    out = str(tmp_path / f"out.{job[1]}")
    _, rc, state, _ = _kill_after_chunks(cmd + ["-o", out], out, env=ONE_THREAD)
    assert rc == -signal.SIGKILL
    assert 3 <= state["chunks"] < 90, state  # killed part-way
    if job[0] == "long":  # inside the one sequence
        assert 0 < state["info"].get("bases", state["info"]["rows"]) < 40_000
    assert os.path.getsize(out + ".partial") >= state["bytes"]
    done = subprocess.run(
        cmd + ["-o", out, "--resume"], env=ONE_THREAD, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert open(out, "rb").read() == want
    assert os.listdir(tmp_path) == [f"out.{job[1]}"]


def test_sigint_stops_embed_within_a_second_keeping_finished_chunks(tmp_path, embed_job):
    base, want = embed_job["many", "safetensors"]
    out = str(tmp_path / "out.safetensors")
    took, rc, state, err = _kill_after_chunks(
        base + ["-o", out], out, sig=signal.SIGINT, env=ONE_THREAD
    )
    assert rc == 130 and "Traceback" not in err, err
    assert took < 1.5, f"SIGINT honoured after {took:.2f} s"
    assert state["chunks"] >= 3 and os.path.getsize(out + ".partial") >= state["bytes"]
    assert main(base[3:] + ["-o", out, "--resume"]) == 0
    assert open(out, "rb").read() == want


def test_embed_resume_with_other_options_is_refused(tmp_path, weights, capsys):
    fa = _fasta(tmp_path / "in.fa", [20, 30, 40])
    out = str(tmp_path / "o.safetensors")
    (tmp_path / "o.safetensors.partial").write_bytes(b"x" * 10)
    (tmp_path / "o.safetensors.partial.json").write_text(
        json.dumps({"key": "another run", "chunks": 1, "bytes": 5, "info": {"rows": 20}})
    )
    argv = ["embed", fa, "-o", out, "--weights", weights, "--device", "cpu", "--resume"]
    assert main(argv) == 2
    _one_line_error(capsys, "o.safetensors.partial", "other inputs or options")
    # without --resume the stale partial output is replaced
    assert main(argv[:-1] + ["-q"]) == 0
    assert Embeddings.load(out).names == ["s0", "s1", "s2"]
    assert sorted(os.listdir(tmp_path)) == ["in.fa", "o.safetensors"]


def test_embed_resume_with_nothing_to_resume_says_so(tmp_path, weights, capsys):
    fa = _fasta(tmp_path / "in.fa", [20, 30])
    out = str(tmp_path / "o.npz")
    assert main(["embed", fa, "-o", out, "--weights", weights, "--device", "cpu", "--resume"]) == 0
    assert "no interrupted run to resume" in capsys.readouterr().err
    assert Embeddings.load(out).names == ["s0", "s1"]


def test_embed_memory_is_bounded_by_a_chunk_not_the_input(tmp_path, tiny_weights):
    """Many sequences, and one long sequence in windows: after a small run of each, a run with
    50,000 more bases needs almost no more memory. Held whole, those bases' vectors alone would be
    24 MB (4 bytes x 120 a base), and the windows' own vectors twice that."""
    files = {
        name: _fasta(tmp_path / f"{name}.fa", lengths)
        for name, lengths in (
            ("few", [100] * 100),
            ("many", [100] * 600),
            ("short", [10_000]),
            ("long", [60_000]),
        )
    }
    argv = ["embed", "--weights", tiny_weights, "--device", "cpu", "-q", "--chunk-bases", "2000"]
    code = (
        "import json, resource, sys; from rnabert.cli import main; "
        "argv, files, out = json.loads(sys.argv[1]); peak = []\n"
        "for names in (('few', 'short'), ('many', 'long')):\n"
        "    for name in names:\n"
        "        assert main(argv + [files[name], '-o', out + name + '.safetensors']) == 0\n"
        "    peak.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
        "print(json.dumps(peak))"
    )
    blob = json.dumps([argv, files, str(tmp_path / "o_")])
    done = subprocess.run(
        [sys.executable, "-c", code, blob], capture_output=True, text=True, env=ONE_THREAD
    )
    assert done.returncode == 0, done.stderr
    small, large = json.loads(done.stdout.split("\n")[-2])
    assert large - small < 8, (small, large)
    emb = Embeddings.load(tmp_path / "o_long.safetensors")
    assert emb.values.shape == (60_000, 120) and np.isfinite(emb.values).all()


def test_long_sequence_windows_stream_like_the_whole(weights):
    """Windows encoded a group at a time give each base the row of its most central window, as
    encoding every window at once does."""
    from rnabert.model import inference
    from rnabert.model.inference import embed_rows, encode_ids, most_central_window, window_starts
    from rnabert.seqs import records_from, token_ids_of_clean

    model = inference.resolve_model(weights, inference.torch.device("cpu"))
    rng = np.random.default_rng(3)
    seqs = ["".join(rng.choice(list("ACGU"), size=n)) for n in (9, 1000, 31, 777, 5)]
    records = list(records_from(seqs))
    blocks = list(embed_rows(model, records, window=32, stride=12, group_bases=100))
    got = np.concatenate(blocks)
    assert len(blocks) > 10  # the long ones came in many blocks
    want = []
    for r in records:
        ids = token_ids_of_clean(r.seq)
        starts = window_starts(len(ids), 32, 12)
        enc = encode_ids(model, [ids[s : s + 32] for s in starts])
        choice = most_central_window(len(ids), starts, 32)
        want.append(np.stack([enc[w][p - starts[w]] for p, w in enumerate(choice)]))
    np.testing.assert_allclose(got, np.concatenate(want), atol=1e-5)


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


def test_top_k_chunks_equal_the_whole_result(rng):
    from rnabert.alignment import api

    emb = Embeddings.from_arrays([rng.normal(size=(int(n), 8)) for n in rng.integers(3, 15, 9)])
    whole = api.align_many(emb, top_k=2, device="cpu")
    for traceback in (False, True):
        parts = list(
            api.align_many_chunks(emb, top_k=2, chunk_pairs=4, traceback=traceback, device="cpu")
        )
        assert [len(p) for p in parts] == [4, 4, 4, 4, 2]
        for name in ("i", "j", "score"):
            got = np.concatenate([getattr(p, name) for p in parts])
            np.testing.assert_array_equal(got, getattr(whole, name))


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


ALIGN_RUNS = {  # embeddings, options, chunks of the whole run
    "tsv": ("many", ["--chunk-pairs", "1"], 239),  # score only, one query row a chunk
    "parquet": ("many", ["--format", "parquet", "--chunk-pairs", "1"], 239),
    "parquet-traceback": (
        "few",
        ["--format", "parquet", "--traceback", "--chunk-pairs", "100"],
        78,
    ),
}


@pytest.fixture(scope="module")
def align_job(tmp_path_factory):
    d = tmp_path_factory.mktemp("align_job")
    rng = np.random.default_rng(9)
    jobs = {}
    for name, n in (("many", 240), ("few", 125)):
        lengths = rng.integers(100, 160, size=n)
        path = _emb_file(d / f"{name}.safetensors", rng, lengths, with_seqs=True)
        jobs[name] = CLI + [
            "align",
            "--embeddings",
            path,
            "-q",
            "--threads",
            "1",
            "--device",
            "cpu",
        ]
    return jobs


@pytest.mark.parametrize("run", sorted(ALIGN_RUNS))
def test_sigkilled_align_resumes_to_identical_output(tmp_path, align_job, run):
    if run.startswith("parquet"):
        pytest.importorskip("pyarrow")
    job, options, total = ALIGN_RUNS[run]
    align_job = align_job[job]
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


def test_sigint_stops_score_only_align_within_a_second_keeping_finished_chunks(tmp_path, align_job):
    cmd = align_job["many"] + ["--chunk-pairs", "1"]
    whole = str(tmp_path / "whole.tsv")
    assert main(cmd[3:] + ["-o", whole]) == 0
    out = str(tmp_path / "out.tsv")
    took, rc, state, err = _kill_after_chunks(cmd + ["-o", out], out, sig=signal.SIGINT)
    assert rc == 130 and "Traceback" not in err, err
    assert took < 1.5, f"SIGINT honoured after {took:.2f} s"
    assert 3 <= state["chunks"] < 239 and os.path.getsize(out + ".partial") >= state["bytes"]
    assert main(cmd[3:] + ["-o", out, "--resume"]) == 0
    assert open(out, "rb").read() == open(whole, "rb").read()


# -- --resume is refused where it cannot work ----------------------------------------------------
def test_resume_is_refused_where_it_cannot_work(tmp_path, rng, weights, capsys):
    path = _emb_file(tmp_path / "e.safetensors", rng, [5, 6, 7])
    fa = _fasta(tmp_path / "in.fa", [10, 12])
    assert main(["align", "--embeddings", path, "--resume"]) == 2
    _one_line_error(capsys, "--resume", "-o")
    assert main(["align", "--embeddings", path, "--resume", "-o", "-"]) == 2
    _one_line_error(capsys, "--resume", "-o")
    assert main(["embed", fa, "-o", "-", "--resume", "--weights", weights]) == 2
    _one_line_error(capsys, "--resume", "-o")
    # standard input cannot be read again: refused before anything is read
    done = subprocess.run(
        CLI + ["embed", "-", "-o", str(tmp_path / "x.safetensors"), "--resume"],
        input=">a\nACGU\n",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "standard input" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "x.safetensors").exists()


def test_resumable_output_continues_after_its_last_complete_chunk(tmp_path):
    from rnabert.outputs import ResumableOutput

    path = str(tmp_path / "o.txt")
    out = ResumableOutput(path, "k1")
    out.file.write(b"one\n")
    out.chunk_done(lines=1)
    out.file.write(b"half a chun")  # killed here: not recorded
    out.close()
    assert not os.path.exists(path)
    with pytest.raises(ValueError, match="other inputs or options"):
        ResumableOutput(path, "k2", resume=True)
    again = ResumableOutput(path, "k1", resume=True)
    assert (again.chunks, again.info) == (1, {"lines": 1})
    again.file.write(b"two\n")
    again.chunk_done(lines=2)
    with again.finish():
        pass
    assert open(path, "rb").read() == b"one\ntwo\n"
    assert os.listdir(tmp_path) == ["o.txt"]
    # a partial file shorter than its record is refused, not padded
    out = ResumableOutput(path, "k1")
    out.file.write(b"one\n")
    out.chunk_done()
    out.close()
    os.truncate(path + ".partial", 2)
    with pytest.raises(ValueError, match="lacks chunks"):
        ResumableOutput(path, "k1", resume=True)
    # without resume a stale partial output is replaced
    fresh = ResumableOutput(path, "k1")
    assert fresh.chunks == 0 and os.path.getsize(path + ".partial") == 0
    assert not os.path.exists(path + ".partial.json")  # killed now, nothing claims to be done
    fresh.close()
    again = ResumableOutput(path, "k1", resume=True)
    assert again.chunks == 0 and not again.resumed
    again.close()


def test_score_only_all_vs_all_memory_is_bounded_by_a_chunk(tmp_path, rng):
    """After a small all-vs-all, one with 1.1 million pairs (a 22 MB TSV, and several times that
    as Python objects when held whole) needs almost no more memory."""
    small = _emb_file(tmp_path / "small.safetensors", rng, rng.integers(5, 12, size=300), dim=8)
    large = _emb_file(tmp_path / "large.safetensors", rng, rng.integers(5, 12, size=1500), dim=8)
    code = (
        "import json, resource, sys; from rnabert.cli import main; peak = []\n"
        "for emb, out in json.loads(sys.argv[1]):\n"
        "    argv = ['align', '--embeddings', emb, '-o', out, '-q', '--threads', '1']\n"
        "    assert main(argv + ['--device', 'cpu']) == 0\n"
        "    peak.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
        "print(json.dumps(peak))"
    )
    outs = [str(tmp_path / "small.tsv"), str(tmp_path / "large.tsv")]
    blob = json.dumps([[small, outs[0]], [large, outs[1]]])
    done = subprocess.run([sys.executable, "-c", code, blob], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    before, after = json.loads(done.stdout.split("\n")[-2])
    with open(outs[1]) as fh:
        assert sum(1 for _ in fh) == 1 + 1500 * 1499 // 2
    assert os.path.getsize(outs[1]) > 20 * 2**20
    assert after - before < 20, (before, after)
