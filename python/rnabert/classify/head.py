"""A classification head: per-base embeddings of a sequence → one vector → class probabilities.

Pooling turns the ragged per-base block into one vector per sequence:

- ``"mean"``: the mean embedding (what ``Embeddings.pooled`` gives);
- ``"attention"``: the mean side by side with ``attention_heads`` learned attention pools, each a
  softmax over the sequence's bases of ``v_h · tanh(W e_i)`` (gated-attention pooling): the head
  learns which bases say most about the class (a loop, a box motif) instead of averaging them away;
- ``"meanmax"``: the mean and the maximum of each channel (a motif seen once still shows);
- ``"none"``: no embedding features (with ``kmer``: the k-mer baseline through the same classifier);
- ``"conv"``: a small convolutional network over the per-base features [standardised embedding ;
  one-hot base] (``embedding=False``: the one-hot bases alone), then the maximum and the mean of
  each output channel over the sequence. Pooling the embeddings first throws away which bases sit
  next to which; the convolutions see motifs (a box, a loop closing, a 3' tail) at any position,
  and the maximum keeps a motif seen once. Sequences of any length: the encoder windows long ones
  (``rnabert.embed``) and the convolutions slide over the whole per-base block.

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

__all__ = ["ClassHead", "HeadEnsemble", "FORMAT", "SHIPPED_HEAD", "POOLS"]

FORMAT = "rnabert-class-head/2"
# files of the first format (no convolutional heads) hold the same fields and still load
OLD_FORMATS = ("rnabert-class-head/1",)
POOLS = ("mean", "meanmax", "attention", "none", "conv")
# one-hot channels of the conv head: A C G U from the encoder's token ids (MASK and PAD: all zero)
_ONEHOT_TOKENS = (2, 5, 4, 3)
SHIPPED_HEAD = (
    pathlib.Path(__file__).resolve().parent.parent / "weights" / "rna_class_head.safetensors"
)
_INFERENCE_BASES = 1 << 17  # per-base rows per chunk at inference (bounded memory)
_CONV_PADDED_BASES = 1 << 15  # padded positions per conv batch at inference


class ClassHead(nn.Module):
    """Pooling, standardisation and a linear/MLP classifier over RNA classes.

    Parameters
    ----------
    classes : sequence of str
        Class names, in the order of the probability columns.
    input_dim : int
        Width of the per-base embeddings (120 for RNABERT), or of the feature vectors for
        ``pool="none"``.
    pool : {"mean", "meanmax", "attention", "none", "conv"}
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
    conv_channels, conv_kernel, conv_layers, conv_dilation : int
        For ``pool="conv"``: output channels of each convolution, its width in bases, the number
        of convolutions and the dilation growth (layer l has dilation ``conv_dilation ** l``).
    embedding : bool
        For ``pool="conv"``: read the per-base embeddings beside the one-hot bases (False: the
        bases alone; such a head needs no particular encoder).
    dropout : float
        For ``pool="conv"``: dropout after each convolution and on the classifier's input
        (training only).
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
        conv_channels: int = 64,
        conv_kernel: int = 9,
        conv_layers: int = 2,
        conv_dilation: int = 1,
        embedding: bool = True,
        dropout: float = 0.2,
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
        conv = pool == "conv"
        self.conv_channels = int(conv_channels) if conv else 0
        self.conv_kernel = int(conv_kernel) if conv else 0
        self.conv_layers = int(conv_layers) if conv else 0
        self.conv_dilation = int(conv_dilation) if conv else 0
        self.embedding = bool(embedding) if conv else pool != "none"
        self.dropout = float(dropout) if conv else 0.0
        if conv and (
            self.conv_channels < 1
            or self.conv_layers < 1
            or self.conv_kernel < 1
            or self.conv_kernel % 2 == 0
            or self.conv_dilation < 1
        ):
            raise ValueError(
                "a conv head needs conv_channels, conv_layers, conv_dilation >= 1 and an odd "
                f"conv_kernel, got {self.conv_channels}, {self.conv_layers}, {self.conv_dilation}, "
                f"{self.conv_kernel}"
            )
        self.encoder_fingerprint = str(encoder_fingerprint) if self.embedding else ""
        self.info: Dict[str, str] = dict(info or {})
        d = self.input_dim
        # per-base standardisation (attention scores need centred inputs) and of the pooled vector
        self.register_buffer("base_shift", torch.zeros(d))
        self.register_buffer("base_scale", torch.ones(d))
        n_features = {"mean": d, "meanmax": 2 * d, "none": 0, "conv": 2 * self.conv_channels}.get(
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
        if conv:
            layers, width = [], (d if self.embedding else 0) + len(_ONEHOT_TOKENS)
            for layer in range(self.conv_layers):
                dilation = self.conv_dilation**layer
                layers.append(
                    nn.Conv1d(
                        width,
                        self.conv_channels,
                        self.conv_kernel,
                        padding=dilation * (self.conv_kernel // 2),
                        dilation=dilation,
                    )
                )
                width = self.conv_channels
            self.conv = nn.ModuleList(layers)
            self.conv_dropout = nn.Dropout(self.dropout)
        if conv and not self.hidden:
            self.classifier = nn.Sequential(
                nn.Dropout(self.dropout), nn.Linear(n_features, len(classes))
            )
        elif self.hidden:
            self.classifier = nn.Sequential(
                nn.Linear(n_features, self.hidden), nn.ReLU(), nn.Linear(self.hidden, len(classes))
            )
        else:
            self.classifier = nn.Sequential(nn.Linear(n_features, len(classes)))

    @property
    def kind(self) -> str:
        """What ``rnabert classify train --pool`` calls this head: its pooling, or "conv-bases"
        for a conv head on the one-hot bases alone."""
        return "conv-bases" if self.pool == "conv" and not self.embedding else self.pool

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

    def conv_pooled(
        self, values: torch.Tensor, offsets: torch.Tensor, bases: torch.Tensor
    ) -> torch.Tensor:
        """The conv head's vector of each sequence of a ragged block: the maximum and the mean of
        every output channel over the sequence's bases, float32 (n, 2 · conv_channels).

        ``bases`` holds the token id of every row of ``values`` (int64, (N,)). Sequences are
        padded with zeros to the longest one of the block; the padding changes no sequence's
        result (a convolution sees zeros past both ends of every sequence, padded or not, and the
        pools read only the sequence's own positions).
        """
        n = len(offsets) - 1
        lengths = offsets[1:] - offsets[:-1]
        longest = int(lengths.max()) if n else 0
        segment = torch.repeat_interleave(torch.arange(n), lengths)
        slot = segment * longest + torch.arange(len(bases)) - offsets[:-1][segment]
        parts = []
        if self.embedding:
            parts.append((values.float() - self.base_shift) / self.base_scale)
        parts.append((bases[:, None] == torch.tensor(_ONEHOT_TOKENS)).float())
        x = torch.cat(parts, 1)
        padded = x.new_zeros(n * longest, x.shape[1]).index_copy_(0, slot, x)
        h = padded.view(n, longest, -1).transpose(1, 2)  # (n, channels, longest)
        inside = (torch.arange(longest)[None, :] < lengths[:, None])[:, None, :]
        for conv in self.conv:
            # zero past the end, as a sequence alone would be padded: the next layer must not see
            # what the previous one made of the padding
            h = self.conv_dropout(torch.relu(conv(h)) * inside)
        peak = h.masked_fill(~inside, -torch.inf).amax(2)
        mean = (h * inside).sum(2) / lengths.clamp(min=1)[:, None]
        return torch.cat([torch.where(lengths[:, None] > 0, peak, 0.0), mean], 1)

    def logits_of_features(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier((features - self.feature_shift) / self.feature_scale)

    def forward(
        self,
        values: torch.Tensor,
        offsets: torch.Tensor,
        kmers: Optional[torch.Tensor] = None,
        bases: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """Class logits (n, classes) of the sequences of a ragged block (``kmers``: their k-mer
        frequencies, for a head with ``kmer``; ``bases``: the token id of every row, for a conv
        head)."""
        if self.pool == "conv":
            pooled = self.conv_pooled(values, offsets, bases)
        else:
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
        embedding (for ``pool="mean"``, ``emb.pooled()`` standardised per base; for
        ``pool="conv"``, :meth:`conv_pooled`), then the k-mer frequencies if any."""
        if self.pool == "conv":
            pooled = self._run_conv(emb)
        else:
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

    def _run_conv(self, emb) -> np.ndarray:
        """:meth:`conv_pooled` of every sequence of ``emb``, float32 (n, 2 · conv_channels): in
        batches of similar lengths (little padding), about ``_CONV_PADDED_BASES`` padded positions
        each (a sequence longer than that alone)."""
        if self.embedding and emb.dim != self.input_dim:
            raise ValueError(
                f"this head expects {self.input_dim}-dimensional embeddings, got {emb.dim}"
            )
        bases = self.base_tokens(emb)
        offsets = np.asarray(emb.offsets, dtype=np.int64)
        lengths = np.diff(offsets)
        out = np.zeros((len(emb), self.n_embedding_features), np.float32)
        order = np.argsort(lengths, kind="stable")
        self.eval()
        with torch.inference_mode():
            start = 0
            while start < len(order):
                stop = start + 1  # sorted by length: the last one is the longest
                while (
                    stop < len(order)
                    and (stop + 1 - start) * lengths[order[stop]] <= _CONV_PADDED_BASES
                ):
                    stop += 1
                batch = order[start:stop]
                values, sub, ids = self._gather(emb, offsets, bases, batch)
                out[batch] = self.conv_pooled(values, sub, ids).numpy()
                start = stop
        return out

    def base_tokens(self, emb) -> np.ndarray:
        """Token id of every base of ``emb`` (int64, (total_len,)): the one-hot channels."""
        from ..seqs.alphabet import token_ids_of_clean

        if emb.sequences is None:
            raise ValueError(
                "a conv head reads the bases: the embeddings must carry their sequences (embed "
                "from sequences, or Embeddings(..., sequences=...))"
            )
        if not len(emb):
            return np.zeros(0, np.int64)
        ids = np.concatenate([token_ids_of_clean(s) for s in emb.sequences])
        if len(ids) != emb.total_len:
            raise ValueError("Embeddings.sequences do not match the embeddings' lengths")
        return ids

    def _gather(self, emb, offsets: np.ndarray, bases: np.ndarray, batch: np.ndarray):
        """(values, offsets, token ids) tensors of the sequences ``batch`` of ``emb``, in order
        (values: zero-width when the head reads no embedding)."""
        lengths = offsets[batch + 1] - offsets[batch]
        rows = np.repeat(offsets[batch] - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        rows = rows + np.arange(int(lengths.sum()))
        sub = torch.from_numpy(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
        if self.embedding:
            values = torch.from_numpy(np.ascontiguousarray(emb.values[rows], np.float32))
        else:
            values = torch.zeros(len(rows), 0)
        return values, sub, torch.from_numpy(bases[rows])

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
        if not self.embedding:
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
            "conv_channels": self.conv_channels,
            "conv_kernel": self.conv_kernel,
            "conv_layers": self.conv_layers,
            "conv_dilation": self.conv_dilation,
            "embedding": self.embedding,
            "dropout": self.dropout,
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
    def load(cls, path: Union[str, "os.PathLike[str]", None] = None):
        """Read a head written by :meth:`save` (or by a version that wrote the first format), or a
        :class:`HeadEnsemble`; with no path, the head shipped with the package. A damaged file,
        another kind of file, or a missing or ill-typed field is a one-line ValueError naming the
        file and the field."""
        if path is None:
            if not SHIPPED_HEAD.exists():
                raise FileNotFoundError(f"no classification head is shipped at {SHIPPED_HEAD}")
            path = SHIPPED_HEAD
        label = os.fspath(path)
        if not os.path.exists(label):
            raise FileNotFoundError(f"{label}: no such file")
        meta, tensors = _read(label)
        if "members" in meta:
            return HeadEnsemble._from_file(meta, tensors, label)
        return cls._from_description(meta, tensors, label)

    @classmethod
    def _from_description(cls, meta: dict, tensors: dict, label: str) -> "ClassHead":
        """A head from its description and tensors, or a one-line ValueError naming the file
        and the field."""
        fields = {
            "classes": list,
            "input_dim": int,
            "pool": str,
            "hidden": int,
            "kmer": int,
            "conv_channels": int,
            "conv_kernel": int,
            "conv_layers": int,
            "conv_dilation": int,
            "embedding": bool,
            "dropout": (int, float),
            "encoder_fingerprint": str,
            "info": dict,
        }
        required = ("classes", "input_dim", "pool", "hidden")
        for name in required + (("conv_channels", "conv_kernel", "conv_layers", "embedding")
                                if meta.get("pool") == "conv" else ()):  # fmt: skip
            if name not in meta:
                raise ValueError(f"{label}: classification head without the field {name!r}")
        for name, kind in fields.items():
            bad_bool = kind is int and isinstance(meta.get(name), bool)
            if name in meta and (not isinstance(meta[name], kind) or bad_bool):
                raise ValueError(
                    f"{label}: field {name!r} of the classification head is {meta[name]!r}, "
                    f"not {getattr(kind, '__name__', 'a number')}"
                )
        if meta["pool"] not in POOLS:
            raise ValueError(
                f"{label}: field 'pool' of the classification head is {meta['pool']!r}, expected "
                f"one of {', '.join(POOLS)}"
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
                meta.get("conv_channels", 0),
                meta.get("conv_kernel", 0),
                meta.get("conv_layers", 0),
                meta.get("conv_dilation", 1),
                meta.get("embedding", True),
                meta.get("dropout", 0.0),
            )
            head.load_state_dict(tensors, strict=True)
        except (KeyError, RuntimeError, TypeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"{label}: malformed classification head ({first})") from None
        return head.eval()


class HeadEnsemble:
    """Heads over the same classes whose probabilities are averaged (weighted).

    Heads that see different things err on different sequences: a conv head reads motifs at
    their positions, a head on pooled vectors and k-mer frequencies reads composition, and the
    average of their probabilities is right more often than either (measured in
    ``benchmarks/eval_classify.py``). Stored as one safetensors file: each member's tensors under
    ``member<k>.``, their descriptions in the metadata.
    """

    def __init__(
        self,
        members: Sequence[ClassHead],
        weights: Optional[Sequence[float]] = None,
        info: Optional[Dict[str, str]] = None,
    ):
        members = list(members)
        if len(members) < 2 or not all(isinstance(m, ClassHead) for m in members):
            raise ValueError("an ensemble needs at least two ClassHead members")
        classes = members[0].classes
        for m in members[1:]:
            if m.classes != classes:
                raise ValueError(f"members have other classes: {m.classes} and {classes}")
        weights = [1.0] * len(members) if weights is None else [float(w) for w in weights]
        if len(weights) != len(members) or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"one weight >= 0 per member (not all 0), got {weights}")
        self.members = members
        self.weights = [w / sum(weights) for w in weights]
        self.classes: List[str] = list(classes)
        self.info: Dict[str, str] = dict(info or {})

    @property
    def pool(self) -> str:
        """The members' kinds joined by "+" (``conv+meanmax``)."""
        return "+".join(m.kind for m in self.members)

    def check_encoder(self, fingerprint: str, source: str = "the model") -> None:
        for m in self.members:
            m.check_encoder(fingerprint, source)

    def probabilities(self, emb) -> np.ndarray:
        """Class probabilities, float64 (n, classes): the weighted mean of the members'."""
        return sum(w * m.probabilities(emb) for w, m in zip(self.weights, self.members))

    def description(self) -> dict:
        return {
            "format": FORMAT,
            "classes": self.classes,
            "members": [m.description() for m in self.members],
            "weights": self.weights,
            "info": {k: v for k, v in self.info.items() if k != "path"},
        }

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Write the ensemble as one safetensors file (under a temporary name, then renamed)."""
        from safetensors.torch import save_file

        from ..outputs import atomic_path

        state = {
            f"member{k}.{name}": v.detach().cpu().contiguous()
            for k, m in enumerate(self.members)
            for name, v in m.state_dict().items()
        }
        with atomic_path(path) as tmp:
            save_file(state, tmp, metadata={"rnabert_class_head": json.dumps(self.description())})

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "HeadEnsemble":
        head = ClassHead.load(path)
        if not isinstance(head, cls):
            raise ValueError(f"{os.fspath(path)}: a single classification head, not an ensemble")
        return head

    @classmethod
    def _from_file(cls, meta: dict, tensors: dict, label: str) -> "HeadEnsemble":
        members = meta["members"]
        if not isinstance(members, list) or len(members) < 2:
            raise ValueError(f"{label}: field 'members' of the classification head is not a list")
        heads = []
        for k, member in enumerate(members):
            if not isinstance(member, dict):
                raise ValueError(f"{label}: field 'members'[{k}] is not a head description")
            prefix = f"member{k}."
            own = {n[len(prefix) :]: t for n, t in tensors.items() if n.startswith(prefix)}
            member = {**member, "info": {**member.get("info", {}), **meta.get("info", {})}}
            heads.append(ClassHead._from_description(member, own, f"{label} (member {k})"))
        try:
            return cls(heads, meta.get("weights"), {**meta.get("info", {}), "path": label})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{label}: malformed classification head ({exc})") from None


def _read(label: str):
    """(description, tensors) of a head file of this format or an older one that holds the same
    fields (the first format had no conv heads)."""
    from ..alignment.heads import read_head_file

    try:
        return read_head_file(
            label, "rnabert_class_head", FORMAT, "classification head", framework="pt"
        )
    except ValueError as exc:
        if not any(f"format {old!r}" in str(exc) for old in OLD_FORMATS):
            raise
    return read_head_file(
        label, "rnabert_class_head", OLD_FORMATS[0], "classification head", framework="pt"
    )
