"""The rnabert command line: ``rnabert COMMAND ...``, one thin module per command.

Each command module defines ``NAME``, ``HELP`` and ``add_arguments(parser)``, which adds the options
and returns ``run(args) -> exit status``. Commands parse, call the library and report; the library
validates and writes every output. A new command (search, cluster, classify, bench, ...) is a new
module here, named in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import List, Optional

from .common import CliError

# module names, in the order `rnabert --help` lists them
COMMANDS = (
    "embed",
    "align",
    "db",
    "search",
    "cluster",
    "classify",
    "bench",
    "train",
    "evaluate_alignment",
    "evaluate_homology",
    "average_checkpoints",
    "ship_weights",
    "plot_metrics",
)

__all__ = ["CliError", "COMMANDS", "build_parser", "main"]


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows "(default: X)" after an option's help, except where the default is None (the help
    says what happens then)."""

    def _get_help_string(self, action):
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line, without the Python source line that `warnings` prints by default."""
    print(f"rnabert: warning: {message}", file=file or sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    from .._version import __version__

    parser = argparse.ArgumentParser(
        prog="rnabert",
        description="RNABERT embeddings and structural alignment of non-coding RNA.",
    )
    parser.add_argument("--version", action="version", version=f"rnabert {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        mod = importlib.import_module(f".{name}", __name__)
        p = sub.add_parser(
            mod.NAME,
            help=mod.HELP,
            description=mod.HELP,
            formatter_class=_DefaultsFormatter,
        )
        p.set_defaults(_run=mod.add_arguments(p))
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        return int(args._run(args) or 0)
    except (
        CliError,
        ValueError,
        FileNotFoundError,
        IsADirectoryError,
        PermissionError,
        KeyError,
    ) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"rnabert {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rnabert {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`rnabert ... | head`): stop quietly, as Unix tools do; the
        # interpreter must not try to flush into the closed pipe again on exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
