"""On-disk caching for the numba functions of umap-learn and pynndescent.

Both packages compile ~250 numba functions on first use but mark only some of them
``cache=True``, so every fresh process paid 20+ s of JIT before its first UMAP (70 s on a
new install). Turning caching on for the rest means the compile happens once per user: the
code goes into ``<user cache>/latentmap/numba`` (whatever data cache a command uses;
``NUMBA_CACHE_DIR`` wins when set), and the first UMAP says that it compiles once, since a
pip user never ran ``make setup``'s warm step. A few functions use dynamic globals and cannot
be cached; numba's warning about them is silenced.
"""

import functools
import importlib
import os
import pkgutil
import sys
import warnings
from importlib.metadata import version
from pathlib import Path

from ..data.sources import default_root


def numba_cache_dir() -> Path:
    return Path(os.environ.get("NUMBA_CACHE_DIR") or default_root() / "numba")


def compiled_marker() -> Path:
    """Written after a UMAP compiled into the cache: the versions it compiled for."""
    return numba_cache_dir() / f"umap-{version('umap-learn')}-numba-{version('numba')}.compiled"


def use_user_cache() -> bool:
    """Point numba at the user's cache (before numba is imported, when its config is read);
    returns whether UMAP's code is already compiled there, saying so on stderr when not."""
    os.environ.setdefault("NUMBA_CACHE_DIR", str(numba_cache_dir()))
    if compiled_marker().exists():
        return True
    print(
        f"UMAP: compiling its numba code once (up to a minute); cached in {numba_cache_dir()} for later runs",
        file=sys.stderr,
        flush=True,
    )
    return False


def mark_compiled() -> None:
    try:
        compiled_marker().parent.mkdir(parents=True, exist_ok=True)
        compiled_marker().touch()
    except OSError:  # a read-only cache: the next process compiles again, and says so again
        pass


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
