"""What both apps refuse: malformed and hostile requests, foreign hosts and sites, oversized
bodies, unbounded work, writes outside the output folder. Each answer is a 4xx with a
message, never a 5xx; an API fuzzer (schemathesis) checks the same over generated requests."""

import json
import os
import time

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from latentmap.typefaces import font_chars_image
from latentmap.web import explorer, fonts
from latentmap.web.security import Policy

LOCAL = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def explorer_client(space):
    return TestClient(explorer.create_app([space]), base_url=LOCAL)


@pytest.fixture
def fonts_state(corpus, tmp_path):
    return fonts.FontsApp(corpus, tmp_path / "out")


@pytest.fixture
def fonts_client(fonts_state):
    fonts_state.out_dir.mkdir()
    return TestClient(fonts.create_app(fonts_state), base_url=LOCAL)


def raw_post(client, url, text):
    return client.post(url, content=text.encode(), headers={"content-type": "application/json"})


# --------------------------------------------------------------------------- explorer


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/spaces/0/decode", '{"codes": [[1e999, 0, 0, 0, 0, 0, 0, 0]]}'),
        ("/api/spaces/0/interpolate", '{"sources": [1e999], "target": 1}'),
        ("/api/spaces/0/interpolate", '{"sources": [0], "target": -1e999}'),
    ],
)
def test_non_finite_json_gets_422_not_a_crash(explorer_client, url, body):
    response = raw_post(explorer_client, url, body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"]


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/spaces/0/interpolate", {"sources": [2**70], "target": 1}),
        ("/api/spaces/0/interpolate", {"sources": [0], "target": 2**63}),
        ("/api/spaces/0/analogy", {"c": [0], "a": -(2**64), "b": 1}),
        ("/api/spaces/0/analogy", {"c": [0], "a": 0, "b": 2**100}),
    ],
)
def test_integers_beyond_int64_get_422(explorer_client, url, body):
    assert explorer_client.post(url, json=body).status_code == 422


def test_huge_query_and_path_integers_get_422(explorer_client):
    assert explorer_client.get(f"/api/spaces/0/neighbors?index={2**70}").status_code == 422
    assert explorer_client.get(f"/api/spaces/{2**70}/info").status_code == 422
    assert explorer_client.get(f"/api/spaces/0/atlas/{2**70}.png").status_code == 422


def test_ragged_codes_get_422(explorer_client, space):
    response = explorer_client.post("/api/spaces/0/decode", json={"codes": [[0.0] * 8, [0.0] * 3]})
    assert response.status_code == 422 and "8 numbers" in response.json()["detail"]
    with pytest.raises(Exception, match="8 numbers"):
        space.decode([[0.0] * 8, [0.0]])  # the core refuses it too


def test_overflowing_float_codes_are_not_finite(explorer_client):
    response = explorer_client.post("/api/spaces/0/decode", json={"codes": [[1e300] * 8]})
    assert response.status_code == 422 and "finite" in response.json()["detail"]


def test_body_size_is_capped(explorer_client):
    body = json.dumps({"codes": [[0.0] * 8] * 40000})  # ~1.3 MB
    assert raw_post(explorer_client, "/api/spaces/0/decode", body).status_code == 413

    def chunks():  # no Content-Length: counted as it streams
        for _ in range(40):
            yield b" " * 50_000

    response = explorer_client.post(
        "/api/spaces/0/decode", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


# --------------------------------------------------------------------------- Host, Origin, token


def test_foreign_host_is_refused(space):
    client = TestClient(explorer.create_app([space]), base_url="http://rebound.example:8000")
    assert client.get("/api/spaces").status_code == 400
    for name in ("127.0.0.1", "localhost", "[::1]"):
        assert TestClient(explorer.create_app([space]), base_url=f"http://{name}:8000").get("/api/spaces").is_success
    allowed = Policy.for_server("127.0.0.1", allow_hosts=["rebound.example"])
    client = TestClient(explorer.create_app([space], allowed), base_url="http://rebound.example:8000")
    assert client.get("/api/spaces").status_code == 200


def test_cross_site_posts_are_refused(explorer_client):
    body = {"sources": [0], "target": 1}
    foreign = explorer_client.post("/api/spaces/0/interpolate", json=body, headers={"origin": "http://evil.example"})
    assert foreign.status_code == 403 and "cross-site" in foreign.json()["detail"]
    fetch_site = {"sec-fetch-site": "cross-site"}
    assert explorer_client.post("/api/spaces/0/interpolate", json=body, headers=fetch_site).status_code == 403
    own = explorer_client.post("/api/spaces/0/interpolate", json=body, headers={"origin": LOCAL})
    assert own.status_code == 200
    assert explorer_client.get("/api/spaces", headers={"origin": "http://evil.example"}).status_code == 200


def test_non_loopback_binding_needs_the_token(space):
    policy = Policy.for_server("0.0.0.0")
    assert policy.token and len(policy.token) >= 24
    assert Policy.for_server("0.0.0.0", no_token=True).token is None
    assert Policy.for_server("127.0.0.1").token is None
    client = TestClient(explorer.create_app([space], policy), base_url=LOCAL)
    refused = client.get("/api/spaces")
    assert refused.status_code == 403 and "token" in refused.json()["detail"]
    assert client.get("/api/spaces", params={"token": "wrong"}).status_code == 403
    page = client.get("/", params={"token": policy.token})
    assert page.status_code == 200 and "latentmap_token_8000" in page.headers["set-cookie"]
    assert client.get("/api/spaces").status_code == 200  # the cookie now carries it
    fresh = TestClient(explorer.create_app([space], policy), base_url=LOCAL)
    assert fresh.get("/api/spaces", headers={"authorization": f"token {policy.token}"}).status_code == 200
    # reached by the machine's LAN address: any Host name, the token decides
    remote = TestClient(explorer.create_app([space], policy), base_url="http://192.0.2.7:8000")
    assert remote.get("/api/spaces").status_code == 403
    answer = remote.post(
        "/api/spaces/0/interpolate",
        json={"sources": [0], "target": 1},
        params={"token": policy.token},
        headers={"origin": "http://192.0.2.7:8000"},  # the page's own origin
    )
    assert answer.status_code == 200


def test_serve_prints_the_token_and_warns(space, monkeypatch, capsys):
    import uvicorn

    from latentmap.web.common import serve

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    policy = Policy.for_server("0.0.0.0")
    serve(explorer.create_app([space], policy), "0.0.0.0", 8123, False, policy)
    out = capsys.readouterr().out
    assert "warning" in out and f"http://127.0.0.1:8123/?token={policy.token}" in out


# --------------------------------------------------------------------------- typeface app


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"chars": ["A"], "seed": 2**40}, "less than or equal to"),
        ({"chars": ["A"], "seed": -1}, "greater than or equal to 0"),
        ({"chars": ["A"], "algorithm": "dbscan-auto", "min_samples": 1}, "min samples between 2"),
        ({"chars": ["A"], "algorithm": "spectral", "n_clusters": 500}, "number of clusters must be between 1 and"),
        ({"chars": [""]}, "at least 1 character"),
        ({"chars": ["AB", "A"]}, "at most 1 character"),
        ({"chars": ["A", "A"]}, "twice"),
    ],
)
def test_bad_cluster_parameters_get_422(fonts_client, corpus, body, message):
    response = fonts_client.post("/api/cluster", json=body)
    assert response.status_code == 422, response.text
    assert message in str(response.json()["detail"])


def test_spectral_with_as_many_clusters_as_typefaces_is_refused(fonts_client, corpus):
    n = len(corpus.complete("A"))
    response = fonts_client.post("/api/cluster", json={"chars": ["A"], "algorithm": "spectral", "n_clusters": n})
    assert response.status_code == 422 and f"between 1 and {n - 1}" in response.json()["detail"]
    ok = fonts_client.post("/api/cluster", json={"chars": ["A"], "algorithm": "spectral", "n_clusters": n - 1})
    assert ok.status_code == 200


def test_work_is_bounded_before_it_starts(fonts_client, fonts_state, monkeypatch):
    from latentmap.typefaces import clustering

    # On the full corpus all 94 characters x 499 clusters runs for minutes; the bound is
    # relative, so a smaller budget shows the same refusal on the small test corpus.
    monkeypatch.setattr(clustering, "MAX_WORK", 1e8)
    start = time.perf_counter()
    body = {"chars": fonts_state.corpus.good, "n_clusters": 12}
    response = fonts_client.post("/api/cluster", json=body)
    assert response.status_code == 422 and "would take minutes" in response.json()["detail"]
    assert time.perf_counter() - start < 2  # refused up front, before building the vectors
    assert fonts_client.post("/api/cluster", json={**body, "pca_dims": 5}).status_code == 200


def test_one_clustering_at_a_time(fonts_client, fonts_state):
    with fonts_state.busy:  # as if another request were clustering now
        response = fonts_client.post("/api/cluster", json={"chars": ["A"], "n_clusters": 2})
    assert response.status_code == 429 and response.headers["retry-after"]
    assert fonts_client.post("/api/cluster", json={"chars": ["A"], "n_clusters": 2}).status_code == 200


def test_font_chars_picture_is_capped(corpus, monkeypatch):
    from latentmap.typefaces import selection

    monkeypatch.setattr(selection, "MAX_PICTURE_PIXELS", 32 * (28 * 94 + 8) * 5)
    every = corpus.complete("A")
    picture = font_chars_image(corpus, every, corpus.chars)
    assert picture.size <= 5 * 32 * (28 * 94 + 8) + 28 * 94 * 8


def saved(client, path, **extra):
    result = client.post("/api/cluster", json={"chars": ["A", "G"], "n_clusters": 2}).json()["result"]
    return client.post("/api/save", json={"result": result, "fractions": [1, 1], "path": path, **extra})


@pytest.mark.parametrize("path", ["/tmp/x.json", "../x.json", "sub/../../x.json", "~/x.json", "~root/x.json"])
def test_saves_cannot_leave_the_output_folder(fonts_client, fonts_state, path):
    response = saved(fonts_client, path)
    assert response.status_code == 400 and "output folder" in response.json()["detail"]
    assert not (fonts_state.out_dir.parent / "x.json").exists()


def test_symlinks_out_of_the_folder_are_refused(fonts_client, fonts_state, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, fonts_state.out_dir / "link")
    response = saved(fonts_client, "link/set.json")
    assert response.status_code == 400 and "outside the output folder" in response.json()["detail"]
    assert not list(outside.iterdir())


def test_other_files_are_not_overwritten_without_the_flag(fonts_client, fonts_state):
    config = fonts_state.out_dir / "config.json"
    config.write_text('{"model": {}}')
    response = saved(fonts_client, "config.json")
    assert response.status_code == 400 and "overwrite" in response.json()["detail"]
    assert config.read_text() == '{"model": {}}'
    assert saved(fonts_client, "config.json", overwrite=True).status_code == 200
    assert "charset" in json.loads(config.read_text())
    assert saved(fonts_client, "config.json").status_code == 200  # now a font set: replacing it is fine


@pytest.mark.parametrize(
    "path", ["bad\x00name.json", "new\nline.json", "x" * 300 + ".json", "d/" + "y" * 240 + "/s.json"]
)
def test_unusable_save_names_get_400(fonts_client, path):
    response = saved(fonts_client, path)
    assert response.status_code == 400, response.text
    assert "control characters" in response.json()["detail"] or "bytes" in response.json()["detail"]


# --------------------------------------------------------------------------- origins, content types, token cookies


@pytest.mark.parametrize(
    "origin",
    ["http://127.0.0.1:3000", "http://localhost:8000", "https://127.0.0.1:8000", "http://127.0.0.1", "null", "x"],
)
def test_an_origin_is_its_scheme_host_and_port(explorer_client, origin):
    """Another local dev server (another port) is another site, as far as the browser's
    same-origin rules go; so is the other scheme or another name for the same address."""
    body = {"sources": [0], "target": 1}
    response = explorer_client.post("/api/spaces/0/interpolate", json=body, headers={"origin": origin})
    assert response.status_code == 403, origin
    same = explorer_client.post("/api/spaces/0/interpolate", json=body, headers={"origin": "http://127.0.0.1:8000"})
    assert same.status_code == 200


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
def test_state_changing_requests_must_be_json(explorer_client, fonts_client, content_type):
    """A cross-origin HTML form can send these types without a preflight; the apps take
    only JSON bodies, whatever the installed FastAPI does."""
    body = json.dumps({"sources": [0], "target": 1}).encode()
    headers = {"content-type": content_type} if content_type else {}
    response = explorer_client.post("/api/spaces/0/interpolate", content=body, headers=headers)
    assert response.status_code == 415 and "JSON" in response.json()["detail"]
    cluster = json.dumps({"chars": ["A"], "n_clusters": 2}).encode()
    assert fonts_client.post("/api/cluster", content=cluster, headers=headers).status_code == 415
    typed = {"content-type": "application/json; charset=utf-8"}
    assert explorer_client.post("/api/spaces/0/interpolate", content=body, headers=typed).status_code == 200


def token_app(space, port: int):
    policy = Policy.for_server("0.0.0.0")
    return policy, TestClient(explorer.create_app([space], policy), base_url=f"http://127.0.0.1:{port}")


def test_token_cookies_are_scoped_by_port(space):
    """Two token-mode apps on one machine: cookies ignore ports, so one name would let the
    second app's cookie replace the first's."""
    policy_a, app_a = token_app(space, 8000)
    policy_b, app_b = token_app(space, 8001)
    cookie_a = app_a.get("/", params={"token": policy_a.token}).headers["set-cookie"]
    cookie_b = app_b.get("/", params={"token": policy_b.token}).headers["set-cookie"]
    assert cookie_a.startswith("latentmap_token_8000=") and cookie_b.startswith("latentmap_token_8001=")
    both = f"latentmap_token_8000={policy_a.token}; latentmap_token_8001={policy_b.token}"
    for client in (app_a, app_b):
        client.cookies.clear()
        assert client.get("/api/spaces", headers={"cookie": both}).status_code == 200


def test_token_after_an_ordinary_cookie_is_seen(space):
    policy, client = token_app(space, 8000)
    cookie = f'prefs={{"a":1}}; latentmap_token_8000={policy.token}'
    assert client.get("/api/spaces", headers={"cookie": cookie}).status_code == 200


def test_non_ascii_tokens_get_403(space):
    _, client = token_app(space, 8000)
    for token in ("é", "ü" * 32, "\u2603"):
        response = client.get("/api/spaces", params={"token": token})
        assert response.status_code == 403 and "token" in response.json()["detail"]


def test_the_token_leaves_the_address_bar_once_the_cookie_holds_it(space):
    policy, client = token_app(space, 8000)
    html = {"accept": "text/html,application/xhtml+xml"}
    opened = client.get("/", params={"token": policy.token, "x": "1"}, headers=html, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/?x=1"
    assert opened.headers["set-cookie"].startswith(f"latentmap_token_8000={policy.token};")
    assert "HttpOnly" in opened.headers["set-cookie"] and "SameSite=Strict" in opened.headers["set-cookie"]
    page = client.get(opened.headers["location"], headers=html)  # the cookie carries the token now
    assert page.status_code == 200 and "<html" in page.text.lower()
    scripted = client.get("/api/spaces", params={"token": policy.token}, follow_redirects=False)
    assert scripted.status_code == 200  # a script's ?token= is answered, not redirected


# --------------------------------------------------------------------------- the fuzzer

FUZZ = settings(
    max_examples=30,
    derandomize=True,  # a fixed seed: the same requests every run
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def fuzz(app) -> list[str]:
    """Run the fuzzer over every operation of ``app``'s OpenAPI schema; returns the
    operations it exercised (a failing check raises with the request that broke it)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers={"host": "127.0.0.1"})
    exercised = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @FUZZ
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(headers={"host": "127.0.0.1"}, checks=[not_a_server_error])

        check()
        exercised.append(operation.label)
    return exercised


def test_fuzz_explorer_has_no_server_errors(explorer_client):
    exercised = fuzz(explorer_client.app)
    assert "POST /api/spaces/{space_id}/interpolate" in exercised and len(exercised) >= 7


def test_fuzz_fonts_app_has_no_server_errors(fonts_client):
    fonts_client.post("/api/cluster", json={"chars": ["A"], "n_clusters": 2})  # result 0 exists for tiles and saves
    exercised = fuzz(fonts_client.app)
    assert {"POST /api/cluster", "POST /api/save"} <= set(exercised)


def test_api_docs_work_offline(explorer_client, fonts_client):
    """/docs is served from the package: no CDN in the page, and its assets load."""
    for client in (explorer_client, fonts_client):
        page = client.get("/docs")
        assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
        assert "cdn." not in page.text and "https://" not in page.text.split("<body>")[-1].split("</body>")[0]
        assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
        assert client.get("/docs/assets/swagger-ui.css").status_code == 200
