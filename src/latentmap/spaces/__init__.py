"""Latent spaces to explore: an embedding file with its run and dataset, loaded once as a
:class:`LatentSpace` (interpolation, analogies, decoding anywhere on the map, the judge's
validity map, typeface morphs, attribute vectors). Reads embedding files and run
directories; produces images and JSON for the explorer app (``web/``).
"""

from .load import load_space
from .space import LatentSpace
from .typeface_space import TypefaceSpace

__all__ = ["LatentSpace", "TypefaceSpace", "load_space"]
