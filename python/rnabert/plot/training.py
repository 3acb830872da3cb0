"""Learning curves of a training run from its ``metrics.jsonl`` (one JSON object per logged step):
MLM loss and accuracy, SAL loss, validation F and the learning rate."""

from __future__ import annotations

import json
import pathlib
from typing import Dict, List, Optional

from ._figure import pyplot, save

PANELS = (
    ("mlm_loss", "MLM loss"),
    ("mlm_acc", "MLM accuracy"),
    ("sal_loss", "SAL hinge loss"),
    ("val_f", "validation F"),
    ("lr", "learning rate"),
)


def read_metrics(path) -> List[Dict]:
    """The logged rows of a metrics.jsonl, in file order."""
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def training_curves(metrics_path, path=None, *, title: Optional[str] = None) -> pathlib.Path:
    """Draw a run's learning curves, one panel per logged quantity.

    Parameters
    ----------
    metrics_path : str or path
        The run's ``metrics.jsonl``.
    path : str or path, optional
        ``.png``, ``.svg``, ``.pdf`` or ``.html`` (default: ``curves.png`` beside the metrics).

    Returns
    -------
    pathlib.Path
    """
    rows = read_metrics(metrics_path)
    out = pathlib.Path(path) if path else pathlib.Path(metrics_path).with_name("curves.png")
    plt = pyplot()
    fig, axes = plt.subplots(1, len(PANELS), figsize=(3.6 * len(PANELS), 3.2))
    for ax, (key, name) in zip(axes, PANELS):
        pts = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
        if pts:
            # validation F is sparse: markers show where it was measured
            ax.plot(*zip(*pts), marker="o" if key == "val_f" else None, markersize=3)
        else:
            ax.text(
                0.5,
                0.5,
                "not logged",
                ha="center",
                va="center",
                color="#888888",
                transform=ax.transAxes,
            )
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return save(fig, out, title=title or "training curves")
