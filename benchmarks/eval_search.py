"""Homolog search on the held-out validation families, side by side in one run.

    python benchmarks/eval_search.py [--json out.json] [--speed-targets 100000]

Benchmark (as benchmarks/eval_homology.py builds it): 2 queries per validation family, database =
the other members (up to 38 per family) plus one dinucleotide-preserving shuffle of each. Methods:
``rnabert search`` prefiltered (the defaults) and exhaustive, ``blastn -task blastn -word_size 7``
and ``nhmmer`` (single-sequence queries), all with their own database E-values. Per method: mean
per-query ROC AUC and ROC1 over the reported hits (unreported pairs rank last), pooled sensitivity
at one false positive per query (same-clan sister families neutral, and counted as negatives),
shuffled-decoy and non-homologous hits with E ≤ 1 per query, queries per second. Prefilter recall:
the fraction of the exhaustive search's hits with E ≤ 0.01 that the prefiltered search reports.

``--speed-targets N``: one 100-nt query against N synthetic targets of 100 nt (2,000 random
sequences embedded once, their vectors repeated), prefiltered and exhaustive (``--speed-repeats``
alternating runs of each, medians, the load average before and after), with blastn and nhmmer
on the same targets; ``--speed-db DIR`` keeps that database in DIR and uses it again. ``--genome-mb
X``: a random X-Mb genome-like target with 10 example RNAs planted on both strands, built and
searched end to end (time, peak memory, hits found).
``--knn-sizes N ...``: the pooled-vector k-NN index, exact scan against HNSW, at each size (the
measurement behind ``HNSW_ABOVE`` in ``rnabert.search.database``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import warnings

import numpy as np

import rnabert
from rnabert.evaluate import peers
from rnabert.evaluate.homology import build_benchmark, search_metrics
from rnabert.search import Database, search
from rnabert.seqs import AmbiguousBaseWarning
from rnabert.train.data import read_families, read_validation_file


def _write_fasta(path, recs):
    with open(path, "w") as fh:
        for n, s in recs:
            fh.write(f">{n}\n{s}\n")


def _matrix(hits, qindex, dindex, nq, nd):
    ev = np.full((nq, nd), np.inf)
    for h in hits:
        i, j = qindex[h.query], dindex[h.target]
        ev[i, j] = min(ev[i, j], h.evalue)
    return ev


def _row(name, ev, bench, seconds, homolog, counted, counted_strict):
    score = -np.log(np.maximum(ev, 1e-300))
    score[~np.isfinite(ev)] = -np.inf
    s = search_metrics(score, homolog, counted)
    c = search_metrics(score, homolog, counted_strict)
    decoy = bench.decoy[bench.database][None, :]
    nq = len(bench.queries)
    return {
        "method": name,
        "auc": s["auc"],
        "roc1": s["roc1"],
        "sens_1fp": s["sens_1fp"],
        "roc1_clan_neg": c["roc1"],
        "sens_1fp_clan_neg": c["sens_1fp"],
        "decoys_e1_per_q": float(((ev <= 1) & decoy).sum() / nq),
        "nonhomologs_e1_per_q": float(((ev <= 1) & ~homolog & counted).sum() / nq),
        "seconds": seconds,
        "queries_per_s": nq / max(seconds, 1e-9),
    }


def _table(rows):
    out = [
        "| method | ROC AUC | ROC1 | sens@1FP/q | ROC1 (clan neg.) | sens@1FP/q (clan neg.) | "
        "decoys E≤1 /q | non-homologs E≤1 /q | queries/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['method']} | {r['auc']:.3f} | {r['roc1']:.3f} | {r['sens_1fp']:.3f} | "
            f"{r['roc1_clan_neg']:.3f} | {r['sens_1fp_clan_neg']:.3f} | "
            f"{r['decoys_e1_per_q']:.2f} | {r['nonhomologs_e1_per_q']:.2f} | "
            f"{r['queries_per_s']:.1f} |"
        )
    return "\n".join(out)


def benchmark(args, model, tmp):
    held = set(read_validation_file())
    fams = read_families(args.data)
    val = [f.alignment for f in fams if f.accession in held]
    bench = build_benchmark(val, max_members=args.max_members, seed=args.seed)
    nq, nd = len(bench.queries), len(bench.database)
    print(
        f"validation benchmark: {len(bench.accessions)} families, {nq} queries, {nd} database "
        f"sequences ({int(bench.decoy.sum())} shuffles)",
        flush=True,
    )
    q = [(bench.names[i], bench.seqs[i]) for i in bench.queries]
    d = [(bench.names[i], bench.seqs[i]) for i in bench.database]
    qfa, dfa = os.path.join(tmp, "queries.fa"), os.path.join(tmp, "db.fa")
    _write_fasta(qfa, q)
    _write_fasta(dfa, d)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AmbiguousBaseWarning)
        db = Database.build(os.path.join(tmp, "db.rnabert"), dfa, model=model, progress=False)
    build_s = time.perf_counter() - t
    print(f"database build: {build_s:.1f} s, {db.info()}", flush=True)
    qindex = {n: i for i, (n, _) in enumerate(q)}
    dindex = {n: j for j, (n, _) in enumerate(d)}
    homolog, counted = bench.truth(clan_neutral=True)
    _, counted_strict = bench.truth(clan_neutral=False)
    rows, evs = [], {}
    runs = [
        (f"rnabert search --prefilter --candidates {c}", {"candidates": c, "exhaustive": False})
        for c in args.candidates
    ]
    runs.append(
        ("rnabert search --exhaustive --no-composition", {"exhaustive": True, "composition": False})
    )
    runs.append(("rnabert search --exhaustive", {"exhaustive": True}))
    for name, kw in runs:
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AmbiguousBaseWarning)
            hits = search(qfa, db, model=model, progress=False, **kw)
        sec = time.perf_counter() - t
        evs[name] = _matrix(hits, qindex, dindex, nq, nd)
        rows.append(_row(name, evs[name], bench, sec, homolog, counted, counted_strict))
        print(rows[-1], flush=True)
    strong = evs["rnabert search --exhaustive"] <= 0.01
    recall = {}
    for name, _ in runs[:-2]:
        recall[name] = float((strong & (evs[name] < np.inf)).sum() / max(1, strong.sum()))
        print(f"{name}: recall of exhaustive hits with E <= 0.01: {recall[name]:.4f}", flush=True)
    if not args.no_peers:
        for name, available, run in (
            ("blastn -task blastn -word_size 7", peers.blastn_available, peers.run_blastn),
            ("nhmmer", peers.nhmmer_available, peers.run_nhmmer),
        ):
            if not available():
                print(f"{name}: not installed, skipped")
                continue
            res = run(q, d, threads=2)
            ev = np.where(np.isfinite(res.evalue), res.evalue, np.inf)
            rows.append(_row(name, ev, bench, res.seconds, homolog, counted, counted_strict))
            print(rows[-1], flush=True)
    return {"rows": rows, "prefilter_recall": recall, "build_seconds": build_s, "db": db.info()}


def speed(args, model, tmp):
    """One 100-nt query against N synthetic 100-nt targets."""
    rng = np.random.default_rng(args.seed)
    base = 2000
    seqs = ["".join(rng.choice(list("ACGU"), 100)) for _ in range(base + 1)]
    query, seqs = seqs[0], seqs[1:]
    reps = -(-args.speed_targets // base)
    # --speed-db: the synthetic database kept there and used again (side-by-side runs of two
    # versions of the code on the very same files)
    big = args.speed_db or os.path.join(tmp, "speed_db")
    if not os.path.exists(os.path.join(big, "manifest.json")):
        small = Database.build(
            os.path.join(tmp, "speed_base"), [(f"s{i}", s) for i, s in enumerate(seqs)],
            model=model, progress=False,
        )  # fmt: skip
        os.makedirs(big, exist_ok=True)
        _repeat_database(small, big, reps)
        os.sync()  # the copies written back before timing, not during it
    db = Database.open(big)
    n = db.info()["targets"]
    qfa = os.path.join(tmp, "speed_q.fa")
    _write_fasta(qfa, [("query", query)])
    out = {"targets": n}
    runs = (("prefiltered", {"exhaustive": False}), ("exhaustive", {"exhaustive": True}))
    found = {}
    for name, kw in runs:  # warm: page cache, model
        found[name] = search(qfa, db, model=model, progress=False, **kw)
    # the prefiltered hits must be exhaustive hits (same scores) before either is timed
    exhaustive = {(h.target, h.tstart): h for h in found["exhaustive"]}
    assert all(exhaustive.get((h.target, h.tstart)) == h for h in found["prefiltered"])
    # runs alternate, so a change of the machine's load falls on both; the median of each is kept
    print(f"load average before {os.getloadavg()}", flush=True)
    times = {name: [] for name, _ in runs}
    for _ in range(args.speed_repeats):
        for name, kw in runs:
            t = time.perf_counter()
            search(qfa, db, model=model, progress=False, **kw)
            times[name].append(time.perf_counter() - t)
    for name, _ in runs:
        out[name] = float(np.median(times[name]))
        each = ", ".join(f"{x:.2f}" for x in times[name])
        print(f"speed, {n} targets, {name}: {out[name]:.2f} s (median of {each})", flush=True)
    out["ratio"] = out["exhaustive"] / out["prefiltered"]
    print(f"speed, {n} targets, exhaustive / prefiltered: {out['ratio']:.1f}x", flush=True)
    print(f"load average after {os.getloadavg()}", flush=True)
    if args.no_peers:
        return out
    targets = [(f"t{k}_{i}", s) for k in range(reps) for i, s in enumerate(seqs)][:n]
    for name, run in (("blastn", peers.run_blastn), ("nhmmer", peers.run_nhmmer)):
        res = run([("query", query)], targets, threads=2)
        out[name] = res.seconds
        print(f"speed, {n} targets, {name}: {res.seconds:.2f} s", flush=True)
    return out


def genome(args, model, tmp):
    """A random genome-like target of ``--genome-mb`` Mb with 10 example RNAs planted, 5 on each
    strand: build and search end to end (both strands), time and peak memory, planted hits found."""
    import resource

    from rnabert.search import reverse_complement
    from rnabert.seqs import read_fasta

    rng = np.random.default_rng(args.seed + 5)
    n = int(args.genome_mb * 1_000_000)
    chrom = list("".join(rng.choice(list("ACGU"), n)))
    recs = list(read_fasta(os.path.join(os.path.dirname(__file__), "..", "examples",
                                        "rfam_examples.fa")))[::4][:10]  # fmt: skip
    planted = []
    for k, r in enumerate(recs):
        at = int((k + 0.5) * n / len(recs))
        seq = r.seq if k % 2 == 0 else reverse_complement(r.seq)
        chrom[at : at + len(seq)] = list(seq)
        planted.append((r.name, at, len(seq), "+" if k % 2 == 0 else "-"))
    gfa, qfa = os.path.join(tmp, "genome.fa"), os.path.join(tmp, "genome_q.fa")
    _write_fasta(gfa, [("chr1", "".join(chrom))])
    _write_fasta(qfa, [(r.name, r.seq) for r in recs])
    t = time.perf_counter()
    db = Database.build(os.path.join(tmp, "genome.rnabert"), gfa, model=model, progress=False)
    build = time.perf_counter() - t
    t = time.perf_counter()
    hits = search(qfa, db, model=model, strand="both", progress=False)
    took = time.perf_counter() - t
    found = 0
    for name, at, length, strand in planted:
        top = next(h for h in hits if h.query == name)
        lo, hi = min(top.tstart, top.tend), max(top.tstart, top.tend)
        found += top.strand == strand and abs(lo - (at + 1)) <= 3 and abs(hi - (at + length)) <= 3
    out = {
        "mb": args.genome_mb,
        "build_s": build,
        "search_s": took,
        "queries": len(recs),
        "planted_found_at_coordinates": int(found),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "db_bytes": db.info()["bytes"],
    }
    print(f"genome: {out}", flush=True)
    return out


def knn_index(args):
    """Exact inner-product scan (faiss IndexFlatIP) against HNSW (IndexHNSWFlat, M 32, as
    ``Database.build`` makes above ``HNSW_ABOVE`` units) for the pooled-vector k-NN: build time,
    time per batch of 16 queries, and HNSW's recall of the exact 50 nearest at efSearch 16 (faiss's
    default), 128 and 512. Vectors: random unit vectors in 128 dimensions (no cluster structure:
    HNSW's hardest case); queries: perturbed members."""
    import faiss

    rng = np.random.default_rng(args.seed)
    rows = []
    for n in args.knn_sizes:
        x = rng.standard_normal((n, 128)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        q = x[rng.choice(n, 16, replace=False)] + 0.05 * rng.standard_normal((16, 128)).astype(
            np.float32
        )
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        row = {"n": n}
        for name, make in (
            ("flat", lambda: faiss.IndexFlatIP(128)),
            ("hnsw", lambda: faiss.IndexHNSWFlat(128, 32, faiss.METRIC_INNER_PRODUCT)),
        ):
            t = time.perf_counter()
            index = make()
            index.add(x)
            row[f"{name}_build_s"] = time.perf_counter() - t
            for ef in (None,) if name == "flat" else (16, 128, 512):
                tag = name if ef is None else f"{name}_ef{ef}"
                if ef is not None:
                    index.hnsw.efSearch = ef
                index.search(q, 50)  # warm
                t = time.perf_counter()
                reps = 5
                for _ in range(reps):
                    _, found = index.search(q, 50)
                row[f"{tag}_search_ms"] = (time.perf_counter() - t) / reps * 1e3
                row[f"{tag}_found"] = found
        exact = row.pop("flat_found")
        for ef in (16, 128, 512):
            approx = row.pop(f"hnsw_ef{ef}_found")
            row[f"hnsw_ef{ef}_recall_at_50"] = float(
                np.mean([len(set(a) & set(b)) / 50 for a, b in zip(exact, approx)])
            )
        print(f"knn index: {row}", flush=True)
        rows.append(row)
    return rows


def _repeat_database(db: Database, dest: str, reps: int) -> None:
    """A database whose targets are ``reps`` renamed copies of ``db``'s (speed tests only)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name in ("vectors.bin", "coarse.bin"):
        with open(os.path.join(dest, name), "wb") as out:
            data = open(db.path / name, "rb").read()
            for _ in range(reps):
                out.write(data)
    t = db.units
    tables = []
    for k in range(reps):
        names = pa.array([f"t{k}_{x}" for x in t.column("target").to_pylist()])
        tables.append(t.set_column(0, "target", names))
    pq.write_table(pa.concat_tables(tables), os.path.join(dest, "units.parquet"))
    shutil.copy(db.path / "index.faiss", os.path.join(dest, "index.faiss"))
    man = dict(db.manifest)
    man["chunks"] = man["chunks"] * reps
    for key in ("units", "targets", "target_residues", "residues", "vectors_bytes", "coarse_bytes"):
        man[key] = man[key] * reps
    with open(os.path.join(dest, "manifest.json"), "w") as fh:
        json.dump(man, fh)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default="../shared/data/rfam14.2-seed/Rfam14.2.seed.train.gz")
    ap.add_argument("--max-members", type=int, default=40)
    ap.add_argument("--candidates", type=int, nargs="+", default=[200, 500])
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--speed-targets", type=int, default=0)
    ap.add_argument("--genome-mb", type=float, default=0)
    ap.add_argument("--speed-repeats", type=int, default=3)
    ap.add_argument("--speed-db", help="keep (or reuse) the --speed-targets database here")
    ap.add_argument("--knn-sizes", type=int, nargs="*", default=[])
    ap.add_argument("--skip-benchmark", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.time()
    model = rnabert.load_model()
    result = {}
    with tempfile.TemporaryDirectory(prefix="eval_search_") as tmp:
        if not args.skip_benchmark:
            result["benchmark"] = benchmark(args, model, tmp)
            print(_table(result["benchmark"]["rows"]))
            for name, r in result["benchmark"]["prefilter_recall"].items():
                print(f"prefilter recall (exhaustive hits with E <= 0.01), {name}: {r:.4f}")
        if args.speed_targets:
            result["speed"] = speed(args, model, tmp)
        if args.genome_mb:
            result["genome"] = genome(args, model, tmp)
        if args.knn_sizes:
            result["knn_index"] = knn_index(args)
    print(f"total {time.time() - t0:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
