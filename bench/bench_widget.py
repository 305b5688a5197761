"""The explorer widget in a real JupyterLab (offline) and Chromium: how long a saved embedding
takes from running its cell to the map drawn, at 20,000 points and at full Typography-MNIST
size (~330k), next to the same map in the explorer's own page; and how much the notebook file
grows once saved.

Targets (issue 29, 2-core CPU): 20,000 points open in under 2 s; 330k work as in the explorer;
the saved notebook grows by no more than a picture would (no multi-MB widget state).

    python bench/bench_widget.py                    # trains a quick VAE; PCA maps of digits and TMNIST
    python bench/bench_widget.py --skip-tmnist      # the 20,000-point map only
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.web.conftest import CHROMIUM, FLAGS, LiveServer
from tests.web.lab import JupyterLab, run_cell, wait_for_points, write_notebook

from latentmap.embed import EmbedJob, embed_run
from latentmap.spaces import LatentSpace
from latentmap.train import TrainOptions, train
from latentmap.web.explorer import create_app


def embedding(tmp: Path, dataset: str, points: int | None) -> Path:
    run = train(
        TrainOptions(kind="vae", dataset=dataset, layers=[256], epochs=1, out=f"{tmp}/{dataset}", no_plot=True),
        progress=False,
    )
    job = EmbedJob(run=str(run), methods=["pca"], split="all", max_points=points, out_dir=f"{tmp}/emb", map_size=1024)
    embed_run(job, log=lambda *_: None)
    return Path(f"{tmp}/emb/{dataset}.embed-pca.npz")


def in_page(browser, path: Path) -> tuple[float, int]:
    """Seconds from navigation to the explorer page's first map drawn, and its points."""
    space = LatentSpace.load(path)
    with LiveServer(create_app([space])) as server:
        page = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True).new_page()
        started = time.monotonic()
        page.goto(server.url)
        page.wait_for_function("window.explorer?.map?.renders > 0", polling=20, timeout=120_000)
        seconds = time.monotonic() - started
        page.close()
    return seconds, space.count


def in_lab(browser, root: Path, paths: list[Path]) -> list[tuple[float, int]]:
    """Per embedding: seconds from running its widget cell to the map drawn, and the bytes
    the notebook grew by when saved."""
    cells = ["import latentmap"] + [f"w = latentmap.widget({str(p)!r}, judge=False)\nw" for p in paths]
    write_notebook(root / "bench.ipynb", cells)
    before = (root / "bench.ipynb").stat().st_size
    results = []
    with JupyterLab(root) as lab:
        page = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True).new_page()
        page.set_default_timeout(300_000)
        lab.open(page, "bench.ipynb")
        run_cell(page, 0)
        for k in range(len(paths)):
            started = time.monotonic()
            page.evaluate("() => document.querySelectorAll('.latentmap-widget').forEach((w) => w.remove())")
            run_cell(page, k + 1)
            wait_for_points(page)
            seconds = time.monotonic() - started
            page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
            time.sleep(2)
            results.append((seconds, (root / "bench.ipynb").stat().st_size - before))
        page.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-tmnist", action="store_true", help="only the 20,000-point digits map")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        paths = [embedding(tmp, "digits", 20000)]
        if not args.skip_tmnist:
            paths.append(embedding(tmp, "alphanumeric", None))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page_seconds = [in_page(browser, p) for p in paths]
            # the first widget of a kernel also pays for importing torch, FastAPI and the app:
            # the same map twice, cold then warm
            lab_results = in_lab(browser, tmp, [paths[0], *paths])
            browser.close()
    rows = zip(["cold kernel", "warm", "warm"], [page_seconds[0], *page_seconds], lab_results, strict=False)
    for (state, (page_s, points), (lab_s, grown)), path in zip(rows, [paths[0], *paths], strict=False):
        print(
            f"{path.stem} ({points:,} points, {state}): widget {lab_s:.2f} s from running its cell to the map "
            f"drawn (explorer page {page_s:.2f} s from navigation, ratio {lab_s / page_s:.1f}x); "
            f"notebook grew by {grown / 1024:.0f} KB when saved"
        )


if __name__ == "__main__":
    main()
