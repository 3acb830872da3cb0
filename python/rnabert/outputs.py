"""Writing outputs without losing data: refuse an output that is an input, check that it can be
written before any work, and write through a temporary file in the same folder that is renamed into
place only when complete (an interrupted run never leaves a half-written file under the final name).

Every writer of the library (`PairScores.write`, `Embeddings.save`, the sequence writers) goes
through :func:`atomic_path`; the command line calls :func:`check_output` before it starts working.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Iterable, Iterator, Optional, Union

__all__ = ["atomic_path", "check_output", "same_file", "is_stdio"]

PathLike = Union[str, "os.PathLike[str]"]


def is_stdio(path: Optional[PathLike]) -> bool:
    """True for ``None`` and ``"-"``: standard input or output."""
    return path is None or os.fspath(path) == "-"


def same_file(a: PathLike, b: PathLike) -> bool:
    """True when two paths name one file (also through symbolic or hard links)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        pass
    # b may not exist yet but resolve (through a link in its folder) onto a; compare real paths
    return os.path.realpath(a) == os.path.realpath(b)


def check_output(path: PathLike, inputs: Iterable[Optional[PathLike]] = ()) -> None:
    """Raise ValueError (one line) if ``path`` is one of ``inputs`` or cannot be written.

    Called before any work, so that a bad ``-o`` costs nothing: the folder must exist and be
    writable, the path must not be a folder, and it must not name an input file (the same file,
    also through symbolic or hard links).
    """
    if is_stdio(path):
        return
    p = os.fspath(path)
    for src in inputs:
        if src is None or is_stdio(src) or not os.path.exists(src):
            continue
        if same_file(src, p):
            raise ValueError(f"output {p} is the input {os.fspath(src)}: refusing to overwrite it")
    if os.path.isdir(p):
        raise ValueError(f"output {p} is a directory")
    folder = os.path.dirname(os.path.abspath(p))
    if not os.path.isdir(folder):
        raise ValueError(f"output {p}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"output {p}: folder {folder} is not writable")
    if os.path.exists(p) and not os.access(p, os.W_OK):
        raise ValueError(f"output {p} is not writable")


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[str]:
    """Yield a temporary path in the folder of ``path``; rename it onto ``path`` on success.

    On an exception (an interrupt included) the temporary file is removed and ``path`` keeps what
    it held before.
    """
    final = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(final))
    base = os.path.basename(final)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".part", dir=folder)
    os.close(fd)
    try:
        yield tmp
        _keep_mode(final, tmp)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _keep_mode(final: str, tmp: str) -> None:
    """Give the new file the mode of the file it replaces, or the umask default (mkstemp makes
    0600)."""
    try:
        mode = os.stat(final).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    with contextlib.suppress(OSError):
        os.chmod(tmp, mode)
