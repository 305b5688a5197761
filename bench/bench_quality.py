"""Quality against published anchors, measured in one run and printed side by side.

- AE 784-1000-500-250-30 vs PCA-30 on the MNIST test set, per-image summed squared error
  (Hinton & Salakhutdinov 2006: AE 3.00, PCA 13.87; target AE <= 3.00).
- VAE on dynamically binarized MNIST, importance-weighted NLL in nats on test images:
  MLP 784-200-200-50 tanh (Burda et al. 2016: 86.76 after 3,280 epochs; pythae 89.78;
  target <= 88) and conv (``--arch conv``; target <= 84).
- The RAE paper's finding (Ghosh et al. 2020, MNIST FID 58.7 -> 10.7 for a plain AE): samples
  of the 30-d AE from one Gaussian fitted to its train codes against a 10-component mixture,
  in our judge's features (FID, precision, recall, validity).

The targets need far more epochs than a 2-core CPU gives in minutes: the defaults are what
it gives; on a GPU pass the published schedules, e.g.
    python bench/bench_quality.py --ae-epochs 200 --vae-epochs 1000 --conv-epochs 100 --nll-samples 5000 --device cuda
(``--lr-schedule cosine`` decays every model's rate to 0 over its run: the training-length
grid's schedule.)
"""

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from latentmap import load_dataset, load_run
from latentmap.train import TrainOptions, train
from latentmap.train.evaluate import binarize, importance_weighted_nll
from latentmap.train.preprocess import Preprocessor


def summed_squared_error(images: np.ndarray, recon: np.ndarray) -> float:
    return float(((images.astype(np.float32) / 255 - recon) ** 2).reshape(len(images), -1).sum(axis=1).mean())


def timed_train(options: TrainOptions) -> tuple[Path, float]:
    start = time.perf_counter()
    out = train(options, progress=False)
    return Path(out), time.perf_counter() - start


def vae_nll(out: Path, images: np.ndarray, samples: int) -> float:
    run = load_run(out)
    return float(importance_weighted_nll(run.model, binarize(images).to(run.device), samples).mean())


def sampler_finding(ae_dir: Path, digits) -> dict[str, dict[str, float]]:
    """gaussian_* (one Gaussian fitted to the train codes) and gmm_* of the AE, with the cached judge."""
    from latentmap.data.sources import DataPaths
    from latentmap.quality.judge import judge_for
    from latentmap.quality.metrics import make_probe, measure

    judge = judge_for(digits, DataPaths.resolve().cache)
    metrics, _ = measure(load_run(ae_dir), digits, judge, make_probe(digits, 200, 0))
    return {
        sampler: {name: metrics[f"{sampler}_{name}"] for name in ("fid", "precision", "recall", "validity")}
        for sampler in ("gaussian", "gmm")
    }


MODELS = ("ae", "mlp-vae", "conv-vae")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS), help="which to train and measure")
    parser.add_argument("--ae-epochs", type=int, default=20)
    parser.add_argument("--vae-epochs", type=int, default=20)
    parser.add_argument("--conv-epochs", type=int, default=5)
    parser.add_argument("--nll-samples", type=int, default=1000)
    parser.add_argument("--nll-images", type=int, default=2000)
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--lr-schedule", default="constant", choices=("constant", "cosine"), help="every model's learning-rate schedule"
    )
    args = parser.parse_args()
    digits = load_dataset("digits")
    train_images, test = digits.split("train").images, digits.split("test")
    nll_images = test.images[: args.nll_images]

    pca = Preprocessor(pca_dims=30).fit(train_images)
    pca_error = summed_squared_error(test.images, pca.inverse_transform(pca.transform(test.images)))
    rows = [("PCA-30, summed squared error", pca_error, "13.87", "-")]
    finding = None
    with tempfile.TemporaryDirectory() as tmp:
        common = {"no_plot": True, "no_tensorboard": True, "device": args.device, "lr_schedule": args.lr_schedule}
        vae = {"kind": "vae", "likelihood": "bernoulli", "dynamic_binarization": True, "batch_size": 100, **common}
        if "ae" in args.models:
            ae = TrainOptions(
                kind="dense", layers=[1000, 500, 250], d_latent=30, epochs=args.ae_epochs, out=f"{tmp}/ae", **common
            )
            ae_dir, seconds = timed_train(ae)
            error = summed_squared_error(test.images, load_run(ae_dir).reconstruct(test.images))
            rows.append(("AE 784-1000-500-250-30, summed squared error", error, "<= 3.00", cost(ae, seconds)))
            finding = sampler_finding(ae_dir, digits)
        if "mlp-vae" in args.models:
            mlp = TrainOptions(
                layers=[200, 200], d_latent=50, activation="tanh", epochs=args.vae_epochs, out=f"{tmp}/mlp", **vae
            )
            mlp_dir, seconds = timed_train(mlp)
            nll = vae_nll(mlp_dir, nll_images, args.nll_samples)
            rows.append(("VAE MLP 784-200-200-50 NLL (nats)", nll, "<= 88", cost(mlp, seconds)))
        if "conv-vae" in args.models:
            conv = TrainOptions(arch="conv", epochs=args.conv_epochs, out=f"{tmp}/conv", **vae)
            conv_dir, seconds = timed_train(conv)
            nll = vae_nll(conv_dir, nll_images, args.nll_samples)
            rows.append(("VAE conv 16 32 NLL (nats)", nll, "<= 84", cost(conv, seconds)))

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    print(
        f"hardware: {device}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"{platform.machine()}; learning rate {args.lr_schedule}"
    )
    print(f"{'measure':48} {'ours':>8} {'target':>8}  epochs, time")
    for name, ours, target, spent in rows:
        print(f"{name:48} {ours:8.2f} {target:>8}  {spent}")
    if {"mlp-vae", "conv-vae"} & set(args.models):
        print(f"  (NLL: k={args.nll_samples} importance samples on {len(nll_images)} test images)")
    if finding is not None:
        print("AE samples (30-d codes), judge features:  FID   precision  recall  validity")
        for sampler, label in (("gaussian", "one fitted Gaussian"), ("gmm", "10-component mixture")):
            m = finding[sampler]
            print(f"  {label:38} {m['fid']:6.1f}  {m['precision']:9.3f}  {m['recall']:6.3f}  {m['validity']:8.3f}")
        print("  (Ghosh et al. 2020, MNIST FID of a plain AE: Gaussian 58.7 -> mixture 10.7)")


def cost(options: TrainOptions, seconds: float) -> str:
    return f"{options.epochs}, {seconds:.0f} s"


if __name__ == "__main__":
    main()
