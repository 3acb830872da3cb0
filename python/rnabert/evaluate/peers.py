"""Classic homology-search peers (BLASTN, nhmmer) as dense score matrices.

For side-by-side benchmarking against embedding-based scores, this module
runs a query set against a target set with an external tool and returns an
``(n_queries, n_targets)`` matrix of bit scores and one of E-values.

Conventions
-----------
* Inputs are lists of ``(name, sequence)`` pairs in RNA letters.  Sequences
  are upper-cased and ``U`` is turned into ``T`` because both tools are DNA
  tools.  IUPAC ambiguity codes are kept; any other character becomes ``N``.
* Names are never given to the tools.  Sequences are written under generated
  ids (``q0, q1, ...`` / ``t0, t1, ...``) and results are mapped back by index,
  so names containing ``/``, ``|``, spaces etc. cannot be mangled.  Duplicate
  names are therefore harmless too.
* Bits and E-values are exactly what the tool reports; nothing is rescaled.
  BLAST's tabular output rounds bit scores (e.g. ``145`` or ``15.7``).
* Where a tool reports several hits (HSPs) for one query-target pair, the
  best one is kept: max bit score and min E-value (taken per column; for one
  HSP these coincide).
* No hit: ``bits = -inf`` and ``evalue = +inf``.  Empty sequences are not
  given to the tools and always score as "no hit".
* Both strands are searched (the default of both tools); a hit on the
  reverse complement of a target counts like a forward hit.
* E-values depend on the search space, which both tools take from the
  *target* set as given (so the same pair scores differently in a
  different target set):
  - blastn: the effective database length is the total length of the
    targets (minus BLAST's length adjustment); query length enters too.
  - nhmmer: the default ``-Z`` is the total number of target residues on
    both strands (i.e. 2 x total target length), in megabases; each query
    is its own single-sequence model, and E-values are per query.  Default
    filters (SSV/bias/Viterbi/Forward) are kept, so weak hits can be dropped
    before the ``-E`` threshold is applied.

Only numpy and the standard library are used; the tools run via subprocess
inside a ``tempfile.TemporaryDirectory``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

__all__ = [
    "PeerResult",
    "blastn_available",
    "nhmmer_available",
    "run_blastn",
    "run_nhmmer",
]

SeqList = Sequence[tuple[str, str]]

# IUPAC nucleotide codes both BLAST and HMMER's DNA alphabet accept.
_IUPAC_DNA = frozenset("ACGTRYSWKMBDHVN")
_STDERR_TAIL = 2000  # characters of tool stderr quoted in error messages


@dataclass
class PeerResult:
    """Scores of one tool run; rows are queries, columns targets."""

    bits: np.ndarray  # float64 (n_queries, n_targets); -inf where no hit
    evalue: np.ndarray  # float64 (n_queries, n_targets); +inf where no hit
    seconds: float  # wall time of the tool runs (incl. database building)
    tool: str
    version: str


# --------------------------------------------------------------------------
# availability / versions


def blastn_available() -> bool:
    """True if both ``blastn`` and ``makeblastdb`` are on PATH."""
    return shutil.which("blastn") is not None and shutil.which("makeblastdb") is not None


def nhmmer_available() -> bool:
    """True if ``nhmmer`` is on PATH."""
    return shutil.which("nhmmer") is not None


@functools.lru_cache(maxsize=None)
def _blastn_version() -> str:
    # First line is e.g. "blastn: 2.12.0+".
    out = subprocess.run(["blastn", "-version"], capture_output=True, text=True).stdout
    first = out.splitlines()[0] if out.strip() else ""
    return first.split(":", 1)[1].strip() if ":" in first else first.strip()


@functools.lru_cache(maxsize=None)
def _nhmmer_version() -> str:
    # Header line is e.g. "# HMMER 3.3.2 (Nov 2020); http://hmmer.org/".
    out = subprocess.run(["nhmmer", "-h"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("# HMMER"):
            return line.lstrip("# ").split(";", 1)[0].strip()
    return "unknown"


# --------------------------------------------------------------------------
# helpers


def _to_dna(seq: str) -> str:
    """RNA letters -> DNA letters the tools accept (U->T, unknown->N)."""
    s = seq.upper().replace("U", "T")
    return "".join(c if c in _IUPAC_DNA else "N" for c in s if not c.isspace())


def _write_fasta(path: str, prefix: str, seqs: SeqList) -> list[int]:
    """Write non-empty sequences as ``<prefix><index>``; return written indices."""
    written = []
    with open(path, "w") as fh:
        for i, (_name, seq) in enumerate(seqs):
            dna = _to_dna(seq)
            if not dna:  # tools reject empty records; leave the row/column as no-hit
                continue
            fh.write(f">{prefix}{i}\n")
            for k in range(0, len(dna), 80):
                fh.write(dna[k : k + 80] + "\n")
            written.append(i)
    return written


def _run(tool: str, args: list[str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = proc.stderr[-_STDERR_TAIL:].strip() or proc.stdout[-_STDERR_TAIL:].strip()
        raise RuntimeError(f"{tool} failed (exit {proc.returncode}): {tail}")
    return proc


def _empty(nq: int, nt: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((nq, nt), -np.inf), np.full((nq, nt), np.inf)


def _fill(
    bits: np.ndarray,
    evalue: np.ndarray,
    hits: Iterable[tuple[str, str, float, float]],
) -> None:
    """Fold (qid, tid, bits, evalue) hits into the matrices, keeping the best."""
    for qid, tid, b, e in hits:
        # ids are ours: "q<i>" / "t<j>"
        i, j = int(qid[1:]), int(tid[1:])
        if b > bits[i, j]:
            bits[i, j] = b
        if e < evalue[i, j]:
            evalue[i, j] = e


def _check_threads(threads: int) -> int:
    threads = int(threads)
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    return threads


# --------------------------------------------------------------------------
# blastn


def run_blastn(
    queries: SeqList,
    targets: SeqList,
    *,
    threads: int = 2,
    evalue: float = 1000.0,
    word_size: int = 7,
) -> PeerResult:
    """All-vs-all BLASTN of ``queries`` against ``targets``.

    Commands (inside a temporary directory)::

        makeblastdb -in targets.fa -dbtype nucl -out db
        blastn -task blastn -query queries.fa -db db -word_size 7 \\
            -evalue 1000 -outfmt "6 qseqid sseqid bitscore evalue" \\
            -max_target_seqs max(n_targets, 5) -max_hsps 1 \\
            -num_threads T -dust no -soft_masking false -out hits.tsv

    ``-max_target_seqs`` is set to the number of targets because BLAST applies
    it during the search (not just as an output filter), so a smaller value
    can drop real hits; the floor of 5 only silences BLAST's warning about
    small values.  ``-max_hsps 1`` keeps BLAST's best HSP per pair; the
    parser still reduces to the best per pair in case more are reported.
    DUST and soft masking are off so low-complexity RNA is not masked away.
    """
    if not blastn_available():
        raise RuntimeError("blastn not found: apt-get install ncbi-blast+")
    threads = _check_threads(threads)
    bits, evals = _empty(len(queries), len(targets))

    seconds = 0.0
    with tempfile.TemporaryDirectory(prefix="peers_blastn_") as tmp:
        qfa, tfa = os.path.join(tmp, "queries.fa"), os.path.join(tmp, "targets.fa")
        db, out = os.path.join(tmp, "db"), os.path.join(tmp, "hits.tsv")
        q_written = _write_fasta(qfa, "q", queries)
        t_written = _write_fasta(tfa, "t", targets)

        if q_written and t_written:
            t0 = time.perf_counter()
            _run("makeblastdb", ["makeblastdb", "-in", tfa, "-dbtype", "nucl", "-out", db])
            _run(
                "blastn",
                [
                    "blastn", "-task", "blastn",
                    "-query", qfa, "-db", db,
                    "-word_size", str(int(word_size)),
                    "-evalue", repr(float(evalue)),
                    "-outfmt", "6 qseqid sseqid bitscore evalue",
                    "-max_target_seqs", str(max(len(t_written), 5)),
                    "-max_hsps", "1",
                    "-num_threads", str(threads),
                    "-dust", "no",
                    "-soft_masking", "false",
                    "-out", out,
                ],
            )  # fmt: skip
            seconds = time.perf_counter() - t0
            _fill(bits, evals, _parse_blast_tab(out))

    return PeerResult(bits, evals, seconds, "blastn", _blastn_version())


def _parse_blast_tab(path: str) -> Iterable[tuple[str, str, float, float]]:
    with open(path) as fh:
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            qid, tid, b, e = line.split("\t")[:4]
            yield qid, tid, float(b), float(e)


# --------------------------------------------------------------------------
# nhmmer


def run_nhmmer(
    queries: SeqList,
    targets: SeqList,
    *,
    threads: int = 2,
    evalue: float = 1000.0,
) -> PeerResult:
    """nhmmer with each query sequence as its own single-sequence model.

    Command (inside a temporary directory)::

        nhmmer --dna --qformat fasta --tformat fasta --noali \\
            -E 1000 --cpu T --tblout hits.tbl -o /dev/null \\
            queries.fa targets.fa

    A multi-record FASTA query is searched one record at a time by nhmmer
    itself (checked on HMMER 3.3.2), so a single run covers all queries.
    Each single sequence is turned into a profile with HMMER's default
    single-sequence scoring.  E-values use nhmmer's default ``-Z``: the target
    set's total residues on both strands.  The default acceleration filters
    are kept (no ``--max``).
    """
    if not nhmmer_available():
        raise RuntimeError("nhmmer not found: apt-get install hmmer")
    threads = _check_threads(threads)
    bits, evals = _empty(len(queries), len(targets))

    seconds = 0.0
    with tempfile.TemporaryDirectory(prefix="peers_nhmmer_") as tmp:
        qfa, tfa = os.path.join(tmp, "queries.fa"), os.path.join(tmp, "targets.fa")
        tbl = os.path.join(tmp, "hits.tbl")
        q_written = _write_fasta(qfa, "q", queries)
        t_written = _write_fasta(tfa, "t", targets)

        if q_written and t_written:
            t0 = time.perf_counter()
            _run(
                "nhmmer",
                [
                    "nhmmer", "--dna",
                    "--qformat", "fasta", "--tformat", "fasta",
                    "--noali",
                    "-E", repr(float(evalue)),
                    "--cpu", str(threads),
                    "--tblout", tbl,
                    "-o", os.devnull,  # human-readable report not needed
                    qfa, tfa,
                ],
            )  # fmt: skip
            seconds = time.perf_counter() - t0
            _fill(bits, evals, _parse_nhmmer_tbl(tbl))

    return PeerResult(bits, evals, seconds, "nhmmer", _nhmmer_version())


# nhmmer --tblout data columns (0-based), as in the header of HMMER 3.x:
# target name, accession, query name, accession, hmmfrom, hmm to, alifrom,
# ali to, envfrom, env to, sq len, strand, E-value, score, bias, description
_TBL_TARGET, _TBL_QUERY, _TBL_EVALUE, _TBL_SCORE = 0, 2, 12, 13
_TBL_HEADER = (
    "# target name accession query name accession hmmfrom hmm to alifrom "
    "ali to envfrom env to sq len strand E-value score bias"
).split()


def _parse_nhmmer_tbl(path: str) -> Iterable[tuple[str, str, float, float]]:
    with open(path) as fh:
        lines = fh.read().splitlines()
    # Guard against a format change: the first header line must name the
    # columns in the order the fixed indices above assume.
    header = lines[0].split() if lines else []
    if header[: len(_TBL_HEADER)] != _TBL_HEADER:
        raise RuntimeError(f"nhmmer: unexpected --tblout header: {' '.join(header)!r}")
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        # Description is free text at the end; split only the fixed columns.
        cols = line.split(maxsplit=15)
        yield (
            cols[_TBL_QUERY],
            cols[_TBL_TARGET],
            float(cols[_TBL_SCORE]),
            float(cols[_TBL_EVALUE]),
        )
