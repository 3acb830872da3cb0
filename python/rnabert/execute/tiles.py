"""Tile plans of an all-vs-all and the scoring of one tile: the unit of work every runner executes.

The N × N grid of pairs i < j is cut into square tiles of ``block`` sequences (tile (a, b), a ≤ b,
holds queries of block a against targets of block b). A tile's scores live in memory only while it
is being turned into edges, so a run's memory is bounded by one tile, never by N².

A tile keeps the pairs that a clustering or a search may need: every pair whose pair significance
(bits − log2 of the pair's search space, i.e. −log2 of its own E-value) reaches ``min_sig``, and,
with ``top_k``, each sequence's ``top_k`` most significant partners within the tile (a superset of
its global top-k, which :func:`select_top_k` recovers after the run). Tiles are pure functions of
(vectors, plan, tile index): whichever runner, whichever order, the same tile gives the same edges.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..alignment.null import NullModel
from ..alignment.params import AlignParams
from ..embeddings import Embeddings

EDGE_COLUMNS = ("i", "j", "bits", "sig")


@dataclass(frozen=True)
class Scoring:
    """What a tile computes: local scores under ``params``, turned into bits by ``null``."""

    params: AlignParams
    null: NullModel

    def to_dict(self) -> dict:
        return {"params": asdict(self.params), "null": self.null.to_dict()}


@dataclass(frozen=True)
class TilePlan:
    """Square tiles over the upper triangle (i < j) of n sequences, ``block`` sequences a side."""

    n: int
    block: int
    min_sig: float
    top_k: int = 0

    def __post_init__(self):
        if self.n < 0:
            raise ValueError(f"n must be >= 0, got {self.n}")
        if self.block < 1:
            raise ValueError(f"block must be >= 1, got {self.block}")
        if not math.isfinite(self.min_sig):
            raise ValueError(f"min_sig must be a finite number of bits, got {self.min_sig!r}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {self.top_k}")

    @property
    def n_blocks(self) -> int:
        return -(-self.n // self.block)

    @property
    def tiles(self) -> List[Tuple[int, int]]:
        """(query block, target block), a ≤ b, in row-major order: the order shards are joined."""
        nb = self.n_blocks
        return [(a, b) for a in range(nb) for b in range(a, nb)]

    def span(self, block: int) -> Tuple[int, int]:
        return block * self.block, min(self.n, (block + 1) * self.block)

    def pairs_in(self, tile: Tuple[int, int]) -> int:
        (s0, e0), (s1, e1) = self.span(tile[0]), self.span(tile[1])
        m = e0 - s0
        return m * (m - 1) // 2 if tile[0] == tile[1] else m * (e1 - s1)

    @property
    def n_pairs(self) -> int:
        return self.n * (self.n - 1) // 2


def fingerprint(vectors: Embeddings, scoring: Scoring, plan: TilePlan) -> str:
    """sha256 of everything a run's output depends on: a resumed run must match it exactly."""
    h = hashlib.sha256()
    unit = vectors.normalized()
    step = max(1, (1 << 24) // max(1, unit.shape[1]))  # 64 MiB at a time: a memory map stays put
    for s in range(0, len(unit), step):
        h.update(np.ascontiguousarray(unit[s : s + step], np.float32).data)
    h.update(np.ascontiguousarray(vectors.offsets, np.int64).tobytes())
    meta = {"scoring": scoring.to_dict(), "plan": asdict(plan)}
    h.update(json.dumps(meta, sort_keys=True).encode())
    return h.hexdigest()


def unit_embeddings(unit: np.ndarray, offsets: np.ndarray) -> Embeddings:
    """An Embeddings block over rows that are already unit vectors as ``Embeddings.normalized``
    makes them: the engine uses them as they are instead of normalising them once more (which
    would copy them and could move their last bits)."""
    emb = Embeddings(unit, offsets)
    emb._unit = emb.values  # the block's normalisation, known: the rows themselves
    return emb


def _block(values: np.ndarray, offsets: np.ndarray, s: int, e: int) -> Embeddings:
    """Sequences s..e-1 of a ragged block of unit vectors, as a view (no copy of the vectors)."""
    lo, hi = int(offsets[s]), int(offsets[e])
    return unit_embeddings(values[lo:hi], offsets[s : e + 1] - lo)


def significance(bits: np.ndarray, len_i: np.ndarray, len_j: np.ndarray, null: NullModel):
    """−log2 of the pair's own E-value: bits − log2(m'·n'), float64."""
    return np.asarray(bits, np.float64) - np.log2(null.effective(len_i) * null.effective(len_j))


def score_tile(
    values: np.ndarray,
    offsets: np.ndarray,
    plan: TilePlan,
    tile: Tuple[int, int],
    scoring: Scoring,
    *,
    threads: Optional[int] = None,
    device: str = "cpu",
) -> Dict[str, np.ndarray]:
    """Edges of one tile: columns i, j (int64, global indices, i < j), bits and sig (float32),
    sorted by (i, j). ``values``/``offsets``: the head's unit vectors of all n sequences, as
    ``Embeddings.normalized`` makes them."""
    from ..alignment.engine import all_vs_all

    (s0, e0), (s1, e1) = plan.span(tile[0]), plan.span(tile[1])
    lengths = np.diff(offsets)
    q = _block(values, offsets, s0, e0)
    if tile[0] == tile[1]:
        raw = np.asarray(all_vs_all(q, scoring.params, threads=threads, device=device))
    else:
        t = _block(values, offsets, s1, e1)
        raw = np.asarray(all_vs_all(q, scoring.params, targets=t, threads=threads, device=device))
    bits = scoring.null.bits(raw)
    sig = significance(bits, lengths[s0:e0, None], lengths[None, s1:e1], scoring.null)
    keep = sig >= plan.min_sig
    if tile[0] == tile[1]:
        upper = np.triu(np.ones_like(keep), k=1)
        keep &= upper
        sig_ranked = np.where(upper | upper.T, sig, -np.inf)  # each pair once, self excluded
    else:
        sig_ranked = sig
    if plan.top_k:
        keep |= _top_k_mask(sig_ranked, plan.top_k, tile[0] == tile[1])
    ii, jj = np.nonzero(keep)  # row-major: sorted by (i, j)
    return {
        "i": (ii + s0).astype(np.int64),
        "j": (jj + s1).astype(np.int64),
        "bits": bits[ii, jj].astype(np.float32),
        "sig": sig[ii, jj].astype(np.float32),
    }


def _top_k_mask(sig: np.ndarray, k: int, diagonal: bool) -> np.ndarray:
    """Pairs among the k best of their row or of their column (ties: smaller index first); on a
    diagonal tile folded onto the upper triangle, where each pair is kept."""
    mask = np.zeros(sig.shape, dtype=bool)
    for axis in (0, 1):
        s = sig if axis == 1 else sig.T
        kk = min(k, s.shape[1])
        order = np.argsort(-s, axis=1, kind="stable")[:, :kk]
        rows = np.repeat(np.arange(s.shape[0]), kk)
        m = np.zeros(s.shape, dtype=bool)
        m[rows, order.ravel()] = np.isfinite(s[rows, order.ravel()])
        mask |= m if axis == 1 else m.T
    if diagonal:
        mask = np.triu(mask | mask.T, k=1)
    return mask


def select_top_k(edges: Dict[str, np.ndarray], n: int, k: int, min_sig: float) -> np.ndarray:
    """Rows of a run's edges that are above ``min_sig`` or among the k most significant partners of
    either end (ties: smaller partner index first): the run's final top-k/threshold edge set."""
    i, j, sig = edges["i"], edges["j"], edges["sig"].astype(np.float64)
    keep = sig >= min_sig
    if k and len(i):
        ends = np.concatenate([i, j])
        partner = np.concatenate([j, i])
        s = np.concatenate([sig, sig])
        row = np.concatenate([np.arange(len(i))] * 2)
        order = np.lexsort((partner, -s, ends))
        e = ends[order]
        rank = np.arange(len(e)) - np.searchsorted(e, e, side="left")
        keep[row[order[rank < k]]] = True
    return keep


def empty_edges() -> Dict[str, np.ndarray]:
    return {
        "i": np.zeros(0, np.int64),
        "j": np.zeros(0, np.int64),
        "bits": np.zeros(0, np.float32),
        "sig": np.zeros(0, np.float32),
    }


def concat_edges(parts: List[Dict[str, np.ndarray]]) -> Dict[str, np.ndarray]:
    if not parts:
        return empty_edges()
    return {c: np.concatenate([p[c] for p in parts]) for c in EDGE_COLUMNS}
