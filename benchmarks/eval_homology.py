"""Homology evaluation on the held-out validation families, every method side by side in one run.

    python benchmarks/eval_homology.py [--json out.json]   # = rnabert evaluate-homology
    python benchmarks/eval_homology.py --no-peers --no-comparisons   # the homology head alone

Methods: the shipped homology head (score="bits"); the shipped encoder's plain cosine in local mode
(the scoring before the head); a sequence-only Smith-Waterman (+2/−3, gaps 5 + 2k) through the same
engine; blastn -task blastn -word_size 7 and nhmmer (skipped with a message where not installed).
See :func:`rnabert.evaluate.homology.evaluate_homology_on_rfam`.
"""

from __future__ import annotations

import sys

from rnabert.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate-homology", *sys.argv[1:]]))
