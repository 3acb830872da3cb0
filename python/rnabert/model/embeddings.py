"""Deprecated location of :class:`rnabert.Embeddings`, now :mod:`rnabert.embeddings`."""

from .._deprecated import moved_names

__getattr__ = moved_names(__name__, {"Embeddings": "rnabert.embeddings"})
