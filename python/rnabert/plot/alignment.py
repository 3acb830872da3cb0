"""Pictures of one pairwise alignment: the two gapped rows with matched bases shaded by embedding
similarity and base pairs marked, and the per-base similarity matrix with the DP path on it."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._figure import pyplot, save
from .structure import as_pair_table

GAP = "-"
_CANONICAL = {"AU", "UA", "GC", "CG", "GU", "UG"}
# how a base pair of one sequence fares in the other (structure-row colours)
KEPT, COMPATIBLE, NOT_KEPT, CANNOT_PAIR, UNALIGNED = 1, 2, 3, 4, 5
STATUS_COLOURS = {
    KEPT: "#1a9850",
    COMPATIBLE: "#1a9850",
    NOT_KEPT: "#d73027",
    CANNOT_PAIR: "#d73027",
    UNALIGNED: "#8c8c8c",
}
STATUS_NAMES = {
    KEPT: "pair kept in the other structure",
    COMPATIBLE: "aligned bases can pair (AU, GC, GU)",
    NOT_KEPT: "pair not in the other structure",
    CANNOT_PAIR: "aligned bases cannot pair",
    UNALIGNED: "partner not aligned",
}
CMAP = "YlGnBu"


def cosine_per_pair(emb_a, emb_b, pairs: np.ndarray) -> np.ndarray:
    """Cosine similarity of the per-base vectors of each aligned pair: float64 (k,)."""
    a = np.asarray(emb_a, dtype=np.float64)[pairs[:, 0]]
    b = np.asarray(emb_b, dtype=np.float64)[pairs[:, 1]]
    norm = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return (a * b).sum(axis=1) / np.maximum(norm, 1e-12)


def cosine_matrix(emb_a, emb_b) -> np.ndarray:
    """All-pairs cosine of two per-base blocks: float32 (len_a, len_b)."""
    a = np.asarray(emb_a, dtype=np.float32)
    b = np.asarray(emb_b, dtype=np.float32)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def _fold_letter(c: str) -> str:
    c = c.upper()
    return "U" if c == "T" else c


@dataclass
class _Columns:
    """An alignment laid out column by column for drawing."""

    row_a: str
    row_b: str
    res_a: np.ndarray  # residue of A in each column, -1 for a gap
    res_b: np.ndarray
    sim: np.ndarray  # similarity of matched columns, NaN elsewhere
    ss_a: Optional[str]  # structure characters of A per column ("" where A has a gap)
    ss_b: Optional[str]
    status_a: np.ndarray  # pair status of A's base in each column (0: unpaired or no structure)
    status_b: np.ndarray


def _residues(row: str, start: int) -> np.ndarray:
    has = np.frombuffer(row.encode("ascii"), dtype=np.uint8) != ord(GAP)
    res = np.cumsum(has) - 1 + start
    return np.where(has, res, -1).astype(np.int64)


def _status(partner, other_partner, res_self, res_other, letters_other) -> np.ndarray:
    """Per column: how the pair of this sequence's base fares through the alignment."""
    out = np.zeros(len(res_self), dtype=np.int8)
    if partner is None:
        return out
    # the other sequence's residue aligned to each residue of this one (-1: none)
    size = max(int(res_self.max()) + 1 if len(res_self) else 0, len(partner))
    mate = np.full(size, -1, dtype=np.int64)
    both = (res_self >= 0) & (res_other >= 0)
    mate[res_self[both]] = res_other[both]
    for col in np.flatnonzero(res_self >= 0):
        i = res_self[col]
        p = partner[i]
        if p < 0:
            continue
        j, q = mate[i], mate[p]
        if j < 0 or q < 0:
            out[col] = UNALIGNED
        elif other_partner is not None:
            out[col] = KEPT if other_partner[j] == q else NOT_KEPT
        elif letters_other is not None:
            pair = _fold_letter(letters_other[j]) + _fold_letter(letters_other[q])
            out[col] = COMPATIBLE if pair in _CANONICAL else CANNOT_PAIR
        else:
            out[col] = UNALIGNED
    return out


def _layout(aln, emb_a, emb_b, similarity, structure_a, structure_b) -> _Columns:
    row_a, row_b = aln.gapped_a, aln.gapped_b
    res_a, res_b = _residues(row_a, aln.start_a), _residues(row_b, aln.start_b)
    matched = (res_a >= 0) & (res_b >= 0)
    sim = np.full(len(row_a), np.nan)
    if similarity is not None:
        values = np.asarray(similarity, dtype=np.float64).reshape(-1)
        if values.shape[0] != aln.n_aligned:
            raise ValueError(
                f"similarity has {values.shape[0]} values but the alignment {aln.n_aligned} pairs"
            )
        sim[matched] = values
    elif emb_a is not None and emb_b is not None:
        for what, emb, n in (("emb_a", emb_a, aln.len_a), ("emb_b", emb_b, aln.len_b)):
            if np.shape(emb)[0] != n:
                raise ValueError(f"{what} has {np.shape(emb)[0]} rows but the sequence {n} bases")
        sim[matched] = cosine_per_pair(emb_a, emb_b, aln.pairs)
    pa = as_pair_table(structure_a, aln.len_a, "structure_a")
    pb = as_pair_table(structure_b, aln.len_b, "structure_b")
    sa = structure_a if isinstance(structure_a, str) else _brackets(pa)
    sb = structure_b if isinstance(structure_b, str) else _brackets(pb)
    return _Columns(
        row_a,
        row_b,
        res_a,
        res_b,
        sim,
        None if sa is None else "".join(sa[i] if i >= 0 else " " for i in res_a),
        None if sb is None else "".join(sb[j] if j >= 0 else " " for j in res_b),
        _status(pa, pb, res_a, res_b, aln.seq_b),
        _status(pb, pa, res_b, res_a, aln.seq_a),
    )


def _brackets(partner) -> Optional[str]:
    if partner is None:
        return None
    return "".join("." if p < 0 else ("(" if p > i else ")") for i, p in enumerate(partner))


def _sim_range(sim: np.ndarray):
    """Colour range: cosines on [0, 1] (or down to their minimum when negative), other scores on
    their own range."""
    finite = sim[np.isfinite(sim)]
    if not finite.size:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if -1.0 - 1e-6 <= lo and hi <= 1.0 + 1e-6:
        return min(0.0, lo), 1.0
    return lo, hi if hi > lo else lo + 1.0


def _title(aln, title):
    if title:
        return title
    ident = "" if np.isnan(aln.identity) else f", identity {aln.identity:.0%}"
    return (
        f"{aln.name_a} vs {aln.name_b}: {aln.mode}, score {aln.score:.2f}, "
        f"{aln.n_aligned} aligned{ident}"
    )


def alignment_figure(
    alignment,
    path,
    *,
    emb_a=None,
    emb_b=None,
    similarity=None,
    structure_a=None,
    structure_b=None,
    offset_a: int = 0,
    offset_b: int = 0,
    width: int = 60,
    title: Optional[str] = None,
    similarity_label: str = "cosine of the per-base embeddings",
):
    """Draw a pairwise alignment: the gapped rows, matched bases shaded by similarity, base pairs.

    Parameters
    ----------
    alignment : Alignment
        From ``rnabert.align`` or ``align_many(..., traceback=True).alignments[k]``; A is drawn
        above B.
    path : str or path
        ``.png``, ``.svg``, ``.pdf``, or ``.html``: the figure and the alignment as coloured text
        (each matched base carries its similarity as a tooltip).
    emb_a, emb_b : float arrays, shapes (len_a, D) and (len_b, D), optional
        Per-base embeddings of A and B (``emb[k]`` of an Embeddings block); matched columns are
        shaded by the cosine of the two bases' vectors.
    similarity : float array, shape (n_aligned,), optional
        The shade of each aligned pair, given directly (instead of emb_a/emb_b).
    structure_a, structure_b : str (dot-bracket or WUSS) or int array of partners, optional
        Secondary structures over the whole of A and B (see
        :func:`rnabert.plot.structure.member_structure` for a Stockholm ``SS_cons``,
        :func:`rnabert.plot.structure.fold` to predict one). Each base pair is drawn in green when
        the aligned bases of the other sequence keep it (pair in its structure, or, without one,
        bases that can pair: AU, GC, GU), red when they cannot, grey when its partner is not
        aligned.
    offset_a, offset_b : int
        Added to the coordinates printed at the line ends (e.g. where a database segment starts
        in its target).
    width : int
        Columns per line.

    Returns
    -------
    pathlib.Path
    """
    if width < 10:
        raise ValueError(f"width must be at least 10, got {width}")
    cols = _layout(alignment, emb_a, emb_b, similarity, structure_a, structure_b)
    panel = Panel(alignment, cols, _title(alignment, title), offset_a, offset_b)
    return draw_panels([panel], path, width=width, similarity_label=similarity_label)


def _line_rows(cols: _Columns):
    """(kind, text) of the rows of each line block, top to bottom."""
    rows = []
    if cols.ss_a is not None:
        rows.append(("ss_a", cols.ss_a))
    rows.append(("a", cols.row_a))
    rows.append(("b", cols.row_b))
    if cols.ss_b is not None:
        rows.append(("ss_b", cols.ss_b))
    return rows


def _short(name: str, n: int = 28) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


@dataclass
class Panel:
    """One alignment laid out for drawing, with its heading and coordinate offsets."""

    alignment: object
    cols: _Columns
    heading: str
    offset_a: int = 0
    offset_b: int = 0


def panel(
    alignment,
    *,
    emb_a=None,
    emb_b=None,
    similarity=None,
    structure_a=None,
    structure_b=None,
    offset_a: int = 0,
    offset_b: int = 0,
    heading: Optional[str] = None,
):
    """An alignment prepared for :func:`draw_panels` (arguments as :func:`alignment_figure`)."""
    cols = _layout(alignment, emb_a, emb_b, similarity, structure_a, structure_b)
    return Panel(alignment, cols, _title(alignment, heading), offset_a, offset_b)


_CELL_W, _CELL_H = 0.13, 0.21  # inches per alignment column and per text row
_HEAD_H = 0.4  # inches for a panel's heading


def _panel_geometry(p: Panel, width: int):
    """(blocks, rows per block, label columns) of a panel."""
    ncol = len(p.cols.row_a)
    nblock = max(1, -(-ncol // width))
    per_block = len(_line_rows(p.cols)) + 1  # a blank row between blocks
    # a monospace letter at 8.5 pt is about 0.55 of a cell wide
    label = max(len(_short(p.alignment.name_a)), len(_short(p.alignment.name_b)))
    return nblock, per_block, int(np.ceil(label * 0.55)) + 1


def draw_panels(
    panels,
    path,
    *,
    width: int = 60,
    title: Optional[str] = None,
    similarity_label: str = "cosine of the per-base embeddings",
):
    """Draw one or more alignment panels, one under the other, with one colour scale and one
    structure legend; ``.html`` adds each alignment as coloured text."""
    plt = pyplot()
    all_sim = np.concatenate([p.cols.sim for p in panels])
    has_sim = bool(np.isfinite(all_sim).any())
    has_ss = any(p.cols.ss_a is not None or p.cols.ss_b is not None for p in panels)
    lo, hi = _sim_range(all_sim)
    norm, cmap = plt.Normalize(lo, hi), plt.get_cmap(CMAP)
    geo = [_panel_geometry(p, width) for p in panels]
    num_cols = 4
    shown_cols = min(width, max(max(len(p.cols.row_a) for p in panels), 10))
    name_cols = max(g[2] for g in geo)
    span = name_cols + num_cols + shown_cols + num_cols
    fig_w = max(span * _CELL_W, 6.0)
    ss_h, bar_h = (0.4 if has_ss else 0.0), (0.75 if has_sim else 0.0)  # legend areas
    title_h = 0.35 if title else 0.0
    heights = [_HEAD_H + nb * pb * _CELL_H for nb, pb, _ in geo]
    fig_h = title_h + sum(heights) + ss_h + bar_h + 0.1
    fig = plt.figure(figsize=(fig_w, fig_h))
    if title:
        fig.text(0.01, 1.0 - 0.25 / fig_h, title, fontsize=11, ha="left", va="center")
    top = fig_h - title_h
    for p, (nblock, per_block, _), h in zip(panels, geo, heights):
        fig.text(0.01, (top - 0.22) / fig_h, p.heading, fontsize=10, ha="left", va="center")
        body = h - _HEAD_H
        ax = fig.add_axes([0.0, (top - h) / fig_h, span * _CELL_W / fig_w, body / fig_h])
        ax.set_xlim(-(name_cols + num_cols), shown_cols + num_cols)
        ax.set_ylim(nblock * per_block - 0.5, -0.5)
        ax.axis("off")
        _draw_rows(ax, p, width, name_cols + num_cols, norm, cmap)
        top -= h
    if has_sim:
        cax = fig.add_axes([0.3, (ss_h + 0.45) / fig_h, 0.4, 0.14 / fig_h])
        cb = fig.colorbar(
            plt.cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal"
        )
        cb.set_label(similarity_label, fontsize=8)
        cb.ax.tick_params(labelsize=7)
    if has_ss:
        from matplotlib.lines import Line2D

        statuses = np.concatenate(
            [np.concatenate([p.cols.status_a, p.cols.status_b]) for p in panels]
        )
        shown = sorted(set(statuses.tolist()) - {0})
        handles = [
            Line2D([], [], color=STATUS_COLOURS[s], marker="s", linestyle="", markersize=6)
            for s in shown
        ]
        if handles:
            fig.legend(
                handles,
                [STATUS_NAMES[s] for s in shown],
                loc="lower center",
                ncol=len(handles),
                fontsize=7.5,
                frameon=False,
                bbox_to_anchor=(0.5, 0.0),
            )
    page = "\n".join(
        f"<h3>{html.escape(p.heading)}</h3>\n" + _alignment_html(p, width, norm, cmap)
        for p in panels
    )
    return save(fig, path, title=title or panels[0].heading, extra_html=page)


def _draw_rows(ax, p: Panel, width: int, left: int, norm, cmap) -> None:
    """The text rows of one panel, wrapped every ``width`` columns, on ``ax`` in cell units."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    aln, cols = p.alignment, p.cols
    ncol = len(cols.row_a)
    rows = _line_rows(cols)
    per_block = len(rows) + 1
    cells, shades = [], []
    font = {"family": "monospace", "fontsize": 8.5, "ha": "center", "va": "center"}
    side = {"family": "monospace", "fontsize": 8, "va": "center", "color": "#555555"}
    counters = {"a": aln.start_a + p.offset_a, "b": aln.start_b + p.offset_b}
    names = {"a": aln.name_a, "b": aln.name_b}
    for blk in range(max(1, -(-ncol // width))):
        c0, c1 = blk * width, min(ncol, (blk + 1) * width)
        for r, (kind, text) in enumerate(rows):
            y = blk * per_block + r
            status = cols.status_a if kind == "ss_a" else cols.status_b
            if kind in names:
                ax.text(
                    -left,
                    y,
                    _short(names[kind]),
                    fontsize=8.5,
                    family="monospace",
                    ha="left",
                    va="center",
                )
                seg = text[c0:c1]
                first = counters[kind] + 1
                counters[kind] += len(seg) - seg.count(GAP)
                ax.text(-1, y, str(first), ha="right", **side)
                ax.text(c1 - c0 + 0.6, y, str(counters[kind]), ha="left", **side)
            for c in range(c0, c1):
                ch = text[c]
                if ch == " ":
                    continue
                colour = "black"
                if kind in names:
                    v = cols.sim[c]
                    if np.isfinite(v):
                        cells.append(Rectangle((c - c0 - 0.5, y - 0.5), 1.0, 1.0))
                        shades.append(v)
                        colour = "white" if norm(v) > 0.65 else "black"
                    elif ch == GAP:
                        colour = "#888888"
                elif status[c]:
                    colour = STATUS_COLOURS[int(status[c])]
                elif ch in ".,:_-~":
                    colour = "#9a9a9a"
                ax.text(c - c0, y, ch, color=colour, **font)
    if cells:
        pc = PatchCollection(cells, cmap=cmap, norm=norm, edgecolor="none", zorder=0)
        pc.set_array(np.asarray(shades))
        ax.add_collection(pc)


def _alignment_html(p: Panel, width, norm, cmap) -> str:
    """The alignment as coloured monospace text: matched bases on their similarity's colour with
    the value as a tooltip, structure characters coloured by pair status."""
    from matplotlib.colors import to_hex

    aln, cols = p.alignment, p.cols
    rows = _line_rows(cols)
    names = {"a": aln.name_a, "b": aln.name_b, "ss_a": "", "ss_b": ""}
    pad = max(len(_short(aln.name_a, 30)), len(_short(aln.name_b, 30))) + 2
    counters = {"a": aln.start_a + p.offset_a, "b": aln.start_b + p.offset_b}
    out = ["<pre class='alignment'>"]
    ncol = len(cols.row_a)
    for c0 in range(0, max(ncol, 1), width):
        c1 = min(ncol, c0 + width)
        for kind, text in rows:
            label = html.escape(_short(names[kind], 30).ljust(pad))
            spans = []
            status = cols.status_a if kind == "ss_a" else cols.status_b
            for c in range(c0, c1):
                ch = html.escape(text[c])
                if kind in ("a", "b") and np.isfinite(cols.sim[c]):
                    v = cols.sim[c]
                    fg = "#fff" if norm(v) > 0.65 else "#000"
                    bg = to_hex(cmap(norm(v)))
                    spans.append(
                        f"<span style='background:{bg};color:{fg}' title='{v:.3f}'>{ch}</span>"
                    )
                elif kind not in ("a", "b") and status[c]:
                    colour = STATUS_COLOURS[int(status[c])]
                    tip = STATUS_NAMES[int(status[c])]
                    spans.append(f"<span style='color:{colour}' title='{tip}'>{ch}</span>")
                else:
                    spans.append(ch)
            if kind in ("a", "b"):
                seg = text[c0:c1]
                first = counters[kind] + 1
                counters[kind] += len(seg) - seg.count(GAP)
                out.append(f"{label}{first:>7} {''.join(spans)} {counters[kind]}")
            else:
                out.append(f"{label}{'':>7} {''.join(spans)}")
        out.append("")
    out.append("</pre>")
    return "\n".join(out)


def similarity_heatmap(
    emb_a,
    emb_b,
    path,
    *,
    alignment=None,
    pairs=None,
    seq_a: Optional[str] = None,
    seq_b: Optional[str] = None,
    name_a: str = "a",
    name_b: str = "b",
    title: Optional[str] = None,
):
    """Draw the per-base cosine similarity matrix of two RNAs with the alignment's path on it.

    Parameters
    ----------
    emb_a, emb_b : float arrays, shapes (len_a, D) and (len_b, D)
        Per-base embeddings (or any per-base vectors, e.g. a homology head's).
    path : str or path
        ``.png``, ``.svg``, ``.pdf`` or ``.html``.
    alignment : Alignment, optional
        Its aligned pairs are drawn as the path, and its names and letters label the axes.
    pairs : int array, shape (k, 2), optional
        Aligned (i, j) pairs, instead of an alignment.
    seq_a, seq_b, name_a, name_b : optional
        Letters (shown as tick labels on short sequences) and names.

    Returns
    -------
    pathlib.Path
    """
    sim = cosine_matrix(emb_a, emb_b)
    if alignment is not None:
        pairs = alignment.pairs
        seq_a = seq_a or alignment.seq_a
        seq_b = seq_b or alignment.seq_b
        name_a, name_b = alignment.name_a, alignment.name_b
        if (alignment.len_a, alignment.len_b) != sim.shape:
            raise ValueError(
                f"the alignment is of lengths {alignment.len_a} x {alignment.len_b} but the "
                f"embeddings have {sim.shape[0]} and {sim.shape[1]} rows"
            )
    la, lb = sim.shape
    plt = pyplot()
    side = 6.5
    aspect = la / max(lb, 1)
    fig_w = side if aspect <= 1 else max(side / aspect, 3.5) + 1.2
    fig_h = side * aspect if aspect <= 1 else side
    fig, ax = plt.subplots(figsize=(fig_w + 1.2, max(fig_h, 2.5) + 0.8))
    im = ax.imshow(
        sim,
        cmap="magma",
        vmin=min(0.0, float(sim.min())),
        vmax=1.0,
        interpolation="nearest",
        aspect="equal",
    )
    if pairs is not None and len(pairs):
        pth = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if pth.min() < 0 or pth[:, 0].max() >= la or pth[:, 1].max() >= lb:
            raise ValueError(f"pairs out of range for a {la} x {lb} matrix")
        ax.plot(
            pth[:, 1],
            pth[:, 0],
            color="#00e5ff",
            linewidth=1.2,
            alpha=0.9,
            label=f"alignment path ({len(pth)} pairs)",
        )
        if len(pth) <= 150:
            ax.scatter(pth[:, 1], pth[:, 0], s=4, color="#00e5ff", zorder=3)
        ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    for axis, seq, n in ((ax.yaxis, seq_a, la), (ax.xaxis, seq_b, lb)):
        if seq is not None and n <= 60:
            axis.set_ticks(range(n))
            axis.set_ticklabels(list(seq), family="monospace", fontsize=6)
    ax.set_xlabel(f"{name_b} ({lb} bases)")
    ax.set_ylabel(f"{name_a} ({la} bases)")
    ax.set_xlim(-0.5, lb - 0.5)
    ax.set_ylim(la - 0.5, -0.5)
    cb = fig.colorbar(im, ax=ax, shrink=0.8)
    cb.set_label("cosine similarity", fontsize=9)
    ax.set_title(title or f"per-base similarity, {name_a} vs {name_b}", fontsize=10)
    return save(fig, path, title=title or "similarity matrix")
