"""The weights shipped inside the package: present, unchanged, loaded by default, reproducing their
record."""

import hashlib
import json

import numpy as np

import rnabert
from rnabert.model.checkpoint import DEFAULT_WEIGHTS

RECORD = DEFAULT_WEIGHTS.with_suffix(".json")


def test_shipped_weights_are_the_recorded_file():
    record = json.loads(RECORD.read_text())
    assert record["file"] == DEFAULT_WEIGHTS.name
    assert hashlib.sha256(DEFAULT_WEIGHTS.read_bytes()).hexdigest() == record["sha256"]
    assert DEFAULT_WEIGHTS.stat().st_size < 4 * 2**20  # about 2 MB: a 0.5 M-parameter model in fp32


def test_load_model_without_argument_loads_them_offline_and_reproduces_recorded_embeddings():
    record = json.loads(RECORD.read_text())
    model = rnabert.load_model()  # no path: the packaged file, no network
    probes = record["probes"]
    emb = rnabert.embed(
        {name: p["sequence"] for name, p in probes.items()}, model=model, device="cpu"
    )
    for i, (name, p) in enumerate(probes.items()):
        np.testing.assert_allclose(
            emb[i], np.array(p["embedding"], dtype=np.float32), atol=1e-5, rtol=0, err_msg=name
        )


def test_the_cli_uses_them_by_default(tmp_path):
    from rnabert.cli import main

    fasta = tmp_path / "x.fa"
    fasta.write_text(">a\nGGGAAACUUCGGUUUCCC\n>b\nGGGAAACUCGGUUCCC\n")
    assert main(["embed", str(fasta), "-o", str(tmp_path / "e.safetensors"), "--no-progress"]) == 0
    record = json.loads(RECORD.read_text())
    got = rnabert.Embeddings.load(tmp_path / "e.safetensors")
    np.testing.assert_allclose(
        got[0], np.array(record["probes"]["hairpin"]["embedding"], np.float32), atol=1e-5, rtol=0
    )
