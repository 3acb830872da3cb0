"""rnabert: RNABERT embeddings and structural alignment of non-coding RNA, fast on CPU and GPU.

>>> import rnabert
>>> model = rnabert.load_model("checkpoint.pt")          # or load_model() for the shipped weights
>>> emb = rnabert.embed("examples/rfam_examples.fa", model=model)
>>> hits = rnabert.align_many(emb, top_k=5)               # all-vs-all, 5 best partners each
>>> aln = rnabert.align(emb[0], emb[1]); print(aln)

Names are imported on first use, so ``import rnabert`` stays fast and torch is loaded only when the
encoder is needed.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__
from .backends import backends

# public name -> module that defines it
_LAZY = {
    "Embeddings": "rnabert.embeddings",
    "RnaBert": "rnabert.model.bert",
    "RnaBertConfig": "rnabert.model.config",
    "load_model": "rnabert.model.checkpoint",
    "save_model": "rnabert.model.checkpoint",
    "embed": "rnabert.model.inference",
    "AlignParams": "rnabert.alignment.params",
    "Alignment": "rnabert.alignment.alignment",
    "PairScores": "rnabert.alignment.pairscores",
    "align": "rnabert.alignment.api",
    "align_many": "rnabert.alignment.api",
    "align_many_chunks": "rnabert.alignment.api",
    "align_scores": "rnabert.alignment.api",
    "align_scores_many": "rnabert.alignment.api",
    "cluster": "rnabert.clustering",
    "Clusters": "rnabert.clustering",
    "SeqRecord": "rnabert.seqs",
    "read_fasta": "rnabert.seqs",
    "write_fasta": "rnabert.seqs",
    "read_stockholm": "rnabert.seqs",
    "write_stockholm": "rnabert.seqs",
    "tokenize": "rnabert.seqs",
    "search": "rnabert.search",
    "Database": "rnabert.search",
    "classify": "rnabert.classify",
}

# public submodules, imported on first use too
_SUBMODULES = ("metrics",)

__all__ = ["__version__", "backends", *_LAZY, *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rnabert' has no attribute {name!r}")
    mod = importlib.import_module(module)
    # rnabert.search is a callable package: the name must stay bound to the package
    value = mod if module == f"{__name__}.{name}" else getattr(mod, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))
