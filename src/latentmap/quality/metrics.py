"""Latent-space quality in numbers: is every decode a valid image, and is the way from one
code to another a smooth morph? Scored by the dataset's judge (:mod:`latentmap.quality.judge`).

Every run of a dataset is measured on the same seeded test pairs, so runs compare. The
metric names are a stable interface (``compare.json``); fractions are in [0, 1]:

- ``reconstruction_mse``, ``reconstruction_accuracy``: test pixel MSE; share of
  reconstructions the judge gives the true class.
- ``interpolation_validity`` (``_same_class``, ``_cross_class``): share of the 7 decodes
  between two test codes that are valid (top probability >= tau) and of an endpoint's
  class. ``interpolation_worst``: share of paths whose worst point is valid (every point).
- ``extrapolation_validity_10`` / ``_50``: the same at 10% and 50% beyond the target.
- ``smoothness`` / ``smoothness_p90``: ACAI's score along each path (endpoints'
  reconstructions included): largest pixel step / path length - 1/steps; 0 = even morph.
- ``interpolation_precision`` / ``_recall``: improved precision and recall (Kynkaanniemi
  et al. 2019, k = 3) of the interpolants against real test images, in judge features.
- ``prior_validity``, ``prior_precision``, ``prior_recall``, ``prior_fid``: decodes of
  z ~ N(0, I) for a VAE, of a Gaussian fitted to the train codes otherwise.
- ``holes``: share of interpolation points farther from their nearest train code than the
  99th percentile of train codes' nearest-neighbour distances.
- ``analogy_accuracy``: A and B of one class, C of another: share of
  decode(C + B - A) the judge gives C's class.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data import Dataset
from ..errors import LatentmapError
from ..train.run import Run
from .interpolation import INTERMEDIATE_STEPS, interpolation_weights, lerp, slerp
from .judge import Judge, group_of

K_NEAREST = 3
REAL_SAMPLES = 5000
PRIOR_SAMPLES = 5000
TRAIN_CODES = 20000
MAX_TEST = 10000
METRICS = (
    "reconstruction_mse",
    "reconstruction_accuracy",
    "interpolation_validity",
    "interpolation_validity_same_class",
    "interpolation_validity_cross_class",
    "interpolation_worst",
    "extrapolation_validity_10",
    "extrapolation_validity_50",
    "smoothness",
    "smoothness_p90",
    "interpolation_precision",
    "interpolation_recall",
    "prior_validity",
    "prior_precision",
    "prior_recall",
    "prior_fid",
    "holes",
    "analogy_accuracy",
)


@dataclass
class Probe:
    """What every run of a dataset is measured on: seeded test rows, pairs and analogies."""

    test: Dataset  # at most MAX_TEST test images
    train_rows: np.ndarray  # rows of the train split whose codes stand for the train set
    pairs: np.ndarray  # (n, 2) rows into ``test``: first half same class, second half different
    analogies: np.ndarray  # (n, 3) rows into ``test``: A, B of one class, C of another
    real: np.ndarray  # rows into ``test`` whose judge features stand for real images
    seed: int

    @property
    def n_same(self) -> int:
        return len(self.pairs) // 2


def make_probe(dataset: Dataset, pairs: int, seed: int = 0) -> Probe:
    """Pairs and analogies drawn from the test split with ``seed`` (same for every run)."""
    if pairs < 1:
        raise LatentmapError(f"--pairs must be at least 1, got {pairs}")
    rng = np.random.default_rng(seed)
    test = dataset.split("test")
    if len(test) > MAX_TEST:
        test = test.subset(np.sort(rng.choice(len(test), MAX_TEST, replace=False)))
    labels = test.labels
    by_class = [np.nonzero(labels == c)[0] for c in range(len(dataset.label_names))]
    usable = [c for c, rows in enumerate(by_class) if len(rows) >= 2]
    if len(usable) < 2:
        raise LatentmapError(f"{dataset.spec}'s test split needs two classes with two images each")
    n_same = pairs // 2 + pairs % 2

    def two_of(c: int) -> np.ndarray:
        return rng.choice(by_class[c], 2, replace=False)

    same = np.array([two_of(c) for c in rng.choice(usable, n_same)])
    first = rng.integers(len(test), size=pairs - n_same)
    second = np.array([rng.choice(np.nonzero(labels != labels[i])[0]) for i in first], dtype=np.int64)
    cross = np.stack([first, second], axis=1).reshape(-1, 2)
    analogies = []
    for c in rng.choice(usable, pairs):
        a, b = two_of(c)
        analogies.append((a, b, rng.choice(np.nonzero(labels != c)[0])))
    train_rows = np.nonzero(~dataset.is_test)[0]
    if len(train_rows) > TRAIN_CODES:
        train_rows = np.sort(rng.choice(train_rows, TRAIN_CODES, replace=False))
    real = np.sort(rng.choice(len(test), min(REAL_SAMPLES, len(test)), replace=False))
    return Probe(test, train_rows, np.concatenate([same, cross]), np.array(analogies), real, seed)


# --------------------------------------------------------------------------- building blocks


def nearest_distances(points: np.ndarray, reference: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    k = 2 if exclude_self else 1
    distances, _ = NearestNeighbors(n_neighbors=k).fit(reference).kneighbors(points)
    return distances[:, -1]


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = K_NEAREST) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019): a sample is covered by a
    set when it lies within the k-NN radius of one of the set's samples."""
    from sklearn.neighbors import NearestNeighbors

    def coverage(points: np.ndarray, support: np.ndarray) -> float:
        radii = NearestNeighbors(n_neighbors=k + 1).fit(support).kneighbors(support)[0][:, -1]
        distances, index = NearestNeighbors(n_neighbors=min(len(support), 10 * k)).fit(support).kneighbors(points)
        return float((distances <= radii[index]).any(axis=1).mean())

    return coverage(fake, real), coverage(real, fake)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (FID's formula).

    tr sqrt(A B) is computed as the sum of the square roots of the eigenvalues of the
    symmetric A^1/2 B A^1/2: stable where ReLU features leave A or B singular."""
    mu_a, mu_b = a.astype(np.float64).mean(axis=0), b.astype(np.float64).mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)


def smoothness_scores(paths: np.ndarray) -> np.ndarray:
    """ACAI smoothness per path of images (n, steps + 1, ...): largest step / length - 1/steps."""
    flat = paths.reshape(len(paths), paths.shape[1], -1).astype(np.float64)
    steps = np.linalg.norm(np.diff(flat, axis=1), axis=2)
    length = steps.sum(axis=1)
    n_steps = steps.shape[1]
    return np.where(length > 0, steps.max(axis=1) / np.maximum(length, 1e-12) - 1 / n_steps, 0.0)


def class_valid(judge: Judge, probs: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Valid (top probability >= tau) and of one of the ``allowed`` classes (n, m), counting a
    confusable group (TMNIST's l I | 1) as one class."""
    groups = [[judge.info["label_names"].index(c) for c in g] for g in judge.info.get("confusable_groups", [])]
    ids = group_of(groups, probs.shape[1])
    predicted = ids[probs.argmax(axis=1)]
    return judge.valid(probs) & (predicted[:, None] == ids[allowed]).any(axis=1)


def prior_codes(run: Run, train_codes: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    if run.kind == "vae":
        return rng.standard_normal((n, run.d_latent)).astype(np.float32), "N(0, I)"
    mean, cov = train_codes.mean(axis=0), np.cov(train_codes, rowvar=False)
    cov = np.atleast_2d(cov) + 1e-6 * np.eye(run.d_latent)
    return rng.multivariate_normal(mean, cov, n, method="eigh").astype(np.float32), "Gaussian fitted to train codes"


# --------------------------------------------------------------------------- one run


def measure(
    run: Run, dataset: Dataset, judge: Judge, probe: Probe, mode: str = "linear"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """All metrics of one run (``METRICS``), plus details (sample sizes, seed, prior used)
    and the decoded strips of the first pairs for pictures."""
    rng = np.random.default_rng(probe.seed + 1)
    test = probe.test
    codes = run.encode(test.images)
    recon = run.decode(codes)
    _, real_feats = judge.predict(test.images[probe.real])
    recon_probs, _ = judge.predict(recon)
    metrics: dict[str, Any] = {
        "reconstruction_mse": float(((recon - test.images / 255.0) ** 2).mean()),
        "reconstruction_accuracy": float((recon_probs.argmax(axis=1) == test.labels).mean()),
    }

    # interpolation and extrapolation along the seeded pairs
    a, b = probe.pairs[:, 0], probe.pairs[:, 1]
    t = interpolation_weights()  # 7 inner points, then 1.1 and 1.5
    path = (slerp if mode == "slerp" else lerp)(codes[a], codes[b], t)  # (n, 9, d)
    decoded = run.decode(path.reshape(-1, run.d_latent)).reshape(len(a), len(t), 28, 28)
    probs, feats = judge.predict(decoded.reshape(-1, 28, 28))
    endpoints = np.stack([test.labels[a], test.labels[b]], axis=1)
    valid = class_valid(judge, probs, np.repeat(endpoints, len(t), axis=0)).reshape(len(a), len(t))
    inner = valid[:, :INTERMEDIATE_STEPS]
    same = slice(0, probe.n_same)
    cross = slice(probe.n_same, None)
    metrics.update(
        {
            "interpolation_validity": float(inner.mean()),
            "interpolation_validity_same_class": float(inner[same].mean()),
            "interpolation_validity_cross_class": float(inner[cross].mean()) if len(a) > probe.n_same else float("nan"),
            "interpolation_worst": float(inner.all(axis=1).mean()),
            "extrapolation_validity_10": float(valid[:, INTERMEDIATE_STEPS].mean()),
            "extrapolation_validity_50": float(valid[:, INTERMEDIATE_STEPS + 1].mean()),
        }
    )
    strips = np.concatenate([recon[a][:, None], decoded[:, :INTERMEDIATE_STEPS], recon[b][:, None]], axis=1)
    smooth = smoothness_scores(strips)
    metrics["smoothness"], metrics["smoothness_p90"] = float(smooth.mean()), float(np.quantile(smooth, 0.9))
    inner_feats = feats.reshape(len(a), len(t), -1)[:, :INTERMEDIATE_STEPS].reshape(-1, feats.shape[1])
    pick = rng.choice(len(inner_feats), min(len(inner_feats), len(real_feats)), replace=False)
    metrics["interpolation_precision"], metrics["interpolation_recall"] = precision_recall(
        real_feats, inner_feats[pick]
    )

    # holes: interpolation points far from every train code
    train_codes = run.encode(dataset.images[probe.train_rows])
    spacing = nearest_distances(train_codes, train_codes, exclude_self=True)
    threshold = float(np.quantile(spacing, 0.99))
    inner_codes = path[:, :INTERMEDIATE_STEPS].reshape(-1, run.d_latent)
    metrics["holes"] = float((nearest_distances(inner_codes, train_codes) > threshold).mean())

    # prior samples
    z, prior = prior_codes(run, train_codes, PRIOR_SAMPLES, rng)
    prior_probs, prior_feats = judge.predict(run.decode(z))
    metrics["prior_validity"] = float(judge.valid(prior_probs).mean())
    metrics["prior_precision"], metrics["prior_recall"] = precision_recall(real_feats, prior_feats[: len(real_feats)])
    metrics["prior_fid"] = frechet_distance(real_feats, prior_feats)

    # analogies
    ia, ib, ic = probe.analogies.T
    analogy_probs, _ = judge.predict(run.decode(codes[ic] + codes[ib] - codes[ia]))
    metrics["analogy_accuracy"] = float(class_valid(judge, analogy_probs, test.labels[ic][:, None]).mean())

    details = {
        "seed": probe.seed,
        "mode": mode,
        "prior": prior,
        "samples": {
            "test_images": len(test),
            "pairs": len(a),
            "same_class_pairs": probe.n_same,
            "points_per_path": INTERMEDIATE_STEPS,
            "real_images": len(real_feats),
            "prior_samples": PRIOR_SAMPLES,
            "train_codes": len(train_codes),
            "analogies": len(probe.analogies),
            "k_nearest": K_NEAREST,
        },
        "holes_threshold": threshold,
        "strips": strips,
        "strip_valid": np.concatenate([np.ones((len(a), 1), bool), inner, np.ones((len(a), 1), bool)], axis=1),
    }
    return metrics, details
