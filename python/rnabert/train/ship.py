"""Ship trained weights inside the package: copy, hash, and record reference embeddings.

    rnabert ship-weights runs/<run>/best/model.safetensors

writes ``python/rnabert/weights/rnabert_rfam.safetensors`` (+ ``config.json``) and
``rnabert_rfam.json`` (sha256 of the file and the per-base embeddings of a few fixed sequences),
which ``tests/test_weights.py`` checks, so an accidental change of the shipped model cannot pass
unnoticed.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import sys

from ..model.checkpoint import DEFAULT_WEIGHTS, load_model, save_model

RECORD = DEFAULT_WEIGHTS.with_suffix(".json")
# Fixed probes: a hairpin, a tRNA-like stretch, one base (the tests re-embed them).
PROBES = {
    "hairpin": "GGGAAACUUCGGUUUCCC",
    "trna_like": "GCGGAUUUAGCUCAGUUGGGAGAGCGCCAGACUGAAGAUCUGG",
    "one_base": "A",
}


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ship(source, extra_metadata=None) -> dict:
    from ..model.inference import embed

    model = load_model(source)
    save_model(model, DEFAULT_WEIGHTS, extra_metadata=extra_metadata)
    shipped = load_model(DEFAULT_WEIGHTS)
    emb = embed(PROBES, model=shipped, device="cpu", progress=False)
    record = {
        "file": DEFAULT_WEIGHTS.name,
        "sha256": sha256(DEFAULT_WEIGHTS),
        "source": str(source),
        "probes": {
            name: {"sequence": seq, "embedding": emb[i].tolist()}
            for i, (name, seq) in enumerate(PROBES.items())
        },
    }
    RECORD.write_text(json.dumps(record) + "\n")
    return record


def main(argv=None) -> int:
    """Deprecated: ``rnabert ship-weights``."""
    from .._deprecated import warn_moved
    from ..cli import main as cli_main

    warn_moved("python -m rnabert.train.ship", "rnabert ship-weights", stacklevel=2)
    return cli_main(["ship-weights", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
