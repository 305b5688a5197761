"""Data: MNIST, Fashion-MNIST and Typography-MNIST (from the published CSVs or rebuilt from
font files), and font sets. Reads a dataset spec and the data root (verified downloads,
IDX, CSV, fonts); produces a cached ``Dataset`` of uint8 images, labels and a split.
"""

from .datasets import BUILTIN_SPECS, Dataset, load_dataset
from .fontset import FontSet, read_font_set, write_font_set

__all__ = ["BUILTIN_SPECS", "Dataset", "FontSet", "load_dataset", "read_font_set", "write_font_set"]
