"""Family clustering benchmark: rnabert's clusterings against CD-HIT-EST, MMseqs2 easy-cluster and
the sequence-only score through the same clustering, on sets drawn from validation families.

Each method gets the sequences of a set and no number of clusters (spectral excepted, which is told
the true one: the original RNABERT protocol, for reference); ARI, NMI, the number of clusters and
the wall time are measured. The peers run from their Debian packages (``cd-hit``, ``mmseqs2``) and
are skipped with a message where absent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

from .. import metrics

SeqList = Sequence[Tuple[str, str]]


# -- peers -----------------------------------------------------------------------------------------
def _to_dna(seq: str) -> str:
    s = seq.upper().replace("U", "T")
    return "".join(c if c in "ACGT" else "N" for c in s)


def _write(path: str, seqs: SeqList) -> None:
    with open(path, "w") as fh:
        for k, (_, s) in enumerate(seqs):
            fh.write(f">s{k}\n{_to_dna(s)}\n")


def _run(args: List[str]) -> None:
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout)[-1500:].strip()
        raise RuntimeError(f"{args[0]} failed (exit {proc.returncode}): {tail}")


def cdhit_available() -> bool:
    return shutil.which("cd-hit-est") is not None


def mmseqs_available() -> bool:
    return shutil.which("mmseqs") is not None


def run_cdhit_est(seqs: SeqList, identity: float = 0.8, threads: int = 2) -> np.ndarray:
    """CD-HIT-EST cluster labels at ``identity`` (word size as its manual recommends)."""
    word = 5 if identity >= 0.8 else 4
    with tempfile.TemporaryDirectory() as d:
        fa, out = os.path.join(d, "in.fa"), os.path.join(d, "out")
        _write(fa, seqs)
        _run(
            ["cd-hit-est", "-i", fa, "-o", out, "-c", str(identity), "-n", str(word)]
            + ["-T", str(threads), "-M", "2000", "-d", "0", "-r", "1", "-l", "5"]
        )
        labels = np.full(len(seqs), -1, np.int64)
        c = -1
        with open(out + ".clstr") as fh:
            for line in fh:
                if line.startswith(">Cluster"):
                    c += 1
                else:
                    name = line.split(">", 1)[1].split("...", 1)[0]
                    labels[int(name[1:])] = c
    return _singletons_for_missing(labels)


def run_mmseqs_cluster(seqs: SeqList, extra: Sequence[str] = (), threads: int = 2) -> np.ndarray:
    """MMseqs2 ``easy-cluster`` labels (its defaults, plus ``extra`` options)."""
    with tempfile.TemporaryDirectory() as d:
        fa, out = os.path.join(d, "in.fa"), os.path.join(d, "out")
        _write(fa, seqs)
        _run(
            ["mmseqs", "easy-cluster", fa, out, os.path.join(d, "tmp")]
            + ["--threads", str(threads), "-v", "1", *extra]
        )
        labels = np.full(len(seqs), -1, np.int64)
        reps: Dict[str, int] = {}
        with open(out + "_cluster.tsv") as fh:
            for line in fh:
                rep, member = line.split()
                labels[int(member[1:])] = reps.setdefault(rep, len(reps))
    return _singletons_for_missing(labels)


def _singletons_for_missing(labels: np.ndarray) -> np.ndarray:
    missing = labels < 0  # a tool dropped a sequence (too short): its own cluster
    labels[missing] = labels.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return labels


# -- the benchmark ---------------------------------------------------------------------------------
def score_partition(truth, labels, seconds: float) -> Dict[str, float]:
    return {
        "ari": metrics.ari(truth, labels),
        "nmi": metrics.nmi(truth, labels),
        "homogeneity": metrics.homogeneity(truth, labels),
        "completeness": metrics.completeness(truth, labels),
        "clusters": int(len(np.unique(labels))),
        "seconds": float(seconds),
    }


def compare_methods(
    sets: Dict[str, Tuple[SeqList, np.ndarray, object]],
    methods: Dict[str, Callable[[SeqList, object], np.ndarray]],
    log=print,
) -> Dict[str, Dict[str, Dict[str, float]]]:
    """Every method on every set: {method: {set: scores}}. A set is (sequences, true labels, the
    set's precomputed input for rnabert methods, e.g. its Embeddings); a method maps
    (sequences, precomputed) to labels."""
    out: Dict[str, Dict[str, Dict[str, float]]] = {}
    for mname, fn in methods.items():
        out[mname] = {}
        for sname, (seqs, truth, pre) in sets.items():
            t = time.perf_counter()
            labels = fn(seqs, pre)
            r = score_partition(truth, labels, time.perf_counter() - t)
            r["families"] = int(len(np.unique(truth)))
            out[mname][sname] = r
            log(
                f"{mname} | {sname}: ARI {r['ari']:.3f} NMI {r['nmi']:.3f} "
                f"{r['clusters']} clusters ({r['families']} families) {r['seconds']:.2f} s"
            )
    return out


def format_table(results: Dict[str, Dict[str, Dict[str, float]]]) -> str:
    """A Markdown table: one row per method, ARI / NMI / clusters / seconds per set."""
    sets = list(next(iter(results.values())))
    fams = {s: next(iter(results.values()))[s]["families"] for s in sets}
    head = "| method | " + " | ".join(f"{s} ({fams[s]} families)" for s in sets) + " |"
    lines = [head, "|---|" + "---|" * len(sets)]
    for m, per in results.items():
        cells = [
            f"ARI {r['ari']:.3f}, NMI {r['nmi']:.3f}, {r['clusters']} cl., {r['seconds']:.1f} s"
            for r in (per[s] for s in sets)
        ]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
