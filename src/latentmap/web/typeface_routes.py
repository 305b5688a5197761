"""The explorer's typeface-mode routes (``/api/spaces/{id}/typeface/...``): thin wrappers over
:class:`latentmap.spaces.typeface_space.TypefaceSpace`. Every answer is a judged grid of
text set in typefaces, one row per typeface."""

from collections.abc import Callable
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import FastAPI, Path
from pydantic import BaseModel, Field

from ..errors import RequestError
from ..spaces.space import MAX_SOURCES, MAX_STRENGTH, LatentSpace
from ..spaces.typeface_space import MAX_GLYPHS, MAX_SAMPLES, MAX_TEXT, TypefaceSpace
from .common import JudgedGrid, image_grid

Point = Annotated[int, Field(ge=0, le=2**31 - 1)]
SpaceId = Annotated[int, Path(ge=0, le=2**31 - 1, description="which embedding (0 = the first given)")]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Text = Annotated[str, Field("", max_length=MAX_TEXT, description="characters to set (empty: the space's test word)")]


class TextRequest(BaseModel):
    points: list[Point] = Field([], max_length=MAX_SOURCES, description="map points (typefaces)")
    xy: list[tuple[Finite, Finite]] = Field([], max_length=MAX_GLYPHS, description="map positions to decode")
    text: Text = ""


class InterpolateRequest(BaseModel):
    a: Point
    b: Point
    text: Text = ""


class AttributeRequest(BaseModel):
    points: list[Point] = Field(min_length=1, max_length=MAX_SOURCES)
    name: str = Field(min_length=1, max_length=40, description="bolder, italic or serif")
    strength: float = Field(1.0, ge=-MAX_STRENGTH, le=MAX_STRENGTH, allow_inf_nan=False)
    text: Text = ""


class SamplesRequest(BaseModel):
    sampler: Literal["prior", "gaussian", "gmm"] = "gmm"
    n: int = Field(6, ge=1, le=MAX_SAMPLES)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    text: Text = ""


class TextGrid(JudgedGrid):
    text: str
    labels: list[str] = Field(description="what each row is: a typeface, a map position, a step, a sample")


def add_typeface_routes(app: FastAPI, space_of: Callable[[int], LatentSpace]) -> None:
    def typeface_space(space_id: int) -> TypefaceSpace:
        one = space_of(space_id)
        if not isinstance(one, TypefaceSpace):
            raise RequestError(f"space {space_id} is a glyph map, not a typeface map (made from a typeface run)")
        return one

    def answer(one: TypefaceSpace, grid: np.ndarray, text: str, rows: list[str]) -> TextGrid:
        text = one.text_of(text)
        verdicts = one.text_verdicts(grid, text)
        fields = {"text": text, "labels": rows, "verdicts": verdicts, "judge": one.judge_status()}
        return TextGrid.model_validate({**image_grid(grid).model_dump(), **fields})

    @app.post("/api/spaces/{space_id}/typeface/text")
    def typeface_text(space_id: SpaceId, request: TextRequest) -> TextGrid:
        """The text set in the typefaces at map points and at map positions (decoded from there)."""
        one = typeface_space(space_id)
        grid, names = one.typeface_text(request.points, request.xy, request.text)
        return answer(one, grid, request.text, names)

    @app.post("/api/spaces/{space_id}/typeface/interpolate")
    def typeface_interpolate(space_id: SpaceId, request: InterpolateRequest) -> TextGrid:
        """From typeface A to typeface B in 7 steps, each step the whole text."""
        one = typeface_space(space_id)
        grid = one.typeface_interpolate(request.a, request.b, request.text)
        names = one.info["typefaces"]
        steps = [
            names[one.rows[request.a]],
            *(f"step {k}" for k in range(1, len(grid) - 1)),
            names[one.rows[request.b]],
        ]
        return answer(one, grid, request.text, steps)

    @app.get("/api/spaces/{space_id}/typeface/attributes")
    def typeface_attributes(space_id: SpaceId) -> list[dict[str, Any]]:
        """The attribute vectors on typeface codes (from the manifest's weight, style, category)."""
        return [
            {"name": a.name, "description": a.description, "pairs": a.pairs}
            for a in typeface_space(space_id).attributes.values()
        ]

    @app.post("/api/spaces/{space_id}/typeface/attribute")
    def typeface_attribute(space_id: SpaceId, request: AttributeRequest) -> TextGrid:
        """Per picked typeface: its text, then with code + strength x the attribute vector."""
        one = typeface_space(space_id)
        grid, attribute = one.typeface_attribute(request.points, request.name, request.strength, request.text)
        names = one.info["typefaces"]
        rows = [
            label for i in request.points for label in (names[one.rows[i]], f"{attribute.name} {request.strength:+.1f}")
        ]
        return answer(one, grid, request.text, rows)

    @app.post("/api/spaces/{space_id}/typeface/samples")
    def typeface_samples(space_id: SpaceId, request: SamplesRequest) -> TextGrid:
        """New typefaces drawn from the run's sampler (the first call fits it)."""
        one = typeface_space(space_id)
        grid = one.typeface_samples(request.sampler, request.n, request.seed, request.text)
        return answer(one, grid, request.text, [f"{request.sampler} #{k + 1}" for k in range(len(grid))])
