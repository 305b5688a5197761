"""Evaluation of a trained run: pixel MSE (overall and per class), and for VAEs the ELBO
terms, active units and the importance-weighted NLL (Burda et al. 2016) in nats."""

import math
from typing import Any

import numpy as np
import torch

from ..models.vae import VariationalAutoencoder, kl_per_dim
from .run import Run

ACTIVE_UNIT_VARIANCE = 0.01


def mse_by_class(run: Run, images: np.ndarray, labels: np.ndarray, names: list[str]) -> dict[str, Any]:
    """Pixel MSE against the images as the run saw them in training (binarized if it was)."""
    recon = run.reconstruct(images).reshape(len(images), -1)
    errors = ((run.preprocessor.scale(images) - recon) ** 2).mean(axis=1)
    per_class = {names[c]: float(errors[labels == c].mean()) for c in np.unique(labels)}
    return {"mse": float(errors.mean()), "mse_per_class": per_class}


def binarize(images: np.ndarray, seed: int = 0) -> torch.Tensor:
    """One fixed stochastic binarization (pixel ~ Bernoulli(intensity)), as in the NLL literature."""
    pixels = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255)
    return torch.bernoulli(pixels, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def importance_weighted_nll(
    model: VariationalAutoencoder,
    x: torch.Tensor,
    k: int,
    batch: int = 100,
    sample_chunk: int = 500,
    seed: int = 0,
    progress: bool = False,
) -> torch.Tensor:
    """-log p(x) estimated with k importance samples per image (nats, one per image).

    Memory stays bounded: images in batches, samples in chunks, combined with a running
    log-sum-exp. ``progress``: a bar over the images (on a terminal)."""
    from tqdm import tqdm

    model.eval()
    generator = torch.Generator(device=x.device).manual_seed(seed)
    out = []
    bar = tqdm(
        range(0, len(x), batch), desc=f"NLL ({k} samples/image)", unit="batch", disable=None if progress else True
    )
    for start in bar:
        xb = x[start : start + batch]
        running = torch.full((len(xb),), -math.inf, device=x.device)
        for done in range(0, k, sample_chunk):
            weights = model.log_weights(xb, min(sample_chunk, k - done), generator=generator)
            running = torch.logaddexp(running, torch.logsumexp(weights, dim=0))
        out.append(-(running - math.log(k)))
    return torch.cat(out)


@torch.no_grad()
def elbo_terms(model: VariationalAutoencoder, x: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """Negative ELBO on binary data in nats/image: reconstruction + KL (one posterior sample)."""
    model.eval()
    generator = torch.Generator(device=x.device).manual_seed(seed)
    weights = model.log_weights(x, 1, generator=generator)[0]  # log p(x,z) - log q(z|x)
    mu, logvar = model.posterior(x)
    kl = kl_per_dim(mu, logvar).sum(dim=1)
    negative_elbo = -weights  # single-sample estimate of recon + KL
    return {
        "negative_elbo": float(negative_elbo.mean()),
        "kl": float(kl.mean()),
        "reconstruction": float((negative_elbo - kl).mean()),
    }


@torch.no_grad()
def active_units(model: VariationalAutoencoder, x: torch.Tensor) -> tuple[int, list[float]]:
    """Units whose posterior mean varies across the data (variance > 0.01; Burda et al.)."""
    mu = torch.cat([model.posterior(x[i : i + 4096])[0] for i in range(0, len(x), 4096)])
    variance = mu.var(dim=0)
    return int((variance > ACTIVE_UNIT_VARIANCE).sum()), variance.cpu().tolist()


def likelihood_inputs(run: Run, images: np.ndarray) -> tuple[torch.Tensor, str]:
    """Binary test images drawn as the run's training data were, and how."""
    if run.preprocessor.binarize:
        return torch.from_numpy(run.preprocessor.scale(images)), "binarized at 0.5, as in training"
    how = "stochastically binarized (one fixed draw)"
    if run.config.get("training", {}).get("dynamic_binarization"):
        return binarize(images), f"{how}, as in training"
    return binarize(images), how


def evaluate(
    run: Run, images: np.ndarray, labels: np.ndarray, names: list[str], nll_samples: int = 0, progress: bool = False
) -> dict[str, Any]:
    """Test MSE per class; for VAEs the ELBO, active units and (``nll_samples`` > 0) the
    importance-weighted NLL. ``result["skipped"]`` says what was left out and why."""
    result: dict[str, Any] = {"run": str(run.path), "dataset": run.dataset_spec, "test_images": len(images)}
    result["weights_sha256"] = run.weights_sha256
    result["mse_input"] = "binarized at 0.5, as in training" if run.preprocessor.binarize else "grayscale in [0, 1]"
    result["skipped"] = []
    result.update(mse_by_class(run, images, labels, names))
    if not isinstance(run.model, VariationalAutoencoder):
        if nll_samples > 0:
            result["skipped"].append(f"NLL (--nll_samples {nll_samples}): a {run.kind} run has no likelihood model")
        return result
    if run.preprocessor.uses_pca:
        result["note"] = "ELBO/NLL need a pixel-space decoder; this run works in PCA space"
        result["skipped"].append("ELBO, active units and NLL: the run decodes PCA features, not pixels")
        return result
    x, how = likelihood_inputs(run, images)
    x = x.to(run.device)
    result["likelihood_input"] = how
    if run.model.config.likelihood != "bernoulli":
        result["likelihood_note"] = (
            "Bernoulli ELBO/NLL of an MSE-trained decoder (its outputs read as pixel probabilities): "
            "not the likelihood this model was trained on; compare it only with other MSE-trained runs"
        )
    result["elbo"] = elbo_terms(run.model, x)
    result["active_units"], result["posterior_mean_variance"] = active_units(run.model, x)
    if nll_samples > 0:
        nll = importance_weighted_nll(run.model, x, nll_samples, progress=progress)
        result["nll"] = {"nats": float(nll.mean()), "samples": nll_samples}
    return result
