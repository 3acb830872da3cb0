"""Deprecated location of the alignment evaluation, now :mod:`rnabert.evaluate` (and pairwise
identity, now :mod:`rnabert.seqs.identity`). Every name still resolves, with a
DeprecationWarning."""

from .._deprecated import moved_names

__getattr__ = moved_names(
    __name__,
    {
        "PairSet": "rnabert.evaluate.pairs",
        "read_alignments": "rnabert.evaluate.pairs",
        "family_identities": "rnabert.evaluate.pairs",
        "sample_pairs": "rnabert.evaluate.pairs",
        "subset": "rnabert.evaluate.pairs",
        "_stratified_choice": "rnabert.evaluate.pairs",
        "BIN_EDGES": "rnabert.seqs.identity",
        "BIN_LABELS": "rnabert.seqs.identity",
        "pair_identity": "rnabert.seqs.identity",
        "identity_bin": "rnabert.seqs.identity",
        "identity_matrix": "rnabert.seqs.identity",
        "pairs_by_bin": "rnabert.seqs.identity",
        "BASELINE": "rnabert.evaluate.aligners",
        "BASELINE_GRID": "rnabert.evaluate.aligners",
        "MODEL_GAPS": "rnabert.evaluate.aligners",
        "align_with_model": "rnabert.evaluate.aligners",
        "align_with_baseline": "rnabert.evaluate.aligners",
        "mafft_available": "rnabert.evaluate.aligners",
        "align_with_mafft": "rnabert.evaluate.aligners",
        "_parse_fasta_rows": "rnabert.evaluate.aligners",
        "_pairs_of_rows": "rnabert.evaluate.aligners",
        "counts": "rnabert.evaluate.stats",
        "scores_of": "rnabert.evaluate.stats",
        "summarize": "rnabert.evaluate.stats",
        "bootstrap_difference": "rnabert.evaluate.stats",
        "format_table": "rnabert.evaluate.tables",
        "format_difference": "rnabert.evaluate.tables",
        "model_f": "rnabert.evaluate.alignment",
        "tune_baseline": "rnabert.evaluate.alignment",
        "evaluate": "rnabert.evaluate.alignment",
        "evaluate_alignment": "rnabert.evaluate.alignment",
    },
)
