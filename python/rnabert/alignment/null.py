"""Extreme-value null of local-alignment scores: bits and E-values.

Local-alignment scores of unrelated sequences of lengths m and n follow a Gumbel law (Karlin &
Altschul 1990): P(S >= x) ≈ 1 − exp(−E), E = K · m' · n' · exp(−λ x), with effective lengths m' =
max(m − ℓ, 1) that discount the alignments which would run off an edge. λ, K and ℓ are fitted by
maximum likelihood on scores of decoy pairs (a family member against shuffles and members of other
families); :func:`fit_null_tail` fits the upper tail alone (censored likelihood), which is what
small E-values are read from.
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


def fit_null(scores, m, n, edges=(0.0, 5.0, 10.0, 15.0, 20.0, 30.0), censor=None) -> NullModel:
    """Maximum-likelihood Gumbel fit of decoy local-alignment scores with lengths m, n.

    For fixed λ and ℓ the likelihood's K is closed-form (K = N / Σ m'n' e^{−λx}); λ is found by a
    golden-section search on the profile likelihood, ℓ by trying each of ``edges``.

    ``censor`` (one score per pair, optional): a score below its pair's threshold only counts as
    "below the threshold" (its probability F(c) = exp(−K m'n' e^{−λc})), so the fit follows the
    upper tail alone; K stays closed-form, K = N_above / (Σ_above m'n' e^{−λx} + Σ_below m'n'
    e^{−λc}).
    """
    x = np.asarray(scores, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    if len(x) < 50:
        raise ValueError(f"fit_null needs at least 50 decoy scores, got {len(x)}")
    c = np.full(len(x), -np.inf) if censor is None else np.asarray(censor, dtype=np.float64)
    if c.shape != x.shape:
        raise ValueError(f"censor has {c.size} thresholds for {x.size} scores")
    above = x >= c
    n_above = int(above.sum())
    if n_above < 50:
        raise ValueError(f"fit_null needs at least 50 scores above the censoring, got {n_above}")
    # the values that enter the likelihood's e^{−λ·}: the score above, the threshold below
    v = np.where(above, x, c)
    best = None
    for edge in edges:
        log_area = np.log(np.maximum(m - edge, 1.0) * np.maximum(n - edge, 1.0))
        tail_sum = log_area[above].sum()
        x_sum = x[above].sum()

        def profile(lam):
            # log-likelihood with K at its optimum for this λ (in logs: e^{−λx} over/underflows)
            z = log_area - lam * v
            zmax = z.max()
            log_k = math.log(n_above) - zmax - math.log(np.exp(z - zmax).sum())
            ll = n_above * (math.log(lam) + log_k) + tail_sum - lam * x_sum - n_above
            return ll, math.exp(log_k)

        lo, hi = 1e-3, 20.0 / max(x[above].std(), 1e-6)
        g = (math.sqrt(5) - 1) / 2
        a, b = lo, hi
        c1, d1 = b - g * (b - a), a + g * (b - a)
        fc, fd = profile(c1)[0], profile(d1)[0]
        for _ in range(100):
            if fc > fd:
                b, d1, fd = d1, c1, fc
                c1 = b - g * (b - a)
                fc = profile(c1)[0]
            else:
                a, c1, fc = c1, d1, fd
                d1 = a + g * (b - a)
                fd = profile(d1)[0]
        lam = (a + b) / 2
        ll, K = profile(lam)
        if best is None or ll > best[0]:
            best = (ll, NullModel(float(lam), float(K), float(edge)))
    return best[1]


def fit_null_tail(scores, m, n, tail_evalue: float = 0.01, edges=(0.0,), rounds: int = 3):
    """Gumbel fit of the upper tail only: the region where small E-values are read.

    A single Gumbel fitted to every decoy score follows the bulk, and where the decoys are a
    mixture (composition-biased pairs have heavier tails) its λ is too large for the tail, so small
    E-values come out too small. Here each pair's scores below the score at which the current fit
    gives that pair an E-value of ``tail_evalue`` are censored, and the fit is repeated ``rounds``
    times from a start censored at the median score.
    """
    x = np.asarray(scores, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    if not (math.isfinite(tail_evalue) and tail_evalue > 0):
        raise ValueError(f"tail_evalue must be a positive number, got {tail_evalue!r}")
    null = fit_null(x, m, n, edges, censor=np.full(len(x), np.median(x)))
    for _ in range(rounds):
        # the score with pair E-value tail_evalue: bits = log2(m'n' / E)
        area = null.effective(m) * null.effective(n)
        null = fit_null(x, m, n, edges, censor=null.score_of_bits(np.log2(area / tail_evalue)))
    return null
