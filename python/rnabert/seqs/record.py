"""SeqRecord: one named sequence, the unit every reader yields and every API accepts."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SeqRecord"]


@dataclass
class SeqRecord:
    """A named RNA sequence.

    Parameters
    ----------
    name : str
        The identifier (a FASTA id or Stockholm sequence name; no whitespace).
    seq : str
        The sequence. Raw as read by `read_fasta`; cleaned (upper-case ACGU + ambiguity codes, no
        gaps) when it comes from `records_from` or `StockholmAlignment.records`.
    description : str
        The rest of the FASTA header line after the id, or a Stockholm ``#=GS <name> DE`` text.
    """

    name: str
    seq: str
    description: str = ""
