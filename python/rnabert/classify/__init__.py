"""RNA type classification from embeddings: small heads (convolutions over the per-base embeddings
and bases; logistic regression or an MLP on pooled embeddings and k-mer frequencies; their
average) give each sequence per-class probabilities; a nearest-neighbour vote on homology bits
against a user's labelled sequences can be added.

>>> import rnabert
>>> result = rnabert.classify("queries.fa")          # the shipped head: the 13 nRC classes
>>> result.to_tsv("labels.tsv")
>>> head = rnabert.classify.train("labelled.fa", out="head.safetensors")   # label: last word
>>> rnabert.classify("queries.fa", head=head)
"""

import sys
import types

from .api import Classification, classify, load_head, train
from .features import kmer_frequencies, kmer_names
from .head import ClassHead, HeadEnsemble
from .knn import combine, knn_vote, votes_from_hits
from .labels import LABEL_RULE, read_labelled_fasta

__all__ = [
    "Classification",
    "ClassHead",
    "HeadEnsemble",
    "LABEL_RULE",
    "classify",
    "combine",
    "kmer_frequencies",
    "kmer_names",
    "knn_vote",
    "load_head",
    "read_labelled_fasta",
    "train",
    "votes_from_hits",
]


class _CallableModule(types.ModuleType):
    """``rnabert.classify`` is both this package and the function (as ``rnabert.search``):
    importing a submodule binds the package to the name on ``rnabert``, so the package itself must
    be callable for ``rnabert.classify(seqs)`` to work in every import order."""

    def __call__(self, *args, **kwargs):
        return classify(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
