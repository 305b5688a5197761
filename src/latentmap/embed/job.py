"""``latentmap embed``: encode a run's dataset, project the codes with each method, and
write the embedding files, their large maps and (optionally) TensorBoard projector files.
"""

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import LatentmapError
from .file import Embedding, EmbeddingError, load_embedding
from .methods import (
    METHODS,
    PLANE,
    EmbedParams,
    check_methods,
    check_size,
    params_json,
    project,
    quality,
    shared_graph,
    shared_neighbours,
)


@dataclass
class EmbedJob:
    run: Any  # a run directory, or a loaded run (a model wrapped with latentmap.wrap_model)
    methods: list[str] = field(default_factory=lambda: list(METHODS))
    split: str = "train"
    max_points: int | None = None
    params: EmbedParams = field(default_factory=EmbedParams)
    map_size: int = 4096
    out_dir: str = "embeddings"
    projector_dir: str | None = None
    progress: bool = True  # bars on a terminal, nothing elsewhere
    overwrite: bool = False  # replace embeddings of other weights or parameters at the same path
    thumbnail: str | None = None  # typeface runs: the character each typeface is drawn as
    data_dir: str | None = None
    fonts_dir: str | None = None
    cache_dir: str | None = None


def describe(meta: dict[str, Any]) -> str:
    points = "all" if meta.get("max_points") is None else f"{meta['max_points']:,}"
    params = meta.get("params", {})
    unit = meta.get("points", "images")
    return f"{meta.get('method')} of {points} {meta.get('split')} {unit} (seed {params.get('seed')})"


def existing(stem: Path, wanted: dict[str, Any], overwrite: bool) -> Embedding | None:
    """The embedding already at ``stem`` when it holds exactly what is asked for (same
    weights, data, split, subsample and parameters) and its map exists; None when there is
    none (or ``overwrite``). Anything else there is refused: it would be lost silently."""
    npz = Path(f"{stem}.npz")
    if overwrite or not npz.exists():
        return None
    try:
        held = load_embedding(npz)
    except EmbeddingError as exc:
        raise LatentmapError(f"{npz} exists but is not a readable embedding ({exc}): add --overwrite") from None
    same = all(held.metadata.get(k) == v for k, v in wanted.items())
    if same and Path(f"{stem}.map.png").exists():
        return held
    why = (
        "other weights (the run was retrained)"
        if held.metadata.get("weights_sha256") != wanted["weights_sha256"]
        else describe(held.metadata)
    )
    raise LatentmapError(
        f"{npz} already holds an embedding of {why}: add --overwrite to replace it, or --out_dir for another folder"
    )


def embed_run(job: EmbedJob, log: Any = print) -> list[Path]:
    """Encode the run's dataset, project with each method, write the files; returns paths."""
    from ..atomic import ensure_writable_dir
    from ..data import load_dataset
    from ..train.run import load_run
    from ..train.typeface import TypefaceRun
    from .typefaces import thumbnail_char

    methods = check_job(job)
    run = load_run(job.run) if isinstance(job.run, (str, os.PathLike)) else job.run
    if run.d_latent == 2 and PLANE not in methods:
        methods = [PLANE, *methods]  # the code plane itself: the map to explore a 2-dim space on
    out_dir = ensure_writable_dir(job.out_dir)
    stems = {m: out_dir / f"{run.path.name}.embed-{m}" for m in methods}
    wanted = {
        "weights_sha256": run.weights_sha256,
        "split": job.split,
        "max_points": job.max_points,
        "params": params_json(job.params),
    }
    if isinstance(run, TypefaceRun):  # another thumbnail character is another map picture
        wanted["thumbnail"] = job.thumbnail or thumbnail_char(run.chars)
    kept = {m: e for m in methods if (e := existing(stems[m], {**wanted, "method": m}, job.overwrite)) is not None}
    todo = [m for m in methods if m not in kept]
    dataset = load_dataset(run.dataset_spec, data_dir=job.data_dir, fonts_dir=job.fonts_dir, cache_dir=job.cache_dir)
    points = encoded_points(run, dataset, job)
    log(
        f"encoded {len(points.rows):,} {job.split} {points.unit} of {run.dataset_spec} with {run.kind} run "
        f"{run.path.name} ({run.d_latent} dims, {points.seconds:.1f} s)"
    )
    graph = neighbour_graph(points.codes, todo, job, log)
    written = []
    for method in methods:
        if method in kept:
            log(f"{method}: {stems[method]}.npz already holds this embedding (same weights and parameters): kept")
            written += [Path(f"{stems[method]}.npz"), Path(f"{stems[method]}.map.png")]
            continue
        written += write_method(run, points, method, stems[method], graph, job, log)
    if job.projector_dir:
        from .projector import export_projector

        written.append(
            export_projector(
                job.projector_dir, points.codes, points.labels, points.label_names, points.images, points.typefaces
            )
        )
        log(f"projector files in {job.projector_dir}")
    return written


def check_job(job: EmbedJob) -> list[str]:
    """The job's methods, its other settings checked (one line for a bad one)."""
    methods = check_methods(job.methods)
    if job.split not in ("train", "test", "all"):
        raise LatentmapError(f"unknown split '{job.split}': use train, test or all")
    if job.map_size < 256:
        raise LatentmapError("--map_size must be at least 256 pixels")
    if job.max_points is not None and job.max_points < 5:
        raise LatentmapError("--max_points must be at least 5")
    return methods


@dataclass
class Encoded:
    """The points of a map: dataset rows (or typefaces) and their codes, labels and images."""

    rows: np.ndarray
    codes: np.ndarray
    labels: np.ndarray
    images: np.ndarray
    label_names: list[str]
    size: int  # of the dataset (images, or typefaces)
    unit: str  # "images" | "typefaces"
    extra: dict[str, Any]  # what the embedding's metadata adds for these points
    typefaces: np.ndarray | None  # each point's typeface, for the projector
    seconds: float = 0.0


def encoded_points(run: Any, dataset: Any, job: EmbedJob) -> Encoded:
    """The job's split of the dataset (a seeded subsample of ``max_points``), encoded; a
    typeface run's points are its typefaces."""
    from ..train.typeface import TypefaceRun
    from .typefaces import typeface_points

    start = time.perf_counter()
    if isinstance(run, TypefaceRun):  # one point per typeface
        found = typeface_points(run, dataset, job.split, job.max_points, job.params.seed, job.thumbnail)
        extra = {"points": "typefaces", "thumbnail": found.thumbnail, "chars": run.chars}
        encoded = Encoded(
            found.rows,
            found.codes,
            found.labels,
            found.images,
            found.label_names,
            found.count,
            "typefaces",
            extra,
            None,
        )
    else:
        rows = np.arange(len(dataset))
        if job.split != "all":
            rows = rows[dataset.is_test == (job.split == "test")]
        if job.max_points is not None and job.max_points < len(rows):
            rows = np.sort(np.random.default_rng(job.params.seed).choice(rows, size=job.max_points, replace=False))
        picked = dataset.subset(rows)
        typefaces = picked.typefaces if picked.typeface_ids is not None else None
        codes = run.encode(picked.images)
        encoded = Encoded(
            rows, codes, picked.labels, picked.images, dataset.label_names, len(dataset), "images", {}, typefaces
        )
    encoded.seconds = time.perf_counter() - start
    return encoded


def neighbour_graph(codes: np.ndarray, todo: list[str], job: EmbedJob, log: Any) -> Any:
    """The nearest-neighbour graph t-SNE and UMAP share, found once (None when no method needs it)."""
    for method in todo:
        check_size(codes, method, job.params)
    k = shared_neighbours(len(codes), todo, job.params)
    if k:
        users = " and ".join(m for m in todo if m != "pca")
        log(f"neighbour graph: finding the {k} nearest of {len(codes):,} codes, once for {users} …")
    graph = shared_graph(codes, todo, job.params, progress=job.progress) if todo else None
    if graph is not None:
        log(f"neighbour graph: {graph.method} search, {graph.seconds:.1f} s")
    return graph


def write_method(run: Any, points: Encoded, method: str, stem: Path, graph: Any, job: EmbedJob, log: Any) -> list[Path]:
    """One method's projection, its embedding file and its map picture."""
    from ..images import save_png
    from .maps import render_map

    log(f"{method}: projecting {len(points.rows):,} codes …")
    used = graph if method not in ("pca", PLANE) else None
    xy, seconds = project(points.codes, method, job.params, progress=job.progress, graph=used)
    scores = quality(points.codes, xy, points.labels, seed=job.params.seed)
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
        "dataset_size": points.size,
        "label_names": points.label_names,
        "method": method,
        "params": params_json(job.params),
        "split": job.split,
        "max_points": job.max_points,
        "seconds": {"encode": points.seconds, method: seconds}
        | ({"neighbors": used.seconds} if used is not None else {}),
        "neighbors": used.method if used is not None else None,
        "quality": scores,
        **points.extra,
    }
    embedding = Embedding(xy, points.codes, points.rows.astype(np.int64), points.labels, job.split, metadata)
    written = [embedding.save(Path(f"{stem}.npz"))]
    start = time.perf_counter()
    title = f"{run.path.name} · {method} · {len(points.rows):,} {job.split} {points.unit}"
    picture = render_map(
        xy,
        points.images,
        points.labels,
        points.label_names,
        size=job.map_size,
        seed=job.params.seed,
        title=title,
        progress=job.progress,
    )
    map_path = Path(f"{stem}.map.png")
    save_png(picture, map_path)
    log(f"{method}: wrote {stem}.npz and {map_path.name} ({time.perf_counter() - start:.1f} s to render)")
    return [*written, map_path]
