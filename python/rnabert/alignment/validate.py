"""Argument checks of the alignment layer: one rule and one message per input, at the Python
boundary.

The public functions (:mod:`.api`) and the engine functions (:mod:`.engine`) use these; the compiled
engines keep only cheap invariant checks (dtype, shape, contiguity), which throw. Every failure is a
ValueError naming the argument.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

import numpy as np

from .params import AlignParams


def threads(value: Any) -> int:
    """None (all cores) or a positive integer → the engines' thread count (0 = all cores)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"threads must be a positive integer or None, got {value!r}")
    return int(value)


def params(value: Any) -> AlignParams:
    if not isinstance(value, AlignParams):
        raise ValueError(f"params must be an AlignParams, got {type(value).__name__}")
    return value


def one_of(name: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def finite(name: str, value: Any, minimum: Optional[float] = None) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(x) or (minimum is not None and x < minimum):
        bound = "" if minimum is None else f" >= {minimum:g}"
        raise ValueError(f"{name} must be a finite number{bound}, got {value!r}")
    return x


def pairs(value: Any, n_query: int, n_target: int) -> np.ndarray:
    """Rows (i, j) of query and target indices → int64 array (m, 2), C-contiguous."""
    arr = np.asarray(value)
    if arr.size == 0 and (arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] in (0, 2))):
        return np.empty((0, 2), dtype=np.int64)  # an empty list of pairs, whatever numpy made of it
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"pairs must be an (m, 2) integer array, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"pairs must hold integer indices, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    bad = (arr[:, 0] < 0) | (arr[:, 0] >= n_query) | (arr[:, 1] < 0) | (arr[:, 1] >= n_target)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"pairs out of range: row {row} is {tuple(arr[row].tolist())}, but there are "
            f"{n_query} queries and {n_target} targets"
        )
    return arr


def matrix(value: Any, what: str) -> np.ndarray:
    """An explicit score matrix → float32 (L1, L2), C-contiguous, finite, at least 1 x 1."""
    arr = np.asarray(value)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be a 2-D score matrix, got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{what} must have at least one row and one column, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise ValueError(f"{what} must hold real numbers, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} holds NaN or infinite values")
    return arr


def matrices(values: Any) -> List[np.ndarray]:
    if isinstance(values, np.ndarray) and values.ndim == 2:
        raise ValueError("matrices must be a list of 2-D arrays (wrap one matrix in a list)")
    return [matrix(S, f"matrices[{k}]") for k, S in enumerate(values)]


def references(values: Optional[Sequence], count: int) -> Optional[List[Optional[np.ndarray]]]:
    """None, or one (k, 2) integer array (or None) per matrix → int64 arrays."""
    if values is None:
        return None
    if len(values) != count:
        raise ValueError(f"reference must have one entry per matrix ({count}), got {len(values)}")
    out: List[Optional[np.ndarray]] = []
    for k, r in enumerate(values):
        if r is None:
            out.append(None)
            continue
        a = np.asarray(r)
        if a.size == 0:
            a = a.reshape(0, 2).astype(np.int64)
        if a.ndim != 2 or a.shape[1] != 2 or not np.issubdtype(a.dtype, np.integer):
            raise ValueError(
                f"reference[{k}] must be an integer array of shape (k, 2), got {a.dtype} {a.shape}"
            )
        out.append(np.ascontiguousarray(a, dtype=np.int64))
    return out
