"""FASTA and aligned-FASTA reading and writing, streamed record by record."""

from __future__ import annotations

import warnings
from typing import IO, Iterable, Iterator, List, Optional, Tuple

from .alphabet import _ALLOWED
from .record import SeqRecord
from .stockholm import StockholmAlignment
from .textio import PathOrHandle, _decode_error, _reading, _writing

__all__ = ["read_fasta", "write_fasta", "read_aligned_fasta", "write_aligned_fasta"]

_DUPLICATE_POLICIES = ("error", "warn", "allow")


class _FastaEntry:
    """A raw record plus where it came from, so later errors can name the file and line."""

    __slots__ = ("record", "label", "header_line", "line_lengths")

    def __init__(self, record: SeqRecord, label: str, header_line: int, line_lengths: List[int]):
        self.record = record
        self.label = label
        self.header_line = header_line
        self.line_lengths = line_lengths

    def line_of(self, position: Optional[int]) -> int:
        """File line holding the 1-based sequence ``position`` (the header line if None)."""
        if position is None:
            return self.header_line
        line = self.header_line
        for length in self.line_lengths:
            line += 1
            if position <= length:
                return line
            position -= length
        return line


def _fasta_entries(handle: IO[str], label: str, duplicates: str = "error") -> Iterator[_FastaEntry]:
    """Parse FASTA text into entries; the one parser behind every FASTA reader."""
    if duplicates not in _DUPLICATE_POLICIES:
        raise ValueError(f"duplicates must be one of {_DUPLICATE_POLICIES}, got {duplicates!r}")
    first_line_of = {}
    name = description = None
    header_line = 0
    chunks: List[str] = []
    lineno = 0

    def finish() -> _FastaEntry:
        if not chunks:
            raise ValueError(f"{label}:{header_line}: record {name!r} has no sequence")
        return _FastaEntry(
            SeqRecord(name, "".join(chunks), description),
            label,
            header_line,
            [len(c) for c in chunks],
        )

    try:
        for lineno, line in enumerate(handle, 1):
            text = line.strip()
            if not text:
                continue  # blank lines are allowed anywhere
            if text[0] == ">":
                if name is not None:
                    yield finish()
                fields = text[1:].split(None, 1)
                if not fields:
                    raise ValueError(f"{label}:{lineno}: FASTA header without a sequence id")
                name = fields[0]
                description = fields[1] if len(fields) > 1 else ""
                header_line = lineno
                chunks = []
                if duplicates != "allow":
                    if name in first_line_of:
                        message = (
                            f"{label}:{lineno}: duplicate sequence id {name!r} "
                            f"(first at line {first_line_of[name]})"
                        )
                        if duplicates == "error":
                            raise ValueError(message)
                        warnings.warn(message, stacklevel=3)
                    else:
                        first_line_of[name] = lineno
            elif text[0] == ";":
                continue  # old-style FASTA comment
            elif name is None:
                hint = (
                    " (this looks like Stockholm: use read_stockholm or records_from)"
                    if text.startswith("# STOCKHOLM")
                    else ""
                )
                raise ValueError(
                    f"{label}:{lineno}: sequence data before the first '>' header" + hint
                )
            else:
                if " " in text or "\t" in text:
                    # Some tools split sequence lines into blocks of ten; the spaces carry nothing.
                    text = "".join(text.split())
                chunks.append(text)
    except UnicodeDecodeError as err:
        raise _decode_error(label, lineno + 1, err) from None
    if name is not None:
        yield finish()


def read_fasta(source: PathOrHandle, duplicates: str = "error") -> Iterator[SeqRecord]:
    """Read FASTA records one at a time.

    Multi-line records, blank lines, CRLF line ends, ``;`` comment lines and gzip/bzip2/xz files
    (detected by content) are accepted. Spaces inside sequence lines are removed. Sequences are
    returned as written (not upper-cased, not validated): use `records_from` or `clean_sequence`
    for that.

    Parameters
    ----------
    source : str, os.PathLike or text file handle
        The FASTA file.
    duplicates : {"error", "warn", "allow"}
        What a repeated id does; the message names both lines. Keeping the ids seen costs one set
        of names; the sequences themselves are never held.

    Yields
    ------
    SeqRecord
        ``name`` is the header's first word, ``description`` the rest of the header line.

    Raises
    ------
    ValueError
        Naming file and line: sequence data before the first ``>``, a header without an id, a record
        without sequence, a duplicate id.
    """
    with _reading(source) as (handle, label):
        for entry in _fasta_entries(handle, label, duplicates):
            yield entry.record


def _records_for_writing(records) -> Iterator[SeqRecord]:
    """Accept SeqRecords, (name, seq) pairs, a dict, or an alignment, without cleaning them."""
    if isinstance(records, StockholmAlignment):
        records = records.records()
    elif isinstance(records, SeqRecord):
        records = [records]
    elif isinstance(records, dict):
        records = records.items()
    for item in records:
        if isinstance(item, SeqRecord):
            rec = item
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            rec = SeqRecord(str(item[0]), str(item[1]))
        else:
            raise TypeError(f"expected SeqRecord or (name, seq) pairs, got {type(item).__name__}")
        if not rec.name or any(ch.isspace() for ch in rec.name):
            raise ValueError(
                f"sequence name {rec.name!r} is empty or contains whitespace; "
                "it would not read back as the same id"
            )
        if any(ch.isspace() for ch in rec.seq):
            raise ValueError(f"sequence {rec.name!r} contains whitespace")
        yield rec


def _write_wrapped(handle: IO[str], seq: str, width: Optional[int]) -> None:
    if not width:
        handle.write(seq + "\n")
        return
    for start in range(0, len(seq), width):
        handle.write(seq[start : start + width] + "\n")


def write_fasta(
    records: Iterable[SeqRecord], path_or_handle: PathOrHandle, width: Optional[int] = 60
) -> int:
    """Write records as FASTA.

    Parameters
    ----------
    records : iterable of SeqRecord or (name, seq) pairs, or a dict name -> seq
        Written as given (no cleaning); streamed, so a generator is never held in memory.
    path_or_handle : str, os.PathLike or writable text handle
        A path ending in ``.gz`` is gzip-compressed.
    width : int or None
        Sequence line width; None or 0 writes each sequence on one line.

    Returns
    -------
    int
        Number of records written.
    """
    if width is not None and width < 0:
        raise ValueError(f"width must be positive or None, got {width}")
    n = 0
    with _writing(path_or_handle) as handle:
        for rec in _records_for_writing(records):
            header = f">{rec.name} {rec.description}" if rec.description else f">{rec.name}"
            handle.write(header + "\n")
            _write_wrapped(handle, rec.seq, width)
            n += 1
    return n


def read_aligned_fasta(source: PathOrHandle):
    """Read an aligned (gapped) FASTA file as one alignment.

    Parameters
    ----------
    source : str, os.PathLike or text file handle
        The file; every record must have the same length (gaps ``- . ~ _`` counted).

    Returns
    -------
    StockholmAlignment
        ``gf`` and ``gc`` are empty; a header's description goes to ``gs[name]["DE"]``.

    Raises
    ------
    ValueError
        Naming file and line: as `read_fasta` (duplicate ids are errors), an invalid character, or
        a record whose aligned length differs from the first record's.
    """
    names: List[str] = []
    aligned = {}
    gs = {}
    lines = {}
    with _reading(source) as (handle, label):
        first: Optional[Tuple[str, int, int]] = None
        for entry in _fasta_entries(handle, label, "error"):
            rec = entry.record
            _check_aligned_chars(rec.seq, rec.name, entry)
            if first is None:
                first = (rec.name, len(rec.seq), entry.header_line)
            elif len(rec.seq) != first[1]:
                raise ValueError(
                    f"{label}:{entry.header_line}: inconsistent aligned lengths: {rec.name!r} has "
                    f"{len(rec.seq)} columns but {first[0]!r} (line {first[2]}) has {first[1]}"
                )
            names.append(rec.name)
            aligned[rec.name] = rec.seq
            lines[rec.name] = entry.header_line
            if rec.description:
                gs[rec.name] = {"DE": rec.description}
        if first is None:
            raise ValueError(f"{label}: no sequences in aligned FASTA")
    return StockholmAlignment(names, aligned, gs=gs, _source=label, _lines=lines)


def _check_aligned_chars(seq: str, name: str, entry: _FastaEntry) -> None:
    try:
        bad = seq.encode("ascii").translate(None, _ALLOWED)
        if not bad:
            return
        pos = seq.index(chr(bad[0]))
    except UnicodeEncodeError as err:
        pos = err.start
    raise ValueError(
        f"{entry.label}:{entry.line_of(pos + 1)}: sequence {name!r}: invalid "
        f"character {seq[pos]!r} at column {pos + 1}"
    )


def write_aligned_fasta(alignment, path_or_handle: PathOrHandle, width: Optional[int] = 60) -> int:
    """Write an alignment as aligned (gapped) FASTA.

    Parameters
    ----------
    alignment : StockholmAlignment
        Rows are written in ``alignment.names`` order; ``gs[name]["DE"]`` becomes the description.
    path_or_handle : str, os.PathLike or writable text handle
        A path ending in ``.gz`` is gzip-compressed.
    width : int or None
        Line width; None or 0 writes each row on one line.

    Returns
    -------
    int
        Number of rows written.
    """
    rows = (
        SeqRecord(
            name,
            alignment.aligned[name],
            alignment.gs.get(name, {}).get("DE", "").replace("\n", " "),
        )
        for name in alignment.names
    )
    return write_fasta(rows, path_or_handle, width)
