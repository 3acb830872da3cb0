"""Training curves (MLM loss and accuracy, SAL loss, validation F, learning rate) from metrics.jsonl
to PNG."""

from __future__ import annotations

import json
import pathlib
from typing import Dict, List, Optional


def read_metrics(path) -> List[Dict]:
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def plot_metrics(metrics_path, png_path=None) -> Optional[pathlib.Path]:
    """Draw the curves of a run's metrics.jsonl; returns the PNG path, or None without matplotlib.

    matplotlib is an optional dependency: without it this prints nothing and draws nothing.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = read_metrics(metrics_path)
    png = pathlib.Path(png_path) if png_path else pathlib.Path(metrics_path).with_name("curves.png")
    panels = [
        ("mlm_loss", "MLM loss"),
        ("mlm_acc", "MLM accuracy"),
        ("sal_loss", "SAL hinge loss"),
        ("val_f", "validation F"),
        ("lr", "learning rate"),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2))
    for ax, (key, title) in zip(axes, panels):
        pts = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
        if pts:
            ax.plot(*zip(*pts), marker="o" if key == "val_f" else None, markersize=3)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png


if __name__ == "__main__":  # deprecated: `rnabert plot-metrics METRICS [PNG]`
    import sys

    from .._deprecated import warn_moved
    from ..cli import main as cli_main

    warn_moved("python -m rnabert.train.plot", "rnabert plot-metrics", stacklevel=2)
    sys.exit(cli_main(["plot-metrics", *sys.argv[1:]]))
