"""``rnabert.cluster``: RNA families from homology bits, without being told how many there are.

The similarity of two sequences is their pair significance: the homology head's local-alignment
bits minus log2 of the pair's search space (−log2 of the pair's own E-value), so that short and long
sequences are judged alike. The default clustering is average linkage cut at ``threshold`` bits
(10, chosen on training families; ARI 0.96–0.97 on validation families, benchmarks/RESULTS.md).

Small inputs (up to ``dense_max`` sequences) are clustered from the dense matrix. Larger ones never
hold it: the all-vs-all streams in tiles (``rnabert.execute``, optionally on Ray, resumable in
``out_dir``) and keeps only pairs at or above the threshold. Average linkage at a threshold never
joins two groups that no such pair links, so each connected component of that graph is clustered on
its own by exact average linkage (its pairs rescored): the same clusters as the dense path, at a
cost of the component sizes squared. A component larger than ``component_max`` is split by Leiden
on its edges instead (said in ``Clusters.info``).

The head's vectors are computed a chunk at a time and, when large, kept in a file (``vectors``), so
memory does not hold them whole; a search database brings its own stored vectors, used as they are.
"""

from __future__ import annotations

import os
import pathlib
from typing import Optional

import numpy as np

from ..embeddings import Embeddings
from .linkage import average_linkage, canonical, components, leiden, spectral
from .result import Clusters
from .vectors import HeadVectors

DEFAULT_THRESHOLD = 10.0  # bits of pair significance: chosen on 150 training families
DENSE_MAX = 3000  # largest input (and component) clustered from a dense matrix: ~250 MB
PREFILTER_MIN = 20_000  # above this many sequences, align only prefiltered candidate pairs
DEFAULT_CANDIDATES = 100  # nearest pooled vectors per sequence on the prefilter path
METHODS = ("auto", "average", "leiden", "components")


def cluster(
    seqs,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    method: str = "auto",
    n_clusters: Optional[int] = None,
    top_k: int = 0,
    model=None,
    head=None,
    device: str = "auto",
    threads: Optional[int] = None,
    out_dir: Optional[os.PathLike] = None,
    executor: str = "local",
    ray_address: Optional[str] = None,
    block: Optional[int] = None,
    dense_max: int = DENSE_MAX,
    component_max: int = DENSE_MAX,
    prefilter: Optional[int] = None,
    seed: int = 0,
    progress: Optional[bool] = None,
) -> Clusters:
    """Cluster RNAs into families by homology.

    Parameters
    ----------
    seqs : Embeddings (with sequences), a search Database, or anything ``rnabert.embed`` reads
        FASTA/Stockholm path, list of strings or (name, seq) pairs, records. Names must be unique.
        A ``rnabert.Database`` (or the path of its directory) is clustered from its stored scoring
        and pooled vectors, without embedding again; it must hold one unit per sequence and have
        been built with this model and head (else ``DatabaseError``).
    threshold : float
        Bits of pair significance (−log2 of the pair's E-value) at which average linkage stops
        merging, and the edge threshold of the graph methods.
    method : {"auto", "average", "leiden", "components"}
        "auto": average linkage (dense up to ``dense_max`` sequences, by components above).
        "average": the same. "leiden": Leiden communities of the graph of pairs ≥ threshold (plus
        ``top_k`` partners each). "components": its connected components (single linkage).
    n_clusters : int, optional
        Spectral clustering into exactly this many clusters (the original RNABERT protocol, for
        comparison; dense, up to ``dense_max`` sequences).
    top_k : int
        Also link each sequence to its ``top_k`` most significant partners (graph methods).
    model, head, device
        Encoder and homology head (default: the shipped ones); where the encoder runs.
    threads : int, optional
        CPU threads of the engine (default: all cores).
    out_dir : path, optional
        Run directory for large inputs: embeddings, edge shards per tile and the final edges
        (Parquet); an interrupted run given the same directory resumes where it stopped.
    executor : {"local", "ray"}
        Where the tiles of a large all-vs-all run (``ray_address``: an existing Ray cluster).
    block : int, optional
        Sequences per tile side (default 256).
    dense_max : int
        Largest input clustered from a dense matrix (above: streamed tiles and components).
    component_max : int
        Largest component clustered by exact average linkage (above: Leiden on its edges).
    prefilter : int, optional
        Align only each sequence's ``prefilter`` nearest neighbours by pooled homology vector
        (cost near N·k instead of N²/2; homologs outside the k nearest are missed). None: exhaustive
        up to 20,000 sequences, 100 neighbours above; 0: always exhaustive. Not resumable.
    seed : int
        Seeds Leiden and spectral clustering.
    progress : bool, optional
        Progress bars (None: on long runs in a terminal).

    Returns
    -------
    Clusters
        One row per input sequence, in input order: cluster, representative (medoid), bits and
        E-value to it; ``write(path)`` as TSV or Parquet.
    """
    from ..alignment import validate
    from ..alignment.api import _homology_head
    from ..backends import resolve_device

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    threshold = validate.finite("threshold", threshold)
    if n_clusters is not None:
        n_clusters = validate.positive_int("n_clusters", n_clusters)
        if method not in ("auto",):
            raise ValueError("n_clusters selects spectral clustering: leave method at 'auto'")
    top_k = int(top_k or 0)
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0, got {top_k}")
    dense_max = validate.positive_int("dense_max", dense_max)
    component_max = validate.positive_int("component_max", component_max)
    if prefilter is not None and int(prefilter) < 0:
        raise ValueError(f"prefilter must be >= 0, got {prefilter}")
    validate.threads(threads)
    hom = _homology_head(head, model)
    dev = resolve_device(device, engine=True)

    hv = _head_vectors(seqs, hom, model=model, device=device, progress=progress, out_dir=out_dir)
    try:
        return _cluster(
            hv,
            hom,
            threshold=threshold,
            method=method,
            n_clusters=n_clusters,
            top_k=top_k,
            threads=threads,
            dev=dev,
            out_dir=out_dir,
            executor=executor,
            ray_address=ray_address,
            block=block,
            dense_max=dense_max,
            component_max=component_max,
            prefilter=prefilter,
            seed=seed,
            progress=progress,
        )
    finally:
        hv.close()


def _cluster(
    hv,
    hom,
    *,
    threshold,
    method,
    n_clusters,
    top_k,
    threads,
    dev,
    out_dir,
    executor,
    ray_address,
    block,
    dense_max,
    component_max,
    prefilter,
    seed,
    progress,
) -> Clusters:
    """The clustering of :func:`cluster` on the head's vectors ``hv`` (``HeadVectors``)."""
    from .. import execute
    from ..alignment.api import _auto_progress
    from .prefilter import score_pairs_blocked

    n = len(hv)
    if n == 0:
        e = np.zeros(0)
        return Clusters([], e.astype(np.int64), e.astype(np.int64), e, e, method, threshold)
    scoring = execute.Scoring(hom.params, hom.null)
    prog = _auto_progress(progress, n * (n - 1) // 2)
    lengths = hv.lengths
    info = {"n": n}

    def dense_sig(members: np.ndarray) -> np.ndarray:
        from ..alignment.engine import all_vs_all

        sub = hv.whole() if len(members) == n else hv.subset(members)
        raw = np.asarray(all_vs_all(sub, hom.params, threads=threads, device=dev, progress=False))
        L = lengths[members]
        return execute.significance(hom.null.bits(raw), L[:, None], L[None, :], hom.null)

    everyone = np.arange(n)
    k_pre = (DEFAULT_CANDIDATES if n > PREFILTER_MIN else 0) if prefilter is None else prefilter
    if k_pre and n_clusters is None:
        from .prefilter import prefilter_edges

        edges = prefilter_edges(
            hv, hom, k=int(k_pre), min_sig=threshold, threads=threads, device=dev, progress=prog
        )
        info["candidate_pairs"] = int(edges.pop("candidates", 0))
    if n_clusters is not None or (method in ("auto", "average") and n <= dense_max and not k_pre):
        if n_clusters is not None and n > dense_max:
            raise ValueError(
                f"spectral clustering (n_clusters) is dense: at most dense_max={dense_max} "
                f"sequences, got {n}"
            )
        sig = dense_sig(everyone)
        if n_clusters is not None:
            labels, used = spectral(sig, n_clusters, seed=seed), "spectral"
        else:
            labels, used = average_linkage(sig, threshold), "average"
        labels = canonical(labels)
        reps = _medoids_dense(labels, sig)
    else:
        if not k_pre:
            edges = execute.edge_run(
                hv.whole(),
                scoring,
                min_sig=threshold,
                top_k=top_k,
                block=block or execute.DEFAULT_BLOCK,
                out_dir=None if out_dir is None else pathlib.Path(out_dir) / "edges",
                executor=executor,
                threads=threads,
                device=dev,
                progress=prog,
                ray_address=ray_address,
            )
        info["edges"] = int(len(edges["i"]))
        ei, ej, es = edges["i"], edges["j"], edges["sig"].astype(np.float64)
        if method == "leiden":
            labels = leiden(n, ei, ej, _weights(es, threshold), seed=seed)
            used = "leiden"
        else:
            strong = es >= threshold
            comp = components(n, ei[strong], ej[strong])
            if method == "components":
                labels, used = comp, "components"
            else:
                labels, used = _average_by_component(
                    comp, ei, ej, es, threshold, component_max, dense_sig, seed, info
                )
        labels = canonical(labels)
        reps = _medoids_sparse(labels, ei, ej, es, dense_sig, component_max)
    pairs = np.stack([np.arange(n), reps], axis=1).astype(np.int64)
    raw = score_pairs_blocked(hv, pairs, hom.params, threads=threads, device=dev)
    bits = hom.null.bits(raw)
    evalue = hom.null.effective(lengths) * hom.null.effective(lengths[reps]) * np.exp2(-bits)
    info["clusters"] = int(labels.max() + 1)
    info["vectors_on_disk"] = hv.on_disk
    return Clusters(
        list(hv.names), labels, reps, bits.astype(np.float32), evalue, used, threshold, info
    )


# -- inputs ----------------------------------------------------------------------------------------
def _head_vectors(seqs, hom, *, model, device, progress, out_dir) -> HeadVectors:
    """The head's vectors of the input: computed from its embeddings chunk by chunk, or read from
    a search database (checked to hold this model's and this head's vectors)."""
    from ..alignment.api import _auto_progress

    run = None if out_dir is None else pathlib.Path(out_dir)
    db = _as_database(seqs)
    if db is not None:
        _check_database(db, hom, model, device)
        show = _auto_progress(progress, len(db) ** 2 // 2) and len(db) > 10_000
        hv = HeadVectors.from_database(db, directory=run, progress=show)
        _check_names(hv.names)
        return hv
    if isinstance(seqs, (list, tuple)) and not seqs:
        seqs = Embeddings(np.zeros((0, hom.input_dim), np.float32), np.zeros(1, np.int64), [], [])
    emb = _embeddings(seqs, model=model, device=device, progress=progress, out_dir=out_dir)
    _check_names(emb.names)
    show = _auto_progress(progress, len(emb) ** 2 // 2) and len(emb) > 10_000
    return HeadVectors.compute(hom, emb, directory=run, progress=show)


def _as_database(seqs):
    from ..search.database import MANIFEST, Database

    if isinstance(seqs, Database):
        return seqs
    if isinstance(seqs, (str, os.PathLike)) and os.path.isdir(seqs):
        if not os.path.exists(os.path.join(seqs, MANIFEST)):
            raise ValueError(
                f"{os.fspath(seqs)}: a directory that is not an rnabert search database (no "
                f"{MANIFEST}); give a FASTA/Stockholm file or a database"
            )
        return Database.open(seqs)
    return None


def _check_database(db, hom, model, device) -> None:
    """Refuse a database whose vectors this clustering cannot use as its own."""
    from ..search.database import DatabaseError, head_sha256

    if db.scoring.kind != "homology":
        raise DatabaseError(
            f"{db.path}: built without a homology head (plain cosine scores): clustering needs "
            "bits; rebuild it with the model's homology head, or cluster the FASTA"
        )
    if head_sha256(hom) != db.scoring.head_sha256:
        raise DatabaseError(
            f"{db.path}: built with another homology head (sha256 "
            f"{db.scoring.head_sha256[:12]}…, this clustering's head {head_sha256(hom)[:12]}…): "
            "cluster with the database's head (head=PATH) or rebuild it"
        )
    if db.manifest["units"] != db.manifest["targets"]:
        raise DatabaseError(
            f"{db.path}: targets longer than {db.manifest['segment']} nt are stored as "
            f"overlapping segments ({db.manifest['units']} units for {db.manifest['targets']} "
            "targets): clustering needs one unit per sequence; cluster the FASTA instead"
        )
    import torch

    from ..backends import resolve_device
    from ..model.inference import resolve_model

    db.check_model(resolve_model(model, torch.device(resolve_device(device))))


def _embeddings(seqs, *, model, device, progress, out_dir) -> Embeddings:
    """The input's embeddings; with a run directory they are saved there once and reused when the
    same input and model come back (the encoder's floats may differ in the last bit between runs,
    a resumed run's fingerprint may not)."""
    if isinstance(seqs, Embeddings):
        return seqs
    from ..model import embed

    key = None if out_dir is None else _input_key(seqs, model)
    cache = None if key is None else pathlib.Path(out_dir) / "embeddings.safetensors"
    if cache is not None and cache.exists() and cache.with_suffix(".key").exists():
        if cache.with_suffix(".key").read_text().strip() == key:
            return Embeddings.load(cache)
    emb = embed(seqs, model=model, device=device, progress=progress)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(".embeddings.tmp.safetensors")
        emb.save(tmp)
        os.replace(tmp, cache)
        cache.with_suffix(".key").write_text(key + "\n")
    return emb


def _input_key(seqs, model) -> Optional[str]:
    """sha256 of the input (file bytes, or the listed sequences) and the model's identity; None when
    either cannot be named (then nothing is cached)."""
    import hashlib
    import json

    if model is not None and not isinstance(model, (str, os.PathLike)):
        return None
    h = hashlib.sha256(f"model={'' if model is None else os.fspath(model)}\n".encode())
    if isinstance(seqs, (str, os.PathLike)) and os.path.isfile(seqs):
        with open(seqs, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    try:
        items = [
            x if isinstance(x, str) else [str(x.name), str(x.seq)] if hasattr(x, "seq") else list(x)
            for x in seqs
        ]
        h.update(json.dumps(items).encode())
    except (TypeError, ValueError):
        return None
    return h.hexdigest()


def _check_names(names) -> None:
    seen = {}
    for k, name in enumerate(names):
        if name in seen:
            raise ValueError(
                f"duplicate sequence name {name!r} (records {seen[name] + 1} and {k + 1}): "
                "names identify the rows of a clustering; make them unique"
            )
        seen[name] = k


# -- large inputs ----------------------------------------------------------------------------------
def _weights(sig: np.ndarray, threshold: float) -> np.ndarray:
    # Leiden needs positive weights that grow with significance; top-k edges below the threshold
    # keep a small weight instead of none
    return np.maximum(sig - threshold, 0.0) + 1.0


def _average_by_component(comp, ei, ej, es, threshold, component_max, dense_sig, seed, info):
    labels = np.empty(len(comp), dtype=np.int64)
    nxt, split = 0, 0
    order = np.argsort(comp, kind="stable")
    bounds = np.flatnonzero(np.diff(comp[order])) + 1
    for members in np.split(order, bounds):
        if len(members) == 1:
            sub = np.zeros(1, np.int64)
        elif len(members) <= component_max:
            sub = average_linkage(dense_sig(members), threshold)
        else:  # too large to hold densely: Leiden on its edges
            split += 1
            local = np.full(len(comp), -1, np.int64)
            local[members] = np.arange(len(members))
            m = (local[ei] >= 0) & (local[ej] >= 0)
            sub = leiden(len(members), local[ei[m]], local[ej[m]], _weights(es[m], threshold), seed)
        labels[members] = sub + nxt
        nxt += int(sub.max()) + 1
    info["components_split_by_leiden"] = split
    return labels, "average" if not split else "average+leiden"


def _medoids_dense(labels: np.ndarray, sig: np.ndarray) -> np.ndarray:
    reps = np.empty(len(labels), dtype=np.int64)
    s = np.nan_to_num(np.minimum(sig, sig.T), nan=0.0, neginf=-1e6)
    for c in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == c)
        block = s[np.ix_(members, members)].copy()
        np.fill_diagonal(block, 0.0)  # subtracting it instead would break ties by rounding
        total = block.sum(1)
        reps[members] = members[int(np.argmax(total))]  # ties: first member
    return reps


def _medoids_sparse(labels, ei, ej, es, dense_sig, limit) -> np.ndarray:
    reps = np.empty(len(labels), dtype=np.int64)
    same = labels[ei] == labels[ej]
    total = np.zeros(len(labels))
    np.add.at(total, ei[same], es[same])
    np.add.at(total, ej[same], es[same])
    for c in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == c)
        if 2 < len(members) <= limit:  # exact, as on the dense path
            block = dense_sig(members)
            block = np.nan_to_num(np.minimum(block, block.T), nan=0.0, neginf=-1e6)
            np.fill_diagonal(block, 0.0)
            t = block.sum(1)
        else:
            t = total[members]
        reps[members] = members[int(np.argmax(t))]
    return reps
