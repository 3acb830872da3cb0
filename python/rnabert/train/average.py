"""Checkpoint averaging: the mean of several checkpoints' weights, as one model.

    rnabert average-checkpoints RUN/snaps/step_2000.safetensors RUN/snaps/step_2250.safetensors … -o
    avg.safetensors

Late checkpoints of one run sit around the same basin and each is off by its last few noisy SAL
steps; their mean (stochastic weight averaging, done after the fact) is usually better than any one
of them, and it removes the luck of picking the checkpoint whose noise happened to suit the
validation pairs. Only checkpoints of one architecture (and, to be meaningful, of one run) can be
averaged.
"""

from __future__ import annotations

import sys
from typing import Dict, Sequence

import torch

from ..model.bert import RnaBert
from ..model.checkpoint import load_model, save_model


def average_checkpoints(paths: Sequence) -> RnaBert:
    """A model whose every parameter and buffer is the mean of the checkpoints' (in float64, then
    fp32)."""
    if not paths:
        raise ValueError("average_checkpoints: no checkpoints given")
    first = load_model(paths[0], device="cpu")
    sums: Dict[str, torch.Tensor] = {k: v.double().clone() for k, v in first.state_dict().items()}
    for path in paths[1:]:
        model = load_model(path, device="cpu")
        if model.config != first.config:
            raise ValueError(
                f"{path}: a different architecture from {paths[0]} ({model.config} vs "
                f"{first.config})"
            )
        for k, v in model.state_dict().items():
            sums[k] += v.double()
    first.load_state_dict(
        {k: (v / len(paths)).to(first.state_dict()[k].dtype) for k, v in sums.items()}
    )
    return first


def write_average(paths: Sequence, out) -> RnaBert:
    """Average ``paths`` (:func:`average_checkpoints`) and save the model to ``out`` with its
    sources."""
    model = average_checkpoints(paths)
    save_model(model, out, extra_metadata={"averaged_from": ",".join(map(str, paths))})
    return model


def main(argv=None) -> int:
    """Deprecated: ``rnabert average-checkpoints``."""
    from .._deprecated import warn_moved
    from ..cli import main as cli_main

    warn_moved("python -m rnabert.train.average", "rnabert average-checkpoints", stacklevel=2)
    return cli_main(["average-checkpoints", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
