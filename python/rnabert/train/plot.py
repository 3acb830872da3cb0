"""Deprecated home of the training curves: they are drawn by :mod:`rnabert.plot.training`.

Kept because the trainer draws ``curves.png`` at the end of a run through :func:`plot_metrics`,
which (unlike the new function) returns None instead of raising when matplotlib is missing: a run
must not fail for want of a picture.
"""

from __future__ import annotations

import pathlib
from typing import Optional

from ..plot.training import read_metrics, training_curves

__all__ = ["plot_metrics", "read_metrics"]


def plot_metrics(metrics_path, png_path=None) -> Optional[pathlib.Path]:
    """:func:`rnabert.plot.training.training_curves`, or None without matplotlib."""
    try:
        return training_curves(metrics_path, png_path)
    except ImportError:
        return None


if __name__ == "__main__":  # deprecated: `rnabert plot-metrics METRICS [PNG]`
    import sys

    from .._deprecated import warn_moved
    from ..cli import main as cli_main

    warn_moved("python -m rnabert.train.plot", "rnabert plot-metrics", stacklevel=2)
    sys.exit(cli_main(["plot-metrics", *sys.argv[1:]]))
