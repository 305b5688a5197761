"""Explorer responsiveness, measured against a live server on 127.0.0.1.

Targets (2-core CPU): an interpolation grid for 10 sources (110 images: 90 decodes plus
the originals) answers in under 30 ms p95; the map data for 70k points reaches the page
and draws in under 2 s (headless Chromium; skipped when /usr/bin/chromium is missing).

    python bench/bench_explorer.py [--run RUN] [--requests 200]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.web.conftest import CHROMIUM, FLAGS, LiveServer

from latentmap.embedding import EmbedJob, embed_run
from latentmap.latent_ops import LatentSpace
from latentmap.training import TrainOptions, train
from latentmap.web.explorer import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="a run on digits (default: train a small VAE)")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = args.run or train(
            TrainOptions(kind="vae", layers=[256], epochs=2, out=f"{tmp}/run", no_plot=True), progress=False
        )
        embed_run(EmbedJob(run=str(run), methods=["pca"], split="all", out_dir=tmp, map_size=512), log=lambda *a: None)
        space = LatentSpace.load(next(Path(tmp).glob("*.embed-pca.npz")))
        rng = np.random.default_rng(0)
        with LiveServer(create_app([space])) as server, httpx.Client(base_url=server.url) as client:
            times = []
            for _ in range(args.requests):
                body = {
                    "sources": rng.choice(space.count, 10, replace=False).tolist(),
                    "target": int(rng.integers(space.count)),
                    "mode": "linear",
                }
                start = time.perf_counter()
                response = client.post("/api/spaces/0/interpolate", json=body)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200 and response.json()["cols"] == 11
            p50, p95 = statistics.median(times), float(np.percentile(times, 95))
            print(
                f"interpolation, 10 sources x 11 images over HTTP: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
                f"(target 30 ms: {30 / p95:.1f}x headroom)"
            )
            if Path(CHROMIUM).exists():
                from playwright.sync_api import sync_playwright

                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                    page = browser.new_page(viewport={"width": 1400, "height": 900})
                    start = time.perf_counter()
                    page.goto(server.url)
                    page.wait_for_function("window.explorer && window.explorer.map.renders > 0", timeout=60000)
                    drawn_ms = page.evaluate("window.explorer.map.firstRenderAt")
                    wall = time.perf_counter() - start
                    redraw = page.evaluate("""() => { const m = window.explorer.map, t = performance.now();
                        for (let i = 0; i < 10; i++) m.render();
                        return (performance.now() - t) / 10; }""")
                    print(
                        f"map of {space.count:,} points: first draw {drawn_ms / 1000:.2f} s after navigation "
                        f"({wall:.2f} s wall; target 2 s: {2000 / drawn_ms:.1f}x headroom); "
                        f"full redraw {redraw:.1f} ms"
                    )
                    browser.close()
            else:
                print("map load: skipped (no /usr/bin/chromium)")


if __name__ == "__main__":
    main()
