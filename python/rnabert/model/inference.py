"""Turning sequences into per-base embeddings, fast: length-bucketed batches, windows past 440
nt."""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from ..backends import resolve_device
from ..embeddings import Embeddings
from ..seqs import SeqRecord, records_from, token_ids_of_clean
from .bert import RnaBert
from .checkpoint import load_model

ModelLike = Union[RnaBert, str, "os.PathLike[str]", None]

DEFAULT_BATCH_TOKENS = 4096  # bases per CPU forward pass: one such batch per core stays in cache
DEFAULT_BATCH_TOKENS_GPU = 65536  # a GPU wants large batches to fill its SMs
DEFAULT_MAX_BATCH = 512
DEFAULT_CHUNK_BASES = 1 << 16  # bases embedded (and written) at a time: 31 MB of vectors


def resolve_model(model: ModelLike, device: torch.device) -> RnaBert:
    if model is None or isinstance(model, (str, os.PathLike)):
        return load_model(model, device=device)
    if not isinstance(model, RnaBert):
        raise TypeError(
            f"model must be an RnaBert, a checkpoint path or None, got {type(model).__name__}"
        )
    if model.device != device:
        model = model.to(device)
    if (
        model.training
    ):  # eval() walks every module: about a millisecond, paid on every call otherwise
        model.eval()
    return model


def window_starts(length: int, window: int, stride: int) -> np.ndarray:
    """Start positions of overlapping windows of ``window`` bases covering ``length`` bases."""
    if length <= window:
        return np.zeros(1, dtype=np.int64)
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] != length - window:
        starts.append(length - window)
    return np.asarray(starts, dtype=np.int64)


def most_central_window(length: int, starts: np.ndarray, window: int) -> np.ndarray:
    """For each base, the index of the window in which it is most central (ties: the earlier
    window).

    Centrality of base p in window [s, s+W) is min(p - s, s + W - 1 - p): the context it sees on
    its poorer side. Bases outside a window get -1 and never win.
    """
    # Window by window over its own bases only: memory O(length), not O(windows x length) (which
    # was gigabytes for a chromosome-sized sequence). A later window wins only if strictly more
    # central, so ties go to the earlier window.
    best = np.full(length, -1, dtype=np.int64)
    choice = np.zeros(length, dtype=np.int64)
    for w, s in enumerate(np.asarray(starts, dtype=np.int64).tolist()):
        lo, hi = max(s, 0), min(s + window, length)
        if lo >= hi:
            continue
        p = np.arange(lo, hi)
        c = np.minimum(p - s, s + window - 1 - p)
        better = c > best[lo:hi]
        best[lo:hi][better] = c[better]
        choice[lo:hi][better] = w
    return choice


def _plan_batches(lengths: Sequence[int], batch_tokens: int, max_batch: int) -> List[List[int]]:
    """Group items longest-first so each batch pads little and holds ≤ batch_tokens padded bases."""
    order = sorted(range(len(lengths)), key=lambda k: (-lengths[k], k))
    batches, current, current_max = [], [], 0
    for k in order:
        longest = max(current_max, lengths[k])
        if current and (longest * (len(current) + 1) > batch_tokens or len(current) >= max_batch):
            batches.append(current)
            current, longest = [], lengths[k]
        current.append(k)
        current_max = longest
    if current:
        batches.append(current)
    return batches


def encode_ids(
    model: RnaBert,
    items: Sequence[np.ndarray],
    *,
    batch_tokens: Optional[int] = None,
    max_batch: int = DEFAULT_MAX_BATCH,
    progress=None,
) -> List[np.ndarray]:
    """Final-layer embeddings of token-id arrays, each at most max_position_embeddings long.

    Returns a list of float32 arrays (L_i, hidden), in the order of ``items``. The batching depends
    only on the lengths, never on timing, so results do not depend on thread scheduling.
    """
    device = model.device
    if batch_tokens is None:
        batch_tokens = DEFAULT_BATCH_TOKENS if device.type == "cpu" else DEFAULT_BATCH_TOKENS_GPU
    lengths = [len(x) for x in items]
    out: List[Optional[np.ndarray]] = [None] * len(items)

    def run(batch: List[int]) -> None:
        width = lengths[batch[0]]
        ids = np.zeros((len(batch), width), dtype=np.int64)
        for row, k in enumerate(batch):
            ids[row, : lengths[k]] = items[k]
        with torch.inference_mode():
            ids_t = torch.from_numpy(ids).to(device, non_blocking=True)
            hidden = model(ids_t, ids_t != 0).float().cpu().numpy()
        for row, k in enumerate(batch):
            out[k] = hidden[row, : lengths[k]]
        if progress is not None:
            progress.update(len(batch))

    batches = _plan_batches(lengths, batch_tokens, max_batch)
    workers = torch.get_num_threads() if device.type == "cpu" else 1
    if workers <= 1:
        for batch in batches:
            run(batch)
        return out  # type: ignore[return-value]
    # The layers are narrow (120 wide, heads of 10): one batch per core, each op on one thread,
    # beats
    # splitting every small GEMM across cores; and a single small batch (one call of align or embed)
    # split across cores mostly waits at the thread barriers, tens of ms when another process holds
    # a
    # core. So the ops always run on one thread, the batches on a pool kept between calls. torch
    # releases
    # the GIL inside its ops.
    torch.set_num_threads(1)
    try:
        if len(batches) == 1:
            run(batches[0])
        else:
            for _ in _pool(workers).map(run, batches):
                pass
    finally:
        torch.set_num_threads(workers)
    return out  # type: ignore[return-value]


_POOL: Optional[ThreadPoolExecutor] = None


def _pool(workers: int) -> ThreadPoolExecutor:
    """The encoder's batch threads, started once per process (and again if the thread count
    grows)."""
    global _POOL
    if _POOL is None or _POOL._max_workers < workers:
        if _POOL is not None:
            _POOL.shutdown(wait=False)
        _POOL = ThreadPoolExecutor(workers, thread_name_prefix="rnabert-encode")
    return _POOL


def _window_of(model: RnaBert, window: Optional[int], stride: Optional[int]) -> Tuple[int, int]:
    limit = model.config.max_position_embeddings
    window = limit if window is None else int(window)
    if not 1 <= window <= limit:
        raise ValueError(f"window must be in 1..{limit}, got {window}")
    stride = max(1, window // 2) if stride is None else int(stride)
    if not 1 <= stride <= window:
        raise ValueError(f"stride must be in 1..window={window}, got {stride}")
    return window, stride


def embed_rows(
    model: RnaBert,
    records: Sequence[SeqRecord],
    *,
    batch_tokens: Optional[int] = None,
    max_batch: int = DEFAULT_MAX_BATCH,
    window: Optional[int] = None,
    stride: Optional[int] = None,
    group_bases: int = DEFAULT_CHUNK_BASES,
) -> Iterator[np.ndarray]:
    """The embeddings of records cleaned by ``records_from``, as consecutive blocks of rows
    (float32, shape (rows, hidden)) in record order.

    The records that fit one window are encoded together (batched by length); a longer one is
    encoded a group of windows of at most ``group_bases`` bases (one window at least) at a time,
    and each base's row leaves as soon as no later window can claim it. Memory: the short
    records' rows plus one group of windows, whatever the length of a sequence.
    """
    window, stride = _window_of(model, window, stride)
    # records_from already cleaned, validated and warned about these sequences: map letters to ids
    # only.
    token_ids = [token_ids_of_clean(r.seq) for r in records]
    short = [k for k, ids in enumerate(token_ids) if len(ids) <= window]
    kw = dict(batch_tokens=batch_tokens, max_batch=max_batch)
    encoded = dict(zip(short, encode_ids(model, [token_ids[k] for k in short], **kw)))
    run: List[np.ndarray] = []  # consecutive short records' rows, yielded as one block
    for k, ids in enumerate(token_ids):
        if k in encoded:
            run.append(encoded.pop(k))
            continue
        if run:
            yield np.concatenate(run)
            run = []
        yield from _window_rows(model, ids, window, stride, group_bases, kw)
    if run:
        yield np.concatenate(run)


def _window_plan(length: int, window: int, stride: int, group_bases: int):
    """The windows of a sequence longer than a window, cut into groups of at most
    ``group_bases`` bases (one window at least): (window starts, units), a unit being (first
    window, end window, first base, end base). Each unit encodes every window its bases may come
    from, the previous group's last one included, so a unit is the same computation whether or not
    the ones before it ran in this process (a resumed run)."""
    starts = window_starts(length, window, stride)
    group = max(1, group_bases // window)
    ends = starts + window
    units = []
    for g0 in range(0, len(starts), group):
        g1 = min(len(starts), g0 + group)
        lo = 0 if g0 == 0 else int(starts[g0])  # bases before the next group's first window
        hi = int(starts[g1]) if g1 < len(starts) else length  # are claimed by no later window
        units.append((int(np.searchsorted(ends, lo, side="right")), g1, lo, hi))
    return starts, units


def _unit_rows(model, ids, starts, choice, unit, window: int, kw) -> np.ndarray:
    """The rows of one unit of :func:`_window_plan`: each base from its most central window."""
    w_lo, w_hi, lo, hi = unit
    encoded = encode_ids(model, [ids[s : s + window] for s in starts[w_lo:w_hi].tolist()], **kw)
    out = np.empty((hi - lo, model.config.hidden_size), dtype=np.float32)
    take = choice[lo:hi]
    for w in np.unique(take).tolist():
        rows = np.nonzero(take == w)[0]
        out[rows] = encoded[w - w_lo][rows + lo - int(starts[w])]
    return out


def _window_rows(
    model, ids: np.ndarray, window: int, stride: int, group_bases: int, kw
) -> Iterator[np.ndarray]:
    """Rows of one sequence longer than a window, a group of windows at a time."""
    starts, units = _window_plan(len(ids), window, stride, group_bases)
    choice = most_central_window(len(ids), starts, window)  # 8 bytes a base, not 480
    for unit in units:
        yield _unit_rows(model, ids, starts, choice, unit, window, kw)


def plan_chunks(
    lengths: Sequence[int], chunk_bases: int, window: int, stride: int
) -> List[Tuple[int, int, int]]:
    """The units of streaming and of resuming: (first record, end record, -1) for consecutive
    records of at most ``chunk_bases`` bases together (one record at least), and (k, k + 1, u) for
    the u-th group of windows of a record k longer than both a window and ``chunk_bases``. A pure
    function of the lengths, so a resumed run embeds the same chunks, batched the same way, as an
    uninterrupted one."""
    if chunk_bases < 1:
        raise ValueError(f"chunk_bases must be >= 1, got {chunk_bases}")
    chunks: List[Tuple[int, int, int]] = []
    start, held = 0, 0
    for k, length in enumerate(lengths):
        if length > window and length > chunk_bases:
            if k > start:
                chunks.append((start, k, -1))
            _, units = _window_plan(int(length), window, stride, chunk_bases)
            chunks.extend((k, k + 1, u) for u in range(len(units)))
            start, held = k + 1, 0
            continue
        if k > start and held + length > chunk_bases:
            chunks.append((start, k, -1))
            start, held = k, 0
        held += length
    if start < len(lengths):
        chunks.append((start, len(lengths), -1))
    return chunks


def embed_chunk(
    model: RnaBert,
    records: Sequence[SeqRecord],
    chunk: Tuple[int, int, int],
    *,
    window: int,
    stride: int,
    chunk_bases: int,
    cache: dict,
    batch_tokens: Optional[int] = None,
    max_batch: int = DEFAULT_MAX_BATCH,
) -> Iterator[np.ndarray]:
    """The rows of one chunk of :func:`plan_chunks`, in blocks. ``cache`` (a dict kept between
    calls) holds the tokens and window choice of the long record being streamed."""
    a, b, unit = chunk
    kw = dict(batch_tokens=batch_tokens, max_batch=max_batch)
    if unit < 0:
        yield from embed_rows(
            model, records[a:b], window=window, stride=stride, group_bases=chunk_bases, **kw
        )
        return
    if cache.get("record") != a:
        ids = token_ids_of_clean(records[a].seq)
        starts, units = _window_plan(len(ids), window, stride, chunk_bases)
        cache.clear()
        cache.update(record=a, ids=ids, starts=starts, units=units)
        cache["choice"] = most_central_window(len(ids), starts, window)
    c = cache
    yield _unit_rows(model, c["ids"], c["starts"], c["choice"], c["units"][unit], window, kw)


def _records_done(chunk: Tuple[int, int, int], cache: dict) -> int:
    """Records a chunk completes (for the progress bar)."""
    a, b, unit = chunk
    return b - a if unit < 0 or unit == len(cache["units"]) - 1 else 0


def embed_records(
    model: RnaBert,
    records: Sequence[SeqRecord],
    *,
    batch_tokens: Optional[int] = None,
    max_batch: int = DEFAULT_MAX_BATCH,
    window: Optional[int] = None,
    stride: Optional[int] = None,
    progress=None,
) -> Embeddings:
    """Embed records cleaned by ``records_from`` into one ragged block (windows past the model's
    limit)."""
    lengths = np.array([len(r.seq) for r in records], dtype=np.int64)
    offsets = np.zeros(len(records) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = np.empty((int(offsets[-1]), model.config.hidden_size), dtype=np.float32)
    row = 0
    for block in embed_rows(
        model, records, batch_tokens=batch_tokens, max_batch=max_batch, window=window, stride=stride
    ):
        values[row : row + len(block)] = block
        row += len(block)
    if progress is not None:
        progress.update(len(records))
    return Embeddings(values, offsets, [r.name for r in records], [r.seq for r in records])


def embed(
    seqs,
    model: ModelLike = None,
    device: Union[str, torch.device, None] = "auto",
    *,
    strict: bool = False,
    batch_tokens: Optional[int] = None,
    max_batch: int = DEFAULT_MAX_BATCH,
    window: Optional[int] = None,
    stride: Optional[int] = None,
    progress: Optional[bool] = None,
) -> Embeddings:
    """Per-base RNABERT embeddings of RNA sequences.

    Parameters
    ----------
    seqs : str, list of str, list of (name, seq), dict, SeqRecords, a FASTA/Stockholm path, or an
    iterator
        Sequences (T read as U, lower case accepted, alignment gaps removed; IUPAC ambiguity codes
        become MASK with a warning, other characters are an error naming the sequence and position).
    model : RnaBert, checkpoint path, or None
        None loads the weights shipped with the package.
    device : "auto", "cpu", "cuda", ...
        Where the encoder runs.
    strict : bool
        Make ambiguous bases an error instead of MASK.
    batch_tokens, max_batch : int
        A forward pass holds at most ``batch_tokens`` padded bases and ``max_batch`` sequences;
        sequences are sorted by length so batches pad little.
    window, stride : int, optional
        Sequences longer than ``window`` (default: the model's 440 positions) are embedded in
        windows ``stride`` apart (default window // 2); each base is taken from the window where it
        is most central.
    progress : bool, optional
        Show a progress bar (default: only for more than 2,000 sequences).

    Returns
    -------
    Embeddings
        values float32 (total_len, 120), offsets int64 (n + 1,), names, sequences.
    """
    dev = torch.device(resolve_device(device))
    net = resolve_model(model, dev)
    if isinstance(seqs, Embeddings):
        raise TypeError("seqs is already an Embeddings block; pass it to the aligner directly")
    records = list(records_from(seqs, strict=strict))
    if not records:
        raise ValueError("no sequences to embed")
    lengths = np.array([len(r.seq) for r in records], dtype=np.int64)
    offsets = np.zeros(len(records) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = np.empty((int(offsets[-1]), net.config.hidden_size), dtype=np.float32)
    window, stride = _window_of(net, window, stride)
    kw = dict(batch_tokens=batch_tokens, max_batch=max_batch, window=window, stride=stride)
    kw["chunk_bases"] = DEFAULT_CHUNK_BASES  # the file writer's default: the same batches
    cache: dict = {}
    row = 0
    with _progress_bar(progress, len(records)) as bar:
        for chunk in plan_chunks(lengths.tolist(), DEFAULT_CHUNK_BASES, window, stride):
            for block in embed_chunk(net, records, chunk, cache=cache, **kw):
                values[row : row + len(block)] = block
                row += len(block)
            if bar is not None:
                bar.update(_records_done(chunk, cache))
    return Embeddings(values, offsets, [r.name for r in records], [r.seq for r in records])


def embed_to_file(
    seqs,
    path,
    model: ModelLike = None,
    device: Union[str, torch.device, None] = "auto",
    *,
    format: Optional[str] = None,
    pooled: bool = False,
    strict: bool = False,
    batch_tokens: Optional[int] = None,
    max_batch: int = DEFAULT_MAX_BATCH,
    window: Optional[int] = None,
    stride: Optional[int] = None,
    chunk_bases: int = DEFAULT_CHUNK_BASES,
    key: str = "",
    resume: bool = False,
    progress: Optional[bool] = None,
) -> Tuple[int, int, int]:
    """:func:`embed` straight into a file, chunk by chunk: memory is a chunk of ``chunk_bases``
    bases (a longer sequence streams by groups of windows of that many bases), whatever the
    input's size, plus the records (letters and names: the file's header).

    The file is what ``embed(seqs).save(path, format)`` (``save_pooled`` with ``pooled``) writes
    and it appears only when complete (``PATH.partial`` until then). ``resume=True`` continues
    an interrupted run with the same ``key`` (what the output depends on: inputs, options) after
    its last complete chunk; the file is then byte-identical to an uninterrupted run's.

    Returns
    -------
    (sequences, bases, chunks resumed)
    """
    from ..embeddings import EmbeddingsFileWriter

    dev = torch.device(resolve_device(device))
    net = resolve_model(model, dev)
    records = list(records_from(seqs, strict=strict))
    if not records:
        raise ValueError("no sequences to embed")
    lengths = [len(r.seq) for r in records]
    writer = EmbeddingsFileWriter(
        path,
        [r.name for r in records],
        [r.seq for r in records],
        net.config.hidden_size,
        format=format,
        pooled=pooled,
        key=key,
        resume=resume,
    )
    skipped = writer.chunks
    window, stride = _window_of(net, window, stride)
    chunks = plan_chunks(lengths, chunk_bases, window, stride)
    kw = dict(batch_tokens=batch_tokens, max_batch=max_batch, window=window, stride=stride)
    kw["chunk_bases"] = chunk_bases
    cache: dict = {}
    first = chunks[skipped][0] if skipped < len(chunks) else len(records)
    try:
        with _progress_bar(progress, len(records), initial=first) as bar:
            for chunk in chunks[skipped:]:
                for block in embed_chunk(net, records, chunk, cache=cache, **kw):
                    writer.write(block)
                writer.chunk_done()
                if bar is not None:
                    bar.update(_records_done(chunk, cache))
        writer.finish()
    finally:
        writer.close()
    return len(records), sum(lengths), skipped


@contextlib.contextmanager
def _progress_bar(progress: Optional[bool], total: int, initial: int = 0):
    """A bar over sequences when asked, or by default for more than 2,000 of them."""
    if not (progress or (progress is None and total > 2000)):
        yield None
        return
    from tqdm.auto import tqdm

    bar = tqdm(
        total=total,
        initial=initial,
        unit="seq",
        desc="embed",
        smoothing=0.1,
        dynamic_ncols=True,
        delay=1.0,
    )
    try:
        yield bar
    finally:
        bar.close()
