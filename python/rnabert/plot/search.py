"""Pictures of search hits: each hit's local alignment anchored on the query, with the query's
given or predicted secondary structure checked against the target's aligned bases."""

from __future__ import annotations

import math
from typing import Dict, Optional, Sequence, Union

import numpy as np

from .alignment import draw_panels, panel
from .structure import as_pair_table, fold

MAX_PANELS = 12  # hits one picture shows; more would be unreadable


def _on_piece(partner: np.ndarray, strand: str) -> np.ndarray:
    """A plus-strand pair table of the query as a table of the searched piece (the reverse
    complement for a minus-strand hit: position k is query position L-1-k)."""
    if strand == "+":
        return partner
    n = len(partner)
    flipped = partner[::-1].copy()
    return np.where(flipped >= 0, n - 1 - flipped, -1)


def _heading(hit) -> str:
    evalue = "" if math.isnan(hit.evalue) else f", E = {hit.evalue:.2g}"
    score = f"{hit.bits:.1f} bits" if not math.isnan(hit.evalue) else f"score {hit.bits:.2f}"
    return (
        f"{hit.query} -> {hit.target}:{hit.tstart}-{hit.tend} ({hit.strand} strand): "
        f"{score}{evalue}, identity {hit.identity:.0%}"
    )


def search_hit_figure(
    hits,
    path,
    *,
    structure: Union[None, str, Dict[str, str]] = None,
    title: Optional[str] = None,
    width: int = 60,
):
    """Draw search hits as query-anchored alignments, best first as given.

    Parameters
    ----------
    hits : HitAlignment or sequence of them
        From :func:`rnabert.search.hits.hit_alignment` (at most 12 are drawn).
    path : str or path
        ``.png``, ``.svg``, ``.pdf`` or ``.html`` (with the alignments as coloured text).
    structure : str, dict of str to str, or "fold", optional
        The query's secondary structure (dot-bracket or WUSS, over the whole query on its own
        strand), a structure per query name, or ``"fold"`` to predict each query's with ViennaRNA
        (its Python module ``RNA`` must be installed). Each pair is drawn green when the target
        bases aligned to its two bases can pair (AU, GC, GU), red when they cannot, grey when one
        of them is not aligned.

    Returns
    -------
    pathlib.Path
    """
    items: Sequence = hits if isinstance(hits, (list, tuple)) else [hits]
    if not items:
        raise ValueError("no hits to draw")
    items = list(items)[:MAX_PANELS]
    folded: Dict[str, str] = {}
    panels = []
    for h in items:
        aln, hit = h.alignment, h.hit
        query = aln.seq_a if hit.strand == "+" else _revcomp_letters(aln.seq_a)
        if structure == "fold":
            ss = folded.setdefault(hit.query, fold(query))
        elif isinstance(structure, dict):
            ss = structure.get(hit.query)
        else:
            ss = structure
        partner = as_pair_table(ss, aln.len_a, f"structure of {hit.query}")
        panels.append(
            panel(
                aln,
                similarity=h.similarity,
                structure_a=None if partner is None else _on_piece(partner, hit.strand),
                offset_b=h.target_start,
                heading=_heading(hit),
            )
        )
    return draw_panels(
        panels,
        path,
        width=width,
        title=title,
        similarity_label="cosine of the scoring vectors of the aligned bases",
    )


def _revcomp_letters(seq: str) -> str:
    from ..search import reverse_complement

    return reverse_complement(seq)
