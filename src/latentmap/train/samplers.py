"""Samplers of a run's latent space: where new codes come from.

- ``prior``: N(0, I), the prior a VAE (or WAE) was trained towards; a plain autoencoder has
  none.
- ``gaussian``: one full-covariance Gaussian fitted to the run's train codes.
- ``gmm``: a 10-component full-covariance Gaussian mixture fitted to the train codes (the
  ex-post density estimation of Ghosh et al. 2020, "From variational to deterministic
  autoencoders").

A fitted sampler is kept in the run directory as ``samplers/<name>.npz`` (arrays) and
``.json`` (its key: the weights' hash and, for fitted samplers, the fingerprint of the data
the codes came from; fit settings): fitted once, refitted when the weights or data change.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path, write_text
from ..errors import LatentmapError
from ..models import FAMILIES

SAMPLERS = ("prior", "gaussian", "gmm")
FIT_CODES = 20_000  # train codes a sampler is fitted on (seeded subsample)
COMPONENTS = 10
JITTER = 1e-6


@dataclass
class Sampler:
    """A mixture of full-covariance Gaussians (one component for prior and gaussian)."""

    name: str
    weights: np.ndarray  # (k,)
    means: np.ndarray  # (k, d)
    covariances: np.ndarray  # (k, d, d)

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        component = rng.choice(len(self.weights), size=n, p=self.weights / self.weights.sum())
        noise = rng.standard_normal((n, self.means.shape[1]))
        chol = np.linalg.cholesky(self.covariances)
        return (self.means[component] + np.einsum("nij,nj->ni", chol[component], noise)).astype(np.float32)

    def log_likelihood(self, codes: np.ndarray) -> np.ndarray:
        """log density of each code (nats)."""
        from scipy.special import logsumexp

        codes = np.asarray(codes, dtype=np.float64)
        d = codes.shape[1]
        chol = np.linalg.cholesky(self.covariances)
        per_component = []
        for k in range(len(self.weights)):
            solved = np.linalg.solve(chol[k], (codes - self.means[k]).T)
            log_det = 2 * np.log(np.diag(chol[k])).sum()
            per_component.append(
                np.log(self.weights[k]) - 0.5 * (solved**2).sum(0) - 0.5 * (log_det + d * np.log(2 * np.pi))
            )
        return logsumexp(np.stack(per_component), axis=0)


def fit(name: str, codes: np.ndarray, seed: int = 0) -> Sampler:
    """Fit the sampler ``name`` to ``codes`` (prior: N(0, I), whatever the codes)."""
    d = codes.shape[1]
    if name == "prior":
        return Sampler(name, np.ones(1), np.zeros((1, d)), np.eye(d)[None])
    codes = np.asarray(codes, dtype=np.float64)
    if name == "gaussian":
        covariance = np.atleast_2d(np.cov(codes, rowvar=False)) + JITTER * np.eye(d)
        return Sampler(name, np.ones(1), codes.mean(axis=0)[None], covariance[None])
    if name == "gmm":
        from sklearn.mixture import GaussianMixture
        from threadpoolctl import threadpool_limits

        components = min(COMPONENTS, len(codes))
        mixture = GaussianMixture(components, covariance_type="full", reg_covar=JITTER, random_state=seed)
        with threadpool_limits(1, user_api="blas"):  # (d x d) products: threads cost more than they give
            mixture.fit(codes)
        return Sampler(name, mixture.weights_, mixture.means_, mixture.covariances_)
    raise LatentmapError(f"unknown sampler '{name}': use {', '.join(SAMPLERS)}")


def check(name: str, kind: str, has_prior: bool | None = None) -> None:
    """Refuse an unknown sampler, and ``prior`` for a run whose codes have none."""
    if name not in SAMPLERS:
        raise LatentmapError(f"unknown sampler '{name}': use {', '.join(SAMPLERS)}")
    with_prior = [family.kind for family in FAMILIES.values() if family.has_prior]
    if name == "prior" and not (kind in with_prior if has_prior is None else has_prior):
        raise LatentmapError(
            f"a {kind} run has no prior: its codes were never pulled towards N(0, I) (only {', '.join(with_prior)} "
            "runs and typeface VAEs are); use sampler 'gaussian' or 'gmm', fitted to its train codes"
        )


def save(sampler: Sampler, directory: Path, key: str, info: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / sampler.name
    with atomic_path(stem.with_suffix(".npz")) as tmp:
        np.savez(tmp, weights=sampler.weights, means=sampler.means, covariances=sampler.covariances)
    write_text(stem.with_suffix(".json"), json.dumps({"key": key, **info}, indent=1) + "\n")


def load(name: str, directory: Path, key: str | Callable[[dict[str, Any]], bool]) -> Sampler | None:
    """The stored sampler, or None when missing, unreadable or stored under another key
    (``key`` may also be a test of the stored JSON)."""
    stem = directory / name
    try:
        info = json.loads(stem.with_suffix(".json").read_text())
        with np.load(stem.with_suffix(".npz"), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in ("weights", "means", "covariances")}
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        return None
    if not isinstance(info, dict) or not (key(info) if callable(key) else info.get("key") == key):
        return None
    return Sampler(name, arrays["weights"], arrays["means"], arrays["covariances"])
