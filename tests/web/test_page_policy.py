"""Fourth hardening round: redirects stay on the app, pages are never framed and run only
their own scripts, websockets are refused, bad --allow_host names and bad save paths are
one line, data from disk is shown as text."""

import errno
import json
import os
import pathlib

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocket

from latentmap.cli import main
from latentmap.errors import LatentmapError
from latentmap.web import explorer, fonts
from latentmap.web.security import Policy

LOCAL = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def token_client(space):
    policy = Policy.for_server("0.0.0.0")
    return policy, TestClient(explorer.create_app([space], policy), base_url=LOCAL)


@pytest.mark.parametrize(
    "path", ["//evil.example/", "/\\evil.example/", "/%2F%2Fevil.example/", "/a%0D%0ASet-Cookie:x=1"]
)
def test_the_token_redirect_only_leads_to_a_path_on_this_app(token_client, path):
    policy, client = token_client
    response = client.get(
        f"{LOCAL}{path}?token={policy.token}&view=1", headers={"accept": "text/html"}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert "\r" not in location and "\n" not in location
    assert ("evil.example" in location) == ("evil" in path)  # kept, as a path on this app
    assert location.endswith("?view=1") and "token" not in location


def test_pages_and_answers_forbid_framing_and_foreign_scripts(space, corpus, tmp_path):
    apps = [explorer.create_app([space]), fonts.create_app(fonts.FontsApp(corpus, tmp_path))]
    for app in apps:
        client = TestClient(app, base_url=LOCAL)
        for path in ("/", "/static/js/api.js", "/openapi.json", "/docs"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.headers["x-frame-options"] == "DENY"
            policy = response.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
            if path != "/docs":  # the API docs page has one inline setup script of FastAPI's
                assert "script-src 'self';" in policy


def test_websockets_are_refused_by_the_guard(space):
    """No route speaks websocket today; one added later must not slip past the checks."""
    app = explorer.create_app([space])

    @app.websocket("/ws")
    async def echo(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text("accepted")

    client = TestClient(app, base_url=LOCAL)
    with pytest.raises(WebSocketDenialResponse), client.websocket_connect("/ws") as socket:
        socket.receive_text()


@pytest.mark.parametrize("name", ["foo*", "*", "a.*.example", "*example", "host/path"])
def test_a_bad_allow_host_is_one_line_before_anything_loads(name, space, capsys):
    with pytest.raises(LatentmapError, match="not a host name"):
        Policy.for_server("127.0.0.1", [name])
    assert main(["explore", str(space.path), "--allow_host", name, "--no_browser"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("latentmap: error: --allow_host") and len(err.strip().splitlines()) == 1
    assert Policy.for_server("127.0.0.1", ["*.example", "proxy.example"]).hosts is not None


def test_save_paths_the_file_system_refuses_are_400(corpus, tmp_path):
    state = fonts.FontsApp(corpus, tmp_path / "out")
    state.out_dir.mkdir()
    client = TestClient(fonts.create_app(state), base_url=LOCAL)
    result = client.post("/api/cluster", json={"chars": ["A"], "n_clusters": 2}).json()["result"]
    (state.out_dir / "loop").symlink_to(state.out_dir / "loop")  # a symlink loop
    response = client.post("/api/save", json={"result": result, "fractions": [1, 1], "path": "loop/x.json"})
    assert response.status_code == 400 and "cannot be used" in response.json()["detail"]
    # A file system with shorter names than ours (ENAMETOOLONG), or a folder we may not read
    # (EACCES; root reads every folder, so it is simulated here), at the existence checks:
    for code in (errno.ENAMETOOLONG, errno.EACCES):

        def refuse(self, code=code):
            raise OSError(code, os.strerror(code), str(self))

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(pathlib.Path, "is_dir", refuse)
            response = client.post("/api/save", json={"result": result, "fractions": [1, 1], "path": "sets/x.json"})
        assert response.status_code == 400 and os.strerror(code) in response.json()["detail"]
    nested = state.out_dir / "nested.json"
    nested.write_text("[" * 100_000 + "]" * 100_000)  # valid JSON, too deep to parse
    response = client.post("/api/save", json={"result": result, "fractions": [1, 1], "path": "nested.json"})
    assert response.status_code == 400 and "not a font set" in response.json()["detail"]
    huge = state.out_dir / "huge.json"
    huge.write_text(json.dumps({"charset": ["A"], "clusters": [], "pad": "x" * (17 << 20)}))
    response = client.post("/api/save", json={"result": result, "fractions": [1, 1], "path": "huge.json"})
    assert response.status_code == 400 and "not a font set" in response.json()["detail"]


def test_map_data_is_cached_privately_and_only_under_its_own_version(space):
    import dataclasses

    client = TestClient(explorer.create_app([space]), base_url=LOCAL)
    version = client.get("/api/spaces/0/info").json()["version"]
    for path in ("/api/spaces/0/points", "/api/spaces/0/atlas/0.png"):
        assert client.get(f"{path}?v={version}").headers["cache-control"] == "private, max-age=3600"
        assert client.get(path).headers["cache-control"] == "no-store"  # an unversioned URL is never kept
        assert client.get(f"{path}?v=0123456789abcdef").headers["cache-control"] == "no-store"
    moved = dataclasses.replace(space, xy=space.xy * 2)  # another embedding served after a restart
    other = TestClient(explorer.create_app([moved]), base_url=LOCAL).get("/api/spaces/0/info").json()["version"]
    assert other != version


MARKUP = "<img src=x onerror=window.pwned=1>"


def test_names_from_disk_are_shown_as_text_not_markup(browser, tmp_path, datasets_dir, monkeypatch):
    """A class folder named like markup (a font file stem reaches the page the same way)."""
    import numpy as np
    from PIL import Image

    from latentmap import load_dataset
    from latentmap.data.imports import import_dataset
    from latentmap.spaces import LatentSpace
    from tests.web.conftest import LiveServer
    from tests.web_fixtures import make_embedding

    digits = load_dataset("digits", data_dir=datasets_dir, cache_dir=tmp_path / "cache", split="test")
    for label, name in ((0, MARKUP), (1, "plain")):
        folder = tmp_path / "images" / name
        folder.mkdir(parents=True)
        for row in np.nonzero(digits.labels == label)[0][:60]:
            Image.fromarray(digits.images[row]).save(folder / f"{row}.png")
    data_opts = {"data_dir": str(tmp_path / "root"), "cache_dir": str(tmp_path / "cache")}
    import_dataset([str(tmp_path / "images")], "markup", progress=False, **data_opts)
    path = make_embedding(tmp_path / "runs", data_opts, dataset="markup", kind="dense", epochs=1, max_points=None)
    space = LatentSpace.load(path, **data_opts)
    context = browser.new_context(viewport={"width": 1200, "height": 800})  # the CSP enforced, as users get it
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    with LiveServer(explorer.create_app([space])) as server:
        page.goto(server.url)
        page.evaluate("window.explorer.ready")  # evaluate runs outside the page's CSP; polling would not
        poll(page, "window.explorer.state.points !== null")
        for index in range(space.count):
            if space.labels[index] == space.info["label_names"].index(MARKUP):
                break
        x, y = page.evaluate("(i) => window.explorer.screenOf(i)", index)
        page.mouse.move(x, y)
        poll(page, "document.querySelector('#hover-text').textContent.includes('#')")
        assert MARKUP in page.inner_text("#hover-text")
        assert page.evaluate("window.pwned") is None and page.query_selector("#hover-text img") is None
    context.close()
    assert not errors, f"the page broke under its own Content-Security-Policy: {errors}"


def poll(page, expression: str, timeout: float = 20) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.05)
