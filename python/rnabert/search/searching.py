"""Homolog search: queries against an on-disk database, hits with bits, E-values and coordinates.

For each query (and, with ``strand="minus"|"both"``, its reverse complement, as blastn searches the
minus strand):

1. prefilter: a local alignment of *coarse* vectors (the head's vectors summed over blocks of 4
   bases, stored in the database) against every unit, in the engine; the ``candidates`` best units
   go on. Pooled-vector k-NN was measured first and keeps too few homologs (recall 0.75 of the
   exhaustive hits with E ≤ 0.01 at 400 candidates of 3,134), because the head's vectors are
   centred on each sequence's mean: their mean says little about the family.
2. rescoring: the full local alignment of the query against each candidate under the database's
   scoring (the homology head by default); E = Z·m'·n'·2^(−bits), the pair's own expected count
   times Z, the number of units searched (× 2 when both strands are), as HMMER reports
   per-sequence E-values. Summed over the database it is calibrated like BLAST's m'·N form, but
   it ranks a hit by its significance against its own target's length, which measurably ranks
   homologs better (validation families, exhaustive: ROC1 0.957 -> 0.960, sensitivity at one
   false positive per query 0.846 -> 0.859, decoy hits with E ≤ 1 per query 1.88 -> 1.42);
3. the hits with E ≤ ``max_evalue`` are aligned again with traceback for their coordinates,
   identity and gaps; hits of overlapping segments of one long target are merged (the best kept).

``exhaustive=True`` skips the prefilter; by default (``None``) a database of at most
``AUTO_EXHAUSTIVE × candidates`` units is searched exhaustively: there the prefilter saves little
(validation families, 3,134 targets: 11.2 vs 8.2 queries/s) and loses weak homologs (ROC1 0.920 vs
0.960), while at 10^5 targets it is 9–18× faster in most runs (benchmarks/RESULTS.md). With a
database of plain cosine vectors (a model without a homology head) there is no null model: hits
carry the raw local score and no E-value.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
from dataclasses import astuple, dataclass, fields
from typing import List, Optional, Tuple

import numpy as np

from ..alignment import engine
from ..embeddings import Embeddings
from ..outputs import run_key
from .database import Database, coarse_vectors

COLUMNS = (
    "query",
    "target",
    "bits",
    "evalue",
    "qstart",
    "qend",
    "tstart",
    "tend",
    "strand",
    "aln_len",
    "identity",
    "gaps",
)
FORMATS = ("tsv", "json", "parquet")
_COMPLEMENT = str.maketrans("ACGURYKMBVDHNacgurykmbvdhn", "UGCAYRMKVBHDNugcayrmkvbhdn")
AUTO_EXHAUSTIVE = 20  # search exhaustively when the database has at most 20 × candidates units
_UNIT_BLOCK_ROWS = 2_000_000  # database rows (bases) per engine call
# coarse rows per prefilter call: they are read in place from the memory map (no copy), so a call
# covers ~330,000 units of 100 nt: fewer calls, each with its worker threads' start and end, and
# one top-k; the bound keeps a call short enough (about a second) for Ctrl-C to be seen between
_COARSE_BLOCK_ROWS = 1 << 23


@dataclass
class Hit:
    """One hit, BLAST-tabular-like: 1-based inclusive coordinates; on the minus strand tstart >
    tend (the query aligns to the reverse complement of target[tend..tstart]). ``bits`` is the raw
    local score and ``evalue`` NaN for a database without a null model (plain cosine)."""

    query: str
    target: str
    bits: float
    evalue: float
    qstart: int
    qend: int
    tstart: int
    tend: int
    strand: str
    aln_len: int
    identity: float
    gaps: int


def reverse_complement(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


def search(
    queries,
    db,
    *,
    model=None,
    head="auto",
    max_evalue: float = 10.0,
    exhaustive: Optional[bool] = None,
    strand: str = "plus",
    candidates: int = 200,
    max_hits: int = 500,
    min_score: Optional[float] = None,
    output=None,
    format: Optional[str] = None,
    resume: bool = False,
    alignments=None,
    batch_queries: int = 16,
    cache_bytes: int = 2 << 30,
    threads: Optional[int] = None,
    device: str = "auto",
    progress: Optional[bool] = None,
    composition: bool = True,
) -> List[Hit]:
    """Search ``queries`` against the database ``db``.

    Parameters
    ----------
    queries : FASTA path or anything ``rnabert.embed`` reads
        Queries longer than the model's 440 positions are embedded in windows, as ``embed`` does.
    db : Database or path
    model : the encoder; default the shipped one. It must be the database's (checked).
    head : the homology head the database was built with: "auto" (the model's or the shipped
        one) or a path (checked against the database's fingerprint of it).
    max_evalue : report hits with E ≤ this (default 10).
    composition : give each query its own null from 8 dinucleotide shuffles of itself (homology
        databases with a head that carries a composition reference; see
        :mod:`rnabert.alignment.composition`): composition-biased queries stop reporting unrelated
        RNAs of their composition, pooled sensitivity rises (validation families: 0.860 → 0.888
        at one false positive per query) and E-values are calibrated (shuffled decoys per query
        at E ≤ 0.01 / 1: 0.19 / 2.7 → 0.02 / 1.3). Costs 8 encoder passes per query.
    exhaustive : True: rescore every unit; False: only the prefilter's candidates; None (default):
        exhaustive for a database of at most ``AUTO_EXHAUSTIVE × candidates`` units.
    strand : "plus", "minus" or "both" (the reverse complement of the query is searched too).
    candidates : units per query (and strand) that pass the prefilter.
    max_hits : most hits reported per query, best first.
    min_score : for a cosine database (no E-values): the least raw score reported.
    output, format : write hits to ``output`` ("tsv" with a header line, "json" lines, or
        "parquet"; default from the suffix, else tsv), batch by batch of queries as they are
        searched, into ``output.partial`` (see :class:`rnabert.outputs.ResumableOutput`), renamed
        onto ``output`` when the search completes. The output may not be an input.
    cache_bytes : the database's vectors are held in memory as fp32 while they fit in this many
        bytes (default 2 GiB), else read from the memory map batch by batch.
    alignments : path, optional
        Also write each query's hits as a query-anchored Stockholm alignment (one block per
        query: the query, then each hit's bases at the query positions it aligns to, named
        target/tstart-tend; bases the target inserts between query positions are not shown),
        batch by batch as ``output`` is.
    resume : continue an interrupted search into ``output`` (every format) and ``alignments``
        after their last complete batch of queries: the files are byte-identical to an
        uninterrupted run's. Refused (ValueError) when the partial files were written by a run
        with other queries, database or options, or do not agree with each other.
    batch_queries : queries searched (and written) per batch: the resume step.

    Returns
    -------
    list of Hit, per query in input order, each query's hits sorted by E-value (or score); after
    ``resume``, only the hits of the queries searched by this call (the file holds them all).
    Each unit (a target, or a segment of a long one) gives at most one hit: its best local
    alignment.
    """
    from ..alignment import validate
    from ..backends import resolve_device
    from ..model.inference import resolve_model
    from ..seqs import records_from
    from .database import _torch_device

    if strand not in ("plus", "minus", "both"):
        raise ValueError(f"strand must be 'plus', 'minus' or 'both', got {strand!r}")
    if not (max_evalue > 0):
        raise ValueError(f"max_evalue must be > 0, got {max_evalue!r}")
    candidates = validate.positive_int("candidates", candidates)
    max_hits = validate.positive_int("max_hits", max_hits)
    batch_queries = validate.positive_int("batch_queries", batch_queries)
    fmt = _format_of(output, format)
    db = db if isinstance(db, Database) else Database.open(db)
    inputs = input_files(queries, db)
    check_outputs(output, alignments, inputs)  # before any work
    net = resolve_model(model, _torch_device(device))
    db.check_model(net)
    scoring = db.query_scoring(model, head)
    records = list(records_from(queries))
    if not records:
        raise ValueError("no query sequences")
    engine_device = resolve_device(device, engine=True)
    if exhaustive is None:
        exhaustive = len(db) <= AUTO_EXHAUSTIVE * candidates
    strands = {"plus": ("+",), "minus": ("-",), "both": ("+", "-")}[strand]
    space = len(db) * len(strands)  # Z: units searched
    ctx = _Context(db, scoring, net, strands, space, engine_device, threads, cache_bytes)
    ctx.composition = (
        composition
        and scoring.kind == "homology"
        and getattr(scoring.head, "composition_reference", None) is not None
    )

    # what the files depend on: a resumed search must be the same search
    options = {
        "queries_sha256": _records_sha256(records),
        "max_evalue": max_evalue,
        "exhaustive": exhaustive,
        "strand": strand,
        "candidates": candidates,
        "max_hits": max_hits,
        "min_score": min_score,
        "format": fmt,
        "alignments": alignments is not None,
        "composition": ctx.composition,
        "scoring": scoring.to_dict(),
        "batch_queries": batch_queries,
        "device": device,
    }
    outputs = _Outputs(output, fmt, alignments, run_key(options, inputs), resume)
    if alignments is not None:
        ctx.rows = {}
    start = outputs.chunks * batch_queries
    bar = None
    if progress or (progress is None and len(records) > 20):
        from tqdm.auto import tqdm

        bar = tqdm(total=len(records), initial=min(start, len(records)), unit="query",
                   desc="search")  # fmt: skip
    hits: List[Hit] = []
    try:
        for b in range(start, len(records), batch_queries):
            batch = records[b : b + batch_queries]
            found = ctx.search_batch(batch, exhaustive, candidates, max_evalue, min_score, max_hits)
            hits.extend(found)
            outputs.write(b // batch_queries, batch, found, ctx.rows, b + len(batch))
            if bar is not None:
                bar.update(len(batch))
        outputs.finish()
    finally:
        if bar is not None:
            bar.close()
        outputs.close()
    return hits


class _Context:
    """What every batch of queries needs: the database's blocks, scoring and search space."""

    def __init__(self, db: Database, scoring, net, strands, space, device, threads, cache_bytes):
        self.db, self.scoring, self.net = db, scoring, net
        self.strands, self.space = strands, space
        self.kw = {"threads": threads, "device": device}
        units = db.units
        self.lengths = units.column("length").to_numpy().astype(np.int64)
        self.starts = units.column("start").to_numpy().astype(np.int64)
        self.targets = units.column("target")  # read per hit: a list of 10^5 names costs 10 ms
        self.unit_seqs = units.column("sequence")
        self.offsets = np.zeros(len(self.lengths) + 1, np.int64)
        np.cumsum(self.lengths, out=self.offsets[1:])
        crows = -(-self.lengths // db.coarse_factor)
        self.coffsets = np.zeros(len(self.lengths) + 1, np.int64)
        np.cumsum(crows, out=self.coffsets[1:])
        self.blocks = _blocks(self.offsets, _UNIT_BLOCK_ROWS)
        self.coarse_blocks = _blocks(self.coffsets, _COARSE_BLOCK_ROWS)
        self._cache = {}
        self.rows = None  # id(hit) -> query-anchored aligned row, when alignments are written
        self.composition = False
        self.cache_bytes = cache_bytes

    def _store(self, coarse: bool) -> np.ndarray:
        """The database's vectors as fp32: the coarse ones are fp32 on disk (memory-mapped, no
        copy); fp16 per-base vectors are converted once per search while they fit the cache
        budget, else block by block. The stored rows are used as the unit vectors they were
        written as (no renormalisation after fp16 rounding), so every path scores alike."""
        if coarse:
            return self.db.coarse
        if "vectors" not in self._cache:
            mm = self.db.vectors
            fits = mm.dtype == np.float32 or mm.size * 4 <= self.cache_bytes
            self._cache["vectors"] = np.asarray(mm, dtype=np.float32) if fits else mm
        return self._cache["vectors"]

    def unit_block(self, units: np.ndarray, coarse: bool = False) -> Embeddings:
        """Vectors of the given units, as one block for the engine."""
        offs = self.coffsets if coarse else self.offsets
        store = self._store(coarse)
        if len(units) and units[-1] - units[0] + 1 == len(units):  # a range: one slice
            values = store[offs[units[0]] : offs[units[-1] + 1]]
        else:
            values = np.concatenate([store[offs[u] : offs[u + 1]] for u in units])
        lens = offs[units + 1] - offs[units]
        o = np.zeros(len(units) + 1, np.int64)
        np.cumsum(lens, out=o[1:])
        emb = Embeddings(np.asarray(values, dtype=np.float32), o)
        emb._unit = emb.values  # stored as unit rows: the engine need not normalise again
        return emb

    def search_batch(self, records, exhaustive, candidates, max_evalue, min_score, max_hits):
        from ..model.inference import embed_records
        from ..seqs import SeqRecord

        pieces, owner, piece_strand = [], [], []
        for qi, r in enumerate(records):
            for s in self.strands:
                seq = r.seq if s == "+" else reverse_complement(r.seq)
                pieces.append(SeqRecord(f"p{len(pieces)}", seq))
                owner.append(qi)
                piece_strand.append(s)
        emb = embed_records(self.net, pieces)
        vec = self.scoring.vectors(emb)
        qlen = vec.lengths
        if exhaustive:
            pairs, raw = self.score_all(vec)
        else:
            pairs = self.prefilter(vec, candidates)
            raw = self.rescore(vec, pairs)
        null = self.scoring.null
        if self.composition and len(raw):
            from ..alignment.composition import composition_correction

            # each query piece's own null: its scores shifted by its composition excess and
            # scaled down where its own shuffles scatter widely (the calibrated E-values need both)
            correction = composition_correction(emb, self.scoring.head, model=self.net)
            raw = correction.apply(raw, pairs[:, 0])
        if null is not None:
            evalue = null.evalue(raw, qlen[pairs[:, 0]], self.lengths[pairs[:, 1]]) * self.space
            keep = evalue <= max_evalue
            score = null.bits(raw)
        else:
            evalue = np.full(len(raw), np.nan)
            keep = raw >= (min_score if min_score is not None else 0.0)
            keep &= raw > 0
            score = raw.astype(np.float64)
        pairs, score, evalue = pairs[keep], score[keep], evalue[keep]
        # at most max_hits (plus room for merged segments) per piece go to the traceback
        order = np.lexsort((-score, pairs[:, 0]))
        pairs, score, evalue = pairs[order], score[order], evalue[order]
        first = np.searchsorted(pairs[:, 0], pairs[:, 0], side="left")
        rank = np.arange(len(pairs)) - first
        sel = rank < 2 * max_hits
        pairs, score, evalue = pairs[sel], score[sel], evalue[sel]
        hits_per_query: List[List[Hit]] = [[] for _ in records]
        if len(pairs):
            hits = self.traced(vec, pieces, pairs, score, evalue, piece_strand, records, owner)
            for q, h in hits:
                hits_per_query[q].append(h)
        out: List[Hit] = []
        for hs in hits_per_query:
            out.extend(_best_first(_merge_segments(hs))[:max_hits])
        return out

    def prefilter(self, vec: Embeddings, candidates: int) -> np.ndarray:
        """(piece, unit) pairs: each piece's ``candidates`` best units by coarse local score."""
        p = self.scoring.params
        cq_values, cq_offsets = coarse_vectors(vec, self.db.coarse_factor)
        cq = Embeddings(cq_values, cq_offsets)
        qi, tj, sc = [], [], []
        for u0, u1 in self.coarse_blocks:
            block = self.unit_block(np.arange(u0, u1), coarse=True)
            k = min(candidates, u1 - u0)
            i, j, s = engine.all_vs_all(cq, p, targets=block, output="topk", top_k=k, **self.kw)
            qi.append(np.asarray(i))
            tj.append(np.asarray(j) + u0)
            sc.append(np.asarray(s))
        qi, tj, sc = np.concatenate(qi), np.concatenate(tj), np.concatenate(sc)
        order = np.lexsort((tj, -sc.astype(np.float64), qi))  # ties: the earlier unit
        qi, tj = qi[order], tj[order]
        first = np.searchsorted(qi, qi, side="left")
        keep = (np.arange(len(qi)) - first) < candidates
        return np.stack([qi[keep], tj[keep]], axis=1).astype(np.int64)

    def score_all(self, vec: Embeddings) -> Tuple[np.ndarray, np.ndarray]:
        """Every (piece, unit) pair and its local-alignment score, a block of units at a time."""
        pairs, raw = [], []
        p = self.scoring.params
        for u0, u1 in self.blocks:
            block = self.unit_block(np.arange(u0, u1))
            dense = np.asarray(engine.all_vs_all(vec, p, targets=block, **self.kw))
            i, j = np.indices(dense.shape)
            pairs.append(np.stack([i.ravel(), j.ravel() + u0], axis=1))
            raw.append(dense.ravel().astype(np.float64))
        return np.concatenate(pairs).astype(np.int64), np.concatenate(raw)

    def rescore(self, vec: Embeddings, pairs: np.ndarray) -> np.ndarray:
        """Full local-alignment scores of (piece, unit) pairs: the candidate units' vectors
        gathered (fp32) in groups of about ``_UNIT_BLOCK_ROWS`` rows, one engine call each (one,
        for a few queries' candidates)."""
        raw = np.empty(len(pairs), np.float64)
        units, inverse = np.unique(pairs[:, 1], return_inverse=True)
        inverse = inverse.ravel()
        rows = np.zeros(len(units) + 1, np.int64)
        np.cumsum(self.lengths[units], out=rows[1:])
        for g0, g1 in _blocks(rows, _UNIT_BLOCK_ROWS):
            mine = np.nonzero((inverse >= g0) & (inverse < g1))[0]
            block = self.unit_block(units[g0:g1])
            sub = np.stack([pairs[mine, 0], inverse[mine] - g0], axis=1)
            raw[mine] = engine.score_pairs(vec, sub, self.scoring.params, targets=block, **self.kw)
        return raw

    def traced(self, vec, pieces, pairs, score, evalue, piece_strand, records, owner):
        units, local = np.unique(pairs[:, 1], return_inverse=True)
        block = self.unit_block(units)
        sub = np.stack([pairs[:, 0], local.ravel()], axis=1)
        _, poffs, path = engine.align_pairs(vec, sub, self.scoring.params, targets=block, **self.kw)
        out = []
        for k, (pi, u) in enumerate(pairs):
            pth = path[poffs[k] : poffs[k + 1]]
            if len(pth) == 0:
                continue
            i, j = pth[:, 0].astype(np.int64), pth[:, 1].astype(np.int64)
            qseq, tseq = pieces[pi].seq, self.unit_seqs[int(u)].as_py()
            same = sum(qseq[a] == tseq[b] for a, b in zip(i, j))
            gaps = int((np.diff(i) - 1).sum() + (np.diff(j) - 1).sum())
            aln_len = len(pth) + gaps
            t0 = int(self.starts[u])
            if piece_strand[pi] == "+":
                qs, qe = int(i[0]) + 1, int(i[-1]) + 1
                ts, te = t0 + int(j[0]) + 1, t0 + int(j[-1]) + 1
            else:  # positions of the reverse-complemented query, back on the query's own strand
                L = len(qseq)
                qs, qe = L - int(i[-1]), L - int(i[0])
                ts, te = t0 + int(j[-1]) + 1, t0 + int(j[0]) + 1
            q = owner[pi]
            h = Hit(
                records[q].name,
                self.targets[int(u)].as_py(),
                float(score[k]),
                float(evalue[k]),
                qs,
                qe,
                ts,
                te,
                piece_strand[pi],
                int(aln_len),
                round(float(same) / aln_len, 4),
                gaps,
            )
            out.append((q, h))
            if self.rows is not None:  # query-anchored row: the target base at each query position
                row = ["-"] * len(qseq)
                if piece_strand[pi] == "+":
                    for a, b in zip(i, j):
                        row[a] = tseq[b]
                else:
                    L = len(qseq)
                    for a, b in zip(i, j):
                        row[L - 1 - a] = tseq[b].translate(_COMPLEMENT)
                self.rows[id(h)] = "".join(row)
        return out


def _stockholm_text(records, hits: List[Hit], rows) -> str:
    """One Stockholm block per query of the batch (its hits' rows are taken from ``rows``)."""
    fh = io.StringIO()
    by_query = {}
    for h in hits:
        by_query.setdefault(h.query, []).append(h)
    for r in records:
        mine = by_query.get(r.name, [])
        names = [r.name] + [f"{h.target}/{h.tstart}-{h.tend}" for h in mine]
        width = max(len(n) for n in names) + 2
        fh.write(f"# STOCKHOLM 1.0\n#=GF ID {r.name}\n")
        fh.write("#=GF DE rnabert search hits, query-anchored (target insertions not shown)\n")
        fh.write(f"{r.name:<{width}}{r.seq}\n")
        for n, h in zip(names[1:], mine):
            fh.write(f"{n:<{width}}{rows.pop(id(h))}\n")
        fh.write("//\n")
    return fh.getvalue()


def _blocks(offsets: np.ndarray, rows: int):
    """Ranges of units holding about ``rows`` database rows each."""
    out, u0 = [], 0
    n = len(offsets) - 1
    while u0 < n:
        u1 = int(np.searchsorted(offsets, offsets[u0] + rows, side="right")) - 1
        u1 = max(u1, u0 + 1)
        u1 = min(u1, n)
        out.append((u0, u1))
        u0 = u1
    return out


def _best_first(hits: List[Hit]) -> List[Hit]:
    if hits and not np.isnan(hits[0].evalue):
        return sorted(hits, key=lambda h: (h.evalue, -h.bits, h.target, min(h.tstart, h.tend)))
    return sorted(hits, key=lambda h: (-h.bits, h.target, min(h.tstart, h.tend)))


def _merge_segments(hits: List[Hit]) -> List[Hit]:
    """One hit per place: a hit overlapping a better one of the same target and strand by more
    than half of the shorter (the same alignment, seen in two overlapping segments) is dropped."""
    kept: List[Hit] = []
    by_place = {}
    for h in sorted(hits, key=lambda h: -h.bits):
        lo, hi = min(h.tstart, h.tend), max(h.tstart, h.tend)
        place = by_place.setdefault((h.target, h.strand), [])
        if any(min(hi, b) - max(lo, a) + 1 > 0.5 * min(hi - lo, b - a) + 0.5 for a, b in place):
            continue
        place.append((lo, hi))
        kept.append(h)
    return kept


def _format_of(output, format: Optional[str]) -> str:
    if format is not None:
        if format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
        return format
    suffix = pathlib.Path(os.fspath(output)).suffix.lower() if output is not None else ""
    return {".json": "json", ".jsonl": "json", ".parquet": "parquet"}.get(suffix, "tsv")


def format_row(h: Hit) -> str:
    ev = "nan" if np.isnan(h.evalue) else f"{h.evalue:.3g}"
    vals = astuple(h)
    return "\t".join([*vals[:2], f"{h.bits:.1f}", ev, *(str(v) for v in vals[4:])])


def check_outputs(output, alignments, inputs) -> None:
    """Raise ValueError (one line) if the hits file or the alignments file cannot be written, is
    an input, or both name one file: called before any work."""
    from ..outputs import check_output, same_file

    for path in (output, alignments):
        if path is not None:
            check_output(path, inputs)
    if output is not None and alignments is not None and same_file(output, alignments):
        raise ValueError(f"the hits and the alignments would both go to {os.fspath(output)}")


def input_files(queries, db: Database) -> list:
    """The files a search reads: the queries' file (when given by path) and the database's."""
    files = [os.fspath(queries)] if isinstance(queries, (str, os.PathLike)) else []
    return files + sorted(str(p) for p in db.path.iterdir() if p.is_file())


def _records_sha256(records) -> str:
    import hashlib

    h = hashlib.sha256()
    for r in records:
        h.update(f"{r.name}\t{r.seq}\n".encode())
    return h.hexdigest()


class _Outputs:
    """The search's files, written batch by batch of queries through
    :class:`~rnabert.outputs.ResumableOutput`: the hits (tsv and json lines continued in one
    partial file, Parquet one part per batch joined at the end) and the Stockholm alignments.

    Each batch's alignments are recorded complete before its hits, so that after an interruption
    the alignments are at most one batch ahead of the hits; a resumed search goes on after the
    hits' last complete batch and does not write again the batch the alignments already hold
    (batches are deterministic: those are the same bytes). Without a hits file the alignments
    set the pace."""

    def __init__(self, output, fmt: str, alignments, key: str, resume: bool):
        from ..outputs import ResumableOutput

        self.fmt = fmt
        self.hits = self.sto = None
        if output is not None:
            self.hits = ResumableOutput(output, key, resume=resume, parts=fmt == "parquet")
        if alignments is not None:
            # a hits file started again starts its alignments again too
            again = resume and (self.hits is None or self.hits.resumed)
            try:
                self.sto = ResumableOutput(alignments, key, resume=again)
            except ValueError:
                self.close()
                raise
        lead = self.hits if self.hits is not None else self.sto
        self.chunks = lead.chunks if lead is not None else 0
        if self.hits is not None and self.sto is not None:
            if not self.chunks <= self.sto.chunks <= self.chunks + 1:
                self.close()
                raise ValueError(
                    f"{self.sto.partial} holds {self.sto.chunks} batch(es) of alignments but "
                    f"{self.hits.partial} {self.chunks} of hits: run without resume to start again"
                )

    def write(self, k: int, batch, found: List[Hit], rows, queries_done: int) -> None:
        """Batch ``k``'s hits (and alignments), recorded complete once on disk."""
        if self.sto is not None:
            text = _stockholm_text(batch, found, rows)  # always: it takes the batch's rows
            if k >= self.sto.chunks:
                self.sto.file.write(text.encode("utf-8"))
                self.sto.chunk_done(queries=queries_done)
        if self.hits is None:
            return
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            cols = {f.name: [getattr(h, f.name) for h in found] for f in fields(Hit)}
            part = self.hits.part_path(k)
            pq.write_table(pa.table(cols, schema=_arrow_schema()), part + ".tmp")
            os.replace(part + ".tmp", part)
        else:
            text = "\t".join(COLUMNS) + "\n" if k == 0 and self.fmt == "tsv" else ""
            self.hits.file.write((text + _hits_text(found, self.fmt)).encode("utf-8"))
        self.hits.chunk_done(queries=queries_done)

    def finish(self) -> None:
        """Every batch is written: the files go in place, the hits first (alignments left
        partial by an interruption here are written again by the next run, not mixed)."""
        from ..outputs import join_parquet_parts

        if self.hits is not None:
            with self.hits.finish() as tmp:
                if self.fmt == "parquet":
                    parts = [self.hits.part_path(k) for k in range(self.hits.chunks)]
                    join_parquet_parts(parts, tmp)
        if self.sto is not None:
            with self.sto.finish():
                pass

    def close(self) -> None:
        for out in (self.hits, self.sto):
            if out is not None:
                out.close()


def _hits_text(hits: List[Hit], fmt: str) -> str:
    if fmt == "tsv":
        return "".join(format_row(h) + "\n" for h in hits)
    out = []
    for h in hits:
        d = h.__dict__.copy()
        d["evalue"] = None if np.isnan(h.evalue) else h.evalue
        out.append(json.dumps(d) + "\n")
    return "".join(out)


def _arrow_schema():
    import pyarrow as pa

    types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64()}
    return pa.schema([(f.name, types[str(f.type)]) for f in fields(Hit)])
