"""The on-disk search database: per-base scoring vectors of every target, ready for the engine.

A database is a directory::

    manifest.json     format version, model fingerprint, scoring (head parameters, null), sizes,
                      per-chunk sha256 checksums; "complete": false while a build is under way
    vectors.bin       per-base scoring vectors of every unit, fp16 (or fp32), row after row
    coarse.bin        the same vectors summed over blocks of ``coarse`` bases, renormalised, in
                      fp32: the prefilter aligns these (a DP on sequences a quarter as long)
    units.parquet     one row per unit: target name, start in the target, length, the target's
                      length, source file, sequence
    pooled.npy        one unit vector per unit (mean of its vectors) and index.faiss, an
                      inner-product k-NN index over them (the optional "knn" prefilter)
    chunks/           per-chunk unit tables, kept so that a build resumes and ``add`` appends

A *unit* is what the engine aligns: a whole target, or, for a target longer than ``segment``
bases (a transcript, a chromosome), one of its overlapping segments, each embedded as its own
sequence so memory stays bounded and hits keep the target's coordinates (start + offset).

The build streams the input in chunks; each chunk is appended and then recorded in the manifest, so
an interrupted build resumes after its last recorded chunk and ends byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import warnings
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np

from ..alignment.null import NullModel
from ..alignment.params import AlignParams
from ..embeddings import Embeddings

FORMAT = "rnabert-search-db/2"
MANIFEST = "manifest.json"
DTYPES = {"float16": np.float16, "float32": np.float32}
# plain cosine of the encoder's output in local mode: the reference scoring, where no head exists
COSINE_PARAMS = AlignParams(mode="local", scale=1.0, bias=-0.5, gap_open=1.0, gap_extend=0.1)
# Above this many units the pooled-vector index is HNSW instead of an exact scan. Measured
# (benchmarks/eval_search.py --knn-sizes, 128-d unit vectors, 16 queries, k = 50, loaded 2-core VM):
# at 10^5 vectors the exact scan takes 0.16 s and HNSW (M 32) as long at efSearch 512 with recall
# 0.86, after an 83-s build; at 10^4 and 3·10^4 it is no faster either. So the exact scan stays far
# beyond the measured sizes (at 10^6 about 1.6 s per 16 queries, small beside the search itself,
# which does not use this index: its prefilter is the coarse alignment).
HNSW_ABOVE = 1_000_000
# efSearch of an HNSW index's queries: faiss's default of 16 kept 0.26 of the 50 nearest (above)
HNSW_EF_SEARCH = 512


class DatabaseError(ValueError):
    """A database that cannot be used as asked: another model, a damaged file, a wrong format."""


# -- the model and its scoring ---------------------------------------------------------------------
def model_fingerprint(model) -> str:
    """sha256 of the encoder's weights (names and float32 bytes, in name order): which model
    embedded a database; any retrained or other checkpoint gives another fingerprint."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().float().contiguous().numpy().tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class Scoring:
    """What the stored vectors are and how their local-alignment scores are read.

    kind "homology": the homology head's vectors, scores become bits and E-values through its null;
    kind "cosine": unit encoder vectors (no head for this model), raw local scores, no E-values.
    """

    kind: str
    params: AlignParams
    null: Optional[NullModel]
    head: Any = None  # HomologyHead for kind "homology"
    head_sha256: str = ""

    def vectors(self, emb: Embeddings) -> Embeddings:
        if self.kind == "homology":
            return self.head.vectors(emb)
        return Embeddings(emb.normalized(), emb.offsets, emb.names, emb.sequences)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "kind": self.kind,
            "params": self.params.as_dict(),
            "null": None if self.null is None else self.null.to_dict(),
            "head_sha256": self.head_sha256,
        }


def head_sha256(head) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(head.proj, np.float32).tobytes())
    h.update(np.ascontiguousarray(head.base, np.float32).tobytes())
    h.update(json.dumps([head.center, head.mix, head.params.as_dict()], sort_keys=True).encode())
    return h.hexdigest()


def resolve_scoring(head, model) -> Scoring:
    """head: "auto" (the model's homology head, or the shipped one for the shipped encoder, else
    plain cosine), "cosine", a HomologyHead, or a path to one."""
    from ..alignment.heads import HomologyHead, load_homology_head

    if isinstance(head, str) and head == "cosine":
        return Scoring("cosine", COSINE_PARAMS, None)
    if head is None or (isinstance(head, str) and head == "auto"):
        from ..alignment.api import _homology_head

        try:
            hom = _homology_head(None, model)
        except ValueError:  # another encoder without a head: its cosine is all there is
            return Scoring("cosine", COSINE_PARAMS, None)
    else:
        hom = head if isinstance(head, HomologyHead) else load_homology_head(head)
    return Scoring("homology", hom.params, hom.null, hom, head_sha256(hom))


# -- units and vectors -----------------------------------------------------------------------------
def segment_starts(length: int, segment: int, overlap: int) -> List[int]:
    """Starts of overlapping segments of ``segment`` bases covering ``length`` bases."""
    if length <= segment:
        return [0]
    step = segment - overlap
    starts = list(range(0, length - segment + 1, step))
    if starts[-1] != length - segment:
        starts.append(length - segment)
    return starts


def coarse_vectors(vec: Embeddings, factor: int) -> Tuple[np.ndarray, np.ndarray]:
    """Sums of the vectors over consecutive blocks of ``factor`` bases, renormalised; with their
    offsets (a unit of L bases has ceil(L / factor) rows)."""
    lengths = vec.lengths
    rows = -(-lengths // factor)
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(rows, out=offsets[1:])
    # block index of every base: unit's first row + position // factor
    pos = np.arange(vec.total_len) - np.repeat(vec.offsets[:-1], lengths)
    block = np.repeat(offsets[:-1], lengths) + pos // factor
    # blocks are contiguous runs of bases: a segmented sum over their first rows
    firsts = np.flatnonzero(np.diff(block, prepend=-1))
    out = np.add.reduceat(vec.values, firsts, axis=0).astype(np.float32)
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out, offsets


def pooled_vectors(vec: Embeddings) -> np.ndarray:
    p = vec.pooled()
    return (p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _sha256_file(path: pathlib.Path, start: int = 0, length: Optional[int] = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        fh.seek(start)
        left = os.path.getsize(path) - start if length is None else length
        while left > 0:
            block = fh.read(min(left, 1 << 24))
            if not block:
                break
            h.update(block)
            left -= len(block)
    return h.hexdigest()


def _write_json(path: pathlib.Path, obj) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as fh:
        json.dump(obj, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)  # atomic: a reader sees the old manifest or the new one


def _append(path: pathlib.Path, data: np.ndarray, at: int) -> None:
    with open(path, "r+b" if path.exists() else "w+b") as fh:
        fh.truncate(at)  # drop what an interrupted chunk may have left
        fh.seek(at)
        fh.write(np.ascontiguousarray(data).tobytes())
        fh.flush()
        os.fsync(fh.fileno())


def _source_of(targets) -> str:
    if isinstance(targets, (str, os.PathLike)) and os.path.exists(os.fspath(targets)):
        return os.path.abspath(os.fspath(targets))
    return "<python>"


def _count_input(targets) -> Optional[Tuple[int, int]]:
    """(records, bases) of a FASTA file, for the progress bar; None when not a readable FASTA."""
    from ..seqs import open_text

    if _source_of(targets) == "<python>":
        return None
    n = bases = 0
    try:
        with open_text(os.fspath(targets)) as fh:
            for line in fh:
                if line.startswith(">"):
                    n += 1
                elif not line.startswith(("#", ";")):
                    bases += len(line.strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return n, bases


# -- the database ----------------------------------------------------------------------------------
class Database:
    """An opened search database (see the module docstring for the layout).

    >>> db = Database.build("db.rnabert", "targets.fa")      # or Database.open("db.rnabert")
    >>> db.info()["units"]
    """

    def __init__(self, path, manifest: Dict[str, Any], scoring: Scoring):
        self.path = pathlib.Path(path)
        self.manifest = manifest
        self.scoring = scoring
        self.dim = int(manifest["dim"])
        self.dtype = DTYPES[manifest["dtype"]]
        self.coarse_factor = int(manifest["coarse"])
        self._units = None
        self._vectors = None
        self._coarse = None

    # -- building ---------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        path,
        targets,
        *,
        model=None,
        head="auto",
        dtype: str = "float16",
        segment: int = 2000,
        overlap: int = 400,
        coarse: int = 4,
        chunk_records: int = 1000,
        chunk_bases: int = 400_000,
        device: str = "auto",
        progress: Optional[bool] = None,
    ) -> "Database":
        """Embed ``targets`` (a FASTA path or anything ``rnabert.embed`` reads) into a new
        database at ``path``; an interrupted build of the same input resumes where it stopped."""
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
        if not 1 <= overlap < segment:
            raise ValueError(
                f"need 1 <= overlap < segment, got overlap {overlap}, segment {segment}"
            )
        if not 1 <= coarse <= 16:
            raise ValueError(f"coarse must be in 1..16, got {coarse}")
        path = pathlib.Path(path)
        from ..model.inference import resolve_model

        net = resolve_model(model, _torch_device(device))
        scoring = resolve_scoring(head, model)
        settings = {
            "dtype": dtype,
            "segment": int(segment),
            "overlap": int(overlap),
            "coarse": int(coarse),
            "chunk_records": int(chunk_records),
            "chunk_bases": int(chunk_bases),
        }
        fingerprint = model_fingerprint(net)
        source = _source_of(targets)
        if (path / MANIFEST).exists():
            man = _read_manifest(path)
            if man.get("complete"):
                raise FileExistsError(
                    f"{path}: a database already exists (use `rnabert db add` to append)"
                )
            pending = man.get("pending") or {}
            same = {k: man.get(k) for k in settings} == settings
            if not same or pending.get("source") != source or man["model"] != fingerprint:
                raise DatabaseError(
                    f"{path}: an interrupted build of another input or with other settings is "
                    "there; remove the directory to start afresh"
                )
        else:
            if path.exists() and any(path.iterdir()):
                raise FileExistsError(f"{path}: exists and is not an rnabert database")
            path.mkdir(parents=True, exist_ok=True)
            man = {
                "format": FORMAT,
                "complete": False,
                "model": fingerprint,
                "model_source": str(getattr(net, "source", "")),
                "scoring": scoring.to_dict(),
                "dim": None,
                **settings,
                "chunks": [],
                "pending": {"source": source, "records_done": 0},
            }
            _write_json(path / MANIFEST, man)
        db = cls(path, {**man, "dim": man["dim"] or 0}, scoring)
        db._ingest(targets, net, device, progress)
        return db

    def add(
        self, targets, *, model=None, head="auto", device: str = "auto", progress=None
    ) -> "Database":
        """Append ``targets`` to this database (same model and scoring); resumable like build."""
        from ..model.inference import resolve_model

        net = resolve_model(model, _torch_device(device))
        self.check_model(net)
        self.scoring = self.query_scoring(model, head)
        source = _source_of(targets)
        # The database stays complete and searchable (as of its last finalize) while an add is
        # under way: new chunks go past the finalized sizes, and the manifest's "pending" says
        # how far the add got, so an interrupted add resumes and a failed one rolls back.
        pending = self.manifest.get("pending")
        if pending is None:
            self.manifest["pending"] = {"source": source, "records_done": 0}
            _write_json(self.path / MANIFEST, self.manifest)
        elif pending["source"] != source:
            raise DatabaseError(
                f"{self.path}: an interrupted add of {pending['source']} is there: add it again "
                "to finish it first"
            )
        try:
            self._ingest(targets, net, device, progress)
        except (ValueError, OSError):  # bad input: back to the database as it was
            self._roll_back()
            raise
        return self

    def _roll_back(self) -> None:
        man = self.manifest
        del man["chunks"][man["finalized_chunks"] :]
        man["pending"] = None
        for name, key in (("vectors.bin", "vectors_bytes"), ("coarse.bin", "coarse_bytes")):
            with open(self.path / name, "r+b") as fh:
                fh.truncate(man[key])
        _write_json(self.path / MANIFEST, man)

    def _ingest(self, targets, net, device, progress) -> None:
        import itertools

        from ..model.inference import embed_records
        from ..seqs import AmbiguousBaseWarning, records_from

        man = self.manifest
        done = int(man["pending"]["records_done"])
        counts = _count_input(targets)
        bar = None
        show = progress if progress is not None else (counts is None or counts[1] > 200_000)
        if show:
            from tqdm.auto import tqdm

            bar = tqdm(
                total=None if counts is None else counts[0],
                initial=done,
                unit="seq",
                desc="db build",
                dynamic_ncols=True,
            )
        records = records_from(targets)
        skipped = itertools.islice(records, done)  # recorded by earlier runs
        for _ in skipped:
            pass
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AmbiguousBaseWarning)
            try:
                for chunk in _chunks(records, man["chunk_records"], man["chunk_bases"]):
                    self._add_chunk(chunk, net, embed_records, man["pending"]["source"])
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
        if not man["chunks"]:
            raise ValueError("no target sequences to build a database from")
        self._finalize()

    def _add_chunk(self, records, net, embed_records, source) -> None:
        from ..seqs import SeqRecord

        man = self.manifest
        units: List[Dict[str, Any]] = []
        pieces = []
        for r in records:
            for s in segment_starts(len(r.seq), man["segment"], man["overlap"]):
                seq = r.seq[s : s + man["segment"]]
                units.append(
                    {
                        "target": r.name,
                        "start": s,
                        "length": len(seq),
                        "target_length": len(r.seq),
                        "source": source,
                        "sequence": seq,
                    }
                )
                pieces.append(SeqRecord(f"u{len(pieces)}", seq))
        dt = DTYPES[man["dtype"]]
        itemsize = np.dtype(dt).itemsize
        rows = sum(c["residues"] for c in man["chunks"])
        crows = sum(c["coarse_rows"] for c in man["chunks"])
        hv, hc = hashlib.sha256(), hashlib.sha256()
        n_rows = n_crows = 0
        pooled = []
        # units are embedded and written in groups of about chunk_bases bases, so a chromosome
        # in one record never holds more than one group's embeddings in memory
        for group in _groups([len(p.seq) for p in pieces], man["chunk_bases"]):
            emb = embed_records(net, [pieces[g] for g in group])
            vec = self.scoring.vectors(emb)
            coarse, _ = coarse_vectors(vec, man["coarse"])
            man["dim"] = self.dim = vec.dim
            # coarse vectors stay fp32 unit rows: the prefilter scans them all for every query
            # batch, straight from the memory map, with no conversion or renormalisation
            data, cdata = vec.values.astype(dt), coarse.astype(np.float32)
            _append(self.path / "vectors.bin", data, (rows + n_rows) * vec.dim * itemsize)
            _append(self.path / "coarse.bin", cdata, (crows + n_crows) * vec.dim * 4)
            hv.update(data.tobytes())
            hc.update(cdata.tobytes())
            n_rows += len(data)
            n_crows += len(cdata)
            pooled.append(pooled_vectors(vec))
        k = len(man["chunks"])
        (self.path / "chunks").mkdir(exist_ok=True)
        _write_table(self.path / "chunks" / f"{k:05d}.parquet", units)
        np.save(self.path / "chunks" / f"{k:05d}.pooled.npy", np.concatenate(pooled))
        man["chunks"].append(
            {
                "records": len(records),
                "units": len(units),
                "residues": int(n_rows),
                "coarse_rows": int(n_crows),
                "vectors_sha256": hv.hexdigest(),
                "coarse_sha256": hc.hexdigest(),
            }
        )
        man["pending"]["records_done"] += len(records)
        _write_json(self.path / MANIFEST, man)

    def _finalize(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        man = self.manifest
        k = len(man["chunks"])
        tables = [pq.read_table(self.path / "chunks" / f"{i:05d}.parquet") for i in range(k)]
        table = pa.concat_tables(tables)
        pq.write_table(table, self.path / "units.parquet")
        pooled = np.concatenate(
            [np.load(self.path / "chunks" / f"{i:05d}.pooled.npy") for i in range(k)]
        )
        np.save(self.path / "pooled.npy", pooled)
        _write_index(self.path / "index.faiss", pooled)
        tl = table.column("target_length").to_numpy()
        first = table.column("start").to_numpy() == 0
        itemsize = np.dtype(DTYPES[man["dtype"]]).itemsize
        man.update(
            complete=True,
            pending=None,
            units=int(table.num_rows),
            targets=int(first.sum()),
            target_residues=int(tl[first].sum()),
            residues=int(sum(c["residues"] for c in man["chunks"])),
            vectors_bytes=int(sum(c["residues"] for c in man["chunks"])) * man["dim"] * itemsize,
            coarse_bytes=int(sum(c["coarse_rows"] for c in man["chunks"])) * man["dim"] * 4,
            index="hnsw" if len(pooled) > HNSW_ABOVE else "flat-ip",
            finalized_chunks=k,
        )
        _write_json(self.path / MANIFEST, man)
        self._units = self._vectors = self._coarse = None

    # -- opening ----------------------------------------------------------------------------------
    @classmethod
    def open(cls, path, *, verify: bool = False) -> "Database":
        """Open a database; ``verify`` also checks every chunk's sha256 (reads all vectors)."""
        path = pathlib.Path(path)
        man = _read_manifest(path)
        if not man.get("complete"):
            raise DatabaseError(
                f"{path}: the build was interrupted; run the same `rnabert db build` again to "
                "resume it"
            )
        for name, key in (("vectors.bin", "vectors_bytes"), ("coarse.bin", "coarse_bytes")):
            f = path / name
            size = f.stat().st_size if f.exists() else -1
            # past the finalized size only while an add is under way (its chunks are not used)
            if size != man[key] and not (man.get("pending") and size > man[key]):
                raise DatabaseError(
                    f"{f}: {size} bytes, the manifest expects {man[key]}: the file is truncated "
                    "or damaged; rebuild the database"
                )
        sc = man["scoring"]
        null = None if sc["null"] is None else NullModel.from_dict(sc["null"], source=str(path))
        params = AlignParams(**{k: v for k, v in sc["params"].items() if k != "precision"})
        scoring = Scoring(sc["kind"], params, null, None, sc.get("head_sha256", ""))
        db = cls(path, man, scoring)
        if verify:
            db.verify()
        return db

    def verify(self) -> None:
        """Check every chunk's vectors against its sha256 in the manifest."""
        itemsize = {"vectors": np.dtype(self.dtype).itemsize, "coarse": 4}
        at = {"vectors": 0, "coarse": 0}
        for i, c in enumerate(self.manifest["chunks"][: self.manifest["finalized_chunks"]]):
            for what, rows in (("vectors", c["residues"]), ("coarse", c["coarse_rows"])):
                n = rows * self.dim * itemsize[what]
                got = _sha256_file(self.path / f"{what}.bin", at[what], n)
                if got != c[f"{what}_sha256"]:
                    raise DatabaseError(
                        f"{self.path / (what + '.bin')}: chunk {i} fails its checksum: the file is "
                        "corrupt; rebuild the database"
                    )
                at[what] += n

    def check_model(self, model) -> None:
        """Refuse queries embedded by another model than the database's."""
        fp = model_fingerprint(model)
        if fp != self.manifest["model"]:
            raise DatabaseError(
                f"{self.path} was built with another model (fingerprint "
                f"{self.manifest['model'][:12]}…, source {self.manifest.get('model_source')}); "
                f"the queries' model is {fp[:12]}…: search with the database's model or rebuild it"
            )

    def query_scoring(self, model, head="auto") -> Scoring:
        """The database's scoring with its head loaded (checked against the stored fingerprint):
        ``head`` as for :meth:`build` ("auto": the model's or the shipped one)."""
        if self.scoring.kind == "cosine":
            return self.scoring
        sc = resolve_scoring(head, model)
        if sc.kind != "homology" or sc.head_sha256 != self.scoring.head_sha256:
            raise DatabaseError(
                f"{self.path}: built with a homology head that this model does not carry"
            )
        return sc

    # -- access -----------------------------------------------------------------------------------
    @property
    def units(self):
        """The unit table (pyarrow Table): target, start, length, target_length, source,
        sequence."""
        if self._units is None:
            import pyarrow.parquet as pq

            self._units = pq.read_table(self.path / "units.parquet")
        return self._units

    def _memmap(self, name: str, nbytes: int, dtype) -> np.ndarray:
        rows = nbytes // (self.dim * np.dtype(dtype).itemsize)
        if rows == 0:
            return np.zeros((0, self.dim), dtype)
        return np.memmap(self.path / name, dtype=dtype, mode="r", shape=(rows, self.dim))

    @property
    def vectors(self) -> np.ndarray:
        if self._vectors is None:
            self._vectors = self._memmap("vectors.bin", self.manifest["vectors_bytes"], self.dtype)
        return self._vectors

    @property
    def coarse(self) -> np.ndarray:
        if self._coarse is None:
            self._coarse = self._memmap("coarse.bin", self.manifest["coarse_bytes"], np.float32)
        return self._coarse

    @property
    def pooled(self) -> np.ndarray:
        """float32 (units, dim), memory-mapped: each unit's mean vector, unit-normalised (what
        ``index.faiss`` holds)."""
        return np.load(self.path / "pooled.npy", mmap_mode="r")

    def __len__(self) -> int:
        return int(self.manifest["units"])

    def info(self) -> Dict[str, Any]:
        m = self.manifest
        return {
            "path": str(self.path),
            "format": m["format"],
            "targets": m["targets"],
            "units": m["units"],
            "target_residues": m["target_residues"],
            "stored_residues": m["residues"],
            "scoring": m["scoring"]["kind"],
            "model": m["model"],
            "model_source": m.get("model_source"),
            "dtype": m["dtype"],
            "dim": m["dim"],
            "segment": m["segment"],
            "overlap": m["overlap"],
            "coarse": m["coarse"],
            "index": m["index"],
            "chunks": len(m["chunks"]),
            "bytes": sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file()),
        }

    def knn(self, vectors: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
        """k nearest units by inner product of pooled vectors: (similarities, unit indices)."""
        import faiss

        index = faiss.read_index(str(self.path / "index.faiss"))
        if hasattr(index, "hnsw"):
            index.hnsw.efSearch = max(HNSW_EF_SEARCH, k)
        return index.search(np.ascontiguousarray(vectors, np.float32), min(k, len(self)))


def _torch_device(device):
    import torch

    from ..backends import resolve_device

    return torch.device(resolve_device(device))


def _read_manifest(path: pathlib.Path) -> Dict[str, Any]:
    f = path / MANIFEST
    if not f.exists():
        raise DatabaseError(f"{path}: not an rnabert search database (no {MANIFEST})")
    try:
        man = json.loads(f.read_text())
    except ValueError:
        raise DatabaseError(f"{f}: not valid JSON: the manifest is damaged") from None
    if man.get("format") != FORMAT:
        raise DatabaseError(
            f"{path}: database format {man.get('format')!r}, this rnabert reads {FORMAT!r}: "
            "rebuild it with this version"
        )
    return man


def _chunks(records: Iterator, max_records: int, max_bases: int) -> Iterator[list]:
    chunk, bases = [], 0
    for r in records:
        chunk.append(r)
        bases += len(r.seq)
        if len(chunk) >= max_records or bases >= max_bases:
            yield chunk
            chunk, bases = [], 0
    if chunk:
        yield chunk


def _groups(lengths: List[int], max_bases: int) -> Iterator[List[int]]:
    """Consecutive indices in groups of at most ``max_bases`` bases (at least one each)."""
    group, bases = [], 0
    for i, n in enumerate(lengths):
        if group and bases + n > max_bases:
            yield group
            group, bases = [], 0
        group.append(i)
        bases += n
    if group:
        yield group


def _write_table(path: pathlib.Path, units: List[Dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {k: [u[k] for u in units] for k in units[0]}
    types = {"start": pa.int64(), "length": pa.int64(), "target_length": pa.int64()}
    table = pa.table({k: pa.array(v, type=types.get(k)) for k, v in cols.items()})
    pq.write_table(table, path)


def _write_index(path: pathlib.Path, pooled: np.ndarray) -> None:
    import faiss

    d = pooled.shape[1]
    if len(pooled) > HNSW_ABOVE:
        index = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
    else:
        index = faiss.IndexFlatIP(d)
    index.add(np.ascontiguousarray(pooled, np.float32))
    faiss.write_index(index, str(path))


__all__ = ["Database", "DatabaseError", "Scoring", "model_fingerprint", "resolve_scoring"]
