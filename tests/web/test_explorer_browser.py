"""The explorer page in headless Chromium on small real runs."""

import pytest

from latentmap.latent_ops import LatentSpace
from latentmap.web.explorer import create_app
from tests.web.conftest import LiveServer, screenshot
from tests.web_fixtures import make_embedding


@pytest.fixture(scope="module")
def servers(tmp_path_factory, datasets_dir, session_cache, small_fonts_dir):
    data_opts = {"data_dir": str(datasets_dir), "cache_dir": str(session_cache)}
    root = tmp_path_factory.mktemp("browser")
    vae = LatentSpace.load(make_embedding(root, data_opts, kind="vae"), **data_opts)
    ae = LatentSpace.load(make_embedding(root, data_opts, kind="dense"), **data_opts)
    tmnist_opts = {**data_opts, "fonts_dir": str(small_fonts_dir)}
    fonts = LatentSpace.load(
        make_embedding(root, tmnist_opts, dataset="numeric", kind="dense", max_points=None, epochs=3), **tmnist_opts
    )
    with LiveServer(create_app([vae, ae])) as digits, LiveServer(create_app([fonts])) as tmnist:
        yield {"digits": digits, "tmnist": tmnist, "vae": vae, "fonts": fonts}


def open_explorer(page, server):
    page.goto(server.url)
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
    assert state["sources"] == picks[:3] and state["target"] == picks[3]
    screenshot(page, "explorer-interpolation")

    click_point(page, picks[4])  # a later click changes the target
    page.wait_for_function(f"window.explorer.state.target === {picks[4]}")
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
    assert (state["cs"], state["a"], state["b"]) == (picks[:2], picks[2], picks[3])
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
