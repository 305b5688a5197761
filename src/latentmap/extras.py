"""Optional parts of latentmap: the pip extra that installs each, and the one line a command
says when its extra is missing. The core (``pip install latentmap``) trains, embeds and
serves the explorer; the extras are declared in pyproject.toml under
``[project.optional-dependencies]``."""

import importlib
from types import ModuleType

from .errors import LatentmapError


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """``module`` imported, or a :class:`LatentmapError` naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        missing = (error.name or module).split(".")[0]
        raise LatentmapError(
            f"{purpose} needs {missing}, which is not installed: pip install 'latentmap[{extra}]'"
        ) from None
