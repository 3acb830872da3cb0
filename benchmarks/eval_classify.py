"""RNA type classification (the 13 nRC classes), every method side by side in one run.

    python benchmarks/eval_classify.py [--data ../shared/data/nrc/dataset_Rfam_6320_13classes.fasta]
        [--cache /work/cache_classify] [--threads 1] [--json out.json] [--markdown out.md]
        [--save-head python/rnabert/weights/rna_class_head.safetensors]

Data: the nRC training file (6,320 sequences, 13 classes; SOURCE.md: for classification only). It
is split here, seeded and stratified, 80 % train / 20 % held-out test; the published nRC test
splits are not available. Every choice (classifier width, L2 penalty, the head to ship, the number
of voting neighbours, the combination weight) is made by 3-fold cross-validation inside the train
part (the folds of ``select_by_cross_validation``); the test part is predicted once, at the end:

(a) the previous head kind: mean+max pooled embeddings of the shipped encoder + k-mer frequencies
    k = 1..6, logistic regression or a one-hidden-layer MLP;
(b) k-mer frequencies alone through the same classifier; (c) (a) on a random-initialised encoder
    (``new_model(seed=0)``);
(f) a conv head (``ClassHead(pool="conv")``) over the per-base [embedding ; one-hot base] of the
    shipped encoder; (g) the same on the random-initialised encoder; (h) on the one-hot bases alone;
(E1) the new head kind: (f) and (a) trained apart, probabilities averaged (``HeadEnsemble``);
    (E2) (f), (h) and (a); (G) E1's recipe on the random encoder ((g) + (c)); (H) with no
    encoder ((h) + (b)); the shipped head is the best by CV among those on the shipped encoder;
(d) a nearest-neighbour vote on homology bits: each test sequence aligned to every train sequence
    with ``align_many(score="bits")`` (the shipped homology head), the k best hits vote;
(e) the shipped head's probabilities mixed with the vote, k and weight chosen by cross-validation.

``--only "(f)"`` computes and caches the named methods alone, so two processes can share the
work; a last run without it assembles the table from the cache. The conv heads take minutes per
fit on one core (``--threads 1``), the whole table about an hour on two cores.

Embeddings and alignment scores are cached under ``--cache`` (outside the repository), keyed by the
data file's and the encoder's sha256, so a second run costs minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import time
import warnings

import numpy as np
import torch

import rnabert
from rnabert.classify import ClassHead, combine, knn_vote, read_labelled_fasta
from rnabert.classify.training import (
    DEFAULT_GRID,
    accuracy,
    default_grid,
    fit_conv_head,
    fit_head,
    macro_f1,
    per_class_f1,
    select_by_cross_validation,
    stratified_folds,
    stratified_split,
)
from rnabert.model import new_model
from rnabert.search.database import model_fingerprint
from rnabert.seqs import AmbiguousBaseWarning

DATA = "../shared/data/nrc/dataset_Rfam_6320_13classes.fasta"


def sha256_of(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def cached_embeddings(data: str, model, cache: str) -> rnabert.Embeddings:
    """Per-base embeddings of every sequence of ``data`` by ``model``, computed once."""
    path = os.path.join(
        cache, f"emb_{sha256_of(data)[:12]}_{model_fingerprint(model)[:12]}.safetensors"
    )
    if os.path.exists(path):
        return rnabert.Embeddings.load(path)
    t = time.time()
    emb = rnabert.embed(data, model=model, device="cpu", progress=True)
    emb.save(path)
    print(f"embedded {len(emb)} sequences in {time.time() - t:.0f} s -> {path}", flush=True)
    return emb


def cached_bits(emb, queries, targets, tag: str, cache: str, threads: int) -> np.ndarray:
    """Dense homology bits (len(queries), len(targets)) of the sequences of ``emb``."""
    key = hashlib.sha256(
        np.asarray(queries, np.int64).tobytes() + np.asarray(targets, np.int64).tobytes()
    ).hexdigest()[:12]
    path = os.path.join(cache, f"bits_{tag}_{key}.npy")
    if os.path.exists(path):
        return np.load(path)
    t = time.time()
    hits = rnabert.align_many(
        emb.subset(queries),
        targets=emb.subset(targets),
        score="bits",
        threads=threads,
        progress=True,
    )
    bits = np.full((len(queries), len(targets)), -np.inf, dtype=np.float32)
    bits[hits.i, hits.j] = hits.score
    np.save(path, bits)
    print(
        f"aligned {len(queries)} x {len(targets)} in {time.time() - t:.0f} s -> {path}", flush=True
    )
    return bits


def method_result(name, spec, data, labels, train, test, classes, fingerprint, args):
    """CV choice on train, fit on train, predict test; cached under --cache by method and split."""
    key = hashlib.sha256(
        json.dumps([name, spec, args.seed, args.folds, args.epochs, GRID, len(labels)]).encode()
        + np.asarray(train).tobytes()
    ).hexdigest()[:12]
    path = os.path.join(args.cache, f"head_{key}.npz")
    head_path = os.path.join(args.cache, f"head_{key}.safetensors")
    if os.path.exists(path) and os.path.exists(head_path):
        z = np.load(path, allow_pickle=False)
        return {
            "test": z["test"],
            "oof": z["oof"],
            "cv": json.loads(str(z["cv"])),
            "best": json.loads(str(z["best"])),
            "head": ClassHead.load(head_path),
            "seconds": float(z["seconds"]),
        }
    t = time.time()
    train_labels = [labels[i] for i in train]
    pool, kmer = spec["pool"], spec["kmer"]

    def make_head(hidden):
        return ClassHead(classes, 120, pool, hidden, encoder_fingerprint=fingerprint, kmer=kmer)

    fit_options = {"epochs": args.epochs}
    features = make_head(0).features(data)
    train_data, test_data = features[train], features[test]
    grid = default_grid(features.shape[1])  # as `rnabert classify train`
    best, cv, oof = select_by_cross_validation(
        make_head,
        train_data,
        train_labels,
        grid,
        folds=args.folds,
        seed=args.seed,
        fit_options=fit_options,
        report=lambda row: print(f"  {name} cv {row}", flush=True),
    )
    head = make_head(best["hidden"])
    fit_head(head, train_data, train_labels, l2=best["l2"], seed=args.seed, **fit_options)
    test_p = head.probabilities(test_data)
    seconds = time.time() - t
    np.savez(path, test=test_p, oof=oof, cv=json.dumps(cv), best=json.dumps(best), seconds=seconds)
    head.save(head_path)
    return {"test": test_p, "oof": oof, "cv": cv, "best": best, "head": head, "seconds": seconds}


# the conv head's recipe (the shipped one): two convolutions of 64 channels, 9 bases wide
CONV = {"conv_channels": 64, "conv_kernel": 9, "conv_layers": 2, "dropout": 0.2}
CONV_FIT = {"epochs": 30, "lr": 2e-3, "weight_decay": 1e-2, "validation": 0.1}


def conv_result(name, spec, emb, labels, train, test, classes, fingerprint, args):
    """A conv head: out-of-fold probabilities on the train part (``args.folds`` folds, the folds
    of :func:`select_by_cross_validation`, when ``spec["cv"]``), then fitted on the whole train
    part (each fit early-stopped on its own 10 % validation part) and run on test. Each fold and
    the final head are cached under --cache, so runs can share the work."""
    key = hashlib.sha256(
        json.dumps([name, spec, CONV, CONV_FIT, args.seed, args.folds, len(labels)]).encode()
        + np.asarray(train).tobytes()
    ).hexdigest()[:12]
    t = time.time()
    train_labels = [labels[i] for i in train]

    def make_head():
        return ClassHead(
            classes,
            120,
            "conv",
            encoder_fingerprint=fingerprint,
            embedding=spec["encoder"] != "none",
            **CONV,
        )

    def fitted(idx, tag):
        path = os.path.join(args.cache, f"conv_{key}_{tag}.safetensors")
        if os.path.exists(path):
            return ClassHead.load(path)
        t0 = time.time()
        head = make_head()
        fit_conv_head(
            head, emb.subset(idx), [labels[i] for i in idx], seed=args.seed + spec.get("seed", 0),
            progress=True,
            **CONV_FIT,
        )  # fmt: skip
        head.save(path)
        print(f"  {name} {tag}: {time.time() - t0:.0f} s {head.info.get('validation')}", flush=True)
        return head

    oof = np.full((len(train), len(classes)), np.nan)
    cv = []
    if spec.get("cv"):
        fold_of = stratified_folds(train_labels, args.folds, args.seed)
        for f in range(args.folds):
            tr, te = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
            oof[te] = fitted(train[tr], f"fold{f}").probabilities(emb.subset(train[te]))
        predicted = [classes[k] for k in oof.argmax(1)]
        cv = [
            {
                "accuracy": accuracy(train_labels, predicted),
                "macro_f1": macro_f1(train_labels, predicted, classes),
            }
        ]
    head = fitted(train, "full")
    test_p = head.probabilities(emb.subset(test))
    validation = json.loads(head.info.get("validation", "{}"))
    return {
        "test": test_p,
        "oof": oof,
        "cv": cv,
        "best": {
            "channels": CONV["conv_channels"],
            "kernel": CONV["conv_kernel"],
            "layers": CONV["conv_layers"],
            "epoch": validation.get("best_epoch"),
        },
        "validation_macro_f1": validation.get("macro_f1"),
        "head": head,
        "seconds": time.time() - t,
    }


def scores(truth, probabilities, classes):
    predicted = [classes[k] for k in np.asarray(probabilities).argmax(1)]
    return {
        "accuracy": accuracy(truth, predicted),
        "macro_f1": macro_f1(truth, predicted, classes),
        "per_class_f1": per_class_f1(truth, predicted, classes),
        "confusion": confusion(truth, predicted, classes).tolist(),
    }


def confusion(truth, predicted, classes) -> np.ndarray:
    """Rows: true class; columns: predicted class."""
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for t, p in zip(truth, predicted):
        out[index[t], index[p]] += 1
    return out


GRID = DEFAULT_GRID  # wider than 1,000 inputs (k-mers): hidden 0 or 64 (default_grid)
# name -> features of a head on pooled vectors: pooling of the shipped / random encoder's
# embeddings, k-mers 1..kmer (the names key the cache: results of earlier runs are reused)
METHODS = {
    "(b) k-mer frequencies k=1..6": {"encoder": "shipped", "pool": "none", "kmer": 6},
    "(a+b) shipped encoder mean+max + k-mers": {
        "encoder": "shipped",
        "pool": "meanmax",
        "kmer": 6,
    },
    "(c+b) random encoder mean+max + k-mers": {"encoder": "random", "pool": "meanmax", "kmer": 6},
}
# conv heads over per-base features; "none": the one-hot bases alone
CONV_METHODS = {
    "(f) conv: shipped encoder + one-hot": {"encoder": "shipped", "cv": True},
    # a comparison, not a candidate to ship: test numbers only (two cores' time)
    "(g) conv: random encoder + one-hot": {"encoder": "random", "cv": False},
    "(h) conv: one-hot bases only": {"encoder": "none", "cv": True},
    "(h2) conv: one-hot bases only, seed + 1": {"encoder": "none", "cv": True, "seed": 1},
}
# the new head kind: conv heads and a pooled-vector head trained apart, probabilities averaged;
# the one with the best CV among those on the shipped encoder is shipped
ENSEMBLES = {
    "(E1) shipped encoder: conv (f) + MLP (a), averaged": (
        "(f) conv: shipped encoder + one-hot",
        "(a+b) shipped encoder mean+max + k-mers",
    ),
    "(E2) shipped encoder: conv (f) + one-hot conv (h) + MLP (a), averaged": (
        "(f) conv: shipped encoder + one-hot",
        "(h) conv: one-hot bases only",
        "(a+b) shipped encoder mean+max + k-mers",
    ),
    "(E3) shipped encoder: conv (f) + one-hot convs (h, h2) + MLP (a), averaged": (
        "(f) conv: shipped encoder + one-hot",
        "(h) conv: one-hot bases only",
        "(h2) conv: one-hot bases only, seed + 1",
        "(a+b) shipped encoder mean+max + k-mers",
    ),
    "(G) random encoder through E1: conv (g) + MLP (c), averaged": (
        "(g) conv: random encoder + one-hot",
        "(c+b) random encoder mean+max + k-mers",
    ),
    "(H) no encoder: one-hot conv (h) + k-mer classifier (b), averaged": (
        "(h) conv: one-hot bases only",
        "(b) k-mer frequencies k=1..6",
    ),
}
LABELS = {
    "(b) k-mer frequencies k=1..6": "(b) k-mer frequencies k=1..6 only",
    "(a+b) shipped encoder mean+max + k-mers": "(a) previous head: shipped encoder mean+max + "
    "k-mers, MLP",
    "(c+b) random encoder mean+max + k-mers": "(c) random encoder mean+max + k-mers, MLP",
}


def ensemble_head(members):
    from rnabert.classify import HeadEnsemble

    return HeadEnsemble(members)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--cache", default="/work/cache_classify")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--test-fraction", type=float, default=0.2)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument(
        "--only",
        help="comma-separated parts of method names: compute (and cache) those alone, then stop "
        "(to share the work between processes)",
    )
    ap.add_argument(
        "--knn-cv-queries",
        type=int,
        default=50,
        help="train sequences per class aligned to the whole train part to choose k and the "
        "combination weight by cross-validation",
    )
    ap.add_argument(
        "--stage",
        choices=("all", "cache", "heads"),
        default="all",
        help="cache: embeddings and alignments only; heads: every head but no vote",
    )
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    ap.add_argument("--save-head", help="save the head chosen by cross-validation here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", AmbiguousBaseWarning)
    os.makedirs(args.cache, exist_ok=True)
    t_start = time.time()

    records, labels = read_labelled_fasta(args.data)
    labels_arr = np.asarray(labels)
    classes = sorted(set(labels))
    train, test = stratified_split(labels, args.test_fraction, seed=args.seed)
    truth = [labels[i] for i in test]
    print(f"{len(records)} sequences, {len(classes)} classes; train {len(train)}, test {len(test)}")

    shipped = rnabert.load_model()
    random_model = new_model(seed=0).eval()
    fingerprints = {
        "shipped": model_fingerprint(shipped),
        "random": model_fingerprint(random_model),
    }
    embs = {
        "shipped": cached_embeddings(args.data, shipped, args.cache),
        "random": cached_embeddings(args.data, random_model, args.cache),
    }
    tag = f"{sha256_of(args.data)[:12]}_{fingerprints['shipped'][:12]}"
    # cross-validation of the vote: a stratified sample of train queries against the whole train
    # part, each query's own score removed (it would vote for itself)
    rng = np.random.default_rng(args.seed)
    cv_queries = np.sort(
        np.concatenate(
            [
                rng.choice(train[labels_arr[train] == c], args.knn_cv_queries, replace=False)
                for c in classes
            ]
        )
    )
    if args.stage in ("all", "cache"):
        bits_cv = cached_bits(embs["shipped"], cv_queries, train, tag, args.cache, args.threads)
        bits_test = cached_bits(embs["shipped"], test, train, tag, args.cache, args.threads)
    if args.stage == "cache":
        return

    rows, results = [], {}
    only = [w for w in (args.only or "").split(",") if w]

    def wanted(name):
        return not only or any(w in name for w in only)

    def add_row(name, r, cv_f1, cv_acc=None):
        rows.append(
            {
                "method": LABELS.get(name, name),
                "key": name,
                "choice": r["best"],
                "cv_macro_f1": cv_f1,
                "cv_accuracy": cv_acc,
                "validation_macro_f1": r.get("validation_macro_f1"),
                "seconds": r["seconds"],
                **scores(truth, r["test"], classes),
            }
        )
        row = rows[-1]
        print(f"{row['method']}: {row['accuracy']:.4f} acc, {row['macro_f1']:.4f} macro-F1 "
              f"(cv {cv_f1}) {r['best']}", flush=True)  # fmt: skip

    for name, spec in METHODS.items():
        if not wanted(name):
            continue
        enc = spec["encoder"]
        r = method_result(
            name, spec, embs[enc], labels, train, test, classes, fingerprints[enc], args
        )
        results[name] = r
        cv_rows = [row for row in r["cv"] if "macro_f1" in row]
        best_cv = max(cv_rows, key=lambda row: row["macro_f1"]) if cv_rows else None
        add_row(
            name,
            r,
            None if best_cv is None else best_cv["macro_f1"],
            None if best_cv is None else best_cv["accuracy"],
        )
    for name, spec in CONV_METHODS.items():
        if not wanted(name):
            continue
        enc = spec["encoder"]
        emb = embs["shipped" if enc == "none" else enc]
        fingerprint = "" if enc == "none" else fingerprints[enc]
        r = conv_result(name, spec, emb, labels, train, test, classes, fingerprint, args)
        results[name] = r
        cv = (r["cv"][0]["macro_f1"], r["cv"][0]["accuracy"]) if r["cv"] else (None,)
        add_row(name, r, *cv)
    if only:
        return
    train_labels = [labels[i] for i in train]
    for name, members in ENSEMBLES.items():
        parts = [results[m] for m in members]
        oof = np.mean([p["oof"] for p in parts], axis=0)
        r = {
            "test": np.mean([p["test"] for p in parts], axis=0),
            "oof": oof,
            "best": {"average of": " and ".join(m.split(" ", 1)[0] for m in members)},
            "seconds": sum(p["seconds"] for p in parts),
            "head": ensemble_head([p["head"] for p in parts]),
        }
        results[name] = r
        cv = None
        if not np.isnan(oof).any():
            predicted = [classes[k] for k in oof.argmax(1)]
            cv = (macro_f1(train_labels, predicted, classes), accuracy(train_labels, predicted))
        add_row(name, r, *(cv or (None,)))

    # the head to ship: best cross-validated macro-F1 among the heads that use the shipped encoder
    shippable = [
        row
        for row in rows
        if row["cv_macro_f1"] is not None
        and "shipped encoder" in row["key"]
        and "random" not in row["key"]
    ]
    chosen_row = max(shippable, key=lambda row: row["cv_macro_f1"])
    chosen, chosen_key = chosen_row["method"], chosen_row["key"]
    print(f"chosen by cross-validation: {chosen}", flush=True)

    knn_choice = {}
    if args.stage == "all":
        train_labels = [labels[i] for i in train]
        position = {int(t): k for k, t in enumerate(train)}
        bits_cv = bits_cv.copy()
        bits_cv[np.arange(len(cv_queries)), [position[int(q)] for q in cv_queries]] = -np.inf
        cv_truth = [labels[i] for i in cv_queries]
        # k by macro-F1 of the cv queries (leave-one-out on the train part)
        k_table = {}
        for k in (1, 3, 5, 10):
            v = knn_vote(bits_cv, train_labels, classes, k)
            k_table[k] = scores(cv_truth, v, classes)["macro_f1"]
        best_k = max(k_table, key=lambda k: (k_table[k], -k))
        t = time.time()
        votes_test = knn_vote(bits_test, train_labels, classes, best_k)
        row = {
            "method": "(d) nearest-neighbour vote on homology bits",
            "key": "vote",
            "choice": {"k": best_k},
            "cv_macro_f1": k_table[best_k],
            "seconds": time.time() - t,
            **scores(truth, votes_test, classes),
        }
        rows.append(row)
        # combination: head out-of-fold probabilities of the cv queries mixed with their votes;
        # k and the weight chosen together (one vote of k = 1 is all-or-nothing)
        oof = results[chosen_key]["oof"]
        in_train = np.array([position[int(q)] for q in cv_queries])
        w_table = {}
        for k in (1, 3, 5, 10):
            votes_cv = knn_vote(bits_cv, train_labels, classes, k)
            for w in np.round(np.linspace(0, 1, 11), 2):
                mixed = combine(oof[in_train], votes_cv, float(w))
                w_table[f"k={k} w={w:.1f}"] = (
                    k,
                    float(w),
                    scores(cv_truth, mixed, classes)["macro_f1"],
                )
        # ties: the smaller k, then the weight nearest 0.5
        comb_k, best_w, comb_f1 = max(
            w_table.values(), key=lambda t: (t[2], -t[0], -abs(t[1] - 0.5))
        )
        votes_comb = knn_vote(bits_test, train_labels, classes, comb_k)
        rows.append(
            {
                "method": f"(e) {chosen.split(' ', 1)[0]} shipped head + vote",
                "key": "vote",
                "choice": {"k": comb_k, "knn_weight": best_w},
                "cv_macro_f1": comb_f1,
                "seconds": 0.0,
                **scores(truth, combine(results[chosen_key]["test"], votes_comb, best_w), classes),
            }
        )
        knn_choice = {
            "vote_k": best_k,
            "k": comb_k,
            "knn_weight": best_w,
            "k_table": k_table,
            "combination_table": {key: t[2] for key, t in w_table.items()},
        }
        print(f"vote k {best_k} ({k_table}); combination k {comb_k} weight {best_w}", flush=True)

    for row in rows:
        print(f"{row['method']}: accuracy {row['accuracy']:.4f}, macro-F1 {row['macro_f1']:.4f}")
    report = {
        "data": os.path.abspath(args.data),
        "data_sha256": sha256_of(args.data),
        "split": {
            "seed": args.seed,
            "test_fraction": args.test_fraction,
            "train": len(train),
            "test": len(test),
        },
        "classes": classes,
        "folds": args.folds,
        "grid": GRID,
        "chosen_head": chosen,
        "knn": knn_choice,
        "rows": rows,
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, torch threads {args.threads}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "seconds": time.time() - t_start,
    }
    text = markdown(report)
    print(text)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(text)
    if args.save_head:
        head = results[chosen_key]["head"]
        test_row = next(row for row in rows if row["method"] == chosen)
        head.info = {
            "trained_on": "nRC dataset_Rfam_6320_13classes.fasta, train part (80 %, seed "
            f"{args.seed}, stratified): {len(train)} sequences",
            "features": chosen,
            "choice": json.dumps(results[chosen_key]["best"]),
            "cv_macro_f1": f"{chosen_row['cv_macro_f1']:.4f}",
            "test_accuracy": f"{test_row['accuracy']:.4f}",
            "test_macro_f1": f"{test_row['macro_f1']:.4f}",
            "made_by": "benchmarks/eval_classify.py --save-head",
        }
        if knn_choice:
            head.info["knn_weight"] = str(knn_choice["knn_weight"])
            head.info["knn_k"] = str(knn_choice["k"])
        head.save(args.save_head)
        print(f"saved {args.save_head} ({os.path.getsize(args.save_head)} bytes)")


def markdown(report) -> str:
    classes = report["classes"]
    lines = [
        f"Held-out test: {report['split']['test']} sequences (train {report['split']['train']}), "
        f"{len(classes)} classes; choices by {report['folds']}-fold cross-validation on train.",
        "",
        f"Shipped: {report['chosen_head']} (the best CV macro-F1 among the heads on the shipped "
        "encoder). CV: out-of-fold predictions of the train part; a conv head's own early "
        "stopping uses 10 % of its training sequences (validation column: the final head's).",
        "",
        "| method | choice | CV accuracy | CV macro-F1 | validation macro-F1 | test accuracy | "
        "test macro-F1 |",
        "|---|---|---|---|---|---|---|",
    ]

    def cell(x):
        return "" if x is None else f"{x:.3f}"

    for row in report["rows"]:
        choice = ", ".join(f"{k} {v}" for k, v in row["choice"].items())
        lines.append(
            f"| {row['method']} | {choice} | {cell(row.get('cv_accuracy'))} | "
            f"{cell(row['cv_macro_f1'])} | {cell(row.get('validation_macro_f1'))} | "
            f"{row['accuracy']:.4f} | {row['macro_f1']:.4f} |"
        )
    lines += ["", "Per-class F1 (test):", ""]
    short = [row["method"].split(" ", 1)[0] for row in report["rows"]]
    lines.append("| class | " + " | ".join(short) + " |")
    lines.append("|---|" + "---|" * len(short))
    for c in classes:
        cells = " | ".join(f"{row['per_class_f1'][c]:.3f}" for row in report["rows"])
        lines.append(f"| {c} | {cells} |")
    for row in report["rows"]:
        if row["method"] == report["chosen_head"] or row["method"].startswith("(e)"):
            lines += [
                "",
                f"Confusion matrix, {row['method']} (rows: true, columns: predicted):",
                "",
            ]
            lines.append("| | " + " | ".join(classes) + " |")
            lines.append("|---|" + "---|" * len(classes))
            for c, counts in zip(classes, row["confusion"]):
                lines.append(f"| {c} | " + " | ".join(str(x) for x in counts) + " |")
    lines += ["", f"{report['machine']}; {report['date']}; {report['seconds']:.0f} s"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
