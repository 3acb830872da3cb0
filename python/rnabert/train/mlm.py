"""Masked-language-model objective: BERT masking of bases, cross-entropy on the selected
positions."""

from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from ..seqs import MASK, PAD, A, C

IGNORE = -100  # label of positions that are not MLM targets
SELECT_P = 0.15
MASK_P, RANDOM_P = 0.8, 0.1  # of the selected; the remaining 10 % stay unchanged


def mask_tokens(
    ids: np.ndarray, rng: np.random.Generator, select_p: float = SELECT_P
) -> Tuple[np.ndarray, np.ndarray]:
    """BERT masking of a padded batch of token ids.

    Parameters
    ----------
    ids : int64 array, shape (B, L)
        PAD 0, MASK 1 (ambiguous bases), A..C 2..5.
    rng : numpy Generator
        A fresh draw each call: the same sequence gets a new pattern every time it is seen.

    Returns
    -------
    inputs : int64 array, shape (B, L)
        Selected bases: 80 % MASK, 10 % a uniformly random base, 10 % unchanged.
    labels : int64 array, shape (B, L)
        The original base at selected positions, ``IGNORE`` elsewhere. Only real bases (A, U, G, C)
        are ever selected: padding and ambiguous bases (already MASK) are never targets.
    """
    ids = np.asarray(ids, dtype=np.int64)
    eligible = (ids >= A) & (ids <= C)
    selected = eligible & (rng.random(ids.shape) < select_p)
    if eligible.any() and not selected.any():  # a batch without targets would waste a step
        flat = np.flatnonzero(eligible)
        selected.flat[flat[rng.integers(len(flat))]] = True
    u = rng.random(ids.shape)
    inputs = ids.copy()
    to_mask = selected & (u < MASK_P)
    to_random = selected & (u >= MASK_P) & (u < MASK_P + RANDOM_P)
    inputs[to_mask] = MASK
    inputs[to_random] = rng.integers(A, C + 1, size=int(to_random.sum()))
    labels = np.where(selected, ids, IGNORE)
    return inputs, labels


def pad_batch(seqs: Sequence[np.ndarray]) -> np.ndarray:
    """Token-id arrays → one (B, max L) int64 array padded with PAD."""
    width = max(len(s) for s in seqs)
    out = np.full((len(seqs), width), PAD, dtype=np.int64)
    for k, s in enumerate(seqs):
        out[k, : len(s)] = s
    return out


def mlm_loss(
    model, inputs: torch.Tensor, labels: torch.Tensor
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(mean cross-entropy over targets, number of correct predictions, number of targets)."""
    hidden = model(inputs, inputs != PAD)
    target = labels != IGNORE
    logits = model.mlm_logits(hidden[target]).float()
    y = labels[target]
    loss = F.cross_entropy(logits, y)
    correct = (logits.argmax(-1) == y).sum()
    return loss, correct, target.sum()


def batch_tensors(
    seqs: List[np.ndarray], rng: np.random.Generator, device
) -> Tuple[torch.Tensor, torch.Tensor]:
    inputs, labels = mask_tokens(pad_batch(seqs), rng)
    return (
        torch.from_numpy(inputs).to(device, non_blocking=True),
        torch.from_numpy(labels).to(device, non_blocking=True),
    )
