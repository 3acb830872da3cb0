"""The local runner: tiles one after another on this machine, each using every core.

The engine parallelises inside a tile (threads over pairs, GIL released), so tiles run in sequence
and a shard is written the moment its tile finishes. A KeyboardInterrupt (SIGINT) arrives between
tiles, after the current shard is safely on disk.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from .shards import ShardStore
from .tiles import Scoring, TilePlan, score_tile


def run_local(
    values: np.ndarray,
    offsets: np.ndarray,
    plan: TilePlan,
    scoring: Scoring,
    todo: List[Tuple[int, int]],
    store: Optional[ShardStore],
    *,
    threads: Optional[int] = None,
    device: str = "cpu",
    bar=None,
) -> Dict[Tuple[int, int], Dict[str, np.ndarray]]:
    """Score the tiles in ``todo``; with a store, write each as a shard and keep nothing in memory
    (returns {}), without one return {tile: edges}."""
    kept = {}
    for tile in todo:
        edges = score_tile(values, offsets, plan, tile, scoring, threads=threads, device=device)
        if store is not None:
            store.write(tile, edges)
        else:
            kept[tile] = edges
        if bar is not None:
            bar.update(plan.pairs_in(tile))
    return kept
