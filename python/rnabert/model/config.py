"""The RNABERT architecture's hyper-parameters, and their JSON form."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict


@dataclasses.dataclass(frozen=True)
class RnaBertConfig:
    """Hyper-parameters of an RNABERT encoder. The defaults are the published model's.

    6 layers, hidden 120, 12 heads of 10, feed-forward 40, 440 learned positions, vocabulary
    PAD 0, MASK 1, A 2, U 3, G 4, C 5, GELU (erf), post-LayerNorm with eps 1e-12.
    """

    vocab_size: int = 6
    hidden_size: int = 120
    num_hidden_layers: int = 6
    num_attention_heads: int = 12
    intermediate_size: int = 40
    max_position_embeddings: int = 440
    type_vocab_size: int = 2
    ss_vocab_size: int = (
        8  # the original's secondary-structure head, kept so checkpoints load without loss
    )
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.0
    attention_probs_dropout_prob: float = 0.0

    def __post_init__(self):
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size={self.hidden_size} is not a multiple of "
                f"num_attention_heads={self.num_attention_heads}"
            )
        for field in (
            "vocab_size",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
            "max_position_embeddings",
        ):
            if getattr(self, field) <= 0:
                raise ValueError(f"{field} must be positive, got {getattr(self, field)}")

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "RnaBertConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known - {"architecture", "format"})
        if unknown:
            raise ValueError(f"unknown RNABERT config keys: {unknown}")
        return cls(**{k: v for k, v in d.items() if k in known})

    @classmethod
    def from_json(cls, text: str) -> "RnaBertConfig":
        return cls.from_dict(json.loads(text))
