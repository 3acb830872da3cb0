"""Pictures of what the library computes: embedding maps, alignments, similarity matrices,
clusterings, search hits and training curves.

Drawing only: every function takes results the library already produced (arrays, an
:class:`~rnabert.alignment.Alignment`, :class:`~rnabert.clustering.result.Clusters`, search hits)
and writes one file whose format follows its suffix (``.png``, ``.svg``, ``.pdf``, or ``.html``: a
self-contained page). matplotlib is an optional extra (``pip install rnabert[plot]``), imported
only when something is drawn.
"""

from ._figure import MISSING, check_picture
from .alignment import alignment_figure, similarity_heatmap
from .clusters import cluster_figure
from .embedding import embedding_map
from .search import search_hit_figure
from .structure import fold, member_structure, pair_table
from .training import training_curves

__all__ = [
    "MISSING",
    "check_picture",
    "embedding_map",
    "alignment_figure",
    "similarity_heatmap",
    "cluster_figure",
    "search_hit_figure",
    "training_curves",
    "pair_table",
    "member_structure",
    "fold",
]
