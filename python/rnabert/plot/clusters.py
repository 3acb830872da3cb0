"""Pictures of a clustering (``rnabert cluster``): cluster sizes, how strongly members score
against their representative, and, for a small input with its pair scores, a dendrogram."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ._figure import pyplot, save
from .embedding import OTHER_COLOUR, palette

MAX_BARS = 40  # clusters drawn one by one in the size and cohesion panels
DENDROGRAM_MAX = 120  # leaves a dendrogram can label legibly


def cluster_figure(
    clusters,
    path,
    *,
    similarity: Optional[np.ndarray] = None,
    title: Optional[str] = None,
):
    """Draw a clustering: sizes, each member's significance to its representative and (optionally)
    a dendrogram.

    Parameters
    ----------
    clusters : Clusters
        From ``rnabert.cluster`` (labels 0..C-1, 0 the largest; each member's E-value against its
        cluster's representative, drawn as significance, −log2 E, the clustering's scale).
    path : str or path
        ``.png``, ``.svg``, ``.pdf`` or ``.html``.
    similarity : float array, shape (n, n), optional
        Pair significance in bits, what the clustering thresholds on (:func:`significance_matrix`
        of ``align_many(seqs, score="bits")``); with at most 120 sequences a third panel shows
        its average-linkage dendrogram (needs scipy), leaves coloured by cluster, with the
        clustering threshold marked.

    Returns
    -------
    pathlib.Path
    """
    labels = np.asarray(clusters.labels, dtype=np.int64)
    n = len(labels)
    if n == 0:
        raise ValueError("the clustering is empty: nothing to draw")
    # significance (-log2 of the pair's own E-value) is what the threshold applies to
    sig = -np.log2(np.maximum(np.asarray(clusters.evalue, dtype=np.float64), 1e-300))
    reps = np.asarray(clusters.representative, dtype=np.int64)
    sizes = np.bincount(labels)
    order = np.argsort(-sizes, kind="stable")  # cluster ids, largest first
    dendro = similarity is not None and n <= DENDROGRAM_MAX
    if similarity is not None and np.shape(similarity) != (n, n):
        raise ValueError(f"similarity must have shape ({n}, {n}), got {np.shape(similarity)}")
    plt = pyplot()
    ncols = 3 if dendro else 2
    fig, axes = plt.subplots(
        1,
        ncols,
        # a dendrogram needs about 0.11 inch per leaf for its labels to be read
        figsize=(5.2 * ncols, max(4.2, 0.11 * n + 1.0) if dendro else 4.2),
        gridspec_kw={"width_ratios": [1, 1, 1.4][:ncols]},
    )
    shown = order[:MAX_BARS]
    colours = palette(plt, min(len(shown), 20))
    colour_of = {
        int(c): colours[k % len(colours)] if sizes[c] > 1 else OTHER_COLOUR
        for k, c in enumerate(shown)
    }

    ax = axes[0]
    x = np.arange(len(shown))
    ax.bar(x, sizes[shown], color=[colour_of[int(c)] for c in shown], width=0.8)
    ax.set_xticks(x)
    ax.set_xticklabels([str(int(c)) for c in shown], fontsize=7, rotation=90 if len(x) > 20 else 0)
    ax.set_xlabel("cluster (largest first)")
    ax.set_ylabel("sequences")
    if sizes.max() >= 50 * max(1, int(np.median(sizes))):
        ax.set_yscale("log")
    singletons = int((sizes == 1).sum())
    more = f"; {len(sizes) - len(shown)} more not shown" if len(sizes) > len(shown) else ""
    ax.set_title(f"{len(sizes)} clusters, {singletons} singletons{more}", fontsize=10)
    ax.grid(axis="y", alpha=0.3)

    ax = axes[1]
    members = np.arange(n) != reps  # a representative's own bits are its self-score
    rng = np.random.default_rng(0)  # jitter only, fixed so that pictures are reproducible
    for k, c in enumerate(shown):
        sel = (labels == c) & members
        if not sel.any():
            continue
        xs = k + rng.uniform(-0.25, 0.25, int(sel.sum()))
        ax.scatter(xs, sig[sel], s=10, color=colour_of[int(c)], alpha=0.8, edgecolors="none")
    if np.isfinite(clusters.threshold):
        ax.axhline(
            clusters.threshold,
            color="#444444",
            linestyle="--",
            linewidth=1,
            label=f"threshold {clusters.threshold:g} bits",
        )
        ax.legend(fontsize=8, loc="best")
    ax.set_xticks(x)
    ax.set_xticklabels([str(int(c)) for c in shown], fontsize=7, rotation=90 if len(x) > 20 else 0)
    ax.set_xlim(-0.7, max(len(shown), 1) - 0.3)
    ax.set_xlabel("cluster")
    ax.set_ylabel("significance to the representative (bits)")
    ax.set_title("members against their representative", fontsize=10)
    ax.grid(axis="y", alpha=0.3)

    if dendro:
        _dendrogram(axes[2], np.asarray(similarity, dtype=np.float64), clusters, colour_of)
    method = f" ({clusters.method})" if getattr(clusters, "method", "") else ""
    fig.suptitle(title or f"{n} sequences clustered{method}", fontsize=11)
    fig.tight_layout()
    return save(fig, path, title=title or "clusters")


def significance_matrix(scores) -> np.ndarray:
    """Pair significance (−log2 of each pair's own E-value, in bits) of an all-vs-all
    ``align_many(seqs, score="bits")`` as a dense symmetric float64 matrix (n, n)."""
    n = len(scores.names)
    out = np.full((n, n), np.nan)
    sig = -np.log2(np.maximum(scores.evalue(), 1e-300))
    out[scores.i, scores.j] = sig
    out[scores.j, scores.i] = sig
    return out


def _dendrogram(ax, sim: np.ndarray, clusters, colour_of) -> None:
    """Average linkage of the bits as heights (top - similarity), leaves coloured by cluster."""
    try:
        from scipy.cluster.hierarchy import dendrogram, linkage
        from scipy.spatial.distance import squareform
    except ImportError:
        raise ImportError("a dendrogram needs scipy: pip install rnabert[cluster]") from None
    n = len(sim)
    labels = np.asarray(clusters.labels)
    sym = np.minimum(sim, sim.T)
    finite = sym[np.isfinite(sym)]
    top = float(finite.max()) + 1.0 if finite.size else 1.0
    dist = top - np.clip(np.nan_to_num(sym, nan=0.0, neginf=0.0, posinf=top), None, top)
    np.fill_diagonal(dist, 0.0)
    if n < 2:
        ax.text(0.5, 0.5, "one sequence", ha="center", va="center", transform=ax.transAxes)
        ax.axis("off")
        return
    z = linkage(squareform(dist, checks=False), method="average")
    leaf_names = [str(nm) for nm in clusters.names]
    d = dendrogram(
        z,
        ax=ax,
        orientation="left",
        labels=leaf_names,
        color_threshold=0,
        above_threshold_color="#555555",
        leaf_font_size=max(4, min(8, 400 // n)),
    )
    for tick, leaf in zip(ax.get_yticklabels(), d["leaves"]):
        tick.set_color(colour_of.get(int(labels[leaf]), OTHER_COLOUR))
    if np.isfinite(clusters.threshold):
        ax.axvline(top - clusters.threshold, color="#444444", linestyle="--", linewidth=1)
    # heights are top - bits: relabel the axis in bits so that the threshold reads as given
    height = float(z[:, 2].max()) * 1.03 if len(z) else 1.0
    ax.set_xlim(height, 0.0)  # leaves (their own bits) on the right, as scipy draws them
    ticks = [t for t in ax.get_xticks() if 0.0 <= t <= height]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{top - t:.0f}" for t in ticks], fontsize=7)
    ax.set_xlabel("mean pair significance between the joined groups (bits)")
    ax.set_title("average-linkage dendrogram", fontsize=10)
