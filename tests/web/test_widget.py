"""The explorer as a notebook widget: in-process requests (no server), and a real JupyterLab
(offline, a token, a temporary folder) running examples/explore.ipynb in Chromium."""

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from latentmap.errors import LatentmapError
from tests.web.conftest import screenshot
from tests.web.lab import JupyterLab, run_cell, wait_for_points

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "explore.ipynb"
BACKGROUND = (0x0F, 0x13, 0x18)  # the map's empty colour


@pytest.fixture(scope="module")
def widget(space):
    from latentmap.web.widget import ExplorerWidget

    made = ExplorerWidget([space])
    made.answers = []
    made.send = lambda content, buffers=None: made.answers.append((content, buffers))
    return made


def ask(widget, url, body=None, method=None):
    """One request as the front end sends it; the answer the kernel sends back."""
    count = len(widget.answers)
    content = {"type": "request", "id": count, "url": url, "method": method or ("POST" if body else "GET")}
    widget._request(widget, {**content, "body": None if body is None else json.dumps(body)}, [])
    deadline = time.monotonic() + 60
    while len(widget.answers) == count and time.monotonic() < deadline:
        time.sleep(0.01)
    answer, buffers = widget.answers[-1]
    assert answer["id"] == count
    return answer, bytes(buffers[0])


def test_the_widget_answers_the_explorers_requests_in_process(widget, space):
    answer, body = ask(widget, "/api/spaces/0/info")
    assert answer["status"] == 200 and json.loads(body)["count"] == space.count
    answer, body = ask(widget, f"/api/spaces/0/points?v={space.fingerprint}")
    assert answer["content_type"] == "application/octet-stream" and len(body) > space.count * 8  # binary, not JSON
    # the same checks as the server: a bad request is a 422 with its reason, nothing runs
    answer, body = ask(widget, "/api/spaces/0/interpolate", {"sources": [], "target": 1})
    assert answer["status"] == 422 and "sources" in body.decode()
    assert ask(widget, "/api/spaces/7/info")[0]["status"] == 404 and ask(widget, "/nowhere")[0]["status"] == 404
    widget._request(widget, ["not", "a", "request"], [])  # ignored: nothing answered, nothing raised
    rows = [int(r) for r in space.rows[:2]]
    answer, _ = ask(widget, "/api/spaces/0/interpolate", {"sources": rows, "target": int(space.rows[2])})
    assert answer["status"] == 200
    result = widget.result()
    assert result.experiment == "interpolate" and result.images.shape == (2, 11, 28, 28)
    assert result.images.dtype == np.uint8 and result.images.any()


def test_malformed_urls_get_400_not_500(widget):
    for url in ("\r\n", "http://[::1/", "//evil.example/api/spaces", "/api/spaces\r\nX-Injected: 1", "api/spaces"):
        answer, body = ask(widget, url)
        assert answer["status"] == 400 and "malformed" in body.decode(), (url, answer, body)


def test_result_is_computed_in_the_kernel_from_the_picks(space):
    """Headless (nbclient, scripts, marimo's first run): picks set in the same cell give a grid."""
    from latentmap.web.widget import ExplorerWidget

    made = ExplorerWidget([space])
    try:
        rows = [int(r) for r in space.rows[:3]]
        made.picks, made.target = rows[:2], rows[2]
        grid = made.result()
        assert grid.images.shape == (2, 11, 28, 28) and grid.images.any()
        made.experiment, made.picks, made.target, made.b = "analogy", rows[:1], rows[1], rows[2]
        assert made.result().images.shape == (1, 2, 28, 28)
        made.target = 2**40  # not a row: one line, not a traceback
        with pytest.raises(LatentmapError, match="make no grid"):
            made.result()
    finally:
        made.close()


def test_close_ends_the_thread_and_drops_the_space(space):
    import threading

    from latentmap.web.widget import ExplorerWidget

    def threads() -> int:
        return sum(t.name == "latentmap-widget" and t.is_alive() for t in threading.enumerate())

    before = threads()
    made = [ExplorerWidget([space]) for _ in range(3)]  # a cell run three times
    assert threads() == before + 3
    for one in made:
        one.close()
    assert threads() == before
    assert made[0].spaces == [] and made[0].app is None
    with pytest.raises(LatentmapError, match="closed"):
        made[0].picks, made[0].target = [int(space.rows[0])], int(space.rows[1])
        made[0].result()
    made[0].close()  # twice is fine


def test_save_png_and_the_message_without_widget_support(widget, tmp_path):
    from PIL import Image

    path = widget.save_png(tmp_path / "grid.png", scale=2)
    rows, cols = widget.result().images.shape[:2]
    assert Image.open(path).size[1] >= rows * 28 * 2 and Image.open(path).size[0] >= cols * 28 * 2
    text = widget._repr_mimebundle_()[0]["text/plain"]
    assert "cannot show Jupyter widgets" in text and "latentmap.explore" in text


def test_the_widget_ships_the_pages_own_modules():
    from latentmap.web.widget import page_markup, page_modules

    modules = page_modules()
    assert {"explorer.js", "api.js", "mapview.js", "grids.js"} <= modules.keys()
    assert "widget.js" not in modules and "explorer-page.js" not in modules  # the entries stay apart
    page = (NOTEBOOK.parents[1] / "src/latentmap/web/static/js/explorer.js").read_text()
    assert modules["explorer.js"] == page  # one source, not a copy
    assert 'id="map"' in page_markup() and "<script" not in page_markup()
    assert "reload or share" not in page_markup()  # the page's URL keeps its view; a notebook cell's does not


# ------------------------------------------------------------------ JupyterLab


@pytest.fixture(scope="module")
def lab(tmp_path_factory, datasets_dir, session_cache):
    """JupyterLab serving a copy of the example notebook."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, root / "explore.ipynb")
    env = {"LATENTMAP_DATA": str(datasets_dir), "LATENTMAP_CACHE": str(session_cache)}
    with JupyterLab(root, env) as server:
        yield server


# A point well inside the widget's map: its screen position and dataset row (``el``: the widget).
CLICKABLE_POINT = """(el) => {
    const explorer = el.explorer;
    const rect = explorer.map.canvas.getBoundingClientRect();
    for (let i = 0; i < explorer.state.points.count; i++) {
        const [x, y] = explorer.screenOf(i);
        if (x > rect.left + 40 && x < rect.right - 40 && y > rect.top + 40 && y < rect.bottom - 40) {
            const under = explorer.map.pick(x - rect.left, y - rect.top);
            return { x, y, row: explorer.state.points.rows[under] };
        }
    }
}"""


def map_pixels(page) -> int:
    """Pixels of the widget's map that are not empty background."""
    return page.evaluate(
        """(background) => {
            const canvas = document.querySelector(".latentmap-widget").explorer.map.canvas;
            const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let drawn = 0;
            for (let p = 0; p < data.length; p += 4)
              if (data[p] !== background[0] || data[p + 1] !== background[1] || data[p + 2] !== background[2]) drawn++;
            return drawn;
        }""",
        list(BACKGROUND),
    )


def test_the_example_notebook_in_jupyterlab(lab, page):
    page.set_default_timeout(120_000)
    lab.open(page, "explore.ipynb")
    run_cell(page, 1)  # trains the small run (the first time)
    started = time.monotonic()
    run_cell(page, 2)  # the widget
    wait_for_points(page)
    opened = time.monotonic() - started
    assert map_pixels(page) > 2000  # the map drew its 5,000 points
    screenshot(page, "widget-map")

    # a click on a point picks its dataset row; Python sees the same row
    clicked = page.locator(".latentmap-widget").evaluate(CLICKABLE_POINT)
    page.mouse.click(clicked["x"], clicked["y"])
    page.wait_for_function(
        "document.querySelector('.latentmap-widget').explorer.state.sources.length === 1", polling=100
    )
    # alt+drag: a box around the clicked point selects the images inside it
    page.keyboard.down("Alt")
    page.mouse.move(clicked["x"] - 30, clicked["y"] - 30)
    page.mouse.down()
    page.mouse.move(clicked["x"] + 30, clicked["y"] + 30, steps=5)
    page.mouse.up()
    page.keyboard.up("Alt")
    selected = page.evaluate("document.querySelector('.latentmap-widget').explorer.state.selection")
    assert clicked["row"] in selected
    expected = f"picks: [{clicked['row']}] target: None selected: {len(selected)}"
    for _ in range(5):  # the view's changes reach the kernel as messages: on a loaded machine, a moment later
        printed = run_cell(page, 4)
        if expected in printed:
            break
        time.sleep(0.5)
    assert expected in printed, printed

    # picks set from Python: the map marks them and the grid appears
    run_cell(page, 6)
    page.wait_for_function(
        "document.querySelector('.latentmap-widget').shadowRoot.querySelectorAll('#grid canvas.cell').length >= 22",
        polling=100,
    )
    assert page.evaluate("document.querySelector('.latentmap-widget').explorer.state.sources") == [0, 1]
    screenshot(page, "widget-grid")
    page.locator(".latentmap-widget").screenshot(path=str(screenshot(page, "widget").with_name("widget.png")))
    printed = run_cell(page, 7)
    assert "interpolate (2, 11, 28, 28)" in printed, printed
    assert (lab.root / "interpolation.png").is_file()

    # the saved notebook holds no multi-MB widget state
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    deadline = time.monotonic() + 20
    saved = lab.root / "explore.ipynb"
    while json.loads(saved.read_text())["cells"][4]["outputs"] == [] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert saved.stat().st_size < NOTEBOOK.stat().st_size + 300_000
    print(f"widget opened in {opened:.1f} s (cell run to points loaded)")


# ------------------------------------------------------------------ marimo

MARIMO_NOTEBOOK = """import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    import latentmap

    view = mo.ui.anywidget(latentmap.widget({embedding!r}, judge=False))
    view
    return (view,)


@app.cell
def _(view):
    picked = view.value.get("picks", [])
    mo_text = f"picked rows: {{picked}}"
    mo_text
    return


if __name__ == "__main__":
    app.run()
"""


def test_the_widget_in_marimo(tmp_path, page, space, datasets_dir, session_cache):
    """marimo's anywidget model takes set(key, value): a click's pick reaches Python and the
    cell that reads it runs again."""
    import os
    import subprocess
    import sys
    import urllib.request

    from latentmap.web.background import free_port

    notebook = tmp_path / "explore.py"
    notebook.write_text(MARIMO_NOTEBOOK.format(embedding=str(space.path)))
    port = free_port("127.0.0.1")
    env = {**os.environ, "LATENTMAP_DATA": str(datasets_dir), "LATENTMAP_CACHE": str(session_cache)}
    command = [sys.executable, "-m", "marimo", "run", str(notebook), "--headless", "--port", str(port)]
    command += ["--host", "127.0.0.1", "--no-token"]
    with open(tmp_path / "marimo.log", "wb") as log:
        server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                        break
                except OSError:
                    assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "marimo.log").read_text()
                    time.sleep(0.3)
            page.set_default_timeout(120_000)
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_text("picked rows: []").wait_for()
            view = page.locator(".latentmap-widget")  # inside marimo's shadow root: locators pierce it
            deadline = time.monotonic() + 120
            while not view.evaluate("(el) => Boolean(el.explorer?.state.points)"):
                assert time.monotonic() < deadline, "the map never loaded its points"
                time.sleep(0.2)
            clicked = view.evaluate(CLICKABLE_POINT)
            # marimo's cell is narrow: the header wraps, and the side panel still ends inside the cell
            # (it scrolls) instead of running past its bottom edge, where its legend was cut off
            inside = view.evaluate(
                """(el) => el.shadowRoot.querySelector("aside").getBoundingClientRect().bottom
                          <= el.getBoundingClientRect().bottom + 1"""
            )
            assert inside, "the side panel runs past the widget's bottom edge"
            page.mouse.click(clicked["x"], clicked["y"])
            page.get_by_text(f"picked rows: [{clicked['row']}]").wait_for()  # the dependent cell ran again
            screenshot(page, "widget-marimo")
        finally:
            server.terminate()
            server.wait(timeout=30)
