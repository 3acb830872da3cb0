"""Alignment: one pairwise alignment as index pairs, with its gapped strings, CIGAR, identity and
text forms.

Conventions used throughout
---------------------------
- Sequence A is the *query* and B the *target* (SAM convention): in a CIGAR, ``M`` is a column
  where a base of A is aligned to a base of B, ``I`` a base of A against a gap, ``D`` a base of B
  against a gap.
- Between two aligned pairs, the unaligned bases of A are written before those of B (``I`` before
  ``D``), which is the column order the reference traceback produces on ties.
- Global and semi-global alignments are shown over both full sequences (end gaps included); local
  alignments over the aligned region only, from the first to the last aligned pair.
  ``start_a``/``end_a`` (``start_b``/``end_b``) give that region as 0-based half-open coordinates.
- When the letters of a sequence are unknown (embeddings given without sequences) its bases are
  shown as ``N``, ``identity`` is NaN and every aligned column is marked ``:``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Optional, Tuple

import numpy as np

from ..seqs import StockholmAlignment, write_fasta, write_stockholm

_WIDTH = 60
_GAP = ord("-")


def _columns(pairs: np.ndarray, len_a: int, len_b: int) -> Tuple[np.ndarray, np.ndarray, int]:
    """Column index of every base of A and of B in the gapped layout (vectorised).

    pairs are 0-based, strictly increasing in both coordinates, inside [0, len_a) x [0, len_b).
    Returns col_a int64 (len_a,), col_b int64 (len_b,), n_columns.
    """
    k = pairs.shape[0]
    pi = pairs[:, 0]
    pj = pairs[:, 1]
    # Column of aligned pair p: bases of A and B before it, each aligned pair counted once.
    pcol = pi + pj - np.arange(k, dtype=np.int64)
    # Virtual pairs at (-1, -1) before the start and at (len_a, len_b) after the end.
    ei = np.concatenate(([-1], pi, [len_a]))
    ej = np.concatenate(([-1], pj, [len_b]))
    ecol = np.concatenate(([-1], pcol, [len_a + len_b - k]))

    a = np.arange(len_a, dtype=np.int64)
    q = np.searchsorted(
        pi, a, side="right"
    )  # index into the extended arrays of the last pair with i <= a
    col_a = ecol[q] + (
        a - ei[q]
    )  # aligned bases land on their pair's column, the rest run after it

    b = np.arange(len_b, dtype=np.int64)
    q = np.searchsorted(pj, b, side="right")
    aligned_b = np.zeros(len_b, dtype=bool)
    aligned_b[pj] = True
    # An unaligned base of B follows the run of A's unaligned bases after the previous pair.
    col_b = np.where(aligned_b, ecol[q], ecol[q] + (ei[q + 1] - ei[q] - 1) + (b - ej[q]))
    return col_a, col_b, len_a + len_b - k


def _letters(seq: Optional[str], start: int, end: int) -> np.ndarray:
    if seq is None:
        return np.full(end - start, ord("N"), dtype=np.uint8)
    return np.frombuffer(seq[start:end].encode("ascii", "replace"), dtype=np.uint8)


def _run_length(ops: np.ndarray) -> str:
    if ops.size == 0:
        return ""
    starts = np.flatnonzero(np.concatenate(([True], ops[1:] != ops[:-1])))
    lengths = np.diff(np.concatenate((starts, [ops.size])))
    return "".join(f"{n}{chr(c)}" for n, c in zip(lengths.tolist(), ops[starts].tolist()))


def _fold(letters: np.ndarray) -> np.ndarray:
    """Upper case, T read as U: the form in which letters are compared."""
    out = letters.copy()
    lower = (out >= ord("a")) & (out <= ord("z"))
    out[lower] -= 32
    out[out == ord("T")] = ord("U")
    return out


class Alignment:
    """One pairwise alignment of sequence A (query) with sequence B (target).

    Parameters
    ----------
    score : float
        The alignment score as the engine computed it (sum of match scores minus gap costs).
    pairs : int array, shape (k, 2)
        Aligned 0-based positions ``(i, j)``: base i of A with base j of B; strictly increasing in
        both columns. Stored as int64.
    len_a, len_b : int
        Lengths of A and B (number of bases).
    name_a, name_b : str
        Sequence names, used in text output.
    seq_a, seq_b : str, optional
        The letters of A and B; when None, bases are shown as ``N`` and identity is NaN.
    mode : {"global", "local", "semiglobal"}
        How the alignment was computed; decides what the gapped strings cover (see module notes).

    Attributes
    ----------
    gapped_a, gapped_b : str
        The two rows of the alignment, ``-`` for gaps. Removing gaps gives ``seq_a[start_a:end_a]``.
    cigar : str
        Run-length M/I/D string over the columns of the gapped rows (A is the query: I = base of A
        against a gap, D = base of B against a gap).
    identity : float
        Identical aligned letters divided by alignment columns (``n_identical / n_columns``), end
        gaps of global alignments included; letters compare case-insensitively with T equal to U.
        NaN without letters.
    """

    __slots__ = (
        "score",
        "pairs",
        "len_a",
        "len_b",
        "name_a",
        "name_b",
        "seq_a",
        "seq_b",
        "mode",
        "_rows",
    )

    def __init__(
        self,
        score: float,
        pairs,
        len_a: int,
        len_b: int,
        *,
        name_a: str = "a",
        name_b: str = "b",
        seq_a: Optional[str] = None,
        seq_b: Optional[str] = None,
        mode: str = "global",
    ):
        pairs = np.ascontiguousarray(np.asarray(pairs, dtype=np.int64).reshape(-1, 2))
        len_a, len_b = int(len_a), int(len_b)
        if mode not in ("global", "local", "semiglobal"):
            raise ValueError(f"mode must be 'global', 'local' or 'semiglobal', got {mode!r}")
        if seq_a is not None and len(seq_a) != len_a:
            raise ValueError(f"seq_a has {len(seq_a)} letters but len_a is {len_a}")
        if seq_b is not None and len(seq_b) != len_b:
            raise ValueError(f"seq_b has {len(seq_b)} letters but len_b is {len_b}")
        if pairs.size:
            if pairs.min() < 0 or pairs[:, 0].max() >= len_a or pairs[:, 1].max() >= len_b:
                raise ValueError(f"pairs out of range for lengths {len_a} x {len_b}")
            if (np.diff(pairs, axis=0) <= 0).any():
                raise ValueError("pairs must be strictly increasing in both sequences")
        self.score = float(score)
        self.pairs = pairs
        self.len_a, self.len_b = len_a, len_b
        self.name_a, self.name_b = str(name_a), str(name_b)
        self.seq_a, self.seq_b = seq_a, seq_b
        self.mode = mode
        self._rows = None

    # -- region ---------------------------------------------------------------------------------
    @property
    def start_a(self) -> int:
        """0-based first position of A shown in the alignment (0 unless local)."""
        return self._region()[0]

    @property
    def end_a(self) -> int:
        """0-based end (exclusive) of A shown in the alignment (len_a unless local)."""
        return self._region()[1]

    @property
    def start_b(self) -> int:
        """0-based first position of B shown in the alignment (0 unless local)."""
        return self._region()[2]

    @property
    def end_b(self) -> int:
        """0-based end (exclusive) of B shown in the alignment (len_b unless local)."""
        return self._region()[3]

    def _region(self) -> Tuple[int, int, int, int]:
        if self.mode != "local":
            return 0, self.len_a, 0, self.len_b
        if self.pairs.shape[0] == 0:
            return 0, 0, 0, 0
        (i0, j0), (i1, j1) = self.pairs[0].tolist(), self.pairs[-1].tolist()
        return i0, i1 + 1, j0, j1 + 1

    # -- layout ---------------------------------------------------------------------------------
    def _layout(self):
        """(row_a, row_b, ops) as uint8 arrays, computed once."""
        if self._rows is None:
            sa, ea, sb, eb = self._region()
            local_pairs = self.pairs - np.array([sa, sb], dtype=np.int64)
            col_a, col_b, ncol = _columns(local_pairs, ea - sa, eb - sb)
            row_a = np.full(ncol, _GAP, dtype=np.uint8)
            row_b = np.full(ncol, _GAP, dtype=np.uint8)
            row_a[col_a] = _letters(self.seq_a, sa, ea)
            row_b[col_b] = _letters(self.seq_b, sb, eb)
            ops = np.full(ncol, ord("M"), dtype=np.uint8)
            ops[row_b == _GAP] = ord("I")
            ops[row_a == _GAP] = ord("D")
            self._rows = (row_a, row_b, ops)
        return self._rows

    @property
    def gapped_a(self) -> str:
        """Row of A with ``-`` for gaps."""
        return self._layout()[0].tobytes().decode("ascii")

    @property
    def gapped_b(self) -> str:
        """Row of B with ``-`` for gaps."""
        return self._layout()[1].tobytes().decode("ascii")

    @property
    def cigar(self) -> str:
        """Run-length M/I/D over the alignment columns; A is the query (I: A base vs gap, D: B base
        vs gap)."""
        return _run_length(self._layout()[2])

    @property
    def n_columns(self) -> int:
        """Number of alignment columns (length of the gapped rows)."""
        return int(self._layout()[2].size)

    @property
    def n_aligned(self) -> int:
        """Number of aligned base pairs (M columns)."""
        return int(self.pairs.shape[0])

    @property
    def n_identical(self) -> Optional[int]:
        """Aligned pairs with identical letters (T equal to U, case ignored); None without
        letters."""
        if self.seq_a is None or self.seq_b is None:
            return None
        if not self.pairs.shape[0]:
            return 0
        a = _fold(_letters(self.seq_a, 0, self.len_a))[self.pairs[:, 0]]
        b = _fold(_letters(self.seq_b, 0, self.len_b))[self.pairs[:, 1]]
        return int((a == b).sum())

    @property
    def identity(self) -> float:
        """n_identical / n_columns (end gaps of global alignments count as columns); NaN without
        letters."""
        same = self.n_identical
        if same is None:
            return float("nan")
        ncol = self.n_columns
        return same / ncol if ncol else 0.0

    def markers(self) -> str:
        """The match line: ``|`` identical letters, ``:`` aligned different letters, space for a
        gap."""
        row_a, row_b, ops = self._layout()
        out = np.full(ops.size, ord(" "), dtype=np.uint8)
        m = ops == ord("M")
        out[m] = ord(":")
        if self.seq_a is not None and self.seq_b is not None:
            out[m & (_fold(row_a) == _fold(row_b))] = ord("|")
        return out.tobytes().decode("ascii")

    # -- text -----------------------------------------------------------------------------------
    def _record_names(self) -> Tuple[str, str]:
        """Names as written to FASTA/Stockholm: no whitespace, local regions as name/start-end
        (1-based)."""
        na = "_".join(self.name_a.split()) or "a"
        nb = "_".join(self.name_b.split()) or "b"
        if self.mode == "local" and self.n_aligned:
            na = f"{na}/{self.start_a + 1}-{self.end_a}"
            nb = f"{nb}/{self.start_b + 1}-{self.end_b}"
        if na == nb:  # Stockholm needs distinct names (self-alignment)
            nb = nb + "_2"
        return na, nb

    def fasta_records(self) -> Tuple[Tuple[str, str], Tuple[str, str]]:
        """The two gapped rows as (name, row) records; local alignments name them
        ``name/start-end``."""
        na, nb = self._record_names()
        return (na, self.gapped_a), (nb, self.gapped_b)

    def to_fasta(self, width: int = _WIDTH) -> str:
        """Both gapped rows as aligned FASTA, lines wrapped at ``width`` (0: no wrapping).

        Local alignments name their records ``name/start-end`` (1-based, inclusive).
        """
        buf = io.StringIO()
        write_fasta(self.fasta_records(), buf, width=width if width and width > 0 else None)
        return buf.getvalue()

    def to_stockholm_alignment(self) -> StockholmAlignment:
        """The aligned pair as a :class:`~rnabert.seqs.StockholmAlignment`; the score and mode are a
        ``#=GF CC`` comment, local alignments name their rows ``name/start-end`` (1-based), as Rfam
        does."""
        (na, ra), (nb, rb) = self.fasta_records()
        return StockholmAlignment(
            [na, nb],
            {na: ra, nb: rb},
            gf={"CC": f"rnabert {self.mode} alignment, score {self.score:.6g}"},
        )

    def to_stockholm(self) -> str:
        """The aligned pair as one Stockholm 1.0 record (header, two rows, ``//``)."""
        buf = io.StringIO()
        write_stockholm(self.to_stockholm_alignment(), buf)
        return buf.getvalue()

    def format(self, width: int = _WIDTH) -> str:
        """Human-readable blocks of three lines (A, match markers, B), ``width`` columns each, with
        1-based coordinates of the first and last base on each line."""
        ga, gb, mk = self.gapped_a, self.gapped_b, self.markers()
        sa, _, sb, _ = self._region()
        na, nb = self.name_a, self.name_b
        wn = max(len(na), len(nb))
        ident = self.n_identical
        head = (
            f"{na} ({self.len_a} nt) vs {nb} ({self.len_b} nt), {self.mode}: score "
            f"{self.score:.4f}, "
            f"{self.n_aligned} aligned pairs in {self.n_columns} columns"
        )
        if ident is not None:
            head += f", identity {ident}/{self.n_columns} ({100 * self.identity:.1f}%)"
        wd = len(str(max(self.len_a, self.len_b, 1)))
        lines = [head]
        pos_a, pos_b = sa, sb  # bases consumed before the current line
        width = max(int(width), 1)
        for k in range(0, len(ga), width):
            ra, rb, rm = ga[k : k + width], gb[k : k + width], mk[k : k + width]
            na_n = len(ra) - ra.count("-")
            nb_n = len(rb) - rb.count("-")
            a0 = pos_a + 1 if na_n else pos_a
            b0 = pos_b + 1 if nb_n else pos_b
            pos_a += na_n
            pos_b += nb_n
            lines.append("")
            lines.append(f"{na:<{wn}} {a0:>{wd}} {ra} {pos_a}")
            lines.append(f"{'':<{wn}} {'':>{wd}} {rm}")
            lines.append(f"{nb:<{wn}} {b0:>{wd}} {rb} {pos_b}")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return (
            f"Alignment({self.name_a!r} vs {self.name_b!r}, mode={self.mode!r}, "
            f"score={self.score:.4f}, "
            f"aligned={self.n_aligned}, cigar={self.cigar!r})"
        )


class AlignmentList(Sequence):
    """The alignments of a batch, kept as the engine's flat arrays; ``Alignment`` objects are made
    on access.

    Parameters
    ----------
    scores : float32 array, shape (m,)
    path_offsets : int64 array, shape (m + 1,)
        Pair p's aligned positions are ``path[path_offsets[p]:path_offsets[p + 1]]``.
    path : int array, shape (K, 2)
    qi, tj : int64 arrays, shape (m,)
        Index of pair p's query in the query set and of its target in the target set.
    lengths_a, lengths_b : int arrays
        Lengths of the query and target sequences.
    names_a, names_b : list of str
    seqs_a, seqs_b : list of str, optional
    mode : str
    """

    def __init__(
        self,
        scores,
        path_offsets,
        path,
        qi,
        tj,
        *,
        lengths_a,
        lengths_b,
        names_a,
        names_b,
        seqs_a=None,
        seqs_b=None,
        mode="global",
    ):
        offs = np.asarray(path_offsets, dtype=np.int64)
        self._scores = np.asarray(scores, dtype=np.float32)
        self._starts, self._ends = offs[:-1], offs[1:]
        self._path = np.asarray(path)
        self._qi = np.asarray(qi, dtype=np.int64)
        self._tj = np.asarray(tj, dtype=np.int64)
        self._la, self._lb = np.asarray(lengths_a), np.asarray(lengths_b)
        self._na, self._nb, self._sa, self._sb = names_a, names_b, seqs_a, seqs_b
        self.mode = mode

    def __len__(self) -> int:
        return int(self._scores.size)

    def __getitem__(self, p):
        if isinstance(p, slice):
            return self.take(np.arange(len(self))[p])
        n = len(self)
        if not -n <= p < n:
            raise IndexError(f"alignment index {p} out of range for {n} alignments")
        p = int(p) % n
        a, b = int(self._qi[p]), int(self._tj[p])
        return Alignment(
            float(self._scores[p]),
            self._path[self._starts[p] : self._ends[p]],
            int(self._la[a]),
            int(self._lb[b]),
            name_a=self._na[a],
            name_b=self._nb[b],
            seq_a=None if self._sa is None else self._sa[a],
            seq_b=None if self._sb is None else self._sb[b],
            mode=self.mode,
        )

    def take(self, indices) -> "AlignmentList":
        """The alignments at ``indices`` (an int array), sharing the path block."""
        idx = np.asarray(indices, dtype=np.int64)
        new = object.__new__(AlignmentList)
        new.__dict__.update(self.__dict__)
        new._scores, new._starts, new._ends = self._scores[idx], self._starts[idx], self._ends[idx]
        new._qi, new._tj = self._qi[idx], self._tj[idx]
        return new

    def __repr__(self) -> str:
        return f"AlignmentList({len(self)} {self.mode} alignments)"
