"""RNA type classification (the 13 nRC classes), every method side by side in one run.

    python benchmarks/eval_classify.py [--data ../shared/data/nrc/dataset_Rfam_6320_13classes.fasta]
        [--cache /work/cache_classify] [--threads 1] [--json out.json] [--markdown out.md]
        [--save-head python/rnabert/weights/rna_class_head.safetensors]

Data: the nRC training file (6,320 sequences, 13 classes; SOURCE.md: for classification only). It
is split here, seeded and stratified, 80 % train / 20 % held-out test; the published nRC test
splits are not available. Every hyper-parameter (classifier width, L2 penalty, the number of
voting neighbours, the combination weight) is chosen by 5-fold cross-validation inside the train
part; the test part is predicted once, at the end, by each method's chosen setting:

(a) the shipped encoder + a head: mean pooling; mean + attention pooling;
(b) k-mer frequencies, k = 1..6 (5,460 numbers), + the same classifier;
(c) the random-initialised encoder (``new_model(seed=0)``) + the same head;
(d) a nearest-neighbour vote on homology bits: each test sequence aligned to every train sequence
    with ``align_many(score="bits")`` (the shipped homology head), the k best hits vote;
(e) combinations: head probabilities mixed with the vote, weight chosen by cross-validation.

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
    fit_head,
    macro_f1,
    per_class_f1,
    select_by_cross_validation,
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
    if pool == "attention":
        # too costly to cross-validate on two cores: it takes the mean+max head's choice
        best = spec["best"]
        cv = [{"note": "hidden and l2 of the shipped-encoder mean+max head's cross-validation"}]
        oof = np.full((len(train), len(classes)), np.nan)
        train_data, test_data = data.subset(train), data.subset(test)
        fit_options["epochs"] = args.attention_epochs
    else:
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
# name -> features: pooling of the shipped / random encoder's embeddings, k-mers 1..kmer
METHODS = {
    "(a) shipped encoder, mean pool": {"encoder": "shipped", "pool": "mean", "kmer": 0},
    "(a) shipped encoder, mean+max pool": {"encoder": "shipped", "pool": "meanmax", "kmer": 0},
    "(a) shipped encoder, mean+attention pool": {
        "encoder": "shipped",
        "pool": "attention",
        "kmer": 0,
    },
    "(b) k-mer frequencies k=1..6": {"encoder": "shipped", "pool": "none", "kmer": 6},
    "(c) random encoder, mean pool": {"encoder": "random", "pool": "mean", "kmer": 0},
    "(c) random encoder, mean+max pool": {"encoder": "random", "pool": "meanmax", "kmer": 0},
    "(a+b) shipped encoder mean+max + k-mers": {
        "encoder": "shipped",
        "pool": "meanmax",
        "kmer": 6,
    },
    "(c+b) random encoder mean+max + k-mers": {"encoder": "random", "pool": "meanmax", "kmer": 6},
}


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
    ap.add_argument("--attention-epochs", type=int, default=30)
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
    for name, spec in METHODS.items():
        spec = dict(spec)
        if spec["pool"] == "attention":
            spec["best"] = results["(a) shipped encoder, mean+max pool"]["best"]
        enc = spec["encoder"]
        r = method_result(
            name, spec, embs[enc], labels, train, test, classes, fingerprints[enc], args
        )
        results[name] = r
        cv_rows = [row for row in r["cv"] if "macro_f1" in row]
        best_cv = max(cv_rows, key=lambda row: row["macro_f1"]) if cv_rows else None
        rows.append(
            {
                "method": name,
                "choice": r["best"],
                "cv_macro_f1": None if best_cv is None else best_cv["macro_f1"],
                "seconds": r["seconds"],
                **scores(truth, r["test"], classes),
            }
        )
        print(f"{name}: {rows[-1]['accuracy']:.4f} acc, {rows[-1]['macro_f1']:.4f} macro-F1 "
              f"(cv {rows[-1]['cv_macro_f1']}) {r['best']}", flush=True)  # fmt: skip

    # the head to ship: best cross-validated macro-F1 among the heads that use the encoder
    shippable = [
        row for row in rows if row["cv_macro_f1"] is not None and "shipped encoder" in row["method"]
    ]
    chosen = max(shippable, key=lambda row: row["cv_macro_f1"])["method"]
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
            "choice": {"k": best_k},
            "cv_macro_f1": k_table[best_k],
            "seconds": time.time() - t,
            **scores(truth, votes_test, classes),
        }
        rows.append(row)
        # combination: head out-of-fold probabilities of the cv queries mixed with their votes;
        # k and the weight chosen together (one vote of k = 1 is all-or-nothing)
        oof = results[chosen]["oof"]
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
                "method": f"(e) {chosen.split(') ', 1)[1]} head + vote",
                "choice": {"k": comb_k, "knn_weight": best_w},
                "cv_macro_f1": comb_f1,
                "seconds": 0.0,
                **scores(truth, combine(results[chosen]["test"], votes_comb, best_w), classes),
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
        head = results[chosen]["head"]
        test_row = next(row for row in rows if row["method"] == chosen)
        head.info = {
            "trained_on": "nRC dataset_Rfam_6320_13classes.fasta, train part (80 %, seed "
            f"{args.seed}, stratified): {len(train)} sequences",
            "features": chosen,
            "hidden": str(results[chosen]["best"]["hidden"]),
            "l2": str(results[chosen]["best"]["l2"]),
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
        "| method | choice | CV macro-F1 | test accuracy | test macro-F1 |",
        "|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        cv = "" if row["cv_macro_f1"] is None else f"{row['cv_macro_f1']:.3f}"
        lines.append(
            f"| {row['method']} | {json.dumps(row['choice'])} | {cv} | {row['accuracy']:.4f} | "
            f"{row['macro_f1']:.4f} |"
        )
    lines += ["", "Per-class F1 (test):", ""]
    short = [row["method"].split(" ", 1)[0] for row in report["rows"]]
    lines.append("| class | " + " | ".join(short) + " |")
    lines.append("|---|" + "---|" * len(short))
    for c in classes:
        cells = " | ".join(f"{row['per_class_f1'][c]:.3f}" for row in report["rows"])
        lines.append(f"| {c} | {cells} |")
    for row in report["rows"]:
        if row["method"] == report["chosen_head"] or row["method"].startswith(("(d)", "(e)")):
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
