"""The k-nearest-neighbour graph of the codes: found once, fed to both t-SNE and UMAP.

Codes are low-dimensional (8-64) but many: 330k for the full Typography-MNIST. Measured on
330k 16-dim VAE codes, 2 cores (see bench/bench_embed.py --dataset alphanumeric): trees do
not help in 16 dimensions (scikit-learn's KD-tree needs 12 s for 50k codes), exact brute
force takes ~150 s, pynndescent 82 s for the 90 neighbours t-SNE needs (6 s for UMAP's 15),
while an HNSW index (usearch) finds 90 neighbours in ~16 s at 99.3% recall. Small sets
(under ``EXACT_BELOW`` codes) get exact neighbours, which cost less than building an index.
"""

import itertools
import os
import time
from dataclasses import dataclass

import numpy as np

from ..errors import LatentmapError

EXACT_BELOW = 20_000
METRICS = {"euclidean": "l2sq", "cosine": "cos"}  # our name -> usearch's
CHUNKS = 20  # progress steps per phase


@dataclass(frozen=True)
class NeighborGraph:
    """Each code's ``k`` nearest other codes, nearest first (the code itself excluded)."""

    indices: np.ndarray  # (N, k) int64
    distances: np.ndarray  # (N, k) float32, in the metric's own units (not squared)
    metric: str
    method: str  # "exact" or "hnsw"
    seconds: float

    @property
    def k(self) -> int:
        return int(self.indices.shape[1])

    def for_opentsne(self, k: int):  # -> openTSNE.nearest_neighbors.PrecomputedNeighbors
        from openTSNE.nearest_neighbors import PrecomputedNeighbors

        return PrecomputedNeighbors(self.indices[:, :k], self.distances[:, :k].astype(np.float64))

    def for_umap(self, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
        """umap-learn counts each point as its own nearest neighbour, at distance 0."""
        n = len(self.indices)
        own = np.arange(n, dtype=np.int32)[:, None]
        indices = np.hstack([own, self.indices[:, : n_neighbors - 1].astype(np.int32)])
        distances = np.hstack([np.zeros((n, 1), np.float32), self.distances[:, : n_neighbors - 1]])
        return indices, distances


def supports(metric: str) -> bool:
    return metric in METRICS


def threads(n_jobs: int) -> int:
    return (os.cpu_count() or 1) if n_jobs < 0 else max(1, n_jobs)


def neighbor_graph(
    codes: np.ndarray, k: int, metric: str = "euclidean", method: str = "auto", n_jobs: int = -1, progress: bool = False
) -> NeighborGraph:
    """The ``k`` nearest neighbours of every code among all codes; ``method`` is "exact",
    "hnsw" or "auto" (exact below ``EXACT_BELOW`` codes)."""
    if not supports(metric):
        raise LatentmapError(f"the shared neighbour graph supports {', '.join(METRICS)}, not '{metric}'")
    if method not in ("auto", "exact", "hnsw"):
        raise LatentmapError(f"unknown neighbour search '{method}': use auto, exact or hnsw")
    n = len(codes)
    if not 1 <= k < n:
        raise LatentmapError(f"{k} neighbours need more than {k} points, got {n}")
    codes = np.ascontiguousarray(codes, dtype=np.float32)
    if method == "auto":
        method = "exact" if n < EXACT_BELOW else "hnsw"
    start = time.perf_counter()
    search = exact_search if method == "exact" else hnsw_search
    indices, distances = search(codes, k + 1, metric, threads(n_jobs), progress)
    indices, distances = drop_self(indices, distances)
    return NeighborGraph(indices, distances, metric, method, time.perf_counter() - start)


def chunks(n: int) -> list[slice]:
    edges = np.linspace(0, n, min(CHUNKS, n) + 1).astype(int)
    return [slice(a, b) for a, b in itertools.pairwise(edges) if b > a]


def progress_bar(total: int, progress: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="pt", unit_scale=True, disable=None if progress else True, leave=False)


def exact_index(codes: np.ndarray, metric: str, n_threads: int):  # -> fitted NearestNeighbors
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(algorithm="brute", metric=metric, n_jobs=n_threads).fit(codes)


def exact_search(
    codes: np.ndarray, k: int, metric: str, n_threads: int, progress: bool
) -> tuple[np.ndarray, np.ndarray]:
    index = exact_index(codes, metric, n_threads)
    indices = np.empty((len(codes), k), np.int64)
    distances = np.empty((len(codes), k), np.float32)
    with progress_bar(len(codes), progress, "neighbours (exact)") as bar:
        for part in chunks(len(codes)):
            distances[part], indices[part] = index.kneighbors(codes[part], n_neighbors=k)
            bar.update(part.stop - part.start)
    return indices, distances


def hnsw_search(
    codes: np.ndarray, k: int, metric: str, n_threads: int, progress: bool
) -> tuple[np.ndarray, np.ndarray]:
    from usearch.index import BatchMatches, Index

    n = len(codes)
    # connectivity 16, expansion 64 (build) and 100 (search): 99.3% recall of the 90 nearest on 330k codes
    index = Index(
        ndim=codes.shape[1],
        metric=METRICS[metric],
        dtype="f32",
        connectivity=16,
        expansion_add=64,
        expansion_search=max(100, k + 10),
    )
    indices = np.empty((n, k), np.int64)
    distances = np.empty((n, k), np.float32)
    with progress_bar(2 * n, progress, "neighbours (HNSW: index, then search)") as bar:
        for part in chunks(n):
            index.add(np.arange(part.start, part.stop, dtype=np.uint64), codes[part], threads=n_threads)
            bar.update(part.stop - part.start)
        for part in chunks(n):
            found: BatchMatches = index.search(codes[part], k, threads=n_threads)  # type: ignore[assignment]
            indices[part] = found.keys.astype(np.int64)
            # usearch measures squared L2
            distances[part] = np.sqrt(np.maximum(found.distances, 0)) if metric == "euclidean" else found.distances
            short = found.counts < k  # HNSW may return fewer than asked: those rows are searched exactly
            if short.any():
                rows = np.arange(part.start, part.stop)[short]
                distances[rows], indices[rows] = exact_index(codes, metric, n_threads).kneighbors(codes[rows], k)
            bar.update(part.stop - part.start)
    return indices, distances


def drop_self(indices: np.ndarray, distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove each point from its own list (k + 1 columns in, k out). Where duplicates pushed
    the point itself out of its list, the farthest neighbour goes instead."""
    n, columns = indices.shape
    own = indices == np.arange(n)[:, None]
    own[~own.any(axis=1), -1] = True  # (a point is listed at most once: the keys are unique)
    keep = ~own
    return indices[keep].reshape(n, columns - 1), distances[keep].reshape(n, columns - 1)
