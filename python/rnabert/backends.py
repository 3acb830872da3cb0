"""Capabilities as data: what this build compiled in, and what this machine can run."""

from __future__ import annotations

import importlib
import os
from typing import Any, Dict

_FORCE_ENV = "RNABERT_BACKEND"  # "cpu" or "cuda": forces the engine choice (tests, comparisons)


def _build_info() -> Dict[str, Any]:
    try:
        from . import _build_info as bi
    except ImportError:  # running from a source tree that was never built
        return {
            "version": None,
            "simd_levels": (),
            "cuda_built": False,
            "cuda_version": "",
            "cuda_architectures": (),
            "compiler": None,
        }
    return {
        "version": bi.VERSION,
        "compiler": bi.CXX_COMPILER,
        "build_type": bi.BUILD_TYPE,
        "simd_levels": bi.SIMD_LEVELS,
        "cuda_built": bi.CUDA_BUILT,
        "cuda_version": bi.CUDA_VERSION,
        "cuda_architectures": bi.CUDA_ARCHITECTURES,
    }


def _load(name: str):
    try:
        return importlib.import_module(f"rnabert.{name}"), None
    except (
        ImportError
    ) as exc:  # a missing or unloadable extension is reported, never raised at import
        return None, str(exc)


def cpu_module():
    """The compiled CPU engine, ``rnabert._core``; raises a clear error if the build is broken."""
    mod, err = _load("_core")
    if mod is None:
        raise RuntimeError(
            f"rnabert's C++ engine (rnabert._core) is not importable: {err}. "
            "Reinstall with `pip install .` from the source tree."
        )
    return mod


def cuda_module():
    """The compiled GPU engine, ``rnabert._cuda``, or a RuntimeError saying why it cannot be
    used."""
    mod, err = _load("_cuda")
    if mod is None:
        built = _build_info()["cuda_built"]
        why = (
            "this build of rnabert was compiled without CUDA (no nvcc was found at build time; "
            "rebuild with nvcc on PATH, or -C cmake.define.RNABERT_ENABLE_CUDA=ON)"
            if not built
            else f"rnabert._cuda failed to load: {err}"
        )
        raise RuntimeError(f"device='cuda' requested but {why}")
    if mod.device_count() == 0:
        raise RuntimeError(
            "device='cuda' requested but no CUDA GPU (or driver) is visible on this machine"
        )
    return mod


def backends() -> Dict[str, Any]:
    """Report what is compiled in and what this machine can run.

    Returns
    -------
    dict with keys ``version``, ``build`` (compiler, SIMD levels, CUDA version and architectures
    compiled in), ``cpu`` (available, SIMD level in use, CPU features), ``cuda`` (compiled,
    importable, driver and devices), ``torch`` (version, whether torch sees a GPU) and
    ``default_device`` (what ``device="auto"`` picks).
    """
    from ._version import __version__

    report: Dict[str, Any] = {"version": __version__, "build": _build_info()}

    core, core_err = _load("_core")
    report["cpu"] = {
        "available": core is not None,
        "error": core_err,
        "simd_level": core.simd_level() if core else None,
        "features": core.cpu_features() if core else {},
        "threads": os.cpu_count(),
    }

    cuda, cuda_err = _load("_cuda")
    cuda_report: Dict[str, Any] = {
        "compiled": report["build"]["cuda_built"],
        "importable": cuda is not None,
        "error": cuda_err,
        "devices": [],
        "driver_version": 0,
    }
    if cuda is not None:
        cuda_report["runtime_version"] = cuda.runtime_version()
        cuda_report["driver_version"] = cuda.driver_version()
        try:
            cuda_report["devices"] = cuda.devices()
        except RuntimeError as exc:
            cuda_report["error"] = str(exc)
    cuda_report["available"] = bool(cuda_report["devices"])
    report["cuda"] = cuda_report

    try:
        import torch

        report["torch"] = {
            "version": torch.__version__,
            "cuda_available": bool(torch.cuda.is_available()),
        }
    except ImportError:
        report["torch"] = {"version": None, "cuda_available": False}

    report["default_device"] = resolve_device("auto", engine=True)
    return report


_DEVICES = ("auto", "cpu", "cuda")
# What a CUDA module must implement before the alignment engine may run on it.
ENGINE_FUNCTIONS = (
    "score_pairs",
    "align_pairs",
    "soft_align_scores",
    "all_vs_all",
    "align_score_matrices",
)


def resolve_device(device: Any = "auto", *, engine: bool = False) -> str:
    """The one place that decides where work runs: returns "cpu", "cuda" or "cuda:N".

    Parameters
    ----------
    device : "auto", "cpu", "cuda", "cuda:N", a torch.device, or None (= "auto")
    engine : bool
        False: for the encoder (torch). "auto" is the GPU when torch sees one. True: for the
        alignment engine (rnabert._core / rnabert._cuda); returns "cpu" or "cuda". "auto" is the
        CUDA engine when a GPU is usable, the module implements the alignment functions and its
        kernels are marked validated (``_cuda.VALIDATED``), or RNABERT_BACKEND=cuda forces it;
        RNABERT_BACKEND=cpu forces the CPU engine.

    Raises ValueError for an unknown name and RuntimeError, saying why, when a GPU is asked for and
    cannot be used.
    """
    name = "auto" if device is None else str(device)
    kind = name.split(":", 1)[0]
    if (
        kind not in _DEVICES
        or (kind != "cuda" and name != kind)
        or (engine and name not in _DEVICES)
    ):
        choices = "'auto', 'cpu' or 'cuda'" if engine else "'auto', 'cpu', 'cuda' or 'cuda:N'"
        raise ValueError(f"device must be {choices}, got {device!r}")
    if engine:
        return _engine_device(name)
    if name == "auto":
        return "cuda" if _torch_sees_gpu() else "cpu"
    if kind == "cuda" and not _torch_sees_gpu():
        import torch

        raise RuntimeError(
            f"device={name!r} requested but torch sees no CUDA GPU "
            f"(torch {torch.__version__}); use device='cpu' or 'auto'"
        )
    return name


def _engine_device(name: str) -> str:
    if name == "cpu":
        return "cpu"
    if name == "cuda":
        _cuda_engine()
        return "cuda"
    forced = os.environ.get(_FORCE_ENV)
    if forced:
        if forced not in ("cpu", "cuda"):
            raise ValueError(f"{_FORCE_ENV}={forced!r}: expected 'cpu' or 'cuda'")
        if forced == "cpu":
            return "cpu"
    if forced != "cuda" and not _torch_sees_gpu():
        return "cpu"
    try:
        mod = _cuda_engine()
    except RuntimeError:
        return "cpu"
    return "cuda" if forced == "cuda" or getattr(mod, "VALIDATED", False) else "cpu"


def _torch_sees_gpu() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _cuda_engine():
    mod = cuda_module()
    missing = [f for f in ENGINE_FUNCTIONS if not hasattr(mod, f)]
    if missing:
        raise RuntimeError(
            "device='cuda': this build's CUDA engine does not implement the alignment "
            f"functions yet ({', '.join(missing)}); use device='cpu'"
        )
    return mod


def engine_module(device: str = "cpu"):
    """The compiled alignment engine for ``device`` (resolved by :func:`resolve_device`)."""
    return _cuda_engine() if resolve_device(device, engine=True) == "cuda" else cpu_module()


def default_device(report: Dict[str, Any] | None = None) -> str:
    """Deprecated: ``resolve_device("auto", engine=True)``."""
    from ._deprecated import warn_moved

    warn_moved(
        "rnabert.backends.default_device()", 'rnabert.backends.resolve_device("auto", engine=True)'
    )
    return resolve_device("auto", engine=True)
