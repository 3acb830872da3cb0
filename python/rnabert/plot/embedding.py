"""A 2-D map of pooled embeddings (PCA, or UMAP when installed), one colour per label or cluster."""

from __future__ import annotations

from collections import Counter
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ._figure import pyplot, save

OTHER = "other"
OTHER_COLOUR = "#b0b0b0"
MAX_COLOURED = 20  # labels drawn in their own colour; the rest share grey ("other")


def project_2d(
    vectors: np.ndarray, method: str = "pca", seed: int = 0
) -> Tuple[np.ndarray, Tuple[str, str]]:
    """(n, 2) coordinates and the two axis names of a 2-D projection of ``vectors`` (n, d)."""
    x = np.asarray(vectors, dtype=np.float64)
    if method == "umap":
        try:
            import umap
        except ImportError:
            raise ImportError("method='umap' needs umap-learn: pip install umap-learn") from None
        if len(x) < 4:  # UMAP needs a few neighbours; a tiny set is shown by PCA
            return project_2d(x, "pca")
        xy = umap.UMAP(n_components=2, random_state=seed, n_neighbors=min(15, len(x) - 1))
        return xy.fit_transform(x), ("UMAP 1", "UMAP 2")
    if method != "pca":
        raise ValueError(f"method must be 'pca' or 'umap', got {method!r}")
    centred = x - x.mean(axis=0) if len(x) else x
    out = np.zeros((len(x), 2))
    if len(x) > 1 and x.shape[1] > 0:
        u, s, _ = np.linalg.svd(centred, full_matrices=False)
        k = min(2, len(s))
        out[:, :k] = u[:, :k] * s[:k]
        share = (s**2) / max(float((s**2).sum()), 1e-300)
        return out, (
            "PC1 ({:.0%})".format(share[0]),
            "PC2 ({:.0%})".format(share[1] if k > 1 else 0),
        )
    return out, ("PC1", "PC2")


def palette(plt, n: int) -> list:
    """Distinct colours without greys (grey means "other"): tab10 for a few, tab20 and some of
    tab20b for more."""
    if n <= 9:
        return [c for k, c in enumerate(plt.get_cmap("tab10").colors) if k != 7]
    tab20 = [c for k, c in enumerate(plt.get_cmap("tab20").colors) if k not in (14, 15)]
    return tab20 + [plt.get_cmap("tab20b").colors[k] for k in (0, 4, 8, 12, 16)]


def _grouped(labels: Sequence[str], max_coloured: int) -> Tuple[List[str], np.ndarray, bool]:
    """The labels drawn in their own colour (most frequent first, ties by first appearance), each
    point's index into them, and whether the rest were put in a last "other" group."""
    counts = Counter(labels)
    first = {lab: k for k, lab in reversed(list(enumerate(labels)))}
    ranked = sorted(counts, key=lambda lab: (-counts[lab], first[lab]))
    if len(ranked) > max_coloured:
        shown = ranked[: max_coloured - 1]
        names = shown + [OTHER]
    else:
        names = ranked
    index = {lab: k for k, lab in enumerate(names)}
    other = len(names) - 1
    grouped = np.array([index.get(lab, other) for lab in labels], dtype=np.int64)
    return names, grouped, len(ranked) > max_coloured


def embedding_map(
    vectors,
    labels: Sequence[str],
    path,
    *,
    title: Optional[str] = None,
    method: str = "pca",
    max_labels: int = MAX_COLOURED,
):
    """Draw pooled embeddings on a 2-D map coloured by label (RNA class, family or cluster).

    Parameters
    ----------
    vectors : float array, shape (n, d), or Embeddings
        One vector per sequence (for Embeddings, the mean over its bases, ``emb.pooled()``).
    labels : sequence of str (or int), length n
        Each sequence's label or cluster. The ``max_labels - 1`` most frequent are drawn in their
        own colour (with their counts in the legend) and the rest together as grey "other", so
        a clustering with thousands of singletons stays readable.
    path : str or path
        ``.png``, ``.svg``, ``.pdf`` or ``.html`` (one self-contained page).
    method : {"pca", "umap"}
        PCA (default, exact and deterministic) or UMAP (needs umap-learn).

    Returns
    -------
    pathlib.Path
    """
    if hasattr(vectors, "pooled") and callable(vectors.pooled):
        vectors = vectors.pooled()
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"vectors must have shape (n, d), got {x.shape}")
    labels = [str(lab) for lab in labels]
    if len(labels) != len(x):
        raise ValueError(f"{len(x)} vectors but {len(labels)} labels")
    if max_labels < 2:
        raise ValueError(f"max_labels must be at least 2, got {max_labels}")
    plt = pyplot()
    xy, axes = project_2d(x, method)
    names, group, has_other = _grouped(labels, max_labels)
    counts = np.bincount(group, minlength=len(names))
    colours = palette(plt, len(names))

    fig, ax = plt.subplots(figsize=(7.5 if len(names) > 1 else 6, 5.5))
    size = float(np.clip(4000 / max(len(x), 1), 6, 60))
    # "other" first so that the named groups are drawn on top of it
    order = ([len(names) - 1] if has_other else []) + list(range(len(names) - has_other))
    for g in order:
        sel = group == g
        other = has_other and g == len(names) - 1
        colour = OTHER_COLOUR if other else colours[g % len(colours)]
        label = f"{names[g]} ({counts[g]})"
        if other:
            label = f"{OTHER}: {len(set(labels)) - (len(names) - 1)} labels ({counts[g]})"
        ax.scatter(
            xy[sel, 0],
            xy[sel, 1],
            s=size,
            color=colour,
            label=label,
            alpha=0.8,
            edgecolors="none",
            zorder=1 if other else 2,
        )
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.set_title(title or f"{len(x)} sequences, {len(set(labels))} labels")
    ax.grid(alpha=0.25)
    handles, texts = ax.get_legend_handles_labels()
    # legend in the order of size (the plotting order put "other" first)
    legend_order = sorted(range(len(texts)), key=lambda k: order[k])
    ax.legend(
        [handles[k] for k in legend_order],
        [texts[k] for k in legend_order],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
        markerscale=max(1.0, 30 / size) ** 0.5,
    )
    return save(fig, path, title=title or "embedding map")
