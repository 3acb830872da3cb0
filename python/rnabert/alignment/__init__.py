"""Structural alignment of RNAs by their embeddings: parameters, result objects, the public
functions and the engine dispatch (:mod:`.engine`). ``rnabert.align`` is the function
:func:`.api.align`."""

from .alignment import Alignment, AlignmentList
from .api import align, align_many, align_scores, align_scores_many
from .pairscores import PairScores
from .params import AlignParams

__all__ = [
    "AlignParams",
    "Alignment",
    "AlignmentList",
    "PairScores",
    "align",
    "align_many",
    "align_scores",
    "align_scores_many",
]
