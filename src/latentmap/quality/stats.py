"""Intervals for the latent-quality metrics: a seeded bootstrap over the units a metric
averages (test pairs, test images, samples), paired between runs, and t-intervals over
training seeds.

Every metric of :mod:`.metrics` is a statistic of per-unit values (:class:`Items`): the
share of valid decodes is the mean of one value per pair, FID a function of the sample
features. Resampling the same unit indices for every run of a dataset (they all see the
same pairs) makes differences between runs *paired*, which is what lets a small real gap
stand out from the pair-to-pair noise.
"""

import hashlib
import math
from dataclasses import dataclass

import numpy as np

N_BOOT = 1000
N_BOOT_SETWISE = 100  # statistics that refit on each replicate (FID): fewer, they cost more
LEVEL = 0.95


@dataclass
class Items:
    """Per-unit values behind one metric: ``stat`` of ``values`` (rows are units)."""

    unit: str  # "pairs", "test_images", "prior_samples", ...: runs share indices per unit
    values: np.ndarray  # (n,) per-unit values, or (n, features) for a set-wise statistic
    stat: str = "mean"  # mean | p90 | fid
    reference: np.ndarray | None = None  # fid: the real images' features
    groups: np.ndarray | None = None  # (n,) group of each unit (a typeface's family): resampled whole

    def __len__(self) -> int:
        return len(self.values)

    def compute(self, rows: np.ndarray | None = None) -> np.ndarray | float:
        """The statistic on all units, or on each row of ``rows`` (replicates x n) of indices."""
        if rows is None:
            rows = np.arange(len(self.values))[None]
            return float(np.asarray(self.compute(rows))[0])
        if self.stat == "mean":
            return self.values[rows].mean(axis=1)
        if self.stat == "p90":
            return np.quantile(self.values[rows], 0.9, axis=1)
        if self.stat == "fid":
            assert self.reference is not None
            from threadpoolctl import threadpool_limits

            real = FrechetReference(self.reference)  # its statistics once, not per replicate
            with threadpool_limits(1, user_api="blas"):  # many small products: threads only add overhead
                return np.array([real.distance(self.values[r]) for r in rows])
        raise ValueError(f"unknown statistic {self.stat}")

    def resampled(self, seed: int) -> np.ndarray:
        """The statistic on each bootstrap replicate: units resampled, or whole groups of
        units (correlated units, such as the styles of one family, move together)."""
        if self.groups is None:
            return np.asarray(self.compute(replicates(self.unit, len(self), seed, boot_count(self))))
        if self.stat != "mean":
            raise ValueError("a grouped bootstrap is defined here for means only")
        weights = group_weights(self.unit, self.groups, seed, boot_count(self))
        return np.asarray((weights @ self.values) / weights.sum(axis=1))


class FrechetReference:
    """The real set's side of FID: mean, covariance and its square root, computed once.

    tr sqrt(A B) is computed as the sum of the square roots of the eigenvalues of the
    symmetric A^1/2 B A^1/2: stable where ReLU features leave A or B singular."""

    def __init__(self, real: np.ndarray) -> None:
        real = np.asarray(real, dtype=np.float64)
        self.mean, self.cov = real.mean(axis=0), np.cov(real, rowvar=False)
        values, vectors = np.linalg.eigh(self.cov)
        self.root = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T

    def distance(self, fake: np.ndarray) -> float:
        fake = np.asarray(fake, dtype=np.float64)
        mean = fake.mean(axis=0)
        centred = fake - mean
        cov = centred.T @ centred / (len(fake) - 1)
        cross = np.sqrt(np.clip(np.linalg.eigvalsh(self.root @ cov @ self.root), 0, None)).sum()
        return float(((self.mean - mean) ** 2).sum() + np.trace(self.cov) + np.trace(cov) - 2 * cross)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (FID's formula)."""
    return FrechetReference(a).distance(b)


def replicates(unit: str, n: int, seed: int, count: int) -> np.ndarray:
    """(count, n) bootstrap index rows, the same for every run with this unit and size."""
    digest = hashlib.sha256(f"{unit}:{n}:{seed}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    return rng.integers(0, n, size=(count, n))


def group_weights(unit: str, groups: np.ndarray, seed: int, count: int) -> np.ndarray:
    """(count, n) multiplicity of each unit when whole groups are drawn with replacement (a
    cluster bootstrap), the same for every run with this unit, grouping and seed."""
    names, inverse = np.unique(groups, return_inverse=True)
    digest = hashlib.sha256(f"{unit}:{len(groups)}:groups:{len(names)}:{seed}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    drawn = rng.integers(0, len(names), size=(count, len(names)))
    per_group = np.stack([np.bincount(row, minlength=len(names)) for row in drawn])
    return per_group[:, inverse].astype(np.float64)


def boot_count(items: Items) -> int:
    return N_BOOT_SETWISE if items.stat == "fid" else N_BOOT


def percentile_interval(samples: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_interval(items: Items, seed: int = 0, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of the metric over resampled units."""
    if len(items) < 2:
        return (math.nan, math.nan)
    return percentile_interval(items.resampled(seed), level)


def paired_difference(a: Items, b: Items, seed: int = 0, level: float = LEVEL) -> tuple[float, float, float]:
    """Metric of ``a`` minus that of ``b`` and the interval of the difference, both computed
    on the same resampled units (the runs saw the same pairs)."""
    same_groups = (a.groups is None and b.groups is None) or (
        a.groups is not None and b.groups is not None and np.array_equal(a.groups, b.groups)
    )
    if a.unit != b.unit or len(a) != len(b) or not same_groups:
        raise ValueError(f"unpaired items: {a.unit} x {len(a)} against {b.unit} x {len(b)}")
    difference = float(a.compute()) - float(b.compute())
    if len(a) < 2:
        return difference, math.nan, math.nan
    low, high = percentile_interval(a.resampled(seed) - b.resampled(seed), level)  # same replicates
    return difference, low, high


def t_interval(values: list[float] | np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and Student-t interval of per-seed values (NaN bounds for a single seed)."""
    from scipy import stats

    x = np.asarray(values, dtype=np.float64)
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf((1 + level) / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half


def group_difference(
    seeds_a: list[Items], seeds_b: list[Items], seed: int = 0, level: float = LEVEL
) -> tuple[float, float, float]:
    """Mean difference of two models over matched training seeds, with an interval that
    holds both sources of noise: the t-interval over the per-seed differences (training
    noise) and the paired bootstrap over units (which pairs were drawn), added in
    quadrature. One seed: the bootstrap interval alone."""
    per_seed = [paired_difference(a, b, seed, level) for a, b in zip(seeds_a, seeds_b, strict=True)]
    differences = np.array([d for d, _, _ in per_seed])
    boot_half = np.nanmean([(high - low) / 2 for _, low, high in per_seed]) / math.sqrt(len(per_seed))
    mean, t_low, t_high = t_interval(differences, level)
    if len(per_seed) == 1:
        return per_seed[0]
    half = math.sqrt(((t_high - t_low) / 2) ** 2 + float(boot_half) ** 2)
    return mean, mean - half, mean + half


def verdict(low: float, high: float, lower_is_better: bool) -> str:
    """better / worse / tie for an interval of (model - reference)."""
    if math.isnan(low) or math.isnan(high) or low <= 0 <= high:
        return "tie"
    positive = low > 0
    return "worse" if positive == lower_is_better else "better"
