import io
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from latentmap.web.fonts import FontsApp, create_app


@pytest.fixture
def client(corpus, tmp_path):
    return TestClient(create_app(FontsApp(corpus, tmp_path)), base_url="http://127.0.0.1:8001")


def cluster(client, **body):
    response = client.post("/api/cluster", json={"chars": list("AGag"), **body})
    assert response.status_code == 200, response.text
    return response.json()


def test_info(client, corpus):
    info = client.get("/api/info").json()
    assert info["typefaces"] == len(corpus.names) and len(info["chars"]) == 94
    assert "A" in info["good"] and "a" not in info["good"] and len(info["good"]) == 42
    assert len(info["glyph_counts"]["all"]) == len(corpus.names)


@pytest.mark.parametrize(
    "body",
    [
        {"algorithm": "kmeans", "n_clusters": 3},
        {"algorithm": "kmeans", "metric": "cosine", "n_clusters": 4},
        {"algorithm": "spectral", "n_clusters": 3, "n_neighbors": 5},
        {"algorithm": "dbscan", "eps": 12, "min_samples": 2},
        {"algorithm": "dbscan-auto", "min_samples": 2},
        {"algorithm": "kmeans", "n_clusters": 3, "pca_dims": 5},
    ],
)
def test_every_algorithm(client, corpus, body):
    result = cluster(client, **body)
    members = [m for c in result["clusters"] for m in c["members"]] + result["noise"]
    assert sorted(members) == list(range(len(corpus.names)))  # every typeface exactly once
    assert result["summary"]["typefaces"] == len(corpus.names) and result["summary"]["seconds"] > 0
    if body["algorithm"] == "dbscan-auto":
        assert {"eps", "eps_relative", "eps_range", "sweep"} <= result["summary"].keys()


def test_tile_png(client, corpus):
    result = cluster(client, n_clusters=2)
    first = result["clusters"][0]["members"]
    response = client.get(f"/api/results/{result['result']}/tile/0.png", params={"char": "g", "columns": 4})
    tile = np.asarray(Image.open(io.BytesIO(response.content)))
    assert tile.shape == (-(-len(first) // 4) * 29 - 1, 4 * 29 - 1)
    np.testing.assert_array_equal(tile[:28, :28], corpus.glyph(first[0], "g"))


def test_save_writes_both_files(client, corpus, tmp_path):
    result = cluster(client, n_clusters=3)
    fractions = [1.0, 0.5, 0.0]
    answer = client.post(
        "/api/save", json={"result": result["result"], "fractions": fractions, "path": "sets/my_fonts.json"}
    )
    assert answer.status_code == 200, answer.text
    saved = json.loads((tmp_path / "sets" / "my_fonts.json").read_text())
    assert saved["charset"] == list("AGag") and saved["fractions"] == [1.0, 0.5]
    assert (tmp_path / "sets" / "font_chars.png").is_file()
    sizes = answer.json()
    assert sizes["typefaces"] == sum(len(c["font_names"]) for c in saved["clusters"])
    assert sizes["DS-S"] == 4 * sizes["typefaces"]
    folder = client.post("/api/save", json={"result": result["result"], "fractions": fractions, "path": "."})
    assert folder.status_code == 200 and (tmp_path / "font_set.json").is_file()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"chars": ["é"]}, "unknown characters"),
        ({"chars": []}, "at least 1"),
        ({"chars": ["A"], "n_clusters": 400}, "number of clusters must be between 1 and"),
        ({"chars": ["A"], "algorithm": "dbscan", "eps": 0}, "greater than 0"),
        ({"chars": ["A"], "algorithm": "dbscan", "eps": -1}, "greater than 0"),
        ({"chars": ["A"], "pca_dims": 1000}, "PCA dims"),
        ({"chars": ["A"], "algorithm": "birch"}, "kmeans"),
        ({"chars": "A"}, "list"),
    ],
)
def test_bad_cluster_requests(client, body, message):
    response = client.post("/api/cluster", json=body)
    assert response.status_code == 422
    assert message in str(response.json()["detail"])


def test_bad_save_requests(client, tmp_path):
    result = cluster(client, n_clusters=2)["result"]
    cases = [
        ({"result": 999, "fractions": [1, 1]}, 404, "no clustering"),
        ({"result": result, "fractions": [1]}, 422, "expected 2 fractions"),
        ({"result": result, "fractions": [1.5, 0]}, 422, "less than or equal to 1"),
        ({"result": result, "fractions": [0, 0]}, 422, "no typefaces selected"),
        ({"result": result, "fractions": [1, 1], "path": "set.txt"}, 400, "a .json file"),
        ({"result": result, "fractions": [1, 1], "path": "/proc/nope/font_set.json"}, 400, "relative to the output"),
        ({"result": result, "fractions": [1, 1], "path": "blocker/x.json"}, 400, "cannot create directory"),
    ]
    (tmp_path / "blocker").write_text("a file where a folder would go")
    for body, status, message in cases:
        response = client.post("/api/save", json=body)
        assert response.status_code == status, (body, response.text)
        assert message in str(response.json()["detail"]), (body, response.text)
    assert [p.name for p in tmp_path.iterdir()] == ["blocker"]  # nothing half-written
