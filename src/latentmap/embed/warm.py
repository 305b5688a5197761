"""``python -m latentmap.embed.warm``: compile (and cache) the numba code a UMAP run needs, so
that a user's first ``latentmap embed`` or ``demo`` does not wait for the JIT. ``make setup``
runs it.
"""

import time

import numpy as np

from .methods import EmbedParams, project


def warm_up(points: int = 5000) -> float:
    """A UMAP of a small random set through the same path as ``latentmap embed`` (our
    neighbour graph, umap-learn's layout); returns the seconds it took."""
    start = time.perf_counter()
    codes = np.random.default_rng(0).normal(size=(points, 8)).astype(np.float32)
    project(codes, "umap", EmbedParams())
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"numba code for UMAP compiled and cached in {warm_up():.0f} s")
