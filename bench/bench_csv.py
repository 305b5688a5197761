"""Published-CSV reader: our streaming pyarrow reader vs Python's csv module, side by side.

Writes a CSV in the published TMNIST format (from rendered glyphs, repeated to --rows),
then reads it both ways. Prints rows/s, MB/s, the projected time for the ~940 MB
alphanumeric file, and peak memory over the output size (bounded: a small multiple).

    python bench/bench_csv.py [--rows 60000]
"""

import argparse
import csv
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from latentmap.data import render, tmnist

PUBLISHED_MB = 940


def write_fixture(path: Path, rows: int, fonts_dir: Path) -> None:
    glyphs, names, labels = [], [], []
    for font in render.find_font_files(fonts_dir)[:40]:
        images, positions, _ = render.render_font(font, tmnist.ALPHANUMERIC)
        glyphs.append(images)
        labels += [tmnist.ALPHANUMERIC[p] for p in positions]
        names += [font.stem] * len(positions)
    images = np.concatenate(glyphs)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(tmnist.CSV_HEADER)
        for i in range(rows):
            j = i % len(images)
            writer.writerow([names[j], labels[j], *images[j].ravel().tolist()])


def python_csv(path: Path) -> int:
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        pixels = [np.array(row[2:], dtype=np.uint8) for row in reader]
    return len(pixels)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=60000)
    default = os.environ.get("LATENTMAP_FONTS", str(Path(__file__).resolve().parents[2] / "shared/fonts/google"))
    parser.add_argument("--fonts-dir", default=default)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "94_character_TMNIST.csv"
        write_fixture(path, args.rows, Path(args.fonts_dir))
        size_mb = path.stat().st_size / 2**20
        before = peak_mb()
        start = time.perf_counter()
        result = tmnist.read_csv(path, tmnist.ALPHANUMERIC)
        ours = time.perf_counter() - start
        growth = peak_mb() - before
        out_mb = result.images.nbytes / 2**20
        start = time.perf_counter()
        python_csv(path)
        baseline = time.perf_counter() - start

    print(f"file {size_mb:.0f} MB, {args.rows:,} rows")
    print(f"pyarrow streaming: {ours:6.2f} s  {args.rows / ours:9,.0f} rows/s  {size_mb / ours:6.0f} MB/s")
    print(f"python csv module: {baseline:6.2f} s  {args.rows / baseline:9,.0f} rows/s")
    projected = PUBLISHED_MB / size_mb * ours
    print(f"speed-up: {baseline / ours:.1f}x; projected for the {PUBLISHED_MB} MB file: {projected:.0f} s")
    print(f"peak memory growth {growth:.0f} MB for {out_mb:.0f} MB of images ({growth / out_mb:.1f}x)")


if __name__ == "__main__":
    main()
