"""The Ray runner: the same tiles as Ray tasks on a cluster, the same edges as the local runner.

The head's vectors are put in the object store once and every task reads them from there (zero
copy on a node). Tasks are retried when a worker dies (``max_retries``); the driver writes each
tile's shard as its task completes, so a driver killed mid-run resumes like a local run. At most
``2 × cluster CPUs`` tasks are in flight, so the driver holds only that many tiles' edges.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from .shards import ShardStore
from .tiles import Scoring, TilePlan, score_tile

MAX_RETRIES = 5


def _ray():
    try:
        import ray
    except ImportError:
        raise ImportError("executor='ray' needs Ray: pip install 'rnabert[distributed]'") from None
    return ray


def _tile_task(values, offsets, plan, tile, scoring, device):
    # one core per task: Ray runs as many tasks as the cluster has CPUs
    return tile, score_tile(values, offsets, plan, tile, scoring, threads=1, device=device)


def run_ray(
    values: np.ndarray,
    offsets: np.ndarray,
    plan: TilePlan,
    scoring: Scoring,
    todo: List[Tuple[int, int]],
    store: Optional[ShardStore],
    *,
    device: str = "cpu",
    address: Optional[str] = None,
    bar=None,
) -> Dict[Tuple[int, int], Dict[str, np.ndarray]]:
    """Run ``todo`` on the Ray cluster this process is connected to (``ray.init(address)`` first
    when it is not), returning or writing edges as :func:`rnabert.execute.local.run_local`."""
    ray = _ray()
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    gpus = 1 if device.startswith("cuda") else 0
    task = ray.remote(num_cpus=1, num_gpus=gpus, max_retries=MAX_RETRIES, retry_exceptions=False)(
        _tile_task
    )
    values_ref, offsets_ref = ray.put(values), ray.put(offsets)
    window = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
    pending, queue, kept = [], list(todo), {}
    while queue or pending:
        while queue and len(pending) < window:
            t = queue.pop(0)
            pending.append(task.remote(values_ref, offsets_ref, plan, t, scoring, device))
        done, pending = ray.wait(pending, num_returns=1)
        tile, edges = ray.get(done[0])
        if store is not None:
            store.write(tile, edges)
        else:
            kept[tile] = edges
        if bar is not None:
            bar.update(plan.pairs_in(tile))
    return kept
