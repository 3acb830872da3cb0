"""Pairwise identity of aligned RNAs: the one definition that evaluation and training share.

Identity of two sequences in a reference alignment = identical aligned columns / aligned columns,
where aligned columns are those in which both have a base, and an ambiguous base (token MASK) is
never identical to anything. BRAliBase divides by the alignment length with gaps instead; ours
ignores gap columns, so it reads a little higher on gappy pairs. Identity bins: <40, 40–55, 55–70,
70–85, >=85 %.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np

from .alphabet import A, C, token_ids_of_clean
from .stockholm import StockholmAlignment

BIN_EDGES = (40.0, 55.0, 70.0, 85.0)
BIN_LABELS = ("<40", "40-55", "55-70", "70-85", ">=85")


def base_codes(ids: np.ndarray) -> np.ndarray:
    """Token ids → base codes 0..3 (A, U, G, C), -1 for anything else (MASK: an ambiguous base)."""
    ids = np.asarray(ids)
    return np.where((ids >= A) & (ids <= C), ids - A, -1)


def _ids(seq) -> np.ndarray:
    return token_ids_of_clean(seq) if isinstance(seq, str) else np.asarray(seq)


def pair_identity(a, b, ref: np.ndarray) -> float:
    """Percent identity of two sequences over their reference-aligned pairs ``ref`` (k, 2).

    ``a`` and ``b`` are cleaned letters or token ids; 0.0 when ``ref`` is empty.
    """
    ref = np.asarray(ref, dtype=np.int64).reshape(-1, 2)
    if len(ref) == 0:
        return 0.0
    ca, cb = base_codes(_ids(a))[ref[:, 0]], base_codes(_ids(b))[ref[:, 1]]
    return 100.0 * float(np.mean((ca == cb) & (ca >= 0)))


def identity_matrix(
    columns: Sequence[np.ndarray], codes: Sequence[np.ndarray], ncols: int
) -> np.ndarray:
    """All pairwise identities (percent) of aligned sequences, as :func:`pair_identity`: float64 (n,
    n).

    ``columns[r]`` are the alignment columns of sequence r's bases and ``codes[r]`` those bases'
    :func:`base_codes`. One-hot matrix products over the columns instead of n² reference look-ups;
    pairs that share no column get -1.
    """
    n = len(columns)
    onehot = np.zeros((n, ncols, 4), dtype=np.float32)
    present = np.zeros((n, ncols), dtype=np.float32)
    for r, (cols, let) in enumerate(zip(columns, codes)):
        present[r, cols] = 1.0
        known = let >= 0
        onehot[r, cols[known], let[known]] = 1.0
    flat = onehot.reshape(n, -1)
    same = flat @ flat.T
    shared = present @ present.T
    return np.where(shared > 0, 100.0 * same / np.maximum(shared, 1), -1.0)


def alignment_identities(
    aln: StockholmAlignment, names: Sequence[str], seqs: Sequence
) -> np.ndarray:
    """:func:`identity_matrix` of the members ``names`` of ``aln`` (``seqs``: their letters or token
    ids)."""
    return identity_matrix(
        [aln.residue_columns(name) for name in names],
        [base_codes(_ids(s)) for s in seqs],
        aln.ncols,
    )


def identity_bin(identity) -> np.ndarray:
    """Bin index 0..4 of each identity (percent): <40, [40, 55), [55, 70), [70, 85), >=85."""
    return np.searchsorted(np.asarray(BIN_EDGES), np.asarray(identity, dtype=float), side="right")


def pairs_by_bin(ident: np.ndarray, below: Optional[float] = None) -> Dict[int, np.ndarray]:
    """The pairs (a < b) of a pairwise identity matrix that share a column (and are below ``below``
    % identity, if given), per occupied identity bin: {bin index: int64 array (k, 2) in (a, b)
    order}."""
    a, b = np.triu_indices(len(ident), 1)
    keep = ident[a, b] >= 0
    if below is not None:
        keep &= ident[a, b] < below
    a, b = a[keep], b[keep]
    bins = identity_bin(ident[a, b])
    return {int(k): np.stack([a[bins == k], b[bins == k]], axis=1) for k in np.unique(bins)}
