"""The `rnabert embed` command: outputs, options, one-line errors."""

import json

import numpy as np
import pytest

from rnabert import Embeddings
from rnabert.cli import main

ORIGINAL = "rnabert_original_format_random_init.pt"


@pytest.fixture
def weights(fixtures_dir):
    return str(fixtures_dir / ORIGINAL)


@pytest.fixture
def fasta(tmp_path):
    path = tmp_path / "in.fa"
    path.write_text(">first\nACGUACGUAG\nCUAGC\n>second\nggguuuccc\n")
    return path


def test_embed_writes_per_base_safetensors(tmp_path, fasta, weights, capsys):
    out = tmp_path / "out.safetensors"
    assert main(["embed", str(fasta), "-o", str(out), "--weights", weights, "--no-progress"]) == 0
    emb = Embeddings.load(out)
    assert emb.names == ["first", "second"]
    assert emb.sequences == ["ACGUACGUAGCUAGC", "GGGUUUCCC"]
    assert emb.values.shape == (24, 120)
    assert "embedded 2 sequences (24 bases)" in capsys.readouterr().err


def test_embed_npz_and_pooled(tmp_path, fasta, weights):
    out = tmp_path / "out.npz"
    assert main(["embed", str(fasta), "-o", str(out), "--weights", weights, "--no-progress"]) == 0
    per_base = Embeddings.load(out)
    pooled_out = tmp_path / "pooled.npz"
    assert main(["embed", str(fasta), "-o", str(pooled_out), "--pooled", "--weights", weights]) == 0
    with np.load(pooled_out) as z:
        np.testing.assert_allclose(z["pooled"], per_base.pooled(), rtol=1e-6)
        assert z["names"].tolist() == ["first", "second"]
    st = tmp_path / "pooled.safetensors"
    assert (
        main(
            [
                "embed",
                str(fasta),
                "-o",
                str(st),
                "--pooled",
                "--format",
                "safetensors",
                "--weights",
                weights,
            ]
        )
        == 0
    )
    from safetensors import safe_open

    with safe_open(str(st), framework="numpy") as f:
        assert f.get_tensor("pooled").shape == (2, 120)
        assert json.loads(f.metadata()["names"]) == ["first", "second"]


@pytest.mark.parametrize(
    "content, expected",
    [
        (">a\nACGU\n>b\nAC7U\n", "'b'.*position 3"),
        (">a\nACGU\n>a\nACGU\n", "duplicate"),
        ("ACGU\n>a\nACGU\n", r"bad.fa:1: cannot tell the format"),
        (">a\n\n>b\nACGU\n", "'a'"),
    ],
)
def test_embed_bad_input_is_one_line_and_exit_2(tmp_path, weights, capsys, content, expected):
    bad = tmp_path / "bad.fa"
    bad.write_text(content)
    assert (
        main(["embed", str(bad), "-o", str(tmp_path / "o.safetensors"), "--weights", weights]) == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("rnabert embed: error:")
    import re

    assert re.search(expected, err), err
    assert not (tmp_path / "o.safetensors").exists()


def test_embed_missing_input_and_bad_weights(tmp_path, fasta, capsys):
    assert main(["embed", str(tmp_path / "nope.fa"), "-o", str(tmp_path / "o.st")]) == 2
    assert "input file not found" in capsys.readouterr().err
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"junk")
    assert main(["embed", str(fasta), "-o", str(tmp_path / "o.st"), "--weights", str(junk)]) == 2
    assert "junk.pt" in capsys.readouterr().err


def test_embed_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as done:
        main(["embed", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--output",
        "--format",
        "--pooled",
        "--weights",
        "--device",
        "--batch-tokens",
        "--strict",
        "--no-progress",
    ):
        assert option in text
