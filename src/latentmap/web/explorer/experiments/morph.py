"""Typeface morph (TMNIST): each character from typeface A to typeface B in 7 steps."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ...common import JudgedGrid
from ..spaces import Row, Space, judged

router = APIRouter()
GRIDS = ("/api/spaces/{space_id}/morph",)


class MorphRequest(BaseModel):
    a: Row = Field(description="a dataset row of typeface A")
    b: Row = Field(description="a dataset row of typeface B")
    text: str = Field("", max_length=64, description="characters to morph (empty: the whole charset)")


class Morph(JudgedGrid):
    chars: list[str]
    shared: list[bool]


@router.post("/api/spaces/{space_id}/morph")
def morph(one: Space, request: MorphRequest) -> Morph:
    """Each character from typeface A to typeface B in 7 steps (TMNIST)."""
    grid, chars, shared = one.morph(request.a, request.b, request.text)
    return Morph(**judged(one, grid), chars=chars, shared=shared.tolist())
