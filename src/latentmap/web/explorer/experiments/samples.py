"""Samples: new images decoded from codes drawn from the run's sampler, each with its
nearest images on the map."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ....spaces import samples as sampling
from ...common import JudgedGrid
from ..spaces import Space, judged

router = APIRouter()
GRIDS = ("/api/spaces/{space_id}/samples",)


class SamplesRequest(BaseModel):
    sampler: Literal["prior", "gaussian", "gmm"] = Field("gmm", description="where the codes come from")
    rows: int = Field(4, ge=1, le=sampling.MAX_ROWS, description=f"grid rows of {sampling.COLUMNS} samples")
    seed: int = Field(0, ge=0, le=2**31 - 1)


class Samples(JudgedGrid):
    sampler: str
    nearest: list[list[int]] = Field(description="per sample, row-major: dataset rows of its nearest map images")
    distances: list[list[float]] = Field(description="their pixel distances (images in [0, 1])")


@router.post("/api/spaces/{space_id}/samples")
def samples(one: Space, request: SamplesRequest) -> Samples:
    """New images from the run's sampler (the first call fits it: seconds), each with its
    nearest images on the map."""
    grid, nearest, distances = sampling.draw_samples(one, request.sampler, request.rows, request.seed)
    return Samples(**judged(one, grid), sampler=request.sampler, nearest=nearest.tolist(), distances=distances.tolist())
