"""The data layer: dataset specs, sources, IDX files, Typography-MNIST, font sets."""

from .datasets import BUILTIN_SPECS, Dataset, load_dataset
from .fontset import FontSet, read_font_set, write_font_set

__all__ = ["BUILTIN_SPECS", "Dataset", "FontSet", "load_dataset", "read_font_set", "write_font_set"]
