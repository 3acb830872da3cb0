"""records_from: the one normaliser that turns whatever a user passes into cleaned, named records.

Every API that takes sequences (embed, align, search, cluster, train) calls `records_from`, so the
rules below hold everywhere.

How a ``str`` is read, in this order:

1. the name of an existing file: the file (FASTA or Stockholm, compressed or not, told apart by
   content); an existing directory: ``IsADirectoryError``;
2. text starting with ``>`` or ``# STOCKHOLM``: FASTA or Stockholm text;
3. text that looks like a path, i.e. contains ``/`` or ``\\``, or ends in a sequence-file suffix
   (``.fa .fasta .fna .ffn .frn .fas .fsa .afa .sto .stk .sth .stockholm .txt .gz .bz2 .xz``, any
   case): ``FileNotFoundError``, since no sequence can contain ``/`` or those suffixes' letters;
4. anything else: one sequence, validated like any other (so a mistyped file name without a
   suffix reports an invalid character and says that no such file exists).
"""

from __future__ import annotations

import io
import itertools
import os
from typing import Iterator, List, Tuple

import numpy as np

from .alphabet import InvalidSequenceError, _AmbiguityTally, _clean, _token_ids
from .fasta import _fasta_entries, _FastaEntry
from .record import SeqRecord
from .stockholm import StockholmAlignment, _parse_stockholm
from .textio import _is_handle, _reading

__all__ = ["records_from", "tokenize_batch"]

_PATH_SUFFIXES = (
    ".fa",
    ".fasta",
    ".fna",
    ".ffn",
    ".frn",
    ".fas",
    ".fsa",
    ".afa",
    ".sto",
    ".stk",
    ".sth",
    ".stockholm",
    ".txt",
    ".gz",
    ".bz2",
    ".xz",
)


def _str_kind(text: str) -> str:
    """Which of the rules in the module docstring a str falls under."""
    slash = "/" in text or "\\" in text
    # A name without a slash longer than NAME_MAX (255) cannot be a file: long sequences skip the
    # stat call, which is most of the cost of a short one.
    if (slash or len(text) <= 255) and os.path.exists(text):
        return "file" if os.path.isfile(text) else "missing file"
    head = text[:64].lstrip()
    if head.startswith(">"):
        return "fasta text"
    if head.startswith("# STOCKHOLM"):
        return "stockholm text"
    if slash or text[-11:].lower().endswith(_PATH_SUFFIXES):
        return "missing file"
    return "sequence"


def _missing(path) -> OSError:
    if os.path.isdir(path):
        return IsADirectoryError(21, "Is a directory, not a sequence file", os.fspath(path))
    return FileNotFoundError(2, "No such sequence file", os.fspath(path))


def _where(origin, position=None) -> str:
    """Name where a record came from: 'file:line' for files, 'item i' for in-memory input.

    Origins stay raw (an int, a tuple, a FASTA entry) until a message needs them, so the common,
    error-free path formats nothing.
    """
    if origin is None:
        return "the input"
    if isinstance(origin, int):
        return f"item {origin}"
    if isinstance(origin, _FastaEntry):
        return f"{origin.label}:{origin.line_of(position)}"
    if isinstance(origin, tuple):
        label, line = origin
        return f"{label}:{line}" if line is not None else label
    return origin


def _from_text_source(source) -> Iterator[tuple]:
    """Raw (name, seq, description, origin) from a FASTA or Stockholm file, handle or text."""
    with _reading(source) as (handle, label):
        peeked: List[str] = []
        for line in handle:
            peeked.append(line)
            if line.strip():
                break
        first = peeked[-1].strip() if peeked else ""
        lines = itertools.chain(peeked, handle)
        if first.startswith(">"):
            for entry in _fasta_entries(lines, label, "error"):
                rec = entry.record
                yield rec.name, rec.seq, rec.description, entry
        elif first.startswith("# STOCKHOLM"):
            for aln in _parse_stockholm(lines, label):
                yield from _from_alignment(aln)
        elif not first:
            raise ValueError(f"{label}: no sequences (the file is empty)")
        else:
            raise ValueError(
                f"{label}:{len(peeked)}: cannot tell the format: expected a FASTA "
                "header '>' or a '# STOCKHOLM 1.0' header"
            )


def _from_alignment(aln: StockholmAlignment) -> Iterator[tuple]:
    for name in aln.names:
        origin = (aln._source, aln._lines.get(name)) if aln._source else f"alignment {aln.id!r}"
        yield name, aln.aligned[name], aln.gs.get(name, {}).get("DE", ""), origin


def _from_str(text: str, default_name: str, origin) -> Iterator[tuple]:
    kind = _str_kind(text)
    if kind == "file":
        yield from _from_text_source(text)
    elif kind == "fasta text" or kind == "stockholm text":
        buffer = io.StringIO(text)
        buffer.name = "<string>"
        yield from _from_text_source(buffer)
    elif kind == "missing file":
        raise _missing(text)
    else:
        yield default_name, text, "", origin


def _raw(obj, default_name: str, origin) -> Iterator[tuple]:
    """Raw (name, seq, description, origin) tuples from any accepted input, lazily."""
    if isinstance(obj, SeqRecord):
        yield obj.name, obj.seq, obj.description, origin
    elif isinstance(obj, StockholmAlignment):
        yield from _from_alignment(obj)
    elif isinstance(obj, str):
        yield from _from_str(obj, default_name, origin)
    elif isinstance(obj, os.PathLike):
        if not os.path.exists(obj):
            raise _missing(obj)
        yield from _from_text_source(obj)
    elif isinstance(obj, dict):
        for name, seq in obj.items():
            if not isinstance(name, str) or not isinstance(seq, str):
                raise TypeError(
                    f"a dict of sequences must map str names to str sequences, got "
                    f"{type(name).__name__} -> {type(seq).__name__}"
                )
            yield (
                name,
                seq,
                "",
                (f"{_where(origin)}, key {name!r}" if origin is not None else f"key {name!r}"),
            )
    elif _is_handle(obj):
        yield from _from_text_source(obj)
    elif hasattr(obj, "seq") and hasattr(obj, "id"):
        # A Biopython SeqRecord: its description repeats the id first.
        name = str(obj.id)
        description = str(getattr(obj, "description", "") or "")
        if description.split(None, 1)[:1] == [name]:
            description = description[len(name) :].strip()
        yield name, str(obj.seq), description, origin
    elif isinstance(obj, (bytes, bytearray)):
        raise TypeError("sequences must be str, not bytes (decode them first)")
    elif hasattr(obj, "__iter__"):
        for i, item in enumerate(obj):
            if isinstance(item, str):
                # Inlined: a long list of plain sequences is the common case.
                if _str_kind(item) == "sequence":
                    yield f"seq{i}", item, "", i
                else:
                    yield from _from_str(item, f"seq{i}", i)
            elif isinstance(item, (tuple, list)):
                if len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], str):
                    yield item[0], item[1], "", i
                else:
                    raise TypeError(
                        f"item {i}: expected a (name, sequence) pair of str, got a "
                        f"{type(item).__name__} of length {len(item)}"
                    )
            else:
                yield from _raw(item, f"seq{i}", i)
    else:
        raise TypeError(f"cannot read sequences from a {type(obj).__name__}")


def _check_top_level(obj) -> None:
    """Errors that should surface at the call, not at the first ``next()``."""
    if isinstance(obj, str):
        if _str_kind(obj) == "missing file":
            raise _missing(obj)
    elif isinstance(obj, os.PathLike):
        if not os.path.exists(obj):
            raise _missing(obj)
    elif isinstance(obj, (bytes, bytearray)):
        raise TypeError("sequences must be str, not bytes (decode them first)")
    elif not (
        isinstance(obj, (SeqRecord, StockholmAlignment, dict))
        or _is_handle(obj)
        or hasattr(obj, "__iter__")
        or (hasattr(obj, "seq") and hasattr(obj, "id"))
    ):
        raise TypeError(f"cannot read sequences from a {type(obj).__name__}")


def _records(obj, strict: bool) -> Iterator[SeqRecord]:
    tally = _AmbiguityTally()
    seen = {}
    for name, seq, description, origin in _raw(obj, "seq0", None):
        try:
            cleaned = _clean(seq, name, strict, tally)
        except InvalidSequenceError as err:
            message = str(err)
            if isinstance(origin, (tuple, _FastaEntry)):  # from a file: name file and line
                message = f"{_where(origin, err.position)}: {message}"
            elif isinstance(obj, str) and origin is None and len(seq) < 256:
                message += " (read as a sequence: no file of that name exists)"
            raise InvalidSequenceError(message, err.name, err.position, err.char) from None
        if not isinstance(name, str) or name.split() != [name]:
            raise ValueError(
                f"{_where(origin)}: sequence name {name!r} is empty or contains whitespace"
            )
        if name in seen:
            raise ValueError(
                f"duplicate sequence name {name!r} ({_where(seen[name])} and {_where(origin)})"
            )
        seen[name] = origin
        yield SeqRecord(name, cleaned.decode("ascii"), description)
    tally.warn("will be")


def records_from(obj, strict: bool = False) -> Iterator[SeqRecord]:
    """Normalise any accepted sequence input into cleaned, uniquely named records, lazily.

    Parameters
    ----------
    obj
        One of, or any iterable (list, tuple, generator) of:

        - a ``str``: a sequence, a file name, or FASTA/Stockholm text (rules in this module's
          docstring); a sequence alone is named ``seq0``, the i-th item of a collection ``seq<i>``;
        - a ``pathlib.Path`` (FASTA or Stockholm, plain, gzip, bzip2 or xz, told apart by content);
        - an open text file handle;
        - a ``(name, seq)`` pair (inside a collection: a top-level tuple is a collection);
        - a dict name -> seq;
        - a `SeqRecord` (or a Biopython ``SeqRecord``);
        - a `StockholmAlignment` (its rows, ungapped).
    strict : bool
        If True, IUPAC ambiguity codes are errors instead of ``MASK``.

    Yields
    ------
    SeqRecord
        ``seq`` is the `clean_sequence` output (upper-case, T as U, no gaps).

    Raises
    ------
    FileNotFoundError
        At the call, for a path that does not exist.
    TypeError
        At the call for an unsupported top-level type; while iterating for an unsupported item.
    ValueError
        While iterating: an invalid character (naming sequence, 1-based position, character, and
        for files the file and line), an empty sequence, a duplicate or empty name, malformed files.

    Warns
    -----
    AmbiguousBaseWarning
        Once, when the iteration finishes, if any ambiguity codes were seen.
    """
    _check_top_level(obj)
    return _records(obj, strict)


def tokenize_batch(obj, strict: bool = False) -> Tuple[List[str], np.ndarray, np.ndarray]:
    """Tokenise many sequences into one ragged block.

    Parameters
    ----------
    obj
        Anything `records_from` accepts.
    strict : bool
        If True, ambiguity codes are errors.

    Returns
    -------
    names : list of str
        One per sequence.
    ids : int64 array, shape (total_len,)
        Token ids of every sequence, one after the other.
    offsets : int64 array, shape (n + 1,)
        Sequence i is ``ids[offsets[i]:offsets[i + 1]]``.
    """
    names: List[str] = []
    seqs: List[str] = []
    for rec in records_from(obj, strict):
        names.append(rec.name)
        seqs.append(rec.seq)
    offsets = np.zeros(len(seqs) + 1, dtype=np.int64)
    np.cumsum(np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs)), out=offsets[1:])
    return names, _token_ids("".join(seqs).encode("ascii")), offsets
