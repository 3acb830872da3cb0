"""Stockholm multiple alignments: reading (streamed, one alignment at a time), writing, and the
per-residue column maps that Structural Alignment Learning and alignment evaluation use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Union

import numpy as np

from .alphabet import _ALLOWED, GAPS, InvalidSequenceError, _AmbiguityTally, _clean
from .record import SeqRecord
from .textio import PathOrHandle, _decode_error, _reading, _writing

__all__ = ["StockholmAlignment", "read_stockholm", "write_stockholm"]

# True for bytes that are residues; the gap set must be the one clean_sequence removes, so that
# residue indices here index the cleaned, ungapped sequences.
_IS_RESIDUE = np.ones(256, dtype=bool)
for _gap in GAPS.encode("ascii"):
    _IS_RESIDUE[_gap] = False
del _gap


@dataclass
class StockholmAlignment:
    """One multiple alignment with its Stockholm annotation.

    Parameters
    ----------
    names : list of str
        Sequence names in file order (None: the keys of ``aligned``).
    aligned : dict of str to str
        Name -> aligned row as written (gaps ``- . ~ _`` and case kept); all rows of equal length.
    gf : dict of str to str
        ``#=GF`` tag -> text. A tag on several lines (``CC``, ``RT``, ``DR``, ...) has its lines
        joined with ``"\\n"``.
    gs : dict of str to dict of str to str
        ``#=GS`` name -> tag -> text (repeated tags joined with ``"\\n"``).
    gc : dict of str to str
        ``#=GC`` tag -> per-column string, e.g. ``"SS_cons"`` (WUSS) and ``"RF"``.
    gr : dict of str to dict of str to str
        ``#=GR`` name -> tag -> per-column string.

    Notes
    -----
    Equality compares the six fields above. Alignments read from a file also remember the order of
    their ``#=GF`` lines, so that writing them back keeps references (``RN``/``RM``/``RT``...)
    grouped as they were, and the line of each sequence, so that errors name it.
    """

    names: List[str]
    aligned: Dict[str, str]
    gf: Dict[str, str] = field(default_factory=dict)
    gs: Dict[str, Dict[str, str]] = field(default_factory=dict)
    gc: Dict[str, str] = field(default_factory=dict)
    gr: Dict[str, Dict[str, str]] = field(default_factory=dict)
    _gf_lines: Optional[List[Tuple[str, str]]] = field(default=None, repr=False, compare=False)
    _source: str = field(default="", repr=False, compare=False)
    _lines: Dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _masks: Dict[str, Tuple[str, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.names is None:
            self.names = list(self.aligned)
        else:
            self.names = list(self.names)
        if len(set(self.names)) != len(self.names):
            seen = set()
            dup = next(n for n in self.names if n in seen or seen.add(n))
            raise ValueError(f"duplicate sequence name {dup!r} in alignment")
        if set(self.names) != set(self.aligned):
            missing = sorted(set(self.names) ^ set(self.aligned))[:3]
            raise ValueError(f"names and aligned rows disagree (e.g. {missing})")
        ncols = self.ncols
        for name in self.names:
            if len(self.aligned[name]) != ncols:
                raise ValueError(
                    f"inconsistent aligned lengths: {name!r} has "
                    f"{len(self.aligned[name])} columns, {self.names[0]!r} has "
                    f"{ncols}"
                )
        if self.names and ncols == 0:
            raise ValueError("alignment rows are empty")
        for tag, value in self.gc.items():
            if len(value) != ncols:
                raise ValueError(f"#=GC {tag} has {len(value)} columns, the alignment {ncols}")
        for name, tags in self.gr.items():
            for tag, value in tags.items():
                if len(value) != ncols:
                    raise ValueError(
                        f"#=GR {name} {tag} has {len(value)} columns, the alignment {ncols}"
                    )

    def __repr__(self) -> str:
        return (
            f"StockholmAlignment(id={self.id!r}, accession={self.accession!r}, "
            f"nseq={len(self.names)}, ncols={self.ncols})"
        )

    def __len__(self) -> int:
        return len(self.names)

    @property
    def ncols(self) -> int:
        """Number of alignment columns."""
        return len(self.aligned[self.names[0]]) if self.names else 0

    @property
    def accession(self) -> Optional[str]:
        """``#=GF AC`` (e.g. ``"RF00050"``), or None."""
        return self.gf.get("AC")

    @property
    def id(self) -> Optional[str]:
        """``#=GF ID`` (e.g. ``"FMN"``), or None."""
        return self.gf.get("ID")

    @property
    def ss_cons(self) -> Optional[str]:
        """``#=GC SS_cons``, the consensus secondary structure (WUSS), or None."""
        return self.gc.get("SS_cons")

    def records(self, strict: bool = False) -> List[SeqRecord]:
        """The sequences, ungapped and cleaned (see `clean_sequence`).

        Parameters
        ----------
        strict : bool
            If True, ambiguity codes are errors.

        Returns
        -------
        list of SeqRecord
            In ``names`` order; ``description`` is ``gs[name]["DE"]`` when present.

        Warns
        -----
        AmbiguousBaseWarning
            Once for the whole alignment, if any row has ambiguity codes.
        """
        tally = _AmbiguityTally()
        out = [
            SeqRecord(name, self._cleaned(name, strict, tally), self.gs.get(name, {}).get("DE", ""))
            for name in self.names
        ]
        tally.warn("will be")
        return out

    def _cleaned(self, name: str, strict: bool, tally: Optional[_AmbiguityTally]) -> str:
        try:
            return _clean(self.aligned[name], name, strict, tally).decode("ascii")
        except InvalidSequenceError as err:
            if not self._source:
                raise
            where = f"{self._source}:{self._lines[name]}" if name in self._lines else self._source
            raise InvalidSequenceError(
                f"{where}: {err}", err.name, err.position, err.char
            ) from None

    def _residue_mask(self, name: str) -> np.ndarray:
        row = self.aligned[name]
        cached = self._masks.get(name)
        # The row object is compared by identity, so a row replaced by the caller is recomputed.
        if cached is not None and cached[0] is row:
            return cached[1]
        mask = _IS_RESIDUE[np.frombuffer(row.encode("ascii", "replace"), dtype=np.uint8)]
        self._masks[name] = (row, mask)
        return mask

    def residue_columns(self, name: str) -> np.ndarray:
        """Alignment column of each residue of one sequence.

        Parameters
        ----------
        name : str
            A sequence of the alignment.

        Returns
        -------
        int64 array, shape (L,)
            ``out[i]`` is the 0-based column of residue ``i`` of the ungapped sequence.
        """
        return np.flatnonzero(self._residue_mask(name)).astype(np.int64, copy=False)

    def reference_pairs(self, name_a: str, name_b: str) -> np.ndarray:
        """Residue pairs that the alignment puts in the same column.

        This is the reference alignment of a pair: Structural Alignment Learning trains towards it
        and alignment accuracy (TP over aligned residue pairs) is measured against it.

        Parameters
        ----------
        name_a, name_b : str
            Two sequences of the alignment.

        Returns
        -------
        int64 array, shape (k, 2)
            Rows ``(i, j)``: residue ``i`` of ``name_a`` and residue ``j`` of ``name_b`` (0-based,
            in the ungapped sequences) share a column; columns where either has a gap are skipped.
            Both columns are strictly increasing.
        """
        mask_a = self._residue_mask(name_a)
        mask_b = self._residue_mask(name_b)
        both = mask_a & mask_b
        index_a = np.cumsum(mask_a, dtype=np.int64) - 1
        index_b = np.cumsum(mask_b, dtype=np.int64) - 1
        return np.stack([index_a[both], index_b[both]], axis=1)

    def rename(self, new_name: Union[Dict[str, str], Callable[[str], str]]) -> "StockholmAlignment":
        """A new alignment with its rows renamed (``gs``/``gr`` follow; ``gf``/``gc`` kept).

        Parameters
        ----------
        new_name : dict of str to str, or callable
            Old name -> new name; names missing from a dict keep their name.

        Returns
        -------
        StockholmAlignment
        """
        if isinstance(new_name, dict):
            names = {n: new_name.get(n, n) for n in self.names}
        else:
            names = {n: new_name(n) for n in self.names}
        return StockholmAlignment(
            [names[n] for n in self.names],
            {names[n]: self.aligned[n] for n in self.names},
            dict(self.gf),
            {names.get(n, n): dict(t) for n, t in self.gs.items()},
            dict(self.gc),
            {names.get(n, n): dict(t) for n, t in self.gr.items()},
            list(self._gf_lines) if self._gf_lines is not None else None,
        )

    def select(self, names: Iterable[str]) -> "StockholmAlignment":
        """A new alignment with some of the rows, all columns and all column annotation kept.

        Parameters
        ----------
        names : iterable of str
            Rows to keep, in the order given.

        Returns
        -------
        StockholmAlignment
            ``gs``/``gr`` of the kept rows are copied, ``#=GF SQ`` is set to the new row count.
        """
        names = list(names)
        unknown = [n for n in names if n not in self.aligned]
        if unknown:
            raise KeyError(f"not in the alignment: {unknown[:3]}")
        gf = dict(self.gf)
        gf_lines = list(self._gf_lines) if self._gf_lines is not None else None
        if "SQ" in gf:
            gf["SQ"] = str(len(names))
            if gf_lines is not None:
                gf_lines = [(t, str(len(names)) if t == "SQ" else x) for t, x in gf_lines]
        return StockholmAlignment(
            names,
            {n: self.aligned[n] for n in names},
            gf,
            {n: dict(self.gs[n]) for n in names if n in self.gs},
            dict(self.gc),
            {n: dict(self.gr[n]) for n in names if n in self.gr},
            gf_lines,
        )


class _AlignmentBuilder:
    """Collects the lines of one Stockholm alignment and checks them as they come."""

    def __init__(self, label: str, start: int):
        self.label = label
        self.start = start
        self.pieces: Dict[str, List[str]] = {}
        self.first_line: Dict[str, int] = {}
        self.last_line: Dict[str, int] = {}
        self.gf_lines: List[Tuple[str, str]] = []
        self.gs: Dict[str, Dict[str, str]] = {}
        self.gc: Dict[str, List[str]] = {}
        self.gc_line: Dict[str, int] = {}
        self.gr: Dict[str, Dict[str, List[str]]] = {}
        self.gr_line: Dict[Tuple[str, str], int] = {}
        self.new_block()

    def error(self, lineno: int, message: str) -> ValueError:
        return ValueError(f"{self.label}:{lineno}: {message}")

    def new_block(self) -> None:
        self.block_rows: Dict[str, int] = {}
        self.block_width: Optional[Tuple[int, int]] = None

    def row(self, key: str, value: str, lineno: int) -> None:
        """Check one per-column row against the others of its block."""
        if key in self.block_rows:
            raise self.error(
                lineno,
                f"{key!r} appears twice in one block (lines "
                f"{self.block_rows[key]} and {lineno}); blocks of an "
                "interleaved alignment must be separated by a blank line",
            )
        self.block_rows[key] = lineno
        if self.block_width is None:
            self.block_width = (len(value), lineno)
        elif len(value) != self.block_width[0]:
            raise self.error(
                lineno,
                f"inconsistent aligned lengths: {key!r} has {len(value)} "
                f"columns in this block, line {self.block_width[1]} has "
                f"{self.block_width[0]}",
            )

    def sequence(self, name: str, seq: str, lineno: int) -> None:
        try:
            bad = seq.encode("ascii").translate(None, _ALLOWED)
        except UnicodeEncodeError as err:
            bad = seq[err.start].encode("utf-8")
        if bad:
            char = bad.decode("utf-8")[0]
            column = sum(len(p) for p in self.pieces.get(name, ())) + seq.index(char) + 1
            raise self.error(
                lineno, f"sequence {name!r}: invalid character {char!r} at column {column}"
            )
        self.row(name, seq, lineno)
        pieces = self.pieces.get(name)
        if pieces is None:
            self.pieces[name] = [seq]
            self.first_line[name] = lineno
        else:
            pieces.append(seq)
        self.last_line[name] = lineno

    def markup(self, line: str, lineno: int) -> None:
        kind = line[:4]
        if kind == "#=GF":
            parts = line.split(None, 2)
            if len(parts) < 2 or parts[0] != "#=GF":
                raise self.error(lineno, "#=GF line without a tag")
            self.gf_lines.append((parts[1], parts[2].rstrip() if len(parts) == 3 else ""))
        elif kind == "#=GS":
            parts = line.split(None, 3)
            if len(parts) < 3 or parts[0] != "#=GS":
                raise self.error(lineno, "#=GS line needs a sequence name and a tag")
            tags = self.gs.setdefault(parts[1], {})
            text = parts[3].rstrip() if len(parts) == 4 else ""
            tags[parts[2]] = tags[parts[2]] + "\n" + text if parts[2] in tags else text
        elif kind == "#=GC":
            parts = line.split()
            if len(parts) != 3 or parts[0] != "#=GC":
                raise self.error(lineno, "#=GC line must be '#=GC <tag> <per-column string>'")
            self.row("#=GC " + parts[1], parts[2], lineno)
            self.gc.setdefault(parts[1], []).append(parts[2])
            self.gc_line[parts[1]] = lineno
        elif kind == "#=GR":
            parts = line.split()
            if len(parts) != 4 or parts[0] != "#=GR":
                raise self.error(
                    lineno, "#=GR line must be '#=GR <name> <tag> <per-column string>'"
                )
            self.row(f"#=GR {parts[1]} {parts[2]}", parts[3], lineno)
            self.gr.setdefault(parts[1], {}).setdefault(parts[2], []).append(parts[3])
            self.gr_line[(parts[1], parts[2])] = lineno
        elif line.startswith("# STOCKHOLM"):
            raise self.error(
                lineno,
                "'# STOCKHOLM' header inside an alignment (the one started "
                f"at line {self.start} has no '//' terminator)",
            )
        # Any other line starting with '#' is a comment.

    def finish(self, lineno: int) -> StockholmAlignment:
        if not self.pieces:
            raise self.error(self.start, "alignment has no sequences")
        aligned = {name: "".join(p) for name, p in self.pieces.items()}
        names = list(aligned)
        ncols = len(aligned[names[0]])
        for name in names:
            if len(aligned[name]) != ncols:
                raise self.error(
                    self.last_line[name],
                    f"inconsistent aligned lengths: {name!r} "
                    f"has {len(aligned[name])} columns in all, {names[0]!r} has "
                    f"{ncols} (a row missing from an interleaved block?)",
                )
        gc = {tag: "".join(p) for tag, p in self.gc.items()}
        for tag, value in gc.items():
            if len(value) != ncols:
                raise self.error(
                    self.gc_line[tag], f"#=GC {tag} has {len(value)} columns, the alignment {ncols}"
                )
        gr = {name: {tag: "".join(p) for tag, p in tags.items()} for name, tags in self.gr.items()}
        for name, tags in gr.items():
            for tag, value in tags.items():
                if len(value) != ncols:
                    raise self.error(
                        self.gr_line[(name, tag)],
                        f"#=GR {name} {tag} has {len(value)} columns, the alignment {ncols}",
                    )
        gf: Dict[str, str] = {}
        for tag, text in self.gf_lines:
            gf[tag] = gf[tag] + "\n" + text if tag in gf else text
        return StockholmAlignment(
            names, aligned, gf, self.gs, gc, gr, self.gf_lines, self.label, self.first_line
        )


def _parse_stockholm(handle: IO[str], label: str) -> Iterator[StockholmAlignment]:
    builder: Optional[_AlignmentBuilder] = None
    lineno = 0
    try:
        for lineno, line in enumerate(handle, 1):
            if builder is None:
                text = line.strip()
                if not text:
                    continue
                if text.startswith("# STOCKHOLM"):
                    if text.split() != ["#", "STOCKHOLM", "1.0"]:
                        raise ValueError(
                            f"{label}:{lineno}: unsupported Stockholm header {text!r} "
                            "(expected '# STOCKHOLM 1.0')"
                        )
                    builder = _AlignmentBuilder(label, lineno)
                elif text.startswith(">"):
                    raise ValueError(
                        f"{label}:{lineno}: FASTA header before '# STOCKHOLM 1.0' "
                        "header (this looks like FASTA: use read_fasta, "
                        "read_aligned_fasta or records_from)"
                    )
                elif text.startswith("#"):
                    raise ValueError(
                        f"{label}:{lineno}: markup line before '# STOCKHOLM 1.0' header"
                    )
                else:
                    raise ValueError(
                        f"{label}:{lineno}: sequence line before '# STOCKHOLM 1.0' header"
                    )
                continue
            first = line[:1]
            if first == "#":
                builder.markup(line, lineno)
            elif first == "/" and line.startswith("//"):
                yield builder.finish(lineno)
                builder = None
            else:
                parts = line.split()
                if not parts:
                    builder.new_block()
                elif len(parts) == 2:
                    builder.sequence(parts[0], parts[1], lineno)
                else:
                    raise ValueError(
                        f"{label}:{lineno}: a sequence line must be '<name> "
                        "<aligned sequence>' without spaces in either, got "
                        f"{len(parts)} fields"
                    )
    except UnicodeDecodeError as err:
        raise _decode_error(label, lineno + 1, err) from None
    if builder is not None:
        raise ValueError(
            f"{label}:{lineno}: unterminated Stockholm alignment (started at line "
            f"{builder.start}, no '//' before the end of the file)"
        )


def read_stockholm(source: PathOrHandle) -> Iterator[StockholmAlignment]:
    """Read Stockholm alignments one at a time.

    Handles several alignments per file (``# STOCKHOLM 1.0`` ... ``//``), ``#=GF``, ``#=GS``,
    ``#=GC``, ``#=GR`` markup, interleaved blocks (a sequence continued over blocks separated by
    blank lines), CRLF line ends and compressed files (detected by content).

    Parameters
    ----------
    source : str, os.PathLike or text file handle
        The Stockholm file.

    Yields
    ------
    StockholmAlignment
        Rows as written (gaps and case kept); `StockholmAlignment.records` gives cleaned sequences.

    Raises
    ------
    ValueError
        Naming file and line: a line before the ``# STOCKHOLM 1.0`` header, a missing ``//``, an
        invalid character in a row, rows or ``#=GC``/``#=GR`` strings of different lengths, a name
        twice in one block, malformed markup, an alignment without sequences.
    """
    with _reading(source) as (handle, label):
        yield from _parse_stockholm(handle, label)


def _gf_lines_for_writing(aln: StockholmAlignment) -> List[Tuple[str, str]]:
    lines = aln._gf_lines
    if lines is not None:
        rebuilt: Dict[str, str] = {}
        for tag, text in lines:
            rebuilt[tag] = rebuilt[tag] + "\n" + text if tag in rebuilt else text
        if rebuilt == aln.gf:  # the remembered order still describes .gf: keep it
            return lines
    return [(tag, line) for tag, text in aln.gf.items() for line in text.split("\n")]


def _check_token(what: str, value: str) -> None:
    if not value or any(ch.isspace() for ch in value):
        raise ValueError(
            f"{what} {value!r} is empty or contains whitespace; Stockholm cannot hold it"
        )


def _write_one(handle: IO[str], aln: StockholmAlignment, width: Optional[int]) -> None:
    write = handle.write
    write("# STOCKHOLM 1.0\n\n")
    for tag, text in _gf_lines_for_writing(aln):
        _check_token("#=GF tag", tag)
        write(f"#=GF {tag:<2}   {text}".rstrip() + "\n")
    for name in aln.names:
        _check_token("sequence name", name)
    for tag in aln.gc:
        _check_token("#=GC tag", tag)
    for name, tags in aln.gr.items():
        for tag in tags:
            _check_token("#=GR tag", tag)
    label_width = max(
        [len(n) for n in aln.names]
        + [len("#=GC " + tag) for tag in aln.gc]
        + [len(f"#=GR {n} {t}") for n, tags in aln.gr.items() for t in tags]
    )
    if aln.gs:
        write("\n")
        gs_width = max(len(n) for n in aln.gs)
        for name, tags in aln.gs.items():
            for tag, text in tags.items():
                for line in text.split("\n"):
                    write(f"#=GS {name:<{gs_width}} {tag} {line}".rstrip() + "\n")
    ncols = aln.ncols
    step = width if width else ncols
    for start in range(0, ncols, step):
        write("\n")
        end = start + step
        for name in aln.names:
            write(f"{name:<{label_width}} {aln.aligned[name][start:end]}\n")
            for tag, value in aln.gr.get(name, {}).items():
                write(f"{f'#=GR {name} {tag}':<{label_width}} {value[start:end]}\n")
        for tag, value in aln.gc.items():
            write(f"{'#=GC ' + tag:<{label_width}} {value[start:end]}\n")
    write("//\n")


def write_stockholm(
    alignments: Union[StockholmAlignment, Iterable[StockholmAlignment]],
    path_or_handle: PathOrHandle,
    width: Optional[int] = None,
) -> int:
    """Write one or more alignments as Stockholm.

    Parameters
    ----------
    alignments : StockholmAlignment or iterable of them
        Streamed; each becomes one ``# STOCKHOLM 1.0`` ... ``//`` block.
    path_or_handle : str, os.PathLike or writable text handle
        A path ending in ``.gz`` is gzip-compressed.
    width : int or None
        Columns per block; None or 0 writes each row on one line, a number writes interleaved
        blocks separated by blank lines.

    Returns
    -------
    int
        Number of alignments written.
    """
    if width is not None and width < 0:
        raise ValueError(f"width must be positive or None, got {width}")
    if isinstance(alignments, StockholmAlignment):
        alignments = [alignments]
    n = 0
    with _writing(path_or_handle) as handle:
        for aln in alignments:
            if not aln.names:
                raise ValueError("cannot write an alignment without sequences")
            _write_one(handle, aln, width)
            n += 1
    return n
