"""Homology-detection loss for fine-tuning the encoder jointly with SAL (issue 12, DEDAL-style).

A batch holds ``families_per_batch`` training families, two members of each and a dinucleotide
shuffle of one of them. Pairs of the batch are labelled:

- positive: the two members of one family;
- negative: members of different families, and a shuffle against any real member (its own family's
  too: a shuffle keeps the composition, which is what inflates unrelated local scores);
- neither: two members of different families of one Rfam clan (``#=GF CL``), and shuffle × shuffle.

Every positive is kept; the negatives are the ``hard_negatives`` that the current model scores
highest (mined in the batch) plus ``random_negatives`` drawn from the rest. Each kept pair's local
alignment score S under the homology head (match = scale·⟨u_i, v_j⟩ + bias, a gap of k costs
open + k·extend) is differentiable w.r.t. the encoder: the engine finds the optimal local path on
detached vectors, and S is rebuilt in torch as the sum over that path of the match scores minus its
gap costs (constants of the path). The path is locally optimal, so this is S's (sub)gradient.

The loss is logistic on the pair significance ``lam·S − ln(m·n) + offset`` (−ln of the pair's
E-value up to ``offset``, ``lam`` from the shipped null), the mean over positives plus the mean over
negatives; ``offset`` is learned with the encoder. The head's scalars (centre, mix, scale, bias,
gaps) stay fixed: a grid chose them (benchmarks/TRAINING_LOG.md).

Like :mod:`.data`, every batch is a pure function of (seed, step), so a resumed run draws the
batches the uninterrupted run would have drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..alignment.engine import align_pairs, all_vs_all
from ..embeddings import Embeddings
from ..seqs import token_ids_of_clean
from ..seqs.shuffle import dinucleotide_shuffle
from .data import MAX_LEN, Family, crop_window, member_identity

_STREAM_HOMOLOGY = 5
_LETTERS = np.array(list("NNAUGC"))  # token id -> letter (PAD and MASK never reach a shuffle as N)


def ids_to_text(ids: np.ndarray) -> str:
    """Token ids as a cleaned sequence (MASK, an ambiguous base, as N)."""
    return "".join(_LETTERS[np.asarray(ids)])


@dataclass
class HomologyBatch:
    """Sequences of one homology batch and the labels of their pairs.

    ``ids[k]`` are token ids; ``family[k]`` an index into the sampler's families; ``decoy[k]`` True
    for a shuffle. ``label`` is (n, n) int8: 1 homologous, 0 not, -1 neither (clan sisters,
    shuffle × shuffle, a shuffle and its own source, the diagonal)."""

    ids: List[np.ndarray]
    family: np.ndarray
    decoy: np.ndarray
    label: np.ndarray


def pair_labels(
    family: np.ndarray, decoy: np.ndarray, clans: Sequence[str], source: Optional[np.ndarray] = None
) -> np.ndarray:
    """(n, n) labels: 1 same family (both real), 0 unrelated, -1 neither (see HomologyBatch).

    ``source[k]``: the row a shuffle k was made from (-1 for real sequences). A shuffle against its
    own source is left out: a search never meets that pair (the benchmarks' shuffles are of other
    members), and identical composition would make it a lesson about composition alone."""
    family = np.asarray(family)
    decoy = np.asarray(decoy, dtype=bool)
    clan = np.asarray(list(clans), dtype=object)
    same_fam = family[:, None] == family[None, :]
    real = ~decoy[:, None] & ~decoy[None, :]
    same_clan = (clan[:, None] == clan[None, :]) & (clan[:, None] != "")
    label = np.zeros(same_fam.shape, dtype=np.int8)
    label[same_fam & real] = 1
    label[~same_fam & same_clan & real] = -1
    label[decoy[:, None] & decoy[None, :]] = -1
    if source is not None:
        for k in np.where(decoy)[0]:
            label[k, source[k]] = label[source[k], k] = -1
    np.fill_diagonal(label, -1)
    return label


class HomologySampler:
    """Batches of homology pairs from training families only.

    Parameters
    ----------
    families : list of Family
        Training families; those with fewer than two members are never drawn.
    candidates : int
        Each family's positive pair is the least identical of this many member pairs drawn.
    forbidden : iterable of str
        Validation accessions: constructing with one of them raises, as TrainingSet does.
    """

    def __init__(
        self,
        families: Sequence[Family],
        seed: int,
        families_per_batch: int = 16,
        forbidden: Iterable[str] = (),
        max_len: int = MAX_LEN,
        candidates: int = 1,
    ):
        self.families = list(families)
        self.forbidden = frozenset(forbidden)
        leaked = sorted({f.accession for f in self.families} & self.forbidden)
        if leaked:
            raise ValueError(f"validation families in the homology training set: {leaked[:5]}")
        self.usable = np.array(
            [k for k, f in enumerate(self.families) if len(f.ids) >= 2], dtype=np.int64
        )
        if families_per_batch < 2:
            raise ValueError(f"families_per_batch must be >= 2, got {families_per_batch}")
        if len(self.usable) < families_per_batch:
            raise ValueError(
                f"homology batches need {families_per_batch} training families with two members, "
                f"found {len(self.usable)}"
            )
        if candidates < 1:
            raise ValueError(f"candidates must be >= 1, got {candidates}")
        self.candidates = int(candidates)
        self.seed = int(seed)
        self.families_per_batch = int(families_per_batch)
        self.max_len = int(max_len)
        # Rfam clan of each family ("" when the seed file says none)
        self.clans = [f.alignment.gf.get("CL", "").strip() for f in self.families]

    def batch(self, step: int) -> HomologyBatch:
        rng = np.random.default_rng([self.seed, _STREAM_HOMOLOGY, step])
        picked = rng.choice(self.usable, size=self.families_per_batch, replace=False)
        ids, family, decoy, source = [], [], [], []
        for k in picked:
            fam = self.families[int(k)]
            if fam.accession in self.forbidden:
                raise AssertionError(f"validation family {fam.accession} drawn for training")
            a, b = rng.choice(len(fam.ids), size=2, replace=False)
            if self.candidates > 1:
                # Most member pairs are > 70 % identical and score far above any non-homolog:
                # their loss is ~0. The least identical of several draws teaches divergent homologs.
                draws = [(a, b)] + [
                    tuple(rng.choice(len(fam.ids), size=2, replace=False))
                    for _ in range(self.candidates - 1)
                ]
                a, b = min(draws, key=lambda p: member_identity(fam, int(p[0]), int(p[1])))
            for member in (a, b):
                x = fam.ids[int(member)]
                s, e = crop_window(len(x), rng, self.max_len)
                ids.append(x[s:e])
                family.append(int(k))
                decoy.append(False)
                source.append(-1)
            shuffled = dinucleotide_shuffle(ids_to_text(ids[-2]), rng)
            ids.append(token_ids_of_clean(shuffled))
            family.append(int(k))
            decoy.append(True)
            source.append(len(ids) - 3)
        family = np.array(family)
        decoy = np.array(decoy)
        clans = [self.clans[k] for k in family]
        label = pair_labels(family, decoy, clans, np.array(source))
        return HomologyBatch(ids, family, decoy, label)


# -- the head in torch -----------------------------------------------------------------------------
def head_vectors(hidden: torch.Tensor, ids: Sequence[np.ndarray], head) -> torch.Tensor:
    """The homology head's unit vectors, differentiable: torch twin of ``HomologyHead.vectors``.

    hidden : float tensor, shape (n, L, D), padded final-layer states; ``ids[k]`` has the length
    of row k. Returns (n, L, d + nb), rows beyond a sequence's length zero.
    """
    hidden = hidden.float()
    n, width, _ = hidden.shape
    lengths = torch.tensor([len(x) for x in ids], device=hidden.device)
    mask = (torch.arange(width, device=hidden.device)[None, :] < lengths[:, None]).to(hidden.dtype)
    mean = (hidden * mask[..., None]).sum(1) / lengths[:, None].to(hidden.dtype)
    x = hidden - float(head.center) * mean[:, None, :]
    x = x @ torch.as_tensor(head.proj, device=hidden.device).T
    x = F.normalize(x, dim=-1, eps=1e-12)
    padded = np.zeros((n, width), dtype=np.int64)
    for k, t in enumerate(ids):
        padded[k, : len(t)] = t
    base = torch.as_tensor(head.base, device=hidden.device)[torch.from_numpy(padded)]
    u = torch.cat([x, float(head.mix) * base], dim=-1)
    return F.normalize(u, dim=-1, eps=1e-12) * mask[..., None]


def as_embeddings(u: torch.Tensor, lengths: Sequence[int]) -> Embeddings:
    """Detached padded vectors (n, L, d) as a ragged Embeddings block for the engine."""
    arr = u.detach().float().cpu().numpy()
    values = np.concatenate([arr[k, :n] for k, n in enumerate(lengths)])
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Embeddings(values, offsets)


def local_gap_costs(
    path: np.ndarray, offsets: np.ndarray, gap_open: float, gap_extend: float
) -> np.ndarray:
    """Gap cost of each local alignment given by its aligned pairs.

    Between consecutive pairs, ``di`` skipped bases of A and ``dj`` of B cost ``open + di·extend``
    (di > 0) plus ``open + dj·extend`` (dj > 0); nothing before the first or after the last pair
    (local). float64 (m,)."""
    path = np.asarray(path, dtype=np.int64).reshape(-1, 2)
    offsets = np.asarray(offsets, dtype=np.int64)
    m = len(offsets) - 1
    if len(path) < 2:
        return np.zeros(m)
    step = np.diff(path, axis=0) - 1  # (K-1, 2): skipped bases between pair t and t+1
    pid = np.repeat(np.arange(m), np.diff(offsets))
    within = pid[1:] == pid[:-1]  # a difference across two alignments is no gap
    di, dj = step[within, 0], step[within, 1]
    cost = np.where(di > 0, gap_open + gap_extend * di, 0.0) + np.where(
        dj > 0, gap_open + gap_extend * dj, 0.0
    )
    return np.bincount(pid[1:][within], weights=cost, minlength=m)


def path_scores(
    u: torch.Tensor,
    pairs: np.ndarray,
    path: np.ndarray,
    path_offsets: np.ndarray,
    params,
) -> torch.Tensor:
    """Local-alignment scores of ``pairs`` (rows (a, b) into u) rebuilt in torch on the engine's
    paths: Σ over the path of (scale·⟨u_a,i, u_b,j⟩ + bias) − gap costs. Shape (m,)."""
    m = len(pairs)
    dev = u.device
    counts = np.diff(path_offsets)
    pid = np.repeat(np.arange(m), counts)
    a = torch.from_numpy(np.asarray(pairs)[pid, 0].astype(np.int64)).to(dev)
    b = torch.from_numpy(np.asarray(pairs)[pid, 1].astype(np.int64)).to(dev)
    i = torch.from_numpy(np.ascontiguousarray(path[:, 0], dtype=np.int64)).to(dev)
    j = torch.from_numpy(np.ascontiguousarray(path[:, 1], dtype=np.int64)).to(dev)
    match = float(params.scale) * (u[a, i] * u[b, j]).sum(-1) + float(params.bias)
    total = torch.zeros(m, dtype=u.dtype, device=dev).index_add(
        0, torch.from_numpy(pid).to(dev), match
    )
    gaps = local_gap_costs(path, path_offsets, params.gap_open, params.gap_extend)
    return total - torch.as_tensor(gaps, dtype=u.dtype, device=dev)


@dataclass
class HomologyResult:
    """One homology batch: ``loss`` (differentiable) and diagnostics (numpy)."""

    loss: torch.Tensor
    pairs: np.ndarray  # (m, 2) rows of the batch
    label: np.ndarray  # (m,) 1 / 0
    logits: np.ndarray  # (m,) lam·S − ln(m n) + offset
    engine_scores: np.ndarray  # (m,) the engine's local scores of the kept pairs
    rebuilt_scores: np.ndarray  # (m,) S rebuilt in torch: equal up to rounding

    @property
    def accuracy(self) -> float:
        return float(((self.logits > 0) == (self.label == 1)).mean())


def homology_loss(
    hidden: torch.Tensor,
    batch: HomologyBatch,
    head,
    offset: torch.Tensor,
    *,
    hard_negatives: int,
    random_negatives: int,
    rng: np.random.Generator,
    threads: Optional[int] = None,
) -> HomologyResult:
    """Logistic homology loss of a batch (see the module docstring).

    hidden : float tensor (n, L, D), the encoder's states of ``batch.ids`` (padded).
    head : HomologyHead, its scalars and ``null.lam`` fixed.
    offset : 0-d tensor, learned.
    """
    lengths = np.array([len(x) for x in batch.ids], dtype=np.int64)
    u = head_vectors(hidden, batch.ids, head)
    vec = as_embeddings(u, lengths)
    lam = float(head.null.lam)
    area = np.log(lengths[:, None].astype(np.float64) * lengths[None, :])
    label = batch.label
    iu, ju = np.triu_indices(len(lengths), k=1)
    keep = label[iu, ju] >= 0
    iu, ju = iu[keep], ju[keep]
    pos = label[iu, ju] == 1
    negatives = np.where(~pos)[0]
    # mine by the current model's significance (detached): the whole batch, one engine call
    raw = all_vs_all(vec, head.params, threads=threads).astype(np.float64)
    signif = lam * raw[iu[negatives], ju[negatives]] - area[iu[negatives], ju[negatives]]
    order = negatives[np.argsort(-signif, kind="stable")]
    hard = order[:hard_negatives]
    rest = order[hard_negatives:]
    extra = rng.choice(rest, size=min(random_negatives, len(rest)), replace=False)
    chosen = np.concatenate([np.where(pos)[0], hard, np.sort(extra)])
    pairs = np.stack([iu[chosen], ju[chosen]], axis=1)
    y = pos[chosen].astype(np.float64)
    scores, p_offs, path = align_pairs(vec, pairs, head.params, threads=threads)
    s = path_scores(u, pairs, path, p_offs, head.params)
    a_t = torch.as_tensor(area[pairs[:, 0], pairs[:, 1]], dtype=s.dtype, device=s.device)
    logits = lam * s - a_t + offset
    target = torch.as_tensor(y, dtype=s.dtype, device=s.device)
    per_pair = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    is_pos = target > 0.5
    # both classes weigh the same, however many of each the batch keeps
    loss = per_pair[is_pos].mean() + per_pair[~is_pos].mean()
    return HomologyResult(
        loss,
        pairs,
        y.astype(np.int8),
        logits.detach().double().cpu().numpy(),
        np.asarray(scores, dtype=np.float64),
        s.detach().double().cpu().numpy(),
    )


def initial_offset(head, targets: float = 1000.0) -> float:
    """Start with the decision threshold at a per-pair E-value of 1/``targets``: ``logit = −ln E −
    ln targets``, the operating point of one false hit per query in a search of ``targets``
    sequences (where pooled sensitivity is measured). At E = 1 half of all random pairs would be
    'homologous' (their median E is ln 2)."""
    return -math.log(float(head.null.K)) - math.log(float(targets))
