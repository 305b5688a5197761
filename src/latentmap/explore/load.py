"""Open an embedding file as the explorer's space: a glyph map (:class:`LatentSpace`) or a
typeface run's map of typefaces (:class:`TypefaceSpace`), as its metadata says."""

import os
from pathlib import Path
from typing import Any

from ..embed.file import load_embedding
from .space import LatentSpace
from .typeface_space import TypefaceSpace


def load_space(
    path: str | os.PathLike[str],
    data_dir: str | None = None,
    fonts_dir: str | None = None,
    cache_dir: str | None = None,
    dataset: Any = None,
    judge_slot: Any = None,
) -> LatentSpace:
    from ..data import load_dataset
    from ..train.run import load_run

    path = Path(path)
    embedding = load_embedding(path)
    if embedding.metadata.get("points") != "typefaces":
        return LatentSpace.load(path, data_dir, fonts_dir, cache_dir, dataset, judge_slot)
    run = load_run(embedding.metadata["run"])
    if dataset is None or dataset.spec != run.dataset_spec:
        dataset = load_dataset(run.dataset_spec, data_dir=data_dir, fonts_dir=fonts_dir, cache_dir=cache_dir)
    space = TypefaceSpace.from_embedding(path, embedding, run, dataset)
    space.judge_slot = judge_slot
    return space
