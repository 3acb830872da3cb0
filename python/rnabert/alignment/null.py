"""Extreme-value null of local-alignment scores: bits and E-values.

Local-alignment scores of unrelated sequences of lengths m and n follow a Gumbel law (Karlin &
Altschul 1990): P(S >= x) ≈ 1 − exp(−E), E = K · m' · n' · exp(−λ x), with effective lengths m' =
max(m − ℓ, 1) that discount the alignments which would run off an edge. λ, K and ℓ are fitted by
maximum likelihood on scores of decoy pairs (a family member against shuffles and members of other
families).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LN2 = math.log(2.0)


@dataclass(frozen=True)
class NullModel:
    """λ (per score unit), K and the edge correction ℓ (bases) of the Gumbel null."""

    lam: float
    K: float
    edge: float = 0.0

    def __post_init__(self):
        for name in ("lam", "K"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"null model: {name} must be a positive finite number, got {v!r}")
        if not (math.isfinite(self.edge) and self.edge >= 0):
            raise ValueError(f"null model: edge must be a finite number >= 0, got {self.edge!r}")

    def effective(self, length) -> np.ndarray:
        return np.maximum(np.asarray(length, dtype=np.float64) - self.edge, 1.0)

    def bits(self, score) -> np.ndarray:
        """Bit score (λS − ln K) / ln 2: comparable across scoring systems, not across lengths."""
        return (self.lam * np.asarray(score, dtype=np.float64) - math.log(self.K)) / LN2

    def score_of_bits(self, bits) -> np.ndarray:
        """The raw score that has ``bits`` bits (inverse of :meth:`bits`)."""
        return (np.asarray(bits, dtype=np.float64) * LN2 + math.log(self.K)) / self.lam

    def evalue(self, score, query_len, target_len) -> np.ndarray:
        """Expected number of unrelated hits scoring ≥ score in a search space of query_len ×
        target_len residues (target_len: one target's length, or a database's total residues)."""
        return self.effective(query_len) * self.effective(target_len) * np.exp2(-self.bits(score))

    def to_dict(self):
        return {"lambda": self.lam, "K": self.K, "edge": self.edge}

    @classmethod
    def from_dict(cls, d, source="null model"):
        missing = [k for k in ("lambda", "K", "edge") if k not in d]
        if missing:
            raise ValueError(f"{source}: null parameter(s) {', '.join(missing)} missing")
        return cls(float(d["lambda"]), float(d["K"]), float(d["edge"]))


def fit_null(scores, m, n, edges=(0.0, 5.0, 10.0, 15.0, 20.0, 30.0)) -> NullModel:
    """Maximum-likelihood Gumbel fit of decoy local-alignment scores with lengths m, n.

    For fixed λ and ℓ the likelihood's K is closed-form (K = N / Σ m'n' e^{−λx}); λ is found by a
    golden-section search on the profile likelihood, ℓ by trying each of ``edges``.
    """
    x = np.asarray(scores, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    if len(x) < 50:
        raise ValueError(f"fit_null needs at least 50 decoy scores, got {len(x)}")
    best = None
    for edge in edges:
        area = np.maximum(m - edge, 1.0) * np.maximum(n - edge, 1.0)
        log_area = np.log(area)

        def profile(lam):
            # log-likelihood with K at its optimum for this λ
            z = log_area - lam * x
            zmax = z.max()
            K = len(x) / (np.exp(z - zmax).sum() * math.exp(zmax))
            return (len(x) * math.log(lam) + len(x) * math.log(K) + z.sum() - len(x)), K

        lo, hi = 1e-3, 20.0 / max(x.std(), 1e-6)
        g = (math.sqrt(5) - 1) / 2
        a, b = lo, hi
        c, d = b - g * (b - a), a + g * (b - a)
        fc, fd = profile(c)[0], profile(d)[0]
        for _ in range(100):
            if fc > fd:
                b, d, fd = d, c, fc
                c = b - g * (b - a)
                fc = profile(c)[0]
            else:
                a, c, fc = c, d, fd
                d = a + g * (b - a)
                fd = profile(d)[0]
        lam = (a + b) / 2
        ll, K = profile(lam)
        if best is None or ll > best[0]:
            best = (ll, NullModel(float(lam), float(K), float(edge)))
    return best[1]
