"""The manual as a reader meets it: `mkdocs build --strict` of docs/ (every link and API
reference resolved), served and opened in headless Chromium: the home page, a command
page and an API page render, asking nothing of the network, with no console error."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.staticfiles import StaticFiles

from tests.web.conftest import LiveServer, screenshot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    build = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(folder)]
    done = subprocess.run(build, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


def test_the_manual_opens_with_its_generated_references(page, site):
    asked, console = [], []
    page.on("request", lambda request: asked.append(request.url))
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    app = Starlette()
    app.mount("/", StaticFiles(directory=site, html=True))
    with LiveServer(app) as server:
        page.goto(server.url + "/")
        assert page.locator("h1").first.text_content().startswith("latentmap")
        assert page.locator("nav").get_by_text("Getting started").count() >= 1
        page.goto(server.url + "/reference/cli/")
        train_vae = page.locator("h2", has_text="latentmap train vae")
        assert train_vae.count() == 1 and "--beta_schedule" in page.content()
        page.goto(server.url + "/reference/api/")
        assert page.locator("h2", has_text="load_dataset").count() == 1
        assert "Load a dataset by spec" in page.content() and page.locator("h2", has_text="wrap_model").count() == 1
        screenshot(page, "manual-api")
    assert console == [], console
    assert asked and all(url.startswith(server.url) for url in asked), [
        u for u in asked if not u.startswith(server.url)
    ]
