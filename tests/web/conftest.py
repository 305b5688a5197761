"""Browser fixtures: a live server on 127.0.0.1 and Debian's Chromium driven by Playwright.

Without /usr/bin/chromium the browser tests are skipped, unless LATENTMAP_REQUIRE_BROWSER
is set (CI sets it, so a missing browser fails there instead of hiding).
"""

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from latentmap.web.background import free_port

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("LATENTMAP_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts"))


class LiveServer:
    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port("127.0.0.1")
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("LATENTMAP_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    # The apps' Content-Security-Policy forbids eval, which Playwright's polling helpers
    # (wait_for_function) use inside the page: tests drive pages with it bypassed, and
    # test_page_policy loads the explorer with it enforced.
    context = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="session")
def space(tmp_path_factory, datasets_dir, session_cache):
    """A small VAE on digits, embedded with PCA (2,000 points), loaded as the explorer does."""
    from latentmap.spaces import LatentSpace
    from tests.conftest import built_once, shared_path
    from tests.web_fixtures import make_embedding

    data_opts = {"data_dir": str(datasets_dir), "cache_dir": str(session_cache)}
    folder = built_once(shared_path(tmp_path_factory, "explorer"), lambda root: make_embedding(root, data_opts))
    return LatentSpace.load(folder / "embeddings" / "digits-vae.embed-pca.npz", **data_opts)


@pytest.fixture(scope="session")
def corpus(datasets_dir, small_fonts_dir, session_cache):
    """The typeface corpus of about 20 real fonts."""
    from latentmap import load_dataset
    from latentmap.typefaces import TypefaceCorpus

    return TypefaceCorpus(
        load_dataset("alphanumeric", data_dir=datasets_dir, fonts_dir=small_fonts_dir, cache_dir=session_cache)
    )


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
