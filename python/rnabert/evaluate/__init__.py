"""Benchmarks of the package's workflows against peers, on reference data held out from training.

- :mod:`.alignment`: pairwise alignment accuracy (F, sensitivity, PPV) against reference alignments,
  RNABERT side by side with a sequence-only baseline, the untrained encoder and mafft;
- :mod:`.pairs` (sampling and identity bins), :mod:`.aligners`, :mod:`.stats` (metrics, bootstrap),
  :mod:`.tables`: its parts, for the other benchmarks (homology, clustering) to reuse.
"""

from .alignment import evaluate, evaluate_alignment, model_f, tune_baseline
from .pairs import PairSet, sample_pairs
from .tables import format_table

__all__ = [
    "PairSet",
    "evaluate",
    "evaluate_alignment",
    "format_table",
    "model_f",
    "sample_pairs",
    "tune_baseline",
]
