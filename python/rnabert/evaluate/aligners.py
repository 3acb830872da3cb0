"""The aligners compared by the evaluation: RNABERT through the engine users run, a sequence-only
baseline, and mafft G-INS-i. Each returns (path_offsets, path) in residue coordinates."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..alignment.engine import align_pairs, align_score_matrices
from ..alignment.params import AlignParams
from ..alignment.paths import concat_pairs, join_paths
from .pairs import PairSet

# Sequence-only baseline: match / mismatch scores and gaps tuned by `tune_baseline` on pairs of
# TRAINING families (see benchmarks/TRAINING_LOG.md for the grid and its F-values).
BASELINE = {"match": 1.0, "mismatch": -0.5, "gap_open": 4.0, "gap_extend": 0.25}
BASELINE_GRID = {
    "mismatch": (-0.25, -0.5, -1.0, -2.0),
    "gap_open": (1.0, 2.0, 4.0, 6.0, 8.0, 12.0),
    "gap_extend": (0.1, 0.25, 0.5, 1.0),
}
MODEL_GAPS = {"gap_open": 1.0, "gap_extend": 0.1}  # the original RNABERT's alignment gaps


def align_with_model(
    model,
    pairs: PairSet,
    gap_open: float = MODEL_GAPS["gap_open"],
    gap_extend: float = MODEL_GAPS["gap_extend"],
    batch_tokens: Optional[int] = None,
):
    """Global alignment of the model's embeddings (the original RNABERT's aligner), each distinct
    sequence embedded once, all pairs in one call of the fused engine (as
    ``rnabert.align_many``)."""
    from ..model.inference import embed_records
    from ..seqs import SeqRecord

    was_training = model.training
    model.eval()
    try:
        seqs = sorted(set(pairs.seq_a) | set(pairs.seq_b))
        index = {s: k for k, s in enumerate(seqs)}
        emb = embed_records(
            model, [SeqRecord(f"s{k}", s) for k, s in enumerate(seqs)], batch_tokens=batch_tokens
        )
    finally:
        model.train(was_training)
    idx = np.array([[index[a], index[b]] for a, b in zip(pairs.seq_a, pairs.seq_b)], dtype=np.int64)
    params = AlignParams("global", gap_open=gap_open, gap_extend=gap_extend)
    _, offsets, path = align_pairs(emb, idx.reshape(-1, 2), params)
    return offsets, path.astype(np.int64)


def _align_matrices_chunked(make_matrix, m: int, params: AlignParams, chunk: int = 256):
    parts = []
    for s in range(0, m, chunk):
        mats = [make_matrix(p) for p in range(s, min(m, s + chunk))]
        parts.append(align_score_matrices(mats, params))
    if not parts:
        return np.zeros(1, np.int64), np.zeros((0, 2), np.int64)
    _, offsets, path = join_paths(parts)
    return offsets, path.astype(np.int64)


def align_with_baseline(
    pairs: PairSet,
    match: float = BASELINE["match"],
    mismatch: float = BASELINE["mismatch"],
    gap_open: float = BASELINE["gap_open"],
    gap_extend: float = BASELINE["gap_extend"],
):
    """The same engine on a nucleotide match/mismatch matrix (ambiguous bases always mismatch)."""
    ids_a, ids_b = pairs.ids_a, pairs.ids_b

    def matrix(p):
        a, b = ids_a[p], ids_b[p]
        same = (a[:, None] == b[None, :]) & (a[:, None] >= 2)
        return np.where(same, np.float32(match), np.float32(mismatch))

    return _align_matrices_chunked(
        matrix, len(pairs), AlignParams("global", gap_open=gap_open, gap_extend=gap_extend)
    )


def mafft_available() -> bool:
    return shutil.which("mafft") is not None


def align_with_mafft(
    pairs: PairSet, timeout: float = 120.0
) -> Tuple[np.ndarray, np.ndarray, float]:
    """mafft G-INS-i (``--globalpair --maxiterate 1000``) on each pair: (offsets, path, seconds per
    pair)."""
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
            res = subprocess.run(
                [exe, "--globalpair", "--maxiterate", "1000", "--quiet", fasta],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=True,
            )
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
