"""What the commands share: the user-error type and the model options."""

from __future__ import annotations

import argparse


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


def add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--weights",
        metavar="PATH",
        default=None,
        help="model checkpoint: an rnabert .safetensors file or directory, or an original RNABERT "
        ".pt checkpoint (default: the weights shipped with rnabert)",
    )
    p.add_argument(
        "--device", default="auto", help="where the encoder runs: auto, cpu, cuda, cuda:N"
    )
    p.add_argument(
        "--batch-tokens",
        type=int,
        default=None,
        metavar="N",
        help="padded bases per encoder batch (default: 4096 on CPU, one batch per core; 65536 on "
        "GPU)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="make ambiguous IUPAC bases (N, R, Y, ...) an error instead of encoding them as MASK",
    )


def add_run_options(p: argparse.ArgumentParser) -> None:
    """--threads, --device, --weights of the commands that embed and align (align, cluster)."""
    p.add_argument(
        "--threads",
        type=int,
        default=argparse.SUPPRESS,
        metavar="N",
        help="CPU threads (default: all cores)",
    )
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to embed and align; auto uses a GPU when one is usable",
    )
    p.add_argument(
        "--weights",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="model checkpoint (default: the weights shipped with rnabert)",
    )


def add_plot_option(p: argparse.ArgumentParser, what: str = "the results") -> None:
    """--plot OUT: also draw a picture (format from the suffix; matplotlib is an optional extra)."""
    p.add_argument(
        "--plot",
        metavar="OUT.png|OUT.html",
        default=None,
        help=f"also draw {what} to this file: .png, .svg, .pdf or .html (a self-contained page); "
        "needs matplotlib (pip install rnabert[plot])",
    )


def check_plot(path, inputs=()) -> None:
    """Before any work: CliError (one line) if --plot names an unknown format or an unwritable
    file, or matplotlib is missing; nothing when ``path`` is None."""
    if path is None:
        return
    from ..plot import check_picture

    try:
        check_picture(path, inputs)
    except (ValueError, ImportError) as e:
        raise CliError(str(e)) from None
