"""Embeddings: the ragged block of per-base vectors that the encoder produces and every layer
consumes.

numpy only: the sequences, engine, search and training layers all read it without loading torch.
"""

from __future__ import annotations

import json
import os
from typing import Iterable, List, Optional, Sequence, Union

import numpy as np

from .outputs import atomic_path

PathLike = Union[str, "os.PathLike[str]"]

_FORMAT_TAG = "rnabert.embeddings/1"


class Embeddings:
    """Per-base embeddings of n sequences in one contiguous block.

    Parameters
    ----------
    values : float32 array, shape (total_len, dim)
        The vectors of every base of every sequence, sequence after sequence.
    offsets : int64 array, shape (n + 1,)
        Sequence i occupies ``values[offsets[i]:offsets[i + 1]]``; ``offsets[0] == 0``, strictly
        increasing (no empty sequence), ``offsets[-1] == total_len``.
    names : list of str, optional
        One name per sequence (default ``seq0``, ``seq1``, ...).
    sequences : list of str, optional
        The RNA sequences the vectors belong to (kept so alignments can be printed as letters).

    One block with offsets, not a list of arrays, is the currency between Python, C++ and CUDA:
    engines take pointers into it and never see per-sequence Python objects.
    """

    __slots__ = ("values", "offsets", "names", "sequences", "_unit")

    def __init__(
        self,
        values,
        offsets,
        names: Optional[Sequence[str]] = None,
        sequences: Optional[Sequence[str]] = None,
    ):
        values = np.ascontiguousarray(values, dtype=np.float32)
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        if values.ndim != 2:
            raise ValueError(f"values must be 2-D (total_len, dim), got shape {values.shape}")
        if offsets.ndim != 1 or offsets.size < 1:
            raise ValueError(
                f"offsets must be 1-D with n+1 >= 1 entries, got shape {offsets.shape}"
            )
        if offsets[0] != 0 or offsets[-1] != values.shape[0]:
            raise ValueError(
                f"offsets must start at 0 and end at total_len={values.shape[0]}, "
                f"got {offsets[0]}..{offsets[-1]}"
            )
        steps = np.diff(offsets)
        if steps.size and steps.min() <= 0:
            bad = int(np.argmax(steps <= 0))
            raise ValueError(
                f"offsets must be strictly increasing (sequence {bad} would be empty or negative: "
                f"offsets[{bad}]={offsets[bad]}, offsets[{bad + 1}]={offsets[bad + 1]})"
            )
        n = offsets.size - 1
        names = [f"seq{i}" for i in range(n)] if names is None else [str(x) for x in names]
        if len(names) != n:
            raise ValueError(f"got {len(names)} names for {n} sequences")
        if sequences is not None:
            sequences = [str(s) for s in sequences]
            if len(sequences) != n:
                raise ValueError(f"got {len(sequences)} sequences for {n} embedded sequences")
            for i, (s, length) in enumerate(zip(sequences, steps)):
                if len(s) != length:
                    raise ValueError(
                        f"sequence {names[i]!r} has {len(s)} bases but {length} embedding rows"
                    )
        self.values = values
        self.offsets = offsets
        self.names: List[str] = names
        self.sequences: Optional[List[str]] = sequences
        self._unit: Optional[np.ndarray] = None

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        arrays: Iterable,
        names: Optional[Sequence[str]] = None,
        sequences: Optional[Sequence[str]] = None,
    ) -> "Embeddings":
        """Build from per-sequence arrays of shape (L_i, dim): how users bring their own
        embeddings."""
        arrays = [_float32(a, i, names) for i, a in enumerate(arrays)]
        if not arrays:
            raise ValueError("from_arrays needs at least one array")
        dims = {a.shape[1] if a.ndim == 2 else None for a in arrays}
        for i, a in enumerate(arrays):
            if a.ndim != 2:
                raise ValueError(f"array {i} must be 2-D (L, dim), got shape {a.shape}")
            if a.shape[0] == 0:
                label = names[i] if names is not None and i < len(names) else i
                raise ValueError(
                    f"array {label!r} is empty: every sequence needs at least one base"
                )
        if len(dims) != 1:
            raise ValueError(
                f"all arrays must share one embedding width, got {sorted(d for d in dims)}"
            )
        values, offsets = join_ragged(arrays)
        return cls(values, offsets, names, sequences)

    @classmethod
    def concatenate(cls, parts: Sequence["Embeddings"]) -> "Embeddings":
        """Join several blocks, in order (names and sequences follow)."""
        if not parts:
            raise ValueError("concatenate needs at least one Embeddings")
        values, offsets = join_ragged([p.values for p in parts], [p.offsets for p in parts])
        seqs = None
        if all(p.sequences is not None for p in parts):
            seqs = [s for p in parts for s in p.sequences]
        return cls(values, offsets, [n for p in parts for n in p.names], seqs)

    # -- access -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.offsets.size - 1

    def __getitem__(self, i: int) -> np.ndarray:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"sequence index {i} out of range for {n} sequences")
        i %= n
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return (
            f"Embeddings(n={len(self)}, total_len={self.total_len}, dim={self.dim}, "
            "lengths "
            f"{self.lengths.min() if len(self) else 0}..{self.lengths.max() if len(self) else 0})"
        )

    @property
    def dim(self) -> int:
        return self.values.shape[1]

    @property
    def total_len(self) -> int:
        return self.values.shape[0]

    @property
    def lengths(self) -> np.ndarray:
        """int64 array, shape (n,): bases per sequence."""
        return np.diff(self.offsets)

    def index(self, name: str) -> int:
        """Position of the sequence called ``name``."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no sequence named {name!r}") from None

    def pooled(self) -> np.ndarray:
        """float32 array, shape (n, dim): the mean vector of each sequence."""
        sums = np.add.reduceat(self.values.astype(np.float64), self.offsets[:-1], axis=0)
        return (sums / self.lengths[:, None]).astype(np.float32)

    def normalized(self) -> np.ndarray:
        """float32 array, shape (total_len, dim): unit-length rows (computed once, then cached).

        Cosine similarity is then a plain dot product, which is what the engines compute.
        """
        if self._unit is None:
            # Divide each row by its largest magnitude first: the squares of values near 1e19
            # overflow float32 and those near 1e-20 underflow, which would turn both into zero
            # vectors. A row of zeros stays zero.
            v = self.values
            peak = np.abs(v).max(axis=1, keepdims=True) if v.shape[1] else np.ones((len(v), 1))
            peak = np.where(peak > 0, peak, np.float32(1)).astype(np.float32)
            scaled = v / peak
            norms = np.linalg.norm(scaled, axis=1, keepdims=True)
            self._unit = (scaled / np.maximum(norms, 1e-12)).astype(np.float32)
        return self._unit

    def subset(self, indices: Sequence[int]) -> "Embeddings":
        """A new block holding the chosen sequences, in the order given."""
        idx = [int(i) for i in indices]
        seqs = [self.sequences[i] for i in idx] if self.sequences is not None else None
        return Embeddings.from_arrays([self[i] for i in idx], [self.names[i] for i in idx], seqs)

    def block(self, start: int, stop: int) -> "Embeddings":
        """Sequences ``start..stop-1`` as a view of this block: no copy, and the unit vectors
        already computed here are shared (an all-vs-all cut into row blocks normalises once)."""
        n = len(self)
        if not 0 <= start < stop <= n:
            raise IndexError(f"block {start}..{stop} out of range for {n} sequences")
        lo, hi = int(self.offsets[start]), int(self.offsets[stop])
        seqs = None if self.sequences is None else self.sequences[start:stop]
        view = Embeddings(
            self.values[lo:hi], self.offsets[start : stop + 1] - lo, self.names[start:stop], seqs
        )
        view._unit = self.normalized()[lo:hi]
        return view

    # -- files --------------------------------------------------------------------------------
    def save(self, path: PathLike, format: Optional[str] = None) -> None:
        """Write to ``path`` as safetensors (default) or npz (``format="npz"`` or a .npz suffix).

        Both round-trip exactly: values, offsets, names and sequences. A safetensors file's bytes
        depend only on its content (metadata keys sorted).
        """
        fmt = _format_of(path, format)
        if fmt == "npz":
            extra = (
                {"sequences": np.array(self.sequences, dtype=np.str_)}
                if self.sequences is not None
                else {}
            )
            # a file handle stops numpy appending ".npz" to the name
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    values=self.values,
                    offsets=self.offsets,
                    names=np.array(self.names, dtype=np.str_),
                    format=np.array(_FORMAT_TAG),
                    **extra,
                )
        else:
            meta = {"format": _FORMAT_TAG, "names": json.dumps(self.names)}
            if self.sequences is not None:
                meta["sequences"] = json.dumps(self.sequences)
            tensors = [("offsets", "I64", self.offsets.shape), ("values", "F32", self.values.shape)]
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                fh.write(_safetensors_header(tensors, meta))
                fh.write(self.offsets.astype("<i8").tobytes())
                fh.write(memoryview(np.ascontiguousarray(self.values, dtype="<f4")).cast("B"))

    def save_pooled(self, path: PathLike, format: Optional[str] = None) -> None:
        """Write :meth:`pooled` (``pooled`` float32 (n, dim)) with the names, as safetensors or
        npz."""
        fmt = _format_of(path, format)
        if fmt == "npz":
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                np.savez(fh, pooled=self.pooled(), names=np.array(self.names, dtype=np.str_))
        else:
            pooled = np.ascontiguousarray(self.pooled(), dtype="<f4")
            meta = {"format": "rnabert.pooled/1", "names": json.dumps(self.names)}
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                fh.write(_safetensors_header([("pooled", "F32", pooled.shape)], meta))
                fh.write(memoryview(pooled).cast("B"))

    @classmethod
    def load(cls, path: PathLike, format: Optional[str] = None) -> "Embeddings":
        """Read a file written by :meth:`save`."""
        fmt = _format_of(path, format)
        if fmt == "npz":
            with np.load(path, allow_pickle=False) as z:
                if "values" not in z or "offsets" not in z:
                    raise ValueError(
                        f"{path}: not an rnabert embeddings file (needs 'values' and 'offsets')"
                    )
                seqs = [str(s) for s in z["sequences"]] if "sequences" in z else None
                names = [str(s) for s in z["names"]] if "names" in z else None
                return _checked(cls, path, z["values"], z["offsets"], names, seqs)
        from safetensors import safe_open

        with safe_open(os.fspath(path), framework="numpy") as f:
            meta = f.metadata() or {}
            keys = set(f.keys())
            if not {"values", "offsets"} <= keys:
                raise ValueError(f"{path}: not an rnabert embeddings file (tensors {sorted(keys)})")
            values, offsets = f.get_tensor("values"), f.get_tensor("offsets")
        names = json.loads(meta["names"]) if "names" in meta else None
        seqs = json.loads(meta["sequences"]) if "sequences" in meta else None
        return _checked(cls, path, values, offsets, names, seqs)


class EmbeddingsFileWriter:
    """An embeddings file written row block by row block as the encoder produces them, resumable.

    The file is the one :meth:`Embeddings.save` (or :meth:`Embeddings.save_pooled` with
    ``pooled=True``) writes, and loads with :meth:`Embeddings.load`; memory is a block, whatever
    the number of sequences. Safetensors is written in place: header (names, sequences and
    shapes, known from the records before any vector) and offsets first, then each block's
    rows; npz streams its vectors into the partial file and is zipped when complete.

    Parameters
    ----------
    path : path
        The output (through :class:`~rnabert.outputs.ResumableOutput`: ``PATH.partial`` until
        complete).
    names, sequences : lists of str
        One per sequence, in order.
    dim : int
        The width of a vector.
    key : str
        What the file depends on (inputs and options): a resumed run must give the same key.
    resume : bool
        Continue ``PATH.partial`` after its last complete chunk; :attr:`chunks` says how many
        chunks of rows to skip.

    Call :meth:`write` with the rows in order, :meth:`chunk_done` at chunk boundaries (anywhere,
    also inside a long sequence), then :meth:`finish`.
    """

    def __init__(
        self,
        path: PathLike,
        names: Sequence[str],
        sequences: Sequence[str],
        dim: int,
        *,
        format: Optional[str] = None,
        pooled: bool = False,
        key: str = "",
        resume: bool = False,
    ):
        from .outputs import ResumableOutput

        self.format = _format_of(path, format)
        self.pooled = pooled
        self.names = [str(x) for x in names]
        self.sequences = [str(x) for x in sequences]
        self.lengths = np.array([len(x) for x in sequences], dtype=np.int64)
        self.offsets = np.zeros(len(self.lengths) + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=self.offsets[1:])
        self.dim = int(dim)
        self.out = ResumableOutput(path, f"{key}/{self.format}/{int(pooled)}", resume=resume)
        info = self.out.info
        self.rows = info.get("rows", 0)  # vectors written (rows, or sequences pooled)
        self._base = info.get("bases", self.rows)  # bases consumed
        # pooled: the sum of the unfinished sequence's rows so far (exact through JSON)
        self._sum = np.array(info.get("sum", np.zeros(self.dim)), dtype=np.float64)
        shape = (len(self.names) if pooled else int(self.offsets[-1]), self.dim)
        self._total = shape[0]
        if not self.out.resumed:
            self.out.file.write(self._preamble(shape))

    @property
    def chunks(self) -> int:
        """Chunks complete in the partial file: skip them when resuming."""
        return self.out.chunks

    def _preamble(self, shape) -> bytes:
        if self.format == "npz":  # the streamed array's .npy header; the rest comes at the end
            import io

            buf = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                buf, {"descr": "<f4", "fortran_order": False, "shape": shape}
            )
            return buf.getvalue()
        if self.pooled:
            meta = {"format": "rnabert.pooled/1", "names": json.dumps(self.names)}
            return _safetensors_header([("pooled", "F32", shape)], meta)
        meta = {
            "format": _FORMAT_TAG,
            "names": json.dumps(self.names),
            "sequences": json.dumps(self.sequences),
        }
        head = _safetensors_header(
            [("offsets", "I64", self.offsets.shape), ("values", "F32", shape)], meta
        )
        return head + self.offsets.astype("<i8").tobytes()

    def write(self, block: np.ndarray) -> None:
        """Append the next rows of per-base vectors (float32, shape (rows, dim))."""
        block = np.ascontiguousarray(block, dtype="<f4")
        if block.ndim != 2 or block.shape[1] != self.dim:
            raise ValueError(f"rows must have shape (rows, {self.dim}), got {block.shape}")
        if not self.pooled:
            if self.rows + len(block) > self._total:
                raise ValueError(f"more rows than the {self._total} announced")
            if len(block):
                self.out.file.write(memoryview(block).cast("B"))
            self.rows += len(block)
            return
        # pooled: each sequence's mean as soon as its last row has come
        lo, hi = self._base, self._base + len(block)
        if hi > self.offsets[-1]:
            raise ValueError(f"more rows than the {int(self.offsets[-1])} bases announced")
        ends = self.offsets[self.rows + 1 :]
        stop = int(np.searchsorted(ends, hi, side="right"))  # sequences completed by this block
        cuts = np.concatenate([[0], ends[:stop] - lo])
        means = np.empty((stop, self.dim), dtype=np.float32)
        for k in range(stop):
            part = block[cuts[k] : cuts[k + 1]].astype(np.float64).sum(axis=0)
            total = self._sum + part
            means[k] = total / self.lengths[self.rows + k]
            self._sum = np.zeros(self.dim, dtype=np.float64)
        self._sum += block[int(cuts[-1]) :].astype(np.float64).sum(axis=0)
        if stop:
            self.out.file.write(memoryview(np.ascontiguousarray(means, dtype="<f4")).cast("B"))
        self.rows += stop
        self._base = hi

    def chunk_done(self) -> None:
        """The rows written so far are a complete chunk (a resume continues after them)."""
        if self.pooled:
            self.out.chunk_done(rows=self.rows, bases=self._base, sum=self._sum.tolist())
        else:
            self.out.chunk_done(rows=self.rows)

    def finish(self) -> None:
        """Put the complete file in place (npz: zipped from the partial file)."""
        if self.rows != self._total:
            raise ValueError(f"{self.rows} rows written of the {self._total} announced")
        with self.out.finish(join=self.format == "npz") as tmp:
            if tmp is not None:
                self._zip(tmp)

    def _zip(self, dest: str) -> None:
        """The npz file of :meth:`Embeddings.save`, with a fixed time stamp: the same rows give
        the same bytes."""
        import shutil
        import zipfile

        streamed = "pooled" if self.pooled else "values"
        small = {"names": np.array(self.names, dtype=np.str_)}
        if not self.pooled:
            small = {"offsets": self.offsets, **small, "format": np.array(_FORMAT_TAG)}
            small["sequences"] = np.array(self.sequences, dtype=np.str_)
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            info = zipfile.ZipInfo(streamed + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            with zf.open(info, "w", force_zip64=True) as fh, open(self.out.partial, "rb") as src:
                shutil.copyfileobj(src, fh, 1 << 22)
            for name, arr in small.items():
                info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
                with zf.open(info, "w", force_zip64=True) as fh:
                    np.lib.format.write_array(fh, arr, allow_pickle=False)

    def close(self) -> None:
        """Close without finishing: the partial file stays for a resume."""
        self.out.close()


def _safetensors_header(tensors, metadata: dict) -> bytes:
    """A safetensors header (length, then JSON padded with spaces to 8 bytes) for tensors laid out
    in the order given, metadata keys sorted: the same content always gives the same bytes (the
    safetensors library writes its metadata in hash order, which changes from run to run)."""
    sizes = {"F32": 4, "I64": 8}
    head: dict = {"__metadata__": dict(sorted(metadata.items()))}
    at = 0
    for name, dtype, shape in tensors:
        end = at + sizes[dtype] * int(np.prod(shape, dtype=np.int64))
        head[name] = {"dtype": dtype, "shape": [int(x) for x in shape], "data_offsets": [at, end]}
        at = end
    text = json.dumps(head, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text


def join_ragged(values: Sequence[np.ndarray], offsets: Optional[Sequence[np.ndarray]] = None):
    """Join ragged blocks, in order, into one: (values, offsets int64 of shape (n + 1,)).

    Parameters
    ----------
    values : sequence of arrays, shapes (total_k, ...)
        The rows of each block (all with the same trailing shape).
    offsets : sequence of int arrays, shapes (n_k + 1,), optional
        Block k's items are ``values[k][offsets[k][i]:offsets[k][i + 1]]``. None: every array of
        ``values`` is one item.

    The same operation joins embeddings, aligned-pair paths and reference alignments.
    """
    if len(values) == 0:
        raise ValueError("join_ragged needs at least one block")
    if offsets is None:
        offsets = [np.array([0, len(v)], dtype=np.int64) for v in values]
    if len(offsets) != len(values):
        raise ValueError(
            f"join_ragged: {len(values)} value blocks but {len(offsets)} offset arrays"
        )
    shifts = np.cumsum([0] + [int(o[-1]) for o in offsets[:-1]])
    out = np.concatenate(
        [np.zeros(1, np.int64)]
        + [np.asarray(o[1:], dtype=np.int64) + s for o, s in zip(offsets, shifts)]
    )
    return np.concatenate(values), out


def _format_of(path: PathLike, format: Optional[str]) -> str:
    if format is None:
        format = "npz" if os.fspath(path).endswith(".npz") else "safetensors"
    if format not in ("safetensors", "npz"):
        raise ValueError(f"format must be 'safetensors' or 'npz', got {format!r}")
    return format


def _float32(a, i: int, names) -> np.ndarray:
    """One array of `Embeddings.from_arrays` as float32, refusing values float32 cannot hold."""
    arr = np.asarray(a)
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(arr, dtype=np.float32)
    if out.size and not np.isfinite(out).all():
        label = names[i] if names is not None and i < len(names) else i
        row = int(np.argmax(~np.isfinite(out.reshape(len(out), -1)).all(axis=1)))
        raise ValueError(
            f"array {label!r} holds NaN, infinite or out-of-range values (beyond float32's "
            f"3.4e38; row {row}): embeddings must be finite"
        )
    return out


def _checked(cls, path, values, offsets, names, seqs) -> "Embeddings":
    """An Embeddings read from a file, with errors naming the file; NaN or infinite values are
    refused here rather than deep in an engine."""
    label = os.fspath(path)
    try:
        emb = cls(values, offsets, names, seqs)
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}") from None
    finite = np.isfinite(emb.values).all(axis=1)
    if not finite.all():
        row = int(np.argmax(~finite))
        seq = int(np.searchsorted(emb.offsets, row, side="right")) - 1
        raise ValueError(
            f"{label}: embeddings hold NaN or infinite values (sequence {emb.names[seq]!r}, "
            f"position {row - int(emb.offsets[seq]) + 1})"
        )
    return emb
