"""Loading and saving RNABERT weights: the original's torch checkpoints (untrusted) and our
safetensors."""

from __future__ import annotations

import json
import os
import pathlib
from typing import Dict, Optional, Union

import torch

from .bert import RnaBert
from .config import RnaBertConfig

PathLike = Union[str, "os.PathLike[str]"]
FORMAT_TAG = "rnabert.model/1"
WEIGHTS_DIR = pathlib.Path(__file__).resolve().parent.parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "rnabert_rfam.safetensors"


class CheckpointError(ValueError):
    """A checkpoint that is malformed or does not match the architecture."""


def original_to_ours(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Rename an original RNABERT state dict's keys to ours.

    The original saves a DataParallel-wrapped model (``module.`` prefix) and a hand-written
    LayerNorm with ``gamma``/``beta``; both forms (prefix or not) are accepted.
    """
    out = {}
    for key, value in state.items():
        k = key[len("module.") :] if key.startswith("module.") else key
        if ".LayerNorm.gamma" in k or k.endswith("LayerNorm.gamma"):
            k = k[: -len("gamma")] + "weight"
        elif ".LayerNorm.beta" in k or k.endswith("LayerNorm.beta"):
            k = k[: -len("beta")] + "bias"
        out[k] = value
    return out


def _check_and_load(model: RnaBert, state: Dict[str, torch.Tensor], source: str) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    misshaped = sorted(
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in set(state) & set(expected)
        if tuple(state[k].shape) != tuple(expected[k].shape)
    )
    if missing or unexpected or misshaped:
        parts = []
        for label, items in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("mis-shaped keys", misshaped),
        ):
            if items:
                shown = ", ".join(items[:8]) + (
                    f", … ({len(items)} in all)" if len(items) > 8 else ""
                )
                parts.append(f"{label}: {shown}")
        raise CheckpointError(
            f"{source}: not an RNABERT checkpoint for this architecture; " + "; ".join(parts)
        )
    bad = [
        k for k, v in state.items() if not torch.is_floating_point(v) or not torch.isfinite(v).all()
    ]
    if bad:
        raise CheckpointError(f"{source}: tensors with non-float or non-finite values: {bad[:8]}")
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()}, strict=True)


def _read_torch_checkpoint(path: pathlib.Path) -> Dict[str, torch.Tensor]:
    # Checkpoints from elsewhere are untrusted: weights_only refuses anything that would run code.
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (
        Exception
    ) as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, … for bad files
        raise CheckpointError(
            f"{path}: cannot be read as a weights-only torch checkpoint: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        ) from None
    for wrapper in ("state_dict", "model_state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(wrapper), dict):
            obj = obj[wrapper]
            break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: expected a state dict of tensors, got {type(obj).__name__}")
    return original_to_ours(obj)


def _read_safetensors(path: pathlib.Path):
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(os.fspath(path), framework="pt") as f:
            meta = f.metadata() or {}
        state = load_file(os.fspath(path))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file: {exc}") from None
    config = None
    if "config" in meta:
        config = RnaBertConfig.from_json(meta["config"])
    elif (path.parent / "config.json").exists():
        config = RnaBertConfig.from_json((path.parent / "config.json").read_text())
    return original_to_ours(state), config, meta


def load_model(
    path: Optional[PathLike] = None, device: Union[str, torch.device] = "cpu"
) -> RnaBert:
    """Load an RNABERT model, ready for inference (eval mode).

    Parameters
    ----------
    path : str or path-like, optional
        A safetensors file of ours (config in its metadata or a ``config.json`` beside it), a
        directory holding ``model.safetensors`` and ``config.json``, or an original RNABERT
        checkpoint (``.pt``/``.pth``; read with ``torch.load(weights_only=True)``). Without a path,
        the weights shipped inside the package.
    device : str or torch.device
        Where to put the model ("cpu", "cuda", "cuda:1", ...).
    """
    if path is None:
        if not DEFAULT_WEIGHTS.exists():
            raise FileNotFoundError(
                "rnabert ships no trained weights yet, so load_model() needs a checkpoint: "
                "load_model('path/to/checkpoint.pt') for an original RNABERT checkpoint, or a "
                ".safetensors file saved by rnabert (on the command line: --weights PATH)"
            )
        path = DEFAULT_WEIGHTS
    path = pathlib.Path(path)
    if path.is_dir():
        path = path / "model.safetensors"
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if path.suffix == ".safetensors":
        state, config, _ = _read_safetensors(path)
    else:
        state, config = _read_torch_checkpoint(path), None
    model = RnaBert(config or RnaBertConfig())
    _check_and_load(model, state, os.fspath(path))
    model.source = os.fspath(
        path.resolve()
    )  # which weights: a homology head belongs to one encoder
    return model.to(device).eval()


def save_model(
    model: RnaBert, path: PathLike, extra_metadata: Optional[Dict[str, str]] = None
) -> None:
    """Save as safetensors (config JSON in the metadata and in ``config.json`` beside the file)."""
    from safetensors.torch import save_file

    path = pathlib.Path(path)
    meta = {"format": FORMAT_TAG, "config": model.config.to_json()}
    meta.update(extra_metadata or {})
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.fspath(path), metadata=meta)
    (path.parent / "config.json").write_text(
        json.dumps(json.loads(meta["config"]), indent=2) + "\n"
    )
