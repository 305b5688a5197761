"""Typefaces: one vector per TMNIST typeface, clustered (K-means, spectral, DBSCAN,
DBSCAN-auto, optional PCA), and a fraction of each cluster chosen as a training set. Reads a
TMNIST dataset; produces clusterings, ``font_set.json`` and its ``font_chars.png``.
"""

from .clustering import ALGORITHMS, SWEEP_STEPS, Clustering, ClusterParams, DbscanSweep, cluster_typefaces
from .corpus import ClusteringError, TypefaceCorpus
from .selection import dataset_sizes, font_chars_image, font_set_for, select, take_count

__all__ = [
    "ALGORITHMS",
    "SWEEP_STEPS",
    "ClusterParams",
    "Clustering",
    "ClusteringError",
    "DbscanSweep",
    "TypefaceCorpus",
    "cluster_typefaces",
    "dataset_sizes",
    "font_chars_image",
    "font_set_for",
    "select",
    "take_count",
]
