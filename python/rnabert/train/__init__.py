"""Pre-training of RNABERT (masked-language modelling + Structural Alignment Learning). Imports
torch.

(The alignment evaluation moved to :mod:`rnabert.evaluate`, ``new_model`` to :mod:`rnabert.model`;
the old
names here still work, with a DeprecationWarning.)
"""

from .._deprecated import moved_names
from .trainer import TrainConfig, train

__all__ = ["TrainConfig", "train"]

__getattr__ = moved_names(
    __name__,
    {
        "new_model": "rnabert.model",
        "PairSet": "rnabert.evaluate",
        "evaluate_alignment": "rnabert.evaluate",
        "format_table": "rnabert.evaluate",
        "sample_pairs": "rnabert.evaluate",
        "tune_baseline": "rnabert.evaluate",
    },
)
