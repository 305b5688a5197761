"""Typeface clustering: four algorithms over the typefaces' vectors.

Within each cluster typefaces are ordered by distance from the cluster's centre
(K-means: to the centroid in the chosen metric; DBSCAN: to the nearest core point, noise 0;
spectral: to the cluster centroid in the spectral embedding). (:mod:`.selection` takes the
least prototypical members first.)
"""

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .corpus import ClusteringError, TypefaceCorpus

ALGORITHMS = ("kmeans", "spectral", "dbscan", "dbscan-auto")
SWEEP_STEPS = 40
# Multiply-adds one clustering may cost (about 10 s on two cores), counted per algorithm in
# work_of; and the memory of DBSCAN's dense distance matrices (distances, reachability, a
# sorted copy: three n x n float64 arrays).
MAX_WORK = 5e11
MAX_MATRIX_BYTES = 3 << 30


@dataclass
class ClusterParams:
    algorithm: str = "kmeans"
    n_clusters: int = 8
    metric: str = "euclidean"  # kmeans: euclidean | cosine
    n_neighbors: int = 10  # spectral: k of the k-nearest-neighbour similarity graph
    eps: float = 5.0  # dbscan
    min_samples: int = 5  # dbscan, dbscan-auto
    pca_dims: int = 0  # 0: none
    seed: int = 0
    features: str = "pixels"  # pixels: the glyph images; codes: a typeface run's learned codes


@dataclass
class Clustering:
    """The outcome: clusters as member lists (typeface ids, nearest the centre first)."""

    chars: str
    params: ClusterParams
    font_ids: np.ndarray  # typefaces that have every selected character
    clusters: list[np.ndarray]  # typeface ids per cluster, ordered by distance ascending
    distances: list[np.ndarray]
    noise: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # DBSCAN noise, distance 0
    summary: dict[str, Any] = field(default_factory=dict)


def reduce(x: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """Randomized PCA: works for any selection, 4 characters or all 94 (73,696 values)."""
    if not dims:
        return x
    limit = min(x.shape)
    if not 1 <= dims <= limit:
        raise ClusteringError(f"PCA dims must be between 1 and {limit} for this selection, got {dims}")
    from sklearn.decomposition import PCA

    # Three power iterations (scikit-learn's "auto" does 7) keep the leading components
    # well enough to cluster on, in half the time on the 73,696-value vectors of 94 characters.
    pca = PCA(n_components=dims, svd_solver="randomized", iterated_power=3, random_state=seed)
    return pca.fit_transform(x).astype(np.float32)


def kmeans(x: np.ndarray, params: ClusterParams) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    from sklearn.cluster import KMeans

    if params.metric not in ("euclidean", "cosine"):
        raise ClusteringError(f"unknown K-means metric '{params.metric}': use euclidean or cosine")
    points = x
    if params.metric == "cosine":  # spherical K-means: unit vectors, centroids compared by angle
        points = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    model = KMeans(n_clusters=params.n_clusters, n_init=3, random_state=params.seed).fit(points)
    centres = model.cluster_centers_[model.labels_]
    if params.metric == "cosine":
        cos = np.einsum("nd,nd->n", points, centres) / np.maximum(np.linalg.norm(centres, axis=1), 1e-12)
        distance = 1.0 - cos
    else:
        distance = np.linalg.norm(points - centres, axis=1)
    return model.labels_, distance, {"inertia": float(model.inertia_)}


def spectral(x: np.ndarray, params: ClusterParams) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Spectral clustering on a symmetric k-nearest-neighbour graph, written from its
    scikit-learn parts so the spectral embedding is at hand for the distances."""
    from sklearn.cluster import KMeans
    from sklearn.manifold import spectral_embedding
    from sklearn.neighbors import kneighbors_graph

    if not 2 <= params.n_neighbors < len(x):
        raise ClusteringError(f"k must be between 2 and {len(x) - 1}, got {params.n_neighbors}")
    graph = kneighbors_graph(x, n_neighbors=params.n_neighbors, include_self=True)
    affinity = 0.5 * (graph + graph.T)
    embedding = spectral_embedding(affinity, n_components=params.n_clusters, random_state=params.seed, drop_first=False)
    model = KMeans(n_clusters=params.n_clusters, n_init=3, random_state=params.seed).fit(embedding)
    distance = np.linalg.norm(embedding - model.cluster_centers_[model.labels_], axis=1)
    return model.labels_, distance, {}


def core_distances(distances: np.ndarray, labels: np.ndarray, core: np.ndarray) -> np.ndarray:
    """Distance from each clustered point to the nearest core point of its cluster (noise: 0)."""
    out = np.zeros(len(labels))
    for cluster in np.unique(labels[labels >= 0]):
        members = np.nonzero(labels == cluster)[0]
        cores = members[core[members]]
        out[members] = distances[np.ix_(members, cores)].min(axis=1)
    return out


def dbscan(
    x: np.ndarray, params: ClusterParams, distances: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    from sklearn.cluster import DBSCAN
    from sklearn.metrics import pairwise_distances

    if not params.eps > 0:
        raise ClusteringError(f"eps must be > 0, got {params.eps}")
    if params.min_samples < 1:
        raise ClusteringError("min samples must be at least 1")
    if distances is None:
        distances = pairwise_distances(x, n_jobs=-1)
    model = DBSCAN(eps=params.eps, min_samples=params.min_samples, metric="precomputed").fit(distances)
    core = np.zeros(len(x), bool)
    core[model.core_sample_indices_] = True
    return model.labels_, core_distances(distances, model.labels_, core), {"eps": params.eps}


def mst_edge_weights(weights: np.ndarray) -> np.ndarray:
    """Edge weights of a minimum spanning tree of a dense symmetric graph (Prim, O(n^2))."""
    n = len(weights)
    in_tree = np.zeros(n, bool)
    in_tree[0] = True
    best = weights[0].astype(np.float64)
    best[0] = np.inf
    edges = np.empty(n - 1)
    for k in range(n - 1):
        j = int(np.argmin(best))
        edges[k] = best[j]
        in_tree[j] = True
        np.minimum(best, weights[j], out=best)
        best[in_tree] = np.inf
    return edges


class DbscanSweep:
    """Cluster counts of DBSCAN at any eps from one spanning tree.

    DBSCAN's clusters are the connected components of its core points (those with
    ``min_samples`` points within eps, themselves included) linked when closer than eps;
    border points join clusters but never make new ones. With the mutual reachability
    distance max(d(a, b), core(a), core(b)), that graph is the one of edges <= eps, so the
    count is (#core points) - (#edges <= eps of its minimum spanning tree)."""

    def __init__(self, distances: np.ndarray, min_samples: int) -> None:
        self.core = np.partition(distances, min_samples - 1, axis=1)[:, min_samples - 1]
        reachability = np.maximum(distances, np.maximum.outer(self.core, self.core))
        self.edges = np.sort(mst_edge_weights(reachability))
        self.core_sorted = np.sort(self.core)

    def count(self, eps: float) -> int:
        cores = np.searchsorted(self.core_sorted, eps, side="right")
        return int(cores - np.searchsorted(self.edges, eps, side="right"))


def dbscan_auto(x: np.ndarray, params: ClusterParams) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Sweep eps for the most DBSCAN clusters (each holds a core point and so, apart from
    border points shared with a neighbour, at least ``min_samples`` members)."""
    from sklearn.metrics import pairwise_distances

    if not 2 <= params.min_samples < len(x):
        # With 1, every point is a core point at distance 0 and there is no eps to sweep.
        raise ClusteringError(f"DBSCAN-auto needs min samples between 2 and {len(x) - 1}")
    distances = pairwise_distances(x, n_jobs=-1)
    sweep = DbscanSweep(distances, params.min_samples)
    # From the 2nd percentile of the core distances (few core points) to their maximum
    # (every point a core point).
    low, high = float(np.percentile(sweep.core, 2)), float(sweep.core.max())
    if not high > low > 0:
        low = max(float(sweep.core.min()), 1e-6)
        high = max(float(sweep.core.max()), low) + 1e-6
    grid = np.linspace(low, high, SWEEP_STEPS)
    counts = [sweep.count(eps) for eps in grid]
    best = len(counts) - 1 - int(np.argmax(counts[::-1]))  # the largest eps reaching the most clusters
    chosen = float(grid[best])
    labels, distance, _ = dbscan(x, ClusterParams(eps=chosen, min_samples=params.min_samples), distances)
    info = {
        "eps": chosen,
        "eps_relative": float((chosen - low) / (high - low)),
        "eps_range": [low, high],
        "sweep": {"eps": grid.tolist(), "clusters": counts},
    }
    return labels, distance, info


ALGORITHM_FUNCTIONS = {"kmeans": kmeans, "spectral": spectral, "dbscan": dbscan, "dbscan-auto": dbscan_auto}


def work_of(n: int, features: int, params: ClusterParams) -> float:
    """Multiply-adds of a clustering, as each algorithm spends them."""
    dims = params.pca_dims or features
    k = params.n_clusters
    work = n * features * (params.pca_dims + 10) * 8 if params.pca_dims else 0  # randomized PCA
    if params.algorithm == "kmeans":
        return work + n * dims * k * 90  # 3 starts of ~30 iterations
    work += n * n * dims  # the neighbour graph, or the distance matrix
    if params.algorithm == "spectral":
        # ARPACK's k eigenvectors: restarts that re-orthogonalise ~2k vectors of length n,
        # products with the n x neighbours graph; then K-means on the n x k embedding.
        work += n * k * k * 1000 + n * params.n_neighbors * k * 300 + n * k * k * 90
    return work


def check_work(n: int, features: int, params: ClusterParams) -> None:
    """Refuse, before any work, a clustering that would run for minutes or fill the memory."""
    dims = params.pca_dims or features
    if params.algorithm in ("dbscan", "dbscan-auto") and 3 * n * n * 8 > MAX_MATRIX_BYTES:
        raise ClusteringError(
            f"DBSCAN on {n:,} typefaces needs {3 * n * n * 8 / 2**30:.0f} GB of distance matrices "
            f"(at most {MAX_MATRIX_BYTES / 2**30:.0f} GB): use K-means, or a fonts folder with fewer typefaces"
        )
    if work_of(n, features, params) > MAX_WORK:
        hint = {"kmeans": "fewer clusters, ", "spectral": "fewer clusters or neighbours, "}.get(params.algorithm, "")
        raise ClusteringError(
            f"this clustering would take minutes ({n:,} typefaces x {dims:,} features): choose {hint}"
            "fewer characters or PCA dims (e.g. 50)"
        )


def cluster_typefaces(corpus: TypefaceCorpus, chars: str | list[str], params: ClusterParams) -> Clustering:
    if params.algorithm not in ALGORITHMS:
        raise ClusteringError(f"unknown algorithm '{params.algorithm}': use {', '.join(ALGORITHMS)}")
    start = time.perf_counter()
    font_ids = corpus.complete(chars, params.features)
    n = len(font_ids)
    if n < 2:
        raise ClusteringError(f"only {n} typeface(s) have all the selected characters")
    # Spectral embeds into n_clusters eigenvectors of an n-node graph: fewer than n.
    most = n if params.algorithm == "kmeans" else n - 1
    if params.algorithm in ("kmeans", "spectral") and not 1 <= params.n_clusters <= most:
        raise ClusteringError(
            f"number of clusters must be between 1 and {most} for {n} typefaces, got {params.n_clusters}"
        )
    features = corpus.learned_codes().shape[1] if params.features == "codes" else len(corpus.positions(chars)) * 784
    check_work(n, features, params)
    font_ids, x = corpus.vectors(chars, params.features)
    x = reduce(x, params.pca_dims, params.seed)
    labels, distance, info = ALGORITHM_FUNCTIONS[params.algorithm](x, params)
    clusters, distances = [], []
    for cluster in np.unique(labels[labels >= 0]):
        members = np.nonzero(labels == cluster)[0]
        order = members[np.lexsort((corpus.names[font_ids[members]], distance[members]))]  # ties by name
        clusters.append(font_ids[order])
        distances.append(distance[order])
    by_size = np.argsort([-len(c) for c in clusters], kind="stable")
    clusters = [clusters[i] for i in by_size]
    distances = [distances[i] for i in by_size]
    noise = font_ids[labels < 0]
    summary = {
        "seconds": time.perf_counter() - start,
        "clusters": len(clusters),
        "sizes": [len(c) for c in clusters],
        "noise": len(noise),
        "typefaces": len(font_ids),
        "missing": len(corpus.names) - len(font_ids),
        "features": int(x.shape[1]),
        **info,
    }
    return Clustering("".join(chars), params, font_ids, clusters, distances, noise, summary)
