import base64
import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from latentmap.embed import load_embedding
from latentmap.quality.interpolation import lerp, slerp
from latentmap.web.explorer import create_app


@pytest.fixture(scope="module")
def client(space):
    return TestClient(create_app([space]), base_url="http://127.0.0.1:8000")


def pixels(grid):
    data = np.frombuffer(base64.b64decode(grid["pixels"]), np.uint8)
    return data.reshape(grid["rows"], grid["cols"], grid["size"], grid["size"])


def test_index_and_openapi(client):
    page = client.get("/")
    assert page.status_code == 200 and 'type="module"' in page.text
    assert client.get("/static/js/explorer.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/spaces/{space_id}/interpolate",
        "/api/spaces/{space_id}/analogy",
        "/api/spaces/{space_id}/points",
        "/api/spaces/{space_id}/decode",
        "/api/spaces/{space_id}/neighbors",
    } <= set(paths)


def test_info(client, space):
    (listed,) = client.get("/api/spaces").json()
    info = client.get("/api/spaces/0/info").json()
    assert listed == info
    assert info["count"] == 2000 and info["kind"] == "vae" and info["method"] == "pca" and info["dataset"] == "digits"
    assert info["label_names"] == [str(d) for d in range(10)] and info["d_latent"] == 8
    assert info["atlas"] == {"columns": 64, "per_atlas": 4096, "thumb": 28, "count": 1}


def test_points_blob(client, space):
    response = client.get("/api/spaces/0/points")
    layout = space.info["points_layout"]
    blob = response.content
    assert response.headers["content-type"] == "application/octet-stream" and len(blob) == layout["bytes"]
    n = space.count
    xy = np.frombuffer(blob, "<f4", 2 * n, layout["xy"]).reshape(n, 2)
    labels = np.frombuffer(blob, "<u2", n, layout["labels"])
    typefaces = np.frombuffer(blob, "<i4", n, layout["typefaces"])
    embedding = load_embedding(space.path)
    np.testing.assert_array_equal(xy, embedding.xy)
    np.testing.assert_array_equal(labels, embedding.labels)
    assert (typefaces == -1).all()


def test_atlas(client, space):
    response = client.get("/api/spaces/0/atlas/0.png")
    assert response.headers["content-type"] == "image/png"
    sheet = np.asarray(Image.open(io.BytesIO(response.content)))
    assert sheet.shape == (-(-2000 // 64) * 28, 64 * 28)
    np.testing.assert_array_equal(sheet[28:56, 5 * 28 : 6 * 28], space.images[64 + 5])
    assert client.get("/api/spaces/0/atlas/1.png").status_code == 422
    assert client.get("/api/spaces/0/atlas/-1.png").status_code == 422


def test_interpolation_grid(client, space):
    response = client.post("/api/spaces/0/interpolate", json={"sources": [0, 5, 9], "target": 20})
    grid = pixels(response.json())
    assert grid.shape == (3, 11, 28, 28)
    np.testing.assert_array_equal(grid[:, 0], space.images[[0, 5, 9]])
    np.testing.assert_array_equal(grid[:, 8], np.repeat(space.images[20][None], 3, axis=0))
    t = np.array([1 / 8, 2 / 8, 3 / 8, 4 / 8, 5 / 8, 6 / 8, 7 / 8, 1.1, 1.5])
    expected = space.run.decode(lerp(space.codes[[0]], space.codes[[20]], t)[0])
    np.testing.assert_allclose(grid[0, [1, 2, 3, 4, 5, 6, 7, 9, 10]] / 255, expected, atol=1 / 255 + 1e-6)
    spherical = pixels(
        client.post("/api/spaces/0/interpolate", json={"sources": [0], "target": 20, "mode": "slerp"}).json()
    )
    expected = space.run.decode(slerp(space.codes[[0]], space.codes[[20]], t)[0])
    np.testing.assert_allclose(spherical[0, [1, 2, 3, 4, 5, 6, 7, 9, 10]] / 255, expected, atol=1 / 255 + 1e-6)


def test_analogy_grid(client, space):
    grid = pixels(client.post("/api/spaces/0/analogy", json={"c": [1, 2], "a": 3, "b": 4}).json())
    assert grid.shape == (2, 2, 28, 28)
    np.testing.assert_array_equal(grid[:, 0], space.images[[1, 2]])
    expected = space.run.decode(space.codes[[1, 2]] + space.codes[4] - space.codes[3])
    np.testing.assert_allclose(grid[:, 1] / 255, expected, atol=1 / 255 + 1e-6)


def test_decode(client, space):
    codes = space.codes[:3].tolist()
    grid = pixels(client.post("/api/spaces/0/decode", json={"codes": codes}).json())
    assert grid.shape == (1, 3, 28, 28)
    np.testing.assert_allclose(grid[0] / 255, space.run.decode(space.codes[:3]), atol=1 / 255 + 1e-6)


def test_neighbours(client, space):
    answer = client.get("/api/spaces/0/neighbors", params={"index": 7, "k": 5}).json()
    assert len(answer["neighbours"]) == 5 and 7 not in answer["neighbours"]
    assert answer["distances"] == sorted(answer["distances"])
    distances = np.linalg.norm(space.codes - space.codes[7], axis=1)
    distances[7] = np.inf
    assert answer["neighbours"][0] == int(np.argmin(distances))


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "message"),
    [
        ("post", "/api/spaces/0/interpolate", {"sources": list(range(11)), "target": 1}, 422, "at most 10"),
        ("post", "/api/spaces/0/interpolate", {"sources": [], "target": 1}, 422, "at least 1"),
        ("post", "/api/spaces/0/interpolate", {"sources": [0], "target": 2000}, 422, "out of range"),
        ("post", "/api/spaces/0/interpolate", {"sources": [-1], "target": 3}, 422, "greater than or equal to 0"),
        ("post", "/api/spaces/0/interpolate", {"sources": [0], "target": 3, "mode": "cubic"}, 422, "linear"),
        ("post", "/api/spaces/0/interpolate", {"sources": [0]}, 422, "target"),
        ("post", "/api/spaces/0/interpolate", {"sources": ["a"], "target": 3}, 422, "integer"),
        ("post", "/api/spaces/0/analogy", {"c": list(range(8)), "a": 1, "b": 2}, 422, "at most 7"),
        ("post", "/api/spaces/0/analogy", {"c": [0], "a": 99999, "b": 2}, 422, "out of range"),
        ("post", "/api/spaces/0/decode", {"codes": [[0.0] * 7]}, 422, "shape"),
        ("post", "/api/spaces/0/decode", {"codes": [[0.0] * 8] * 513}, 422, "at most 512"),
        ("post", "/api/spaces/0/decode", {"codes": "zeros"}, 422, "list"),
        ("get", "/api/spaces/0/neighbors?index=5&k=0", None, 422, "greater than or equal to 1"),
        ("get", "/api/spaces/0/neighbors?index=5000", None, 422, "out of range"),
        ("get", "/api/spaces/0/neighbors?index=x", None, 422, "integer"),
        ("get", "/api/spaces/3/info", None, 404, "no embedding 3"),
        ("get", "/api/spaces/-1/info", None, 422, "greater than or equal to 0"),
    ],
)
def test_bad_requests(client, method, url, body, status, message):
    response = client.request(method.upper(), url, json=body)
    assert response.status_code == status
    assert message in str(response.json()["detail"])


def test_non_finite_codes_and_malformed_json(client):
    response = client.post(
        "/api/spaces/0/decode",
        content=b'{"codes": [[NaN, 0, 0, 0, 0, 0, 0, 0]]}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422 and "finite" in str(response.json()["detail"])
    response = client.post(
        "/api/spaces/0/interpolate", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def walk_experiment():
    """A throwaway experiment, as a contributor adds one: a module with its request, its
    route and the request the widget's picks make."""
    import types

    from fastapi import APIRouter
    from pydantic import BaseModel, Field

    from latentmap.web.common import JudgedGrid
    from latentmap.web.explorer.spaces import Row, Space, judged

    walk = types.ModuleType("walk")
    walk.router, walk.GRIDS = APIRouter(), ("/api/spaces/{space_id}/walk",)

    class WalkRequest(BaseModel):
        start: Row
        steps: int = Field(5, ge=1, le=16)

    @walk.router.post("/api/spaces/{space_id}/walk")
    def random_walk(one: Space, request: WalkRequest) -> JudgedGrid:
        code = one.codes_of(one.check_rows([request.start], "start"))[0]
        noise = np.random.default_rng(0).normal(scale=0.3, size=(request.steps, len(code)))
        codes = (code + np.cumsum(noise, axis=0)).astype(np.float32)
        return JudgedGrid(**judged(one, one.decode(codes)[None]))

    walk.from_picks = lambda picks, target, b: ("/api/spaces/0/walk", {"start": picks[0]}) if picks else None
    return walk


def test_an_experiment_added_to_the_table_is_served_and_reaches_the_widget(space, monkeypatch):
    from latentmap.web.explorer.experiments import EXPERIMENTS, grid_routes
    from latentmap.web.widget import ExplorerWidget

    monkeypatch.setitem(EXPERIMENTS, "walk", walk_experiment())
    client = TestClient(create_app([space]), base_url="http://127.0.0.1:8000")
    assert "/api/spaces/{space_id}/walk" in client.get("/openapi.json").json()["paths"]
    answer = client.post(
        "/api/spaces/0/walk", json={"start": 3, "steps": 4}, headers={"Origin": "http://127.0.0.1:8000"}
    )
    assert answer.status_code == 200 and pixels(answer.json()).shape == (1, 4, 28, 28)
    assert client.post("/api/spaces/0/walk", json={"start": 3, "steps": 99}).status_code == 422  # its own bounds
    assert grid_routes().match("/api/spaces/0/walk")
    made = ExplorerWidget([space])
    try:
        made.experiment, made.picks = "walk", [int(space.rows[0])]
        grid = made.result()
        assert grid.experiment == "walk" and grid.images.shape == (1, 5, 28, 28) and grid.images.any()
    finally:
        made.close()
