"""The RNABERT network in torch: embeddings, 6 post-LN transformer layers, MLM / structure heads.

Module and parameter names follow the original implementation (``bert.encoder.layer.N.attention.
selfattn.query`` …) so that its checkpoints map onto this one name for name; only LayerNorm's
``gamma``/``beta`` become ``weight``/``bias`` (see checkpoint.py).
"""

from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .config import RnaBertConfig


class Embeddings(nn.Module):
    """Token + learned position (0..L-1) + token-type 0 embeddings, then LayerNorm."""

    def __init__(self, config: RnaBertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=0)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        length = input_ids.shape[1]
        x = self.word_embeddings(input_ids)
        # The original adds the embedding of position p and of token type 0 to every base.
        x = x + (self.position_embeddings.weight[:length] + self.token_type_embeddings.weight[0])
        return self.dropout(self.LayerNorm(x))


class SelfAttention(nn.Module):
    def __init__(self, config: RnaBertConfig):
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_size = config.head_size
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout_p = config.attention_probs_dropout_prob

    def forward(self, x: torch.Tensor, attn_mask: Optional[torch.Tensor]) -> torch.Tensor:
        b, length, hidden = x.shape
        # One GEMM for Q, K and V instead of three: the layers are narrow (120), so launch and
        # memory overheads dominate, not arithmetic.
        w = torch.cat([self.query.weight, self.key.weight, self.value.weight])
        bias = torch.cat([self.query.bias, self.key.bias, self.value.bias])
        qkv = F.linear(x, w, bias).view(b, length, 3, self.num_heads, self.head_size)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (b, heads, L, head_size)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=self.dropout_p if self.training else 0.0
        )
        return out.transpose(1, 2).reshape(b, length, hidden)


class AddNorm(nn.Module):
    """dense → dropout → LayerNorm(· + residual): the post-LN output block of BERT."""

    def __init__(self, in_size: int, config: RnaBertConfig):
        super().__init__()
        self.dense = nn.Linear(in_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class Attention(nn.Module):
    def __init__(self, config: RnaBertConfig):
        super().__init__()
        self.selfattn = SelfAttention(config)
        self.output = AddNorm(config.hidden_size, config)

    def forward(self, x, attn_mask):
        return self.output(self.selfattn(x, attn_mask), x)


class Intermediate(nn.Module):
    def __init__(self, config: RnaBertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    def forward(self, x):
        return F.gelu(self.dense(x))  # exact (erf) GELU, as the original


class Layer(nn.Module):
    def __init__(self, config: RnaBertConfig):
        super().__init__()
        self.attention = Attention(config)
        self.intermediate = Intermediate(config)
        self.output = AddNorm(config.intermediate_size, config)

    def forward(self, x, attn_mask):
        x = self.attention(x, attn_mask)
        return self.output(self.intermediate(x), x)


class Encoder(nn.Module):
    def __init__(self, config: RnaBertConfig):
        super().__init__()
        self.layer = nn.ModuleList(Layer(config) for _ in range(config.num_hidden_layers))

    def forward(self, x, attn_mask):
        for layer in self.layer:
            x = layer(x, attn_mask)
        return x


class Pooler(nn.Module):
    """tanh(dense(first position)): unused for embeddings, kept so original checkpoints load
    whole."""

    def __init__(self, config: RnaBertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden):
        return torch.tanh(self.dense(hidden[:, 0]))


class Bert(nn.Module):
    def __init__(self, config: RnaBertConfig):
        super().__init__()
        self.embeddings = Embeddings(config)
        self.encoder = Encoder(config)
        self.pooler = Pooler(config)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor] = None
    ) -> torch.Tensor:
        """Final-layer states, shape (batch, L, hidden). ``attention_mask``: bool (batch, L), True =
        base."""
        if attention_mask is None:
            attention_mask = input_ids != 0
        attn = None
        if not bool(attention_mask.all()):
            # Padding keys get -10000 added to their scores, exactly as the original: a boolean mask
            # (-inf) would turn fully padded query rows into NaN, an additive one keeps them finite.
            attn = torch.zeros(attention_mask.shape, dtype=torch.float32, device=input_ids.device)
            attn = attn.masked_fill(~attention_mask, -10000.0)[:, None, None, :]
            attn = attn.to(self.embeddings.word_embeddings.weight.dtype)
        return self.encoder(self.embeddings(input_ids), attn)


class PredictionHead(nn.Module):
    """dense → LayerNorm → decoder (no bias) + bias: the original's MLM and structure heads.

    The original defines an activation for this transform but never applies it; the reference
    forward pass (tests/fixtures) pins that, so there is no GELU here.
    """

    def __init__(self, config: RnaBertConfig, n_out: int):
        super().__init__()
        self.transform = nn.Module()
        self.transform.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.transform.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(config.hidden_size, n_out, bias=False)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, hidden):
        h = self.transform.LayerNorm(self.transform.dense(hidden))
        return self.decoder(h) + self.bias


class Heads(nn.Module):
    def __init__(self, config: RnaBertConfig):
        super().__init__()
        self.predictions = PredictionHead(config, config.vocab_size)
        self.predictions_ss = PredictionHead(config, config.ss_vocab_size)
        self.seq_relationship = nn.Linear(config.hidden_size, 2)


class RnaBert(nn.Module):
    """RNABERT: the encoder (``bert``) and the original's pre-training heads (``cls``).

    ``forward(ids)`` returns per-base embeddings (batch, L, 120); ``mlm_logits(hidden)`` the
    masked-LM head's 6 logits per base.
    """

    def __init__(self, config: Optional[RnaBertConfig] = None):
        super().__init__()
        self.config = config or RnaBertConfig()
        self.bert = Bert(self.config)
        self.cls = Heads(self.config)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor] = None
    ) -> torch.Tensor:
        return self.bert(input_ids, attention_mask)

    def mlm_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.cls.predictions(hidden)

    def forward_with_logits(
        self, input_ids, attention_mask=None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        hidden = self.bert(input_ids, attention_mask)
        return hidden, self.cls.predictions(hidden)

    @property
    def device(self) -> torch.device:
        return self.bert.embeddings.word_embeddings.weight.device


def new_model(config: Optional[RnaBertConfig] = None, seed: int = 0) -> RnaBert:
    """A freshly initialised RNABERT (BERT's init: N(0, 0.02) weights, zero biases, unit
    LayerNorm)."""
    model = RnaBert(config)
    gen = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name:
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            elif name.endswith("bias") or p.dim() < 2:
                p.zero_()
            else:
                p.normal_(0.0, 0.02, generator=gen)
        model.bert.embeddings.word_embeddings.weight[0].zero_()  # padding_idx
    return model
