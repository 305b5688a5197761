"""Explorer responsiveness, measured against a live server on 127.0.0.1.

Targets (2-core CPU): an interpolation grid for 10 sources (110 images: 90 decodes plus
the originals) answers in under 30 ms p95; the same picks through two models side by side
(with the judge's verdicts) under 40 ms p95; decoding one hovered map position under 20 ms
p95 (t-SNE/UMAP-style inverse and the exact PCA one); the validity map of a 20k-point
embedding in under 10 s; the map data for 70k points reaches the page and draws in under
2 s (headless Chromium; skipped when /usr/bin/chromium is missing).

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

from latentmap.data import load_dataset
from latentmap.embed import EmbedJob, embed_run
from latentmap.quality.judge import JudgeSlot, train_judge
from latentmap.spaces import LatentSpace
from latentmap.train import TrainOptions, train
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
        twin = train(  # a second model of the same data, for side-by-side grids
            TrainOptions(kind="dense", layers=[256], epochs=2, out=f"{tmp}/twin", no_plot=True), progress=False
        )
        job = EmbedJob(run=str(twin), methods=["tsne"], max_points=20000, out_dir=tmp, map_size=512)
        embed_run(job, log=lambda *a: None)
        digits = load_dataset("digits")
        judge = JudgeSlot(train_judge(digits, epochs=1, max_train=10000, progress=False))
        space = LatentSpace.load(next(Path(tmp).glob("*.embed-pca.npz")), dataset=digits, judge_slot=judge)
        other = LatentSpace.load(next(Path(tmp).glob("*.embed-tsne.npz")), dataset=digits, judge_slot=judge)
        start = time.perf_counter()
        other.compute_validity(judge.judge)
        seconds = time.perf_counter() - start
        print(
            f"validity map of a {other.count:,}-point t-SNE map (64x64 cells x 4 decodes, judged): {seconds:.1f} s "
            f"(target 10 s: {10 / seconds:.1f}x headroom)"
        )
        rng = np.random.default_rng(0)
        with LiveServer(create_app([space, other])) as server, httpx.Client(base_url=server.url) as client:
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

            def timed(requests: int, send: object) -> tuple[float, float]:
                times = []
                for _ in range(requests):
                    start = time.perf_counter()
                    response = send()  # type: ignore[operator]
                    times.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200, response.text
                return statistics.median(times), float(np.percentile(times, 95))

            rows = space.rows
            p50, p95 = timed(
                args.requests,
                lambda: client.post(
                    "/api/compare/interpolate",
                    json={
                        "spaces": [0, 1],
                        "sources": rng.choice(rows, 10, replace=False).tolist(),
                        "target": int(rng.choice(rows)),
                    },
                ),
            )
            print(
                f"side by side, 10 sources x 2 models (with verdicts) over HTTP: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
                f"(target 40 ms: {40 / p95:.1f}x headroom)"
            )
            for k, name in ((1, "t-SNE, 8-NN inverse distance"), (0, "PCA, exact")):
                lo, hi = (
                    other.xy.min(axis=0) if k else space.xy.min(axis=0),
                    other.xy.max(axis=0) if k else space.xy.max(axis=0),
                )
                p50, p95 = timed(
                    args.requests,
                    lambda k=k, lo=lo, hi=hi: client.post(
                        f"/api/spaces/{k}/decode_xy", json={"xy": [rng.uniform(lo, hi).tolist()]}
                    ),
                )
                print(
                    f"decode one hovered position ({name}) over HTTP: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
                    f"(target 20 ms: {20 / p95:.1f}x headroom)"
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
