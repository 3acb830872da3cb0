"""The encoder layer: RNABERT's network, its checkpoints, and sequences → per-base embeddings.

Embeddings (numpy only) imports without torch; the rest loads torch on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .embeddings import Embeddings

_LAZY = {
    "RnaBert": ".bert",
    "RnaBertConfig": ".config",
    "CheckpointError": ".checkpoint",
    "load_model": ".checkpoint",
    "save_model": ".checkpoint",
    "embed": ".inference",
    "encode_ids": ".inference",
    "iter_embedded_chunks": ".inference",
}

__all__ = ["Embeddings", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rnabert.model' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
