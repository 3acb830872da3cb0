"""Evaluation pairs: pairs of sequences of reference alignments, sampled uniformly or by identity.

Pairwise identity and its bins are :mod:`rnabert.seqs.identity`'s (one definition for evaluation and
training): identical aligned columns / columns where both sequences have a base, ambiguous bases
never identical.
"""

from __future__ import annotations

import pathlib
import warnings
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

from ..seqs import (
    AmbiguousBaseWarning,
    StockholmAlignment,
    read_aligned_fasta,
    read_stockholm,
    token_ids_of_clean,
)
from ..seqs.identity import alignment_identities, pair_identity, pairs_by_bin


@dataclass
class PairSet:
    """Pairs of sequences with their reference alignments.

    ``ids_a[p]``/``ids_b[p]`` token ids, ``seq_a``/``seq_b`` cleaned letters,
    ``ref_path[ref_offsets[p]:
    ref_offsets[p + 1]]`` the reference pairs (0-based residues), ``identity[p]`` in percent.
    """

    family: List[str] = field(default_factory=list)
    name_a: List[str] = field(default_factory=list)
    name_b: List[str] = field(default_factory=list)
    seq_a: List[str] = field(default_factory=list)
    seq_b: List[str] = field(default_factory=list)
    refs: List[np.ndarray] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.family)

    @property
    def ids_a(self) -> List[np.ndarray]:
        return [token_ids_of_clean(s) for s in self.seq_a]

    @property
    def ids_b(self) -> List[np.ndarray]:
        return [token_ids_of_clean(s) for s in self.seq_b]

    @property
    def identity(self) -> np.ndarray:
        """Percent identity of each pair over its reference alignment
        (:func:`rnabert.seqs.identity.pair_identity`)."""
        return np.array(
            [pair_identity(a, b, r) for a, b, r in zip(self.ids_a, self.ids_b, self.refs)]
        )

    def add(
        self, family: str, aln: StockholmAlignment, a: str, b: str, seq_a: str, seq_b: str
    ) -> None:
        self.family.append(family)
        self.name_a.append(a)
        self.name_b.append(b)
        self.seq_a.append(seq_a)
        self.seq_b.append(seq_b)
        self.refs.append(aln.reference_pairs(a, b))


def read_alignments(paths: Iterable) -> List[StockholmAlignment]:
    """Stockholm files (any number of families each) or aligned FASTA files (one family each)."""
    out = []
    for path in paths:
        with open(path, "rb") as fh:
            head = fh.read(2)
        is_fasta = head[:1] == b">"
        if head == b"\x1f\x8b":  # gzip: look inside
            import gzip

            with gzip.open(path, "rb") as fh:
                is_fasta = fh.read(1) == b">"
        if is_fasta:
            aln = read_aligned_fasta(path)
            if aln.accession is None:
                aln.gf["AC"] = pathlib.Path(path).name
            out.append(aln)
        else:
            out.extend(read_stockholm(path))
    return out


def family_identities(
    aln: StockholmAlignment, names: Sequence[str], records: Dict[str, str]
) -> np.ndarray:
    """Pairwise identities (percent) of ``names`` (letters in ``records``): float64 (n, n), -1 where
    two members share no column."""
    return alignment_identities(aln, names, [records[name] for name in names])


def sample_pairs(
    alignments: Sequence[StockholmAlignment],
    families: Optional[Iterable[str]] = None,
    pairs_per_family: int = 10,
    max_pairs: Optional[int] = None,
    seed: int = 0,
    max_len: Optional[int] = None,
    per_bin: Optional[int] = None,
) -> PairSet:
    """Up to ``pairs_per_family`` random distinct pairs of each family, then at most ``max_pairs``.

    ``families`` keeps only those accessions (or IDs); ``max_len`` skips longer sequences. Pairs
    that share no column are skipped (nothing to measure).

    ``per_bin`` samples by identity instead: up to that many random pairs of each family in each
    identity bin (``pairs_per_family`` is then ignored). Rfam seed pairs are mostly > 70 %
    identical, so uniform pairs leave the low-identity bins, where structure matters, nearly empty;
    BRAliBase is stratified by identity for the same reason. The "all" column of such a sample is
    not Rfam's identity mix.
    """
    wanted = None if families is None else set(families)
    rng = np.random.default_rng(seed)
    out = PairSet()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AmbiguousBaseWarning)
        for k, aln in enumerate(alignments):
            acc = aln.accession or aln.id or f"family{k}"
            if wanted is not None and acc not in wanted and aln.id not in wanted:
                continue
            records = {r.name: r.seq for r in aln.records()}
            names = [n for n in aln.names if max_len is None or len(records[n]) <= max_len]
            n = len(names)
            if n < 2:
                continue
            if per_bin is not None:
                chosen = _stratified_choice(family_identities(aln, names, records), per_bin, rng)
                for a, b in chosen:
                    out.add(acc, aln, names[a], names[b], records[names[a]], records[names[b]])
                continue
            all_pairs = n * (n - 1) // 2
            take = min(pairs_per_family, all_pairs)
            if all_pairs <= 4 * take:
                iu = np.array(np.triu_indices(n, 1)).T
                chosen = iu[rng.choice(len(iu), size=take, replace=False)]
            else:
                seen = set()
                while len(seen) < take:
                    a, b = sorted(rng.choice(n, size=2, replace=False).tolist())
                    seen.add((a, b))
                chosen = np.array(sorted(seen))
            for a, b in chosen:
                if len(aln.reference_pairs(names[a], names[b])) == 0:
                    continue
                out.add(acc, aln, names[a], names[b], records[names[a]], records[names[b]])
    if max_pairs is not None and len(out) > max_pairs:
        keep = np.sort(rng.choice(len(out), size=max_pairs, replace=False))
        out = subset(out, keep)
    return out


def _stratified_choice(ident: np.ndarray, per_bin: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``per_bin`` random pairs (a < b) of each identity bin, from a pairwise identity
    matrix."""
    chosen = []
    for pairs in pairs_by_bin(ident).values():
        if len(pairs) > per_bin:
            pairs = pairs[np.sort(rng.choice(len(pairs), size=per_bin, replace=False))]
        chosen.append(pairs)
    if not chosen:
        return np.zeros((0, 2), np.int64)
    chosen = np.concatenate(chosen)
    return chosen[np.lexsort((chosen[:, 1], chosen[:, 0]))]


def subset(pairs: PairSet, index: Sequence[int]) -> PairSet:
    out = PairSet()
    for f in ("family", "name_a", "name_b", "seq_a", "seq_b", "refs"):
        setattr(out, f, [getattr(pairs, f)[k] for k in index])
    return out
