"""Secondary structures for drawing: dot-bracket or WUSS strings to pair tables, a Stockholm
alignment's consensus structure projected onto one member, and an optional ViennaRNA fold."""

from __future__ import annotations

from typing import Optional

import numpy as np

# WUSS brackets (Rfam SS_cons) and the extra ones of dot-bracket pseudoknot notation; upper/lower
# case letters pair as pseudoknots (A with a).
_OPEN = "([{<"
_CLOSE = ")]}>"
_GAPS = set("-.~_")


def pair_table(structure: str) -> np.ndarray:
    """Partner of each position of a dot-bracket / WUSS string (-1 when unpaired): int64 (L,).

    ``()``, ``[]``, ``{}``, ``<>`` and letter pairs (``A``/``a``) close in nested order within
    their own kind; every other character (``. , : _ - ~``) is unpaired. ValueError (one line)
    for an unbalanced string.
    """
    partner = np.full(len(structure), -1, dtype=np.int64)
    stacks: dict = {}
    for k, ch in enumerate(structure):
        if ch in _OPEN:
            stacks.setdefault(ch, []).append(k)
        elif ch in _CLOSE:
            opener = _OPEN[_CLOSE.index(ch)]
            if not stacks.get(opener):
                raise ValueError(f"structure: unbalanced {ch!r} at position {k + 1}")
            i = stacks[opener].pop()
            partner[i], partner[k] = k, i
        elif ch.isalpha() and ch.isupper():
            stacks.setdefault(ch, []).append(k)
        elif ch.isalpha() and ch.islower():
            if not stacks.get(ch.upper()):
                continue  # a lone lower-case letter is an annotation, not a pseudoknot
            i = stacks[ch.upper()].pop()
            partner[i], partner[k] = k, i
    left = [(ch, s[-1]) for ch, s in stacks.items() if s and not ch.isalpha()]
    if left:
        ch, k = left[0]
        raise ValueError(f"structure: unbalanced {ch!r} at position {k + 1}")
    return partner


def as_pair_table(structure, length: int, what: str = "structure") -> Optional[np.ndarray]:
    """A structure given as a string or a partner array, checked against the sequence length;
    None stays None."""
    if structure is None:
        return None
    partner = (
        pair_table(structure)
        if isinstance(structure, str)
        else np.asarray(structure, dtype=np.int64)
    )
    if partner.shape != (length,):
        raise ValueError(
            f"{what} covers {partner.shape[0]} positions but the sequence has {length}"
        )
    return partner


def member_structure(aligned_row: str, ss_cons: str) -> str:
    """The consensus structure of an alignment (``#=GC SS_cons``) on one member's own bases:
    columns where the member has a gap are dropped, and a pair whose partner column is a gap in
    the member becomes unpaired."""
    if len(aligned_row) != len(ss_cons):
        raise ValueError(
            f"SS_cons has {len(ss_cons)} columns but the aligned row has {len(aligned_row)}"
        )
    partner = pair_table(ss_cons)
    residue = np.array([c not in _GAPS for c in aligned_row], dtype=bool)
    out = []
    for col in np.flatnonzero(residue):
        p = partner[col]
        if p < 0 or not residue[p]:
            out.append(".")
        else:
            out.append(ss_cons[col])  # the column's own bracket keeps pseudoknots apart
    return "".join(out)


def fold(seq: str) -> str:
    """Minimum-free-energy structure of ``seq`` (dot-bracket) by ViennaRNA, when its Python
    module ``RNA`` is installed; ImportError saying so otherwise."""
    try:
        import RNA
    except ImportError:
        raise ImportError(
            "predicting a structure needs ViennaRNA's Python module: pip install ViennaRNA"
        ) from None
    structure, _ = RNA.fold(seq.upper().replace("T", "U"))
    return structure
