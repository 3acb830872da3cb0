"""Training data: Rfam seed families read once, split by family, and batched for MLM and SAL.

Every batch is a pure function of (seed, step) or of (seed, epoch, batch index), so that a run
resumed from a checkpoint draws exactly the batches that the uninterrupted run would have drawn.
"""

from __future__ import annotations

import pathlib
import warnings
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..seqs import AmbiguousBaseWarning, StockholmAlignment, read_stockholm, token_ids_of_clean
from ..seqs.identity import alignment_identities, pair_identity, pairs_by_bin

VALIDATION_FILE = pathlib.Path(__file__).resolve().parent / "validation_families.txt"
MAX_LEN = 440  # the encoder's learned positions

# Stream ids: independent random streams derived from the run's seed.
_STREAM_EPOCH, _STREAM_MLM_CROP, _STREAM_SAL = 1, 2, 3


@dataclass
class Family:
    """One seed alignment, tokenised: ``ids[k]`` are the token ids of sequence ``names[k]``."""

    accession: str
    alignment: StockholmAlignment
    names: List[str]
    ids: List[np.ndarray]


def read_families(path, max_families: Optional[int] = None) -> List[Family]:
    """Read every family of a Stockholm file (ambiguous bases become MASK, silently: they are
    many)."""
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AmbiguousBaseWarning)
        for k, aln in enumerate(read_stockholm(path)):
            acc = aln.accession or aln.id or f"family{k}"
            records = aln.records()
            out.append(
                Family(acc, aln, list(aln.names), [token_ids_of_clean(r.seq) for r in records])
            )
            if max_families is not None and len(out) >= max_families:
                break
    accs = [f.accession for f in out]
    if len(set(accs)) != len(accs):
        raise ValueError(f"{path}: family accessions are not unique")
    return out


def split_families(
    accessions: Sequence[str], fraction: float = 0.05, seed: int = 2022
) -> List[str]:
    """The validation families: ``round(fraction * n)`` accessions drawn without replacement.

    The draw depends only on the sorted accession list and the seed, so it is reproducible.
    """
    pool = sorted(set(accessions))
    n_val = int(round(fraction * len(pool)))
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(pool), size=n_val, replace=False)
    return sorted(pool[i] for i in chosen)


def read_validation_file(path=None) -> List[str]:
    path = VALIDATION_FILE if path is None else pathlib.Path(path)
    with open(path) as fh:
        return [line.strip() for line in fh if line.strip() and not line.startswith("#")]


def partition(
    families: Sequence[Family], validation: Iterable[str]
) -> Tuple[List[Family], List[Family]]:
    """(training, validation) families; raises if the two share an accession."""
    val = set(validation)
    train = [f for f in families if f.accession not in val]
    held = [f for f in families if f.accession in val]
    assert not {f.accession for f in train} & val, "a validation family leaked into training"
    return train, held


def crop_window(length: int, rng: np.random.Generator, max_len: int = MAX_LEN) -> Tuple[int, int]:
    """A random window of at most ``max_len`` bases: (start, end)."""
    if length <= max_len:
        return 0, length
    start = int(rng.integers(0, length - max_len + 1))
    return start, start + max_len


class TrainingSet:
    """The training families, their MLM batch plan and their SAL pair sampler.

    Parameters
    ----------
    families : list of Family
        Training families only (``forbidden`` is checked against them).
    forbidden : iterable of str
        Validation accessions: constructing with one of them raises, and every drawn batch is
        checked.
    """

    def __init__(
        self,
        families: Sequence[Family],
        seed: int,
        batch_tokens: int = 4096,
        sal_pairs: int = 16,
        max_len: int = MAX_LEN,
        forbidden: Iterable[str] = (),
        sal_candidates: int = 1,
        sal_below: Optional[float] = None,
    ):
        self.families = list(families)
        self.forbidden = frozenset(forbidden)
        leaked = sorted({f.accession for f in self.families} & self.forbidden)
        if leaked:
            raise ValueError(f"validation families in the training set: {leaked[:5]}")
        if not self.families:
            raise ValueError("no training families")
        self.seed = int(seed)
        self.batch_tokens = int(batch_tokens)
        self.sal_pairs = int(sal_pairs)
        if sal_candidates < 1:
            raise ValueError(f"sal_candidates must be >= 1, got {sal_candidates}")
        self.sal_candidates = int(sal_candidates)
        if sal_below is not None and self.sal_candidates > 1:
            raise ValueError(
                "sal_below and sal_candidates > 1 are two different pair samplers: pick one"
            )
        if sal_below is not None and not 0 < sal_below <= 100:
            raise ValueError(f"sal_below is a percent identity in (0, 100], got {sal_below}")
        self.sal_below = None if sal_below is None else float(sal_below)
        self._hard: List[
            Tuple[int, List[np.ndarray]]
        ] = []  # (family index, its hard pairs per identity bin)
        self.max_len = int(max_len)
        # Flat sequence index: (family, member).
        self.seq_family = np.concatenate(
            [np.full(len(f.ids), k) for k, f in enumerate(self.families)]
        )
        self.seq_member = np.concatenate([np.arange(len(f.ids)) for f in self.families])
        self.seq_len = np.array([len(x) for f in self.families for x in f.ids], dtype=np.int64)
        self.sal_families = np.array(
            [k for k, f in enumerate(self.families) if len(f.ids) >= 2], dtype=np.int64
        )
        if self.batch_tokens < self.max_len:
            raise ValueError(f"batch_tokens must be >= {self.max_len}, got {self.batch_tokens}")
        self._epoch_plan: Tuple[int, List[np.ndarray]] = (-1, [])
        if self.sal_below is not None:
            for k in self.sal_families:
                groups = pairs_by_bin(member_identities(self.families[k]), self.sal_below)
                if groups:  # int32: the hard pairs of all training families run to millions
                    self._hard.append((int(k), [g.astype(np.int32) for g in groups.values()]))
            if not self._hard:
                raise ValueError(
                    f"no training family has a pair below {self.sal_below:g} % identity"
                )

    def __len__(self) -> int:
        return len(self.seq_len)

    # -- MLM ---------------------------------------------------------------------------------
    def epoch_batches(self, epoch: int) -> List[np.ndarray]:
        """The MLM batches of one epoch: every sequence once, shuffled, grouped with similar
        lengths."""
        if self._epoch_plan[0] == epoch:
            return self._epoch_plan[1]
        rng = np.random.default_rng([self.seed, _STREAM_EPOCH, epoch])
        order = rng.permutation(len(self.seq_len))
        crop = np.minimum(self.seq_len, self.max_len)
        batches = []
        # Sort within chunks of 256 shuffled sequences: little padding, still random batches.
        for s in range(0, len(order), 256):
            chunk = order[s : s + 256]
            chunk = chunk[np.argsort(-crop[chunk], kind="stable")]
            cur: List[int] = []
            width = 0
            for k in chunk:
                w = max(width, int(crop[k]))
                if cur and w * (len(cur) + 1) > self.batch_tokens:
                    batches.append(np.array(cur, dtype=np.int64))
                    cur, w = [], int(crop[k])
                cur.append(int(k))
                width = w
            if cur:
                batches.append(np.array(cur, dtype=np.int64))
        batches = [batches[i] for i in rng.permutation(len(batches))]
        self._epoch_plan = (epoch, batches)
        return batches

    def mlm_batch(self, epoch: int, index: int, step: int) -> List[np.ndarray]:
        """Token ids of MLM batch ``index`` of ``epoch`` (long sequences cropped at random)."""
        seqs = self.epoch_batches(epoch)[index]
        rng = np.random.default_rng([self.seed, _STREAM_MLM_CROP, step])
        out = []
        for k in seqs:
            fam = self.families[self.seq_family[k]]
            self._check(fam)
            ids = fam.ids[self.seq_member[k]]
            s, e = crop_window(len(ids), rng, self.max_len)
            out.append(ids[s:e])
        return out

    # -- SAL ---------------------------------------------------------------------------------
    def sal_batch(self, step: int) -> List[Tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``sal_pairs`` pairs (ids_a, ids_b, reference pairs (k, 2)) from one family each.

        Families are drawn uniformly (so that big families do not dominate), then two distinct
        members; a pair where either is longer than ``max_len`` is cropped at matching alignment
        columns, so the reference stays the seed alignment's.

        With ``sal_candidates`` k > 1, k (family, pair) candidates are drawn that way and the least
        identical pair is kept. Most Rfam seed pairs are > 70 % identical, where any aligner is
        right and the hinge is nearly zero; low-identity pairs are where embeddings must carry the
        structure.

        With ``sal_below`` (a percent identity), the pair is drawn by identity instead: a family
        uniformly among those with pairs below ``sal_below``, one of the evaluation's identity bins
        (<40, 40–55, …) below it that the family occupies, uniformly, then a pair of that bin.
        Least-of-K favours both the extreme low end and, since its candidates come from different
        families, the low-identity families; this spreads training evenly over the hard bins of
        every family that has them, and spends no steps on pairs any aligner gets right. (Measured,
        run G of benchmarks/TRAINING_LOG.md: with P = 55 it helps the < 40 % bin more than
        least-of-4 does, the 40–55 % bin less, and costs a little from 70 % up.)
        """
        if len(self.sal_families) == 0:
            raise ValueError("no training family has two sequences: SAL impossible")
        rng = np.random.default_rng([self.seed, _STREAM_SAL, step])
        out = []
        while len(out) < self.sal_pairs:
            fam, a, b = (
                self._draw_pair(rng) if self.sal_below is None else self._draw_hard_pair(rng)
            )
            if self.sal_candidates > 1:
                cands = [(fam, a, b)] + [
                    self._draw_pair(rng) for _ in range(self.sal_candidates - 1)
                ]
                fam, a, b = min(cands, key=lambda c: member_identity(*c))
            item = pair_with_reference(fam, a, b, rng, self.max_len)
            if item is not None:
                out.append(item)
        return out

    def _draw_pair(self, rng: np.random.Generator) -> Tuple[Family, int, int]:
        fam = self.families[self.sal_families[rng.integers(len(self.sal_families))]]
        self._check(fam)
        a, b = rng.choice(len(fam.ids), size=2, replace=False)
        return fam, int(a), int(b)

    def _draw_hard_pair(self, rng: np.random.Generator) -> Tuple[Family, int, int]:
        k, groups = self._hard[int(rng.integers(len(self._hard)))]
        fam = self.families[k]
        self._check(fam)
        pairs = groups[int(rng.integers(len(groups)))]
        a, b = pairs[int(rng.integers(len(pairs)))]
        return (fam, int(a), int(b)) if rng.random() < 0.5 else (fam, int(b), int(a))

    def _check(self, fam: Family) -> None:
        if fam.accession in self.forbidden:
            raise AssertionError(f"validation family {fam.accession} drawn for training")


def member_identities(fam: Family) -> np.ndarray:
    """Pairwise identities (percent) of all members: (n, n), -1 where two share no column."""
    return alignment_identities(fam.alignment, fam.names, fam.ids)


def member_identity(fam: Family, a: int, b: int) -> float:
    """Percent identity of members a and b over the seed-alignment columns where both have a
    base."""
    return pair_identity(
        fam.ids[a], fam.ids[b], fam.alignment.reference_pairs(fam.names[a], fam.names[b])
    )


def pair_with_reference(
    fam: Family, a: int, b: int, rng: np.random.Generator, max_len: int = MAX_LEN
):
    """(ids_a, ids_b, reference) for members a and b, cropped at matching columns when too long.

    Returns None when the (cropped) pair shares no column.
    """
    aln = fam.alignment
    ids_a, ids_b = fam.ids[a], fam.ids[b]
    ref = aln.reference_pairs(fam.names[a], fam.names[b])
    if len(ids_a) > max_len or len(ids_b) > max_len:
        cols_a = aln.residue_columns(fam.names[a])
        cols_b = aln.residue_columns(fam.names[b])
        # A window of columns [c0, c1) holding at most max_len residues of each sequence.
        c0 = int(rng.integers(0, aln.ncols))
        ia0 = int(np.searchsorted(cols_a, c0))
        ib0 = int(np.searchsorted(cols_b, c0))
        c1 = aln.ncols
        if ia0 + max_len < len(cols_a):
            c1 = min(c1, int(cols_a[ia0 + max_len]))
        if ib0 + max_len < len(cols_b):
            c1 = min(c1, int(cols_b[ib0 + max_len]))
        ia1 = int(np.searchsorted(cols_a, c1))
        ib1 = int(np.searchsorted(cols_b, c1))
        if ia1 <= ia0 or ib1 <= ib0:
            return None
        keep = (ref[:, 0] >= ia0) & (ref[:, 0] < ia1) & (ref[:, 1] >= ib0) & (ref[:, 1] < ib1)
        ref = ref[keep] - np.array([ia0, ib0])
        ids_a, ids_b = ids_a[ia0:ia1], ids_b[ib0:ib1]
    if len(ref) == 0:
        return None
    return ids_a, ids_b, np.ascontiguousarray(ref, dtype=np.int64)
