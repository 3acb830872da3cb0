"""The rnabert command line: rnabert embed | align | ...  (one function pair per subcommand)."""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Dict, List, Optional

# name -> (add_arguments, run); each run returns an exit code.
_COMMANDS: Dict[str, tuple] = {}


def command(name: str, help: str):
    """Register a subcommand: decorate its ``add_arguments(parser)``; it returns the ``run(args)``."""

    def register(add_arguments: Callable[[argparse.ArgumentParser], Callable[[argparse.Namespace], int]]):
        _COMMANDS[name] = (help, add_arguments)
        return add_arguments

    return register


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


# ----------------------------------------------------------------------------------------------
# subcommands are defined below; each is a function taking the subparser and returning run(args)
# ----------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="rnabert",
        description="RNABERT embeddings and structural alignment of non-coding RNA.",
    )
    parser.add_argument("--version", action="version", version=f"rnabert {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, add_arguments) in _COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text,
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        p.set_defaults(_run=add_arguments(p))
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (CliError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"rnabert {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rnabert {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
