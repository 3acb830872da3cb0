"""The encoder layer: RNABERT's network, its checkpoints, and sequences → per-base embeddings.

Names load torch on first use. (``rnabert.model.Embeddings`` is deprecated: use
``rnabert.Embeddings``.)
"""

from __future__ import annotations

import importlib
from typing import Any

from .._deprecated import moved_names

_LAZY = {
    "RnaBert": ".bert",
    "new_model": ".bert",
    "RnaBertConfig": ".config",
    "CheckpointError": ".checkpoint",
    "load_model": ".checkpoint",
    "save_model": ".checkpoint",
    "embed": ".inference",
    "encode_ids": ".inference",
}
_moved = moved_names(__name__, {"Embeddings": "rnabert.embeddings"})

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        return _moved(name)
    return getattr(importlib.import_module(module, __name__), name)
