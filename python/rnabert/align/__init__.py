"""Structural alignment of RNAs by their embeddings: parameters, result objects and the public API.

``rnabert.align`` is both this package and the function :func:`rnabert.align.api.align`: calling the
package, ``rnabert.align(a, b, ...)``, aligns two RNAs, whichever of the two the attribute resolved to.
"""

import sys
import types

from .alignment import Alignment, AlignmentList
from .api import align, align_many, align_scores, align_scores_many
from .pairscores import PairScores
from .params import AlignParams

__all__ = ["AlignParams", "Alignment", "AlignmentList", "PairScores", "align", "align_many", "align_scores",
           "align_scores_many"]


class _CallablePackage(types.ModuleType):
    # `import rnabert.align` binds the attribute rnabert.align to this package, shadowing the function of
    # the same name that rnabert exports; making the package callable keeps rnabert.align(a, b) working.
    def __call__(self, *args, **kwargs):
        return align(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
