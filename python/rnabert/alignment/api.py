"""Public alignment API: align two RNAs, score many pairs, align explicit score matrices.

The device is resolved once per call by :func:`rnabert.backends.resolve_device`; arguments are
checked by :mod:`.validate` (the same rules and messages as the engine functions).
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..backends import resolve_device
from ..embeddings import Embeddings
from . import validate
from .alignment import Alignment, AlignmentList
from .pairscores import PairScores
from .params import MODES, AlignParams

_PARAM_FIELDS = tuple(f.name for f in dataclasses.fields(AlignParams))
# Show a progress bar by default only when this many pairs are scored and stderr is a terminal.
_AUTO_PROGRESS_PAIRS = 20000


# -- argument checks
# ---------------------------------------------------------------------------------
def _make_params(mode: str, params: dict) -> AlignParams:
    """AlignParams from keyword arguments; AlignParams itself checks the values (ValueError naming
    them)."""
    unknown = sorted(set(params) - set(_PARAM_FIELDS))
    if unknown:
        raise TypeError(
            f"unknown alignment parameter(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(f for f in _PARAM_FIELDS if f != 'mode')}"
        )
    validate.one_of("mode", mode, MODES)
    return AlignParams(mode=mode, **params)


def _matrix_params(
    mode: str, gap_open: float, gap_extend: float, params: dict
) -> Tuple[AlignParams, float, float]:
    """(AlignParams for the engine, scale, bias) for explicit score matrices.

    The engine uses explicit matrices as they are (it ignores scale and bias), so scale and bias are
    applied here, and the engine gets a placeholder negative bias: AlignParams insists on one in
    local mode, which only makes sense for cosine scores.
    """
    scale = params.pop("scale", 1.0)
    bias = params.pop("bias", 0.0)
    base = _make_params(
        mode, dict(params, gap_open=gap_open, gap_extend=gap_extend, scale=scale, bias=-1.0)
    )
    if mode != "local":
        base = dataclasses.replace(base, bias=float(bias))
    else:
        AlignParams(mode="global", bias=bias)  # value checks (finite) with the same messages
    return base, base.scale, float(bias)


def _apply_scale_bias(S: np.ndarray, scale: float, bias: float) -> np.ndarray:
    if scale == 1.0 and bias == 0.0:
        return S
    return (S * np.float32(scale) + np.float32(bias)).astype(np.float32)


def _auto_progress(progress: Optional[bool], n_pairs: int) -> bool:
    if progress is not None:
        return bool(progress)
    return n_pairs >= _AUTO_PROGRESS_PAIRS and sys.stderr is not None and sys.stderr.isatty()


# -- inputs
# ------------------------------------------------------------------------------------------
def _as_embeddings(
    seqs: Any, *, model, device: str, progress: Optional[bool], what: str
) -> Embeddings:
    """Embeddings as given, a list of (L, D) arrays, or anything ``rnabert.embed`` reads (embedded
    here)."""
    if isinstance(seqs, Embeddings):
        return seqs
    if isinstance(seqs, (list, tuple)) and seqs and all(_is_array(x) for x in seqs):
        return Embeddings.from_arrays([np.asarray(x) for x in seqs])
    if isinstance(seqs, np.ndarray):
        raise ValueError(
            f"{what}: a single array is ambiguous; pass Embeddings, a list of (L, D) arrays, "
            "or sequences"
        )
    from ..model import embed

    return embed(seqs, model=model, device=device, progress=progress)


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or (
        hasattr(x, "__array__")
        and hasattr(x, "shape")
        and len(x.shape) == 2
        and not isinstance(x, (str, bytes))
    )


def _one(x: Any, default_name: str) -> Tuple[str, Optional[str], Optional[np.ndarray]]:
    """(name, letters, vectors) for one argument of :func:`align`; vectors None means "embed the
    letters"."""
    if isinstance(x, str):
        return default_name, x, None
    if isinstance(x, Embeddings):
        if len(x) != 1:
            raise ValueError(
                f"{default_name}: an Embeddings block given to align() must hold one sequence, "
                f"got {len(x)}"
            )
        return x.names[0], None if x.sequences is None else x.sequences[0], x[0]
    if _is_array(x):
        arr = np.asarray(x, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] == 0:
            raise ValueError(
                f"{default_name}: embeddings must have shape (L, D) with L >= 1, got {arr.shape}"
            )
        return default_name, None, arr
    if hasattr(x, "seq") and hasattr(x, "name"):  # a SeqRecord
        return str(x.name), str(x.seq), None
    if isinstance(x, (tuple, list)) and len(x) == 2 and isinstance(x[0], str):
        name, body = x
        if isinstance(body, str):
            return name, body, None
        if _is_array(body):
            return name, None, _one(body, name)[2]
    raise ValueError(
        f"{default_name}: expected a sequence string, an (L, D) embedding array, or a (name, seq) "
        f"pair, got {type(x).__name__}"
    )


# -- public functions
# --------------------------------------------------------------------------------
def align(a, b, mode: str = "global", *, model=None, device: str = "auto", **params) -> Alignment:
    """Align two RNAs by their RNABERT embeddings.

    Parameters
    ----------
    a, b : str, array of shape (L, D), (name, seq) pair, SeqRecord, or one-sequence Embeddings
        A sequence string (embedded with ``model``), precomputed per-base embeddings (float32, any D
        as long as a and b agree; then letters are unknown and shown as N), a named sequence, or
        ``emb.subset([k])`` (name and letters kept).
    mode : {"global", "local", "semiglobal"}
        Needleman-Wunsch, Smith-Waterman (needs a negative ``bias`` to be selective), or free end
        gaps (``free_ends="query"`` places all of A inside B).
    model : RNABERT model, optional
        Encoder used for string inputs (default: the shipped weights, loaded once).
    device : {"auto", "cpu", "cuda"}
        Where to embed and align; "auto" picks the GPU when one is usable.
    **params
        Fields of :class:`AlignParams`: scale, bias, gap_open, gap_extend, free_ends, soft_scale.
        match(i, j) = scale * cos(a_i, b_j) + bias; a gap of length k costs gap_open + k *
        gap_extend.

    Returns
    -------
    Alignment
        Score, aligned index pairs, gapped strings (letters when known), CIGAR, identity.
    """
    p = _make_params(mode, params)
    dev = resolve_device(device, engine=True)
    (na, sa, va), (nb, sb, vb) = _one(a, "a"), _one(b, "b")
    todo = [s for s, v in ((sa, va), (sb, vb)) if v is None]
    if todo:
        emb = _as_embeddings(todo, model=model, device=device, progress=False, what="align")
        vecs = list(emb)
        if va is None:
            va = vecs.pop(0)
            sa = emb.sequences[0] if emb.sequences is not None else sa
        if vb is None:
            vb = vecs.pop(0)
            sb = emb.sequences[-1] if emb.sequences is not None else sb
    assert va is not None and vb is not None
    if va.shape[1] != vb.shape[1]:
        raise ValueError(
            f"a and b have embeddings of different widths: {va.shape[1]} and {vb.shape[1]}"
        )
    emb = Embeddings.from_arrays([va, vb], names=[na, nb])
    from . import engine

    scores, offs, path = engine.align_pairs(emb, np.array([[0, 1]], dtype=np.int64), p, device=dev)
    return Alignment(
        float(scores[0]),
        path[offs[0] : offs[1]],
        va.shape[0],
        vb.shape[0],
        name_a=na,
        name_b=nb,
        seq_a=sa if sa is not None and len(sa) == va.shape[0] else None,
        seq_b=sb if sb is not None and len(sb) == vb.shape[0] else None,
        mode=mode,
    )


def align_many(
    seqs,
    pairs: Union[str, Any] = "all",
    mode: Optional[str] = None,
    score: str = "dp",
    traceback: bool = False,
    top_k: Optional[int] = None,
    min_score: Optional[float] = None,
    device: str = "auto",
    threads: Optional[int] = None,
    targets=None,
    model=None,
    progress: Optional[bool] = None,
    head=None,
    composition: bool = False,
    **params,
) -> PairScores:
    """Score (and optionally align) many pairs of RNAs, embedding each sequence once.

    Parameters
    ----------
    seqs : Embeddings, list of (L, D) arrays, or sequences
        Precomputed :class:`Embeddings` (no model needed), per-sequence arrays, or anything
        ``rnabert.embed`` reads: strings, (name, seq) pairs, records, a FASTA path.
    pairs : "all" or int array, shape (m, 2)
        "all": every i < j within ``seqs``, or every query x target when ``targets`` is given.
        Otherwise rows (i, j): query i of ``seqs`` with sequence j of ``targets`` (of ``seqs`` when
        no targets).
    mode : {"global", "local", "semiglobal"}, optional
        Default "global" ("local", the only choice, for ``score="bits"``).
    score : {"dp", "soft", "bits"}
        "dp": the affine-gap alignment score; "soft": the soft-alignment similarity used for
        clustering (no traceback); "bits": the homology score, a local alignment under the homology
        head's scoring turned into bits by its fitted null, so that ``result.evalue()`` gives
        E-values: use it to tell homologs from unrelated RNAs (search, clustering). ``min_score`` is
        then in bits too.
    traceback : bool
        Also return the alignments (``result.alignments``, built lazily from flat arrays).
    top_k : int, optional
        Keep only the ``top_k`` best partners of each query, best first. With "all" and no targets
        every sequence is a query and its partners exclude itself, so a pair may be listed as (i, j)
        and (j, i). Scores are streamed in tiles: the full matrix is never held.
    min_score : float, optional
        Keep only pairs scoring at least ``min_score`` (streamed too; with ``top_k``, applied after
        it).
    device : {"auto", "cpu", "cuda"}
    threads : int, optional
        CPU threads for the engine (default: all cores).
    targets : same kinds as ``seqs``, optional
        A second set: pairs are then query x target.
    model : RNABERT model, optional
        Encoder for sequence inputs.
    progress : bool, optional
        Progress bar on stderr; None shows one on long runs in a terminal.
    head : HomologyHead or path, optional
        For ``score="bits"``: the homology head. Default: the model's, or the one shipped with the
        package's weights when the model (or the embeddings) are the shipped ones.
    composition : bool
        For ``score="bits"``: give each query its own null from 8 dinucleotide shuffles of itself
        (embedded with ``model``), so that composition-biased queries (GC-rich, repetitive) stop
        scoring high against everything (:mod:`.composition`: its scores are shifted by its own
        excess and, where its shuffles scatter widely, shrunk towards a typical query's). With
        ``targets`` the query's correction applies; within one set a pair gets the mean of its two
        corrected scores; ``top_k`` needs ``targets`` then.
    **params
        Fields of :class:`AlignParams` (scale, bias, gap_open, gap_extend, free_ends, soft_scale);
        not with ``score="bits"``, whose scoring is the head's.

    Returns
    -------
    PairScores
        ``i``, ``j`` int64 (m,), ``score`` float32 (m,), ``names``, ``target_names``, and
        ``alignments`` when ``traceback`` is True. Without ``top_k``, "all" lists rows in (i, j)
        order, and only i < j when there are no targets; explicit pairs keep their order.
    """
    validate.one_of("score", score, ("dp", "soft", "bits"))
    hom = None
    if score == "bits":
        if mode not in (None, "local"):
            raise ValueError(
                f"score='bits' is a local-alignment score: mode must be 'local', got {mode!r}"
            )
        if params:
            raise ValueError(
                f"score='bits' scores with the homology head's own parameters; "
                f"{', '.join(sorted(params))} cannot be set"
            )
        hom = _homology_head(head, model)
        p = hom.params
        if min_score is not None:
            min_bits = validate.finite("min_score", min_score)
            min_score = float(hom.null.score_of_bits(min_bits))
        if composition and top_k is not None and targets is None:
            raise ValueError(
                "composition=True with top_k needs targets= (within one set the pair's shift "
                "depends on both sequences)"
            )
    elif composition:
        raise ValueError("composition=True corrects homology scores: it needs score='bits'")
    else:
        p = _make_params("global" if mode is None else mode, params)
    if traceback and score == "soft":
        raise ValueError(
            "traceback needs score='dp' (the soft-alignment score has no single alignment)"
        )
    top_k = None if top_k is None else validate.positive_int("top_k", top_k)
    min_score = None if min_score is None else validate.finite("min_score", min_score)
    validate.threads(threads)  # before the encoder runs
    dev = resolve_device(device, engine=True)

    # The encoder resolves "auto" for torch itself; the engine gets the resolved backend.
    emb = _as_embeddings(seqs, model=model, device=device, progress=progress, what="seqs")
    temb = (
        None
        if targets is None
        else _as_embeddings(targets, model=model, device=device, progress=progress, what="targets")
    )
    if temb is not None and temb.dim != emb.dim:
        raise ValueError(
            f"seqs and targets have embeddings of different widths: {emb.dim} and {temb.dim}"
        )
    raw_emb, raw_temb = emb, temb
    if hom is not None:  # the engine compares the head's vectors, not the encoder's
        emb = hom.vectors(emb)
        temb = None if temb is None else hom.vectors(temb)
    correction = None
    if hom is not None and composition:
        from .composition import composition_correction

        correction = composition_correction(raw_emb, hom, model=model)
        if min_score is not None:  # the engine's threshold admits every pair that may pass
            min_score = float(correction.raw_threshold(min_score).min())
    n = len(emb)
    n_t = n if temb is None else len(temb)
    kind = "dp" if score == "bits" else score  # what the engine computes
    from . import engine

    kw: Dict[str, Any] = {"targets": temb, "threads": threads, "device": dev}
    if isinstance(pairs, str):
        if pairs != "all":
            raise ValueError(f"pairs must be 'all' or an (m, 2) integer array, got {pairs!r}")
        m = n * (n - 1) // 2 if temb is None else n * n_t
        prog = _auto_progress(progress, m)
        if m == 0:
            qi = tj = np.zeros(0, dtype=np.int64)
            sc = np.zeros(0, dtype=np.float32)
        elif top_k is not None or min_score is not None:
            output = "topk" if top_k is not None else "threshold"
            qi, tj, sc = engine.all_vs_all(
                emb,
                p,
                score=kind,
                output=output,
                top_k=top_k,
                min_score=min_score,
                progress=prog,
                **kw,
            )
            qi, tj, sc = (np.asarray(x) for x in (qi, tj, sc))
            if top_k is not None and min_score is not None:
                keep = sc >= min_score
                qi, tj, sc = qi[keep], tj[keep], sc[keep]
        else:
            dense = np.asarray(
                engine.all_vs_all(
                    emb, p, score=kind, output="dense", progress=prog, diagonal=False, **kw
                )
            )
            if temb is None:
                qi, tj = np.triu_indices(n, k=1)
            else:
                qi, tj = (x.ravel() for x in np.indices((n, n_t)))
            sc = dense[qi, tj]
        qi = np.asarray(qi, dtype=np.int64)
        tj = np.asarray(tj, dtype=np.int64)
        sc = np.asarray(sc, dtype=np.float32)
    else:
        pr = validate.pairs(pairs, n, n_t)
        prog = _auto_progress(progress, len(pr))
        fn = engine.score_pairs if kind == "dp" else engine.soft_align_scores
        # the traceback below computes every score again: no separate scoring pass is needed
        # unless scores choose the pairs first (min_score, top_k) or a homology head shifts them
        rescored = traceback and kind == "dp" and hom is None
        sc = (
            np.asarray(fn(emb, pr, p, progress=prog, **kw), dtype=np.float32)
            if len(pr) and not (rescored and min_score is None and top_k is None)
            else np.zeros(len(pr), dtype=np.float32)
        )
        qi, tj = pr[:, 0].copy(), pr[:, 1].copy()
        keep = np.ones(len(pr), dtype=bool)
        if min_score is not None:
            keep &= sc >= min_score
        qi, tj, sc = qi[keep], tj[keep], sc[keep]
        if top_k is not None:
            rows = _top_k_per_query(qi, sc, top_k)
            qi, tj, sc = qi[rows], tj[rows], sc[rows]

    if correction is not None and min_score is not None:
        keep = hom.null.bits(_corrected(correction, sc, qi, tj, temb is None)) >= min_bits
        qi, tj, sc = qi[keep], tj[keep], sc[keep]
    alignments = None
    if traceback:
        sel = np.stack([qi, tj], axis=1)
        if len(sel):
            sc2, offs, path = engine.align_pairs(
                emb, sel, p, progress=_auto_progress(progress, len(sel)), **kw
            )
        else:
            sc2, offs, path = (
                np.zeros(0, np.float32),
                np.zeros(1, np.int64),
                np.zeros((0, 2), np.int32),
            )
        sc = np.asarray(sc2, dtype=np.float32)
        t = emb if temb is None else temb
        alignments = AlignmentList(
            sc,
            offs,
            path,
            qi,
            tj,
            lengths_a=emb.lengths,
            lengths_b=t.lengths,
            names_a=emb.names,
            names_b=t.names,
            seqs_a=emb.sequences,
            seqs_b=t.sequences,
            mode=p.mode,
        )
    if hom is None:
        return PairScores(
            qi,
            tj,
            sc,
            emb.names,
            None if temb is None else temb.names,
            alignments,
            kind=score,
            mode=p.mode,
        )
    t_len = (raw_emb if raw_temb is None else raw_temb).lengths
    from .bitscores import BitScores

    if correction is not None:
        sc = _corrected(correction, sc, qi, tj, temb is None)
    return BitScores(
        qi,
        tj,
        hom.null.bits(sc),
        emb.names,
        None if temb is None else temb.names,
        alignments,
        kind="bits",
        mode="local",
        null=hom.null,
        lengths=raw_emb.lengths,
        target_lengths=t_len,
    )


def _corrected(correction, raw, qi, tj, one_set: bool) -> np.ndarray:
    """Composition-corrected scores of pairs: the query's correction, or within one set (no query
    side) the mean of both sequences' corrections."""
    if not one_set:
        return correction.apply(raw, qi)
    return (correction.apply(raw, qi) + correction.apply(raw, tj)) / 2


def align_many_chunks(
    seqs,
    *,
    targets=None,
    chunk_pairs: int = 16384,
    traceback: bool = True,
    model=None,
    device: str = "auto",
    progress: Optional[bool] = None,
    score: str = "dp",
    mode: Optional[str] = None,
    top_k: Optional[int] = None,
    min_score: Optional[float] = None,
    threads: Optional[int] = None,
    skip_chunks: int = 0,
    **params,
):
    """:func:`align_many` as consecutive results of at most ``chunk_pairs`` pairs (in the order
    :func:`align_many` lists them), so that results never pile up in memory.

    With ``traceback`` the pairs are chosen and scored first (all-vs-all, ``top_k``,
    ``min_score``), then each chunk's alignments are computed when it is asked for (memory: a chunk
    plus 20 bytes per kept pair; cosine scores only, ``"dp"``). Without it, the pairs of "all" are
    cut into blocks of consecutive query rows holding about ``chunk_pairs`` pairs (at least one
    row), in (i, j) order, and each block is scored when asked for by the engine's tiled
    all-vs-all (``min_score`` filters within it): memory is a chunk whatever the number of pairs,
    and the scores equal :func:`align_many`'s. With
    ``top_k`` the chosen pairs (``top_k`` per query) are scored together, then yielded in chunks.
    ``skip_chunks``: the first chunks are not computed nor yielded (resuming an interrupted write);
    chunk k is the same whether or not earlier ones were skipped.
    """
    validate.one_of("score", score, ("dp",) if traceback else ("dp", "soft"))
    chunk_pairs = validate.positive_int("chunk_pairs", chunk_pairs)
    emb = _as_embeddings(seqs, model=model, device=device, progress=progress, what="seqs")
    temb = (
        None
        if targets is None
        else _as_embeddings(targets, model=model, device=device, progress=progress, what="targets")
    )
    common = dict(mode=mode, device=device, threads=threads, targets=temb, **params)
    if not traceback and top_k is None:
        p = _make_params("global" if mode is None else mode, params)
        min_score = None if min_score is None else validate.finite("min_score", min_score)
        kw = dict(threads=threads, device=resolve_device(device, engine=True))
        yield from _score_chunks(
            emb, temb, chunk_pairs, skip_chunks, progress, score, min_score, p, kw
        )
        return
    chosen = align_many(
        emb,
        top_k=top_k,
        min_score=min_score,
        progress=progress,
        traceback=False,
        score=score,
        **common,
    )
    m = len(chosen)
    for s in range(skip_chunks * chunk_pairs, max(m, 1), chunk_pairs):
        e = min(m, s + chunk_pairs)
        if not traceback:
            yield chosen.take(np.arange(s, e))
            continue
        sel = np.stack([chosen.i[s:e], chosen.j[s:e]], axis=1)
        yield align_many(emb, pairs=sel, traceback=True, progress=False, **common)


def _row_chunks(counts: np.ndarray, chunk_pairs: int) -> List[Tuple[int, int]]:
    """Consecutive query rows holding about ``chunk_pairs`` pairs each (at least one row): a pure
    function of the pair counts, so a resumed run cuts the same chunks."""
    chunks, start, held = [], 0, 0
    for row, c in enumerate(counts.tolist()):
        held += c
        if held >= chunk_pairs:
            chunks.append((start, row + 1))
            start, held = row + 1, 0
    if chunks and start < len(counts) and held == 0:  # rows without pairs join the last chunk
        chunks[-1] = (chunks[-1][0], len(counts))
    elif start < len(counts) or not chunks:
        chunks.append((start, len(counts)))
    return chunks


def _score_chunks(emb, temb, chunk_pairs, skip_chunks, progress, score, min_score, p, kw):
    """Every pair of "all" scored a block of query rows at a time (about ``chunk_pairs`` pairs),
    in (i, j) order (i < j within one set), each block by the engine's tiled all-vs-all."""
    from . import engine

    n = len(emb)
    counts = np.arange(n - 1, -1, -1) if temb is None else np.full(n, len(temb))
    chunks = _row_chunks(counts, chunk_pairs)
    bar = None
    if _auto_progress(progress, int(counts.sum())):
        from tqdm.auto import tqdm

        done = int(counts[: chunks[min(skip_chunks, len(chunks) - 1)][0]].sum())
        bar = tqdm(total=int(counts.sum()), initial=done, unit="pair", desc="align")
    try:
        for a, b in chunks[skip_chunks:]:
            q = emb.block(a, b)
            if temb is None:
                # the block's own triangle, then the block against every later row: scores for
                # columns a..n-1, of which those right of the diagonal are pairs i < j
                tri = np.full((b - a, b - a), np.nan, dtype=np.float32)
                if b - a > 1:
                    tri = engine.all_vs_all(q, p, score=score, diagonal=False, **kw)
                parts = [np.asarray(tri, dtype=np.float32)]
                if b < n:
                    rect = engine.all_vs_all(q, p, targets=emb.block(b, n), score=score, **kw)
                    parts.append(np.asarray(rect, dtype=np.float32))
                block = np.hstack(parts)
                r, c = np.triu_indices(b - a, k=1, m=n - a)
                i, j, sc = r + a, c + a, block[r, c]
            else:
                block = np.asarray(engine.all_vs_all(q, p, targets=temb, score=score, **kw))
                r, c = np.indices(block.shape)
                i, j, sc = r.ravel() + a, c.ravel(), block.ravel()
            if min_score is not None:
                keep = sc >= min_score
                i, j, sc = i[keep], j[keep], sc[keep]
            yield PairScores(
                np.asarray(i, dtype=np.int64),
                np.asarray(j, dtype=np.int64),
                np.asarray(sc, dtype=np.float32),
                emb.names,
                None if temb is None else temb.names,
                None,
                kind=score,
                mode=p.mode,
            )
            if bar is not None:
                bar.update(int(counts[a:b].sum()))
    finally:
        if bar is not None:
            bar.close()


def _homology_head(head, model):
    """The head for score="bits": the one given, the model's, or the shipped one for the shipped
    encoder."""
    from .heads import HomologyHead, load_homology_head

    if head is not None:
        return head if isinstance(head, HomologyHead) else load_homology_head(head)
    own = getattr(model, "homology_head", None)
    if own is not None:
        return own
    from ..model.checkpoint import DEFAULT_WEIGHTS

    source = (
        model
        if isinstance(model, (str, bytes)) or hasattr(model, "__fspath__")
        else getattr(model, "source", None)
    )
    import os
    import pathlib

    if model is None or (
        source is not None and pathlib.Path(os.fsdecode(source)).resolve() == DEFAULT_WEIGHTS
    ):
        return load_homology_head()
    raise ValueError(
        f"score='bits' needs a homology head, and the model {source or type(model).__name__} has "
        "none (only the shipped weights come with one): pass head=PATH of a head trained for "
        "this encoder, or use score='dp'"
    )


def _top_k_per_query(qi: np.ndarray, sc: np.ndarray, k: int) -> np.ndarray:
    """Rows keeping the k best scores of each query (stable on ties), in query-then-rank order."""
    order = np.lexsort((-sc.astype(np.float64), qi))
    q = qi[order]
    first = np.searchsorted(q, q, side="left")
    rank = np.arange(q.size) - first
    return order[rank < k]


def align_scores(
    S,
    mode: str = "global",
    gap_open: float = 1.0,
    gap_extend: float = 0.1,
    *,
    name_a: str = "a",
    name_b: str = "b",
    seq_a: Optional[str] = None,
    seq_b: Optional[str] = None,
    **params,
) -> Alignment:
    """Align with an explicit score matrix: bring your own scoring.

    Parameters
    ----------
    S : float array, shape (L_a, L_b)
        ``S[i, j]`` is the score of aligning base i of A with base j of B (times ``scale``, plus
        ``bias``, when those are given; any sign is fine in every mode).
    mode : {"global", "local", "semiglobal"}
    gap_open, gap_extend : float
        A gap of length k costs ``gap_open + k * gap_extend`` (end gaps included in global mode).
    name_a, name_b, seq_a, seq_b : optional
        Names and letters for the text forms of the result.
    **params
        Other :class:`AlignParams` fields: ``free_ends`` for semi-global, ``scale`` and ``bias``
        (default 1 and 0) to transform S.

    Returns
    -------
    Alignment
    """
    S = validate.matrix(S, "S")
    p, scale, bias = _matrix_params(mode, gap_open, gap_extend, dict(params))
    from . import engine

    scores, offs, path = engine.align_score_matrices(
        [_apply_scale_bias(S, scale, bias)], p, threads=1
    )
    return Alignment(
        float(scores[0]),
        path[offs[0] : offs[1]],
        S.shape[0],
        S.shape[1],
        name_a=name_a,
        name_b=name_b,
        seq_a=seq_a,
        seq_b=seq_b,
        mode=mode,
    )


def align_scores_many(
    matrices: Sequence,
    mode: str = "global",
    gap_open: float = 1.0,
    gap_extend: float = 0.1,
    *,
    reference: Optional[Sequence] = None,
    fp_margin: float = 0.0,
    fn_margin: float = 0.0,
    traceback: bool = True,
    threads: Optional[int] = None,
    **params,
) -> Union[List[Alignment], np.ndarray]:
    """Align a batch of explicit score matrices, optionally loss-augmented against reference
    alignments.

    Parameters
    ----------
    matrices : sequence of float arrays, shapes (L_a[p], L_b[p])
    mode, gap_open, gap_extend, **params
        As in :func:`align_scores`.
    reference : sequence of int arrays, shapes (k_p, 2), optional
        Reference aligned pairs of each matrix. With margins the engine maximises the loss-augmented
        objective score(A) + fp_margin * #(pairs of A not in the reference) + fn_margin *
        #(reference pairs missing from A), the inference step of structured hinge training (SAL).
    fp_margin, fn_margin : float
        The margins (>= 0); both 0 gives the plain optimum.
    traceback : bool
        False returns only the scores.
    threads : int, optional

    Returns
    -------
    list of Alignment (traceback) or float32 array, shape (m,)
        The score is the engine's objective, margins included.
    """
    mats = validate.matrices(list(matrices))
    p, scale, bias = _matrix_params(mode, gap_open, gap_extend, dict(params))
    mats = [_apply_scale_bias(S, scale, bias) for S in mats]
    fp_margin = validate.finite("fp_margin", fp_margin, minimum=0.0)
    fn_margin = validate.finite("fn_margin", fn_margin, minimum=0.0)
    from . import engine

    if not mats:
        return [] if traceback else np.zeros(0, dtype=np.float32)
    scores, offs, path = engine.align_score_matrices(
        mats,
        p,
        reference=reference,
        fp_margin=fp_margin,
        fn_margin=fn_margin,
        traceback=traceback,
        threads=threads,
    )
    scores = np.asarray(scores, dtype=np.float32)
    if not traceback:
        return scores
    return [
        Alignment(float(scores[k]), path[offs[k] : offs[k + 1]], S.shape[0], S.shape[1], mode=mode)
        for k, S in enumerate(mats)
    ]


__all__ = ["align", "align_many", "align_many_chunks", "align_scores", "align_scores_many"]
