"""The typeface clustering app's HTTP API: thin routes over :mod:`latentmap.typefaces`."""

import io
import itertools
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from ..errors import LatentmapError
from ..typefaces import (
    Clustering,
    ClusterParams,
    TypefaceCorpus,
    cluster_typefaces,
    font_chars_image,
    font_set_for,
)
from .common import STATIC, install_common

KEEP_RESULTS = 16


class ClusterRequest(BaseModel):
    chars: list[str] = Field(min_length=1, max_length=94)
    algorithm: Literal["kmeans", "spectral", "dbscan", "dbscan-auto"] = "kmeans"
    n_clusters: int = Field(8, ge=1, le=500)
    metric: Literal["euclidean", "cosine"] = "euclidean"
    n_neighbors: int = Field(10, ge=2, le=500)
    eps: float = Field(5.0, gt=0, allow_inf_nan=False)
    min_samples: int = Field(5, ge=1, le=1000)
    pca_dims: int = Field(0, ge=0, le=2000)
    seed: int = 0


class SaveRequest(BaseModel):
    result: int
    fractions: list[Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]]
    path: str = Field("font_set.json", min_length=1, max_length=4096)


class FontsApp:
    """The corpus and recent clusterings (kept by id so tiles and saves refer to them)."""

    def __init__(self, corpus: TypefaceCorpus, out_dir: Path) -> None:
        self.corpus = corpus
        self.out_dir = out_dir
        self.results: OrderedDict[int, Clustering] = OrderedDict()
        self.ids = itertools.count()

    def add(self, clustering: Clustering) -> int:
        key = next(self.ids)
        self.results[key] = clustering
        while len(self.results) > KEEP_RESULTS:
            self.results.popitem(last=False)
        return key

    def result(self, key: int) -> Clustering:
        if key not in self.results:
            raise HTTPException(404, f"no clustering {key} (it may have been replaced): press Cluster again")
        return self.results[key]

    def target(self, text: str) -> tuple[Path, Path]:
        """font_set.json and font_chars.png paths for a directory or a .json path."""
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.out_dir / path
        if path.is_dir():
            path = path / "font_set.json"
        if path.suffix.lower() != ".json":
            raise LatentmapError(f"save to a directory or a .json file, not '{text}'")
        return path, path.with_name("font_chars.png")


def create_app(state: FontsApp) -> FastAPI:
    app = FastAPI(title="latentmap typefaces", description="Cluster typefaces and save a balanced font_set.json.")
    install_common(app)
    corpus = state.corpus

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "fonts.html")

    @app.get("/api/info")
    def info() -> dict[str, Any]:
        return {
            "dataset": corpus.dataset.spec,
            "typefaces": len(corpus.names),
            "chars": list(corpus.chars),
            "good": corpus.good,
            "glyph_counts": {k: v.tolist() for k, v in corpus.glyph_counts.items()},
            "out_dir": str(state.out_dir),
        }

    @app.post("/api/cluster")
    def cluster(request: ClusterRequest) -> dict[str, Any]:
        params = ClusterParams(**request.model_dump(exclude={"chars"}))
        clustering = cluster_typefaces(corpus, request.chars, params)
        key = state.add(clustering)
        return {
            "result": key,
            "chars": list(clustering.chars),
            "summary": clustering.summary,
            "clusters": [
                {"members": c.tolist(), "distances": np.round(d, 5).tolist()}
                for c, d in zip(clustering.clusters, clustering.distances, strict=True)
            ],
            "noise": clustering.noise.tolist(),
        }

    @app.get(
        "/api/results/{result}/tile/{cluster}.png",
        response_class=Response,
        responses={200: {"content": {"image/png": {}}}},
    )
    def tile(
        result: int,
        cluster: int,
        char: Annotated[str, Query(min_length=1, max_length=1)],
        columns: Annotated[int, Query(ge=1, le=200)] = 12,
    ) -> Response:
        """The display character of every typeface in a cluster, nearest the centre first."""
        from PIL import Image

        from ..images import tile as tile_images

        clustering = state.result(result)
        if not 0 <= cluster < len(clustering.clusters):
            raise HTTPException(404, f"no cluster {cluster} in clustering {result}")
        if char not in corpus.chars:
            raise HTTPException(422, f"unknown character {char!r}")
        glyphs = [corpus.glyph(int(f), char) for f in clustering.clusters[cluster]]
        stack = np.stack([g if g is not None else np.zeros((28, 28), np.uint8) for g in glyphs])
        out = io.BytesIO()
        Image.fromarray(tile_images(stack, ncols=columns, gap=1, background=30)).save(out, "PNG", compress_level=1)
        return Response(out.getvalue(), media_type="image/png")

    @app.post("/api/save")
    def save(request: SaveRequest) -> dict[str, Any]:
        from ..data import write_font_set
        from ..images import save_png
        from ..typefaces import dataset_sizes

        clustering = state.result(request.result)
        font_set, chosen = font_set_for(clustering, corpus, request.fractions)
        json_path, png_path = state.target(request.path)
        picture = font_chars_image(corpus, chosen, clustering.chars)
        write_font_set(json_path, font_set)
        save_png(picture, png_path)
        return {
            "font_set": str(json_path),
            "font_chars": str(png_path),
            **dataset_sizes(corpus, chosen, len(clustering.chars)),
        }

    return app
