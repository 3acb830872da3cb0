"""Execution of large all-vs-all jobs: tile plans, a local runner and a Ray runner (same tiles, same
output), edges streamed to Parquet shards as tiles complete, resumable after any interruption.

>>> edges = edge_run(vectors, scoring, min_sig=10.0, out_dir="run/")   # dict of numpy columns
"""

from __future__ import annotations

import os
from typing import Dict, Optional

import numpy as np

from ..embeddings import Embeddings
from .shards import ShardStore, open_store
from .tiles import (
    EDGE_COLUMNS,
    Scoring,
    TilePlan,
    concat_edges,
    empty_edges,
    fingerprint,
    score_tile,
    select_top_k,
    significance,
)

__all__ = [
    "EDGE_COLUMNS",
    "Scoring",
    "ShardStore",
    "TilePlan",
    "edge_run",
    "score_tile",
    "select_top_k",
    "significance",
]

DEFAULT_BLOCK = 256  # 65,536 pairs a tile: ~1 s of work on 2 cores at length 100, 256 KiB of scores
EXECUTORS = ("local", "ray")


def edge_run(
    vectors: Embeddings,
    scoring: Scoring,
    *,
    min_sig: float,
    top_k: int = 0,
    block: int = DEFAULT_BLOCK,
    out_dir: Optional[os.PathLike] = None,
    executor: str = "local",
    threads: Optional[int] = None,
    device: str = "cpu",
    progress: bool = False,
    ray_address: Optional[str] = None,
) -> Dict[str, np.ndarray]:
    """Every pair i < j of ``vectors`` scored in tiles; the edges a clustering needs.

    Parameters
    ----------
    vectors : Embeddings
        The scoring head's unit vectors (``HomologyHead.vectors(emb)``).
    scoring : Scoring
        Local-alignment parameters and the null that turns scores into bits.
    min_sig : float
        Keep pairs whose significance (−log2 of the pair's own E-value) is at least this.
    top_k : int
        Also keep each sequence's ``top_k`` most significant partners (0: none).
    block : int
        Sequences per tile side: memory holds one block × block tile of scores.
    out_dir : path, optional
        Run directory: a Parquet shard per finished tile, and ``edges.parquet`` at the end. A run
        found there (same input and settings) is resumed from its finished tiles; another run's
        directory is refused. Without it, everything stays in memory.
    executor : {"local", "ray"}
        ``"ray"`` runs the tiles as Ray tasks (on the cluster ``ray_address`` or the one this
        process is connected to; a local one otherwise).

    Returns
    -------
    dict of numpy arrays ``i``, ``j`` (int64, i < j), ``bits``, ``sig`` (float32), sorted by
    (i, j): identical whichever executor ran it and however often it was interrupted.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    n = len(vectors)
    plan = TilePlan(n, int(block), float(min_sig), int(top_k or 0))
    if n < 2:
        return empty_edges()
    values = vectors.normalized()  # once: every tile reads its rows as they are
    offsets = np.ascontiguousarray(vectors.offsets, np.int64)
    manifest = {
        "fingerprint": fingerprint(vectors, scoring, plan),
        "n": n,
        "block": plan.block,
        "min_sig": plan.min_sig,
        "top_k": plan.top_k,
        "tiles": len(plan.tiles),
    }
    store = open_store(out_dir, manifest)
    tiles = plan.tiles
    todo = [t for t in tiles if store is None or not store.done(t)]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=plan.n_pairs, desc="all-vs-all (bits)", unit="pairs", unit_scale=True)
        bar.update(sum(plan.pairs_in(t) for t in tiles) - sum(plan.pairs_in(t) for t in todo))
    try:
        if executor == "ray":
            from .ray_runner import run_ray

            kept = run_ray(
                values,
                offsets,
                plan,
                scoring,
                todo,
                store,
                device=device,
                address=ray_address,
                bar=bar,
            )
        else:
            from .local import run_local

            kept = run_local(
                values, offsets, plan, scoring, todo, store, threads=threads, device=device, bar=bar
            )
    finally:
        if bar is not None:
            bar.close()
    edges = store.read_all(tiles) if store is not None else concat_edges([kept[t] for t in tiles])
    if plan.top_k:
        keep = select_top_k(edges, n, plan.top_k, plan.min_sig)
        edges = {c: v[keep] for c, v in edges.items()}
    if store is not None:
        store.write_edges(edges)
    return edges
