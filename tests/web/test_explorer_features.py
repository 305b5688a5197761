"""The explorer's comparison features over HTTP: judge verdicts, the same picks through
several models, decode anywhere on the map, the validity layer, typeface morphs and
attribute vectors, on small real runs."""

import base64
import csv
import dataclasses
import shutil
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from latentmap import load_dataset
from latentmap.quality.judge import JudgeSlot, train_judge
from latentmap.spaces import LatentSpace
from latentmap.web.explorer import create_app
from tests.web_fixtures import make_embedding

LOCAL = "http://127.0.0.1:8000"
FAMILIES = ["Lato", "Merriweather", "Arimo", "NotoSerif", "Roboto"]  # Roboto hashes into the test split
STYLES = ["Regular", "Bold", "Italic", "BoldItalic"]
LACKING_GLYPHS = ["Italiana-Regular", "BIZUDGothic-Regular"]  # 91 and 93 of the 94 characters


def pixels(grid):
    data = np.frombuffer(base64.b64decode(grid["pixels"]), np.uint8)
    return data.reshape(grid["rows"], grid["cols"], grid["size"], grid["size"])


@pytest.fixture(scope="module")
def digits_judge(datasets_dir, session_cache):
    digits = load_dataset("digits", data_dir=datasets_dir, cache_dir=session_cache)
    return JudgeSlot(train_judge(digits, epochs=1, max_train=6000, progress=False))


@pytest.fixture(scope="module")
def spaces(tmp_path_factory, datasets_dir, session_cache, digits_judge):
    """A VAE (PCA map) and an AE (t-SNE map) of digits sharing one dataset and judge."""
    data_opts = {"data_dir": str(datasets_dir), "cache_dir": str(session_cache)}
    root = tmp_path_factory.mktemp("features")
    vae = LatentSpace.load(make_embedding(root, data_opts, kind="vae"), **data_opts, judge_slot=digits_judge)
    ae_path = make_embedding(root, data_opts, kind="dense", method="tsne", max_points=1500)
    ae = LatentSpace.load(ae_path, **data_opts, dataset=vae.dataset, judge_slot=digits_judge)
    return vae, ae


@pytest.fixture(scope="module")
def typeface_fonts(tmp_path_factory, fonts_dir):
    """Four families in four styles each (serif and sans-serif), with their manifest rows."""
    folder = tmp_path_factory.mktemp("families")
    names = {f"{family}-{style}.woff2" for family in FAMILIES for style in STYLES}
    names |= {f"{name}.woff2" for name in LACKING_GLYPHS}
    for name in names:
        shutil.copy(fonts_dir / name, folder / name)
    with open(fonts_dir / "manifest.csv", newline="") as src, open(folder / "manifest.csv", "w", newline="") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        writer.writerows(row for row in reader if row["file"] in names)
    return folder


@pytest.fixture(scope="module")
def fonts_space(tmp_path_factory, datasets_dir, typeface_fonts):
    cache = tmp_path_factory.mktemp("fonts-cache")
    data_opts = {"data_dir": str(datasets_dir), "cache_dir": str(cache), "fonts_dir": str(typeface_fonts)}
    path = make_embedding(
        tmp_path_factory.mktemp("fonts"), data_opts, dataset="alphanumeric", kind="dense", max_points=None
    )
    return LatentSpace.load(path, **data_opts)


@pytest.fixture(scope="module")
def client(spaces, fonts_space):
    return TestClient(create_app([*spaces, fonts_space]), base_url=LOCAL)


def test_grids_carry_judge_verdicts(client, spaces):
    vae, _ = spaces
    answer = client.post("/api/spaces/0/interpolate", json={"sources": [0, 5], "target": 9}).json()
    assert answer["judge"] == "ready" and len(answer["verdicts"]) == 2 and len(answer["verdicts"][0]) == 11
    probs, _ = vae.judge.predict(pixels(answer).reshape(-1, 28, 28))
    cells = [cell for row in answer["verdicts"] for cell in row]
    assert [c["label"] for c in cells] == probs.argmax(axis=1).tolist()
    assert [c["valid"] for c in cells] == (probs.max(axis=1) >= vae.judge.tau).tolist()
    assert all(len(c["top"]) == 3 and c["top"][0][1] >= c["top"][1][1] for c in cells)


def test_the_same_picks_through_two_models(client, spaces):
    vae, ae = spaces
    rows = [int(vae.rows[0]), int(vae.rows[5])]
    target = int(vae.rows[9])
    answer = client.post("/api/compare/interpolate", json={"spaces": [0, 1], "sources": rows, "target": target})
    assert answer.status_code == 200, answer.text
    first, second = answer.json()["grids"]
    assert (first["kind"], second["kind"]) == ("vae", "dense") and first["space"] == 0 and second["space"] == 1
    a, b = pixels(first), pixels(second)
    np.testing.assert_array_equal(a[:, [0, 8]], b[:, [0, 8]])  # the same real images at both ends
    np.testing.assert_array_equal(a[:, 0], vae.dataset.images[rows])
    expected = ae.run.decode(
        ae.run.encode(vae.dataset.images[rows]) * 0.5 + ae.run.encode(vae.dataset.images[[target]]) * 0.5
    )
    np.testing.assert_allclose(b[:, 4] / 255, expected, atol=1 / 255 + 1e-5)
    assert not np.array_equal(a[:, 4], b[:, 4])  # two models, two different morphs
    analogy = client.post("/api/compare/analogy", json={"spaces": [1, 0], "c": rows, "a": target, "b": rows[0]})
    assert [g["kind"] for g in analogy.json()["grids"]] == ["dense", "vae"]


def test_spaces_of_different_datasets_are_never_compared(client):
    response = client.post("/api/compare/interpolate", json={"spaces": [0, 2], "sources": [0], "target": 1})
    assert response.status_code == 422 and "never compared" in response.json()["detail"]


def test_decode_xy_is_the_exact_pca_inverse(client, spaces):
    from sklearn.decomposition import PCA

    vae, _ = spaces
    answer = client.post("/api/spaces/0/decode_xy", json={"xy": vae.xy[:5].tolist()}).json()
    assert "exact" in answer["method"]
    pca = PCA(n_components=2).fit(vae.codes)
    projected = pca.inverse_transform(pca.transform(vae.codes[:5]))
    np.testing.assert_allclose(np.array(answer["codes"]), projected, atol=2e-3)
    np.testing.assert_allclose(pixels(answer)[0] / 255, vae.run.decode(projected), atol=2 / 255)


def test_decode_xy_on_tsne_is_a_smooth_inverse(client, spaces):
    _, ae = spaces
    on_points = client.post("/api/spaces/1/decode_xy", json={"xy": ae.xy[:3].tolist()}).json()
    assert "inverse-distance weighting" in on_points["method"]
    np.testing.assert_allclose(np.array(on_points["codes"]), ae.codes[:3], atol=1e-4)  # a point's own code
    between = (ae.xy[0] + ae.xy[1]) / 2
    code = np.array(client.post("/api/spaces/1/decode_xy", json={"xy": [between.tolist()]}).json()["codes"][0])
    assert ae.codes.min(axis=0).min() - 1e-4 <= code.min() and code.max() <= ae.codes.max() + 1e-4


@pytest.mark.parametrize(
    "body",
    [
        '{"xy": [[1e999, 0]]}',
        '{"xy": [[NaN, 0]]}',
        '{"xy": [[1, 2, 3]]}',
        '{"xy": [[1]]}',
        '{"xy": []}',
        '{"xy": "here"}',
    ],
)
def test_decode_xy_bad_input(client, body):
    response = client.post(
        "/api/spaces/0/decode_xy", content=body.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text


def wait_for_validity(client, space_id=0):
    deadline = time.monotonic() + 120
    response = client.post(f"/api/spaces/{space_id}/validity_map", json={})
    while response.status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.2)
        response = client.get(f"/api/spaces/{space_id}/validity_map")
    return response


def test_validity_map_is_computed_once_and_cached_beside_the_embedding(client, spaces, digits_judge):
    vae, _ = spaces
    response = wait_for_validity(client)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["size"] == [64, 64] and len(answer["validity"]) == 64 * 64
    assert all(0 <= v <= 1 for v in answer["validity"]) and 0 < np.mean(answer["validity"]) < 1
    x0, y0, x1, _ = answer["extent"]
    assert x0 < vae.xy[:, 0].min() and x1 > vae.xy[:, 0].max() and y0 < vae.xy[:, 1].min()
    cache = vae.path.with_name(vae.path.name.removesuffix(".npz") + ".validity.npz")
    assert cache.is_file()
    again = LatentSpace.load(vae.path, dataset=vae.dataset, judge_slot=digits_judge)
    status, value = again.validity_map()  # read from the file, not recomputed
    assert status == "ready" and value["validity"] == answer["validity"]


def test_validity_map_without_a_judge(client, fonts_space):
    for response in (client.get("/api/spaces/2/validity_map"), client.post("/api/spaces/2/validity_map", json={})):
        assert response.status_code == 422 and "no judge" in response.json()["detail"]


def test_reading_the_validity_map_starts_no_work(spaces, digits_judge, tmp_path):
    """A GET (an <img> on any page can send one) only reads; the POST that starts the work
    passes the Origin check."""
    vae, _ = spaces
    copy = tmp_path / vae.path.name
    shutil.copy(vae.path, copy)
    fresh = LatentSpace.load(copy, dataset=vae.dataset, judge_slot=digits_judge)
    app = TestClient(create_app([fresh]), base_url=LOCAL)
    for _ in range(3):
        response = app.get("/api/spaces/0/validity_map")
        assert response.status_code == 404 and "POST" in response.json()["detail"]
    assert fresh.validity_maps.thread is None and not copy.with_name(copy.stem + ".validity.npz").exists()
    foreign = app.post("/api/spaces/0/validity_map", json={}, headers={"origin": "http://evil.example"})
    assert foreign.status_code == 403 and fresh.validity_maps.thread is None
    assert wait_for_validity(app).status_code == 200


def test_a_stale_validity_layer_is_never_shown(spaces, digits_judge, tmp_path):
    """The cache beside an embedding is keyed by the embedding's points and the judge's
    weights and tau: re-embedding the run or retraining the judge makes it stale."""
    from latentmap.embed import load_embedding
    from latentmap.quality.judge import Judge

    vae, _ = spaces
    assert vae.validity_map(start=True)[0] in ("ready", "computing")
    while vae.validity_map()[0] == "computing":
        time.sleep(0.2)
    assert vae.validity_map()[0] == "ready"
    cache = vae.path.with_name(vae.path.name.removesuffix(".npz") + ".validity.npz")
    folder = tmp_path / "re-embedded"
    folder.mkdir()
    embedding = load_embedding(vae.path)
    embedding.xy = embedding.xy * 3 + 1  # another seed or method: the same run, another map
    embedding.save(folder / vae.path.name)
    shutil.copy(cache, folder / cache.name)
    same_copy = tmp_path / "copied"
    same_copy.mkdir()
    shutil.copy(vae.path, same_copy / vae.path.name)
    shutil.copy(cache, same_copy / cache.name)

    def status(path, slot):
        return LatentSpace.load(path, dataset=vae.dataset, judge_slot=slot).validity_map()[0]

    assert status(same_copy / vae.path.name, digits_judge) == "ready"  # the very same map and judge
    assert status(folder / vae.path.name, digits_judge) == "absent"
    judge = digits_judge.judge
    retuned = Judge(judge.net, {**judge.info, "tau": judge.tau * 0.5})
    assert status(same_copy / vae.path.name, JudgeSlot(retuned)) == "absent"
    retrained = train_judge(vae.dataset, epochs=1, max_train=2000, progress=False, seed=1)
    assert status(same_copy / vae.path.name, JudgeSlot(retrained)) == "absent"


def test_a_failed_validity_map_is_reported_once_not_restarted(tmp_path):
    from latentmap.spaces.map_inverse import ValidityMaps

    calls = []

    def broken():
        calls.append(1)
        raise ValueError("decoder exploded\nsecond line")

    maps = ValidityMaps(tmp_path / "x.validity.npz")
    assert maps.get("k") == ("absent", None)
    assert maps.start(broken, "k") == ("computing", None)
    maps.thread.join(10)
    for _ in range(5):  # the page polls: the failure is answered, the work not started again
        assert maps.get("k") == ("failed", "ValueError: decoder exploded")
    assert len(calls) == 1 and not (tmp_path / "x.validity.npz").exists()
    maps.start(broken, "k")  # asked again (the layer toggled on again): one more try
    maps.thread.join(10)
    assert len(calls) == 2 and maps.get("k")[0] == "failed"


def test_a_failed_validity_map_is_answered_over_http(spaces, digits_judge, tmp_path, monkeypatch):
    vae, _ = spaces
    copy = tmp_path / vae.path.name
    shutil.copy(vae.path, copy)
    fresh = LatentSpace.load(copy, dataset=vae.dataset, judge_slot=digits_judge)

    def broken(judge):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(fresh, "compute_validity", broken)
    app = TestClient(create_app([fresh]), base_url=LOCAL)
    response = wait_for_validity(app)
    assert response.status_code == 422 and "out of memory" in response.json()["detail"]
    assert app.get("/api/spaces/0/validity_map").status_code == 422


def test_typeface_morph(client, fonts_space):
    data = fonts_space.dataset
    names = list(data.fonts["name"])
    a, b = names.index("Lato-Regular"), names.index("Merriweather-Bold")
    row_a = int(np.nonzero(data.typeface_ids == a)[0][0])
    row_b = int(np.nonzero(data.typeface_ids == b)[0][0])
    answer = client.post("/api/spaces/2/morph", json={"a": row_a, "b": row_b, "text": "Hamburg"})
    assert answer.status_code == 200, answer.text
    morph = answer.json()
    grid = pixels(morph)
    assert morph["chars"] == list("Hamburg") and grid.shape == (7, 9, 28, 28) and all(morph["shared"])
    table = fonts_space.glyphs
    h = data.label_names.index("H")
    np.testing.assert_array_equal(grid[0, 0], data.images[table[a, h]])
    np.testing.assert_array_equal(grid[0, 8], data.images[table[b, h]])
    whole = client.post("/api/spaces/2/morph", json={"a": row_a, "b": row_b}).json()
    assert len(whole["chars"]) == 32  # the charset, capped


def test_morph_gaps_and_no_shared_characters(client, fonts_space):
    data = fonts_space.dataset
    table = fonts_space.glyphs
    font, char = np.argwhere(table < 0)[0]  # Italiana and BIZ UDGothic lack a few characters
    other = int(np.argmax((table >= 0).sum(axis=1)))
    row_a = int(np.nonzero(data.typeface_ids == font)[0][0])
    row_b = int(np.nonzero(data.typeface_ids == other)[0][0])
    lacking = data.label_names[char]
    response = client.post("/api/spaces/2/morph", json={"a": row_a, "b": row_b, "text": lacking})
    assert response.status_code == 422 and "share none" in response.json()["detail"]
    present = next(c for c in data.label_names if table[font, data.label_names.index(c)] >= 0)
    gapped = client.post("/api/spaces/2/morph", json={"a": row_a, "b": row_b, "text": lacking + present}).json()
    assert gapped["shared"] == [False, True] and not pixels(gapped)[0].any()
    unknown = client.post("/api/spaces/0/morph", json={"a": 0, "b": 1, "text": "1"})
    assert unknown.status_code == 422 and "TMNIST" in unknown.json()["detail"]


def test_typeface_attribute_vectors(client, fonts_space):
    offer = client.get("/api/spaces/2/attributes").json()
    by_name = {a["name"]: a for a in offer["attributes"]}
    assert offer["kind"] == "typeface" and set(by_name) == {"bolder", "italic", "serif"}
    assert by_name["bolder"]["pairs"] == 10  # Regular->Bold and Italic->BoldItalic in 5 families
    assert by_name["italic"]["pairs"] == 10
    rows = [0, 50]
    zero = client.post("/api/spaces/2/attribute", json={"rows": rows, "name": "bolder", "strength": 0}).json()
    grid = pixels(zero)
    assert grid.shape == (2, 3, 28, 28) and zero["pairs"] == 10
    np.testing.assert_array_equal(grid[:, 1], grid[:, 2])  # strength 0: the reconstruction
    # the vector: the mean code difference over every (regular, bold) glyph pair of a family
    data, table = fonts_space.dataset, fonts_space.glyphs
    names = list(data.fonts["name"])
    differences = []
    for family in FAMILIES:
        for light, bold in (("Regular", "Bold"), ("Italic", "BoldItalic")):
            a, b = table[names.index(f"{family}-{light}")], table[names.index(f"{family}-{bold}")]
            both = (a >= 0) & (b >= 0)
            differences.append(fonts_space.codes_of(b[both]) - fonts_space.codes_of(a[both]))
    vector = np.concatenate(differences).mean(axis=0)
    np.testing.assert_allclose(fonts_space.attributes["bolder"].vector, vector, rtol=1e-4, atol=1e-5)
    strong = pixels(client.post("/api/spaces/2/attribute", json={"rows": rows, "name": "bolder", "strength": 2}).json())
    expected = fonts_space.run.decode(fonts_space.codes_of(np.array(rows)) + 2 * vector)
    np.testing.assert_allclose(strong[:, 2] / 255, expected, atol=1 / 255 + 1e-5)
    for body, message in [
        ({"rows": rows, "name": "wider"}, "unknown attribute"),
        ({"rows": rows, "name": "bolder", "strength": 3}, "less than or equal to 2"),
        ({"rows": rows, "name": "class:1-2"}, "digits and fashion"),
    ]:
        response = client.post("/api/spaces/2/attribute", json=body)
        assert response.status_code == 422 and message in str(response.json()["detail"]), response.text


def test_class_difference_vectors_on_digits(client, spaces):
    vae, _ = spaces
    offer = client.get("/api/spaces/0/attributes").json()
    assert offer["kind"] == "class" and offer["classes"] == [str(d) for d in range(10)]
    answer = client.post("/api/spaces/0/attribute", json={"rows": [int(vae.rows[0])], "name": "class:7-1"}).json()
    assert answer["description"] == "mean 7 minus mean 1" and pixels(answer).shape == (1, 3, 28, 28)
    for name in ("class:7-7", "class:7-10", "class:x", "bolder"):
        response = client.post("/api/spaces/0/attribute", json={"rows": [0], "name": name})
        assert response.status_code == 422, name


def test_attributes_need_the_font_table(tmp_path, datasets_dir, small_fonts_dir, fonts_space):
    bare = tmp_path / "bare"
    bare.mkdir()
    for path in small_fonts_dir.glob("*.woff2"):
        shutil.copy(path, bare / path.name)  # no manifest.csv: no weight, style or category
    data_opts = {"data_dir": str(datasets_dir), "cache_dir": str(tmp_path / "c"), "fonts_dir": str(bare)}
    path = make_embedding(tmp_path, data_opts, dataset="numeric", kind="dense", max_points=None, epochs=1)
    client = TestClient(create_app([LatentSpace.load(path, **data_opts)]), base_url=LOCAL)
    response = client.get("/api/spaces/0/attributes")
    assert response.status_code == 422 and "weight, style and category" in response.json()["detail"]
    response = client.post("/api/spaces/0/attribute", json={"rows": [0], "name": "bolder"})
    assert response.status_code == 422 and "manifest" in response.json()["detail"]


def test_samples_carry_verdicts_and_their_nearest_map_images(client, spaces):
    from latentmap.spaces.samples import nearest_images

    vae, _ = spaces
    assert client.get("/api/spaces/0/info").json()["samplers"] == ["prior", "gaussian", "gmm"]
    assert client.get("/api/spaces/1/info").json()["samplers"] == ["gaussian", "gmm"]  # a plain AE has no prior
    answer = client.post("/api/spaces/0/samples", json={"sampler": "gmm", "rows": 2, "seed": 3}).json()
    grid = pixels(answer)
    assert grid.shape == (2, 8, 28, 28) and answer["sampler"] == "gmm" and answer["judge"] == "ready"
    again = client.post("/api/spaces/0/samples", json={"sampler": "gmm", "rows": 2, "seed": 3}).json()
    assert again["pixels"] == answer["pixels"]  # the sampler is fitted once; a seed is one draw
    other = client.post("/api/spaces/0/samples", json={"sampler": "gmm", "rows": 2, "seed": 4}).json()
    assert other["pixels"] != answer["pixels"]
    probs, _ = vae.judge.predict(grid.reshape(-1, 28, 28))
    assert [c["label"] for row in answer["verdicts"] for c in row] == probs.argmax(axis=1).tolist()
    # nearest map images: a brute-force count over every point of the map
    flat = grid.reshape(16, -1).astype(np.float64) / 255
    images = vae.images.reshape(vae.count, -1).astype(np.float64) / 255
    for k, sample in enumerate(flat):
        distances = np.sqrt(((images - sample) ** 2).sum(axis=1))
        np.testing.assert_allclose(answer["distances"][k], np.sort(distances)[:3], rtol=1e-4, atol=1e-4)
        assert answer["nearest"][k][0] == int(vae.rows[distances.argmin()])
    # a copy of a map image finds itself at distance 0
    found, gaps = nearest_images(vae.images, vae.images[[5, 17]])
    assert found[:, 0].tolist() == [5, 17] and np.allclose(gaps[:, 0], 0, atol=1e-3)


@pytest.mark.parametrize(
    ("space", "body", "message"),
    [
        (1, {"sampler": "prior"}, "a dense run offers the samplers gaussian, gmm, not 'prior'"),
        (0, {"sampler": "flow"}, "Input should be"),
        (0, {"rows": 9}, "less than or equal to 8"),
    ],
)
def test_bad_sample_requests(client, space, body, message):
    answer = client.post(f"/api/spaces/{space}/samples", json=body)
    assert answer.status_code == 422 and message in answer.text


def test_attribute_vectors_are_computed_at_start_once_never_by_a_get(fonts_space, monkeypatch):
    """A GET (any page's <img>) must not start the heavy encoding; two first GETs at once
    must not compute it twice."""
    import threading
    import time as clock

    from latentmap.spaces import space as space_module

    calls = []
    real = space_module.tmnist_attributes

    def counted(*args, **kwargs):
        calls.append(threading.current_thread().name)
        clock.sleep(0.3)  # long enough for the GETs below to arrive while it runs
        return real(*args, **kwargs)

    monkeypatch.setattr(space_module, "tmnist_attributes", counted)
    fresh = dataclasses.replace(fonts_space)  # a new instance: nothing computed yet
    fresh.__dict__.pop("attributes", None)
    client = TestClient(create_app([fresh]), base_url=LOCAL)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(client.get("/api/spaces/0/attributes"))) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200, 200]
    assert calls == ["compute-attributes"]  # started by the app, computed once, never by a request


def test_two_validity_starts_at_once_start_one_computation(tmp_path):
    import threading
    import time as clock

    from latentmap.spaces.map_inverse import ValidityMaps

    maps, runs = ValidityMaps(tmp_path / "v.npz"), []

    def compute():
        runs.append(1)
        clock.sleep(0.2)
        return {"validity": [0.5], "size": [1, 1]}

    barrier = threading.Barrier(8)

    def start():
        barrier.wait()
        maps.start(compute, "key")

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    maps.thread.join()
    assert len(runs) == 1 and maps.get("key")[0] == "ready"
