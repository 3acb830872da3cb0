"""A run directory: a manifest and one Parquet shard of edges per completed tile.

A shard is written to a temporary name and renamed into place, so a shard that exists is complete:
a run killed at any instant (SIGINT, SIGKILL, power) resumes from the shards present, and because
tiles are deterministic and shards are joined in plan order, the resumed run's output is identical
to an uninterrupted one. The manifest pins the run's fingerprint (vectors, scoring, plan): resuming
with different input or settings is refused rather than mixing two runs.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Dict, Iterable, Optional, Tuple

import numpy as np

from .tiles import EDGE_COLUMNS, concat_edges

MANIFEST = "manifest.json"
FORMAT = "rnabert-edges/1"


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(
            "writing edge shards needs pyarrow: pip install 'rnabert[cluster]'"
        ) from None
    return pa, pq


class ShardStore:
    """Edges of a tiled run under ``directory``: ``manifest.json`` and ``tiles/a-b.parquet``."""

    def __init__(self, directory, manifest: dict):
        self.dir = pathlib.Path(directory)
        self.manifest = dict(manifest, format=FORMAT)
        self.tiles_dir = self.dir / "tiles"

    def open(self) -> "ShardStore":
        """Create the directory, or check that the run it holds is this one (then resume)."""
        path = self.dir / MANIFEST
        if path.exists():
            try:
                old = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: not a readable run manifest ({exc})") from None
            for key in sorted(set(old) | set(self.manifest)):
                if old.get(key) != self.manifest.get(key):
                    raise ValueError(
                        f"{self.dir} holds a different run ({key!r} differs: "
                        f"{old.get(key)!r} there, {self.manifest.get(key)!r} now); use another "
                        "directory, or delete it to start over"
                    )
        else:
            self.tiles_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.manifest, indent=1, sort_keys=True) + "\n")
            os.replace(tmp, path)
        self.tiles_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.tiles_dir.glob(".*.tmp"):  # a killed run's half-written shard
            stale.unlink(missing_ok=True)
        return self

    def shard(self, tile: Tuple[int, int]) -> pathlib.Path:
        return self.tiles_dir / f"{tile[0]:06d}-{tile[1]:06d}.parquet"

    def done(self, tile: Tuple[int, int]) -> bool:
        return self.shard(tile).exists()

    def write(self, tile: Tuple[int, int], edges: Dict[str, np.ndarray]) -> None:
        pa, pq = _pyarrow()
        table = pa.table({c: edges[c] for c in EDGE_COLUMNS})
        final = self.shard(tile)
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        try:
            pq.write_table(table, tmp)
            with open(tmp, "rb") as fh:  # on disk before it counts as done
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        finally:  # interrupted mid-write: leave no partial file behind
            if tmp.exists():
                tmp.unlink()

    def read(self, tile: Tuple[int, int]) -> Dict[str, np.ndarray]:
        _, pq = _pyarrow()
        table = pq.read_table(self.shard(tile))
        return {c: table.column(c).to_numpy() for c in EDGE_COLUMNS}

    def read_all(self, tiles: Iterable[Tuple[int, int]]) -> Dict[str, np.ndarray]:
        """Every tile's edges joined in plan order (sorted by (i, j) within each tile)."""
        return concat_edges([self.read(t) for t in tiles])

    def write_edges(self, edges: Dict[str, np.ndarray], name: str = "edges.parquet") -> None:
        """The run's final edge table (one file), written atomically beside the shards."""
        pa, pq = _pyarrow()
        final = self.dir / name
        tmp = final.with_name(f".{name}.tmp")
        pq.write_table(pa.table({c: edges[c] for c in EDGE_COLUMNS}), tmp)
        os.replace(tmp, final)


def open_store(directory: Optional[os.PathLike], manifest: dict) -> Optional[ShardStore]:
    return None if directory is None else ShardStore(directory, manifest).open()
