"""Is a VAE's latent space smoother and more valid than an AE's? The experiment behind the
README's answer, on digits and fashion.

A dense AE and VAEs of the same layer sizes and code size, trained with the same budget:
the VAE with the original loss (mean pixel MSE + reg_lambda x mean KL) at reg_lambda 0,
0.01, 0.1 and 1, and with the Bernoulli ELBO (dynamic binarization, KL weight 1). Then
`latentmap compare` on each dataset, and a plot of validity, smoothness and sample quality
against the KL weight.

    python bench/vae_vs_ae.py [--datasets digits fashion] [--epochs 20] [--out docs/vae-vs-ae]
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from latentmap.atomic import write_bytes
from latentmap.data import load_dataset
from latentmap.data.sources import DataPaths
from latentmap.quality.compare import compare_runs, markdown, write_outputs
from latentmap.quality.judge import judge_for
from latentmap.train import TrainOptions, train
from latentmap.train.run import load_run

LAMBDAS = (0.0, 0.01, 0.1, 1.0)


def variants(epochs: int) -> dict[str, dict]:
    base = {"layers": [256], "d_latent": 16, "epochs": epochs, "no_plot": True}
    runs = {"ae": {"kind": "dense", **base}}
    for reg in LAMBDAS:
        runs[f"vae-mse-{reg:g}"] = {"kind": "vae", "reg_lambda": reg, **base}
    runs["vae-elbo"] = {"kind": "vae", "likelihood": "bernoulli", "dynamic_binarization": True, **base}
    return runs


def sweep_plot(results: dict[str, dict], path: Path) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    panels = [
        ("interpolation_validity", "interpolation validity"),
        ("smoothness", "smoothness (0 = even morph)"),
        ("gaussian_validity", "fitted-Gaussian sample validity"),
        ("gaussian_fid", "fitted-Gaussian FID (judge features)"),
        ("holes", "holes"),
    ]
    fig, axes = plt.subplots(len(results), len(panels), figsize=(3.2 * len(panels), 2.6 * len(results)), squeeze=False)
    for row, (dataset, runs) in enumerate(results.items()):
        by_name = {r["name"].split("-", 1)[1]: r["metrics"] for r in runs["runs"]}
        xs = list(range(len(LAMBDAS)))
        for col, (metric, title) in enumerate(panels):
            ax = axes[row][col]
            ax.plot(xs, [by_name[f"vae-mse-{reg:g}"][metric] for reg in LAMBDAS], "o-", label="VAE, original loss")
            ax.axhline(by_name["ae"][metric], color="k", ls="--", label="dense AE")
            ax.axhline(by_name["vae-elbo"][metric], color="tab:red", ls=":", label="VAE, Bernoulli ELBO")
            ax.set_xticks(xs, [f"{reg:g}" for reg in LAMBDAS])
            ax.set_xlabel("--reg_lambda (KL weight)")
            ax.set_title(f"{dataset}: {title}", fontsize=9)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=80)
    plt.close(fig)
    write_bytes(path, out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["digits", "fashion"])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--runs", default="runs/vae-vs-ae", help="where the runs go")
    parser.add_argument("--out", default="docs/vae-vs-ae", help="compare outputs and the sweep plot")
    args = parser.parse_args()
    results = {}
    for dataset in args.datasets:
        data = load_dataset(dataset)
        start = time.perf_counter()
        judge = judge_for(data, DataPaths.resolve().cache)
        print(f"{dataset}: judge accuracy {judge.info['accuracy']:.4f} ({time.perf_counter() - start:.0f} s)")
        runs = []
        for name, options in variants(args.epochs).items():
            out = Path(args.runs) / f"{dataset}-{name}"
            if not (out / "model.safetensors").is_file():
                start = time.perf_counter()
                train(TrainOptions(dataset=dataset, out=str(out), overwrite=True, **options), progress=False)
                print(f"{dataset}: trained {name} in {time.perf_counter() - start:.0f} s")
            runs.append(load_run(out))
        comparison = compare_runs(runs, data, judge, args.pairs)
        write_outputs(comparison, Path(args.out) / dataset)
        print(markdown(comparison))
        results[dataset] = json.loads(json.dumps(comparison.to_json()))
    sweep_plot(results, Path(args.out) / "sweep.png")
    print(f"wrote {args.out}/<dataset>/compare.* and {args.out}/sweep.png")


if __name__ == "__main__":
    main()
