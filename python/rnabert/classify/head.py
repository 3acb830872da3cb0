"""A classification head: per-base embeddings of a sequence → one vector → class probabilities.

Pooling turns the ragged per-base block into one vector per sequence:

- ``"mean"``: the mean embedding (what ``Embeddings.pooled`` gives);
- ``"attention"``: the mean side by side with ``attention_heads`` learned attention pools, each a
  softmax over the sequence's bases of ``v_h · tanh(W e_i)`` (gated-attention pooling): the head
  learns which bases say most about the class (a loop, a box motif) instead of averaging them away;
- ``"meanmax"``: the mean and the maximum of each channel (a motif seen once still shows);
- ``"none"``: no embedding features (with ``kmer``: the k-mer baseline through the same classifier).

``kmer=K`` puts the k-mer frequencies (k = 1..K) of each sequence beside the pooled vector
(:func:`.features.kmer_frequencies`), read from the sequences the embeddings carry.

The pooled vector is standardised (shift and scale fitted on the training set) and goes through a
linear layer (multinomial logistic regression, ``hidden=0``) or a one-hidden-layer MLP to a softmax
over the classes. A head records the fingerprint of the encoder whose embeddings it was trained on
and :meth:`ClassHead.check_encoder` refuses any other encoder: another encoder's embeddings are
other coordinates, on which the head's answers would be confident and meaningless.

Files are safetensors (tensors plus a JSON description in the metadata); nothing is unpickled.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

__all__ = ["ClassHead", "FORMAT", "SHIPPED_HEAD", "POOLS"]

FORMAT = "rnabert-class-head/1"
POOLS = ("mean", "meanmax", "attention", "none")
SHIPPED_HEAD = (
    pathlib.Path(__file__).resolve().parent.parent / "weights" / "rna_class_head.safetensors"
)
_INFERENCE_BASES = 1 << 17  # per-base rows per chunk at inference (bounded memory)


class ClassHead(nn.Module):
    """Pooling, standardisation and a linear/MLP classifier over RNA classes.

    Parameters
    ----------
    classes : sequence of str
        Class names, in the order of the probability columns.
    input_dim : int
        Width of the per-base embeddings (120 for RNABERT), or of the feature vectors for
        ``pool="none"``.
    pool : {"mean", "meanmax", "attention", "none"}
    kmer : int
        0, or K: k-mer frequencies for k = 1..K side by side with the pooled vector.
    hidden : int
        0: multinomial logistic regression; otherwise the width of one hidden ReLU layer.
    attention_heads, attention_dim : int
        For ``pool="attention"``: number of attention pools and width of their scoring layer.
    encoder_fingerprint : str
        sha256 of the encoder's weights (``rnabert.search.database.model_fingerprint``); empty for
        ``pool="none"`` heads on features that need no encoder.
    info : dict of str
        Free-form provenance written into the file (training data, split, numbers).
    """

    def __init__(
        self,
        classes: Sequence[str],
        input_dim: int,
        pool: str = "mean",
        hidden: int = 0,
        attention_heads: int = 4,
        attention_dim: int = 32,
        encoder_fingerprint: str = "",
        info: Optional[Dict[str, str]] = None,
        kmer: int = 0,
    ):
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {', '.join(POOLS)}, got {pool!r}")
        classes = [str(c) for c in classes]
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ValueError(f"a head needs at least two distinct classes, got {classes}")
        self.classes: List[str] = classes
        self.input_dim = int(input_dim)
        self.pool = pool
        self.hidden = int(hidden)
        self.attention_heads = int(attention_heads) if pool == "attention" else 0
        self.attention_dim = int(attention_dim) if pool == "attention" else 0
        self.kmer = int(kmer)
        if pool == "none" and not self.kmer:
            raise ValueError("a head with pool='none' needs k-mer features (kmer >= 1)")
        self.encoder_fingerprint = str(encoder_fingerprint)
        self.info: Dict[str, str] = dict(info or {})
        d = self.input_dim
        # per-base standardisation (attention scores need centred inputs) and of the pooled vector
        self.register_buffer("base_shift", torch.zeros(d))
        self.register_buffer("base_scale", torch.ones(d))
        n_features = {"mean": d, "meanmax": 2 * d, "none": 0}.get(
            pool, d * (1 + self.attention_heads)
        )
        self.n_embedding_features = n_features
        n_features += sum(4**k for k in range(1, self.kmer + 1))
        self.n_features = n_features
        self.register_buffer("feature_shift", torch.zeros(n_features))
        self.register_buffer("feature_scale", torch.ones(n_features))
        if pool == "attention":
            self.attention = nn.Sequential(
                nn.Linear(d, self.attention_dim),
                nn.Tanh(),
                nn.Linear(self.attention_dim, self.attention_heads),
            )
        if self.hidden:
            self.classifier = nn.Sequential(
                nn.Linear(n_features, self.hidden), nn.ReLU(), nn.Linear(self.hidden, len(classes))
            )
        else:
            self.classifier = nn.Sequential(nn.Linear(n_features, len(classes)))

    # -- the computation ---------------------------------------------------------------------------
    def pooled(self, values: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """One feature vector per sequence from a ragged block (values (N, d), offsets (n + 1,))."""
        n = len(offsets) - 1
        lengths = (offsets[1:] - offsets[:-1]).to(values.dtype)
        segment = torch.repeat_interleave(torch.arange(n), offsets[1:] - offsets[:-1])
        x = (values - self.base_shift) / self.base_scale
        if self.pool == "none":
            return torch.zeros(n, 0, dtype=x.dtype)
        mean = (
            torch.zeros(n, x.shape[1], dtype=x.dtype).index_add_(0, segment, x) / lengths[:, None]
        )
        if self.pool == "meanmax":
            peak = torch.full_like(mean, -torch.inf).scatter_reduce(
                0, segment[:, None].expand_as(x), x, "amax", include_self=True
            )
            return torch.cat([mean, peak], dim=1)
        if self.pool == "mean":
            return mean
        scores = self.attention(x)  # (N, heads)
        # softmax within each sequence, stabilised by the sequence's maximum
        peak = torch.full((n, scores.shape[1]), -torch.inf, dtype=x.dtype)
        peak = peak.scatter_reduce(
            0, segment[:, None].expand_as(scores), scores, "amax", include_self=True
        )
        w = torch.exp(scores - peak[segment])
        w = w / torch.zeros_like(peak).index_add_(0, segment, w)[segment]
        pools = [mean]
        for h in range(scores.shape[1]):
            pools.append(torch.zeros_like(mean).index_add_(0, segment, w[:, h : h + 1] * x))
        return torch.cat(pools, dim=1)

    def logits_of_features(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier((features - self.feature_shift) / self.feature_scale)

    def forward(
        self, values: torch.Tensor, offsets: torch.Tensor, kmers: Optional[torch.Tensor] = None
    ) -> torch.Tensor:
        """Class logits (n, classes) of the sequences of a ragged block (``kmers``: their k-mer
        frequencies, for a head with ``kmer``)."""
        pooled = self.pooled(values, offsets)
        if self.kmer:
            pooled = torch.cat([pooled, kmers], dim=1)
        return self.logits_of_features(pooled)

    def kmer_features(self, emb) -> np.ndarray:
        """The k-mer block of the features, float32 (n, sum of 4**k for k = 1..kmer)."""
        from .features import kmer_frequencies

        if emb.sequences is None:
            raise ValueError(
                "this head reads k-mer frequencies: the embeddings must carry their sequences "
                "(embed from sequences, or Embeddings(..., sequences=...))"
            )
        return kmer_frequencies(emb.sequences, range(1, self.kmer + 1))

    def features(self, emb) -> np.ndarray:
        """What the classifier sees before standardisation, float32 (n, features): the pooled
        embedding (for ``pool="mean"``, ``emb.pooled()`` standardised per base), then the k-mer
        frequencies if any."""
        pooled = self._run(emb, lambda v, o: self.pooled(v, o))
        if self.kmer:
            pooled = np.concatenate([pooled.reshape(len(emb), -1), self.kmer_features(emb)], 1)
        return pooled.astype(np.float32, copy=False)

    def probabilities(self, emb) -> np.ndarray:
        """Class probabilities, float64 (n, classes), of the sequences of an ``Embeddings`` block
        (or, for heads without attention, of their :meth:`features` computed before)."""
        if isinstance(emb, np.ndarray):
            if self.pool == "attention" or emb.ndim != 2 or emb.shape[1] != self.n_features:
                raise ValueError(
                    f"a feature matrix for this head has shape (n, {self.n_features}), got "
                    f"{emb.shape}"
                    + (" (an attention head reads embeddings)" if self.pool == "attention" else "")
                )
            logits = torch.from_numpy(np.ascontiguousarray(emb, np.float32))
        elif self.pool == "attention":
            logits = torch.from_numpy(self._run(emb, lambda v, o: self.pooled(v, o)))
            if self.kmer:
                logits = torch.cat([logits, torch.from_numpy(self.kmer_features(emb))], 1)
        else:
            logits = torch.from_numpy(self.features(emb))
        with torch.inference_mode():
            logits = self.eval().logits_of_features(logits)
        return torch.softmax(logits.double(), dim=1).numpy()

    def _run(self, emb, fn) -> np.ndarray:
        if emb.dim != self.input_dim:
            raise ValueError(
                f"this head expects {self.input_dim}-dimensional embeddings, got {emb.dim}"
            )
        offsets = np.asarray(emb.offsets, dtype=np.int64)
        out, start = [], 0
        self.eval()
        with torch.inference_mode():
            while start < len(emb):
                # whole sequences, about _INFERENCE_BASES bases at a time
                stop = int(np.searchsorted(offsets, offsets[start] + _INFERENCE_BASES, "right"))
                stop = min(max(stop - 1, start + 1), len(emb))
                lo, hi = offsets[start], offsets[stop]
                values = torch.from_numpy(np.ascontiguousarray(emb.values[lo:hi], np.float32))
                out.append(fn(values, torch.from_numpy(offsets[start : stop + 1] - lo)).numpy())
                start = stop
        return np.concatenate(out) if out else np.zeros((0, self.n_embedding_features), np.float32)

    # -- which encoder -----------------------------------------------------------------------------
    def check_encoder(self, fingerprint: str, source: str = "the model") -> None:
        """Refuse embeddings from an encoder other than the one the head was trained on."""
        if self.pool == "none":
            return
        if fingerprint != self.encoder_fingerprint:
            where = self.info.get("path", "the classification head")
            raise ValueError(
                f"{where} was trained on the embeddings of encoder "
                f"{self.encoder_fingerprint[:12] or '(unknown)'}…, but {source} is encoder "
                f"{fingerprint[:12]}…: its embeddings are other coordinates; train a head for this "
                "encoder (rnabert classify train labelled.fa --weights ... -o head.safetensors)"
            )

    # -- files -------------------------------------------------------------------------------------
    def description(self) -> dict:
        return {
            "format": FORMAT,
            "classes": self.classes,
            "input_dim": self.input_dim,
            "pool": self.pool,
            "hidden": self.hidden,
            "attention_heads": self.attention_heads,
            "attention_dim": self.attention_dim,
            "kmer": self.kmer,
            "encoder_fingerprint": self.encoder_fingerprint,
            "info": {k: v for k, v in self.info.items() if k != "path"},
        }

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Write the head as safetensors (written under a temporary name, then renamed)."""
        from safetensors.torch import save_file

        from ..outputs import atomic_path

        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        with atomic_path(path) as tmp:
            save_file(state, tmp, metadata={"rnabert_class_head": json.dumps(self.description())})

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]", None] = None) -> "ClassHead":
        """Read a head written by :meth:`save`; with no path, the head shipped with the package."""
        from ..alignment.heads import read_head_file

        if path is None:
            if not SHIPPED_HEAD.exists():
                raise FileNotFoundError(f"no classification head is shipped at {SHIPPED_HEAD}")
            path = SHIPPED_HEAD
        label = os.fspath(path)
        if not os.path.exists(label):
            raise FileNotFoundError(f"{label}: no such file")
        meta, tensors = read_head_file(
            label, "rnabert_class_head", FORMAT, "classification head", framework="pt"
        )
        try:
            head = cls(
                meta["classes"],
                meta["input_dim"],
                meta["pool"],
                meta["hidden"],
                meta.get("attention_heads", 0) or 4,
                meta.get("attention_dim", 0) or 32,
                meta.get("encoder_fingerprint", ""),
                {**meta.get("info", {}), "path": label},
                meta.get("kmer", 0),
            )
            head.load_state_dict(tensors, strict=True)
        except (KeyError, RuntimeError, TypeError) as exc:
            raise ValueError(f"{label}: malformed classification head ({exc})") from None
        return head.eval()
