"""Family clustering: homology edges → graph → clusters (``rnabert.cluster``), with the
clusterings it is built from. The package is named ``clustering`` so that ``rnabert.cluster``
stays the function (as ``rnabert.align`` and the ``alignment`` package)."""

from .api import DEFAULT_THRESHOLD, DENSE_MAX, cluster
from .linkage import average_linkage, canonical, components, leiden, spectral
from .result import Clusters

__all__ = [
    "DEFAULT_THRESHOLD",
    "DENSE_MAX",
    "Clusters",
    "average_linkage",
    "canonical",
    "cluster",
    "components",
    "leiden",
    "spectral",
]
