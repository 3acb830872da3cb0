"""Sequences layer: the RNABERT alphabet and tokeniser, FASTA/Stockholm readers and writers, and
`records_from`, the one normaliser of sequence input that every API uses.

Readers are generators (a file of millions of sequences is never held in memory); malformed input
raises ``ValueError`` naming file and line; invalid characters name the sequence, the 1-based
position and the character; IUPAC ambiguity codes become ``MASK`` with one aggregated
`AmbiguousBaseWarning` per call.
"""

from .alphabet import (
    AMBIGUOUS,
    GAPS,
    MASK,
    PAD,
    VOCAB,
    A,
    AmbiguousBaseWarning,
    C,
    G,
    InvalidSequenceError,
    U,
    clean_sequence,
    detokenize,
    token_ids_of_clean,
    tokenize,
)
from .fasta import read_aligned_fasta, read_fasta, write_aligned_fasta, write_fasta
from .normalize import records_from, tokenize_batch
from .record import SeqRecord
from .stockholm import StockholmAlignment, read_stockholm, write_stockholm
from .textio import open_text

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
    "SeqRecord",
    "StockholmAlignment",
    "clean_sequence",
    "tokenize",
    "token_ids_of_clean",
    "detokenize",
    "tokenize_batch",
    "records_from",
    "read_fasta",
    "write_fasta",
    "read_stockholm",
    "write_stockholm",
    "read_aligned_fasta",
    "write_aligned_fasta",
    "open_text",
]
