"""The alignment behind a search hit, traced again for showing it: the query (or its reverse
complement) against the database unit the hit came from, under the database's scoring, exactly
as the search traced it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..alignment import engine
from ..alignment.alignment import Alignment
from .database import Database
from .searching import Hit, _Context, reverse_complement


@dataclass
class HitAlignment:
    """A hit's local alignment and what drawing it needs.

    ``alignment``: A is the query as searched (for a minus-strand hit its reverse complement,
    named "<query> (rc)"), B the database unit (the target, or the segment of a long target,
    starting at ``target_start``, 0-based); ``similarity`` (k,) the cosine of the scoring vectors
    of each aligned pair (the homology head's vectors, or the encoder's for a cosine database)."""

    hit: Hit
    alignment: Alignment
    similarity: np.ndarray
    target_start: int


def _unit_of(db: Database, hit: Hit) -> int:
    """The unit whose span holds the hit (the first of overlapping segments that does)."""
    units = db.units
    targets = units.column("target").to_pylist()
    starts = units.column("start").to_numpy()
    lengths = units.column("length").to_numpy()
    lo, hi = min(hit.tstart, hit.tend) - 1, max(hit.tstart, hit.tend)
    for u, name in enumerate(targets):
        if name == hit.target and starts[u] <= lo and hi <= starts[u] + lengths[u]:
            return u
    raise ValueError(f"hit on {hit.target}:{hit.tstart}-{hit.tend} is in no unit of {db.path}")


def hit_alignment(
    db,
    hit: Hit,
    query: str,
    *,
    model=None,
    head="auto",
    device: str = "auto",
    threads: Optional[int] = None,
) -> HitAlignment:
    """Trace the alignment of ``hit`` again: the query sequence ``query`` (its letters, on the plus
    strand) against the hit's database unit.

    The engine is deterministic and the composition correction only shifts a query's scores, so
    the path is the one the search reported (its coordinates are checked against the hit).
    """
    from ..backends import resolve_device
    from ..model.inference import embed_records, resolve_model
    from ..seqs import SeqRecord
    from .database import _torch_device

    db = db if isinstance(db, Database) else Database.open(db)
    net = resolve_model(model, _torch_device(device))
    db.check_model(net)
    scoring = db.query_scoring(net, head)
    u = _unit_of(db, hit)
    # the search's own view of the database: the unit's stored rows as it scores them
    engine_device = resolve_device(device, engine=True)
    ctx = _Context(db, scoring, net, (hit.strand,), 1, engine_device, threads, cache_bytes=0)
    t0 = int(ctx.starts[u])
    tseq = ctx.unit_seqs[u].as_py()
    target = ctx.unit_block(np.array([u], np.int64))
    rows = target.values
    piece = query if hit.strand == "+" else reverse_complement(query)
    vec = scoring.vectors(embed_records(net, [SeqRecord(hit.query, piece)]))
    pair = np.zeros((1, 2), np.int64)
    score, offs, path = engine.align_pairs(vec, pair, scoring.params, targets=target, **ctx.kw)
    path = np.asarray(path[offs[0] : offs[1]], dtype=np.int64)
    aln = Alignment(
        float(score[0]),
        path,
        len(piece),
        len(tseq),
        name_a=hit.query if hit.strand == "+" else f"{hit.query} (rc)",
        name_b=hit.target,
        seq_a=piece,
        seq_b=tseq,
        mode="local",
    )
    if len(path):
        js = (path[0, 1], path[-1, 1]) if hit.strand == "+" else (path[-1, 1], path[0, 1])
        if (t0 + int(js[0]) + 1, t0 + int(js[1]) + 1) != (hit.tstart, hit.tend):
            raise ValueError(
                f"hit {hit.query} -> {hit.target}:{hit.tstart}-{hit.tend} was not found again "
                "(was the database searched with another head or model?)"
            )
    a = vec.values[path[:, 0]].astype(np.float64)
    b = rows[path[:, 1]].astype(np.float64)
    norm = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    similarity = (a * b).sum(axis=1) / np.maximum(norm, 1e-12)
    return HitAlignment(hit, aln, similarity, t0)
