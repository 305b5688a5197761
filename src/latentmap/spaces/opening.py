"""What every map's space reads first: the embedding file (once), the run it was made from
and its dataset, and the facts about the map every page shows."""

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..embed.file import Embedding, load_embedding
from .attributes import has_font_metadata
from .points import ATLAS_COLUMNS, ATLAS_SIZE, points_layout

if TYPE_CHECKING:
    from ..data import Dataset
    from ..train.run import Run


def map_info(path: Path, embedding: Any, run: "Run", dataset: "Dataset") -> dict[str, Any]:
    """What the page needs to know about any map: names, sizes, the atlas and points layout."""
    n = len(embedding.indices)
    meta = embedding.metadata
    return {
        "name": path.name.removesuffix(".npz"),
        "run": meta.get("run_name", Path(meta["run"]).name),
        "dataset": run.dataset_spec,
        "method": meta.get("method", ""),
        "kind": run.kind,
        "d_latent": run.d_latent,
        "count": n,
        "split": embedding.split,
        "atlas": {"columns": ATLAS_COLUMNS, "per_atlas": ATLAS_SIZE, "thumb": 28, "count": -(-n // ATLAS_SIZE)},
        "quality": meta.get("quality", {}),
        "points_layout": points_layout(n),
        "typeface_metadata": has_font_metadata(dataset),
    }


def open_embedding(
    path: str | os.PathLike[str],
    run: "Run | None",
    dataset: "Dataset | None",
    data_dir: str | None = None,
    fonts_dir: str | None = None,
    cache_dir: str | None = None,
) -> tuple[Path, Embedding, "Run", "Dataset"]:
    """An embedding file, read once, with its run and dataset (loaded unless given: a wrapped
    model has no directory to load its run from; spaces of one dataset share it)."""
    from ..data import load_dataset
    from ..train.run import load_run

    embedding = load_embedding(path)
    run = run if run is not None else load_run(embedding.metadata["run"])
    if dataset is None or dataset.spec != run.dataset_spec:
        dataset = load_dataset(run.dataset_spec, data_dir=data_dir, fonts_dir=fonts_dir, cache_dir=cache_dir)
    return Path(path), embedding, run, dataset
