"""Homolog search: an on-disk database of scoring vectors, a coarse-alignment prefilter, local
alignment rescoring in the engine, bits, E-values and hit coordinates (both strands)."""

import sys
import types

from .database import Database, DatabaseError
from .searching import COLUMNS, Hit, reverse_complement, search

__all__ = ["Database", "DatabaseError", "Hit", "COLUMNS", "search", "reverse_complement"]


class _CallableModule(types.ModuleType):
    """``rnabert.search`` is both this package and the function: importing a submodule
    (``rnabert.search.database``) binds the package to that name on ``rnabert``, so the package
    itself must be callable for ``rnabert.search(queries, db)`` to work in every import order."""

    def __call__(self, *args, **kwargs):
        return search(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
