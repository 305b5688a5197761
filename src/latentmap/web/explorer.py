"""The latent explorer's HTTP API: thin routes over :class:`latentmap.spaces.LatentSpace`.

Several embeddings can be served at once (``/api/spaces/{space}/...``) so the page can
switch between, say, a VAE and an AE of the same data.
"""

from typing import Annotated, Any, Literal

import numpy as np
from fastapi import FastAPI, HTTPException, Path, Query
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from ..errors import RequestError
from ..spaces import samples as sampling
from ..spaces.space import MAX_ANALOGY_ROWS, MAX_DECODE, MAX_SOURCES, MAX_STRENGTH, LatentSpace
from .common import STATIC, ImageGrid, JudgedGrid, image_grid, new_app
from .security import Policy
from .typeface_routes import add_typeface_routes

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


Finite = Annotated[float, Field(allow_inf_nan=False)]


class CompareInterpolateRequest(BaseModel):
    spaces: list[Annotated[int, Field(ge=0, le=63)]] = Field(min_length=1, max_length=4)
    sources: list[Row] = Field(min_length=1, max_length=MAX_SOURCES, description="dataset rows of the sources")
    target: Row = Field(description="dataset row of the target")
    mode: Literal["linear", "slerp"] = "linear"


class CompareAnalogyRequest(BaseModel):
    spaces: list[Annotated[int, Field(ge=0, le=63)]] = Field(min_length=1, max_length=4)
    c: list[Row] = Field(min_length=1, max_length=MAX_ANALOGY_ROWS, description="dataset rows of the C images")
    a: Row
    b: Row


class SpaceGrid(JudgedGrid):
    space: int
    name: str
    kind: str


class Compared(BaseModel):
    grids: list[SpaceGrid]


class DecodeXYRequest(BaseModel):
    xy: list[tuple[Finite, Finite]] = Field(min_length=1, max_length=MAX_DECODE, description="map positions")


class DecodedXY(ImageGrid):
    codes: list[list[float]]
    method: str


class StartRequest(BaseModel):
    """An empty JSON object: starting work is a state-changing request (Origin-checked)."""


class MorphRequest(BaseModel):
    a: Row = Field(description="a dataset row of typeface A")
    b: Row = Field(description="a dataset row of typeface B")
    text: str = Field("", max_length=64, description="characters to morph (empty: the whole charset)")


class Morph(JudgedGrid):
    chars: list[str]
    shared: list[bool]


class AttributeRequest(BaseModel):
    rows: list[Row] = Field(min_length=1, max_length=MAX_SOURCES, description="dataset rows of the picked images")
    name: str = Field(min_length=1, max_length=40, description="bolder, italic, serif, or class:A-B")
    strength: float = Field(1.0, ge=-MAX_STRENGTH, le=MAX_STRENGTH, allow_inf_nan=False)


class Applied(JudgedGrid):
    name: str
    description: str
    pairs: int


class Neighbours(BaseModel):
    index: int
    neighbours: list[int]
    distances: list[float]


class SamplesRequest(BaseModel):
    sampler: Literal["prior", "gaussian", "gmm"] = Field("gmm", description="where the codes come from")
    rows: int = Field(4, ge=1, le=sampling.MAX_ROWS, description=f"grid rows of {sampling.COLUMNS} samples")
    seed: int = Field(0, ge=0, le=2**31 - 1)


class Samples(JudgedGrid):
    sampler: str
    nearest: list[list[int]] = Field(description="per sample, row-major: dataset rows of its nearest map images")
    distances: list[list[float]] = Field(description="their pixel distances (images in [0, 1])")


SpaceId = Annotated[int, Path(ge=0, le=2**31 - 1, description="which embedding (0 = the first given)")]


Version = Annotated[str | None, Query(max_length=64, description="the map's info.version: cached under it")]


def caching(space: LatentSpace, version: str | None) -> dict[str, str]:
    """Cached by this browser alone (``private``: a proxy in front of a token-protected app
    must not keep it) and only under the URL of this very map; any other URL is not kept,
    so a restarted server with another embedding is never drawn from an old cache."""
    if version == space.fingerprint:
        return {"Cache-Control": "private, max-age=3600"}
    return {"Cache-Control": "no-store"}


def create_app(spaces: list[LatentSpace], policy: Policy | None = None) -> FastAPI:
    app = new_app("latentmap explorer", "Explore the latent space of a trained autoencoder.", policy)
    for one in spaces:
        one.prepare()  # heavy derived data now, in the background: no GET ever starts it

    def space(space_id: int) -> LatentSpace:
        if space_id >= len(spaces):
            raise HTTPException(404, f"no embedding {space_id}: this server has {len(spaces)}")
        return spaces[space_id]

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        typefaces = bool(spaces) and spaces[0].info.get("mode") == "typeface"
        return FileResponse(STATIC / ("typefaces.html" if typefaces else "explorer.html"))

    def describe(one: LatentSpace) -> dict[str, object]:
        extra = {
            "judge": one.judge_status(),
            "inverse": one.inverse.method,
            "samplers": sampling.offered(one.run),
            "version": one.fingerprint,  # ?v= of the points and atlas URLs: another map, other URLs
        }
        return {**one.info, **extra}

    @app.get("/api/spaces")
    def list_spaces() -> list[dict[str, object]]:
        return [describe(s) for s in spaces]

    @app.get("/api/spaces/{space_id}/info")
    def info(space_id: SpaceId) -> dict[str, object]:
        return describe(space(space_id))

    @app.get(
        "/api/spaces/{space_id}/points",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    def points(space_id: SpaceId, v: Version = None) -> Response:
        """Binary map data: xy float32, labels uint16, typeface int32, category int16 (see info.points_layout)."""
        one = space(space_id)
        return Response(one.points_blob(), media_type="application/octet-stream", headers=caching(one, v))

    @app.get(
        "/api/spaces/{space_id}/atlas/{k}.png", response_class=Response, responses={200: {"content": {"image/png": {}}}}
    )
    def atlas(space_id: SpaceId, k: Annotated[int, Path(ge=0, le=2**31 - 1)], v: Version = None) -> Response:
        """Thumbnails k*4096 .. k*4096+4095 in a 64-column sprite atlas."""
        one = space(space_id)
        return Response(one.atlas_png(k), media_type="image/png", headers=caching(one, v))

    @app.post("/api/spaces/{space_id}/decode")
    def decode(space_id: SpaceId, request: DecodeRequest) -> ImageGrid:
        images = space(space_id).decode(request.codes)
        return image_grid(images[None])

    def judged(one: LatentSpace, grid: np.ndarray) -> dict[str, Any]:
        return {**image_grid(grid).model_dump(), "verdicts": one.verdicts(grid), "judge": one.judge_status()}

    @app.post("/api/spaces/{space_id}/interpolate")
    def interpolate(space_id: SpaceId, request: InterpolateRequest) -> JudgedGrid:
        """Per source: the source, 7 decodes towards the target, the target, 10% and 50% beyond."""
        one = space(space_id)
        return JudgedGrid(**judged(one, one.interpolate(request.sources, request.target, request.mode)))

    @app.post("/api/spaces/{space_id}/analogy")
    def analogy(space_id: SpaceId, request: AnalogyRequest) -> JudgedGrid:
        """Per C: C and D = decode(code(C) + code(B) - code(A))."""
        one = space(space_id)
        return JudgedGrid(**judged(one, one.analogy(request.c, request.a, request.b)))

    def same_dataset(ids: list[int]) -> list[LatentSpace]:
        chosen = [space(k) for k in dict.fromkeys(ids)]
        datasets = {s.run.dataset_spec for s in chosen}
        if len(datasets) > 1:
            raise RequestError(f"spaces of different datasets are never compared: {', '.join(sorted(datasets))}")
        return chosen

    def labelled(one: LatentSpace, grid: np.ndarray) -> SpaceGrid:
        return SpaceGrid(**judged(one, grid), space=spaces.index(one), name=one.info["name"], kind=one.run.kind)

    @app.post("/api/compare/interpolate")
    def compare_interpolate(request: CompareInterpolateRequest) -> Compared:
        """The same picks (dataset rows) through each space's model, one grid per space."""
        chosen = same_dataset(request.spaces)
        return Compared(
            grids=[labelled(s, s.interpolate_rows(request.sources, request.target, request.mode)) for s in chosen]
        )

    @app.post("/api/compare/analogy")
    def compare_analogy(request: CompareAnalogyRequest) -> Compared:
        chosen = same_dataset(request.spaces)
        return Compared(grids=[labelled(s, s.analogy_rows(request.c, request.a, request.b)) for s in chosen])

    @app.post("/api/spaces/{space_id}/decode_xy")
    def decode_xy(space_id: SpaceId, request: DecodeXYRequest) -> DecodedXY:
        """Images decoded at map positions (exact for PCA, a smooth inverse for t-SNE/UMAP)."""
        one = space(space_id)
        images, codes = one.decode_xy(request.xy)
        return DecodedXY(
            **image_grid(images[None]).model_dump(), codes=codes.round(5).tolist(), method=one.inverse.method
        )

    def validity_answer(status: str, value: Any) -> JSONResponse:
        if status == "ready":
            return JSONResponse({k: v for k, v in value.items() if k != "key"})
        if status == "computing":
            return JSONResponse({"status": "computing"}, status_code=202, headers={"Retry-After": "1"})
        if status == "failed":
            return JSONResponse({"status": "failed", "detail": f"the validity map failed: {value}"}, status_code=422)
        return JSONResponse({"status": "absent", "detail": "no validity map yet: POST here to compute it"}, 404)

    validity_responses: dict[int | str, dict[str, Any]] = {
        202: {"description": "still computing"},
        404: {"description": "not computed yet (POST starts it)"},
        422: {"description": "no judge, or the computation failed (the message says why)"},
    }

    @app.get("/api/spaces/{space_id}/validity_map", responses=validity_responses)
    def validity_map(space_id: SpaceId) -> JSONResponse:
        """The judge's validity of decodes on a grid over the map; reading never starts work."""
        return validity_answer(*space(space_id).validity_map())

    @app.post("/api/spaces/{space_id}/validity_map", responses=validity_responses)
    def compute_validity_map(space_id: SpaceId, request: StartRequest) -> JSONResponse:
        """Start computing the validity map (in the background) unless it is ready or under way."""
        return validity_answer(*space(space_id).validity_map(start=True))

    @app.post("/api/spaces/{space_id}/morph")
    def morph(space_id: SpaceId, request: MorphRequest) -> Morph:
        """Each character from typeface A to typeface B in 7 steps (TMNIST)."""
        one = space(space_id)
        grid, chars, shared = one.morph(request.a, request.b, request.text)
        return Morph(**judged(one, grid), chars=chars, shared=shared.tolist())

    @app.get("/api/spaces/{space_id}/attributes")
    def attributes(space_id: SpaceId) -> dict[str, object]:
        """Attribute vectors on offer: TMNIST bolder/italic/serif, or class differences."""
        one = space(space_id)
        if one.dataset.typeface_ids is None:
            return {"kind": "class", "classes": one.info["label_names"], "attributes": []}
        if not one.attributes:
            raise RequestError(
                "no attribute vectors: this TMNIST lacks the weight, style and category columns (manifest.csv)"
            )
        return {
            "kind": "typeface",
            "attributes": [
                {"name": a.name, "description": a.description, "pairs": a.pairs} for a in one.attributes.values()
            ],
        }

    @app.post("/api/spaces/{space_id}/attribute")
    def attribute(space_id: SpaceId, request: AttributeRequest) -> Applied:
        """Per picked image: the image, its reconstruction, and code + strength x vector decoded."""
        one = space(space_id)
        grid, applied = one.apply_attribute(request.rows, request.name, request.strength)
        return Applied(**judged(one, grid), name=applied.name, description=applied.description, pairs=applied.pairs)

    @app.get("/api/spaces/{space_id}/neighbors")
    def neighbors(
        space_id: SpaceId, index: Annotated[int, Query(ge=0, le=2**31 - 1)], k: Annotated[int, Query(ge=1, le=100)] = 10
    ) -> Neighbours:
        rows, distances = space(space_id).neighbours(index, k)
        return Neighbours(index=index, neighbours=rows.tolist(), distances=distances.tolist())

    @app.post("/api/spaces/{space_id}/samples")
    def samples(space_id: SpaceId, request: SamplesRequest) -> Samples:
        """New images from the run's sampler (the first call fits it: seconds), each with its
        nearest images on the map."""
        one = space(space_id)
        grid, nearest, distances = sampling.draw_samples(one, request.sampler, request.rows, request.seed)
        return Samples(
            **judged(one, grid), sampler=request.sampler, nearest=nearest.tolist(), distances=distances.tolist()
        )

    add_typeface_routes(app, space)
    return app
