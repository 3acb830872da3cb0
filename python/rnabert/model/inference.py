"""Turning sequences into per-base embeddings, fast: length-bucketed batches, windows past 440
nt."""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Sequence, Tuple, Union

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
_CHUNK_SEQUENCES = 8192  # records read, tokenised and embedded at a time when streaming


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
    limit = model.config.max_position_embeddings
    window = limit if window is None else int(window)
    if not 1 <= window <= limit:
        raise ValueError(f"window must be in 1..{limit}, got {window}")
    stride = max(1, window // 2) if stride is None else int(stride)
    if not 1 <= stride <= window:
        raise ValueError(f"stride must be in 1..window={window}, got {stride}")

    # records_from already cleaned, validated and warned about these sequences: map letters to ids
    # only.
    token_ids = [token_ids_of_clean(r.seq) for r in records]
    lengths = np.array([len(t) for t in token_ids], dtype=np.int64)
    # Every sequence becomes one or more windows; a short one is a single window of itself.
    pieces: List[np.ndarray] = []
    plans: List[Tuple[int, np.ndarray]] = []  # per sequence: (first piece index, window starts)
    for ids in token_ids:
        starts = window_starts(len(ids), window, stride)
        plans.append((len(pieces), starts))
        pieces.extend(ids[s : s + window] for s in starts)

    encoded = encode_ids(
        model, pieces, batch_tokens=batch_tokens, max_batch=max_batch, progress=None
    )

    offsets = np.zeros(len(records) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = np.empty((int(offsets[-1]), model.config.hidden_size), dtype=np.float32)
    for n, ((first, starts), length) in enumerate(zip(plans, lengths)):
        dest = values[offsets[n] : offsets[n + 1]]
        if len(starts) == 1:
            dest[:] = encoded[first]
            continue
        choice = most_central_window(int(length), starts, window)
        for w, s in enumerate(starts):
            take = np.nonzero(choice == w)[0]
            dest[take] = encoded[first + w][take - s]
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
    bar = None
    if isinstance(seqs, Embeddings):
        raise TypeError("seqs is already an Embeddings block; pass it to the aligner directly")
    sized = (
        len(seqs)
        if hasattr(seqs, "__len__") and not isinstance(seqs, (str, bytes, os.PathLike))
        else None
    )
    if progress or (progress is None and sized is not None and sized > 2000):
        from tqdm.auto import tqdm

        bar = tqdm(
            total=sized, unit="seq", desc="embed", smoothing=0.1, dynamic_ncols=True, delay=1.0
        )
    parts = []
    try:
        records = records_from(seqs, strict=strict)
        while True:
            chunk = list(itertools.islice(records, _CHUNK_SEQUENCES))
            if not chunk:
                break
            parts.append(
                embed_records(
                    net,
                    chunk,
                    batch_tokens=batch_tokens,
                    max_batch=max_batch,
                    window=window,
                    stride=stride,
                    progress=bar,
                )
            )
    finally:
        if bar is not None:
            bar.close()
    if not parts:
        raise ValueError("no sequences to embed")
    return parts[0] if len(parts) == 1 else Embeddings.concatenate(parts)
