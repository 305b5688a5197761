"""Intervals for the latent-quality metrics: a seeded bootstrap over the units a metric
averages (test pairs, test images, samples), paired between runs, and intervals over
training seeds that keep the shared units' noise (:func:`seeds_and_pairs`), with
false-discovery control over a family of comparisons.

Every metric of :mod:`.metrics` is a statistic of per-unit values (:class:`Items`): the
share of valid decodes is the mean of one value per pair, FID a function of the sample
features. Resampling the same unit indices for every run of a dataset (they all see the
same pairs) makes differences between runs *paired*, which is what lets a small real gap
stand out from the pair-to-pair noise.
"""

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

N_BOOT = 1000
# Statistics that refit on each replicate (FID) cost more: 500 replicates leave 12 beyond each
# 2.5% tail, enough for a percentile bound to be read from more than a couple of draws.
N_BOOT_SETWISE = 500
LEVEL = 0.95
FAILED_TRAINING_ALPHA = 0.01  # a model's seeds spread beyond the others' by this F-test level: a failed training


@dataclass
class Items:
    """Per-unit values behind one metric: ``stat`` of ``values`` (rows are units)."""

    unit: str  # "pairs", "test_images", "prior_samples", ...: runs share indices per unit
    values: np.ndarray  # (n,) per-unit values, or (n, features) for a set-wise statistic
    stat: str = "mean"  # mean | p90 | fid
    reference: np.ndarray | None = None  # fid: the real images' features
    groups: np.ndarray | None = None  # (n,) group of each unit (a typeface's family): resampled whole
    # resampled(seed) per seed and replicate count: a report asks for the same replicates of one
    # run for its own interval and for every difference against it (FID refits on each)
    replicated: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    value: float | None = field(default=None, repr=False, compare=False)  # compute() on all units, once

    def __len__(self) -> int:
        return len(self.values)

    def compute(self, rows: np.ndarray | None = None) -> np.ndarray | float:
        """The statistic on all units, or on each row of ``rows`` (replicates x n) of indices."""
        if rows is None:
            if self.value is None:
                self.value = float(np.asarray(self.compute(np.arange(len(self.values))[None]))[0])
            return self.value
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
        key = (seed, boot_count(self))
        if key not in self.replicated:
            self.replicated[key] = self._resample(seed, key[1])
        return self.replicated[key]

    def _resample(self, seed: int, count: int) -> np.ndarray:
        if self.groups is None:
            return np.asarray(self.compute(replicates(self.unit, len(self), seed, count)))
        if self.stat != "mean":
            raise ValueError("a grouped bootstrap is defined here for means only")
        weights = group_weights(self.unit, self.groups, seed, count)
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


def check_paired(a: Items, b: Items) -> None:
    """Refuse items that were not measured on the same units (and the same groups of them)."""
    same_groups = (a.groups is None and b.groups is None) or (
        a.groups is not None and b.groups is not None and np.array_equal(a.groups, b.groups)
    )
    if a.unit != b.unit or len(a) != len(b) or not same_groups:
        raise ValueError(f"unpaired items: {a.unit} x {len(a)} against {b.unit} x {len(b)}")


def paired_difference(a: Items, b: Items, seed: int = 0, level: float = LEVEL) -> tuple[float, float, float]:
    """Metric of ``a`` minus that of ``b`` and the interval of the difference, both computed
    on the same resampled units (the runs saw the same pairs)."""
    check_paired(a, b)
    difference = float(a.compute()) - float(b.compute())
    if len(a) < 2:
        return difference, math.nan, math.nan
    low, high = percentile_interval(a.resampled(seed) - b.resampled(seed), level)  # same replicates
    return difference, low, high


@dataclass
class Estimate:
    """A mean over training seeds (or a difference of two models over matched seeds), its
    interval and the two-sided p-value of 0 under the same error model."""

    value: float
    low: float
    high: float
    p: float = math.nan


def shared_variance(replicated: np.ndarray) -> float:
    """The variance of a seed-averaged statistic that comes from the draw of the units the
    seeds share: the mean covariance, over bootstrap replicates, between *different* seeds
    (clipped at 0). A seed's own covariance with itself also holds its per-(seed, unit) noise,
    which the spread of the per-seed values already carries: counting it here again made the
    intervals too wide (97-98% for a 95% interval where that noise dominates). With one seed
    there is no spread, and its whole bootstrap variance stands in."""
    rows = replicated[:, np.isfinite(replicated).all(axis=0)]
    if rows.shape[1] < 2:
        return math.nan
    if len(rows) == 1:
        return float(np.var(rows[0], ddof=1))
    cov = np.cov(rows)
    seeds = len(rows)
    off_diagonal = (cov.sum() - np.trace(cov)) / (seeds * (seeds - 1))
    return max(0.0, float(off_diagonal))


@dataclass(frozen=True)
class SeedSpread:
    """The variance of one seed's value around the model's mean, and its degrees of freedom:
    a model's own (seeds - 1), or pooled over the models of a report (:func:`pooled_spread`)."""

    variance: float
    df: float


def own_spread(per_seed: np.ndarray) -> SeedSpread | None:
    return SeedSpread(float(np.var(per_seed, ddof=1)), len(per_seed) - 1) if len(per_seed) > 1 else None


def pooled_spread(groups: list[np.ndarray]) -> SeedSpread | None:
    """The seed variance pooled over several models' per-seed values (each about its own
    mean): three seeds give a model 2 degrees of freedom, a dataset's dozen models 24. A model
    whose seeds spread more than the pool of the others allows (:func:`exceeds`: a failed
    training) stays out of it: one collapsed ACAI critic on numeric widened every other
    model's interval of GMM Fréchet distance (the AE's seeds, 16.8 to 19.1, got [0, 47])."""
    spreads = [own for own in map(own_spread, groups) if own is not None and math.isfinite(own.variance)]
    kept = [s for k, s in enumerate(spreads) if not exceeds(s, combined(spreads[:k] + spreads[k + 1 :]))]
    return combined(kept)


def combined(spreads: list[SeedSpread]) -> SeedSpread | None:
    df = sum(s.df for s in spreads)
    return SeedSpread(sum(s.variance * s.df for s in spreads) / df, df) if df > 0 else None


def exceeds(own: SeedSpread, pooled: SeedSpread | None) -> bool:
    """Whether a model's own seed spread is larger than the pooled one beyond chance (an F
    test at FAILED_TRAINING_ALPHA): the one rule behind the pool, :func:`moderated` and
    :func:`outlying_seeds`."""
    from scipy import stats

    if pooled is None or pooled.variance <= 0:
        return False
    return bool(stats.f.sf(own.variance / pooled.variance, own.df, pooled.df) < FAILED_TRAINING_ALPHA)


def moderated(own: SeedSpread | None, pooled: SeedSpread | None) -> SeedSpread | None:
    """The pooled spread, unless this model's own is larger than the pooled one beyond chance
    (:func:`exceeds`: a failed seed), where its own stands."""
    if own is None:
        return pooled
    if pooled is None or pooled.variance <= 0:
        return own
    return own if exceeds(own, pooled) else pooled


def outlying_seeds(per_seed: np.ndarray, pooled: SeedSpread | None) -> list[int]:
    """The seed that stands apart where a model's seeds spread more than the pooled seed spread
    allows (:func:`exceeds`): the one farthest from the median of its seeds. A training that
    failed (an ACAI critic that collapsed) is a finding to report, not noise to average."""
    own = own_spread(per_seed)
    if own is None or len(per_seed) < 3 or not exceeds(own, pooled):
        return []
    return [int(np.argmax(np.abs(per_seed - np.median(per_seed))))]


def seeds_and_pairs(
    per_seed: np.ndarray, replicated: np.ndarray, level: float = LEVEL, spread: SeedSpread | None = None
) -> Estimate:
    """Combine the two sources of noise of a mean over seeds that all saw the same units:
    training (the spread of the per-seed values: ``spread``, else their own) and the draw of
    the units the seeds share, which does not average out over them (:func:`shared_variance`:
    ``replicated`` is seeds x replicates, every seed resampled on the same rows). The
    variances add; the interval is Student's t with the Welch-Satterthwaite degrees of
    freedom (the unit part is known from a thousand replicates, the seed part from the
    spread's degrees of freedom), and p is the two-sided level at which it just reaches 0."""
    from scipy import stats

    seeds = len(per_seed)
    value = float(np.mean(per_seed))
    spread = spread or own_spread(per_seed)
    var_seed = spread.variance / seeds if spread is not None else 0.0
    var_pair = shared_variance(replicated)
    total = var_seed + var_pair
    if math.isnan(total):
        return Estimate(value, math.nan, math.nan, math.nan)
    if total == 0:  # every seed and every resampling agree (two models that never differ)
        return Estimate(value, value, value, 1.0 if value == 0 else 0.0)
    df = total**2 / (var_seed**2 / spread.df) if spread is not None and var_seed > 0 else math.inf
    se = math.sqrt(total)
    half = float(stats.t.ppf((1 + level) / 2, df)) * se
    p = float(2 * stats.t.sf(abs(value) / se, df))
    return Estimate(value, value - half, value + half, p)


def per_seed_values(seeds: list[Items]) -> np.ndarray:
    return np.array([float(items.compute()) for items in seeds])


def per_seed_differences(seeds_a: list[Items], seeds_b: list[Items]) -> np.ndarray:
    for a, b in zip(seeds_a, seeds_b, strict=True):
        check_paired(a, b)
    return np.array([float(a.compute()) - float(b.compute()) for a, b in zip(seeds_a, seeds_b, strict=True)])


def seeds_estimate(
    seeds: list[Items], seed: int = 0, level: float = LEVEL, spread: SeedSpread | None = None
) -> Estimate:
    """A model's metric over its training seeds, with seed and (shared) unit noise."""
    replicated = np.stack([items.resampled(seed) for items in seeds])
    return seeds_and_pairs(per_seed_values(seeds), replicated, level, spread)


def matched_difference(
    seeds_a: list[Items], seeds_b: list[Items], seed: int = 0, level: float = LEVEL, spread: SeedSpread | None = None
) -> Estimate:
    """Mean difference of two models over matched training seeds: per replicate the shared
    units are resampled once, the paired differences averaged over seeds (:func:`seeds_and_pairs`)."""
    per_seed = per_seed_differences(seeds_a, seeds_b)
    replicated = np.stack([a.resampled(seed) - b.resampled(seed) for a, b in zip(seeds_a, seeds_b, strict=True)])
    return seeds_and_pairs(per_seed, replicated, level, spread)


def false_discoveries(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted q-values of a family of tests (NaN stays NaN)."""
    from scipy.stats import false_discovery_control

    p = np.asarray(p_values, dtype=np.float64)
    q = np.full(len(p), math.nan)
    finite = np.isfinite(p)
    if finite.any():
        q[finite] = false_discovery_control(p[finite])
    return q.tolist()


def verdict(low: float, high: float, lower_is_better: bool) -> str:
    """better / worse / tie for an interval of (model - reference)."""
    if math.isnan(low) or math.isnan(high) or low <= 0 <= high:
        return "tie"
    positive = low > 0
    return "worse" if positive == lower_is_better else "better"
