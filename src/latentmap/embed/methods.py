"""2D projections of latent codes: PCA, t-SNE (openTSNE) and UMAP (umap-learn), one shared
neighbour graph for the last two, and the projection's quality numbers.
"""

import time
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import LatentmapError
from .neighbors import NeighborGraph

METHODS = ("pca", "tsne", "umap")
# A run with 2-dim codes needs no projection: its code plane is the map (and decoding any
# point of it is exact). Embedding such a run always writes it, besides what was asked.
PLANE = "codes"
EARLY_ITERATIONS, ITERATIONS = 100, 200  # t-SNE: early exaggeration, then the rest
NEIGHBOR_SEARCHES = ("auto", "exact", "hnsw", "library")
# umap-learn's spectral initialisation (an eigensolver on the kNN graph) took over 10 minutes
# on 330k TMNIST codes; above this size UMAP starts from PCA, as t-SNE does
SPECTRAL_BELOW = 50_000


@dataclass
class EmbedParams:
    perplexity: float = 30.0
    n_neighbors: int = 15
    min_dist: float = 0.1
    metric: str = "euclidean"
    seed: int = 0
    n_jobs: int = -1  # all cores
    neighbors: str = "auto"  # auto | exact | hnsw: our shared graph; library: each library's own search

    def __post_init__(self) -> None:
        if self.perplexity <= 0 or self.n_neighbors < 2 or not 0 <= self.min_dist <= 1:
            raise LatentmapError("--perplexity must be > 0, --n_neighbors >= 2 and --min_dist in [0, 1]")
        if self.neighbors not in NEIGHBOR_SEARCHES:
            raise LatentmapError(f"unknown --neighbors '{self.neighbors}': use {', '.join(NEIGHBOR_SEARCHES)}")


def check_methods(methods: list[str]) -> list[str]:
    unknown = [m for m in methods if m not in (*METHODS, PLANE)]
    if unknown:
        raise LatentmapError(
            f"unknown embedding method(s) {', '.join(unknown)}: use {', '.join(METHODS)} (or {PLANE}: 2-dim codes)"
        )
    return list(dict.fromkeys(methods))


# --------------------------------------------------------------------------- methods


def embed_pca(
    codes: np.ndarray, params: EmbedParams, progress: bool = False, graph: NeighborGraph | None = None
) -> np.ndarray:
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=params.seed).fit_transform(codes)


class TsneProgress:
    """An openTSNE callback that advances a tqdm bar (plain lines when not on a terminal)."""

    def __init__(self, total: int, every: int, progress: bool) -> None:
        from tqdm import tqdm

        self.every = every
        self.bar = tqdm(total=total, desc="t-SNE iterations", unit="it", disable=None if progress else True)

    def __call__(self, iteration: int, error: float, embedding: Any) -> bool:
        self.bar.update(self.every)
        self.bar.set_postfix(KL=f"{error:.3f}", refresh=False)
        return False  # never stop early

    def close(self) -> None:
        self.bar.close()


def tsne_perplexity(params: EmbedParams, n: int) -> float:
    return min(params.perplexity, max(2.0, (n - 1) / 3))


def neighbours_needed(method: str, params: EmbedParams, n: int) -> int:
    """How many neighbours (besides itself) each point needs: 3 x perplexity for t-SNE (as
    openTSNE), n_neighbors - 1 for UMAP (which counts the point itself)."""
    if method == "tsne":
        return min(n - 1, int(3 * tsne_perplexity(params, n)))
    if method == "umap":
        return params.n_neighbors - 1
    return 0


def embed_tsne(
    codes: np.ndarray, params: EmbedParams, progress: bool = False, graph: NeighborGraph | None = None
) -> np.ndarray:
    """openTSNE, tuned for speed at the same quality as its defaults (see bench/bench_embed.py):
    our shared neighbour graph (or openTSNE's Annoy), FFT-accelerated gradients on all cores,
    PCA initialisation, and a shorter schedule (100 + 200 iterations instead of 250 + 500)
    that still converges on large data thanks to the learning rate N/12 (Belkina et al. 2019)."""
    from openTSNE import TSNE
    from openTSNE.affinity import PerplexityBasedNN

    n = len(codes)
    perplexity = tsne_perplexity(params, n)
    every = 10
    bar = TsneProgress(EARLY_ITERATIONS + ITERATIONS, every, progress)
    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        metric=params.metric,
        initialization="pca",
        neighbors="annoy" if n > 2000 else "exact",
        negative_gradient_method="fft" if n > 2000 else "bh",
        n_jobs=params.n_jobs,
        random_state=params.seed,
        early_exaggeration_iter=EARLY_ITERATIONS,
        n_iter=ITERATIONS,
        learning_rate="auto",
        verbose=False,
        callbacks=bar,
        callbacks_every_iters=every,
    )
    affinities = None
    if graph is not None:
        k = neighbours_needed("tsne", params, n)
        affinities = PerplexityBasedNN(
            perplexity=perplexity, knn_index=graph.for_opentsne(k), n_jobs=params.n_jobs, random_state=params.seed
        )
    try:
        return np.asarray(tsne.fit(codes.astype(np.float64), affinities=affinities))
    finally:
        bar.close()


def embed_umap(
    codes: np.ndarray, params: EmbedParams, progress: bool = False, graph: NeighborGraph | None = None
) -> np.ndarray:
    from .jit_cache import enable_numba_caching, mark_compiled, use_user_cache

    compiled = use_user_cache()
    import umap

    enable_numba_caching()
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=params.n_neighbors,
        min_dist=params.min_dist,
        metric=params.metric,
        init="spectral" if len(codes) < SPECTRAL_BELOW else "pca",
        random_state=None if params.n_jobs != 1 else params.seed,
        n_jobs=params.n_jobs,
        low_memory=True,
        verbose=False,
        precomputed_knn=(None, None, None) if graph is None else graph.for_umap(params.n_neighbors),
        # umap-learn's own tqdm bar over the optimisation epochs; None: only on a terminal
        tqdm_kwds={"disable": None if progress else True, "desc": "UMAP epochs", "leave": False},
    )
    with warnings.catch_warnings():
        # we give no search index, so UMAP.transform of new points is unavailable: not used here
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
        layout = np.asarray(reducer.fit_transform(codes))
    if not compiled:
        mark_compiled()
    return layout


def embed_plane(
    codes: np.ndarray, params: EmbedParams, progress: bool = False, graph: NeighborGraph | None = None
) -> np.ndarray:
    if codes.shape[1] != 2:
        raise LatentmapError(
            f"--methods {PLANE} maps 2-dim codes as they are; these have {codes.shape[1]}: use {', '.join(METHODS)}"
        )
    return codes.copy()


EMBEDDERS = {"pca": embed_pca, "tsne": embed_tsne, "umap": embed_umap, PLANE: embed_plane}


def shared_graph(
    codes: np.ndarray, methods: list[str], params: EmbedParams, progress: bool = False
) -> NeighborGraph | None:
    """One neighbour graph, enough for every method asked for; None where the libraries
    search for themselves (--neighbors library, or a metric the graph does not support)."""
    from . import neighbors

    k = shared_neighbours(len(codes), methods, params)
    if k == 0:
        return None
    return neighbors.neighbor_graph(codes, k, params.metric, params.neighbors, params.n_jobs, progress)


def shared_neighbours(n: int, methods: list[str], params: EmbedParams) -> int:
    """Size of the shared graph's neighbour lists; 0 when there is to be no shared graph."""
    from .neighbors import supports

    if params.neighbors == "library" or not supports(params.metric):
        return 0
    return max((neighbours_needed(m, params, n) for m in methods), default=0)


def check_size(codes: np.ndarray, method: str, params: EmbedParams) -> None:
    if len(codes) < 5:
        raise LatentmapError(f"need at least 5 points to embed, got {len(codes)}")
    if method == "umap" and len(codes) <= params.n_neighbors:
        raise LatentmapError(
            f"UMAP with --n_neighbors {params.n_neighbors} needs more than {params.n_neighbors} points, "
            f"got {len(codes)}: lower --n_neighbors or embed more points"
        )


def project(
    codes: np.ndarray,
    method: str,
    params: EmbedParams,
    progress: bool = False,
    graph: NeighborGraph | str | None = "find",
) -> tuple[np.ndarray, float]:
    """2D coordinates (float32) and the wall time in seconds, neighbour search included.
    ``graph``: a shared graph from ``shared_graph`` (its time is not counted here), None for
    the library's own search, or "find" to find this method's neighbours now."""
    check_size(codes, method, params)
    codes = np.ascontiguousarray(codes, dtype=np.float32)
    start = time.perf_counter()
    if isinstance(graph, str):
        graph = shared_graph(codes, [method], params, progress)
    xy = EMBEDDERS[method](codes, params, progress, graph)
    return xy.astype(np.float32), time.perf_counter() - start


# --------------------------------------------------------------------------- quality


def knn_accuracy(points: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Leave-one-out k-nearest-neighbour label accuracy (majority vote)."""
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(points) - 1)
    neighbours = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points, return_distance=False)[:, 1:]
    votes = labels[neighbours]
    n_classes = int(labels.max()) + 1
    counts = np.apply_along_axis(np.bincount, 1, votes, minlength=n_classes)
    return float((counts.argmax(axis=1) == labels).mean())


def quality(
    codes: np.ndarray, xy: np.ndarray, labels: np.ndarray, seed: int = 0, sample: int = 5000
) -> dict[str, float]:
    """10-NN accuracy in 2D and in the latent space, trustworthiness, on a seeded sample."""
    from sklearn.manifold import trustworthiness

    rows = np.arange(len(codes))
    if len(rows) > sample:
        rows = np.sort(np.random.default_rng(seed).choice(len(rows), size=sample, replace=False))
    k = min(10, (len(rows) - 1) // 2)  # trustworthiness needs k < n / 2
    return {
        "knn10_accuracy_2d": knn_accuracy(xy[rows], labels[rows]),
        "knn10_accuracy_latent": knn_accuracy(codes[rows], labels[rows]),
        "trustworthiness": float(trustworthiness(codes[rows], xy[rows], n_neighbors=max(1, k))),
        "quality_sample": len(rows),
    }


def params_json(params: EmbedParams) -> dict[str, Any]:
    return asdict(params)
