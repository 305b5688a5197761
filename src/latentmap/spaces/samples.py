"""The explorer's Samples experiment: new images drawn from a run's sampler (the prior, one
Gaussian or a Gaussian mixture fitted to its train codes), each with its nearest images on
the map in pixel space, so a glance tells new images from copies and shows where the
sampler's mass lies."""

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import LatentmapError, RequestError
from ..images import to_uint8
from ..train import samplers

if TYPE_CHECKING:
    from ..train.run import Run

COLUMNS = 8  # samples per grid row
MAX_ROWS = 8
NEAREST = 3  # nearest map images per sample
CHUNK = 8192  # map images compared at once (bounded memory on full TMNIST)


def offered(run: "Run") -> list[str]:
    """The samplers a run offers: the prior only where training pulled its codes to N(0, I)."""
    return [name for name in samplers.SAMPLERS if name != "prior" or run.has_prior]


def nearest_images(images: np.ndarray, queries: np.ndarray, k: int = NEAREST) -> tuple[np.ndarray, np.ndarray]:
    """Indices (q, k) of the ``k`` images nearest to each query (Euclidean, pixels in [0, 1])
    and their distances, nearest first."""
    flat_queries = queries.reshape(len(queries), -1).astype(np.float64) / 255
    query_norms = (flat_queries**2).sum(axis=1)
    best = np.full((len(queries), 0), 0, np.int64)
    best_d2 = np.zeros((len(queries), 0), np.float64)
    for start in range(0, len(images), CHUNK):
        block = images[start : start + CHUNK].reshape(-1, flat_queries.shape[1]).astype(np.float64) / 255
        d2 = query_norms[:, None] + (block**2).sum(axis=1)[None] - 2 * flat_queries @ block.T
        candidates = np.concatenate([best, np.arange(start, start + len(block))[None].repeat(len(queries), 0)], 1)
        distances = np.concatenate([best_d2, d2], axis=1)
        keep = np.argsort(distances, axis=1, kind="stable")[:, :k]
        best, best_d2 = np.take_along_axis(candidates, keep, 1), np.take_along_axis(distances, keep, 1)
    return best, np.sqrt(np.maximum(best_d2, 0))


def draw_samples(space: Any, sampler: str, rows: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A (rows, COLUMNS, 28, 28) uint8 grid of samples of ``space``'s run, and per sample (in
    row-major order) the dataset rows of its nearest map images and their distances."""
    if not 1 <= rows <= MAX_ROWS:
        raise RequestError(f"rows must be between 1 and {MAX_ROWS}, got {rows}")
    if space.info.get("mode") == "typeface":
        raise RequestError("this is a typeface map: use /typeface/samples")
    if sampler not in offered(space.run):
        raise RequestError(
            f"a {space.run.kind} run offers the samplers {', '.join(offered(space.run))}, not '{sampler}'"
        )
    try:
        images = space.run.sample(rows * COLUMNS, sampler, seed=seed, dataset=space.dataset)
    except LatentmapError as error:  # e.g. too few train codes to fit a mixture
        raise RequestError(str(error)) from None
    pixels = to_uint8(images)
    nearest, distances = nearest_images(space.images, pixels)
    return pixels.reshape(rows, COLUMNS, *pixels.shape[1:]), space.rows[nearest], distances
