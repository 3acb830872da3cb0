"""PairScores: the scores of many aligned pairs as flat arrays, with table and matrix exports."""

from __future__ import annotations

import io
import os
from typing import List, Optional, Sequence, Union

import numpy as np

from .alignment import AlignmentList

FORMATS = ("tsv", "fasta", "stockholm", "parquet")

PathLike = Union[str, "os.PathLike[str]"]

_TABLES_HINT = "install the optional table dependencies with `pip install rnabert[tables]`"


class PairScores:
    """Scores of pairs (query i, target j), one row per pair, as arrays.

    Parameters
    ----------
    i : int array, shape (m,)
        Query index of each pair (into ``names``). Stored as int64.
    j : int array, shape (m,)
        Target index of each pair (into ``target_names``). Stored as int64.
    score : float array, shape (m,)
        Score of each pair. Stored as float32.
    names : list of str
        Query names, length n.
    target_names : list of str, optional
        Target names, length n_t. None means the pairs lie within one set (all-vs-all):
        ``target_names`` is then ``names`` and :meth:`to_matrix` fills both triangles.
    alignments : AlignmentList or list of Alignment, optional
        One alignment per row, present when the pairs were aligned with traceback.
    kind : str
        What the scores are ("dp" alignment scores or "soft" soft-alignment scores).
    mode : str
        Alignment mode the scores were computed with.
    """

    def __init__(
        self,
        i,
        j,
        score,
        names: Sequence[str],
        target_names: Optional[Sequence[str]] = None,
        alignments: Optional[Sequence] = None,
        *,
        kind: str = "dp",
        mode: str = "global",
    ):
        self.i = np.ascontiguousarray(i, dtype=np.int64).reshape(-1)
        self.j = np.ascontiguousarray(j, dtype=np.int64).reshape(-1)
        self.score = np.ascontiguousarray(score, dtype=np.float32).reshape(-1)
        if not self.i.size == self.j.size == self.score.size:
            raise ValueError(
                f"i, j and score must have one length, got {self.i.size}, {self.j.size}, "
                f"{self.score.size}"
            )
        self.names: List[str] = list(names)
        self.symmetric = target_names is None
        self.target_names: List[str] = self.names if target_names is None else list(target_names)
        if alignments is not None and len(alignments) != self.score.size:
            raise ValueError(f"got {len(alignments)} alignments for {self.score.size} pairs")
        self.alignments = alignments
        self.kind = kind
        self.mode = mode

    # -- basics ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.score.size)

    def __repr__(self) -> str:
        shape = f"{len(self.names)}" + ("" if self.symmetric else f" x {len(self.target_names)}")
        tb = ", with alignments" if self.alignments is not None else ""
        return f"PairScores({len(self)} pairs over {shape} sequences, {self.kind}/{self.mode}{tb})"

    def take(self, rows) -> "PairScores":
        """A new PairScores with the rows at ``rows`` (an int or bool array), in that order."""
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        aln = None
        if self.alignments is not None:
            aln = (
                self.alignments.take(rows)
                if isinstance(self.alignments, AlignmentList)
                else [self.alignments[int(r)] for r in rows]
            )
        return PairScores(
            self.i[rows],
            self.j[rows],
            self.score[rows],
            self.names,
            None if self.symmetric else self.target_names,
            aln,
            kind=self.kind,
            mode=self.mode,
        )

    def top(self, k: int) -> "PairScores":
        """The ``k`` highest-scoring pairs overall, best first (ties keep their original order)."""
        k = int(k)
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        order = np.argsort(-self.score, kind="stable")[:k]
        return self.take(order)

    # -- exports --------------------------------------------------------------------------------
    def to_matrix(self) -> np.ndarray:
        """Dense float32 matrix, shape (n, n_t): ``M[i, j] = score``, NaN for pairs not scored.

        For pairs within one set (all-vs-all) both ``M[i, j]`` and ``M[j, i]`` are filled; the
        diagonal stays NaN unless a pair (i, i) was scored.
        """
        out = np.full((len(self.names), len(self.target_names)), np.nan, dtype=np.float32)
        out[self.i, self.j] = self.score
        if self.symmetric:
            out[self.j, self.i] = self.score
        return out

    def _columns(self, with_indices: bool) -> dict:
        names = np.asarray(self.names, dtype=object)
        tnames = np.asarray(self.target_names, dtype=object)
        cols = {
            "name_i": names[self.i] if self.i.size else np.array([], dtype=object),
            "name_j": tnames[self.j] if self.j.size else np.array([], dtype=object),
        }
        if with_indices:
            cols["i"] = self.i
            cols["j"] = self.j
        cols["score"] = self.score
        if self.alignments is not None:
            alns = list(self.alignments)
            cols["identity"] = np.array([a.identity for a in alns], dtype=np.float64)
            cols["cigar"] = np.array([a.cigar for a in alns], dtype=object)
        return cols

    def to_pandas(self):
        """A pandas DataFrame with columns name_i, name_j, i, j, score (+ identity, cigar with
        alignments)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(f"PairScores.to_pandas needs pandas: {_TABLES_HINT}") from None
        return pd.DataFrame(self._columns(with_indices=True))

    def to_arrow(self):
        """A pyarrow Table with the columns of :meth:`to_pandas`."""
        try:
            import pyarrow as pa
        except ImportError:
            raise ImportError(f"writing Parquet needs pyarrow: {_TABLES_HINT}") from None
        cols = self._columns(with_indices=True)
        return pa.table(
            {
                k: (pa.array(list(v), type=pa.string()) if v.dtype == object else pa.array(v))
                for k, v in cols.items()
            }
        )

    def to_parquet(self, path: PathLike) -> None:
        """Write the table of :meth:`to_pandas` to a Parquet file (needs pyarrow, not pandas)."""
        table = self.to_arrow()
        import pyarrow.parquet as pq

        from ..outputs import atomic_path

        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)

    def write(self, path_or_file: Union[PathLike, io.TextIOBase], format: str = "tsv") -> None:
        """Write the result to a path or text file (parquet: a path) in one of :data:`FORMATS`.

        ``"tsv"``: :meth:`to_tsv`; ``"fasta"``: two aligned records per pair; ``"stockholm"``: one
        Stockholm record per pair; ``"fasta"`` and ``"stockholm"`` need the alignments (traceback);
        ``"parquet"``: :meth:`to_parquet`.
        """
        if format not in FORMATS:
            raise ValueError(
                f"format must be one of {', '.join(map(repr, FORMATS))}, got {format!r}"
            )
        if format == "parquet":
            if hasattr(path_or_file, "write"):
                raise ValueError("format 'parquet' is binary: give a path, not a text file")
            return self.to_parquet(path_or_file)
        if format == "tsv":
            self.to_tsv(path_or_file)
            return None
        if self.alignments is None:
            raise ValueError(f"format {format!r} needs the alignments: score with traceback=True")
        from ..seqs import write_fasta, write_stockholm

        if format == "fasta":
            write_fasta(
                (rec for aln in self.alignments for rec in aln.fasta_records()), path_or_file
            )
        else:
            write_stockholm((aln.to_stockholm_alignment() for aln in self.alignments), path_or_file)
        return None

    def to_tsv(self, path_or_file: Union[PathLike, io.TextIOBase, None] = None) -> Optional[str]:
        """Write a tab-separated table: name_a, name_b, score (+ identity, cigar with alignments).

        Parameters
        ----------
        path_or_file : path or text file, optional
            Where to write; None returns the text instead.
        """
        cols = self._columns(with_indices=False)
        header = ["name_a", "name_b", "score"] + (
            ["identity", "cigar"] if self.alignments is not None else []
        )
        fields = [cols["name_i"], cols["name_j"], np.char.mod("%.7g", self.score)]
        if self.alignments is not None:
            fields.append(np.char.mod("%.4f", cols["identity"]))
            fields.append(cols["cigar"])
        lines = ["\t".join(header)] + ["\t".join(row) for row in zip(*fields)]
        text = "\n".join(lines) + "\n"
        if path_or_file is None:
            return text
        if hasattr(path_or_file, "write"):
            path_or_file.write(text)
        else:
            from ..outputs import atomic_path

            with atomic_path(path_or_file) as tmp, open(tmp, "w") as fh:
                fh.write(text)
        return None
