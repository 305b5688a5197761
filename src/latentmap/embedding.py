"""2D embeddings of latent codes (PCA, t-SNE, UMAP) and the embedding file.

The file ``embeddings/<run-name>.embed-<method>.npz`` holds ``xy`` (N, 2), ``codes``
(N, d), ``indices`` into the full dataset, ``labels``, ``split`` and ``metadata`` (a JSON
string: run directory, dataset spec and size, method, parameters, timings, quality
numbers). No pickles: it loads with ``allow_pickle=False``.
"""

import json
import os
import time
import warnings
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_path
from .errors import LatentmapError
from .neighbors import NeighborGraph

METHODS = ("pca", "tsne", "umap")
EARLY_ITERATIONS, ITERATIONS = 100, 200  # t-SNE: early exaggeration, then the rest
FILE_VERSION = 2  # 2: metadata records the weights' SHA-256
NEIGHBOR_SEARCHES = ("auto", "exact", "hnsw", "library")
# umap-learn's spectral initialisation (an eigensolver on the kNN graph) took over 10 minutes
# on 330k TMNIST codes; above this size UMAP starts from PCA, as t-SNE does
SPECTRAL_BELOW = 50_000


class EmbeddingError(LatentmapError):
    """An embedding file is missing, foreign, corrupt or does not match its run/dataset."""


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
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise LatentmapError(f"unknown embedding method(s) {', '.join(unknown)}: use {', '.join(METHODS)}")
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
    import umap

    from .jit_cache import enable_numba_caching

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
        return np.asarray(reducer.fit_transform(codes))


EMBEDDERS = {"pca": embed_pca, "tsne": embed_tsne, "umap": embed_umap}


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
    k = min(10, len(rows) - 2)
    return {
        "knn10_accuracy_2d": knn_accuracy(xy[rows], labels[rows]),
        "knn10_accuracy_latent": knn_accuracy(codes[rows], labels[rows]),
        "trustworthiness": float(trustworthiness(codes[rows], xy[rows], n_neighbors=max(1, k))),
        "quality_sample": len(rows),
    }


# --------------------------------------------------------------------------- the file


@dataclass
class Embedding:
    xy: np.ndarray  # (N, 2) float32
    codes: np.ndarray  # (N, d) float32
    indices: np.ndarray  # (N,) int64 into the full dataset
    labels: np.ndarray  # (N,) int64
    split: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return str(self.metadata.get("method", ""))

    def save(self, path: str | os.PathLike[str]) -> Path:
        path = Path(path)
        meta = json.dumps({**self.metadata, "version": FILE_VERSION})
        with atomic_path(path) as tmp:
            np.savez(
                tmp,
                xy=self.xy,
                codes=self.codes,
                indices=self.indices,
                labels=self.labels,
                split=np.array(self.split),
                metadata=np.array(meta),
            )
        return path


REQUIRED = {"xy", "codes", "indices", "labels", "split", "metadata"}


def load_embedding(path: str | os.PathLike[str]) -> Embedding:
    """Read and validate an embedding file (never unpickles)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = REQUIRED - set(npz.files)
            if missing:
                raise EmbeddingError(f"{path} is not a latentmap embedding (missing {', '.join(sorted(missing))})")
            arrays = {name: npz[name] for name in REQUIRED}
    except FileNotFoundError:
        raise EmbeddingError(f"embedding file {path} does not exist") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise EmbeddingError(f"{path} is not a readable .npz embedding file ({exc})") from exc
    try:
        metadata = json.loads(str(arrays["metadata"]))
    except json.JSONDecodeError as exc:
        raise EmbeddingError(f"{path} has corrupt metadata ({exc})") from exc
    n = len(arrays["xy"])
    shapes_ok = (
        arrays["xy"].shape == (n, 2)
        and arrays["codes"].ndim == 2
        and len(arrays["codes"]) == n
        and arrays["indices"].shape == (n,)
        and arrays["labels"].shape == (n,)
        and np.issubdtype(arrays["indices"].dtype, np.integer)
        and np.isfinite(arrays["xy"]).all()
    )
    if not shapes_ok or not isinstance(metadata, dict) or "run" not in metadata or "dataset" not in metadata:
        raise EmbeddingError(f"{path} is malformed: arrays disagree in length or metadata lacks run/dataset")
    return Embedding(
        xy=arrays["xy"].astype(np.float32),
        codes=arrays["codes"].astype(np.float32),
        indices=arrays["indices"].astype(np.int64),
        labels=arrays["labels"].astype(np.int64),
        split=str(arrays["split"]),
        metadata=metadata,
    )


def check_matches(embedding: Embedding, dataset_spec: str, dataset_size: int, d_latent: int | None = None) -> None:
    """The embedding was made from this dataset (same spec and size) and this code size."""
    meta = embedding.metadata
    if meta.get("dataset") != dataset_spec or meta.get("dataset_size") != dataset_size:
        raise EmbeddingError(
            f"embedding was made from dataset '{meta.get('dataset')}' with {meta.get('dataset_size')} images, "
            f"but the run's dataset is now '{dataset_spec}' with {dataset_size}: re-run `latentmap embed`"
        )
    if embedding.indices.size and (embedding.indices.min() < 0 or embedding.indices.max() >= dataset_size):
        raise EmbeddingError("embedding indices point outside the dataset: re-run `latentmap embed`")
    if d_latent is not None and embedding.codes.shape[1] != d_latent:
        raise EmbeddingError(
            f"embedding codes have {embedding.codes.shape[1]} dimensions but the run's code has {d_latent}: "
            "the run was retrained since; re-run `latentmap embed`"
        )


def check_weights(embedding: Embedding, weights_sha256: str) -> None:
    """The embedding's codes came from exactly these weights (not an earlier training)."""
    recorded = embedding.metadata.get("weights_sha256")
    if recorded != weights_sha256:
        why = "records no weights" if recorded is None else "was made from other weights (the run was retrained)"
        raise EmbeddingError(
            f"embedding {embedding.metadata.get('run_name', '')} {why}: its codes would be decoded by the wrong "
            "model; re-run `latentmap embed`"
        )


def params_json(params: EmbedParams) -> dict[str, Any]:
    return asdict(params)


# --------------------------------------------------------------------------- pipeline


@dataclass
class EmbedJob:
    run: str
    methods: list[str] = field(default_factory=lambda: list(METHODS))
    split: str = "train"
    max_points: int | None = None
    params: EmbedParams = field(default_factory=EmbedParams)
    map_size: int = 4096
    out_dir: str = "embeddings"
    projector_dir: str | None = None
    progress: bool = True  # bars on a terminal, nothing elsewhere
    data_dir: str | None = None
    fonts_dir: str | None = None
    cache_dir: str | None = None


def embed_run(job: EmbedJob, log: Any = print) -> list[Path]:
    """Encode the run's dataset, project with each method, write the files; returns paths."""
    from .atomic import ensure_writable_dir
    from .data import load_dataset
    from .images import save_png
    from .maps import render_map
    from .runs import load_run

    methods = check_methods(job.methods)
    if job.split not in ("train", "test", "all"):
        raise LatentmapError(f"unknown split '{job.split}': use train, test or all")
    if job.map_size < 256:
        raise LatentmapError("--map_size must be at least 256 pixels")
    if job.max_points is not None and job.max_points < 5:
        raise LatentmapError("--max_points must be at least 5")
    run = load_run(job.run)
    out_dir = ensure_writable_dir(job.out_dir)
    dataset = load_dataset(run.dataset_spec, data_dir=job.data_dir, fonts_dir=job.fonts_dir, cache_dir=job.cache_dir)
    rows = np.arange(len(dataset))
    if job.split != "all":
        rows = rows[dataset.is_test == (job.split == "test")]
    if job.max_points is not None and job.max_points < len(rows):
        rows = np.sort(np.random.default_rng(job.params.seed).choice(rows, size=job.max_points, replace=False))
    picked = dataset.subset(rows)
    images, labels = picked.images, picked.labels
    start = time.perf_counter()
    codes = run.encode(images)
    encode_seconds = time.perf_counter() - start
    log(
        f"encoded {len(rows):,} {job.split} images of {run.dataset_spec} with {run.kind} run {run.path.name} "
        f"({run.d_latent} dims, {encode_seconds:.1f} s)"
    )
    for method in methods:
        check_size(codes, method, job.params)
    k = shared_neighbours(len(codes), methods, job.params)
    if k:
        users = " and ".join(m for m in methods if m != "pca")
        log(f"neighbour graph: finding the {k} nearest of {len(codes):,} codes, once for {users} …")
    graph = shared_graph(codes, methods, job.params, progress=job.progress)
    if graph is not None:
        log(f"neighbour graph: {graph.method} search, {graph.seconds:.1f} s")
    written = []
    for method in methods:
        log(f"{method}: projecting {len(rows):,} codes …")
        used = graph if method != "pca" else None
        xy, seconds = project(codes, method, job.params, progress=job.progress, graph=used)
        scores = quality(codes, xy, labels, seed=job.params.seed)
        log(
            f"{method}: {seconds:.1f} s; 10-NN accuracy 2D {scores['knn10_accuracy_2d']:.3f} "
            f"(latent {scores['knn10_accuracy_latent']:.3f}), trustworthiness {scores['trustworthiness']:.3f}"
        )
        metadata = {
            "run": str(run.path.resolve()),
            "run_name": run.path.name,
            "weights_sha256": run.weights_sha256,
            "model_kind": run.kind,
            "dataset": run.dataset_spec,
            "dataset_size": len(dataset),
            "label_names": dataset.label_names,
            "method": method,
            "params": params_json(job.params),
            "split": job.split,
            "max_points": job.max_points,
            "seconds": {"encode": encode_seconds, method: seconds}
            | ({"neighbors": used.seconds} if used is not None else {}),
            "neighbors": used.method if used is not None else None,
            "quality": scores,
        }
        embedding = Embedding(xy, codes, rows.astype(np.int64), labels, job.split, metadata)
        stem = out_dir / f"{run.path.name}.embed-{method}"
        written.append(embedding.save(Path(f"{stem}.npz")))
        start = time.perf_counter()
        title = f"{run.path.name} · {method} · {len(rows):,} {job.split} images"
        picture = render_map(
            xy,
            images,
            labels,
            dataset.label_names,
            size=job.map_size,
            seed=job.params.seed,
            title=title,
            progress=job.progress,
        )
        map_path = Path(f"{stem}.map.png")
        save_png(picture, map_path)
        written.append(map_path)
        log(f"{method}: wrote {stem}.npz and {map_path.name} ({time.perf_counter() - start:.1f} s to render)")
    if job.projector_dir:
        from .projector import export_projector

        typefaces = picked.typefaces if picked.typeface_ids is not None else None
        written.append(export_projector(job.projector_dir, codes, labels, dataset.label_names, images, typefaces))
        log(f"projector files in {job.projector_dir}")
    return written
