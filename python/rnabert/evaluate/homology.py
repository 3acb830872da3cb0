"""Homology evaluation: search-like ranking and clustering of held-out Rfam families, side by side.

One run scores the same benchmark with every method:
- search: 2 queries per family; database = the family's other members (up to a cap) plus one
  dinucleotide-preserving shuffle of every database sequence. Per query: ROC AUC and ROC1 (fraction
  of its homologs above its best non-homolog); pooled over queries: sensitivity at one false
  positive per query (which tests whether scores are comparable across queries); calibration:
  non-homologous hits with E ≤ 1 per query. Pairs of different families of one Rfam clan are left
  out ("neutral"), and reported once more counted as negatives.
- clustering: sets of sequences drawn from the families (balanced and unbalanced), clustered by
  average linkage at one fixed threshold on pair significance (−log2 of the pair's E-value), ARI.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, List

import numpy as np

from ..clustering.linkage import average_linkage
from ..metrics import ari


# -- metrics ---------------------------------------------------------------------------------------
def average_ranks(a: np.ndarray) -> np.ndarray:
    """1-based ranks with ties sharing their average rank."""
    order = np.argsort(a, kind="mergesort")
    _, start, counts = np.unique(a[order], return_index=True, return_counts=True)
    ranks = np.empty(len(a))
    ranks[order] = np.repeat(start + (counts + 1) / 2.0, counts)
    return ranks


def search_metrics(score: np.ndarray, homolog: np.ndarray, counted: np.ndarray) -> Dict[str, float]:
    """Ranking metrics of a query × target score matrix (higher = more likely homologous).

    score : (nq, nt) float; -inf for "not reported".
    homolog : (nq, nt) bool, the truth.
    counted : (nq, nt) bool, False for pairs left out (same-clan sister families).
    """
    aucs, roc1 = [], []
    for q in range(score.shape[0]):
        s, t = score[q, counted[q]], homolog[q, counted[q]]
        pos, neg = s[t], s[~t]
        if len(pos) == 0 or len(neg) == 0:
            continue
        r = average_ranks(np.concatenate([pos, neg]))
        aucs.append((r[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))
        roc1.append(float((pos > neg.max()).mean()))
    s, t = score[counted], homolog[counted]
    order = np.argsort(-s, kind="stable")
    fp = np.cumsum(~t[order])
    tp = np.cumsum(t[order])
    k = int(
        np.searchsorted(fp, len(aucs), side="left")
    )  # pairs ranked above the nq-th false positive
    sens = float(tp[k - 1] / max(1, t.sum())) if k > 0 else 0.0
    return {
        "auc": float(np.mean(aucs)),
        "roc1": float(np.mean(roc1)),
        "sens_1fp": sens,
        "queries": len(aucs),
    }


# -- training-family sets for choices and nulls --------------------------------------------------
def development_families(n_train: int) -> np.ndarray:
    """Indices of the 150 training families on which the homology head's scoring and the clustering
    thresholds are chosen (seeded: the same set in every script), so that validation families are
    only ever measured."""
    return np.random.default_rng(123).choice(n_train, 150, replace=False)


def null_sequences(
    alignments, n_queries: int, n_decoys: int, rng: np.random.Generator
) -> List[str]:
    """Sequences to fit a null on: one random member of each of ``n_queries + n_decoys`` distinct
    families of ``alignments``; the last ``n_decoys`` are dinucleotide-shuffled (the decoys), so
    every query × decoy pair is unrelated by construction."""
    import warnings

    from ..seqs import AmbiguousBaseWarning
    from ..seqs.shuffle import dinucleotide_shuffle

    pick = rng.choice(len(alignments), n_queries + n_decoys, replace=False)
    seqs = []
    for k, i in enumerate(pick):
        with warnings.catch_warnings():  # IUPAC codes become MASK, as everywhere
            warnings.simplefilter("ignore", AmbiguousBaseWarning)
            records = alignments[i].records()
        s = records[int(rng.integers(len(records)))].seq
        seqs.append(s if k < n_queries else dinucleotide_shuffle(s, rng))
    return seqs


# -- the benchmark -------------------------------------------------------------------------------
@dataclass
class Benchmark:
    """Sequences of held-out families, which are queries and which form the database."""

    names: List[str]
    seqs: List[str]
    family: np.ndarray  # int, index into accessions
    clan: List[str]  # "" when the family has no clan
    decoy: np.ndarray  # bool: a dinucleotide shuffle
    accessions: List[str]
    queries: np.ndarray  # indices into seqs
    database: np.ndarray

    def truth(self, clan_neutral: bool = True):
        """(homolog, counted) matrices of queries × database."""
        fq, fd = self.family[self.queries][:, None], self.family[self.database][None, :]
        decoy = self.decoy[self.database][None, :]
        homolog = (fq == fd) & ~decoy
        counted = np.ones_like(homolog)
        if clan_neutral:
            cq = np.array([self.clan[i] for i in self.queries])[:, None]
            cd = np.array([self.clan[i] for i in self.database])[None, :]
            counted &= ~((cq == cd) & (cq != "") & ~homolog & ~decoy)
        return homolog, counted


def build_benchmark(
    alignments, *, max_members: int = 40, queries_per_family: int = 2, seed: int = 0
) -> Benchmark:
    """2 queries per family (with at least one more member), database = the other members plus one
    dinucleotide shuffle of each. ``alignments``: StockholmAlignment objects of held-out
    families."""
    import warnings

    from ..seqs import AmbiguousBaseWarning
    from ..seqs.shuffle import dinucleotide_shuffle

    rng = np.random.default_rng(seed)
    names, seqs, family, clan, decoy, accs = [], [], [], [], [], []
    queries, database = [], []
    for aln in alignments:
        with warnings.catch_warnings():  # Rfam seeds hold a few IUPAC codes: MASK, as everywhere
            warnings.simplefilter("ignore", AmbiguousBaseWarning)
            records = [r for r in aln.records() if len(r.seq) >= 10]
        if len(records) < queries_per_family + 1:
            continue
        k = len(accs)
        accs.append(aln.accession or aln.id or f"family{k}")
        cl = aln.gf.get("CL", "").strip()
        chosen = [records[i] for i in rng.permutation(len(records))[:max_members]]
        for pos, r in enumerate(chosen):
            (queries if pos < queries_per_family else database).append(len(seqs))
            names.append(r.name)
            seqs.append(r.seq)
            family.append(k)
            clan.append(cl)
            decoy.append(False)
        for r in chosen[queries_per_family:]:
            database.append(len(seqs))
            names.append(f"{r.name}|shuffled")
            seqs.append(dinucleotide_shuffle(r.seq, rng))
            family.append(k)
            clan.append("")
            decoy.append(True)
    return Benchmark(
        names,
        seqs,
        np.array(family),
        clan,
        np.array(decoy),
        accs,
        np.array(queries),
        np.array(database),
    )


# -- scoring ---------------------------------------------------------------------------------------
def head_scores(
    head, emb, queries, database, threads=None, shifts=None, correction=None
) -> Dict[str, np.ndarray]:
    """Local scores of queries × database under a head, with per-pair and database E-values.

    ``shifts`` (one per sequence of ``emb``) are subtracted from each query's scores; a
    ``correction`` (:class:`rnabert.alignment.composition.QueryCorrection` over the sequences of
    ``emb``) is applied to them instead."""
    from ..alignment.engine import all_vs_all

    vec = head.vectors(emb)
    qe, de = vec.subset(queries), vec.subset(database)
    t = time.perf_counter()
    raw = all_vs_all(qe, head.params, targets=de, threads=threads).astype(np.float64)
    if correction is not None:  # composition correction: each query's own location and spread
        raw = correction.apply(raw, queries[:, None])
    elif shifts is not None:  # composition correction: each query's own shift
        raw -= shifts[queries][:, None]
    seconds = time.perf_counter() - t
    lq, ld = emb.lengths[queries][:, None], emb.lengths[database][None, :]
    e_pair = head.null.evalue(raw, lq, ld)
    residues = float(head.null.effective(emb.lengths[database]).sum())
    e_db = head.null.evalue(raw, lq, residues + head.null.edge)  # whole database as search space
    return {"raw": raw, "e_pair": e_pair, "e_db": e_db, "seconds": seconds}


def fit_head_null(head, emb, queries, decoys, threads=None):
    """The head with its null refitted on queries × decoys (unrelated by construction)."""
    import dataclasses

    from ..alignment.engine import all_vs_all
    from ..alignment.null import fit_null

    vec = head.vectors(emb)
    raw = all_vs_all(vec.subset(queries), head.params, targets=vec.subset(decoys), threads=threads)
    lq, ld = np.broadcast_arrays(emb.lengths[queries][:, None], emb.lengths[decoys][None, :])
    return dataclasses.replace(head, null=fit_null(raw.ravel(), lq.ravel(), ld.ravel()))


def calibration(
    e_db: np.ndarray, false: np.ndarray, thresholds=(0.01, 0.1, 1.0, 10.0)
) -> Dict[str, float]:
    """Mean number of false hits per query (``false``: (nq, nt) bool) with database E-value ≤ x."""
    return {f"{x:g}": float(((e_db <= x) & false).sum() / len(e_db)) for x in thresholds}


def _draw_cluster_sets(bench: Benchmark, seed: int):
    """Two clustering sets of real (non-shuffled) sequences: 48 families × 5, and an unbalanced one
    (sizes 2..30, geometric-like, as real collections are)."""
    rng = np.random.default_rng(seed + 1)
    real = np.where(~bench.decoy)[0]
    by_family = {f: real[bench.family[real] == f] for f in np.unique(bench.family[real])}
    big = [f for f, idx in by_family.items() if len(idx) >= 5]
    fams = rng.permutation(big)[:48]
    balanced = np.concatenate([rng.permutation(by_family[f])[:5] for f in fams])
    fams = rng.permutation(list(by_family))[:40]
    sizes = np.minimum(2 + rng.geometric(0.15, len(fams)), 30)
    unbalanced = np.concatenate([rng.permutation(by_family[f])[:s] for f, s in zip(fams, sizes)])
    return {"balanced 48×5": balanced, "unbalanced": unbalanced}


def cluster_with_head(head, emb, members, threshold: float, shifts=None) -> np.ndarray:
    """Average-linkage clusters of ``members`` at ``threshold`` bits of pair significance."""
    from ..alignment.engine import all_vs_all

    vec = head.vectors(emb).subset(members)
    raw = all_vs_all(vec, head.params).astype(np.float64)
    if shifts is not None:
        raw -= (shifts[members][:, None] + shifts[members][None, :]) / 2
    L = emb.lengths[members]
    sig = -np.log2(np.maximum(head.null.evalue(raw, L[:, None], L[None, :]), 1e-300))
    return average_linkage(sig, threshold)


def evaluate_homology(
    bench: Benchmark,
    emb,
    heads: Dict[str, object],
    *,
    cluster_threshold: float,
    peers: bool = True,
    threads=None,
    seed: int = 0,
    shifts=None,
    correction=None,
    log=print,
) -> Dict[str, Dict]:
    """Every method on one benchmark: search metrics (clan-neutral and clan-as-negative),
    calibration, speed, clustering ARI. ``heads``: name -> HomologyHead (the sequence-only baseline
    is one too). ``correction``: the queries' composition correction (its shifts, averaged over a
    pair, correct the clustering)."""
    if correction is not None:
        shifts = correction.shift
    homolog, counted = bench.truth(clan_neutral=True)
    _, counted_strict = bench.truth(clan_neutral=False)
    results: Dict[str, Dict] = {}
    sets = _draw_cluster_sets(bench, seed)

    def record(name, score, e_db, seconds):
        r = {
            "search": search_metrics(score, homolog, counted),
            "search_clan_negative": search_metrics(score, homolog, counted_strict),
            "seconds": seconds,
            "queries_per_s": len(bench.queries) / max(seconds, 1e-9),
        }
        if e_db is not None:
            # The calibration check of a search tool: hits among shuffled decoys, with the E-values
            # a database of the decoys alone would give (E scales with the search space).
            decoy = np.broadcast_to(bench.decoy[bench.database][None, :], e_db.shape)
            lengths = np.array([len(bench.seqs[i]) for i in bench.database], dtype=np.float64)
            share = lengths[bench.decoy[bench.database]].sum() / lengths.sum()
            r["calibration"] = calibration(e_db * share, decoy)
            # and among every non-homologous sequence (other families' members too), E as reported
            r["calibration_nonhomologs"] = calibration(e_db, ~homolog & counted)
        results[name] = r
        log(f"{name}: {r['search']}")

    for name, head in heads.items():
        s = head_scores(head, emb, bench.queries, bench.database, threads, shifts, correction)
        record(name, -np.log(s["e_pair"]), s["e_db"], s["seconds"])
        results[name]["clustering"] = {}
        for set_name, members in sets.items():
            labels = cluster_with_head(head, emb, members, cluster_threshold, shifts)
            results[name]["clustering"][set_name] = {
                "ari": ari(bench.family[members], labels),
                "clusters": int(len(np.unique(labels))),
                "families": int(len(np.unique(bench.family[members]))),
            }
    if peers:
        from . import peers as peer_tools

        q = [(bench.names[i], bench.seqs[i]) for i in bench.queries]
        d = [(bench.names[i], bench.seqs[i]) for i in bench.database]
        for name, available, run in (
            ("blastn", peer_tools.blastn_available, peer_tools.run_blastn),
            ("nhmmer", peer_tools.nhmmer_available, peer_tools.run_nhmmer),
        ):
            if not available():
                log(f"{name}: not installed, skipped")
                continue
            res = run(q, d, threads=threads or 2)
            # blastn prints E 0.0 for its best hits: -log gives +inf, which ranks them first
            with np.errstate(divide="ignore"):
                record(name, -np.log(res.evalue), res.evalue, res.seconds)
    return results


def format_results(results: Dict[str, Dict]) -> str:
    """Markdown tables: search (clan-neutral, then clan counted as negative), calibration,
    clustering."""
    lines = [
        "| method | ROC AUC | ROC1 | sens@1FP/q | ROC1 (clan neg.) | sens@1FP/q (clan neg.) | "
        "decoys E≤1 /q | non-homologs E≤1 /q | queries/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        s, c = r["search"], r["search_clan_negative"]
        dec = r.get("calibration", {}).get("1", float("nan"))
        non = r.get("calibration_nonhomologs", {}).get("1", float("nan"))
        lines.append(
            f"| {name} | {s['auc']:.3f} | {s['roc1']:.3f} | {s['sens_1fp']:.3f} | "
            f"{c['roc1']:.3f} | {c['sens_1fp']:.3f} | {dec:.2f} | {non:.2f} | "
            f"{r['queries_per_s']:.1f} |"
        )
    kinds = (("calibration", "shuffled decoys"), ("calibration_nonhomologs", "non-homologs"))
    for key, what in kinds:
        rows = [(n, r[key]) for n, r in results.items() if key in r]
        if not rows:
            continue
        xs = list(rows[0][1])
        lines += [
            "",
            f"| {what}: hits per query with E ≤ x | " + " | ".join(xs) + " |",
            "|---|" + "---|" * len(xs),
        ]
        lines += [f"| {n} | " + " | ".join(f"{c[x]:.3f}" for x in xs) + " |" for n, c in rows]
    cl_rows = [(n, r["clustering"]) for n, r in results.items() if "clustering" in r]
    if cl_rows:
        sets = list(cl_rows[0][1])
        lines += [
            "",
            "| clustering ARI (clusters / families) | " + " | ".join(sets) + " |",
            "|---|" + "---|" * len(sets),
        ]
        lines += [
            f"| {n} | "
            + " | ".join(f"{c[s]['ari']:.3f} ({c[s]['clusters']}/{c[s]['families']})" for s in sets)
            + " |"
            for n, c in cl_rows
        ]
    return "\n".join(lines)


# -- the whole benchmark on Rfam families --------------------------------------------------------
def cosine_head(bias: float = -0.5):
    """The encoder's plain cosine as a head (no centring, no base channel), local mode: the scoring
    before the homology head, for comparison."""
    from ..alignment.heads import HomologyHead
    from ..alignment.null import NullModel
    from ..alignment.params import AlignParams

    return HomologyHead(
        np.eye(120, dtype=np.float32),
        np.zeros((6, 1), np.float32),
        0.0,
        0.0,
        AlignParams(mode="local", scale=1.0, bias=bias, gap_open=1.0, gap_extend=0.1),
        NullModel(1.0, 1.0),
    )


def evaluate_homology_on_rfam(
    data,
    *,
    model=None,
    head=None,
    max_members: int = 40,
    peers: bool = True,
    comparisons: bool = True,
    seed: int = 0,
    thresholds=(0.0, 5.0, 10.0, 15.0, 20.0, 30.0),
    log=print,
):
    """The homology benchmark of the validation families of ``data`` (a Rfam seed Stockholm file),
    every method in one run: the homology head, the encoder's plain cosine, a sequence-only
    Smith-Waterman through the same engine, blastn and nhmmer.

    The nulls of the two comparison heads are fitted on 200 training-family queries against
    shuffles of 600 other training families' members, and each head's clustering threshold is
    chosen on 150 training families: the validation families are only measured.
    ``comparisons=False`` leaves out the cosine and Smith-Waterman heads (and ``peers=False``
    blastn and nhmmer): the homology head alone, plain and composition-corrected.

    Returns (results, {head name: clustering threshold}); print with :func:`format_results`.
    """
    import warnings

    from .. import embed as embed_sequences
    from ..alignment.heads import load_homology_head, sequence_head
    from ..model.checkpoint import load_model
    from ..seqs import AmbiguousBaseWarning
    from ..train.data import read_families, read_validation_file

    held = set(read_validation_file())
    fams = read_families(data)
    train = [f for f in fams if f.accession not in held]
    val = [f.alignment for f in fams if f.accession in held]
    if not val:
        raise ValueError(f"{data}: holds none of the validation families")
    model = load_model() if model is None else model

    def embed(names, seqs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AmbiguousBaseWarning)
            return embed_sequences(list(zip(names, seqs)), model=model, device="cpu")

    heads = {"rnabert bits (homology head)": head if head is not None else load_homology_head()}
    if comparisons:
        rng = np.random.default_rng(seed + 7)
        seqs = null_sequences([f.alignment for f in train], 200, 600, rng)
        null_emb = embed([f"n{k}" for k in range(len(seqs))], seqs)
        qn, dn = np.arange(200), np.arange(200, 800)
        heads["encoder cosine, local"] = fit_head_null(cosine_head(), null_emb, qn, dn)
        heads["sequence-only SW +2/-3 (same engine)"] = fit_head_null(
            sequence_head(), null_emb, qn, dn
        )
    dev_idx = development_families(len(train))
    dev = build_benchmark([train[i].alignment for i in sorted(dev_idx)], max_members=8, seed=seed)
    dev_emb = embed(dev.names, dev.seqs)
    dev_sets = _draw_cluster_sets(dev, seed)
    chosen = {}
    for name, h in heads.items():
        by_threshold = {
            t: np.mean(
                [ari(dev.family[m], cluster_with_head(h, dev_emb, m, t)) for m in dev_sets.values()]
            )
            for t in thresholds
        }
        chosen[name] = max(by_threshold, key=by_threshold.get)
        best = by_threshold[chosen[name]]
        log(f"{name}: clustering threshold {chosen[name]} bits (training ARI {best:.3f})")
    bench = build_benchmark(val, max_members=max_members, seed=seed)
    log(
        f"validation benchmark: {len(bench.accessions)} families, {len(bench.queries)} queries, "
        f"{len(bench.database)} database sequences ({int(bench.decoy.sum())} shuffles)"
    )
    emb = embed(bench.names, bench.seqs)
    results = {}
    for name, h in heads.items():
        results.update(
            evaluate_homology(
                bench,
                emb,
                {name: h},
                cluster_threshold=chosen[name],
                peers=False,
                seed=seed,
                log=log,
            )
        )
    main = heads["rnabert bits (homology head)"]
    if main.composition_reference is not None:
        from ..alignment.composition import QueryCorrection, composition_correction

        # every real sequence is a query or a clustering member; shuffles are only targets
        real = np.where(~bench.decoy)[0]
        part = composition_correction(emb.subset(real), main, model=model, seed=seed)
        n = len(bench.seqs)
        correction = QueryCorrection(np.zeros(n), np.ones(n), np.zeros(n))
        for field in ("shift", "scale", "typical"):
            getattr(correction, field)[real] = getattr(part, field)
        name = "rnabert bits, composition-corrected"
        chosen[name] = chosen["rnabert bits (homology head)"]
        results.update(
            evaluate_homology(
                bench,
                emb,
                {name: main},
                cluster_threshold=chosen[name],
                peers=False,
                seed=seed,
                correction=correction,
                log=log,
            )
        )
    if peers:
        results.update(
            evaluate_homology(bench, emb, {}, cluster_threshold=0.0, peers=True, seed=seed, log=log)
        )
    return results, chosen
