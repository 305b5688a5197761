"""`latentmap sweep`: its overhead over the runs it trains, and what two jobs gain on two cores.

1. The sum of the runs' training times, each trained alone by `latentmap train` (a fresh
   process, as the sweep starts them), against one `latentmap sweep --jobs 1` of the same
   runs (target: <= 1.1x).
2. `--jobs 2` against `--jobs 1` (target on a 2-core CPU: >= 1.5x faster): small MLPs do
   not keep two cores busy from one process, two processes do.
Both sweeps train only (--no_report); the runs are the seed-sized 784-256-16 MLPs on MNIST.

    python bench/bench_sweep.py [--runs 4] [--epochs 5]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMON = "layers = [256]\nd_latent = 16\n"


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=4, help="runs in the grid (kinds x seeds)")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    seeds = list(range(max(1, args.runs // 2)))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        grid = root / "grid.toml"
        grid.write_text(f'[common]\n{COMMON}epochs = {args.epochs}\n[grid]\nkind = ["dense", "vae"]\nseed = {seeds}\n')
        latentmap = [sys.executable, "-m", "latentmap"]
        alone = 0.0
        for kind in ("dense", "vae"):
            for seed in seeds:
                out = root / "alone" / f"{kind}-{seed}"
                flags = ["--layers", "256", "--d_latent", "16", "--epochs", str(args.epochs), "--seed", str(seed)]
                alone += timed([*latentmap, "train", kind, *flags, "--no_plot", "--out", str(out)])
        one = timed([*latentmap, "sweep", str(grid), "--out", str(root / "one"), "--jobs", "1", "--no_report"])
        two = timed([*latentmap, "sweep", str(grid), "--out", str(root / "two"), "--jobs", "2", "--no_report"])
    runs = 2 * len(seeds)
    print(f"{runs} runs of 784-256-16 on MNIST, {args.epochs} epochs each")
    print(f"runs trained alone, summed: {alone:7.1f} s")
    print(f"sweep --jobs 1:             {one:7.1f} s   overhead {one / alone:.2f}x (target <= 1.10x)")
    print(f"sweep --jobs 2:             {two:7.1f} s   speed-up over --jobs 1 {one / two:.2f}x (target >= 1.5x)")


if __name__ == "__main__":
    main()
