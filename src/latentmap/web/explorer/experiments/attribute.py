"""Attribute vectors: TMNIST bolder / italic / serif (from the manifest's families) or
class differences, added to picked images' codes at a chosen strength."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ....errors import RequestError
from ....spaces.space import MAX_SOURCES, MAX_STRENGTH
from ...common import JudgedGrid
from ..spaces import Row, Space, judged

router = APIRouter()
GRIDS = ("/api/spaces/{space_id}/attribute",)


class AttributeRequest(BaseModel):
    rows: list[Row] = Field(min_length=1, max_length=MAX_SOURCES, description="dataset rows of the picked images")
    name: str = Field(min_length=1, max_length=40, description="bolder, italic, serif, or class:A-B")
    strength: float = Field(1.0, ge=-MAX_STRENGTH, le=MAX_STRENGTH, allow_inf_nan=False)


class Applied(JudgedGrid):
    name: str
    description: str
    pairs: int


@router.get("/api/spaces/{space_id}/attributes")
def attributes(one: Space) -> dict[str, object]:
    """Attribute vectors on offer: TMNIST bolder/italic/serif, or class differences."""
    if one.dataset.typeface_ids is None:
        return {"kind": "class", "classes": one.info["label_names"], "attributes": []}
    if not one.attributes:
        raise RequestError(
            "no attribute vectors: this TMNIST lacks the weight, style and category columns (manifest.csv)"
        )
    offered = [{"name": a.name, "description": a.description, "pairs": a.pairs} for a in one.attributes.values()]
    return {"kind": "typeface", "attributes": offered}


@router.post("/api/spaces/{space_id}/attribute")
def attribute(one: Space, request: AttributeRequest) -> Applied:
    """Per picked image: the image, its reconstruction, and code + strength x vector decoded."""
    grid, applied = one.apply_attribute(request.rows, request.name, request.strength)
    return Applied(**judged(one, grid), name=applied.name, description=applied.description, pairs=applied.pairs)
