"""Analogy: per C image, C and D = decode(code(C) + code(B) - code(A)); in one space, or
the same dataset rows through several spaces' models."""

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ....spaces.space import MAX_ANALOGY_ROWS
from ...common import JudgedGrid
from ..spaces import Compared, Row, Space, SpaceIds, Spaces, compared, judged

router = APIRouter()
GRIDS = ("/api/spaces/{space_id}/analogy", "/api/compare/analogy")


def from_picks(picks: list[int], target: int | None, b: int | None) -> tuple[str, dict[str, Any]] | None:
    """The request the notebook widget's picks make: the C images, A (its target) and B."""
    if not picks or target is None or b is None:
        return None
    return "/api/compare/analogy", {"spaces": [0], "c": picks, "a": target, "b": b}


class AnalogyRequest(BaseModel):
    c: list[Row] = Field(min_length=1, max_length=MAX_ANALOGY_ROWS, description="indices of the C points")
    a: Row
    b: Row


class CompareAnalogyRequest(BaseModel):
    spaces: SpaceIds = Field(min_length=1, max_length=4)
    c: list[Row] = Field(min_length=1, max_length=MAX_ANALOGY_ROWS, description="dataset rows of the C images")
    a: Row
    b: Row


@router.post("/api/spaces/{space_id}/analogy")
def analogy(one: Space, request: AnalogyRequest) -> JudgedGrid:
    """Per C: C and D = decode(code(C) + code(B) - code(A))."""
    return JudgedGrid(**judged(one, one.analogy(request.c, request.a, request.b)))


@router.post("/api/compare/analogy")
def compare_analogy(spaces: Spaces, request: CompareAnalogyRequest) -> Compared:
    """The same picks (dataset rows) through each space's model, one grid per space."""
    return compared(spaces, request.spaces, lambda s: s.analogy_rows(request.c, request.a, request.b))
