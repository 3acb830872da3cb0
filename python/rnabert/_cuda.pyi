"""Type stubs for rnabert._cuda, the CUDA GPU engine (see cuda/bindings.cu).

The engine functions take rnabert._core's arguments less ``threads`` and ``simd``, plus ``stream``
(an int
``cudaStream_t``; 0 = a stream created for the call): numpy arrays of the exact dtype, C-contiguous
(the Python layer, rnabert.alignment.engine, normalises them), embedding rows of unit length. The
``*_device`` functions take device pointers instead. Every long call releases the GIL; a call
without a
usable GPU raises RuntimeError (``CudaError``) after its arguments are checked.
"""

from types import ModuleType
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import numpy.typing as npt

VALIDATED: bool

class CudaError(RuntimeError): ...

def device_count() -> int: ...
def runtime_version() -> int: ...
def driver_version() -> int: ...
def devices() -> List[Dict[str, Any]]: ...
def self_test(device: int = ...) -> bool: ...
def score_pairs(
    values: npt.NDArray[np.float32],
    offsets: npt.NDArray[np.int64],
    pairs: npt.NDArray[np.int64],
    params: Dict[str, Any],
    target_values: Optional[npt.NDArray[np.float32]] = ...,
    target_offsets: Optional[npt.NDArray[np.int64]] = ...,
    stream: int = ...,
) -> npt.NDArray[np.float32]: ...
def align_pairs(
    values: npt.NDArray[np.float32],
    offsets: npt.NDArray[np.int64],
    pairs: npt.NDArray[np.int64],
    params: Dict[str, Any],
    target_values: Optional[npt.NDArray[np.float32]] = ...,
    target_offsets: Optional[npt.NDArray[np.int64]] = ...,
    stream: int = ...,
) -> Tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], npt.NDArray[np.int32]]: ...
def soft_align_scores(
    values: npt.NDArray[np.float32],
    offsets: npt.NDArray[np.int64],
    pairs: npt.NDArray[np.int64],
    params: Dict[str, Any],
    target_values: Optional[npt.NDArray[np.float32]] = ...,
    target_offsets: Optional[npt.NDArray[np.int64]] = ...,
    stream: int = ...,
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
    progress: Optional[Callable[[int, int], None]] = ...,
    stream: int = ...,
) -> Any: ...
def align_score_matrices(
    matrices: List[npt.NDArray[np.float32]],
    params: Dict[str, Any],
    reference: Optional[List[Optional[npt.NDArray[np.int64]]]] = ...,
    fp_margin: float = ...,
    fn_margin: float = ...,
    traceback: bool = ...,
    stream: int = ...,
) -> Tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], npt.NDArray[np.int32]]: ...
def score_pairs_device(
    values_ptr: int,
    offsets_ptr: int,
    pairs_ptr: int,
    m: int,
    n: int,
    dim: int,
    params: Dict[str, Any],
    out_ptr: int,
    stream: int = ...,
    dtype: str = ...,
) -> None: ...
def soft_align_scores_device(
    values_ptr: int,
    offsets_ptr: int,
    pairs_ptr: int,
    m: int,
    n: int,
    dim: int,
    params: Dict[str, Any],
    out_ptr: int,
    stream: int = ...,
    dtype: str = ...,
) -> None: ...

# The engine's host-side planning, for tests only (plan_batches, pair_bytes, plan_tiles, tile_pairs,
# length_order, tile_for_budget, byte_budget, launch_shape, scratch_floats).
testing: ModuleType
