"""Never lose the user's data: outputs that are inputs are refused, outputs are checked before any
work and written through a temporary file, corrupt inputs and extreme vectors give one-line errors
or right answers, and the command line's rough edges (stdin, --strict, -q, help text, warnings)."""

import gzip
import io
import os
import sys

import numpy as np
import pytest

from rnabert import Embeddings
from rnabert.cli import main
from rnabert.outputs import atomic_path, check_output

ORIGINAL = "rnabert_original_format_random_init.pt"
FASTA = ">first\nACGUACGUAG\nCUAGC\n>second\nggguuuccc\n>third\nACGGUAGCUA\n"


@pytest.fixture
def weights(fixtures_dir):
    return str(fixtures_dir / ORIGINAL)


@pytest.fixture
def fasta(tmp_path):
    path = tmp_path / "in.fa"
    path.write_text(FASTA)
    return path


@pytest.fixture
def emb_file(tmp_path, rng):
    arrays = [rng.normal(size=(n, 16)).astype(np.float32) for n in (6, 9, 7)]
    path = tmp_path / "emb.safetensors"
    Embeddings.from_arrays(arrays, names=["a", "b", "c"]).save(path)
    return path


def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], err
    return lines[0]


# -- 1: an output that is an input is refused, also through links ----------------------------------
@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
def test_align_refuses_output_that_is_its_input(tmp_path, fasta, weights, capsys, link):
    out = fasta
    if link == "symlink":
        out = tmp_path / "link.tsv"
        os.symlink(fasta, out)
    elif link == "hardlink":
        out = tmp_path / "hard.tsv"
        os.link(fasta, out)
    argv = ["align", str(fasta), "-o", str(out), "--weights", weights, "-q", "--device", "cpu"]
    assert main(argv) == 2
    _one_line_error(capsys, "is the input")
    assert fasta.read_text() == FASTA


def test_embed_refuses_output_that_is_its_input(tmp_path, fasta, weights, capsys):
    link = tmp_path / "link.fa"
    os.symlink(fasta, link)
    for out in (fasta, link):
        assert main(["embed", str(link), "-o", str(out), "--weights", weights, "-q"]) == 2
        _one_line_error(capsys, "is the input")
    assert fasta.read_text() == FASTA


def test_align_refuses_embeddings_file_as_output(emb_file, capsys):
    before = emb_file.read_bytes()
    assert main(["align", "--embeddings", str(emb_file), "-o", str(emb_file), "-q"]) == 2
    _one_line_error(capsys, "is the input")
    assert emb_file.read_bytes() == before


# -- 1: writes go through a temporary file, renamed when complete --------------------------------
def test_atomic_path_keeps_old_file_when_interrupted(tmp_path):
    final = tmp_path / "out.tsv"
    final.write_text("old\n")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(final) as tmp:
            with open(tmp, "w") as fh:
                fh.write("half")
            raise KeyboardInterrupt
    assert final.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.tsv"]  # no temporary file left behind


def test_writers_leave_only_their_files(tmp_path, rng):
    from rnabert.alignment import align_many

    emb = Embeddings.from_arrays([rng.normal(size=(n, 8)) for n in (5, 6, 7)])
    result = align_many(emb, device="cpu")
    final = tmp_path / "hits.tsv"
    # every library writer replaces the file whole, and files get ordinary permissions
    result.write(final, "tsv")
    emb.save(tmp_path / "e.safetensors")
    emb.save(tmp_path / "e.npz")
    emb.save_pooled(tmp_path / "p.safetensors")
    names = sorted(os.listdir(tmp_path))
    assert names == ["e.npz", "e.safetensors", "hits.tsv", "p.safetensors"]
    umask = os.umask(0)
    os.umask(umask)
    for name in names:
        assert os.stat(tmp_path / name).st_mode & 0o777 == 0o666 & ~umask


def test_gzip_output_is_reproducible_and_complete(tmp_path):
    from rnabert.seqs import SeqRecord, write_fasta

    recs = [SeqRecord("a", "ACGU"), SeqRecord("b", "GGCC")]
    write_fasta(recs, tmp_path / "x.fa.gz")
    first = (tmp_path / "x.fa.gz").read_bytes()
    write_fasta(recs, tmp_path / "x.fa.gz")
    assert (tmp_path / "x.fa.gz").read_bytes() == first
    assert gzip.decompress(first).decode() == ">a\nACGU\n>b\nGGCC\n"
    assert os.listdir(tmp_path) == ["x.fa.gz"]


# -- 4: output paths are checked before any work -------------------------------------------------
def test_unwritable_outputs_fail_before_any_work(tmp_path, fasta, weights, capsys, monkeypatch):
    import rnabert.alignment.api as api
    import rnabert.model as model

    def no_work(*a, **k):
        raise AssertionError("work started before the output was checked")

    monkeypatch.setattr(api, "align_many", no_work)
    monkeypatch.setattr(model, "load_model", no_work)
    missing = str(tmp_path / "nope" / "o.tsv")
    assert main(["align", str(fasta), "-o", missing, "-q"]) == 2
    _one_line_error(capsys, "does not exist")
    assert main(["embed", str(fasta), "-o", str(tmp_path / "nope" / "x.safetensors")]) == 2
    _one_line_error(capsys, "does not exist")
    assert main(["embed", str(fasta), "-o", str(tmp_path)]) == 2
    _one_line_error(capsys, "is a directory")


def test_check_output_unwritable_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(ValueError, match="not writable"):
            check_output(ro / "x.tsv")
    finally:
        ro.chmod(0o700)


# -- 5: corrupt inputs are one-line errors naming the file ---------------------------------------
def _corrupt_inputs(tmp_path):
    whole = gzip.compress((FASTA * 200).encode())
    trunc = tmp_path / "trunc.fa.gz"
    trunc.write_bytes(whole[: len(whole) // 2])
    bad = tmp_path / "bad.fa.gz"
    bad.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 2)
    garbage = tmp_path / "garbage.fa"
    garbage.write_bytes(bytes(np.random.default_rng(1).integers(128, 256, 400, dtype=np.uint8)))
    return [trunc, bad, garbage]


def test_corrupt_sequence_files_are_one_line_errors(tmp_path, weights, capsys):
    for path in _corrupt_inputs(tmp_path):
        assert main(["align", str(path), "-q", "--weights", weights, "--device", "cpu"]) == 2
        _one_line_error(capsys, path.name)
        out = tmp_path / "x.safetensors"
        assert main(["embed", str(path), "-o", str(out), "--weights", weights, "-q"]) == 2
        _one_line_error(capsys, path.name)
        assert not out.exists()


def test_nan_in_embeddings_file_names_the_file(tmp_path, rng, capsys):
    emb = Embeddings.from_arrays([rng.normal(size=(n, 8)) for n in (4, 5)], names=["p", "q"])
    emb.values[6, 2] = np.nan
    for name in ("nan.safetensors", "nan.npz"):
        emb.save(tmp_path / name)
        with pytest.raises(ValueError, match=rf"{name}: .*NaN.*'q', position 3"):
            Embeddings.load(tmp_path / name)
        assert main(["align", "--embeddings", str(tmp_path / name), "-q"]) == 2
        _one_line_error(capsys, name, "NaN")


# -- 8: extreme vectors ---------------------------------------------------------------------------
@pytest.mark.parametrize("size", [1e19, 1e30, 1e-20, 1e-40])
def test_extreme_vectors_score_like_ordinary_ones(rng, size):
    from rnabert.alignment import align_many

    a = rng.normal(size=(5, 16))
    emb = Embeddings.from_arrays([a * size, a * size])
    ref = Embeddings.from_arrays([a, a])
    assert np.allclose(emb.normalized(), ref.normalized(), atol=1e-4)  # 1e-40: subnormal
    assert align_many(emb, device="cpu").score[0] == pytest.approx(5.0, abs=1e-4)


def test_unrepresentable_vectors_are_refused(rng):
    a = rng.normal(size=(5, 16))
    with pytest.raises(ValueError, match="'big'.*float32"):
        Embeddings.from_arrays([a, a * 1e39], names=["ok", "big"])
    with pytest.raises(ValueError, match="array 0 .*finite"):
        Embeddings.from_arrays([np.full((2, 3), np.inf)])


# -- 9: command-line rough edges ------------------------------------------------------------------
def test_help_shows_no_none_defaults(capsys):
    for cmd in ("embed", "align"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        text = capsys.readouterr().out
        assert "(default: None)" not in text
        assert "--quiet" in text and "--no-progress" in text and "--strict" in text


def test_align_strict_rejects_ambiguous_bases(tmp_path, weights, capsys):
    path = tmp_path / "n.fa"
    path.write_text(">a\nACGUNNACGU\n>b\nACGGUACGU\n")
    argv = ["align", str(path), "-q", "--weights", weights, "--device", "cpu"]
    assert main(argv + ["--strict"]) == 2
    _one_line_error(capsys, "ambiguous base 'N' at position 5")
    assert main(argv) == 0


def test_ambiguity_warning_is_one_line_without_source(tmp_path, weights):
    import subprocess

    path = tmp_path / "n.fa"
    path.write_text(">a\nACGUNNACGU\n>b\nACGGUACGU\n")
    cmd = [sys.executable, "-m", "rnabert.cli", "align", str(path), "-q", "--weights", weights]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "rnabert: warning: 2 ambiguous bases (N×2) in 1 sequence ('a') will be encoded as MASK"
    ]


def test_stdin_and_stdout_as_dash(tmp_path, weights):
    import subprocess

    base = [sys.executable, "-m", "rnabert.cli"]
    w = ["--weights", weights, "--device", "cpu"]
    done = subprocess.run(
        base + ["align", "-", "-o", "-", "-q"] + w,
        input=FASTA,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().split("\n")
    assert lines[0].startswith("name_a\tname_b\tscore") and len(lines) == 4
    done = subprocess.run(
        base + ["embed", "-", "-o", "-", "-q"] + w,
        input=FASTA.encode(),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (tmp_path / "e.safetensors").write_bytes(done.stdout)
    emb = Embeddings.load(tmp_path / "e.safetensors")
    assert emb.names == ["first", "second", "third"]


# -- 7: long sequences: window choice in memory O(length) -----------------------------------------
def _central_oracle(length, starts, window):
    p = np.arange(length)[None, :]
    s = starts[:, None]
    c = np.minimum(p - s, s + window - 1 - p)
    c[(p < s) | (p >= s + window)] = -1
    return np.argmax(c, axis=0)


def test_most_central_window_matches_oracle_in_linear_memory():
    import tracemalloc

    from rnabert.model.inference import most_central_window, window_starts

    for length in (1, 439, 440, 441, 1000, 4321):
        for window, stride in ((440, 220), (440, 100), (10, 3), (7, 7)):
            starts = window_starts(length, window, stride)
            want = _central_oracle(length, starts, window)
            np.testing.assert_array_equal(most_central_window(length, starts, window), want)
    length = 200_000  # 908 windows: the windows-by-bases matrix alone would be 1.45 GB
    starts = window_starts(length, 440, 220)
    tracemalloc.start()
    try:
        most_central_window(length, starts, 440)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * length  # a few int64 arrays of the sequence's length, not 1.45 GB


# -- 3: alignments are written chunk by chunk ------------------------------------------------------
@pytest.mark.parametrize("fmt", ["tsv", "fasta", "stockholm"])
def test_chunked_traceback_output_equals_whole(tmp_path, rng, fmt):
    from rnabert.alignment import api

    arrays = [rng.normal(size=(int(n), 8)) for n in rng.integers(3, 12, size=7)]
    seqs = ["".join(rng.choice(list("ACGU"), size=len(a))) for a in arrays]
    emb = Embeddings.from_arrays(arrays, names=[f"r{k}" for k in range(7)], sequences=seqs)
    path = tmp_path / "e.safetensors"
    emb.save(path)
    whole = io.StringIO()
    api.align_many(emb, traceback=True, device="cpu").write(whole, fmt)
    chunks = list(api.align_many_chunks(emb, chunk_pairs=4, device="cpu"))
    assert [len(c) for c in chunks] == [4, 4, 4, 4, 4, 1]  # 21 pairs
    out = tmp_path / f"o.{fmt}"
    argv = ["align", "--embeddings", str(path), "--traceback", "--format", fmt, "-q"]
    argv += ["-o", str(out), "--chunk-pairs", "4"]
    assert main(argv) == 0
    assert out.read_text() == whole.getvalue()


def test_sigkilled_align_resumes_to_identical_output(tmp_path, rng):
    import json
    import signal
    import subprocess
    import time

    arrays = [rng.normal(size=(int(n), 16)) for n in rng.integers(30, 60, size=260)]
    path = tmp_path / "e.safetensors"
    Embeddings.from_arrays(arrays).save(path)
    base = [sys.executable, "-m", "rnabert.cli", "align", "--embeddings", str(path)]
    base += ["--traceback", "-q", "--threads", "1", "--chunk-pairs", "300"]
    whole = tmp_path / "whole.tsv"
    assert main(base[3:] + ["-o", str(whole)]) == 0  # the uninterrupted run, in this process
    out = tmp_path / "out.tsv"
    state = tmp_path / "out.tsv.partial.json"
    proc = subprocess.Popen(base + ["-o", str(out)])
    deadline = time.time() + 120
    while time.time() < deadline:
        if state.exists() and json.loads(state.read_text())["chunks"] >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()  # never a partial file under the final name
    done = json.loads(state.read_text())
    assert 3 <= done["chunks"] < 112  # 33,670 pairs in chunks of 300: killed part-way
    assert (tmp_path / "out.tsv.partial").stat().st_size >= done["bytes"]
    subprocess.run(base + ["-o", str(out), "--resume"], check=True, timeout=300)
    assert out.read_bytes() == whole.read_bytes()
    assert not state.exists() and not (tmp_path / "out.tsv.partial").exists()


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path, weights):
    """`rnabert align ... | head -1`: the closed pipe ends the run with SIGPIPE's status (141)
    and nothing on standard error, not a BrokenPipeError traceback."""
    import subprocess

    from conftest import EXAMPLES

    ex = str(EXAMPLES / "rfam_examples.fa")
    argv = [sys.executable, "-m", "rnabert.cli", "align", ex, ex, "--traceback", "-q"]
    argv += ["--chunk-pairs", "16", "--weights", weights, "--device", "cpu", "--threads", "1"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"name_a\t")
    proc.stdout.close()  # the reader goes away after one line; 1,600 pairs remain to write
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""
