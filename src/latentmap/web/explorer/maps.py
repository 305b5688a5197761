"""The maps: the page, the spaces and their points and thumbnails, decoding codes and map
positions, the judge's validity map and nearest images."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from ...spaces import samples as sampling
from ...spaces.space import MAX_DECODE, LatentSpace
from ..common import STATIC, ImageGrid, image_grid
from .spaces import Finite, Space, Spaces, Version

router = APIRouter()
BINARY: dict[int | str, dict[str, Any]] = {200: {"content": {"application/octet-stream": {}}}}
PNG: dict[int | str, dict[str, Any]] = {200: {"content": {"image/png": {}}}}


class DecodeRequest(BaseModel):
    codes: list[list[Finite]] = Field(
        min_length=1, max_length=MAX_DECODE, description="latent codes, each of the space's d_latent numbers"
    )


class DecodeXYRequest(BaseModel):
    xy: list[tuple[Finite, Finite]] = Field(min_length=1, max_length=MAX_DECODE, description="map positions")


class DecodedXY(ImageGrid):
    codes: list[list[float]]
    method: str


class StartRequest(BaseModel):
    """An empty JSON object: starting work is a state-changing request (Origin-checked)."""


class Neighbours(BaseModel):
    index: int
    neighbours: list[int]
    distances: list[float]


def caching(space: LatentSpace, version: str | None) -> dict[str, str]:
    """Cached by this browser alone (``private``: a proxy in front of a token-protected app
    must not keep it) and only under the URL of this very map; any other URL is not kept,
    so a restarted server with another embedding is never drawn from an old cache."""
    if version == space.fingerprint:
        return {"Cache-Control": "private, max-age=3600"}
    return {"Cache-Control": "no-store"}


def describe(one: LatentSpace) -> dict[str, object]:
    extra = {
        "judge": one.judge_status(),
        "inverse": one.inverse.method,
        "samplers": sampling.offered(one.run),
        "version": one.fingerprint,  # ?v= of the points and atlas URLs: another map, other URLs
    }
    return {**one.info, **extra}


@router.get("/", include_in_schema=False)
def index(spaces: Spaces) -> FileResponse:
    typefaces = bool(spaces) and spaces[0].info.get("mode") == "typeface"
    return FileResponse(STATIC / ("typefaces.html" if typefaces else "explorer.html"))


@router.get("/api/spaces")
def list_spaces(spaces: Spaces) -> list[dict[str, object]]:
    return [describe(s) for s in spaces]


@router.get("/api/spaces/{space_id}/info")
def info(one: Space) -> dict[str, object]:
    return describe(one)


@router.get(
    "/api/spaces/{space_id}/points",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def points(one: Space, v: Version = None) -> Response:
    """Binary map data: xy float32, labels uint16, typeface int32, category int16 (see info.points_layout)."""
    return Response(one.points_blob(), media_type="application/octet-stream", headers=caching(one, v))


@router.get(
    "/api/spaces/{space_id}/atlas/{k}.png", response_class=Response, responses={200: {"content": {"image/png": {}}}}
)
def atlas(one: Space, k: Annotated[int, Path(ge=0, le=2**31 - 1)], v: Version = None) -> Response:
    """Thumbnails k*4096 .. k*4096+4095 in a 64-column sprite atlas."""
    return Response(one.atlas_png(k), media_type="image/png", headers=caching(one, v))


@router.post("/api/spaces/{space_id}/decode")
def decode(one: Space, request: DecodeRequest) -> ImageGrid:
    return image_grid(one.decode(request.codes)[None])


@router.post("/api/spaces/{space_id}/decode_xy")
def decode_xy(one: Space, request: DecodeXYRequest) -> DecodedXY:
    """Images decoded at map positions (exact for PCA, a smooth inverse for t-SNE/UMAP)."""
    images, codes = one.decode_xy(request.xy)
    return DecodedXY(**image_grid(images[None]).model_dump(), codes=codes.round(5).tolist(), method=one.inverse.method)


def validity_answer(status: str, value: Any) -> JSONResponse:
    if status == "ready":
        return JSONResponse({k: v for k, v in value.items() if k != "key"})
    if status == "computing":
        return JSONResponse({"status": "computing"}, status_code=202, headers={"Retry-After": "1"})
    if status == "failed":
        return JSONResponse({"status": "failed", "detail": f"the validity map failed: {value}"}, status_code=422)
    return JSONResponse({"status": "absent", "detail": "no validity map yet: POST here to compute it"}, 404)


VALIDITY_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "still computing"},
    404: {"description": "not computed yet (POST starts it)"},
    422: {"description": "no judge, or the computation failed (the message says why)"},
}


@router.get("/api/spaces/{space_id}/validity_map", responses=VALIDITY_RESPONSES)
def validity_map(one: Space) -> JSONResponse:
    """The judge's validity of decodes on a grid over the map; reading never starts work."""
    return validity_answer(*one.validity_map())


@router.post("/api/spaces/{space_id}/validity_map", responses=VALIDITY_RESPONSES)
def compute_validity_map(one: Space, request: StartRequest) -> JSONResponse:
    """Start computing the validity map (in the background) unless it is ready or under way."""
    return validity_answer(*one.validity_map(start=True))


@router.get("/api/spaces/{space_id}/neighbors")
def neighbors(
    one: Space, index: Annotated[int, Query(ge=0, le=2**31 - 1)], k: Annotated[int, Query(ge=1, le=100)] = 10
) -> Neighbours:
    rows, distances = one.neighbours(index, k)
    return Neighbours(index=index, neighbours=rows.tolist(), distances=distances.tolist())
