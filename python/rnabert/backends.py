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
        return {"version": None, "simd_levels": (), "cuda_built": False, "cuda_version": "",
                "cuda_architectures": (), "compiler": None}
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
    except ImportError as exc:  # a missing or unloadable extension is reported, never raised at import
        return None, str(exc)


def cpu_module():
    """The compiled CPU engine, ``rnabert._core``; raises a clear error if the build is broken."""
    mod, err = _load("_core")
    if mod is None:
        raise RuntimeError(f"rnabert's C++ engine (rnabert._core) is not importable: {err}. "
                           "Reinstall with `pip install .` from the source tree.")
    return mod


def cuda_module():
    """The compiled GPU engine, ``rnabert._cuda``, or a RuntimeError saying why it cannot be used."""
    mod, err = _load("_cuda")
    if mod is None:
        built = _build_info()["cuda_built"]
        why = ("this build of rnabert was compiled without CUDA (no nvcc was found at build time; "
               "rebuild with nvcc on PATH, or -C cmake.define.RNABERT_ENABLE_CUDA=ON)"
               if not built else f"rnabert._cuda failed to load: {err}")
        raise RuntimeError(f"device='cuda' requested but {why}")
    if mod.device_count() == 0:
        raise RuntimeError("device='cuda' requested but no CUDA GPU (or driver) is visible on this machine")
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
    cuda_report: Dict[str, Any] = {"compiled": report["build"]["cuda_built"], "importable": cuda is not None,
                                   "error": cuda_err, "devices": [], "driver_version": 0}
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

        report["torch"] = {"version": torch.__version__, "cuda_available": bool(torch.cuda.is_available())}
    except ImportError:
        report["torch"] = {"version": None, "cuda_available": False}

    report["default_device"] = default_device(report)
    return report


def default_device(report: Dict[str, Any] | None = None) -> str:
    """What ``device="auto"`` means here: "cuda" when a GPU is usable, else "cpu" (RNABERT_BACKEND overrides)."""
    forced = os.environ.get(_FORCE_ENV)
    if forced:
        if forced not in ("cpu", "cuda"):
            raise ValueError(f"{_FORCE_ENV}={forced!r}: expected 'cpu' or 'cuda'")
        return forced
    if report is None:
        cuda, _ = _load("_cuda")
        gpu = cuda is not None and cuda.device_count() > 0
    else:
        gpu = report["cuda"]["available"]
    if gpu:
        try:
            import torch

            gpu = torch.cuda.is_available()
        except ImportError:
            gpu = False
    return "cuda" if gpu else "cpu"
