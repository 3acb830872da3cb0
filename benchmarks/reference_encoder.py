"""A plain eager re-implementation of the original RNABERT forward pass: the encoder benchmark's
peer.

Same math as the original code: explicit QK^T softmax with a -10000 additive padding mask, a
hand-written LayerNorm, three separate Q/K/V projections, fp32, batches in input order, every batch
padded to its longest sequence. It reads the weights of an ``rnabert.model.RnaBert``.
"""

import math

import torch


def _layer_norm(x, weight, bias, eps):
    u = x.mean(-1, keepdim=True)
    s = (x - u).pow(2).mean(-1, keepdim=True)
    return weight * ((x - u) / torch.sqrt(s + eps)) + bias


def _gelu(x):
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


@torch.no_grad()
def eager_forward(model, ids: torch.Tensor) -> torch.Tensor:
    cfg = model.config
    p = dict(model.named_parameters())
    eps = cfg.layer_norm_eps
    b, length = ids.shape
    mask = (ids != 0).float()
    ext = (1.0 - mask[:, None, None, :]) * -10000.0
    pos = torch.arange(length).unsqueeze(0).expand_as(ids)
    x = (
        p["bert.embeddings.word_embeddings.weight"][ids]
        + p["bert.embeddings.position_embeddings.weight"][pos]
        + p["bert.embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)]
    )
    x = _layer_norm(
        x, p["bert.embeddings.LayerNorm.weight"], p["bert.embeddings.LayerNorm.bias"], eps
    )
    heads, hs = cfg.num_attention_heads, cfg.head_size

    def split(t):
        return t.view(b, length, heads, hs).permute(0, 2, 1, 3)

    for n in range(cfg.num_hidden_layers):
        pre = f"bert.encoder.layer.{n}."
        q = split(
            x @ p[pre + "attention.selfattn.query.weight"].T
            + p[pre + "attention.selfattn.query.bias"]
        )
        k = split(
            x @ p[pre + "attention.selfattn.key.weight"].T + p[pre + "attention.selfattn.key.bias"]
        )
        v = split(
            x @ p[pre + "attention.selfattn.value.weight"].T
            + p[pre + "attention.selfattn.value.bias"]
        )
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hs) + ext
        ctx = (
            torch.matmul(torch.softmax(scores, dim=-1), v)
            .permute(0, 2, 1, 3)
            .reshape(b, length, heads * hs)
        )
        a = (
            ctx @ p[pre + "attention.output.dense.weight"].T
            + p[pre + "attention.output.dense.bias"]
        )
        x = _layer_norm(
            a + x,
            p[pre + "attention.output.LayerNorm.weight"],
            p[pre + "attention.output.LayerNorm.bias"],
            eps,
        )
        h = _gelu(x @ p[pre + "intermediate.dense.weight"].T + p[pre + "intermediate.dense.bias"])
        o = h @ p[pre + "output.dense.weight"].T + p[pre + "output.dense.bias"]
        x = _layer_norm(
            o + x, p[pre + "output.LayerNorm.weight"], p[pre + "output.LayerNorm.bias"], eps
        )
    return x
