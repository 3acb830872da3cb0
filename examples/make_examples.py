"""Extract the bundled example data (rfam_examples.fa / .sto) from the Rfam 14.2 seed training file.

Usage::

    python examples/make_examples.py ../shared/data/rfam14.2-seed/Rfam14.2.seed.train.gz [OUT_DIR]

Selection rule (see SOURCE.md): for each family in ``FAMILIES``, the seed sequences of at most
``MAX_LENGTH`` nt containing only A, C, G, U are eligible; ``PER_FAMILY`` of them are taken at
evenly spaced positions of the seed order (so the picks span the family instead of its first,
often near-identical, members). The alignment keeps every column and all ``#=GF``/``#=GC``
annotation.
"""

import pathlib
import sys
import warnings

import numpy as np

from rnabert.seqs import SeqRecord, StockholmAlignment, read_stockholm, write_fasta, write_stockholm

# Purine and FMN riboswitches, U4 snRNA, HDV ribozyme: well studied, structured, at most ~170 nt.
FAMILIES = ("RF00167", "RF00050", "RF00015", "RF00094")
PER_FAMILY = 10
MAX_LENGTH = 200


def pick(aln: StockholmAlignment) -> StockholmAlignment:
    """The example rows of one family, renamed ``<accession>|<seed name>``."""
    eligible = []
    with warnings.catch_warnings():
        # Sequences with ambiguity codes are excluded below, so their warning says nothing here.
        warnings.simplefilter("ignore")
        records = aln.records()
    for rec in records:
        if len(rec.seq) <= MAX_LENGTH and set(rec.seq) <= set("ACGU"):
            eligible.append(rec.name)
    if len(eligible) < PER_FAMILY:
        raise SystemExit(f"{aln.accession}: only {len(eligible)} eligible sequences")
    spread = np.linspace(0, len(eligible) - 1, PER_FAMILY).round().astype(int)
    chosen = [eligible[i] for i in spread]
    return aln.select(chosen).rename(lambda name: f"{aln.accession}|{name}")


def main(argv) -> None:
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__)
    out = pathlib.Path(argv[2]) if len(argv) == 3 else pathlib.Path(__file__).parent
    found = {}
    for aln in read_stockholm(argv[1]):
        if aln.accession in FAMILIES:
            found[aln.accession] = pick(aln)
    missing = [f for f in FAMILIES if f not in found]
    if missing:
        raise SystemExit(f"families not in {argv[1]}: {missing}")
    alignments = [found[f] for f in FAMILIES]
    write_stockholm(alignments, out / "rfam_examples.sto")
    records = [
        SeqRecord(rec.name, rec.seq, f"{aln.id}; {aln.gf.get('DE', '')}")
        for aln in alignments
        for rec in aln.records()
    ]
    write_fasta(records, out / "rfam_examples.fa")
    for aln in alignments:
        lengths = [len(r.seq) for r in aln.records()]
        print(
            f"{aln.accession} {aln.id}: {len(aln)} sequences, {min(lengths)}-{max(lengths)} nt, "
            f"{aln.ncols} columns"
        )


if __name__ == "__main__":
    main(sys.argv)
