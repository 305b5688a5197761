"""``latentmap.widget(...)``: the explorer in a notebook output cell (anywidget).

The page's own JavaScript modules run in the cell (sent once as text, linked in the browser);
every request they make goes over the widget's channel to the kernel, where the explorer's
FastAPI app answers it in-process: the same routes, checks and bounds as the server, with
binary answers as buffers, and no port, no token, nothing listening. What the user picks
on the map comes back to Python as traits (``picks``, ``target``, ``selection``), and
setting them from Python moves the map.
"""

import asyncio
import base64
import contextlib
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import LatentmapError
from ..extras import require
from .common import STATIC
from .explorer.experiments import EXPERIMENTS, grid_routes

try:
    import anywidget
    import traitlets
except ImportError:  # the notebook extra is not installed: widget() says so
    anywidget = None  # type: ignore[assignment]

JS = STATIC / "js"
ENTRY = "explorer.js"
MAX_URL = 8192


def page_modules(entry: str = ENTRY) -> dict[str, str]:
    """The entry module and every module it imports (relative imports), by file name."""
    modules: dict[str, str] = {}
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in modules:
            continue
        modules[name] = (JS / name).read_text(encoding="utf-8")
        todo += re.findall(r'from\s+"\./([\w.-]+\.js)"', modules[name])
    return modules


def page_markup() -> str:
    """The explorer page's body (header, map, side panel): the widget shows the same page,
    less what only the page does (``class="page-only"``: its URL keeps the view)."""
    page = (STATIC / "explorer.html").read_text(encoding="utf-8")
    body = page[page.index("<body>") + len("<body>") : page.index("<script")]
    return re.sub(r'<span class="page-only">.*?</span>', "", body, flags=re.DOTALL)


def page_style() -> str:
    """The page's stylesheet for a shadow root: what it says of the document holds for the host."""
    css = (STATIC / "style.css").read_text(encoding="utf-8")
    return css.replace(":root", ":host").replace("html, body", ":host")


def is_request_path(url: str) -> bool:
    """A path (and query) on the app, as the page's modules ask: nothing else reaches httpx."""
    import httpx

    if not url.startswith("/") or url.startswith("//") or len(url) > MAX_URL:
        return False
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):  # CR, LF, spaces, NUL: never in what the page asks
        return False
    try:
        return httpx.URL(url).host == ""
    except (httpx.InvalidURL, ValueError, TypeError):
        return False


def problem(status: int, detail: str) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps({"detail": detail}).encode()


class InProcessApp:
    """Calls an ASGI app in this process, on an event loop of its own (a daemon thread), so
    the kernel keeps running cells while a request computes; ``close()`` ends the thread."""

    def __init__(self, app: Any) -> None:
        import httpx

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="latentmap-widget")
        self.thread.start()
        transport = httpx.ASGITransport(app=app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=None)

    async def call(self, method: str, url: str, body: bytes | None) -> tuple[int, str, bytes]:
        if not is_request_path(url):
            return problem(400, "malformed request URL: the page asks for paths such as /api/spaces")
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            response = await self.client.request(method, url, content=body, headers=headers)
        except Exception as exc:  # the page must hear back, or its request waits forever
            return problem(500, f"{type(exc).__name__}: {exc}")
        return response.status_code, response.headers.get("content-type", ""), response.content

    def submit(self, method: str, url: str, body: bytes | None, done: Any) -> None:
        async def answer() -> None:
            done(*await self.call(method, url, body))

        asyncio.run_coroutine_threadsafe(answer(), self.loop)

    def request(self, method: str, url: str, body: bytes | None) -> tuple[int, str, bytes]:
        """The same call, waited for here (``result()`` in the kernel)."""
        return asyncio.run_coroutine_threadsafe(self.call(method, url, body), self.loop).result()

    def close(self) -> None:
        if not self.thread.is_alive():
            return
        with contextlib.suppress(Exception):  # a client that cannot close still goes with its loop
            asyncio.run_coroutine_threadsafe(self.client.aclose(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()


@dataclass
class GridResult:
    """The last experiment grid: images (rows, cells, 28, 28) uint8, the judge's verdict
    per cell (None without a judge), and what made it."""

    experiment: str
    images: np.ndarray
    verdicts: list[list[dict[str, Any]]] | None
    title: str = ""


def grid_result(url: str, answer: dict[str, Any]) -> GridResult:
    grid = answer["grids"][0] if "grids" in answer else answer
    rows, cols, size = grid["rows"], grid["cols"], grid["size"]
    images = np.frombuffer(base64.b64decode(grid["pixels"]), np.uint8).reshape(rows, cols, size, size)
    experiment = url.rstrip("/").rsplit("/", 1)[-1]
    return GridResult(experiment, images.copy(), grid.get("verdicts"), grid.get("name", ""))


if anywidget is not None:

    class ExplorerWidget(anywidget.AnyWidget):
        """The explorer over ``spaces`` in an output cell. ``picks`` / ``target``: the rows
        picked on the map (an analogy's C images and A, ``b`` its B); ``selection``: the rows
        in the last alt+drag box; ``result()``: the grid of the picks; ``save_png(path)``;
        ``close()``: the view goes, and with it the widget's thread and spaces."""

        _esm = JS / "widget.js"
        _modules = traitlets.Dict().tag(sync=True)
        _markup = traitlets.Unicode().tag(sync=True)
        _style = traitlets.Unicode().tag(sync=True)
        picks = traitlets.List(traitlets.Int()).tag(sync=True)
        target = traitlets.Int(None, allow_none=True).tag(sync=True)
        b = traitlets.Int(None, allow_none=True).tag(sync=True)  # an analogy's B
        selection = traitlets.List(traitlets.Int()).tag(sync=True)
        experiment = traitlets.Unicode("interpolation").tag(sync=True)
        height = traitlets.Int(680).tag(sync=True)

        def __init__(self, spaces: list[Any], **kwargs: Any) -> None:
            from .explorer import create_app
            from .security import Policy

            super().__init__(_modules=page_modules(), _markup=page_markup(), _style=page_style(), **kwargs)
            self.spaces = spaces
            self.app: InProcessApp | None = InProcessApp(create_app(spaces, Policy()))
            self.last: GridResult | None = None
            self.on_msg(self._request)

        def _request(self, _: Any, content: dict[str, Any], buffers: list[Any]) -> None:
            if not isinstance(content, dict) or content.get("type") != "request":
                return
            ident, url, method = content.get("id"), str(content.get("url", "")), str(content.get("method", "GET"))
            body = content.get("body")
            data = body.encode() if isinstance(body, str) else None

            def done(status: int, content_type: str, answer: bytes) -> None:
                if status == 200 and method == "POST" and grid_routes().match(url.split("?")[0]):
                    self.last = grid_result(url.split("?")[0], json.loads(answer))
                self.send({"type": "response", "id": ident, "status": status, "content_type": content_type}, [answer])

            if self.app is None:
                done(*problem(410, "this widget was closed"))
                return
            self.app.submit(method, url, data, done)

        def result(self) -> GridResult:
            """The grid of the widget's experiment and picks (interpolation, analogy: computed
            here, by the same route the view asks, so it works in the cell that set the picks
            and with no view at all), else the last grid the view showed (samples, attribute)."""
            asked = self.kernel_request()
            if asked is None:
                if self.last is None:
                    raise LatentmapError("no grid yet: pick images on the map (or set .picks and .target) first")
                return self.last
            url, body = asked
            status, _, answer = self.application().request("POST", url, json.dumps(body).encode())
            if status != 200:
                raise LatentmapError(f"the picks make no grid: {json.loads(answer).get('detail')}")
            return grid_result(url, json.loads(answer))

        def kernel_request(self) -> tuple[str, dict[str, Any]] | None:
            """The request the experiment's table entry makes of the picks, if it makes one."""
            from_picks = getattr(EXPERIMENTS.get(self.experiment), "from_picks", None)
            return from_picks(list(self.picks), self.target, self.b) if from_picks else None

        def application(self) -> InProcessApp:
            if self.app is None:
                raise LatentmapError("this widget was closed: make a new one with latentmap.widget(...)")
            return self.app

        def close(self) -> None:
            """Close the view; the event-loop thread, its client and the spaces go with it."""
            app, self.app = self.app, None
            if app is not None:
                app.close()
            self.spaces, self.last = [], None
            super().close()

        def save_png(self, path: str | os.PathLike[str], scale: int = 4) -> Path:
            """The last grid as a PNG (each image ``scale`` times its size), written atomically."""
            from PIL import Image

            from ..images import save_png, tile

            images = self.result().images
            picture = tile(images.reshape(-1, *images.shape[2:]), ncols=images.shape[1])
            big = Image.fromarray(picture).resize(
                (picture.shape[1] * scale, picture.shape[0] * scale), Image.Resampling.NEAREST
            )
            save_png(big, path)
            return Path(path)

        def __repr__(self) -> str:
            # What a front end without Jupyter widgets shows instead of the map.
            names = ", ".join(str(s.info.get("name")) for s in self.spaces)
            return (
                f"latentmap explorer widget ({names}): this front end cannot show Jupyter widgets. Open the "
                "notebook in JupyterLab, Jupyter Notebook 7, VS Code or Colab with anywidget installed, or in "
                "marimo as mo.ui.anywidget(latentmap.widget(...)) "
                "(pip install 'latentmap[notebook]'), or call latentmap.explore(...) for the explorer in a browser tab."
            )


def widget(
    target: Any,
    dataset: str | None = None,
    method: str = "umap",
    max_points: int | None = 20000,
    compare: list[Any] | None = None,
    judge: bool = True,
    out_dir: str | os.PathLike[str] | None = None,
    data_dir: str | None = None,
    fonts_dir: str | None = None,
    cache_dir: str | None = None,
) -> Any:
    """The explorer as a notebook widget for ``target`` (a run, a run directory, or an
    embedding file; ``compare``: more embedding files of the same dataset, stacked in the
    compare mode). A run is embedded here first (``method`` of ``max_points`` train images,
    with progress lines). ``dataset``: the run's dataset, checked (a run is explored on the
    data it was trained on)."""
    if anywidget is None:
        require("anywidget", "notebook", "latentmap.widget")  # says which extra installs it
    from .background import prepare_spaces

    targets = [target, *(compare or [])]
    if compare and not all(str(t).endswith(".npz") for t in targets):
        raise LatentmapError("compare= takes embedding files (.npz) next to an embedding file: embed runs first")
    spaces = prepare_spaces(
        targets if compare else target, method, max_points, judge, out_dir, data_dir, fonts_dir, cache_dir, log=print
    )
    if any(space.info.get("mode") == "typeface" for space in spaces):
        raise LatentmapError("typeface maps are explored with latentmap.explore(...) (a browser tab) for now")
    spec = spaces[0].run.dataset_spec
    if dataset is not None and dataset != spec:
        raise LatentmapError(f"this run was trained on '{spec}', not '{dataset}': it is explored on its own data")
    return ExplorerWidget(spaces)
