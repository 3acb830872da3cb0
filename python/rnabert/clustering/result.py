"""Clusters: one row per sequence (cluster, representative, bits to it), as TSV or Parquet."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import List

import numpy as np

COLUMNS = ("sequence", "cluster", "representative", "bits", "evalue")


@dataclass
class Clusters:
    """A clustering of n sequences, in input order.

    ``labels[k]`` is sequence k's cluster (0 is the largest; ties by first member);
    ``representative[k]`` the index of its cluster's medoid (the member with the greatest summed
    pair significance to the others); ``bits[k]`` / ``evalue[k]`` the homology bit score and the
    pair's own E-value of sequence k against its representative (its self-score for the
    representative itself).
    """

    names: List[str]
    labels: np.ndarray
    representative: np.ndarray
    bits: np.ndarray
    evalue: np.ndarray
    method: str = ""
    threshold: float = float("nan")
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def n_clusters(self) -> int:
        return int(len(np.unique(self.labels)))

    def __repr__(self) -> str:
        return (
            f"Clusters({len(self)} sequences, {self.n_clusters} clusters, method={self.method!r}, "
            f"threshold={self.threshold:g} bits)"
        )

    def columns(self) -> dict:
        return {
            "sequence": list(self.names),
            "cluster": self.labels.astype(np.int64),
            "representative": [self.names[r] for r in self.representative],
            "bits": self.bits.astype(np.float32),
            "evalue": self.evalue.astype(np.float64),
        }

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame(self.columns())

    def to_tsv(self, path) -> None:
        """Tab-separated with a header line (bits with 2 decimals, E-values in %.3g), to a path
        (written under a temporary name, then renamed) or an open text stream."""
        if hasattr(path, "write"):
            self._write_tsv(path)
            return
        tmp = f"{os.fspath(path)}.tmp"
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            self._write_tsv(fh)
        os.replace(tmp, path)

    def _write_tsv(self, fh) -> None:
        cols = self.columns()
        fh.write("\t".join(COLUMNS) + "\n")
        for k in range(len(self)):
            fh.write(
                f"{cols['sequence'][k]}\t{cols['cluster'][k]}\t{cols['representative'][k]}\t"
                f"{cols['bits'][k]:.2f}\t{cols['evalue'][k]:.3g}\n"
            )

    def to_parquet(self, path) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ImportError(
                "Parquet output needs pyarrow: pip install 'rnabert[cluster]'"
            ) from None
        meta = {"method": self.method, "threshold_bits": f"{self.threshold:g}"}
        table = pa.table(self.columns()).replace_schema_metadata(
            {f"rnabert.{k}": v for k, v in meta.items()}
        )
        pq.write_table(table, os.fspath(path))

    def write(self, path, format=None) -> None:
        """TSV or Parquet, from ``format`` or the file name (``.parquet``/``.pq``: Parquet); TSV
        also to an open text stream."""
        fmt = format or (
            "tsv"
            if hasattr(path, "write")
            else "parquet"
            if os.fspath(path).lower().endswith((".parquet", ".pq"))
            else "tsv"
        )
        if fmt not in ("tsv", "parquet"):
            raise ValueError(f"format must be 'tsv' or 'parquet', got {fmt!r}")
        (self.to_parquet if fmt == "parquet" else self.to_tsv)(path)
