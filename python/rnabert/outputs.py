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

__all__ = ["ResumableOutput", "atomic_path", "check_output", "is_stdio", "run_key", "same_file"]

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


class ResumableOutput:
    """An output written chunk by chunk into ``PATH.partial``, resumable after any interruption.

    ``PATH.partial.json`` records, after each complete chunk (flushed and fsynced), how many
    chunks and bytes are complete and a key of what the output depends on (inputs and options).
    A run killed at any instant, SIGKILL included, leaves both; the same run with
    ``resume=True`` truncates the partial file to its last complete chunk and continues after
    it, so that, chunks being deterministic, the finished file is byte-identical to an
    uninterrupted run's. Resuming with another key is refused rather than mixing two runs.
    Nothing appears under ``PATH`` before :meth:`finish`.

    ``parts=True``: ``PATH.partial`` is a folder with one file per chunk (``part_path(k)``), for
    formats that cannot be continued in place (Parquet's footer); the caller joins them into
    :meth:`finish`'s temporary path.
    """

    def __init__(self, path: PathLike, key: str, *, resume: bool = False, parts: bool = False):
        self.path = os.fspath(path)
        self.partial = self.path + ".partial"
        self.state_path = self.partial + ".json"
        self.key = key
        self.parts = parts
        self.chunks = 0  # complete chunks
        self.info: dict = {}  # what the writer recorded with the last complete chunk
        self.resumed = False
        size = 0
        if resume and os.path.exists(self.state_path) and os.path.exists(self.partial):
            import json

            try:
                with open(self.state_path) as fh:
                    state = json.load(fh)
            except (OSError, ValueError):
                state = {}
            if state.get("key") != key:
                raise ValueError(
                    f"{self.partial} was written by a run with other inputs or options: run "
                    "without --resume to start again"
                )
            self.chunks, size, self.info = state["chunks"], state["bytes"], state.get("info", {})
            self.resumed = True
            if parts:
                missing = [k for k in range(self.chunks) if not os.path.exists(self.part_path(k))]
            else:
                missing = os.path.isdir(self.partial) or os.path.getsize(self.partial) < size
            if missing:
                raise ValueError(
                    f"{self.partial} lacks chunks its record says are complete: run without "
                    "--resume to start again"
                )
        self.file = None
        if not self.resumed:  # a stale record must not describe the new partial output
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.state_path)
        if parts:
            if not self.resumed:
                _remove(self.partial)
            os.makedirs(self.partial, exist_ok=True)
        else:
            if not self.resumed:
                _remove(self.partial)
            self.file = open(self.partial, "r+b" if self.resumed else "wb")
            self.file.truncate(size)  # drop what a killed run wrote after its last complete chunk
            self.file.seek(size)

    def part_path(self, k: int) -> str:
        """Where chunk ``k``'s own file goes (``parts=True``); write it then call
        :meth:`chunk_done`."""
        return os.path.join(self.partial, f"{k:08d}.part")

    def chunk_done(self, **info) -> None:
        """Record that one more chunk is complete (its bytes on disk first)."""
        import json

        size = 0
        if self.file is not None:
            self.file.flush()
            os.fsync(self.file.fileno())
            size = self.file.tell()
        self.chunks += 1
        self.info = info
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump({"key": self.key, "chunks": self.chunks, "bytes": size, "info": info}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.state_path)

    @contextlib.contextmanager
    def finish(self, join: Optional[bool] = None) -> Iterator[Optional[str]]:
        """Put the output in place. Without ``join`` (the default for a single partial file) the
        partial file is renamed onto ``PATH``; with it (the default for ``parts=True``) a
        temporary path is yielded to build the output from the partial file or parts, renamed
        onto ``PATH`` when complete, and then the partial output is removed."""
        join = self.parts if join is None else join
        self.close()
        if not join:
            yield None
            _keep_mode(self.path, self.partial)
            os.replace(self.partial, self.path)
        else:
            with atomic_path(self.path) as tmp:
                yield tmp
            _remove(self.partial)
        with contextlib.suppress(OSError):
            os.unlink(self.state_path)

    def close(self) -> None:
        """Close the partial file without finishing (it stays for a later resume)."""
        if self.file is not None:
            self.file.close()
            self.file = None


def _remove(path: str) -> None:
    import shutil

    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def run_key(options: dict, inputs: Iterable[Optional[PathLike]]) -> str:
    """A key of what an output depends on: ``options``, each input file's path, size and
    modification time, and the package version (a resumed run must be the same run)."""
    import hashlib
    import json

    files = []
    for f in inputs:
        if f is None or is_stdio(f) or not os.path.exists(f):
            continue
        st = os.stat(f)
        files.append([os.path.abspath(f), st.st_size, st.st_mtime_ns])
    from ._version import __version__  # another release may compute other numbers

    blob = json.dumps([__version__, options, files], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def join_parquet_parts(parts: Iterable[PathLike], dest: PathLike) -> None:
    """Join Parquet files of one schema into ``dest``, one row group each, one part in memory at a
    time (the parts of a :class:`ResumableOutput`)."""
    import pyarrow.parquet as pq

    writer = None
    try:
        for part in parts:
            table = pq.read_table(part)
            if writer is None:
                writer = pq.ParquetWriter(os.fspath(dest), table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise ValueError("join_parquet_parts: no parts to join")
