"""The homology head's vectors of every sequence of a clustering, computed a chunk of sequences at a
time and held in memory or, when large, in a file.

In one piece the head's vectors of 10^5 sequences of 100 nt need about 20 GiB while they are
computed (float64 means, the centred copy, the projection) and 5 GiB once done. Here each chunk of
about :data:`CHUNK_RESIDUES` bases is computed, unit-normalised exactly as the engine would
(``Embeddings.normalized``, row by row) and stored in one float32 array: in memory up to
:data:`IN_MEMORY_BYTES`, above that a ``.npy`` file in the run directory (or a temporary one),
written through the file and read back a block at a time, so what stays resident is a chunk or
two blocks, not the whole. The pooled vectors of the prefilter are computed from the same chunks.

Every consumer takes blocks or subsets whose unit vectors are the stored rows, so the engine sees
the same floats however the vectors were chunked or stored: chunked and whole runs give identical
scores, edges and clusters.
"""

from __future__ import annotations

import pathlib
import tempfile
from typing import Callable, List, Optional, Sequence

import numpy as np

from ..embeddings import Embeddings
from ..execute.tiles import unit_embeddings

CHUNK_RESIDUES = 1 << 18  # bases per chunk: about 0.6 GB of temporaries in the head's arithmetic
IN_MEMORY_BYTES = 1 << 30  # vectors up to this size stay in memory; larger ones go to a file
FILE_NAME = "head_vectors.npy"


def pooled_unit(vectors: Embeddings) -> np.ndarray:
    """Each sequence's mean vector, unit length: what the prefilter's k-NN compares."""
    sums = np.add.reduceat(vectors.values.astype(np.float64), vectors.offsets[:-1], axis=0)
    p = sums / vectors.lengths[:, None]
    p /= np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
    return p.astype(np.float32)


class HeadVectors:
    """Unit vectors of n sequences (one ragged block: ``values`` float32 (total_len, dim), possibly
    a read-only memory map, and ``offsets`` int64 (n + 1,)), their pooled unit vectors (n, dim)
    and the sequences' names and bases."""

    def __init__(
        self,
        values: np.ndarray,
        offsets: np.ndarray,
        pooled: np.ndarray,
        names: List[str],
        sequences: Optional[List[str]],
        file=None,
    ):
        self.values = values
        self.offsets = np.ascontiguousarray(offsets, np.int64)
        self.pooled = pooled
        self.names = names
        self.sequences = sequences
        self._file = file  # the open file behind a memory-mapped ``values`` (it may have no name)

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def compute(
        cls, head, emb: Embeddings, *, directory=None, progress: bool = False
    ) -> "HeadVectors":
        """The vectors of ``head`` (a ``HomologyHead``) for every sequence of ``emb``."""

        def raw(s: int, e: int) -> Embeddings:
            lo, hi = int(emb.offsets[s]), int(emb.offsets[e])
            part = Embeddings(
                emb.values[lo:hi],
                emb.offsets[s : e + 1] - lo,
                None,
                None if emb.sequences is None else emb.sequences[s:e],
            )
            return head.vectors(part)

        def pooled(s: int, e: int, vec: Embeddings) -> np.ndarray:
            return pooled_unit(vec)

        dim = int(head.proj.shape[0] + head.base.shape[1]) if len(emb) else 0
        return cls._fill(
            emb.offsets, dim, raw, pooled, list(emb.names), emb.sequences, directory, progress
        )

    @classmethod
    def from_database(cls, db, *, directory=None, progress: bool = False) -> "HeadVectors":
        """The stored scoring vectors of a search database (one unit per sequence), with its
        stored pooled vectors; nothing is embedded again."""
        units = db.units
        lengths = units.column("length").to_numpy().astype(np.int64)
        offsets = np.zeros(len(lengths) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        stored = db.vectors
        pooled_all = db.pooled

        def raw(s: int, e: int) -> Embeddings:
            lo, hi = int(offsets[s]), int(offsets[e])
            return Embeddings(np.asarray(stored[lo:hi], np.float32), offsets[s : e + 1] - lo)

        def pooled(s: int, e: int, vec: Embeddings) -> np.ndarray:
            return np.asarray(pooled_all[s:e], np.float32)

        names = [str(x) for x in units.column("target").to_pylist()]
        seqs = [str(x) for x in units.column("sequence").to_pylist()]
        return cls._fill(offsets, db.dim, raw, pooled, names, seqs, directory, progress)

    @classmethod
    def _fill(
        cls,
        offsets: np.ndarray,
        dim: int,
        raw: Callable[[int, int], Embeddings],
        pooled_of: Callable[[int, int, Embeddings], np.ndarray],
        names: List[str],
        sequences: Optional[List[str]],
        directory,
        progress: bool,
    ) -> "HeadVectors":
        n, total = len(offsets) - 1, int(offsets[-1])
        temporary = path = fh = None
        if total * dim * 4 <= IN_MEMORY_BYTES:
            values = np.empty((total, dim), np.float32)
        else:
            if directory is None:
                directory = temporary = pathlib.Path(tempfile.mkdtemp(prefix="rnabert-cluster-"))
            directory = pathlib.Path(directory)
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / FILE_NAME
            header = np.lib.format.open_memmap(path, "w+", np.float32, (total, dim)).offset
            # chunks are written through the file, not a writable map: written pages are the
            # kernel's to flush and drop, never part of this process's resident memory
            fh = open(path, "r+b")
            if temporary is not None:
                # a temporary file loses its name at once: the open file lives as long as this
                # process holds it, so a run killed by any signal (SIGKILL too) leaves nothing
                path.unlink()
                temporary.rmdir()
                temporary = None
        pooled = np.empty((n, dim), np.float32)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=n, desc="head vectors", unit="seq", unit_scale=True)
        try:
            for s, e in _chunk_bounds(offsets, CHUNK_RESIDUES):
                vec = raw(s, e)
                unit = vec.normalized()
                if fh is None:
                    values[offsets[s] : offsets[e]] = unit
                else:
                    fh.seek(header + int(offsets[s]) * dim * 4)
                    fh.write(np.ascontiguousarray(unit, np.float32).data)
                pooled[s:e] = pooled_of(s, e, vec)
                if bar is not None:
                    bar.update(e - s)
        except BaseException:
            if fh is not None:
                fh.close()
            raise
        finally:
            if bar is not None:
                bar.close()
        if fh is not None:
            fh.flush()
            # mapped and read through the open file, which keeps an unnamed file alive
            values = np.memmap(fh, np.float32, mode="r", offset=header, shape=(total, dim))
        return cls(values, offsets, pooled, names, sequences, fh)

    def close(self) -> None:
        """Drop the vectors (an unnamed temporary file goes with its last handle)."""
        self.values = np.zeros((0, self.dim), np.float32)
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- access -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def dim(self) -> int:
        return int(self.values.shape[1])

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def on_disk(self) -> bool:
        return isinstance(self.values, np.memmap)

    def block(self, s: int, e: int) -> Embeddings:
        """Sequences s..e-1: a view of the stored rows in memory; from a file, read into memory
        (not mapped, so that blocks read one after another do not pile up in resident memory)."""
        lo, hi = int(self.offsets[s]), int(self.offsets[e])
        rows = self.values[lo:hi]
        if self._file is not None:
            rows = np.empty((hi - lo, self.dim), np.float32)
            self._file.seek(self.values.offset + lo * self.dim * 4)
            self._file.readinto(memoryview(rows).cast("B"))
        return unit_embeddings(rows, self.offsets[s : e + 1] - lo)

    def whole(self) -> Embeddings:
        """All sequences: the stored rows (memory-mapped when in a file)."""
        return unit_embeddings(self.values, self.offsets)

    def subset(self, indices: Sequence[int]) -> Embeddings:
        """The chosen sequences, in the order given (a gathered copy)."""
        idx = np.asarray(indices, np.int64)
        lengths = self.lengths[idx]
        offsets = np.zeros(len(idx) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        rows = np.repeat(self.offsets[idx] - offsets[:-1], lengths) + np.arange(offsets[-1])
        return unit_embeddings(np.asarray(self.values[rows], np.float32), offsets)


def _chunk_bounds(offsets: np.ndarray, residues: int):
    """(s, e) ranges of consecutive sequences of about ``residues`` bases (at least one each)."""
    n = len(offsets) - 1
    s = 0
    while s < n:
        e = int(np.searchsorted(offsets, offsets[s] + residues, side="right")) - 1
        e = min(max(e, s + 1), n)
        yield s, e
        s = e


def block_size(vectors: HeadVectors, residues: int) -> int:
    """Sequences per block of about ``residues`` bases (the mean length decides)."""
    n = len(vectors)
    mean = float(vectors.offsets[-1]) / max(n, 1)
    return max(1, min(n, int(residues // max(mean, 1.0))))
