"""Pieces both web apps share: static files, error handlers, starting the server."""

import base64
import threading
import webbrowser
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from ..errors import LatentmapError, RequestError
from .security import Policy, install_policy

STATIC = Path(__file__).parent / "static"


def new_app(title: str, description: str, policy: Policy | None) -> FastAPI:
    """A FastAPI app with the request policy (Host, Origin, token, body size), static files,
    API docs served from the package (the apps work offline), and 4xx answers for errors
    the user can correct."""
    app = FastAPI(title=title, description=description, docs_url=None, redoc_url=None)
    install_policy(app, policy or Policy())
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_docs(app)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes the input back, which fails on values JSON cannot
        # hold (1e999 parses as inf): answer with where and what, never the input.
        errors = [
            {
                "loc": [str(part) for part in error.get("loc", ())],
                "msg": str(error.get("msg", "")),
                "type": error.get("type", ""),
            }
            for error in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": errors})

    @app.exception_handler(RequestError)
    async def request_error(request: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(LatentmapError)
    async def latentmap_error(request: Request, exc: LatentmapError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    return app


def install_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` from the files the ``swagger-ui-bundle-v2`` package ships,
    not from a CDN (FastAPI's default): a machine without internet still gets its docs."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )


class ImageGrid(BaseModel):
    rows: int
    cols: int
    size: int
    pixels: str = Field(description="base64 of rows*cols*size*size uint8 pixels, row-major")


class Verdict(BaseModel):
    valid: bool = Field(description="the judge's top probability reaches its tau")
    label: int = Field(description="the class the judge sees")
    top: list[tuple[int, float]] = Field(description="the judge's top classes and probabilities")


class JudgedGrid(ImageGrid):
    verdicts: list[list[Verdict]] | None = Field(None, description="per cell; null until the judge is ready")
    judge: str = Field("none", description="the judge's status: ready, training, none, unavailable: ...")


def image_grid(grid: np.ndarray) -> ImageGrid:
    """(rows, cols, 28, 28) uint8 -> a compact JSON grid (pixels base64, row-major)."""
    rows, cols = grid.shape[:2]
    pixels = base64.b64encode(np.ascontiguousarray(grid).tobytes()).decode()
    return ImageGrid(rows=rows, cols=cols, size=grid.shape[-1], pixels=pixels)


def serve(app: FastAPI, host: str, port: int, open_browser: bool, policy: Policy, path: str = "/") -> None:
    """Run ``app`` (built with ``policy``) until Ctrl-C; prints the URL, with the token if any."""
    import uvicorn

    from .security import is_loopback

    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)
    url = f"http://{shown}:{port}{path}" + (f"?token={policy.token}" if policy.token else "")
    if not is_loopback(host):
        print(
            f"warning: serving on {host}, reachable from other machines"
            + (" with the token in this URL" if policy.token else " by anyone (--no_token)")
        )
    print(f"serving on {url} (Ctrl-C stops)")
    if open_browser:
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    except OSError as exc:  # port taken, host not local, ...
        raise LatentmapError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from exc
