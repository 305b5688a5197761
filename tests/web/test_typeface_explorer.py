"""The explorer's typeface mode: a typeface run's map (one point per typeface of ~20 real
fonts), its API, and the page in headless Chromium."""

import base64

import numpy as np
import pytest
from fastapi.testclient import TestClient

from latentmap.embed.job import EmbedJob, embed_run
from latentmap.errors import LatentmapError
from latentmap.quality.judge import JudgeSlot, train_judge
from latentmap.spaces import load_space
from latentmap.spaces.space import to_uint8
from latentmap.spaces.typeface_space import MAX_GLYPHS, TypefaceSpace
from latentmap.train import TrainOptions, train
from latentmap.web.explorer import create_app
from tests.web.conftest import LiveServer, screenshot

ORIGIN = {"Origin": "http://127.0.0.1:8000"}


@pytest.fixture(scope="module")
def typeface_space(tmp_path_factory, datasets_dir, session_cache, small_fonts_dir):
    opts = {"data_dir": str(datasets_dir), "cache_dir": str(session_cache), "fonts_dir": str(small_fonts_dir)}
    root = tmp_path_factory.mktemp("typefaces")
    options = TrainOptions(
        kind="typeface", dataset="numeric", layers=[64], d_latent=8, epochs=3, batch_size=4, no_plot=True,
        out=str(root / "run"), **opts,
    )  # fmt: skip
    run_dir = train(options, progress=False)
    job = EmbedJob(
        run=str(run_dir), methods=["pca"], split="all", map_size=512, out_dir=str(root), thumbnail="7", **opts
    )
    embed_run(job, log=lambda *a: None)
    with pytest.raises(LatentmapError, match="already holds an embedding"):  # another thumbnail: not kept silently
        embed_run(EmbedJob(**{**vars(job), "thumbnail": "3"}), log=lambda *a: None)
    space = load_space(root / "run.embed-pca.npz", **opts)
    space.judge_slot = JudgeSlot(train_judge(space.dataset, epochs=1, progress=False))
    return space


@pytest.fixture(scope="module")
def client(typeface_space):
    return TestClient(create_app([typeface_space]), base_url="http://127.0.0.1:8000", headers=ORIGIN)


def pixels(answer):
    grid = np.frombuffer(base64.b64decode(answer["pixels"]), np.uint8)
    return grid.reshape(answer["rows"], answer["cols"], answer["size"], answer["size"])


def test_a_typeface_map_has_one_point_per_typeface(typeface_space, client):
    assert isinstance(typeface_space, TypefaceSpace)
    info = client.get("/api/spaces/0/info").json()
    assert info["mode"] == "typeface" and info["text"] == "0123456789" and info["thumbnail"] == "7"
    row = typeface_space.rows[0]
    assert np.array_equal(typeface_space.images[0], typeface_space.grid.images[row, 7])  # the 7 of each typeface
    assert info["count"] == len(typeface_space.grid) and len(set(typeface_space.rows.tolist())) == info["count"]
    assert "prior" not in info["samplers"] and "gmm" in info["samplers"]
    names = [info["typefaces"][row] for row in typeface_space.rows]
    assert "Roboto-Regular" in names and "serif" in info["label_names"]


def test_hover_text_is_the_typeface_decoded_from_its_code(typeface_space, client):
    answer = client.post("/api/spaces/0/typeface/text", json={"points": [2], "xy": [[0.0, 0.0]], "text": "2024"}).json()
    assert answer["labels"][0] == typeface_space.info["typefaces"][typeface_space.rows[2]]
    grid = pixels(answer)
    assert grid.shape == (2, 4, 28, 28)
    expected = to_uint8(typeface_space.typeface_run.decode(typeface_space.codes[[2]], "2024"))[0]
    assert np.array_equal(grid[0], expected)
    # PCA's inverse is exact: decoding at a point's own position gives that typeface back
    x, y = typeface_space.xy[5].tolist()
    at = pixels(client.post("/api/spaces/0/typeface/text", json={"xy": [[x, y]], "text": "2024"}).json())[0]
    own = to_uint8(typeface_space.typeface_run.decode(typeface_space.codes[[5]], "2024"))[0]
    assert np.abs(at.astype(int) - own).max() <= 2 * 255 // 10  # PCA keeps 2 of 8 dimensions: close, not equal
    verdicts = answer["verdicts"]
    assert len(verdicts) == 2 and len(verdicts[0]) == 4
    assert all(
        cell["valid"] <= (cell["label"] == int(char))
        for row in verdicts
        for cell, char in zip(row, "2024", strict=True)
    )


def test_interpolation_runs_from_typeface_a_to_typeface_b(typeface_space, client):
    answer = client.post("/api/spaces/0/typeface/interpolate", json={"a": 1, "b": 4}).json()
    grid = pixels(answer)
    assert grid.shape == (9, 10, 28, 28) and len(answer["labels"]) == 9
    run, codes = typeface_space.typeface_run, typeface_space.codes
    assert np.array_equal(grid[0], to_uint8(run.decode(codes[[1]]))[0])
    assert np.array_equal(grid[-1], to_uint8(run.decode(codes[[4]]))[0])
    assert not np.array_equal(grid[4], grid[0]) and not np.array_equal(grid[4], grid[-1])


def test_attributes_act_on_typeface_codes(typeface_space, client):
    attributes = {a["name"] for a in client.get("/api/spaces/0/typeface/attributes").json()}
    assert "serif" in attributes
    answer = client.post(
        "/api/spaces/0/typeface/attribute", json={"points": [0, 3], "name": "serif", "strength": 1.5, "text": "7"}
    ).json()
    grid = pixels(answer)
    assert grid.shape == (4, 1, 28, 28) and answer["labels"][1] == "serif +1.5"
    vector = typeface_space.attributes["serif"].vector
    moved = to_uint8(typeface_space.typeface_run.decode(typeface_space.codes[[3]] + 1.5 * vector, "7"))[0]
    assert np.array_equal(grid[3], moved)


def test_new_typefaces_and_bad_requests(client):
    answer = client.post("/api/spaces/0/typeface/samples", json={"sampler": "gaussian", "n": 3, "seed": 4}).json()
    assert pixels(answer).shape == (3, 10, 28, 28)
    again = client.post("/api/spaces/0/typeface/samples", json={"sampler": "gaussian", "n": 3, "seed": 4}).json()
    assert again["pixels"] == answer["pixels"]
    for route, body, message in [
        ("typeface/samples", {"sampler": "prior"}, "offers the samplers"),
        ("typeface/text", {"points": [10_000]}, "out of range"),
        ("typeface/text", {"points": [0], "text": "abc"}, "not in this model's charset"),
        ("typeface/text", {}, "give points or xy"),
        ("typeface/attribute", {"points": [0], "name": "wobbly"}, "unknown attribute"),
        ("interpolate", {"sources": [0], "target": 1}, "this is a typeface map"),
        ("decode_xy", {"xy": [[0, 0]]}, "this is a typeface map"),
    ]:
        response = client.post(f"/api/spaces/0/{route}", json=body)
        assert response.status_code in (400, 422) and message in response.text, (route, response.text)


def test_glyph_maps_refuse_the_typeface_routes(space):
    client = TestClient(create_app([space]), base_url="http://127.0.0.1:8000", headers=ORIGIN)
    response = client.post("/api/spaces/0/typeface/text", json={"points": [0]})
    assert response.status_code in (400, 422) and "not a typeface map" in response.text


def test_the_typeface_page_in_chromium(typeface_space, page):
    with LiveServer(create_app([typeface_space])) as server:
        page.goto(server.url)
        page.evaluate("window.typefaces.ready")
        meta = page.inner_text("#meta")
        assert "typeface" in meta and "typeface typeface" not in meta
        assert page.inner_text("aside").count("click typeface A, shift+click typeface B") == 1  # the hint, once
        stretched = page.evaluate(
            """async () => {
              const { spreadAxes } = await import("/static/js/spaces.js");
              const f32 = (values) => Float32Array.from(values);
              const line = { x: f32([0, 1, 2, 3]), y: f32([0, 0.01, 0.03, 0.02]), count: 4 };
              const square = { x: f32([0, 1, 2, 3]), y: f32([0, 1, 3, 2]), count: 4 };
              return [spreadAxes(line), Array.from(line.y), spreadAxes(square)];
            }"""
        )
        assert stretched[0]["x"] == 1 and stretched[0]["y"] == pytest.approx(100, rel=1e-3)  # a thin line spreads
        assert stretched[1][2] == pytest.approx(3, rel=1e-3) and stretched[2] == {"x": 1, "y": 1}
        x, y = page.evaluate("(i) => window.typefaces.screenOf(i)", 0)
        page.mouse.move(x, y)
        page.wait_for_function("document.querySelectorAll('#hover-grid canvas.cell').length === 10")
        name = typeface_space.info["typefaces"][typeface_space.rows[0]]
        page.wait_for_function(f"document.querySelector('#hover-text').textContent.includes({name!r})")
        empty = page.evaluate(
            """() => {
              const { map } = window.typefaces, rect = map.canvas.getBoundingClientRect();
              for (let sx = 40; sx < map.canvas.width - 40; sx += 23)
                for (let sy = 40; sy < map.canvas.height - 40; sy += 23)
                  if (map.pick(sx, sy, 25) === -1) return [rect.left + sx, rect.top + sy];
              return null;
            }"""
        )
        page.mouse.move(*empty)  # empty map space decodes too
        page.wait_for_function("document.querySelector('#hover-text').textContent.includes('decoded at')")
        page.mouse.click(x, y)
        bx, by = page.evaluate("(i) => window.typefaces.screenOf(i)", int(np.argmax(typeface_space.xy[:, 0])))
        page.mouse.move(bx, by)
        page.keyboard.down("Shift")
        page.mouse.click(bx, by)
        page.keyboard.up("Shift")
        page.wait_for_function("document.querySelectorAll('#grid .row:not(.heading)').length === 9")
        assert page.locator("#grid .verdict").count() == 90  # the judge reads every glyph
        screenshot(page, "typeface-explorer-interpolation")
        page.select_option("#experiment", "samples")
        page.wait_for_function("document.querySelectorAll('#grid .row:not(.heading)').length === 6")
        first = page.evaluate("document.querySelector('#grid canvas').toDataURL()")
        page.click("#resample")
        page.wait_for_function(f"document.querySelector('#grid canvas')?.toDataURL() !== {first!r}")
        screenshot(page, "typeface-explorer-samples")


def test_the_work_of_a_request_is_bounded_not_each_list_alone(client):
    """A 30 KB body used to decode and judge ~98,000 glyphs: rows x characters is bounded."""
    text = "0123456789" * 2
    xy = [[0.0, 0.0]] * 4096
    answer = client.post("/api/spaces/0/typeface/text", json={"xy": xy[:MAX_GLYPHS], "text": text})
    assert answer.status_code == 422 and f"at most {MAX_GLYPHS}" in answer.text
    answer = client.post("/api/spaces/0/typeface/text", json={"xy": xy[: MAX_GLYPHS // len(text)], "text": text})
    assert answer.status_code == 200 and answer.json()["rows"] == MAX_GLYPHS // len(text)
    assert client.post("/api/spaces/0/typeface/text", json={"xy": xy, "text": text}).status_code == 422
    samples = client.post("/api/spaces/0/typeface/samples", json={"n": 16, "text": "0123456789" * 2 + "0123"})
    assert samples.status_code == 200  # the page's largest honest requests stay within the bound


def test_glyph_decode_xy_is_bounded_like_decode(space):
    client = TestClient(create_app([space]), base_url="http://127.0.0.1:8000", headers=ORIGIN)
    assert client.post("/api/spaces/0/decode_xy", json={"xy": [[0.0, 0.0]] * 4096}).status_code == 422
    assert client.post("/api/spaces/0/decode_xy", json={"xy": [[0.0, 0.0]] * 512}).status_code == 200
