"""Scoring heads: which per-base vectors the engine compares, and what its scores mean.

The engines compute one thing, match(i, j) = scale · ⟨u_i, v_j⟩ + bias fused with an affine-gap DP
over two ragged blocks of unit vectors. A head decides what u is:

- the reference (alignment) head: u = e / |e|, the cosine of the encoder's output (the original
  RNABERT);
- the homology head: u = unit([unit(W (e − c·ē)) ; g · B[base]]), where ē is the sequence's mean
  embedding (a per-sequence component that says nothing about the family), W a projection and B a
  table of per-base channels whose weight g mixes base identity into the score. Its local alignment
  scores become bits and E-values through a fitted extreme-value null (``null.NullModel``).

Heads are numpy-only. The shipped head (W the identity, B one-hot bases) and its null are built by
``benchmarks/build_homology_head.py``.
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..embeddings import Embeddings
from ..seqs import token_ids_of_clean
from .null import NullModel
from .params import AlignParams

FORMAT = "rnabert-homology-head/1"
SHIPPED = pathlib.Path(__file__).resolve().parent.parent / "weights" / "homology_head.safetensors"
_SCALARS = ("center", "mix", "scale", "bias", "gap_open", "gap_extend")


def read_head_file(path, key: str, format: str, what: str, framework: str = "numpy"):
    """(metadata, tensors) of a head stored as safetensors with its description as JSON under
    ``key``; ValueError naming the file if it is damaged, is not ``what`` or has another format."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework=framework) as fh:
            meta_text = (fh.metadata() or {}).get(key)
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except Exception as exc:  # safetensors raises several types for a damaged file
        raise ValueError(f"{path}: not a readable {what} ({exc})") from None
    if meta_text is None:
        raise ValueError(f"{path}: no {key!r} metadata: not a {what} file")
    meta = json.loads(meta_text)
    if meta.get("format") != format:
        raise ValueError(f"{path}: format {meta.get('format')!r}, expected {format!r}")
    return meta, tensors


@dataclass(frozen=True)
class HomologyHead:
    """A trained homology head: projection, base channels, alignment parameters and null model."""

    proj: np.ndarray  # (d, D) float32
    base: np.ndarray  # (6, nb) float32, rows indexed by token id (PAD, MASK, A, U, G, C)
    center: float
    mix: float
    params: AlignParams  # local mode
    null: NullModel
    encoder_sha256: str = ""
    # median composition shift of training queries (see .composition); None: no correction known
    composition_reference: Optional[float] = None
    # the null whose Gumbel mean locates a typical query's shuffles (None: ``null`` itself); kept
    # apart so that refitting ``null`` on the tail does not move the composition shifts
    composition_location: Optional[NullModel] = None
    # typical standard deviation of a query's scores against its shuffles (None: no scaling)
    composition_sd: Optional[float] = None

    @property
    def input_dim(self) -> int:
        return int(self.proj.shape[1])

    def vectors(self, emb: Embeddings) -> Embeddings:
        """The head's unit vectors of every sequence of ``emb`` (which must carry its sequences)."""
        if emb.dim != self.input_dim:
            raise ValueError(
                f"homology head expects {self.input_dim}-dimensional embeddings, got {emb.dim}"
            )
        if emb.sequences is None:
            raise ValueError(
                "score='bits' needs the sequences behind the embeddings (the head reads base "
                "identity); embed from sequences, or pass Embeddings with sequences="
            )
        ids = (
            np.concatenate([token_ids_of_clean(s) for s in emb.sequences])
            if len(emb)
            else np.zeros(0, np.int64)
        )
        if len(ids) != emb.total_len:
            raise ValueError("Embeddings.sequences do not match the embeddings' lengths")
        values = emb.values.astype(np.float32, copy=False)
        lengths = emb.lengths
        means = (
            np.add.reduceat(values.astype(np.float64), emb.offsets[:-1], axis=0) / lengths[:, None]
        )
        x = values - np.float32(self.center) * np.repeat(means, lengths, axis=0).astype(np.float32)
        x = x @ self.proj.T
        x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        u = np.concatenate([x, np.float32(self.mix) * self.base[ids]], axis=1)
        u /= np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-12)
        return Embeddings(u.astype(np.float32), emb.offsets, emb.names, emb.sequences)

    # -- files ------------------------------------------------------------------------------------
    def save(self, path) -> None:
        from safetensors.numpy import save_file

        meta = {
            "format": FORMAT,
            "center": self.center,
            "mix": self.mix,
            "scale": self.params.scale,
            "bias": self.params.bias,
            "gap_open": self.params.gap_open,
            "gap_extend": self.params.gap_extend,
            "null": self.null.to_dict(),
            "encoder_sha256": self.encoder_sha256,
        }
        if self.composition_reference is not None:
            meta["composition_reference"] = self.composition_reference
        if self.composition_location is not None:
            meta["composition_location"] = self.composition_location.to_dict()
        if self.composition_sd is not None:
            meta["composition_sd"] = self.composition_sd
        save_file(
            {
                "proj": np.ascontiguousarray(self.proj, np.float32),
                "base": np.ascontiguousarray(self.base, np.float32),
            },
            str(path),
            metadata={"rnabert_homology_head": json.dumps(meta)},
        )

    @classmethod
    def load(cls, path) -> "HomologyHead":
        path = pathlib.Path(path)
        meta, tensors = read_head_file(path, "rnabert_homology_head", FORMAT, "homology head")
        for name in ("proj", "base"):
            if name not in tensors:
                raise ValueError(f"{path}: tensor {name!r} missing")
        for name in _SCALARS:
            if name not in meta:
                raise ValueError(f"{path}: field {name!r} missing")
        if "null" not in meta:
            raise ValueError(f"{path}: field 'null' (the fitted null parameters) missing")
        null = NullModel.from_dict(meta["null"], source=str(path))
        location = meta.get("composition_location")
        if location is not None:
            location = NullModel.from_dict(location, source=f"{path}: composition_location")
        sd = meta.get("composition_sd")
        if sd is not None and not (isinstance(sd, (int, float)) and sd > 0):
            raise ValueError(
                f"{path}: field 'composition_sd' must be a positive number, got {sd!r}"
            )
        params = AlignParams(
            mode="local",
            scale=meta["scale"],
            bias=meta["bias"],
            gap_open=meta["gap_open"],
            gap_extend=meta["gap_extend"],
        )
        proj, base = tensors["proj"].astype(np.float32), tensors["base"].astype(np.float32)
        if proj.ndim != 2 or base.ndim != 2 or base.shape[0] != 6:
            raise ValueError(
                f"{path}: tensor shapes proj {proj.shape} / base {base.shape} are not a head's"
            )
        return cls(
            proj,
            base,
            float(meta["center"]),
            float(meta["mix"]),
            params,
            null,
            str(meta.get("encoder_sha256", "")),
            None
            if meta.get("composition_reference") is None
            else float(meta["composition_reference"]),
            location,
            None if sd is None else float(sd),
        )


def sequence_head(
    null: Optional[NullModel] = None,
    match: float = 2.0,
    mismatch: float = -3.0,
    gap_open: float = 5.0,
    gap_extend: float = 2.0,
    dim_in: int = 120,
) -> HomologyHead:
    """The sequence-only baseline as a head: one-hot bases, so the engine runs a plain
    Smith-Waterman (+2/−3, a gap of k costs 5 + 2k, blastn's defaults) through exactly the code the
    homology head uses. An ambiguous base (MASK) matches every base at half weight."""
    base = np.zeros((6, 4), np.float32)
    base[2:, :] = np.eye(4, dtype=np.float32)
    base[1, :] = 0.5
    params = AlignParams(
        mode="local",
        scale=match - mismatch,
        bias=mismatch,
        gap_open=gap_open,
        gap_extend=gap_extend,
    )
    return HomologyHead(
        np.zeros((1, dim_in), np.float32),
        base,
        0.0,
        1.0,
        params,
        null if null is not None else NullModel(0.6, 0.1),
    )


def load_homology_head(path=None) -> HomologyHead:
    """A homology head from a file; with no path, the head shipped with the package's weights."""
    if path is None:
        if not SHIPPED.exists():
            raise FileNotFoundError(f"no homology head is shipped at {SHIPPED}")
        path = SHIPPED
    return HomologyHead.load(path)
