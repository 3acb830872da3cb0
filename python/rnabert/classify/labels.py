"""Labelled FASTA: the training input of a classification head, one class label per record.

The label rule is nRC's: the label is the **last whitespace-separated word of the header**, the
sequence name its first word, so ``>RF00001_AB0123_1-119 5S_rRNA`` is the record
``RF00001_AB0123_1-119`` of class ``5S_rRNA``, and ``>x12 some words tRNA`` is of class ``tRNA``.
A header with a name only has no label and is an error naming the file, the line and the record.
"""

from __future__ import annotations

import os
from typing import List, Tuple, Union

from ..seqs import SeqRecord

__all__ = ["LABEL_RULE", "read_labelled_fasta"]

LABEL_RULE = "the label is the last word of the FASTA header, after the name (>name ... label)"


def read_labelled_fasta(
    path: Union[str, "os.PathLike[str]"],
) -> Tuple[List[SeqRecord], List[str]]:
    """Read a labelled FASTA file (plain or compressed).

    Returns
    -------
    records : list of SeqRecord
        As read (raw sequences; the encoder's input rules clean them).
    labels : list of str
        One class label per record: the last word of its header.

    Raises
    ------
    ValueError
        ``file:line: record 'name' has no label ...`` for a header without one, and every error of
        `read_fasta` (naming file and line); also an empty file.
    """
    # the reader's private entries carry the header line, which the error message names
    from ..seqs.fasta import _fasta_entries
    from ..seqs.textio import _reading

    records, labels = [], []
    with _reading(path) as (handle, label):
        for entry in _fasta_entries(handle, label):
            words = entry.record.description.split()
            if not words:
                raise ValueError(
                    f"{label}:{entry.header_line}: record {entry.record.name!r} has no label: "
                    f"{LABEL_RULE}"
                )
            records.append(entry.record)
            labels.append(words[-1])
    if not records:
        raise ValueError(f"{os.fspath(path)}: no sequences")
    return records, labels
