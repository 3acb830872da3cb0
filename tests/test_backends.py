"""Capabilities as data: backends(), the engine choice, imports that never need a GPU."""

import importlib
import subprocess
import sys
import types

import pytest

import rnabert

# the module, not the function rnabert.backends() that shadows it as an attribute
backends_mod = importlib.import_module("rnabert.backends")


def test_backends_report_what_is_compiled_and_runnable():
    report = rnabert.backends()
    assert report["version"] == rnabert.__version__ == report["build"]["version"]
    cpu = report["cpu"]
    assert cpu["available"] and cpu["error"] is None
    assert cpu["simd_level"] in report["build"]["simd_levels"]
    assert set(cpu["features"]) >= {"avx2", "avx512f"}
    cuda = report["cuda"]
    assert cuda["compiled"] == report["build"]["cuda_built"]
    if cuda["compiled"]:
        assert cuda["importable"], cuda["error"]
        assert all(a.split("-")[0].isdigit() for a in report["build"]["cuda_architectures"])
    assert report["default_device"] in ("cpu", "cuda")
    if not cuda["available"]:
        assert report["default_device"] == "cpu"


def test_import_needs_neither_torch_nor_a_gpu():
    code = (
        "import sys, rnabert; rnabert.backends; "
        "assert 'torch' not in sys.modules, 'torch imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_simd_level_can_be_lowered_for_comparisons():
    code = "import rnabert._core as c; print(c.simd_level())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"RNABERT_SIMD": "scalar", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "scalar"


def _fake_cuda(validated):
    mod = types.SimpleNamespace(
        **{f: (lambda *a, **k: None) for f in backends_mod.ENGINE_FUNCTIONS}
    )
    if validated is not None:
        mod.VALIDATED = validated
    return mod


@pytest.mark.parametrize(
    "validated, forced, expected",
    [
        (None, None, "cpu"),
        (False, None, "cpu"),
        (True, None, "cuda"),
        (False, "cuda", "cuda"),
        (True, "cpu", "cpu"),
    ],
)
def test_auto_takes_the_cuda_engine_only_when_validated_or_forced(
    monkeypatch, validated, forced, expected
):
    monkeypatch.setattr(backends_mod, "cuda_module", lambda: _fake_cuda(validated))
    monkeypatch.setattr(backends_mod, "_torch_sees_gpu", lambda: True)
    if forced:
        monkeypatch.setenv("RNABERT_BACKEND", forced)
    else:
        monkeypatch.delenv("RNABERT_BACKEND", raising=False)
    assert backends_mod.resolve_device("auto", engine=True) == expected
    assert backends_mod.resolve_device("cpu", engine=True) == "cpu"
    assert (
        backends_mod.resolve_device("auto") == "cuda"
    )  # the encoder only needs torch to see the GPU
    if expected == "cuda":
        assert backends_mod.engine_module("auto") is not None


def test_one_function_chooses_the_device_for_encoder_and_engine(monkeypatch):
    monkeypatch.setattr(backends_mod, "_torch_sees_gpu", lambda: False)
    monkeypatch.delenv("RNABERT_BACKEND", raising=False)
    assert backends_mod.resolve_device("auto") == "cpu" == backends_mod.resolve_device(None)
    assert backends_mod.resolve_device("auto", engine=True) == "cpu"
    for bad in ("tpu", "cpu:0", "gpu"):
        with pytest.raises(ValueError, match="device must be"):
            backends_mod.resolve_device(bad)
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu' or 'cuda'"):
        backends_mod.resolve_device("cuda:1", engine=True)
    with pytest.raises(RuntimeError, match="torch sees no CUDA GPU"):
        backends_mod.resolve_device("cuda:0")
    # the encoder, the engine and the public functions all ask it (no other device choice remains)
    import inspect

    import rnabert.alignment.api as api
    import rnabert.model.inference as inference

    assert api.resolve_device is backends_mod.resolve_device
    assert inference.resolve_device is backends_mod.resolve_device
    assert "resolve_device" in inspect.getsource(backends_mod.engine_module)
    with pytest.deprecated_call():
        assert backends_mod.default_device() == "cpu"


def test_cuda_without_gpu_is_a_clear_error_at_call_time(rng):
    if rnabert.backends()["cuda"]["available"]:
        pytest.skip("a GPU is present")
    emb = rnabert.Embeddings.from_arrays([rng.standard_normal((5, 8)), rng.standard_normal((4, 8))])
    with pytest.raises(RuntimeError, match="device='cuda' requested but"):
        rnabert.align_many(emb, device="cuda")
    assert backends_mod.resolve_device("auto", engine=True) == "cpu"
    with pytest.raises(ValueError, match="RNABERT_BACKEND"):
        import os

        os.environ["RNABERT_BACKEND"] = "tpu"
        try:
            backends_mod.resolve_device("auto", engine=True)
        finally:
            del os.environ["RNABERT_BACKEND"]
