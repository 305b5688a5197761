"""Exploring a latent space: an embedding file with its run and dataset, loaded once as a
:class:`LatentSpace` (interpolation, analogies, decoding anywhere on the map, the judge's
validity map, typeface morphs, attribute vectors). Reads embedding files and run
directories; produces images and JSON for the explorer app.
"""

import sys
import types
from typing import Any

from .load import load_space
from .space import LatentSpace
from .typeface_space import TypefaceSpace

__all__ = ["LatentSpace", "TypefaceSpace", "load_space"]


class _ExplorePackage(types.ModuleType):
    """``latentmap.explore`` is this package and, called, the explorer served from Python
    (DESIGN.md names both ``latentmap.explore(...)`` and this stage ``explore``)."""

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        from ..web.background import explore

        return explore(*args, **kwargs)


sys.modules[__name__].__class__ = _ExplorePackage
