"""Pre-training of RNABERT (masked-language modelling + Structural Alignment Learning). Imports
torch on first use of :func:`train`.

(The alignment evaluation moved to :mod:`rnabert.evaluate`, ``new_model`` to :mod:`rnabert.model`;
the old names here still work, with a DeprecationWarning.)
"""

import importlib

from .._deprecated import moved_names

__all__ = ["TrainConfig", "train"]

_moved = moved_names(
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


def __getattr__(name: str):
    # trainer imports torch: load it on first use, so that the command line stays quick
    if name == "train":
        return importlib.import_module(".trainer", __name__).train
    if name == "TrainConfig":
        return importlib.import_module(".config", __name__).TrainConfig
    return _moved(name)
