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
  et al. 2019, k = 3) of 5,000 interpolants (seeded pairs and t, whatever ``--pairs`` is)
  against 5,000 real test images, in judge features.
- ``gaussian_validity``, ``gaussian_precision``, ``gaussian_recall``, ``gaussian_fid``:
  decodes of codes drawn from a Gaussian fitted to the train codes, for every run.
- ``prior_validity``, ``prior_precision``, ``prior_recall``, ``prior_fid``: the same for
  z ~ N(0, I), only for runs trained towards that prior (VAE, WAE): the two samplers in
  columns of their own, so a difference is never one of samplers rather than of spaces.
- ``gmm_validity``, ``gmm_precision``, ``gmm_recall``, ``gmm_fid``: the same for codes
  drawn from a 10-component Gaussian mixture fitted to the train codes, for every run.
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
from . import stats
from .interpolation import INTERMEDIATE_STEPS, interpolation_weights, lerp, slerp
from .judge import Judge
from .metric_table import METRICS, SAMPLERS, registered
from .stats import Items, bootstrap_interval
from .validity import class_confidence, strip_valid, validity_items

# Bump when a metric's code changes what it measures: cached measurements are keyed by it.
MEASURE_VERSION = 5
K_NEAREST = 3
REAL_SAMPLES = 5000
PRIOR_SAMPLES = 5000
TRAIN_CODES = 20000
MAX_TEST = 10000


@dataclass
class Probe:
    """What every run of a dataset is measured on: seeded test rows, pairs and analogies."""

    test: Dataset  # at most MAX_TEST test images
    train_rows: np.ndarray  # rows of the train split whose codes stand for the train set
    pairs: np.ndarray  # (n, 2) rows into ``test``: the first n_same of one class, the rest of two
    n_same: int
    analogies: np.ndarray  # (n, 3) rows into ``test``: A, B of one class, C of another
    real: np.ndarray  # rows into ``test`` whose judge features stand for real images
    seed: int
    realism_pairs: np.ndarray  # (REAL_SAMPLES, 2) rows into ``test``: the interpolants that precision/recall
    realism_t: np.ndarray  # (REAL_SAMPLES,) their positions on the way, in (0, 1)


def make_probe(dataset: Dataset, pairs: int, seed: int = 0) -> Probe:
    """Pairs and analogies drawn from the test split with ``seed`` (same for every run)."""
    if pairs < 2:
        raise LatentmapError(f"--pairs must be at least 2 (one same-class and one cross-class pair), got {pairs}")
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
    # Interpolants for precision/recall: as many as real images, whatever --pairs is, so the
    # two sets (and so the k-NN radii) have the same sizes in every comparison.
    realism_pairs = rng.integers(len(test), size=(len(real), 2))
    realism_t = rng.uniform(1 / 8, 7 / 8, size=len(real))
    pair_rows = np.concatenate([same, cross])
    return Probe(test, train_rows, pair_rows, n_same, np.array(analogies), real, seed, realism_pairs, realism_t)


# --------------------------------------------------------------------------- building blocks


def nearest_distances(points: np.ndarray, reference: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    k = 2 if exclude_self else 1
    distances, _ = NearestNeighbors(n_neighbors=k).fit(reference).kneighbors(points)
    return distances[:, -1]


def covered(points: np.ndarray, support: np.ndarray, k: int = K_NEAREST, chunk: int = 1024) -> np.ndarray:
    """Per point: does it lie in the k-NN ball of *any* support sample (Kynkaanniemi et
    al. 2019)? Exact: every support ball is checked, so an outlier's large ball counts too."""
    from sklearn.neighbors import NearestNeighbors

    support = np.asarray(support, dtype=np.float64)
    radii = NearestNeighbors(n_neighbors=min(k + 1, len(support))).fit(support).kneighbors(support)[0][:, -1]
    squared = (support**2).sum(axis=1)
    out = np.zeros(len(points), bool)
    for start in range(0, len(points), chunk):
        block = np.asarray(points[start : start + chunk], dtype=np.float64)
        d2 = (block**2).sum(axis=1)[:, None] - 2 * block @ support.T + squared[None]
        out[start : start + chunk] = (np.sqrt(np.maximum(d2, 0)) <= radii[None] + 1e-9).any(axis=1)
    return out


def smoothness_scores(paths: np.ndarray) -> np.ndarray:
    """ACAI smoothness per path of images (n, steps + 1, ...): largest step / length - 1/steps."""
    flat = paths.reshape(len(paths), paths.shape[1], -1).astype(np.float64)
    steps = np.linalg.norm(np.diff(flat, axis=1), axis=2)
    length = steps.sum(axis=1)
    n_steps = steps.shape[1]
    return np.where(length > 0, steps.max(axis=1) / np.maximum(length, 1e-12) - 1 / n_steps, 0.0)


def measurement_settings() -> dict[str, Any]:
    """Everything besides the run, judge and probe that changes a measurement (the kept
    intervals too: they come from N_BOOT / N_BOOT_SETWISE replicates)."""
    from ..train import samplers

    return {
        "replicates": [stats.N_BOOT, stats.N_BOOT_SETWISE],
        "version": MEASURE_VERSION,
        "real_samples": REAL_SAMPLES,
        "prior_samples": PRIOR_SAMPLES,
        "train_codes": TRAIN_CODES,
        "fit_codes": samplers.FIT_CODES,
        "k_nearest": K_NEAREST,
        "registered": [metric.name for metric in registered()],
    }


def sample_items(
    prefix: str, images: np.ndarray, judge: Judge, real_feats: np.ndarray, evidence: dict[str, np.ndarray]
) -> dict[str, Items]:
    """Precision, recall and FID of generated images (and the judge's confidence in each into
    ``evidence``: their validity at any tau)."""
    probs, feats = judge.predict(images)
    evidence[f"{prefix}_samples"] = probs.max(axis=1)
    fake = feats[: len(real_feats)]
    return {
        f"{prefix}_precision": Items(f"{prefix}_realism_samples", covered(fake, real_feats).astype(float)),
        f"{prefix}_recall": Items("real_images", covered(real_feats, fake).astype(float)),
        f"{prefix}_fid": Items(f"{prefix}_samples", feats, "fid", reference=real_feats),
    }


def holes(paths: np.ndarray, train_codes: np.ndarray) -> tuple[Items, float]:
    """Per pair, the share of its interpolation points farther from every train code than 99%
    of train codes are from their nearest neighbour; and that distance."""
    spacing = nearest_distances(train_codes, train_codes, exclude_self=True)
    threshold = float(np.quantile(spacing, 0.99))
    inner_codes = paths[:, :INTERMEDIATE_STEPS].reshape(-1, paths.shape[-1])
    far = (nearest_distances(inner_codes, train_codes) > threshold).reshape(len(paths), INTERMEDIATE_STEPS)
    return Items("pairs", far.mean(axis=1)), threshold


# --------------------------------------------------------------------------- one run


@dataclass
class Measured:
    """What a measurement has computed, handed to a registered metric's ``compute``."""

    run: Run
    dataset: Dataset  # the run's dataset; ``probe.test`` holds the test images measured
    judge: Judge
    probe: Probe
    codes: np.ndarray  # (n, d) codes of probe.test.images
    reconstructions: np.ndarray  # (n, 28, 28) in [0, 1]
    paths: np.ndarray  # (pairs, 9, d): the 7 inner points of each pair's path, then 10% and 50% beyond
    train_codes: np.ndarray  # codes of probe.train_rows


def measure(
    run: Run, dataset: Dataset, judge: Judge, probe: Probe, mode: str = "linear"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """All metrics of one run (``METRICS``) at the judge's tau, plus details: the per-unit
    values behind each metric (``items``, for intervals and paired differences), their 95%
    bootstrap intervals (``ci``), sample sizes, seed, the prior used, and the decoded strips
    of the pairs for pictures."""
    return judged(*measure_evidence(run, dataset, judge, probe, mode), judge.tau)


def judged(
    items: dict[str, Items],
    evidence: dict[str, np.ndarray],
    details: dict[str, Any],
    tau: float,
    intervals: dict[str, list[float]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The metrics and details of :func:`measure` at ``tau`` from a measurement's tau-free
    ``items`` and judge ``evidence``; ``intervals`` already known (of tau-free metrics) are kept."""
    items = items_at(items, evidence, details, tau)
    names = [name for name in METRICS if name in items]  # prior_* only where the run has a prior
    known = intervals or {}
    seed = details["seed"]
    ci = {name: list(known[name]) if name in known else list(bootstrap_interval(items[name], seed)) for name in names}
    metrics = {name: float(items[name].compute()) for name in names}
    shown = strip_valid(details["strip_confidence"], tau)
    return metrics, {**details, "tau": tau, "ci": ci, "items": items, "strip_valid": shown}


def items_at(
    items: dict[str, Items], evidence: dict[str, np.ndarray], details: dict[str, Any], tau: float
) -> dict[str, Items]:
    """Every metric's units at ``tau``: the tau-free ``items`` and the validity ones from the evidence."""
    return {**items, **validity_items(evidence, tau, details["sizes"]["same_class_pairs"])}


def measure_evidence(
    run: Run, dataset: Dataset, judge: Judge, probe: Probe, mode: str
) -> tuple[dict[str, Items], dict[str, np.ndarray], dict[str, Any]]:
    """One run through the probe: the units of every metric a threshold does not change, the
    judge's confidence in every decode whose validity counts (:mod:`.validity`), and details."""
    test = probe.test
    codes = run.encode(test.images)
    recon = run.decode(codes)
    _, real_feats = judge.predict(test.images[probe.real])
    recon_probs, _ = judge.predict(recon)
    items: dict[str, Any] = {
        "reconstruction_mse": Items("test_images", ((recon - test.images / 255.0) ** 2).mean(axis=(1, 2))),
        "reconstruction_accuracy": Items("test_images", (recon_probs.argmax(axis=1) == test.labels).astype(float)),
    }

    # interpolation and extrapolation along the seeded pairs
    a, b = probe.pairs[:, 0], probe.pairs[:, 1]
    t = interpolation_weights()  # 7 inner points, then 1.1 and 1.5
    path = (slerp if mode == "slerp" else lerp)(codes[a], codes[b], t)  # (n, 9, d)
    decoded = run.decode(path.reshape(-1, run.d_latent)).reshape(len(a), len(t), 28, 28)
    probs, _ = judge.predict(decoded.reshape(-1, 28, 28))
    endpoints = np.stack([test.labels[a], test.labels[b]], axis=1)
    confidence = class_confidence(judge, probs, np.repeat(endpoints, len(t), axis=0)).reshape(len(a), len(t))
    evidence = {"pairs": confidence}
    strips = np.concatenate([recon[a][:, None], decoded[:, :INTERMEDIATE_STEPS], recon[b][:, None]], axis=1)
    smooth = smoothness_scores(strips)
    items |= {"smoothness": Items("pairs", smooth), "smoothness_p90": Items("pairs", smooth, "p90")}

    # realism of interpolants: a fixed-size set of seeded (pair, t) points
    ra, rb = probe.realism_pairs[:, 0], probe.realism_pairs[:, 1]
    realism_t = probe.realism_t[:, None]
    interpolants = run.decode((codes[ra] + realism_t * (codes[rb] - codes[ra])).astype(np.float32))
    _, fake_feats = judge.predict(interpolants)
    items["interpolation_precision"] = Items("realism_samples", covered(fake_feats, real_feats).astype(float))
    items["interpolation_recall"] = Items("real_images", covered(real_feats, fake_feats).astype(float))

    train_codes = run.encode(dataset.images[probe.train_rows])
    items["holes"], threshold = holes(path, train_codes)

    # samples: a Gaussian and a Gaussian mixture fitted to the train codes, and the prior N(0, I)
    # of the runs trained towards it
    for offset, sampler in enumerate(SAMPLERS, start=1):
        if sampler != "prior" or run.has_prior:
            images = run.sample(PRIOR_SAMPLES, sampler, probe.seed + offset, dataset)
            items |= sample_items(sampler, images, judge, real_feats, evidence)

    # analogies
    ia, ib, ic = probe.analogies.T
    analogy_probs, _ = judge.predict(run.decode(codes[ic] + codes[ib] - codes[ia]))
    evidence["analogies"] = class_confidence(judge, analogy_probs, test.labels[ic][:, None])

    measured = Measured(run, dataset, judge, probe, codes, recon, path, train_codes)
    items |= {metric.name: metric.compute(measured) for metric in registered() if metric.compute}

    details = {
        "seed": probe.seed,
        "mode": mode,
        "prior": "N(0, I)" if run.has_prior else None,
        "sizes": {
            "test_images": len(test),
            "pairs": len(a),
            "same_class_pairs": probe.n_same,
            "cross_class_pairs": len(a) - probe.n_same,
            "points_per_path": INTERMEDIATE_STEPS,
            "real_images": len(real_feats),
            "realism_samples": len(fake_feats),
            "prior_samples": PRIOR_SAMPLES,  # per sampler: gaussian, gmm, prior
            "train_codes": len(train_codes),
            "analogies": len(probe.analogies),
            "k_nearest": K_NEAREST,
        },
        "holes_threshold": threshold,
        "strips": strips,
        "strip_confidence": confidence[:, :INTERMEDIATE_STEPS],
    }
    return items, evidence, details
