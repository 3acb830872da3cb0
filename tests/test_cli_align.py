"""`rnabert align` on precomputed embeddings: tsv, fasta and stockholm outputs, and one-line
errors."""

import numpy as np
import pytest

from rnabert.cli import main
from rnabert.embeddings import Embeddings


def _random_set(rng, names, letters=True, dim=16):
    lengths = rng.integers(5, 18, size=len(names))
    arrays = [rng.normal(size=(int(L), dim)).astype(np.float32) for L in lengths]
    seqs = ["".join(rng.choice(list("ACGU"), size=int(L))) for L in lengths] if letters else None
    return Embeddings.from_arrays(arrays, names=names, sequences=seqs)


@pytest.fixture
def emb_file(rng, tmp_path):
    emb = _random_set(rng, ["r1", "r2", "r3", "r4"])
    path = tmp_path / "emb.safetensors"
    emb.save(path)
    return emb, path


def _tsv(text):
    lines = text.strip("\n").split("\n")
    return lines[0].split("\t"), [ln.split("\t") for ln in lines[1:]]


def test_tsv_all_vs_all_to_stdout(emb_file, capsys):
    from rnabert.alignment import align_many

    emb, path = emb_file
    assert main(["align", "--embeddings", str(path), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    header, rows = _tsv(out)
    assert header == ["name_a", "name_b", "score"]
    assert len(rows) == 6
    expect = align_many(emb, device="cpu")
    assert [r[:2] for r in rows] == [
        [emb.names[i], emb.names[j]] for i, j in zip(expect.i, expect.j)
    ]
    np.testing.assert_allclose([float(r[2]) for r in rows], expect.score, rtol=1e-5, atol=1e-5)


def test_tsv_with_traceback_and_options(emb_file, tmp_path, capsys):
    _, path = emb_file
    out = tmp_path / "scores.tsv"
    rc = main(
        [
            "align",
            "--embeddings",
            str(path),
            "--all-vs-all",
            "--traceback",
            "--mode",
            "local",
            "--bias",
            "-0.2",
            "--gap-open",
            "0.8",
            "--gap-extend",
            "0.2",
            "--threads",
            "1",
            "--device",
            "cpu",
            "-o",
            str(out),
            "--min-score",
            "-100",
        ]
    )
    assert rc == 0
    header, rows = _tsv(out.read_text())
    assert header == ["name_a", "name_b", "score", "identity", "cigar"]
    assert len(rows) == 6
    for r in rows:
        assert 0.0 <= float(r[3]) <= 1.0
        assert set(r[4]) <= set("0123456789MID")
    assert "pairs" in capsys.readouterr().err  # the summary line


def test_fasta_and_stockholm(emb_file, tmp_path):
    emb, path = emb_file
    fa = tmp_path / "pairs.fa"
    # --format fasta implies --traceback
    assert (
        main(
            [
                "align",
                "--embeddings",
                str(path),
                "--format",
                "fasta",
                "-o",
                str(fa),
                "-q",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    text = fa.read_text()
    headers = [ln[1:] for ln in text.splitlines() if ln.startswith(">")]
    assert len(headers) == 12
    assert headers[:2] == ["r1", "r2"]
    seqs = []
    for ln in text.splitlines():
        if ln.startswith(">"):
            seqs.append("")
        else:
            seqs[-1] += ln.strip()
    assert (
        seqs[0].replace("-", "") == emb.sequences[0]
        and seqs[1].replace("-", "") == emb.sequences[1]
    )
    assert len(seqs[0]) == len(seqs[1])

    sto = tmp_path / "pairs.sto"
    assert (
        main(
            [
                "align",
                "--embeddings",
                str(path),
                "--format",
                "stockholm",
                "-o",
                str(sto),
                "-q",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    text = sto.read_text()
    assert text.count("# STOCKHOLM 1.0") == 6 and text.count("//") == 6
    first = text.split("//")[0]
    rows = [ln.split() for ln in first.splitlines() if ln and not ln.startswith("#")]
    assert [r[0] for r in rows] == ["r1", "r2"]
    assert rows[0][1].replace("-", "") == emb.sequences[0]


def test_query_against_targets(rng, tmp_path, capsys):
    q = _random_set(rng, ["q1", "q2"])
    t = _random_set(rng, ["t1", "t2", "t3"])
    qp, tp = tmp_path / "q.safetensors", tmp_path / "t.npz"
    q.save(qp)
    t.save(tp)
    assert (
        main(
            [
                "align",
                "--embeddings",
                str(qp),
                "--embeddings",
                str(tp),
                "-q",
                "--device",
                "cpu",
                "--top-k",
                "2",
            ]
        )
        == 0
    )
    _, rows = _tsv(capsys.readouterr().out)
    assert len(rows) == 4
    assert {r[0] for r in rows} == {"q1", "q2"} and {r[1] for r in rows} <= {"t1", "t2", "t3"}


def test_letters_from_fasta(rng, tmp_path, capsys):
    emb = _random_set(rng, ["a", "b", "c"], letters=False)
    path = tmp_path / "e.safetensors"
    emb.save(path)
    seqs = ["".join(rng.choice(list("ACGU"), size=int(L))) for L in emb.lengths]
    fa = tmp_path / "s.fa"
    fa.write_text("".join(f">s{k}\n{s}\n" for k, s in enumerate(seqs)))
    assert (
        main(
            [
                "align",
                str(fa),
                "--embeddings",
                str(path),
                "--format",
                "stockholm",
                "-q",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    rows = [ln.split() for ln in out.split("//")[0].splitlines() if ln and not ln.startswith("#")]
    assert rows[0][0] == "s0" and rows[0][1].replace("-", "") == seqs[0]


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--embeddings", "missing.safetensors"], "missing.safetensors"),
        (["--embeddings", "{bad}"], "cannot read embeddings"),
        (
            ["--embeddings", "{good}", "--mode", "banana"],
            None,
        ),  # argparse rejects the choice: exit 2
        (["--embeddings", "{good}", "--gap-open", "-1"], "gap_open"),
        (["--embeddings", "{good}", "--score", "soft", "--traceback"], "soft"),
        (["--embeddings", "{good}", "--format", "parquet"], "-o"),
        (["--embeddings", "{good}", "--embeddings", "{good}", "--all-vs-all"], "all-vs-all"),
        ([], "embeddings"),
        (["{good}"], "--embeddings"),
        (["--embeddings", "{good}", "--threads", "0"], "threads"),
    ],
)
def test_errors_are_one_line(argv, needle, emb_file, tmp_path, capsys):
    _, good = emb_file
    bad = tmp_path / "bad.safetensors"
    bad.write_text("this is not a safetensors file\n")
    argv = [a.replace("{good}", str(good)).replace("{bad}", str(bad)) for a in argv]
    if needle is None:
        with pytest.raises(SystemExit) as exc:
            main(["align", *argv])
        assert exc.value.code == 2
        return
    rc = main(["align", *argv, "--device", "cpu"])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("rnabert align: error:")
    assert needle in err


def test_parquet_and_device_errors(emb_file, tmp_path, capsys):
    _, good = emb_file
    out = tmp_path / "s.parquet"
    rc = main(
        [
            "align",
            "--embeddings",
            str(good),
            "--format",
            "parquet",
            "-o",
            str(out),
            "-q",
            "--device",
            "cpu",
        ]
    )
    try:
        import pyarrow.parquet as pq
    except ImportError:
        assert rc == 2
        assert "rnabert[tables]" in capsys.readouterr().err
    else:
        assert rc == 0 and pq.read_table(out).num_rows == 6
    from rnabert.backends import cuda_module

    try:
        cuda_module()
    except RuntimeError:
        assert main(["align", "--embeddings", str(good), "--device", "cuda"]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "cuda" in err


def test_help_explains_options(capsys):
    with pytest.raises(SystemExit):
        main(["align", "--help"])
    text = capsys.readouterr().out
    for opt in (
        "--mode",
        "--all-vs-all",
        "--traceback",
        "--format",
        "--output",
        "--score",
        "--top-k",
        "--min-score",
        "--gap-open",
        "--gap-extend",
        "--scale",
        "--bias",
        "--free-ends",
        "--threads",
        "--device",
        "--weights",
        "--embeddings",
    ):
        assert opt in text
