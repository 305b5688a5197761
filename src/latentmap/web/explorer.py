"""The latent explorer's HTTP API: thin routes over :class:`latentmap.latent_ops.LatentSpace`.

Several embeddings can be served at once (``/api/spaces/{space}/...``) so the page can
switch between, say, a VAE and an AE of the same data.
"""

from typing import Annotated, Literal

from fastapi import FastAPI, HTTPException, Path, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from ..latent_ops import MAX_ANALOGY_ROWS, MAX_DECODE, MAX_SOURCES, LatentSpace
from .common import STATIC, ImageGrid, image_grid, install_common
from .security import Policy

# Row indices are small non-negative integers; bounding them in the schema turns a huge
# number into a 422 before numpy could overflow on it.
Row = Annotated[int, Field(ge=0, le=2**31 - 1)]


class InterpolateRequest(BaseModel):
    sources: list[Row] = Field(min_length=1, max_length=MAX_SOURCES, description="indices of the source points")
    target: Row = Field(description="index of the target point")
    mode: Literal["linear", "slerp"] = "linear"


class AnalogyRequest(BaseModel):
    c: list[Row] = Field(min_length=1, max_length=MAX_ANALOGY_ROWS, description="indices of the C points")
    a: Row
    b: Row


class DecodeRequest(BaseModel):
    codes: list[list[Annotated[float, Field(allow_inf_nan=False)]]] = Field(
        min_length=1, max_length=MAX_DECODE, description="latent codes, each of the space's d_latent numbers"
    )


class Neighbours(BaseModel):
    index: int
    neighbours: list[int]
    distances: list[float]


SpaceId = Annotated[int, Path(ge=0, le=2**31 - 1, description="which embedding (0 = the first given)")]


def create_app(spaces: list[LatentSpace], policy: Policy | None = None) -> FastAPI:
    app = FastAPI(title="latentmap explorer", description="Explore the latent space of a trained autoencoder.")
    install_common(app, policy)

    def space(space_id: int) -> LatentSpace:
        if space_id >= len(spaces):
            raise HTTPException(404, f"no embedding {space_id}: this server has {len(spaces)}")
        return spaces[space_id]

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "explorer.html")

    @app.get("/api/spaces")
    def list_spaces() -> list[dict[str, object]]:
        return [s.info for s in spaces]

    @app.get("/api/spaces/{space_id}/info")
    def info(space_id: SpaceId) -> dict[str, object]:
        return space(space_id).info

    @app.get(
        "/api/spaces/{space_id}/points",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    def points(space_id: SpaceId) -> Response:
        """Binary map data: xy float32, labels uint16, typeface int32, category int16 (see info.points_layout)."""
        return Response(
            space(space_id).points_blob(),
            media_type="application/octet-stream",
            headers={"Cache-Control": "max-age=3600"},
        )

    @app.get(
        "/api/spaces/{space_id}/atlas/{k}.png", response_class=Response, responses={200: {"content": {"image/png": {}}}}
    )
    def atlas(space_id: SpaceId, k: Annotated[int, Path(ge=0, le=2**31 - 1)]) -> Response:
        """Thumbnails k*4096 .. k*4096+4095 in a 64-column sprite atlas."""
        return Response(space(space_id).atlas_png(k), media_type="image/png", headers={"Cache-Control": "max-age=3600"})

    @app.post("/api/spaces/{space_id}/decode")
    def decode(space_id: SpaceId, request: DecodeRequest) -> ImageGrid:
        images = space(space_id).decode(request.codes)
        return image_grid(images[None])

    @app.post("/api/spaces/{space_id}/interpolate")
    def interpolate(space_id: SpaceId, request: InterpolateRequest) -> ImageGrid:
        """Per source: the source, 7 decodes towards the target, the target, 10% and 50% beyond."""
        return image_grid(space(space_id).interpolate(request.sources, request.target, request.mode))

    @app.post("/api/spaces/{space_id}/analogy")
    def analogy(space_id: SpaceId, request: AnalogyRequest) -> ImageGrid:
        """Per C: C and D = decode(code(C) + code(B) - code(A))."""
        return image_grid(space(space_id).analogy(request.c, request.a, request.b))

    @app.get("/api/spaces/{space_id}/neighbors")
    def neighbors(
        space_id: SpaceId, index: Annotated[int, Query(ge=0, le=2**31 - 1)], k: Annotated[int, Query(ge=1, le=100)] = 10
    ) -> Neighbours:
        rows, distances = space(space_id).neighbours(index, k)
        return Neighbours(index=index, neighbours=rows.tolist(), distances=distances.tolist())

    return app
