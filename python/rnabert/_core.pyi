"""Type stubs for rnabert._core, the C++ CPU engine (see csrc/bindings.cpp).

Arrays must have the exact dtype and be C-contiguous (the Python layer, rnabert.alignment.engine,
normalises them); embedding rows must be unit length. Every long call releases the GIL.
"""

from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import numpy.typing as npt

__version__: str

def cpu_features() -> Dict[str, bool]: ...
def simd_level() -> str: ...
def score_pairs(
    values: npt.NDArray[np.float32],
    offsets: npt.NDArray[np.int64],
    pairs: npt.NDArray[np.int64],
    params: Dict[str, Any],
    target_values: Optional[npt.NDArray[np.float32]] = ...,
    target_offsets: Optional[npt.NDArray[np.int64]] = ...,
    threads: int = ...,
    simd: int = ...,
) -> npt.NDArray[np.float32]: ...
def align_pairs(
    values: npt.NDArray[np.float32],
    offsets: npt.NDArray[np.int64],
    pairs: npt.NDArray[np.int64],
    params: Dict[str, Any],
    target_values: Optional[npt.NDArray[np.float32]] = ...,
    target_offsets: Optional[npt.NDArray[np.int64]] = ...,
    threads: int = ...,
    simd: int = ...,
) -> Tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], npt.NDArray[np.int32]]: ...
def soft_align_scores(
    values: npt.NDArray[np.float32],
    offsets: npt.NDArray[np.int64],
    pairs: npt.NDArray[np.int64],
    params: Dict[str, Any],
    target_values: Optional[npt.NDArray[np.float32]] = ...,
    target_offsets: Optional[npt.NDArray[np.int64]] = ...,
    threads: int = ...,
    simd: int = ...,
) -> npt.NDArray[np.float32]: ...
def all_vs_all(
    values: npt.NDArray[np.float32],
    offsets: npt.NDArray[np.int64],
    params: Dict[str, Any],
    target_values: Optional[npt.NDArray[np.float32]] = ...,
    target_offsets: Optional[npt.NDArray[np.int64]] = ...,
    score: str = ...,
    output: str = ...,
    top_k: int = ...,
    min_score: float = ...,
    threads: int = ...,
    simd: int = ...,
    progress: Optional[Callable[[int, int], None]] = ...,
) -> Any: ...
def align_score_matrices(
    matrices: List[npt.NDArray[np.float32]],
    params: Dict[str, Any],
    reference: Optional[List[Optional[npt.NDArray[np.int64]]]] = ...,
    fp_margin: float = ...,
    fn_margin: float = ...,
    traceback: bool = ...,
    threads: int = ...,
    simd: int = ...,
) -> Tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], npt.NDArray[np.int32]]: ...
