"""`latentmap data import` of a million QuickDraw-style bitmaps: time and peak memory.

Makes 1,000,000 28x28 bitmaps from the MNIST copies (each class's digits tiled with small
random shifts), writes them as QuickDraw-style `full_numpy_bitmap_<class>.npy` files (N x 784
uint8), then imports them in a child process (its peak RSS is the import's alone), beside
the floor: the same files read whole with numpy and concatenated.

Goal: under 2 minutes and under 2 GB on 2 cores (the final array is 784 MB).

    python bench/bench_import.py [--images 1000000] [--keep DIR]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from latentmap import load_dataset

CHILD = """
import sys, time
from latentmap.data.imports import import_dataset
start = time.perf_counter()
result = import_dataset([sys.argv[1]], "bench-quickdraw", data_dir=sys.argv[2], progress=False)
import resource
count = sum(sum(c.values()) for c in result.manifest["counts"].values())
print(time.perf_counter() - start, count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

FLOOR = """
import sys, time, pathlib
import numpy as np
start = time.perf_counter()
arrays = [np.load(p) for p in sorted(pathlib.Path(sys.argv[1]).glob("*.npy"))]
images = np.concatenate(arrays).reshape(-1, 28, 28)
import resource
print(time.perf_counter() - start, len(images), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def make_bitmaps(folder: Path, total: int) -> None:
    digits = load_dataset("digits", split="train")
    rng = np.random.default_rng(0)
    per_class = total // 10
    for label in range(10):
        source = digits.images[digits.labels == label]
        picked = source[rng.integers(0, len(source), per_class)]
        shifts = rng.integers(-2, 3, (per_class, 2))
        out = np.empty_like(picked)
        for dy, dx in {tuple(s) for s in shifts.tolist()}:  # 25 shifts, each applied to its rows at once
            rows = (shifts[:, 0] == dy) & (shifts[:, 1] == dx)
            out[rows] = np.roll(picked[rows], (dy, dx), axis=(1, 2))
        np.save(folder / f"full_numpy_bitmap_{label}.npy", out.reshape(per_class, 784))


def child(code: str, *args: str) -> tuple[float, int, float]:
    """Seconds the child reports, its count, and its own peak RSS in MB."""
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    seconds, count, peak_kb = done.stdout.split()
    return float(seconds), int(count), int(peak_kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--keep", help="folder for the bitmaps and the imported dataset (default: a temporary one)")
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="bench-import-"))
    bitmaps = root / "quickdraw"
    bitmaps.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    make_bitmaps(bitmaps, args.images)
    final_mb = args.images * 784 / 2**20
    print(f"made {args.images:,} bitmaps in {time.perf_counter() - start:.0f} s ({final_mb:.0f} MB as uint8)")
    floor_s, _, floor_mb = child(FLOOR, str(bitmaps))
    import_s, count, import_mb = child(CHILD, str(bitmaps), str(root / "data"))
    print(f"{'':<22} {'seconds':>8} {'peak MB':>8} {'x final':>8}")
    print(f"{'np.load + concatenate':<22} {floor_s:>8.1f} {floor_mb:>8.0f} {floor_mb / final_mb:>8.2f}")
    print(f"{'latentmap data import':<22} {import_s:>8.1f} {import_mb:>8.0f} {import_mb / final_mb:>8.2f}")
    print(f"import / floor: {import_s / floor_s:.1f}x the time, {import_mb / floor_mb:.2f}x the memory")
    ok = import_s < 120 and import_mb < 2048 and count == args.images
    print(f"{count:,} images imported; goal < 120 s and < 2048 MB: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
