"""Loading cached datasets vs building them from their sources, side by side.

Target: any cached dataset loads in under 1 s. Uses LATENTMAP_DATA / LATENTMAP_FONTS /
LATENTMAP_CACHE like the CLI; run `latentmap data prepare ...` first or let it build.

    python bench/bench_load.py [SPEC ...]
"""

import statistics
import sys
import time

from latentmap import load_dataset
from latentmap.errors import LatentmapError


def timed(fn, repeat: int = 1) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(specs: list[str]) -> None:
    print(f"{'spec':<13} {'images':>8} {'build s':>8} {'cached s':>9} {'speed-up':>9}  target <1 s")
    for spec in specs:
        try:
            build = timed(lambda s=spec: load_dataset(s, force=True))
        except LatentmapError as exc:
            print(f"{spec:<13} skipped: {exc}")
            continue
        cached = timed(lambda s=spec: load_dataset(s), repeat=5)
        n = len(load_dataset(spec))
        verdict = "ok" if cached < 1 else "SLOW"
        print(f"{spec:<13} {n:>8,} {build:>8.2f} {cached:>9.3f} {build / cached:>8.0f}x  {verdict}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["digits", "fashion", "numeric", "alphanumeric"])
