"""On-disk caching for the numba functions of umap-learn and pynndescent.

Both packages compile ~250 numba functions on first use but mark only some of them
``cache=True``, so every fresh process paid 20+ s of JIT before its first UMAP (70 s on a
new install). Turning caching on for the rest means the compile happens once per machine
(numba keeps the cache in ``__pycache__`` or, when that is read-only, its user-wide cache
directory). A few functions use dynamic globals and cannot be cached; numba's warning about
them is silenced.
"""

import functools
import importlib
import pkgutil
import warnings

SKIP = {"parametric_umap", "plot", "aligned_umap", "validation", "__main__"}


@functools.cache
def enable_numba_caching() -> int:
    """Enable caching on every numba dispatcher of umap and pynndescent; returns how many."""
    from numba.core.dispatcher import Dispatcher
    from numba.core.errors import NumbaWarning

    warnings.filterwarnings("ignore", message="Cannot cache compiled function", category=NumbaWarning)
    enabled = 0
    for package_name in ("pynndescent", "umap"):
        package = importlib.import_module(package_name)
        for module_info in pkgutil.iter_modules(package.__path__):
            if module_info.name in SKIP:
                continue
            try:
                module = importlib.import_module(f"{package_name}.{module_info.name}")
            except ImportError:  # optional extras (tensorflow, bokeh, ...)
                continue
            for value in vars(module).values():
                if isinstance(value, Dispatcher):
                    value.enable_caching()
                    enabled += 1
    return enabled
