"""Opening sequence files: compressed or plain input detected by content, output by suffix."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import zlib
from typing import IO, Iterator, Tuple, Union

__all__ = ["open_text", "PathOrHandle"]

PathOrHandle = Union[str, "os.PathLike[str]", IO[str]]

try:
    from lzma import LZMAError

    _LZMA_ERRORS: tuple = (LZMAError,)
except ImportError:  # Python built without lzma
    _LZMA_ERRORS = ()

_GZIP_MAGIC = b"\x1f\x8b"
_BZIP2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"


def open_text(path: Union[str, "os.PathLike[str]"]) -> IO[str]:
    """Open a text file for reading, decompressing gzip, bzip2 or xz transparently.

    Compression is detected from the file's first bytes, not its suffix, so a gzip file named
    ``x.fa`` and a plain file named ``x.fa.gz`` both read correctly.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    text file object
        UTF-8, universal newlines (CRLF and CR read as ``\\n``). The caller closes it.
    """
    path = os.fspath(path)
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic.startswith(_GZIP_MAGIC):
        raw = gzip.open(path, "rb")
    elif magic.startswith(_BZIP2_MAGIC):
        import bz2

        raw = bz2.open(path, "rb")
    elif magic.startswith(_XZ_MAGIC):
        import lzma

        raw = lzma.open(path, "rb")
    else:
        return open(path, "r", encoding="utf-8", newline=None)
    return io.TextIOWrapper(raw, encoding="utf-8", newline=None)


def _is_handle(obj) -> bool:
    return not isinstance(obj, (str, bytes, os.PathLike)) and hasattr(obj, "read")


def _label(obj) -> str:
    """How a source is named in error messages: its path, or a handle's ``name``."""
    if _is_handle(obj):
        name = getattr(obj, "name", None)
        return name if isinstance(name, str) else "<stream>"
    return os.fspath(obj)


@contextlib.contextmanager
def _reading(source: PathOrHandle) -> Iterator[Tuple[IO[str], str]]:
    """Yield ``(text handle, label)``; a path is opened (and closed), a handle is borrowed."""
    if _is_handle(source):
        yield source, _label(source)
        return
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"expected a path or a text file handle, got {type(source).__name__}")
    label = _label(source)
    with open_text(source) as handle:
        try:
            yield handle, label
        except (EOFError, OSError, zlib.error, UnicodeDecodeError, *_LZMA_ERRORS) as err:
            raise _read_error(label, err) from None


def _read_error(label: str, err: BaseException) -> ValueError:
    """A one-line error naming the file for a truncated or corrupt compressed file, or one that is
    not text."""
    if isinstance(err, UnicodeDecodeError):
        return ValueError(f"{label}: not UTF-8 text (a binary file?)")
    if isinstance(err, EOFError):
        return ValueError(f"{label}: truncated compressed file (it ends before its end marker)")
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    return ValueError(f"{label}: corrupt or unreadable file ({reason})")


@contextlib.contextmanager
def _writing(target: PathOrHandle) -> Iterator[IO[str]]:
    """Yield a text handle to write to; a path ending in ``.gz`` is gzip-compressed."""
    if hasattr(target, "write") and not isinstance(target, (str, os.PathLike)):
        yield target
        return
    if not isinstance(target, (str, os.PathLike)):
        raise TypeError(f"expected a path or a writable text handle, got {type(target).__name__}")
    from ..outputs import atomic_path

    path = os.fspath(target)
    with atomic_path(path) as tmp:
        if path.lower().endswith(".gz"):
            # mtime=0 keeps the output byte-identical between runs; level 6 is as small as 9 for
            # sequence text and several times faster. The file name is left out of the header so
            # the temporary name does not leak into it.
            with open(tmp, "wb") as out:
                raw = gzip.GzipFile(filename="", mode="wb", compresslevel=6, mtime=0, fileobj=out)
                with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as handle:
                    yield handle
                raw.close()
        else:
            with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
                yield handle


def _decode_error(label: str, lineno: int, err: UnicodeDecodeError) -> ValueError:
    # Text is decoded in chunks, so the failing byte is on this line or a little further on.
    return ValueError(f"{label}:{lineno}: not UTF-8 text near this line ({err.reason})")
