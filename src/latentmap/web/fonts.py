"""The typeface clustering app's HTTP API: thin routes over :mod:`latentmap.typefaces`."""

import io
import itertools
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from ..errors import FontSetError, LatentmapError
from ..typefaces import (
    Clustering,
    ClusterParams,
    TypefaceCorpus,
    cluster_typefaces,
    font_chars_image,
    font_set_for,
)
from .common import STATIC, new_app
from .security import Policy

MAX_NAME_BYTES = 200  # filesystems take 255, and the temporary file adds to the name
KEEP_RESULTS = 16
Char = Annotated[str, Field(min_length=1, max_length=1)]


class ClusterRequest(BaseModel):
    chars: list[Char] = Field(min_length=1, max_length=94)
    algorithm: Literal["kmeans", "spectral", "dbscan", "dbscan-auto"] = "kmeans"
    n_clusters: int = Field(8, ge=1, le=500)
    metric: Literal["euclidean", "cosine"] = "euclidean"
    n_neighbors: int = Field(10, ge=2, le=500)
    eps: float = Field(5.0, gt=0, allow_inf_nan=False)
    min_samples: int = Field(5, ge=1, le=1000)
    pca_dims: int = Field(0, ge=0, le=2000)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    features: Literal["pixels", "codes"] = Field("pixels", description="codes: the --codes typeface run's")


class SaveRequest(BaseModel):
    result: int = Field(ge=0, le=2**31 - 1)
    fractions: list[Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]] = Field(max_length=4000)
    path: str = Field("font_set.json", min_length=1, max_length=1024, description="inside the app's --out_dir")
    overwrite: bool = Field(False, description="replace an existing file that is not a font set")


class FontsApp:
    """The corpus and recent clusterings (kept by id so tiles and saves refer to them)."""

    def __init__(self, corpus: TypefaceCorpus, out_dir: Path) -> None:
        self.corpus = corpus
        self.out_dir = out_dir
        self.results: OrderedDict[int, Clustering] = OrderedDict()
        self.ids = itertools.count()
        # One clustering at a time: each may hold a ~1 GB matrix and both cores for seconds.
        self.busy = threading.Lock()

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

    def target(self, text: str, overwrite: bool = False) -> tuple[Path, Path]:
        """font_set.json and font_chars.png paths for a folder or a .json path inside
        ``out_dir``; anything that escapes it (absolute, ``~``, ``..``, a symlink out) is
        refused, and so is replacing a file that is not a font set unless ``overwrite``."""
        if any(ord(c) < 32 or c == "\x7f" for c in text):
            raise LatentmapError("save path must not contain control characters (NUL, newline, ...)")
        relative = Path(text)
        if relative.is_absolute() or text.startswith("~") or ".." in relative.parts or "\\" in text:
            raise LatentmapError(f"save path '{text}' must be relative to the output folder {self.out_dir}")
        if any(len(part.encode()) > MAX_NAME_BYTES for part in relative.parts):
            raise LatentmapError(f"a file or folder name in the save path is over {MAX_NAME_BYTES} bytes")
        root = self.out_dir.resolve()
        try:
            path = (root / relative).resolve()  # follows symlinks, so a link out is caught below
        except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
            raise LatentmapError(f"save path '{text}' cannot be used: {exc}") from exc
        if not path.is_relative_to(root):
            raise LatentmapError(f"save path '{text}' leads outside the output folder {self.out_dir}")
        try:  # a name too long for the file system, an unreadable folder: 400 with the reason
            if path.is_dir():
                path = path / "font_set.json"
            if path.suffix.lower() != ".json":
                raise LatentmapError(f"save to a folder or a .json file, not '{text}'")
            png = path.with_name("font_chars.png")
            if not overwrite:
                if path.exists() and not is_font_set(path):
                    raise LatentmapError(f"{path.name} exists and is not a font set: send overwrite=true to replace it")
                if png.exists() and not is_png(png):
                    raise LatentmapError(f"{png.name} exists and is not a PNG: send overwrite=true to replace it")
        except OSError as exc:
            raise LatentmapError(f"save path '{text}' cannot be used: {exc.strerror or exc}") from exc
        return path, png


MAX_FONT_SET_BYTES = 16 << 20  # a font set of every TMNIST typeface is ~100 KB


def is_font_set(path: Path) -> bool:
    """Whether ``path`` holds a font set, read only when of a plausible size (a huge or
    deeply nested file is no font set, and must not be read whole to find out)."""
    from ..data import read_font_set

    if path.stat().st_size > MAX_FONT_SET_BYTES:
        return False
    try:
        read_font_set(path)
    except FontSetError:
        return False
    return True


def is_png(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(8) == b"\x89PNG\r\n\x1a\n"
    except OSError:
        return False


def fonts_of(http: Request) -> FontsApp:
    state: FontsApp = http.app.state.fonts
    return state


Fonts = Annotated[FontsApp, Depends(fonts_of)]
router = APIRouter()


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(STATIC / "fonts.html")


@router.get("/api/info")
def info(state: Fonts) -> dict[str, Any]:
    corpus = state.corpus
    return {
        "dataset": corpus.dataset.spec,
        "typefaces": len(corpus.names),
        "chars": list(corpus.chars),
        "good": corpus.good,
        "glyph_counts": {k: v.tolist() for k, v in corpus.glyph_counts.items()},
        "out_dir": str(state.out_dir),
        "codes": corpus.codes_from or None,
    }


@router.post("/api/cluster", responses={429: {"description": "another clustering is running"}})
def cluster(state: Fonts, request: ClusterRequest) -> dict[str, Any]:
    params = ClusterParams(**request.model_dump(exclude={"chars"}))
    if not state.busy.acquire(blocking=False):
        raise HTTPException(429, "another clustering is running: try again when it ends", {"Retry-After": "2"})
    try:
        clustering = cluster_typefaces(state.corpus, request.chars, params)
    finally:
        state.busy.release()
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


@router.get(
    "/api/results/{result}/tile/{cluster}.png", response_class=Response, responses={200: {"content": {"image/png": {}}}}
)
def tile(
    state: Fonts,
    result: Annotated[int, PathParam(ge=0, le=2**31 - 1)],
    cluster: Annotated[int, PathParam(ge=0, le=2**31 - 1)],
    char: Annotated[str, Query(min_length=1, max_length=1)],
    columns: Annotated[int, Query(ge=1, le=200)] = 12,
) -> Response:
    """The display character of every typeface in a cluster, nearest the centre first."""
    from PIL import Image

    from ..images import tile as tile_images

    clustering, corpus = state.result(result), state.corpus
    if not 0 <= cluster < len(clustering.clusters):
        raise HTTPException(404, f"no cluster {cluster} in clustering {result}")
    if char not in corpus.chars:
        raise HTTPException(422, f"unknown character {char!r}")
    glyphs = [corpus.glyph(int(f), char) for f in clustering.clusters[cluster]]
    stack = np.stack([g if g is not None else np.zeros((28, 28), np.uint8) for g in glyphs])
    out = io.BytesIO()
    Image.fromarray(tile_images(stack, ncols=columns, gap=1, background=30)).save(out, "PNG", compress_level=1)
    return Response(out.getvalue(), media_type="image/png")


@router.post("/api/save")
def save(state: Fonts, request: SaveRequest) -> dict[str, Any]:
    from ..data import write_font_set
    from ..images import save_png
    from ..typefaces import dataset_sizes

    clustering, corpus = state.result(request.result), state.corpus
    font_set, chosen = font_set_for(clustering, corpus, request.fractions)
    json_path, png_path = state.target(request.path, request.overwrite)
    picture = font_chars_image(corpus, chosen, clustering.chars)
    write_font_set(json_path, font_set)
    save_png(picture, png_path)
    return {
        "font_set": str(json_path),
        "font_chars": str(png_path),
        **dataset_sizes(corpus, chosen, len(clustering.chars)),
    }


def create_app(state: FontsApp, policy: Policy | None = None) -> FastAPI:
    app = new_app("latentmap typefaces", "Cluster typefaces and save a balanced font_set.json.", policy)
    app.state.fonts = state
    app.include_router(router)
    return app
