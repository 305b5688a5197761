"""The typeface clustering page in headless Chromium on real (small) TMNIST data."""

import json

from latentmap.web.fonts import FontsApp, create_app
from tests.web.conftest import LiveServer, screenshot


def sizes(page):
    return {key: int(page.text_content(f"#size-{key}").replace(",", "")) for key in ("typefaces", "s", "g", "a")}


def test_cluster_drag_and_save(page, corpus, tmp_path):
    with LiveServer(create_app(FontsApp(corpus, tmp_path))) as server:
        page.goto(server.url)
        page.evaluate("window.fontsApp.ready")
        page.click("[data-preset=none]")
        for char in "AKx4":
            page.click(f"#chars button[data-char='{char}']")
        assert page.evaluate("[...window.fontsApp.state.chars].sort().join('')") == "4AKx"
        page.fill("#n-clusters", "3")
        page.click("#cluster")
        page.wait_for_selector(".tile")
        assert page.locator(".tile").count() == 3
        assert sizes(page) == {"typefaces": 0, "s": 0, "g": 0, "a": 0}

        # drag the first tile's header up by 100 px: 50%
        head = page.locator(".tile .head").first.bounding_box()
        x, y = head["x"] + head["width"] / 2, head["y"] + head["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        for step in range(1, 11):
            page.mouse.move(x, y - 10 * step)
        page.mouse.up()
        assert page.evaluate("window.fontsApp.state.percents[0]") == 50
        assert page.locator(".tile").first.get_attribute("class") == "tile selected"
        size_first = len(page.evaluate("window.fontsApp.state.result.clusters[0].members"))
        expected = max(1, int(size_first * 0.5 + 0.5))
        after_drag = sizes(page)
        assert after_drag["typefaces"] == expected and after_drag["s"] == 4 * expected
        assert after_drag["a"] >= after_drag["g"] >= after_drag["s"] - expected  # all >= good characters

        page.locator(".tile .head").nth(1).click()  # a click takes the whole cluster
        assert page.evaluate("window.fontsApp.state.percents[1]") == 100
        assert sizes(page)["typefaces"] > after_drag["typefaces"]
        screenshot(page, "fonts-selected")

        page.fill("#save-path", "chosen/font_set.json")
        page.click("#save")
        page.wait_for_function("window.fontsApp.state.saved !== undefined")
        saved = json.loads((tmp_path / "chosen" / "font_set.json").read_text())
        assert saved["charset"] == list("4AKx") and saved["fractions"] == [0.5, 1.0]
        assert sum(len(c["font_names"]) for c in saved["clusters"]) == sizes(page)["typefaces"]
        assert (tmp_path / "chosen" / "font_chars.png").is_file()
        assert "saved" in page.inner_text("#save-status")

        page.fill("#save-path", "/proc/forbidden/font_set.json")  # outside --out_dir: a clear error
        page.click("#save")
        page.wait_for_selector("#save-status .error")
        assert "relative to the output folder" in page.inner_text("#save-status")

        (tmp_path / "notes.json").write_text('{"mine": true}')  # not a font set: kept unless asked
        page.fill("#save-path", "notes.json")
        page.click("#save")
        page.wait_for_function("document.querySelector('#save-status').textContent.includes('overwrite')")
        assert json.loads((tmp_path / "notes.json").read_text()) == {"mine": True}
        page.check("#save-overwrite")
        page.click("#save")
        page.wait_for_function("document.querySelector('#save-status').textContent.startsWith('saved')")
        assert "charset" in json.loads((tmp_path / "notes.json").read_text())


def test_dbscan_auto_summary_and_errors(page, corpus, tmp_path):
    with LiveServer(create_app(FontsApp(corpus, tmp_path))) as server:
        page.goto(server.url)
        page.evaluate("window.fontsApp.ready")
        page.check("input[value='dbscan-auto']")
        assert page.is_hidden("#n-clusters") and page.is_visible("#min-samples")
        page.fill("#min-samples", "2")
        page.click("#cluster")
        page.wait_for_function("window.fontsApp.state.result !== null")
        assert "eps chosen" in page.inner_text("#summary")
        assert page.is_visible("#sweep")
        screenshot(page, "fonts-dbscan-auto")
        page.check("input[value='kmeans']")
        page.fill("#n-clusters", "999")  # refused by the request schema
        page.click("#cluster")
        page.wait_for_selector("#summary .error")
        assert "n_clusters: Input should be less than or equal to 500" in page.inner_text("#summary")
        page.fill("#n-clusters", "400")  # more clusters than typefaces
        page.click("#cluster")
        page.wait_for_function("document.querySelector('#summary').innerText.includes('number of clusters')")


def test_api_docs_render_offline(page, corpus, tmp_path):
    """Swagger UI from the package's own files: the page renders with no network but loopback."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    with LiveServer(create_app(FontsApp(corpus, tmp_path))) as server:
        page.goto(f"{server.url}/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
        assert page.locator(".swagger-ui .opblock").count() >= 3
        screenshot(page, "fonts-api-docs")
    assert requested and all(url.startswith(server.url) or url.startswith("data:") for url in requested)
