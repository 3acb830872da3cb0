"""Dinucleotide-preserving shuffles: the standard decoys of RNA homology search.

A shuffle that keeps every dinucleotide count (and the first and last letter) keeps the base
composition and stacking propensities that inflate unrelated alignment scores, so a score that still
separates a family member from its shuffles measures homology, not composition. The algorithm is
Altschul & Erickson (1985): a random Eulerian walk through the multigraph whose edges are the
sequence's dinucleotides, made uniform by first drawing a random spanning tree of last exits.
"""

from __future__ import annotations

from typing import Dict, List

import numpy as np


def dinucleotide_shuffle(seq: str, rng: np.random.Generator) -> str:
    """A uniformly random sequence with exactly the dinucleotide counts, first and last letter of
    ``seq``."""
    n = len(seq)
    if n < 3:
        return seq
    first, last = seq[0], seq[-1]
    successors: Dict[str, List[str]] = {}
    for a, b in zip(seq[:-1], seq[1:]):
        successors.setdefault(a, []).append(b)
    # Each letter but the last leaves for the last time along a random edge; the walk is Eulerian
    # exactly when those last exits form a tree rooted at the final letter (no cycle among them).
    while True:
        last_exit = {
            v: edges[rng.integers(len(edges))] for v, edges in successors.items() if v != last
        }
        if all(_reaches(v, last, last_exit) for v in last_exit):
            break
    order: Dict[str, List[str]] = {}
    for v, edges in successors.items():
        rest = list(edges)
        if v in last_exit:
            rest.remove(last_exit[v])
        rng.shuffle(rest)
        order[v] = rest + ([last_exit[v]] if v in last_exit else [])
    used = {v: 0 for v in order}
    out = [first]
    for _ in range(n - 1):
        v = out[-1]
        out.append(order[v][used[v]])
        used[v] += 1
    return "".join(out)


def _reaches(v: str, root: str, last_exit: Dict[str, str]) -> bool:
    seen = set()
    while v != root:
        if v in seen:
            return False
        seen.add(v)
        v = last_exit[v]
    return True
