"""Pre-training of RNABERT (masked-language modelling + Structural Alignment Learning) and
alignment-accuracy evaluation. Imports torch."""

from .evaluate import PairSet, evaluate_alignment, format_table, sample_pairs, tune_baseline
from .trainer import TrainConfig, new_model, train

__all__ = ["TrainConfig", "train", "new_model", "PairSet", "evaluate_alignment", "format_table", "sample_pairs",
           "tune_baseline"]
