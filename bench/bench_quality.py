"""Quality against published anchors, measured in one run.

- Dense AE 784-1000-500-250-30 vs PCA-30 on the MNIST test set, per-image summed squared
  error (Hinton & Salakhutdinov 2006: AE 3.00, PCA 13.87; they pre-trained with RBMs and
  fine-tuned far longer).
- VAE 784-200-200-50 (tanh) on dynamically binarized MNIST: importance-weighted NLL in nats
  (Burda et al. 2016: 86.76 after 3,280 epochs).

    python bench/bench_quality.py [--ae-epochs 20] [--vae-epochs 20] [--nll-samples 1000]
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from latentmap import load_dataset, load_run
from latentmap.train import TrainOptions, train
from latentmap.train.evaluate import binarize, importance_weighted_nll
from latentmap.train.preprocess import Preprocessor


def summed_squared_error(images: np.ndarray, recon: np.ndarray) -> float:
    return float(((images.astype(np.float32) / 255 - recon) ** 2).reshape(len(images), -1).sum(axis=1).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ae-epochs", type=int, default=20)
    parser.add_argument("--vae-epochs", type=int, default=20)
    parser.add_argument("--nll-samples", type=int, default=1000)
    parser.add_argument("--nll-images", type=int, default=2000)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    digits = load_dataset("digits")
    train_images, test = digits.split("train").images, digits.split("test")

    pca = Preprocessor(pca_dims=30).fit(train_images)
    pca_error = summed_squared_error(test.images, pca.inverse_transform(pca.transform(test.images)))

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        ae_dir = train(
            TrainOptions(
                kind="dense",
                layers=[1000, 500, 250],
                d_latent=30,
                epochs=args.ae_epochs,
                out=f"{tmp}/ae",
                no_plot=True,
                device=args.device,
            ),
            progress=False,
        )
        ae_seconds = time.perf_counter() - start
        ae_error = summed_squared_error(test.images, load_run(ae_dir).reconstruct(test.images))

        start = time.perf_counter()
        vae_dir = train(
            TrainOptions(
                kind="vae",
                layers=[200, 200],
                d_latent=50,
                activation="tanh",
                likelihood="bernoulli",
                dynamic_binarization=True,
                epochs=args.vae_epochs,
                batch_size=100,
                out=f"{tmp}/vae",
                no_plot=True,
                device=args.device,
            ),
            progress=False,
        )
        vae_seconds = time.perf_counter() - start
        run = load_run(Path(vae_dir))
        x = binarize(test.images[: args.nll_images]).to(run.device)
        nll = float(importance_weighted_nll(run.model, x, args.nll_samples).mean())

    print("per-image summed squared error on the MNIST test set (lower is better)")
    print(f"  PCA-30                       {pca_error:6.2f}   (anchor 13.87)")
    print(
        f"  AE 784-1000-500-250-30       {ae_error:6.2f}   (anchor 3.00)  {args.ae_epochs} epochs, {ae_seconds:.0f} s"
    )
    print(f"  AE / PCA                     {ae_error / pca_error:6.2f}x  (anchor {3.00 / 13.87:.2f}x)")
    print(
        f"VAE 784-200-200-50 tanh, dynamic binarization: NLL {nll:.2f} nats "
        f"(k={args.nll_samples}, {args.nll_images} test images; anchor 86.76 after 3,280 epochs)"
        f"  {args.vae_epochs} epochs, {vae_seconds:.0f} s"
    )


if __name__ == "__main__":
    main()
