"""Plain-text tables of evaluation results."""

from __future__ import annotations

from typing import Dict

from ..seqs.identity import BIN_LABELS


def format_table(results: Dict[str, Dict]) -> str:
    """A plain-text table: one row per method, F (sens/PPV) overall and per identity bin."""
    cols = ["all", *BIN_LABELS]
    head = f"{'method':<22}" + "".join(f"{c:>20}" for c in cols)
    any_res = next(iter(results.values()), None)
    lines = [head]
    if any_res is not None:
        lines.append(f"{'pairs':<22}" + "".join(f"{any_res[c]['n']:>20}" for c in cols))
    for name, res in results.items():
        cells = []
        for c in cols:
            r = res[c]
            cells.append(f"{r['f']:.3f} ({r['sens']:.2f}/{r['ppv']:.2f})" if r["n"] else "-")
        lines.append(f"{name:<22}" + "".join(f"{x:>20}" for x in cells))
    lines.append(
        "cells: F (sensitivity/PPV), micro-averaged over pairs; bins: reference-alignment identity "
        "%"
    )
    if "vs_baseline" in results.get("rnabert", {}):
        lines.append(format_difference(results["rnabert"]["vs_baseline"]))
    return "\n".join(lines)


def format_difference(
    diff: Dict[str, Dict[str, float]], a: str = "rnabert", b: str = "baseline"
) -> str:
    """One line per column: the F difference, its bootstrap interval and how many families carry
    it."""
    lines = [f"F({a}) - F({b}), 95 % family-bootstrap interval:"]
    for label, d in diff.items():
        lines.append(
            f"  {label:>6}: {d['diff']:+.4f}  [{d['lo']:+.4f}, {d['hi']:+.4f}]  "
            f"P(no gain) {d['p_le_0']:.3f}  ({d['families']} families)"
        )
    return "\n".join(lines)
