"""Alignment parameters: the scoring scheme shared by every engine (CPU, CUDA) and the reference
DP."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict

MODES = ("global", "local", "semiglobal")
FREE_ENDS = ("both", "query")


def _finite(name: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        and not hasattr(value, "__float__")
    ):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number, got {value!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return x


@dataclass(frozen=True)
class AlignParams:
    """How two sequences are scored and aligned.

    Parameters
    ----------
    mode : {"global", "local", "semiglobal"}
        ``global``: the original RNABERT Needleman-Wunsch (three-state Gotoh, end gaps penalised
        like internal gaps). ``local``: Smith-Waterman with affine gaps (needs ``bias < 0`` so that
        unrelated bases score negative). ``semiglobal``: end gaps free, see ``free_ends``.
    scale, bias : float
        match(i, j) = scale * cos(e_i, f_j) + bias (defaults 1 and 0, as the original).
    gap_open, gap_extend : float, >= 0
        A run of k gapped bases costs ``gap_open + k * gap_extend`` (defaults 1.0 and 0.1).
    free_ends : {"both", "query"}
        Semi-global only: end gaps free in both sequences, or only in the target B (the query A is
        aligned completely inside B).
    soft_scale : float, in (0, 40]
        The soft-alignment score's s = soft_scale * cos (default 1.3, as the original).
    """

    mode: str = "global"
    scale: float = 1.0
    bias: float = 0.0
    gap_open: float = 1.0
    gap_extend: float = 0.1
    free_ends: str = "both"
    soft_scale: float = 1.3

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.free_ends not in FREE_ENDS:
            raise ValueError(f"free_ends must be one of {FREE_ENDS}, got {self.free_ends!r}")
        for name in ("scale", "bias", "gap_open", "gap_extend", "soft_scale"):
            object.__setattr__(self, name, _finite(name, getattr(self, name)))
        if self.gap_open < 0:
            raise ValueError(f"gap_open must be >= 0, got {self.gap_open}")
        if self.gap_extend < 0:
            raise ValueError(f"gap_extend must be >= 0, got {self.gap_extend}")
        if not 0 < self.soft_scale <= 40:
            raise ValueError(f"soft_scale must be in (0, 40], got {self.soft_scale}")
        if self.mode == "local" and self.bias >= 0:
            raise ValueError(
                "local mode needs a negative match bias (so that unrelated bases score below "
                "zero), "
                f"such as bias=-0.3; got bias={self.bias}"
            )

    def as_dict(self) -> Dict[str, Any]:
        """The parameters as the compiled engines take them."""
        return {
            "mode": self.mode,
            "scale": self.scale,
            "bias": self.bias,
            "gap_open": self.gap_open,
            "gap_extend": self.gap_extend,
            "free_ends": self.free_ends,
            "soft_scale": self.soft_scale,
        }
