"""The explorer page in headless Chromium on small real runs."""

import pytest

from latentmap import load_dataset
from latentmap.quality.judge import JudgeSlot, train_judge
from latentmap.spaces import LatentSpace
from latentmap.web.explorer import create_app
from tests.web.conftest import LiveServer, screenshot
from tests.web_fixtures import make_embedding


@pytest.fixture(scope="module")
def servers(tmp_path_factory, datasets_dir, session_cache, small_fonts_dir):
    data_opts = {"data_dir": str(datasets_dir), "cache_dir": str(session_cache)}
    root = tmp_path_factory.mktemp("browser")
    digits = load_dataset("digits", **data_opts)
    judge = JudgeSlot(train_judge(digits, epochs=1, max_train=6000, progress=False))
    vae = LatentSpace.load(make_embedding(root, data_opts, kind="vae"), **data_opts, dataset=digits, judge_slot=judge)
    ae = LatentSpace.load(make_embedding(root, data_opts, kind="dense"), **data_opts, dataset=digits, judge_slot=judge)
    tmnist_opts = {**data_opts, "fonts_dir": str(small_fonts_dir)}
    fonts = LatentSpace.load(
        make_embedding(root, tmnist_opts, dataset="numeric", kind="dense", max_points=None, epochs=3), **tmnist_opts
    )
    with LiveServer(create_app([vae, ae])) as digits, LiveServer(create_app([fonts])) as tmnist:
        yield {"digits": digits, "tmnist": tmnist, "vae": vae, "fonts": fonts}


def open_explorer(page, server, hash=""):
    page.goto(server.url + hash)
    page.evaluate("window.explorer.ready")
    page.wait_for_function("window.explorer.state.points !== null")


def isolated_points(page, count):
    """Indices of points with no other point within 10 px on screen (clicks hit them)."""
    return page.evaluate(
        """(count) => {
          const {map} = window.explorer, out = [];
          for (let i = 0; i < map.points.count && out.length < count; i += 7) {
            const [sx, sy] = map.toScreen(i);
            if (sx < 20 || sy < 20 || sx > map.canvas.width - 20 || sy > map.canvas.height - 20) continue;
            if (map.pick(sx, sy, 10) === i && [[6,0],[-6,0],[0,6],[0,-6]].every(([dx,dy]) =>
                [i, -1].includes(map.pick(sx + dx, sy + dy, 4)))) out.push(i);
          }
          return out;
        }""",
        count,
    )


def click_point(page, index, shift=False):
    x, y = page.evaluate("(i) => window.explorer.screenOf(i)", index)
    page.mouse.move(x, y)
    if shift:
        page.keyboard.down("Shift")
    page.mouse.click(x, y)
    if shift:
        page.keyboard.up("Shift")


def grid_shape(page):
    return page.evaluate(
        "() => [...document.querySelectorAll('#grid .row:not(.heading)')].map(r => r.querySelectorAll('canvas').length)"
    )


def test_interpolation_and_analogy(page, servers):
    open_explorer(page, servers["digits"])
    header = page.inner_text("#meta")
    assert "vae" in header and "digits" in header and "pca" in header
    picks = isolated_points(page, 6)
    assert len(picks) == 6
    for index in picks[:3]:
        click_point(page, index)
    click_point(page, picks[3], shift=True)
    page.wait_for_function("document.querySelectorAll('#grid .row:not(.heading)').length === 3")
    assert grid_shape(page) == [11, 11, 11]
    state = page.evaluate("window.explorer.state")
    rows = [int(r) for r in servers["vae"].rows[picks]]  # picks are dataset rows
    assert state["sources"] == rows[:3] and state["target"] == rows[3]
    page.wait_for_selector("#grid .verdict")  # the judge's verdict on every generated cell
    assert page.locator("#grid .verdict").count() == 3 * 9
    assert page.locator("#grid .valid-count").count() == 3
    screenshot(page, "explorer-interpolation")

    click_point(page, picks[4])  # a later click changes the target
    page.wait_for_function(f"window.explorer.state.target === {rows[4]}")
    page.select_option("#interpolation-mode", "slerp")
    page.wait_for_timeout(300)
    assert grid_shape(page) == [11, 11, 11]

    page.keyboard.press("Space")
    assert grid_shape(page) == []
    assert page.evaluate("window.explorer.state.sources.length") == 0

    page.click("#toggle-experiment")
    assert page.text_content("#experiment-title") == "Analogy"
    click_point(page, picks[0])
    click_point(page, picks[1])
    click_point(page, picks[2], shift=True)  # A
    click_point(page, picks[3])  # B
    page.wait_for_function("document.querySelectorAll('#grid .row:not(.heading)').length === 2")
    assert grid_shape(page) == [2, 2]
    state = page.evaluate("window.explorer.state")
    assert (state["cs"], state["a"], state["b"]) == (rows[:2], rows[2], rows[3])
    screenshot(page, "explorer-analogy")
    page.keyboard.press("Space")
    assert grid_shape(page) == []


def test_class_filter_hover_and_zoom(page, servers):
    open_explorer(page, servers["digits"])
    (index,) = isolated_points(page, 1)
    x, y = page.evaluate("(i) => window.explorer.screenOf(i)", index)
    page.mouse.move(x, y)
    page.wait_for_function(f"window.explorer.state.hovered === {index}")
    label = servers["vae"].info["label_names"][int(servers["vae"].labels[index])]
    assert label in page.inner_text("#hover-text")
    page.wait_for_function(  # the hovered image, drawn from the map's atlas cache
        """() => document.querySelector('#hover-image').getContext('2d').getImageData(0, 0, 28, 28).data
                 .some((v, i) => i % 4 === 0 && v > 0)"""
    )
    page.keyboard.press("c")
    state = page.evaluate("window.explorer.state.filter")
    assert state == {"kind": "class", "value": int(servers["vae"].labels[index])}
    visible = page.evaluate("Array.from(window.explorer.map.visible).reduce((a, b) => a + b, 0)")
    assert visible == int((servers["vae"].labels == servers["vae"].labels[index]).sum())
    # the view fits what remains: every visible point on screen, and they fill most of it
    span = page.evaluate(
        """() => { const {map} = window.explorer; let x0 = 1e9, x1 = -1e9;
                   for (let i = 0; i < map.points.count; i++) if (map.visible[i]) {
                     const [sx] = map.toScreen(i); x0 = Math.min(x0, sx); x1 = Math.max(x1, sx); }
                   return [x0, x1, map.canvas.width]; }"""
    )
    assert span[0] >= 0 and span[1] <= span[2] and (span[1] - span[0]) > 0.5 * min(span[2], 800)
    screenshot(page, "explorer-class-filter")
    page.keyboard.press("Escape")
    assert page.evaluate("window.explorer.map.visible") is None
    # zooming in far enough swaps dots for thumbnails from the atlas
    for _ in range(40):
        if page.evaluate("window.explorer.map.thumbnailsOn()"):
            break
        page.mouse.wheel(0, -200)
        page.wait_for_timeout(30)
    page.mouse.wheel(0, -200)
    page.wait_for_function("window.explorer.map.thumbnailsOn()")
    page.wait_for_timeout(500)
    # at most one thumbnail per screen cell of a thumbnail's size (the most central point)
    cells = page.evaluate(
        """() => { const m = window.explorer.map, side = m.thumbWorld * m.scale;
                   return m.thumbnailsDrawn.map((i) => { const [sx, sy] = m.toScreen(i);
                     return `${Math.floor((sx + side) / side)},${Math.floor((sy + side) / side)}`; }); }"""
    )
    assert cells and len(set(cells)) == len(cells)
    screenshot(page, "explorer-zoomed")


def test_switching_spaces(page, servers):
    open_explorer(page, servers["digits"])
    page.select_option("#space", "1")
    page.wait_for_function("window.explorer.state.info && window.explorer.state.info.kind === 'dense'")
    assert "dense" in page.inner_text("#meta")


def test_typeface_filter_on_tmnist(page, servers):
    open_explorer(page, servers["tmnist"])
    fonts = servers["fonts"]
    assert page.evaluate("document.querySelectorAll('#colour-by option').length") == 2
    page.select_option("#colour-by", "category")
    (index,) = isolated_points(page, 1)
    x, y = page.evaluate("(i) => window.explorer.screenOf(i)", index)
    page.mouse.move(x, y)
    page.wait_for_function(f"window.explorer.state.hovered === {index}")
    face = fonts.info["typefaces"][int(fonts.typeface_ids[index])]
    assert face in page.inner_text("#hover-text")
    page.keyboard.press("f")
    visible = page.evaluate("Array.from(window.explorer.map.visible).reduce((a, b) => a + b, 0)")
    assert visible == int((fonts.typeface_ids == fonts.typeface_ids[index]).sum()) == 10
    screenshot(page, "explorer-typeface-filter")
    page.keyboard.press("Escape")
    assert page.evaluate("window.explorer.state.filter") is None


def test_compare_mode_keeps_picks_across_maps_and_models(page, servers):
    open_explorer(page, servers["digits"])
    picks = isolated_points(page, 3)
    click_point(page, picks[0])
    click_point(page, picks[1])
    click_point(page, picks[2], shift=True)
    page.wait_for_function("document.querySelectorAll('#grid .section').length === 1")
    page.check("#compare")
    page.wait_for_function("document.querySelectorAll('#grid .section').length === 2")
    titles = page.locator("#grid .section-title").all_inner_texts()
    assert titles[0].startswith("vae:") and titles[1].startswith("dense:")
    assert grid_shape(page) == [11, 11, 11, 11]
    screenshot(page, "explorer-compare")
    rows = page.evaluate("window.explorer.state.sources")
    page.select_option("#space", "1")  # the AE's map: the same picks, marked where it has them
    page.wait_for_function("window.explorer.state.info.kind === 'dense'")
    page.wait_for_function("document.querySelector('#grid .section-title').textContent.startsWith('dense:')")
    assert page.evaluate("window.explorer.state.sources") == rows
    assert page.locator("#grid .section").count() == 2
    # the view lives in the URL: a reload restores map, picks, experiment and compare mode
    page.reload()
    page.evaluate("window.explorer.ready")
    page.wait_for_function("document.querySelectorAll('#grid .section').length === 2")
    state = page.evaluate("window.explorer.state")
    assert state["space"] == 1 and state["sources"] == rows and state["compare"] is True


def test_validity_layer_and_decode_anywhere(page, servers):
    open_explorer(page, servers["digits"])
    page.check("#validity")
    page.wait_for_function("window.explorer.state.validityMap !== undefined", timeout=120_000)
    assert "valid images" in page.inner_text("#validity-status")
    assert page.evaluate("window.explorer.map.overlay !== null")
    screenshot(page, "explorer-validity-layer")
    # hovering empty map space shows the image decoded there (exact PCA inverse)
    empty = page.evaluate(
        """() => { const {map} = window.explorer; const rect = map.canvas.getBoundingClientRect();
                   for (let sy = 40; sy < map.canvas.height; sy += 15)
                     for (let sx = 40; sx < map.canvas.width; sx += 15)
                       if (map.pick(sx, sy, 12) < 0) return [rect.left + sx, rect.top + sy];
                   return null; }"""
    )
    assert empty is not None
    page.mouse.move(*empty)
    page.wait_for_function("window.explorer.state.decodedAt !== undefined")
    assert "decoded at" in page.inner_text("#hover-text") and "PCA" in page.inner_text("#hover-text")
    assert page.evaluate(
        """document.querySelector('#hover-image').getContext('2d').getImageData(0, 0, 28, 28)
           .data.some((v, i) => i % 4 === 0 && v > 0)"""
    )
    page.uncheck("#validity")
    assert page.evaluate("window.explorer.map.overlay") is None


def test_typeface_morph_and_attribute_slider(page, servers):
    fonts = servers["fonts"]
    open_explorer(page, servers["tmnist"])
    page.select_option("#experiment", "morph")
    assert page.text_content("#experiment-title") == "Typeface morph"
    page.fill("#morph-text", "0123")
    page.dispatch_event("#morph-text", "change")
    picks = isolated_points(page, 20)
    first = picks[0]
    other = next(i for i in picks if fonts.typeface_ids[i] != fonts.typeface_ids[first])
    click_point(page, first)  # a glyph of typeface A
    click_point(page, other, shift=True)  # and one of typeface B
    page.wait_for_function("document.querySelectorAll('#grid .row:not(.heading)').length === 4")
    assert grid_shape(page) == [9, 9, 9, 9]
    assert page.locator("#grid .row-label").all_inner_texts() == list("0123")
    screenshot(page, "explorer-typeface-morph")

    page.select_option("#experiment", "attribute")
    options = page.locator("#attribute-name option").all_inner_texts()
    assert options and any("serif" in o for o in options)
    picks = isolated_points(page, 2)
    click_point(page, picks[0])
    click_point(page, picks[1])
    page.wait_for_function("document.querySelectorAll('#grid .row:not(.heading)').length === 2")
    assert grid_shape(page) == [3, 3] and "built from" in page.inner_text("#attribute-info")
    before = page.evaluate("document.querySelector('#grid .row:not(.heading) canvas:nth-of-type(1)') !== null")
    page.fill("#strength", "-2")
    page.dispatch_event("#strength", "input")
    page.wait_for_function("window.explorer.state.strength === -2")
    page.wait_for_function("document.querySelector('#grid .heading').textContent.includes('-2')")
    assert before and "s=-2" in page.url
    screenshot(page, "explorer-attribute")
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == "latentmap-attribute.png"


def test_samples_grid_and_nearest_images_on_hover(page, servers):
    open_explorer(page, servers["digits"])
    assert page.locator("#sampler option").all_inner_texts()[0].startswith("the prior")  # a VAE offers its prior
    page.select_option("#experiment", "samples")
    page.wait_for_function("document.querySelectorAll('#grid .row:not(.heading)').length === 4")
    assert grid_shape(page) == [8, 8, 8, 8]
    assert page.locator("#grid .verdict").count() == 32 and "samples from a 10-component" in page.inner_text("#grid")
    first = page.locator("#grid canvas.cell").first
    first.hover()
    page.wait_for_function("window.explorer.state.nearestShown !== null")
    shown = page.evaluate("window.explorer.state.nearestShown")
    markers = page.evaluate("window.explorer.map.markers.map((m) => m.index)")
    assert len(markers) == 3 and shown["sample"] == 0
    assert [int(servers["vae"].rows[i]) for i in markers] == shown["rows"]  # the nearest images, marked on the map
    assert "N1 row #" in page.inner_text("#hover-text")
    screenshot(page, "explorer-samples")
    page.mouse.move(5, 5)
    page.wait_for_function("window.explorer.map.markers.length === 0")
    before = page.evaluate("window.explorer.state.samples.pixels")
    page.click("#resample")
    page.wait_for_function("(old) => window.explorer.state.samples.pixels !== old", arg=before)
    assert "seed=1" in page.url and "sampler=gmm" in page.url
    page.select_option("#sampler", "prior")
    page.wait_for_function("window.explorer.state.samples.sampler === 'prior'")
    assert "the prior N(0, I)" in page.inner_text("#grid")


WALK_MODULE = """
export default {
  name: "walk", title: "Random walk",
  help: () => "Click an image: five steps of a random walk from its code.",
  pick(x, row) { x.state.sources = [row]; },
  show(x, mark) { x.state.sources.forEach((r) => mark(r, "source", "W")); return `${x.state.sources.length} pick(s)`; },
  ready: (x) => x.state.sources.length > 0,
  async sections(x) {
    const grid = await x.api.postJSON(`/api/spaces/${x.state.space}/walk`, { start: x.state.sources[0], steps: 5 });
    return [{ grid, headings: ["1", "2", "3", "4", "5"], originals: [] }];
  },
  save(x, params) { if (x.state.sources.length) params.set("src", x.state.sources.join(",")); },
  read: (params) => ({ sources: (params.get("src") || "").split(",").filter(Boolean).map(Number) }),
  picked: (x) => ({ picks: [...x.state.sources], target: null, b: null }),
  setPicks(x, rows) { x.state.sources = rows.slice(0, 1); },
};
"""


def test_an_experiment_added_as_two_modules_appears_on_the_page(page, servers, tmp_path, monkeypatch):
    """A contributor's experiment: its Python module (tests/web/test_explorer_api.py's walk) and
    its ES module, with one line in each table; the page offers it, a click runs it."""
    import shutil

    from latentmap.web import common
    from latentmap.web.explorer import maps
    from latentmap.web.explorer.experiments import EXPERIMENTS
    from tests.web.test_explorer_api import walk_experiment

    static = shutil.copytree(common.STATIC, tmp_path / "static")
    (static / "js" / "experiment-walk.js").write_text(WALK_MODULE)
    table = static / "js" / "experiments.js"
    text = table.read_text().replace("\nexport const", '\nimport walk from "./experiment-walk.js";\n\nexport const')
    table.write_text(text.replace("[interpolation, analogy, morph, attribute, samples]", "[interpolation, walk]"))
    monkeypatch.setattr(common, "STATIC", static)
    monkeypatch.setattr(maps, "STATIC", static)
    monkeypatch.setitem(EXPERIMENTS, "walk", walk_experiment())
    with LiveServer(create_app([servers["vae"]])) as server:
        open_explorer(page, server, "#e=walk")
        assert page.locator("#experiment option").all_inner_texts() == ["Interpolation", "Random walk"]
        assert page.text_content("#experiment-title") == "Random walk"
        click_point(page, isolated_points(page, 1)[0])
        page.wait_for_function("document.querySelectorAll('#grid canvas.cell').length === 5")
        assert page.get_attribute("#grid", "data-experiment") == "walk" and "e=walk" in page.url
