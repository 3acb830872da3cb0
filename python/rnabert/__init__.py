"""rnabert: RNABERT embeddings and structural alignment of non-coding RNA, fast on CPU and GPU."""

from ._version import __version__
from .backends import backends
from .model.embeddings import Embeddings

__all__ = ["__version__", "backends", "Embeddings"]
