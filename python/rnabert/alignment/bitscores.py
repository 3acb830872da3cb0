"""BitScores: homology scores in bits, with the null model that turns them into E-values."""

from __future__ import annotations

from typing import Optional

import numpy as np

from .null import NullModel
from .pairscores import PairScores


class BitScores(PairScores):
    """:class:`PairScores` of ``score="bits"``: ``score`` holds bit scores (λS − ln K) / ln 2.

    Bits are comparable across scoring systems and query lengths; an E-value also needs the search
    space, which :meth:`evalue` takes from the pair itself or from a database size.
    """

    def __init__(self, *args, null: NullModel, lengths, target_lengths, **kw):
        super().__init__(*args, **kw)
        self.null = null
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.target_lengths = np.asarray(target_lengths, dtype=np.int64)

    def evalue(
        self, db_residues: Optional[float] = None, db_size: Optional[int] = None
    ) -> np.ndarray:
        """Expected number of unrelated hits scoring at least as well, float64 (m,).

        Parameters
        ----------
        db_residues : float, optional
            Total residues of the database searched: E = m' · N · 2^(−bits), the search space of one
            query against the whole database (as BLAST reports it; m' the query's effective length).
        db_size : int, optional
            Number of database sequences, when the residues are not known: the search space is then
            db_size × the target's own length.
        Without either, the search space is the pair itself, E = m' · n' · 2^(−bits): the pair's own
        significance, what clustering thresholds on.
        """
        if db_residues is not None and db_size is not None:
            raise ValueError("give db_residues or db_size, not both")
        m = self.lengths[self.i]
        n = self.target_lengths[self.j]
        em, en = self.null.effective(m), self.null.effective(n)
        if db_residues is not None:
            if not np.isfinite(db_residues) or db_residues <= 0:
                raise ValueError(f"db_residues must be a positive number, got {db_residues!r}")
            en = np.full(len(self.j), float(db_residues))
        elif db_size is not None:
            if int(db_size) < 1:
                raise ValueError(f"db_size must be >= 1, got {db_size!r}")
            en = en * int(db_size)
        return em * en * np.exp2(-self.score.astype(np.float64))
