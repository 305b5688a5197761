"""Open an embedding file as the explorer's space: a glyph map (:class:`LatentSpace`) or a
typeface run's map of typefaces (:class:`TypefaceSpace`), as its metadata says."""

import os
from typing import TYPE_CHECKING, Any

from .opening import open_embedding
from .space import LatentSpace
from .typeface_space import TypefaceSpace

if TYPE_CHECKING:
    from ..train.run import Run


def load_space(
    path: str | os.PathLike[str],
    data_dir: str | None = None,
    fonts_dir: str | None = None,
    cache_dir: str | None = None,
    dataset: Any = None,
    judge_slot: Any = None,
    run: "Run | None" = None,
) -> LatentSpace:
    """``run``: the run the embedding was made from, when it cannot be loaded from its
    directory (a model wrapped in Python)."""
    path, embedding, run, dataset = open_embedding(path, run, dataset, data_dir, fonts_dir, cache_dir)
    kind = TypefaceSpace if embedding.metadata.get("points") == "typefaces" else LatentSpace
    space = kind.from_embedding(path, embedding, run, dataset)
    space.judge_slot = judge_slot
    return space


def load_spaces(
    embeddings: list[str],
    data_dir: str | None,
    fonts_dir: str | None,
    cache_dir: str | None,
    judge: bool = True,
    log: Any = print,
    run: "Run | None" = None,
) -> list[LatentSpace]:
    """The embeddings as LatentSpaces; spaces of one dataset share it and its judge (loaded
    from the cache, or trained in the background while the app already serves). ``run``: as
    for :func:`load_space`."""
    from ..data.sources import DataPaths
    from ..errors import LatentmapError
    from ..quality.judge import JudgeSlot

    cache = DataPaths.resolve(data_dir, fonts_dir, cache_dir).cache
    shared: dict[str, tuple[Any, JudgeSlot | None]] = {}
    spaces = []
    for path in embeddings:
        space = load_space(path, data_dir, fonts_dir, cache_dir, run=run)
        spec = space.run.dataset_spec
        if spec not in shared:
            slot = JudgeSlot.for_dataset(space.dataset, cache) if judge else None
            shared[spec] = (space.dataset, slot)
        space.dataset, space.judge_slot = shared[spec]
        spaces.append(space)
        log(f"loaded {space.info['name']}: {space.count:,} points, {space.info['kind']} run {space.info['run']}")
    modes = {space.info.get("mode", "glyph") for space in spaces}
    if len(modes) > 1:
        raise LatentmapError(
            "typeface maps (from `latentmap train typeface` runs) and glyph maps are served apart: "
            "start one `latentmap explore` for each, on two --port numbers"
        )
    for spec, (_, slot) in shared.items():
        if slot is not None:
            log(f"judge for {spec}: {slot.status}")
    return spaces
