"""What every explorer route shares: the space a path names (a FastAPI dependency over the
spaces the app holds), bounded path and body types, and a judged grid's answer."""

from collections.abc import Callable
from typing import Annotated, Any

import numpy as np
from fastapi import Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from ...errors import RequestError
from ...spaces.space import LatentSpace
from ..common import JudgedGrid, image_grid

# Row indices are small non-negative integers; bounding them in the schema turns a huge
# number into a 422 before numpy could overflow on it.
Row = Annotated[int, Field(ge=0, le=2**31 - 1)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
SpaceIds = list[Annotated[int, Field(ge=0, le=63)]]  # the spaces a comparison asks for
SpaceId = Annotated[int, Path(ge=0, le=2**31 - 1, description="which embedding (0 = the first given)")]
Version = Annotated[str | None, Query(max_length=64, description="the map's info.version: cached under it")]


def space_at(spaces: list[LatentSpace], space_id: int) -> LatentSpace:
    if space_id >= len(spaces):
        raise HTTPException(404, f"no embedding {space_id}: this server has {len(spaces)}")
    return spaces[space_id]


def spaces_of(http: Request) -> list[LatentSpace]:
    spaces: list[LatentSpace] = http.app.state.spaces
    return spaces


def space(space_id: SpaceId, http: Request) -> LatentSpace:
    return space_at(spaces_of(http), space_id)


Space = Annotated[LatentSpace, Depends(space)]
Spaces = Annotated[list[LatentSpace], Depends(spaces_of)]


class SpaceGrid(JudgedGrid):
    space: int
    name: str
    kind: str


def judged(one: LatentSpace, grid: np.ndarray) -> dict[str, Any]:
    return {**image_grid(grid).model_dump(), "verdicts": one.verdicts(grid), "judge": one.judge_status()}


def same_dataset(spaces: list[LatentSpace], ids: list[int]) -> list[LatentSpace]:
    """The spaces ``ids`` name, refused unless they embed one dataset (picks are its rows)."""
    chosen = [space_at(spaces, k) for k in dict.fromkeys(ids)]
    datasets = {s.run.dataset_spec for s in chosen}
    if len(datasets) > 1:
        raise RequestError(f"spaces of different datasets are never compared: {', '.join(sorted(datasets))}")
    return chosen


def labelled(spaces: list[LatentSpace], one: LatentSpace, grid: np.ndarray) -> SpaceGrid:
    return SpaceGrid(**judged(one, grid), space=spaces.index(one), name=one.info["name"], kind=one.run.kind)


class Compared(BaseModel):
    grids: list[SpaceGrid]


def compared(spaces: list[LatentSpace], ids: list[int], grid_of: Callable[[LatentSpace], np.ndarray]) -> Compared:
    """The same picks (dataset rows) through each named space's model, one labelled grid each."""
    return Compared(grids=[labelled(spaces, one, grid_of(one)) for one in same_dataset(spaces, ids)])
