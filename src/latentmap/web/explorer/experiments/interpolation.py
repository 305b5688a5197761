"""Interpolation: per source, the source, 7 decodes towards the target, the target and 10%
and 50% beyond; in one space, or the same dataset rows through several spaces' models."""

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ....spaces.space import MAX_SOURCES
from ...common import JudgedGrid
from ..spaces import Compared, Row, Space, SpaceIds, Spaces, compared, judged

router = APIRouter()
GRIDS = ("/api/spaces/{space_id}/interpolate", "/api/compare/interpolate")


class InterpolateRequest(BaseModel):
    sources: list[Row] = Field(min_length=1, max_length=MAX_SOURCES, description="indices of the source points")
    target: Row = Field(description="index of the target point")
    mode: Literal["linear", "slerp"] = "linear"


class CompareInterpolateRequest(BaseModel):
    spaces: SpaceIds = Field(min_length=1, max_length=4)
    sources: list[Row] = Field(min_length=1, max_length=MAX_SOURCES, description="dataset rows of the sources")
    target: Row = Field(description="dataset row of the target")
    mode: Literal["linear", "slerp"] = "linear"


def from_picks(picks: list[int], target: int | None, b: int | None) -> tuple[str, dict[str, Any]] | None:
    """The request the notebook widget's picks make (its ``result()``): sources and a target."""
    if not picks or target is None:
        return None
    return "/api/compare/interpolate", {"spaces": [0], "sources": picks, "target": target}


@router.post("/api/spaces/{space_id}/interpolate")
def interpolate(one: Space, request: InterpolateRequest) -> JudgedGrid:
    """Per source: the source, 7 decodes towards the target, the target, 10% and 50% beyond."""
    return JudgedGrid(**judged(one, one.interpolate(request.sources, request.target, request.mode)))


@router.post("/api/compare/interpolate")
def compare_interpolate(spaces: Spaces, request: CompareInterpolateRequest) -> Compared:
    """The same picks (dataset rows) through each space's model, one grid per space."""
    return compared(spaces, request.spaces, lambda s: s.interpolate_rows(request.sources, request.target, request.mode))
