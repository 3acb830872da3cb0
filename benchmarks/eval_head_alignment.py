"""Does the homology head align as well as the cosine scoring? Alignment F on the same pairs.

    python benchmarks/eval_head_alignment.py [--per-bin 20]

Pairs are the identity-stratified sample of `eval_alignment.py` (validation families). Columns:
the shipped cosine scoring in global mode (what `rnabert.align` uses), and the homology head's
vectors in global mode (its scale 3; bias 0 and the cosine's gap costs scaled by 3, so only the
vectors differ) and in its own local mode (what `score="bits"` aligns with). F over aligned bases,
as in the RNABERT paper.
"""

from __future__ import annotations

import argparse

import numpy as np

import rnabert
from rnabert.alignment.engine import align_pairs
from rnabert.alignment.heads import load_homology_head
from rnabert.alignment.params import AlignParams
from rnabert.evaluate.pairs import read_alignments, sample_pairs
from rnabert.evaluate.stats import counts, summarize
from rnabert.train.data import read_validation_file


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default="../shared/data/rfam14.2-seed/Rfam14.2.seed.train.gz")
    ap.add_argument("--per-bin", type=int, default=20)
    args = ap.parse_args()
    pairs = sample_pairs(
        read_alignments([args.data]), read_validation_file(), 10, 100000, 0, per_bin=args.per_bin
    )
    seqs = sorted(set(pairs.seq_a) | set(pairs.seq_b))
    index = {s: k for k, s in enumerate(seqs)}
    emb = rnabert.embed(
        [(f"s{k}", s) for k, s in enumerate(seqs)], model=rnabert.load_model(), device="cpu"
    )
    idx = np.array([[index[a], index[b]] for a, b in zip(pairs.seq_a, pairs.seq_b)], dtype=np.int64)
    head = load_homology_head()
    vec = head.vectors(emb)
    methods = {
        "cosine, global 1.0/0.1 (rnabert.align)": (
            emb,
            AlignParams("global", gap_open=1.0, gap_extend=0.1),
        ),
        "head vectors, global 3.0/0.3": (
            vec,
            AlignParams("global", scale=3.0, gap_open=3.0, gap_extend=0.3),
        ),
        "head vectors, its local scoring": (vec, head.params),
    }
    print(f"{len(pairs)} pairs")
    print("| method | all | <40 | 40–55 | 55–70 | 70–85 | ≥85 |\n|---|---|---|---|---|---|---|")
    for name, (e, p) in methods.items():
        _, offsets, path = align_pairs(e, idx, p)
        s = summarize(counts(pairs, offsets, np.asarray(path, dtype=np.int64)), pairs.identity)
        print(f"| {name} | " + " | ".join(f"{s[k]['f']:.3f}" for k in s) + " |", flush=True)


if __name__ == "__main__":
    main()
