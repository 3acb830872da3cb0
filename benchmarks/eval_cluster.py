"""Family clustering on the held-out validation families, every method in one run, plus the
end-to-end timing of 1,500 sequences of about 100 nt (embed + score + cluster).

    python benchmarks/eval_cluster.py [--data Rfam14.2.seed.train.gz] [--json out.json]

Sets (real sequences of validation families only): 48 families × 5, an unbalanced set (40
families, 2–30 members), and every family's first 10 members ("all ≤10"). Methods: rnabert cluster
at its shipped default (average linkage at 10 bits of pair significance), the same through the
streamed tile path (must give the same clusters), the prefilter path (50 nearest pooled vectors
each), Leiden on the ≥ 10-bit graph, spectral told the
true number of families (the original RNABERT protocol); the sequence-only Smith-Waterman (+2/−3,
gaps 5 + 2k, null fitted on training decoys) through the same clustering at its threshold chosen on
150 training families; CD-HIT-EST at 80 % identity; MMseqs2 easy-cluster at its defaults and at a
sensitive setting. Embedding is timed once per set, apart (``embed s``); each method's time is its
scoring and clustering.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings

import numpy as np

import rnabert
from rnabert.alignment.heads import sequence_head
from rnabert.clustering import cluster
from rnabert.evaluate import clustering as ev
from rnabert.evaluate.homology import (
    _draw_cluster_sets,
    build_benchmark,
    development_families,
    fit_head_null,
)
from rnabert.seqs import AmbiguousBaseWarning
from rnabert.seqs.shuffle import dinucleotide_shuffle
from rnabert.train.data import read_families, read_validation_file


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default="../shared/data/rfam14.2-seed/Rfam14.2.seed.train.gz")
    ap.add_argument("--json")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-e2e", action="store_true")
    ap.add_argument("--only", help="run only the methods whose name contains this text")
    args = ap.parse_args()
    warnings.simplefilter("ignore", AmbiguousBaseWarning)  # Rfam seeds hold IUPAC codes: MASK
    t_start = time.time()
    held = set(read_validation_file())
    fams = read_families(args.data)
    train = [f for f in fams if f.accession not in held]
    val = [f.alignment for f in fams if f.accession in held]
    model = rnabert.load_model()

    def embed(names, seqs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AmbiguousBaseWarning)
            return rnabert.embed(list(zip(names, seqs)), model=model, device="cpu")

    # the sequence-only head: null on training decoys, threshold chosen on training families
    rng = np.random.default_rng(args.seed + 7)
    pick = rng.choice(len(train), 800, replace=False)
    seqs = []
    for k, i in enumerate(pick):
        recs = train[i].alignment.records()
        s = recs[int(rng.integers(len(recs)))].seq
        seqs.append(s if k < 200 else dinucleotide_shuffle(s, rng))
    null_emb = embed([f"n{k}" for k in range(len(seqs))], seqs)
    sw = fit_head_null(sequence_head(), null_emb, np.arange(200), np.arange(200, 800))
    dev_idx = development_families(len(train))
    dev = build_benchmark([train[i].alignment for i in sorted(dev_idx)], max_members=8, seed=0)
    dev_emb = embed(dev.names, dev.seqs)
    dev_sets = _draw_cluster_sets(dev, args.seed)
    sw_ari = {}
    for t in (0.0, 5.0, 10.0, 15.0, 20.0, 30.0):
        sw_ari[t] = np.mean(
            [
                rnabert.metrics.ari(
                    dev.family[m], cluster(dev_emb.subset(m), head=sw, threshold=t).labels
                )
                for m in dev_sets.values()
            ]
        )
    sw_t = max(sw_ari, key=sw_ari.get)
    print(f"sequence-only SW: threshold {sw_t} bits (training ARI {sw_ari[sw_t]:.3f})")

    bench = build_benchmark(val, max_members=40, seed=args.seed)
    sets_idx = _draw_cluster_sets(bench, args.seed)
    real = np.where(~bench.decoy)[0]
    sets_idx["all ≤10"] = np.concatenate(
        [real[bench.family[real] == f][:10] for f in np.unique(bench.family[real])]
    )
    sets, embed_s = {}, {}
    for name, m in sets_idx.items():
        pairs = [(bench.names[i], bench.seqs[i]) for i in m]
        t = time.perf_counter()
        emb = embed([p[0] for p in pairs], [p[1] for p in pairs])
        embed_s[name] = time.perf_counter() - t
        sets[name] = (pairs, bench.family[m], emb)
        print(f"set {name}: {len(m)} sequences, embedded in {embed_s[name]:.1f} s")

    th = args.threads
    k_of = {id(emb): int(len(np.unique(truth))) for _, truth, emb in sets.values()}
    methods = {
        "rnabert cluster (default: average, 10 bits)": lambda s, e: cluster(e, threads=th).labels,
        "rnabert, streamed tiles + components": lambda s, e: (
            cluster(e, dense_max=1, block=128, threads=th).labels
        ),
        "rnabert, prefilter 50 nearest pooled vectors": lambda s, e: (
            cluster(e, prefilter=50, threads=th).labels
        ),
        "rnabert, Leiden on the ≥10-bit graph": lambda s, e: (
            cluster(e, method="leiden", threads=th).labels
        ),
        "rnabert spectral, told the true K": lambda s, e: (
            cluster(e, n_clusters=k_of[id(e)], threads=th).labels
        ),
        f"sequence-only SW, same clustering ({sw_t:g} bits)": lambda s, e: (
            cluster(e, head=sw, threshold=sw_t, threads=th).labels
        ),
    }
    if ev.cdhit_available():
        methods["CD-HIT-EST -c 0.8"] = lambda s, e: ev.run_cdhit_est(s, 0.8, th)
    else:
        print("cd-hit-est: not installed, skipped")
    if ev.mmseqs_available():
        methods["MMseqs2 easy-cluster (defaults)"] = lambda s, e: ev.run_mmseqs_cluster(s, (), th)
        methods["MMseqs2 easy-cluster --min-seq-id 0.3 -c 0.5 -s 7.5"] = lambda s, e: (
            ev.run_mmseqs_cluster(s, ("--min-seq-id", "0.3", "-c", "0.5", "-s", "7.5"), th)
        )
    else:
        print("mmseqs: not installed, skipped")
    if args.only:
        methods = {k: v for k, v in methods.items() if args.only in k}
    results = ev.compare_methods(sets, methods)
    print()
    print(ev.format_table(results))
    print("embedding (s): " + ", ".join(f"{k} {v:.1f}" for k, v in embed_s.items()))

    e2e = None if args.skip_e2e else end_to_end(train, th, args.seed)
    out = {
        "results": results,
        "embed_seconds": embed_s,
        "sequence_only_threshold": sw_t,
        "end_to_end": e2e,
        "machine": f"{platform.machine()} {platform.processor()} threads={th}",
        "rnabert": rnabert.__version__,
        "wall_s": time.time() - t_start,
    }
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1, default=float)


def end_to_end(train, threads, seed, n=1500):
    """1,500 Rfam sequences of 90–110 nt: embed + score + cluster, dense and streamed."""
    rng = np.random.default_rng(seed + 99)
    pool = []
    for f in train:
        for r in f.alignment.records():
            if 90 <= len(r.seq) <= 110:
                pool.append((f"{f.accession}|{r.name}", r.seq))
    pool = list({name: s for name, s in pool}.items())
    chosen = [pool[i] for i in rng.choice(len(pool), n, replace=False)]
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AmbiguousBaseWarning)
        t = time.perf_counter()
        emb = rnabert.embed(chosen, device="cpu")
        t_embed = time.perf_counter() - t
        t = time.perf_counter()
        c = cluster(chosen, threads=threads, device="cpu")
        out["dense end to end s"] = time.perf_counter() - t
    t = time.perf_counter()
    c2 = cluster(emb, dense_max=1, block=256, threads=threads)
    out["streamed score+cluster s (embeddings given)"] = time.perf_counter() - t
    out["embed s"] = t_embed
    out["pairs"] = n * (n - 1) // 2
    out["mean length"] = float(np.mean([len(s) for _, s in chosen]))
    out["clusters"] = c.n_clusters
    out["same clusters"] = bool((c.labels == c2.labels).all())
    truth = [name.split("|")[0] for name, _ in chosen]
    out["ari vs Rfam"] = rnabert.metrics.ari(truth, c.labels)
    print(f"end to end, {n} sequences: {out}")
    return out


if __name__ == "__main__":
    main()
