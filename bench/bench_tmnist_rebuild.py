"""Rebuild alphanumeric TMNIST from a font corpus: glyphs/s, parallel vs one process.

Target: the 3,516 fonts of ../shared/fonts/google (~330k glyphs) in under 2 minutes on
the 2-core CI machine. Writes no cache.

    python bench/bench_tmnist_rebuild.py [FONTS_DIR] [--serial-fonts N]
"""

import argparse
import os
import time
from pathlib import Path

from latentmap.data import render, tmnist

TARGET_S = 120.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = os.environ.get("LATENTMAP_FONTS", str(Path(__file__).resolve().parents[2] / "shared/fonts/google"))
    parser.add_argument("fonts_dir", nargs="?", default=default)
    parser.add_argument("--serial-fonts", type=int, default=300, help="fonts for the one-process baseline")
    args = parser.parse_args()

    fonts = Path(args.fonts_dir)
    n_fonts = len(tmnist.unique_typefaces(render.find_font_files(fonts)))
    workers = os.cpu_count() or 1

    start = time.perf_counter()
    result = tmnist.rebuild(fonts, tmnist.ALPHANUMERIC, workers=workers, progress=False)
    parallel_s = time.perf_counter() - start
    glyphs = len(result.labels)
    parallel_rate = glyphs / parallel_s

    # One process on a slice of the same corpus: the rate the parallel run is compared with.
    files = render.find_font_files(fonts)[: args.serial_fonts]
    start = time.perf_counter()
    serial_glyphs = sum(len(render.render_font(p, tmnist.ALPHANUMERIC)[1]) for p in files)
    serial_rate = serial_glyphs / (time.perf_counter() - start)

    print(f"fonts {n_fonts:,}, glyphs {glyphs:,}, workers {workers}")
    print(f"parallel rebuild: {parallel_s:6.1f} s  {parallel_rate:8,.0f} glyphs/s")
    print(f"one process:      {'':6} {serial_rate:8,.0f} glyphs/s ({len(files)} fonts)")
    print(f"parallel / one-process rate: {parallel_rate / serial_rate:.2f}x")
    print(
        f"target {TARGET_S:.0f} s / measured: {TARGET_S / parallel_s:.1f}x  {'ok' if parallel_s < TARGET_S else 'SLOW'}"
    )


if __name__ == "__main__":
    main()
