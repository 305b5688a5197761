"""Typeface clustering on the full corpus, side by side.

Targets (2-core CPU): 3,516 typefaces x 4 characters, each algorithm under 2 s; all 94
characters with PCA to 50 dims under 10 s; a fraction drag updates the page within 100 ms.
Also: the DBSCAN-auto sweep from one spanning tree vs running DBSCAN at every eps.

    python bench/bench_fonts.py [--chars AGag]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.web.conftest import CHROMIUM, FLAGS, LiveServer

from latentmap import load_dataset
from latentmap.typefaces import SWEEP_STEPS, ClusterParams, DbscanSweep, TypefaceCorpus, cluster_typefaces
from latentmap.web.fonts import FontsApp, create_app

RUNS = {
    "K-means (euclidean)": ClusterParams(algorithm="kmeans", n_clusters=10),
    "K-means (cosine)": ClusterParams(algorithm="kmeans", n_clusters=10, metric="cosine"),
    "Spectral (k=10)": ClusterParams(algorithm="spectral", n_clusters=10, n_neighbors=10),
    "DBSCAN (eps 6)": ClusterParams(algorithm="dbscan", eps=6.0, min_samples=5),
    "DBSCAN-auto": ClusterParams(algorithm="dbscan-auto", min_samples=5),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chars", default="AGag")
    args = parser.parse_args()
    corpus = TypefaceCorpus(load_dataset("alphanumeric"))
    cluster_typefaces(corpus, args.chars, ClusterParams(n_clusters=2))  # warm-up: imports, thread pools
    print(f"{len(corpus.names):,} typefaces x {len(args.chars)} characters ({len(args.chars) * 784:,} values each)")
    for name, params in RUNS.items():
        result = cluster_typefaces(corpus, args.chars, params)
        seconds = result.summary["seconds"]
        print(
            f"  {name:<22} {seconds:5.2f} s  {result.summary['clusters']:>3} clusters  "
            f"(target 2 s: {2 / seconds:.1f}x headroom)"
        )

    from sklearn.cluster import DBSCAN
    from sklearn.metrics import pairwise_distances

    _, x = corpus.vectors(args.chars)
    distances = pairwise_distances(x, n_jobs=-1)
    start = time.perf_counter()
    sweep = DbscanSweep(distances, 5)
    grid = np.linspace(np.percentile(sweep.core, 2), sweep.core.max(), SWEEP_STEPS)
    fast = [sweep.count(eps) for eps in grid]
    fast_s = time.perf_counter() - start
    start = time.perf_counter()
    naive = [
        len(set(DBSCAN(eps=max(eps, 1e-9), min_samples=5, metric="precomputed").fit_predict(distances)) - {-1})
        for eps in grid
    ]
    naive_s = time.perf_counter() - start
    assert fast == naive
    print(
        f"  eps sweep ({SWEEP_STEPS} steps): spanning tree {fast_s:.2f} s vs DBSCAN at every eps {naive_s:.2f} s "
        f"({naive_s / fast_s:.1f}x), same counts"
    )

    result = cluster_typefaces(corpus, corpus.chars, ClusterParams(algorithm="kmeans", n_clusters=10, pca_dims=50))
    seconds = result.summary["seconds"]
    print(
        f"all {len(corpus.chars)} characters ({len(corpus.chars) * 784:,} values), randomized PCA to 50 + K-means: "
        f"{seconds:.2f} s (target 10 s: {10 / seconds:.1f}x headroom)"
    )

    if not Path(CHROMIUM).exists():
        print("drag latency: skipped (no /usr/bin/chromium)")
        return
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory() as tmp,
        LiveServer(create_app(FontsApp(corpus, Path(tmp)))) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(server.url)
        page.evaluate("window.fontsApp.ready")
        page.fill("#n-clusters", "10")
        page.click("#cluster")
        page.wait_for_selector(".tile")
        latencies = page.evaluate("""() => {
            const head = document.querySelector('.tile .head'), r = head.getBoundingClientRect();
            const x = r.left + 5, y = r.top + 5, out = [];
            const event = (type, dy) => new PointerEvent(type, {clientX: x, clientY: y - dy, pointerId: 1,
                                                                 bubbles: true});
            head.dispatchEvent(event('pointerdown', 0));
            for (let i = 1; i <= 50; i++) {
              const t = performance.now();
              head.dispatchEvent(event('pointermove', 2 * i));
              document.body.getBoundingClientRect();  // force layout of the updated panel
              out.push(window.fontsApp.state.lastSizesAt - t >= 0 ? performance.now() - t : NaN);
            }
            head.dispatchEvent(event('pointerup', 100));
            return out; }""")
        browser.close()
    latencies = [t for t in latencies if t == t]  # moves under the 2 px drag threshold change nothing
    worst = max(latencies)
    print(
        f"fraction drag -> sizes panel updated: median {np.median(latencies):.2f} ms, worst {worst:.2f} ms "
        f"over {len(latencies)} moves (target 100 ms: {100 / worst:.0f}x headroom)"
    )


if __name__ == "__main__":
    main()
