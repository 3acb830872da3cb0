"""Agreement of a clustering with known labels: ARI, NMI, homogeneity, completeness, V-measure.

Numpy only, from the contingency table; the definitions and conventions (natural logarithms, NMI
normalised by the arithmetic mean of the two entropies, 1.0 for degenerate labelings that agree)
are scikit-learn's, so numbers compare with papers that used it.

>>> from rnabert import metrics
>>> metrics.ari([0, 0, 1, 1], [1, 1, 0, 0])
1.0
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

__all__ = ["ari", "nmi", "homogeneity", "completeness", "v_measure", "contingency"]


def contingency(labels_true, labels_pred) -> np.ndarray:
    """Counts table[a, b] of items with true class a and predicted cluster b (labels of any
    hashable, sortable type)."""
    t = np.asarray(labels_true)
    p = np.asarray(labels_pred)
    if t.ndim != 1 or p.ndim != 1 or len(t) != len(p):
        raise ValueError(
            f"labels must be two 1-D sequences of one length, got shapes {t.shape} and {p.shape}"
        )
    a = np.unique(t, return_inverse=True)[1].ravel()
    b = np.unique(p, return_inverse=True)[1].ravel()
    table = np.zeros((a.max(initial=-1) + 1, b.max(initial=-1) + 1), dtype=np.int64)
    np.add.at(table, (a, b), 1)
    return table


def ari(labels_true, labels_pred) -> float:
    """Adjusted Rand index (Hubert & Arabie 1985): 1 for identical partitions, ~0 for random."""
    table = contingency(labels_true, labels_pred)
    n = int(table.sum())

    def pairs(x):
        x = np.asarray(x, dtype=np.float64)
        return float((x * (x - 1) / 2).sum())

    index = pairs(table)
    ea, eb, total = pairs(table.sum(1)), pairs(table.sum(0)), n * (n - 1) / 2
    expected = ea * eb / total if total else 0.0
    maximum = (ea + eb) / 2
    if maximum == expected:  # both labelings trivial (one cluster, or all singletons): agree
        return 1.0
    return float((index - expected) / (maximum - expected))


def _entropy(counts: np.ndarray) -> float:
    c = counts[counts > 0].astype(np.float64)
    if c.size == 0:
        return 0.0
    p = c / c.sum()
    return float(-(p * np.log(p)).sum())


def _entropies(labels_true, labels_pred) -> Tuple[float, float, float]:
    """H(true), H(pred) and their mutual information, in nats."""
    table = contingency(labels_true, labels_pred)
    n = table.sum()
    if n == 0:
        return 0.0, 0.0, 0.0
    ht, hp = _entropy(table.sum(1)), _entropy(table.sum(0))
    nz = table > 0
    pij = table[nz] / n
    pi = (table.sum(1) / n)[np.nonzero(nz)[0]]
    pj = (table.sum(0) / n)[np.nonzero(nz)[1]]
    mi = float((pij * (np.log(pij) - np.log(pi) - np.log(pj))).sum())
    return ht, hp, max(mi, 0.0)


def nmi(labels_true, labels_pred) -> float:
    """Normalised mutual information, MI / mean(H(true), H(pred))."""
    ht, hp, mi = _entropies(labels_true, labels_pred)
    if ht == 0.0 and hp == 0.0:  # one class and one cluster: identical
        return 1.0
    return float(mi / ((ht + hp) / 2)) if (ht + hp) > 0 else 0.0


def homogeneity(labels_true, labels_pred) -> float:
    """1 − H(true | pred) / H(true): 1 when every cluster holds members of one class only."""
    ht, _, mi = _entropies(labels_true, labels_pred)
    return 1.0 if ht == 0.0 else float(mi / ht)


def completeness(labels_true, labels_pred) -> float:
    """1 − H(pred | true) / H(pred): 1 when every class lies in one cluster."""
    _, hp, mi = _entropies(labels_true, labels_pred)
    return 1.0 if hp == 0.0 else float(mi / hp)


def v_measure(labels_true, labels_pred) -> float:
    """Harmonic mean of homogeneity and completeness (equals NMI with arithmetic normalisation)."""
    h, c = homogeneity(labels_true, labels_pred), completeness(labels_true, labels_pred)
    return 0.0 if h + c == 0 else float(2 * h * c / (h + c))
