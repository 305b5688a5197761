"""The judge and `latentmap compare`: training time and accuracy per dataset, and the time
of a two-run comparison.

Targets (2-core CPU): judge >= 99.0% test accuracy on digits and >= 90% on fashion, each
trained in <= 180 s; `compare` of two digits runs with 1,000 pairs in <= 60 s once the
judge exists. TMNIST judges report plain accuracy and accuracy with confusable groups.

    python bench/bench_compare.py [--datasets digits fashion numeric] [--runs AE VAE]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from latentmap.data import load_dataset
from latentmap.quality.compare import compare_runs
from latentmap.quality.judge import train_judge
from latentmap.train import TrainOptions, train
from latentmap.train.run import load_run

TARGETS = {"digits": 0.99, "fashion": 0.90}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["digits", "fashion", "numeric"])
    parser.add_argument("--runs", nargs=2, help="two digits runs to compare (default: train an AE and a VAE)")
    parser.add_argument("--pairs", type=int, default=1000)
    args = parser.parse_args()
    judges = {}
    for spec in args.datasets:
        data = load_dataset(spec)
        start = time.perf_counter()
        judge = train_judge(data, progress=False)
        seconds = time.perf_counter() - start
        judges[spec] = (data, judge)
        info = judge.info
        target = TARGETS.get(spec)
        verdict = (
            "" if target is None else f" (target >= {target:.0%}: {'met' if info['accuracy'] >= target else 'missed'})"
        )
        groups = (
            f", {info['group_accuracy']:.4f} with groups {info['confusable_groups']}"
            if info["confusable_groups"]
            else ""
        )
        print(
            f"judge {spec:<12} {info['train_images']:>7,} train images, {seconds:5.0f} s (target <= 180 s: "
            f"{180 / seconds:.1f}x headroom): accuracy {info['accuracy']:.4f}{verdict}{groups}; tau {info['tau']:.3f}"
        )
    if "digits" not in judges:
        return
    data, judge = judges["digits"]
    with tempfile.TemporaryDirectory() as tmp:
        if args.runs:
            runs = [load_run(path) for path in args.runs]
        else:
            base = {"layers": [256], "d_latent": 16, "epochs": 5, "no_plot": True}
            runs = [
                load_run(train(TrainOptions(kind=kind, out=f"{tmp}/{kind}", **base), progress=False))
                for kind in ("dense", "vae")
            ]
        start = time.perf_counter()
        compare_runs(runs, data, judge, args.pairs, log=lambda *a: None)
        seconds = time.perf_counter() - start
    print(
        f"compare of 2 digits runs, {args.pairs} pairs: {seconds:.1f} s (target <= 60 s: {60 / seconds:.1f}x headroom)"
    )


if __name__ == "__main__":
    main()
