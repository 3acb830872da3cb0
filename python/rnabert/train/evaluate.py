"""Pairwise alignment accuracy against reference alignments: RNABERT, a sequence-only baseline, mafft.

Metrics follow the RNABERT paper: over aligned base pairs (i, j), TP = predicted pairs that the
reference also aligns, PPV = TP / predicted, sensitivity = TP / reference, F = their harmonic mean.
They are **micro-averaged**: TP, predicted and reference counts are summed over all pairs first.

Pairwise identity (for the bins <40, 40–55, 55–70, 70–85, >=85 %) is taken from the reference
alignment: identical aligned columns / aligned columns, where aligned columns are those in which both
sequences have a base (ambiguous bases never count as identical). BRAliBase instead divides by the
alignment length with gaps; ours ignores gap columns, so it reads a little higher on gappy pairs.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..alignment.engine import align_score_matrices, join_paths
from ..alignment.params import AlignParams
from ..seqs import AmbiguousBaseWarning, StockholmAlignment, read_aligned_fasta, read_stockholm
from ..seqs import token_ids_of_clean
from .sal import concat_pairs, true_positives

BIN_EDGES = (40.0, 55.0, 70.0, 85.0)
BIN_LABELS = ("<40", "40-55", "55-70", "70-85", ">=85")

# Sequence-only baseline: match / mismatch scores and gaps tuned by `tune_baseline` on pairs of
# TRAINING families (see benchmarks/TRAINING_LOG.md for the grid and its F-values).
BASELINE = {"match": 1.0, "mismatch": -0.5, "gap_open": 4.0, "gap_extend": 0.25}
BASELINE_GRID = {"mismatch": (-0.25, -0.5, -1.0, -2.0), "gap_open": (1.0, 2.0, 4.0, 6.0, 8.0, 12.0),
                 "gap_extend": (0.1, 0.25, 0.5, 1.0)}
MODEL_GAPS = {"gap_open": 1.0, "gap_extend": 0.1}  # the original RNABERT's alignment gaps


@dataclass
class PairSet:
    """Pairs of sequences with their reference alignments.

    ``ids_a[p]``/``ids_b[p]`` token ids, ``seq_a``/``seq_b`` cleaned letters, ``ref_path[ref_offsets[p]:
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
        return np.array([pair_identity(self.seq_a[p], self.seq_b[p], self.refs[p]) for p in range(len(self))])

    def add(self, family: str, aln: StockholmAlignment, a: str, b: str, seq_a: str, seq_b: str) -> None:
        self.family.append(family)
        self.name_a.append(a)
        self.name_b.append(b)
        self.seq_a.append(seq_a)
        self.seq_b.append(seq_b)
        self.refs.append(aln.reference_pairs(a, b))


def pair_identity(seq_a: str, seq_b: str, ref: np.ndarray) -> float:
    """Percent of the reference's aligned columns whose two bases are identical (A, C, G, U only)."""
    if len(ref) == 0:
        return 0.0
    a = np.frombuffer(seq_a.encode("ascii"), dtype=np.uint8)[ref[:, 0]]
    b = np.frombuffer(seq_b.encode("ascii"), dtype=np.uint8)[ref[:, 1]]
    same = (a == b) & np.isin(a, np.frombuffer(b"ACGU", dtype=np.uint8))
    return 100.0 * float(same.mean())


def identity_bin(identity: np.ndarray) -> np.ndarray:
    """Bin index 0..4 of each identity (percent): <40, [40, 55), [55, 70), [70, 85), >=85."""
    return np.searchsorted(np.asarray(BIN_EDGES), np.asarray(identity, dtype=float), side="right")


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


def identity_matrix(columns: Sequence[np.ndarray], letters: Sequence[np.ndarray], ncols: int) -> np.ndarray:
    """All pairwise identities (percent) of aligned sequences: float64 (n, n).

    ``columns[r]`` are the alignment columns of sequence r's bases and ``letters[r]`` those bases as
    0..3 (A, C, G, U in any fixed order; -1 for an ambiguous base, never identical). One-hot matrix
    products over the columns instead of n² reference look-ups; pairs that share no column get -1.
    """
    n = len(columns)
    onehot = np.zeros((n, ncols, 4), dtype=np.float32)
    present = np.zeros((n, ncols), dtype=np.float32)
    for r, (cols, let) in enumerate(zip(columns, letters)):
        present[r, cols] = 1.0
        known = let >= 0
        onehot[r, cols[known], let[known]] = 1.0
    flat = onehot.reshape(n, -1)
    same = flat @ flat.T
    shared = present @ present.T
    return np.where(shared > 0, 100.0 * same / np.maximum(shared, 1), -1.0)


_LETTER_LUT = np.full(256, -1, dtype=np.int64)
_LETTER_LUT[np.frombuffer(b"ACGU", dtype=np.uint8)] = np.arange(4)


def family_identities(aln: StockholmAlignment, names: Sequence[str], records: Dict[str, str]) -> np.ndarray:
    """:func:`identity_matrix` of ``names`` (sequences in ``records``), as :func:`pair_identity` counts."""
    return identity_matrix([aln.residue_columns(name) for name in names],
                           [_LETTER_LUT[np.frombuffer(records[name].encode("ascii"), dtype=np.uint8)]
                            for name in names], aln.ncols)


def sample_pairs(alignments: Sequence[StockholmAlignment], families: Optional[Iterable[str]] = None,
                 pairs_per_family: int = 10, max_pairs: Optional[int] = None, seed: int = 0,
                 max_len: Optional[int] = None, per_bin: Optional[int] = None) -> PairSet:
    """Up to ``pairs_per_family`` random distinct pairs of each family, then at most ``max_pairs``.

    ``families`` keeps only those accessions (or IDs); ``max_len`` skips longer sequences. Pairs that
    share no column are skipped (nothing to measure).

    ``per_bin`` samples by identity instead: up to that many random pairs of each family in each
    identity bin (``pairs_per_family`` is then ignored). Rfam seed pairs are mostly > 70 % identical,
    so uniform pairs leave the low-identity bins, where structure matters, nearly empty; BRAliBase is
    stratified by identity for the same reason. The "all" column of such a sample is not Rfam's
    identity mix.
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


def pairs_by_bin(ident: np.ndarray, below: Optional[float] = None) -> Dict[int, np.ndarray]:
    """The pairs (a < b) of a pairwise identity matrix that share a column (and are below ``below`` %
    identity, if given), per occupied identity bin: {bin index: int64 array (k, 2) in (a, b) order}."""
    a, b = np.triu_indices(len(ident), 1)
    keep = ident[a, b] >= 0
    if below is not None:
        keep &= ident[a, b] < below
    a, b = a[keep], b[keep]
    bins = identity_bin(ident[a, b])
    return {int(k): np.stack([a[bins == k], b[bins == k]], axis=1) for k in np.unique(bins)}


def _stratified_choice(ident: np.ndarray, per_bin: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``per_bin`` random pairs (a < b) of each identity bin, from a pairwise identity matrix."""
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


# -- aligners: each returns (path_offsets, path) in residue coordinates -------------------------

def _align_matrices_chunked(make_matrix, m: int, params: AlignParams, chunk: int = 256):
    parts = []
    for s in range(0, m, chunk):
        mats = [make_matrix(p) for p in range(s, min(m, s + chunk))]
        parts.append(align_score_matrices(mats, params))
    if not parts:
        return np.zeros(1, np.int64), np.zeros((0, 2), np.int64)
    _, offsets, path = join_paths(parts)
    return offsets, path.astype(np.int64)


def align_with_model(model, pairs: PairSet, gap_open: float = MODEL_GAPS["gap_open"],
                     gap_extend: float = MODEL_GAPS["gap_extend"], batch_tokens: Optional[int] = None):
    """Global alignment of cosine matrices of the model's embeddings (the original RNABERT's aligner)."""
    from ..model.inference import embed_records
    from ..seqs import SeqRecord

    was_training = model.training
    model.eval()
    try:
        seqs = sorted(set(pairs.seq_a) | set(pairs.seq_b))
        index = {s: k for k, s in enumerate(seqs)}
        emb = embed_records(model, [SeqRecord(f"s{k}", s) for k, s in enumerate(seqs)], batch_tokens=batch_tokens)
    finally:
        model.train(was_training)
    unit = emb.normalized()
    offs = emb.offsets

    def matrix(p):
        a, b = index[pairs.seq_a[p]], index[pairs.seq_b[p]]
        return unit[offs[a]:offs[a + 1]] @ unit[offs[b]:offs[b + 1]].T

    return _align_matrices_chunked(matrix, len(pairs), AlignParams("global", gap_open=gap_open,
                                                                    gap_extend=gap_extend))


def align_with_baseline(pairs: PairSet, match: float = BASELINE["match"], mismatch: float = BASELINE["mismatch"],
                        gap_open: float = BASELINE["gap_open"], gap_extend: float = BASELINE["gap_extend"]):
    """The same engine on a nucleotide match/mismatch matrix (ambiguous bases always mismatch)."""
    ids_a, ids_b = pairs.ids_a, pairs.ids_b

    def matrix(p):
        a, b = ids_a[p], ids_b[p]
        same = (a[:, None] == b[None, :]) & (a[:, None] >= 2)
        return np.where(same, np.float32(match), np.float32(mismatch))

    return _align_matrices_chunked(matrix, len(pairs), AlignParams("global", gap_open=gap_open,
                                                                    gap_extend=gap_extend))


def mafft_available() -> bool:
    return shutil.which("mafft") is not None


def align_with_mafft(pairs: PairSet, timeout: float = 120.0) -> Tuple[np.ndarray, np.ndarray, float]:
    """mafft G-INS-i (``--globalpair --maxiterate 1000``) on each pair: (offsets, path, seconds per pair)."""
    exe = shutil.which("mafft")
    if exe is None:
        raise RuntimeError("mafft is not installed (Debian: apt-get install mafft)")
    paths = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        fasta = os.path.join(tmp, "pair.fa")
        for p in range(len(pairs)):
            with open(fasta, "w") as fh:
                fh.write(f">a\n{pairs.seq_a[p]}\n>b\n{pairs.seq_b[p]}\n")
            res = subprocess.run([exe, "--globalpair", "--maxiterate", "1000", "--quiet", fasta],
                                 capture_output=True, text=True, timeout=timeout, check=True)
            rows = _parse_fasta_rows(res.stdout)
            paths.append(_pairs_of_rows(rows["a"], rows["b"]))
    per_pair = (time.perf_counter() - t0) / max(1, len(pairs))
    path, offs = concat_pairs(paths)
    return offs, path, per_pair


def _parse_fasta_rows(text: str) -> Dict[str, str]:
    rows: Dict[str, List[str]] = {}
    name = None
    for line in text.splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            rows[name] = []
        elif name is not None:
            rows[name].append(line.strip())
    return {k: "".join(v) for k, v in rows.items()}


def _pairs_of_rows(row_a: str, row_b: str) -> np.ndarray:
    """Residue pairs sharing a column of two gapped rows ('-' gaps)."""
    ma = np.frombuffer(row_a.encode("ascii"), dtype=np.uint8) != ord("-")
    mb = np.frombuffer(row_b.encode("ascii"), dtype=np.uint8) != ord("-")
    both = ma & mb
    return np.stack([(np.cumsum(ma) - 1)[both], (np.cumsum(mb) - 1)[both]], axis=1).astype(np.int64)


# -- metrics ------------------------------------------------------------------------------------

def counts(pairs: PairSet, offsets: np.ndarray, path: np.ndarray) -> Dict[str, np.ndarray]:
    """Per pair: tp, predicted, reference counts (int64 arrays, shape (m,))."""
    ref_path, ref_offs = concat_pairs(pairs.refs)
    tp = true_positives(path, offsets, ref_path, ref_offs)
    return {"tp": tp, "pred": np.diff(offsets).astype(np.int64), "ref": np.diff(ref_offs).astype(np.int64)}


def scores_of(tp, pred, ref) -> Dict[str, float]:
    """Micro-averaged PPV, sensitivity, F from summed counts (0 when undefined)."""
    tp, pred, ref = float(np.sum(tp)), float(np.sum(pred)), float(np.sum(ref))
    ppv = tp / pred if pred else 0.0
    sens = tp / ref if ref else 0.0
    f = 2 * ppv * sens / (ppv + sens) if ppv + sens else 0.0
    return {"f": f, "sens": sens, "ppv": ppv, "tp": int(tp), "pred": int(pred), "ref": int(ref)}


def summarize(c: Dict[str, np.ndarray], identity: np.ndarray) -> Dict[str, Dict[str, float]]:
    """Overall and per-identity-bin scores: {"all": {...}, "<40": {...}, ...}, each with ``n`` pairs."""
    out = {"all": {**scores_of(c["tp"], c["pred"], c["ref"]), "n": len(c["tp"])}}
    bins = identity_bin(identity)
    for k, label in enumerate(BIN_LABELS):
        sel = bins == k
        out[label] = {**scores_of(c["tp"][sel], c["pred"][sel], c["ref"][sel]), "n": int(sel.sum())}
    return out


def bootstrap_difference(c_a: Dict[str, np.ndarray], c_b: Dict[str, np.ndarray], identity: np.ndarray,
                         families: Sequence[str], n_boot: int = 2000, seed: int = 0,
                         level: float = 0.95) -> Dict[str, Dict[str, float]]:
    """F(a) − F(b) overall and per identity bin, with a family-level bootstrap interval.

    Pairs of one family are not independent (they share members and structure), so families are
    resampled with replacement, all of a family's pairs together, and both methods' micro-averaged F
    recomputed on each resample. Returns {column: {"diff", "lo", "hi", "p_le_0", "families"}}, where
    ``p_le_0`` is the fraction of resamples in which a does not beat b.
    """
    fam_names, fam_idx = np.unique(np.asarray(families), return_inverse=True)
    nf = len(fam_names)
    bins = identity_bin(identity)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(nf, np.full(nf, 1.0 / nf), size=n_boot).astype(np.float64)  # (B, nf)
    out = {}
    for label, sel in [("all", np.ones(len(bins), bool))] + [(lab, bins == k) for k, lab in enumerate(BIN_LABELS)]:
        if not sel.any():
            continue

        def f_of(c, w):
            sums = [np.bincount(fam_idx[sel], weights=c[key][sel], minlength=nf) for key in ("tp", "pred", "ref")]
            tp, pred, ref = (w @ x for x in sums)
            ppv = np.divide(tp, pred, out=np.zeros_like(tp), where=pred > 0)
            sens = np.divide(tp, ref, out=np.zeros_like(tp), where=ref > 0)
            return np.divide(2 * ppv * sens, ppv + sens, out=np.zeros_like(tp), where=ppv + sens > 0)

        ones = np.ones((1, nf))
        diff = float((f_of(c_a, ones) - f_of(c_b, ones))[0])
        boot = f_of(c_a, weights) - f_of(c_b, weights)
        # A resample can miss every family of a sparse bin: such draws carry no information on it.
        has = (weights @ np.bincount(fam_idx[sel], minlength=nf).astype(np.float64)) > 0
        boot = boot[has]
        alpha = (1.0 - level) / 2
        out[label] = {"diff": diff, "lo": float(np.quantile(boot, alpha)), "hi": float(np.quantile(boot, 1 - alpha)),
                      "p_le_0": float(np.mean(boot <= 0)), "families": int(len(np.unique(fam_idx[sel])))}
    return out


def format_difference(diff: Dict[str, Dict[str, float]], a: str = "rnabert", b: str = "baseline") -> str:
    """One line per column: the F difference, its bootstrap interval and how many families carry it."""
    lines = [f"F({a}) - F({b}), 95 % family-bootstrap interval:"]
    for label, d in diff.items():
        lines.append(f"  {label:>6}: {d['diff']:+.4f}  [{d['lo']:+.4f}, {d['hi']:+.4f}]  "
                     f"P(no gain) {d['p_le_0']:.3f}  ({d['families']} families)")
    return "\n".join(lines)


def model_f(model, pairs: PairSet) -> float:
    """Micro-averaged F of the model's alignments of ``pairs`` (the trainer's validation metric)."""
    offs, path = align_with_model(model, pairs)
    c = counts(pairs, offs, path)
    return scores_of(c["tp"], c["pred"], c["ref"])["f"]


def tune_baseline(pairs: PairSet, grid: Optional[Dict[str, Sequence[float]]] = None) -> List[Tuple[Dict, float]]:
    """Grid search of the baseline's mismatch and gap costs (match fixed at 1: only ratios matter).

    Run it on TRAINING families. Returns [(params, F)], best first.
    """
    grid = grid or BASELINE_GRID
    results = []
    for mm in grid["mismatch"]:
        for go in grid["gap_open"]:
            for ge in grid["gap_extend"]:
                params = {"match": 1.0, "mismatch": mm, "gap_open": go, "gap_extend": ge}
                offs, path = align_with_baseline(pairs, **params)
                c = counts(pairs, offs, path)
                results.append((params, scores_of(c["tp"], c["pred"], c["ref"])["f"]))
    results.sort(key=lambda r: -r[1])
    return results


def evaluate(pairs: PairSet, *, model=None, baseline: bool = True, random_init: bool = True,
             mafft: int = 0, seed: int = 0, device: str = "cpu", baseline_params: Optional[Dict] = None,
             log=print) -> Dict[str, Dict]:
    """Score every requested method on the same pairs: {method: summarize(...)}.

    ``baseline_params`` (match, mismatch, gap_open, gap_extend) default to :data:`BASELINE`.

    ``mafft`` > 0 runs mafft on that many pairs (a seeded random subset of the sample) and also
    reports the other methods on exactly those pairs, suffixed ``@mafft``.
    """
    identity = pairs.identity
    results: Dict[str, Dict] = {}
    per_pair: Dict[str, Dict[str, np.ndarray]] = {}
    if model is not None:
        t0 = time.perf_counter()
        per_pair["rnabert"] = counts(pairs, *align_with_model(model, pairs))
        log(f"rnabert: {len(pairs)} pairs in {time.perf_counter() - t0:.1f} s")
    if random_init:
        from .trainer import new_model

        net = new_model(seed=seed).to(device)
        per_pair["random-init"] = counts(pairs, *align_with_model(net, pairs))
    if baseline:
        per_pair["baseline"] = counts(pairs, *align_with_baseline(pairs, **(baseline_params or BASELINE)))
    for name, c in per_pair.items():
        results[name] = summarize(c, identity)
    if "rnabert" in per_pair and "baseline" in per_pair:
        # The paired comparison that says whether the gain over sequence alignment is more than noise.
        results["rnabert"]["vs_baseline"] = bootstrap_difference(per_pair["rnabert"], per_pair["baseline"],
                                                                 identity, pairs.family, seed=seed)
    if mafft > 0:
        if not mafft_available():
            log("mafft not found (apt-get install mafft): skipping the mafft comparison")
        else:
            n = min(mafft, len(pairs))
            # Random, not the first n: a sample can be ordered by family (identity-stratified sampling is).
            pick = np.sort(np.random.default_rng([seed, 7]).choice(len(pairs), size=n, replace=False))
            sub = subset(pairs, pick)
            offs, path, sec = align_with_mafft(sub)
            results["mafft G-INS-i"] = summarize(counts(sub, offs, path), identity[pick])
            results["mafft G-INS-i"]["all"]["sec_per_pair"] = sec
            log(f"mafft: {n} pairs, {sec:.3f} s per pair")
            for name, c in per_pair.items():
                results[f"{name}@mafft"] = summarize({k: v[pick] for k, v in c.items()}, identity[pick])
    return results


def format_table(results: Dict[str, Dict]) -> str:
    """A plain-text table: one row per method, F (sens/PPV) overall and per identity bin."""
    cols = ["all", *BIN_LABELS]
    head = f"{'method':<22}" + "".join(f"{c:>20}" for c in cols)
    any_res = next(iter(results.values()), None)
    lines = [head]
    if any_res is not None:
        lines.append(f"{'pairs':<22}" + "".join(f"{any_res[c]['n']:>20}" for c in cols))
    for name, res in results.items():
        cells = []
        for c in cols:
            r = res[c]
            cells.append(f"{r['f']:.3f} ({r['sens']:.2f}/{r['ppv']:.2f})" if r["n"] else "-")
        lines.append(f"{name:<22}" + "".join(f"{x:>20}" for x in cells))
    lines.append("cells: F (sensitivity/PPV), micro-averaged over pairs; bins: reference-alignment identity %")
    if "vs_baseline" in results.get("rnabert", {}):
        lines.append(format_difference(results["rnabert"]["vs_baseline"]))
    return "\n".join(lines)


def evaluate_alignment(data, weights=None, *, families: Optional[Iterable[str]] = None, max_pairs: Optional[int] = 1000,
                       pairs_per_family: int = 10, baseline: bool = True, random_init: bool = True, mafft: int = 0,
                       seed: int = 0, device: str = "auto", per_bin: Optional[int] = None,
                       log=print) -> Tuple[PairSet, Dict[str, Dict]]:
    """Sample pairs from reference alignments and score the model and the baselines on them.

    Parameters
    ----------
    data : path or list of paths
        Stockholm files (families) or aligned FASTA files (one family each).
    weights : path, RnaBert or None
        The model to evaluate; None uses the shipped weights when there are any (else no model column).
    families : accessions to keep (None: all).
    per_bin : sample up to this many pairs per family and identity bin (see :func:`sample_pairs`).

    Returns
    -------
    (PairSet, {method: summarize(...)}): print the second with :func:`format_table`.
    """
    from ..model.bert import RnaBert
    from ..model.checkpoint import DEFAULT_WEIGHTS, load_model
    from ..backends import resolve_device

    paths = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    pairs = sample_pairs(read_alignments(paths), families, pairs_per_family, max_pairs, seed, per_bin=per_bin)
    if not len(pairs):
        raise ValueError("no pairs to evaluate: no family (of those asked for) has two sequences sharing a column")
    dev = resolve_device(device)
    if isinstance(weights, RnaBert):
        model = weights.to(dev)
    elif weights is not None or DEFAULT_WEIGHTS.exists():
        model = load_model(weights, device=dev)
    else:
        model = None
        log("no trained weights (give weights=...): the model column is skipped")
    return pairs, evaluate(pairs, model=model, baseline=baseline, random_init=random_init, mafft=mafft, seed=seed,
                           device=str(dev), log=log)
