"""The RNABERT alphabet: token ids, sequence cleaning and validation, tokenisation.

Token ids are those of the original RNABERT (``[PAD]`` 0, ``[MASK]`` 1, A 2, U 3, G 4, C 5), so
original checkpoints and their embedding tables work unchanged. Cleaning and tokenising run on
byte translation tables and a 256-entry lookup table: a sequence is processed by a few C-level
calls, never by a Python loop over its bases.
"""

from __future__ import annotations

import warnings
from collections import Counter
from typing import List, Optional

import numpy as np

__all__ = [
    "PAD",
    "MASK",
    "A",
    "U",
    "G",
    "C",
    "VOCAB",
    "AMBIGUOUS",
    "GAPS",
    "AmbiguousBaseWarning",
    "InvalidSequenceError",
    "clean_sequence",
    "tokenize",
    "detokenize",
]

PAD = 0
MASK = 1
A = 2
U = 3
G = 4
C = 5
#: Token names in id order (the original RNABERT vocabulary).
VOCAB = ("[PAD]", "[MASK]", "A", "U", "G", "C")
#: IUPAC ambiguity codes for nucleotides; each becomes ``MASK`` when tokenised.
AMBIGUOUS = "NRYKMSWBDHV"
#: Gap characters removed when an aligned sequence is read for embedding.
GAPS = "-._~"

_BASES = "ACGUT"
_GAP_BYTES = GAPS.encode("ascii")
# Every byte a sequence may contain, in either case; used as the delete set of bytes.translate, so
# whatever survives the deletion is invalid.
_ALLOWED = (_BASES + _BASES.lower() + AMBIGUOUS + AMBIGUOUS.lower() + GAPS).encode("ascii")
_ALLOWED_NO_GAPS = (_BASES + _BASES.lower() + AMBIGUOUS + AMBIGUOUS.lower()).encode("ascii")


def _normalising_table() -> bytes:
    table = bytearray(range(256))
    for lower in range(ord("a"), ord("z") + 1):
        table[lower] = lower - 32
    table[ord("T")] = table[ord("t")] = ord("U")
    return bytes(table)


# Upper-cases and maps T to U in one bytes.translate call (gaps are deleted in the same call).
_NORMALISE = _normalising_table()

# 256-entry lookup table from a cleaned byte to its token id; only the entries of cleaned bytes
# (A C G U and the upper-case ambiguity codes) are ever read.
_TOKEN_LUT = np.full(256, MASK, dtype=np.int64)
for _letter, _token in zip("AUGC", (A, U, G, C)):
    _TOKEN_LUT[ord(_letter)] = _token
del _letter, _token


class AmbiguousBaseWarning(UserWarning):
    """IUPAC ambiguity codes (N, R, Y, ...) were read and will be (or were) encoded as ``MASK``.

    Attributes
    ----------
    counts : dict of str to int
        How many times each ambiguity letter occurred.
    n_sequences : int
        How many sequences contained at least one.
    """

    def __init__(self, message: str, counts: Optional[dict] = None, n_sequences: int = 0):
        super().__init__(message)
        self.counts = dict(counts or {})
        self.n_sequences = n_sequences

    def __reduce__(self):
        return type(self), (str(self), self.counts, self.n_sequences)


class InvalidSequenceError(ValueError):
    """A sequence contains a character that is not a base, an ambiguity code or a gap, or is empty.

    Attributes
    ----------
    name : str
        The sequence's name.
    position : int or None
        1-based position of the offending character in the string as given (gaps included);
        None when the sequence is empty.
    char : str or None
        The offending character.
    """

    def __init__(
        self, message: str, name: str, position: Optional[int] = None, char: Optional[str] = None
    ):
        super().__init__(message)
        self.name = name
        self.position = position
        self.char = char

    def __reduce__(self):
        # Keeps the attributes across processes (multiprocessing, Ray), which pickle exceptions.
        return type(self), (str(self), self.name, self.position, self.char)


class _AmbiguityTally:
    """Counts ambiguity codes over many sequences so that one call emits one warning."""

    __slots__ = ("counts", "names", "n_sequences")

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.names: List[str] = []
        self.n_sequences = 0

    def add(self, name: str, letters: bytes) -> None:
        self.counts.update(letters.decode("ascii"))
        self.n_sequences += 1
        if len(self.names) < 3:
            self.names.append(name)

    def warn(self, verb: str = "will be", stacklevel: int = 3) -> None:
        if not self.n_sequences:
            return
        total = sum(self.counts.values())
        detail = ", ".join(
            f"{letter}×{n}"
            for letter, n in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        shown = ", ".join(repr(n) for n in self.names)
        if self.n_sequences > len(self.names):
            shown += ", …"
        message = (
            f"{total} ambiguous base{'s' if total != 1 else ''} ({detail}) in "
            f"{self.n_sequences} sequence{'s' if self.n_sequences != 1 else ''} ({shown}) "
            f"{verb} encoded as MASK"
        )
        warnings.warn(
            AmbiguousBaseWarning(message, self.counts, self.n_sequences), stacklevel=stacklevel
        )


def _clean(seq: str, name: str, strict: bool, tally: Optional[_AmbiguityTally]) -> bytes:
    """Clean one sequence to upper-case ACGU + ambiguity codes, as ASCII bytes.

    The shared worker of ``clean_sequence``, ``tokenize`` and ``records_from``; ambiguity codes are
    added to ``tally`` instead of being warned about, so callers can aggregate over many sequences.
    """
    if not isinstance(seq, str):
        raise TypeError(f"sequence {name!r}: expected str, got {type(seq).__name__}")
    try:
        raw = seq.encode("ascii")
    except UnicodeEncodeError as err:
        char = seq[err.start]
        raise InvalidSequenceError(
            f"sequence {name!r}: invalid character {char!r} at position {err.start + 1}",
            name,
            err.start + 1,
            char,
        ) from None
    bad = raw.translate(None, _ALLOWED)
    if bad:
        # bad keeps the order of raw, so bad[0] is the first invalid byte and its first occurrence
        # in raw is its position.
        pos = raw.index(bad[0]) + 1
        char = chr(bad[0])
        raise InvalidSequenceError(
            f"sequence {name!r}: invalid character {char!r} at position {pos}", name, pos, char
        )
    cleaned = raw.translate(_NORMALISE, _GAP_BYTES)
    if not cleaned:
        what = "is empty after removing gaps" if raw else "is empty"
        raise InvalidSequenceError(f"sequence {name!r} {what}", name)
    ambiguous = cleaned.translate(None, b"ACGU")
    if ambiguous:
        if strict:
            first = raw.translate(None, _GAP_BYTES + b"ACGUTacgut")[0]
            pos = raw.index(first) + 1
            raise InvalidSequenceError(
                f"sequence {name!r}: ambiguous base {chr(first)!r} at position {pos} "
                "(strict=True rejects IUPAC ambiguity codes)",
                name,
                pos,
                chr(first),
            )
        if tally is not None:
            tally.add(name, ambiguous)
    return cleaned


def clean_sequence(seq: str, name: str = "<sequence>", strict: bool = False) -> str:
    """Validate and normalise one RNA sequence.

    Upper-cases, maps T to U, removes gap characters (``- . ~ _``), and keeps IUPAC ambiguity codes
    as letters (so alignments can still print them; they become ``MASK`` when tokenised).

    Parameters
    ----------
    seq : str
        The sequence, possibly gapped and in any case.
    name : str
        Its name, used in error and warning messages.
    strict : bool
        If True, an ambiguity code is an error instead of a warning.

    Returns
    -------
    str
        Upper-case sequence over ``ACGU`` and ``NRYKMSWBDHV``, without gaps.

    Raises
    ------
    InvalidSequenceError
        (a ValueError) on any other character, naming the sequence, the 1-based position in ``seq``
        as given (gaps counted) and the character; on an empty sequence, also one that is empty
        after removing gaps; with ``strict=True``, on an ambiguity code.

    Warns
    -----
    AmbiguousBaseWarning
        Once, if the sequence contains ambiguity codes.
    """
    tally = _AmbiguityTally()
    cleaned = _clean(seq, name, strict, tally)
    tally.warn("will be")
    return cleaned.decode("ascii")


def tokenize(seq: str, name: str = "<sequence>", strict: bool = False) -> np.ndarray:
    """Turn one RNA sequence into RNABERT token ids.

    The sequence is cleaned first (see `clean_sequence`): gaps are removed, T reads as U, lower
    case is accepted, ambiguity codes become ``MASK`` (1).

    Parameters
    ----------
    seq : str
        The sequence.
    name : str
        Its name, used in error and warning messages.
    strict : bool
        If True, an ambiguity code is an error instead of a warning.

    Returns
    -------
    int64 array, shape (L,)
        Token ids: A 2, U 3, G 4, C 5, ambiguous 1. No CLS/EOS tokens, as in the original.

    Raises
    ------
    InvalidSequenceError
        As `clean_sequence`.
    """
    tally = _AmbiguityTally()
    cleaned = _clean(seq, name, strict, tally)
    tally.warn("were")
    return _TOKEN_LUT[np.frombuffer(cleaned, dtype=np.uint8)]


def token_ids_of_clean(cleaned: str) -> np.ndarray:
    """Token ids of a sequence already cleaned by `clean_sequence` or `records_from` (no validation,
    no warning: those happened when it was cleaned). int64 array, shape (L,)."""
    return _token_ids(cleaned.encode("ascii"))


def _token_ids(cleaned: bytes) -> np.ndarray:
    """Token ids of already cleaned ASCII bytes (no validation)."""
    return _TOKEN_LUT[np.frombuffer(cleaned, dtype=np.uint8)]


def detokenize(ids) -> str:
    """Turn token ids back into a sequence.

    Parameters
    ----------
    ids : array-like of int, shape (L,)
        Token ids (numpy array, list, or a torch tensor on any device).

    Returns
    -------
    str
        A, U, G, C for their ids; ``MASK`` is written as ``N``; ``PAD`` is dropped, so a padded row
        of a batch gives back its sequence.

    Raises
    ------
    ValueError
        If an id is not in 0..5 or ``ids`` is not one-dimensional.
    """
    if hasattr(ids, "detach"):  # a torch tensor, possibly on a GPU
        ids = ids.detach().cpu().numpy()
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"ids must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        return ""
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"ids must be integers, got dtype {arr.dtype}")
    bad = (arr < 0) | (arr >= len(VOCAB))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"invalid token id {int(arr[i])} at index {i} (valid ids are 0..{len(VOCAB) - 1})"
        )
    # MASK is written as N, the letter that most often stood there before tokenisation.
    letters = np.frombuffer(b"\0NAUGC", dtype=np.uint8)[arr]
    return letters[arr != PAD].tobytes().decode("ascii")
