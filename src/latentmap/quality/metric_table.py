"""One table of the latent-quality metrics: what each is called, what it can be, which way is
better, how a report says it, whether it heads the answer, which sampler's samples it scores
and whether it needs class labels. ``compare``, ``report``, ``verdict`` and the pictures read
the views below; a metric that is not one of ours brings its own ``compute`` and is added
with :func:`register_metric` (its name then appears in compare.json, the reports and the
answer like the built-in ones)."""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

UNBOUNDED = (0.0, math.inf)


@dataclass(frozen=True)
class Metric:
    name: str
    words: str  # how a report's verdict says it
    lower_is_better: bool = False
    range: tuple[float, float] = (0.0, 1.0)  # intervals are clipped to it (a share below 0 means nothing)
    headline: bool = False  # in the report's verdict family and the answer's bullets
    column: str | None = None  # its title in the answer's tables (None: not a column)
    sampler: str | None = None  # whose samples it scores: prior / gaussian / gmm
    needs_labels: bool = True  # a dataset without class labels cannot measure it
    typeface: bool = False  # only typeface runs (one code per typeface) measure it
    marked: bool = True  # marked better / worse against the first run (False: a baseline, the same for every run)
    compute: Callable[[Any], Any] | None = None  # Measured -> stats.Items; None: measured by metrics.py


def sample_metrics(
    sampler: str,
    name: str,
    headline_recall: bool = True,
    fid_column: str | None = None,
    recall_column: str | None = None,
) -> list[Metric]:
    """Validity, precision, recall and Fréchet distance of one sampler's decodes."""
    prefix = sampler
    return [
        Metric(f"{prefix}_validity", f"{name} sample validity", headline=True, column=f"{name} validity",
               sampler=sampler),
        Metric(f"{prefix}_precision", f"{name} sample precision", sampler=sampler),
        Metric(f"{prefix}_recall", f"{name} sample recall", headline=headline_recall, sampler=sampler,
               column=recall_column),
        Metric(f"{prefix}_fid", f"{name} sample Fréchet distance (judge features)", lower_is_better=True,
               range=UNBOUNDED, headline=True, sampler=sampler, column=fid_column),
    ]  # fmt: skip


TABLE: list[Metric] = [
    Metric("reconstruction_mse", "reconstruction MSE", lower_is_better=True, needs_labels=False),
    Metric("reconstruction_accuracy", "reconstruction accuracy"),
    Metric("interpolation_validity", "interpolation validity", headline=True, column="interp. validity"),
    Metric("interpolation_validity_same_class", "same-class interpolation validity"),
    Metric("interpolation_validity_cross_class", "cross-class interpolation validity", headline=True),
    Metric("interpolation_worst", "share of paths valid throughout"),
    Metric("extrapolation_validity_10", "validity 10% beyond the target"),
    Metric("extrapolation_validity_50", "validity 50% beyond the target"),
    Metric(
        "smoothness",
        "smoothness",
        lower_is_better=True,
        range=(-1.0, 1.0),
        headline=True,
        column="smoothness",
        needs_labels=False,
    ),
    Metric(
        "smoothness_p90", "smoothness (90th percentile)", lower_is_better=True, range=(-1.0, 1.0), needs_labels=False
    ),
    Metric("interpolation_precision", "interpolant precision"),
    Metric("interpolation_recall", "interpolant recall"),
    *sample_metrics("gaussian", "Gaussian"),
    *sample_metrics("gmm", "GMM", fid_column="GMM Fréchet dist.", recall_column="GMM recall"),
    *sample_metrics("prior", "N(0, I)", headline_recall=False),
    Metric("holes", "holes", lower_is_better=True, headline=True, column="holes", needs_labels=False),
    Metric("analogy_accuracy", "analogies", headline=True, column="analogies"),
    # typeface runs
    Metric("completion_mse", "completion MSE", lower_is_better=True, typeface=True),
    Metric("nearest_mse", "nearest typeface's MSE", lower_is_better=True, typeface=True, marked=False),
    Metric("knearest_mse", "5 nearest typefaces' MSE", lower_is_better=True, typeface=True, marked=False),
    Metric("zero_shot_mse", "zero-shot MSE", lower_is_better=True, typeface=True, marked=False),
    Metric("completion_ssim", "completion SSIM", range=(-1.0, 1.0), typeface=True),
    Metric("nearest_ssim", "nearest typeface's SSIM", range=(-1.0, 1.0), typeface=True, marked=False),
    Metric("completion_accuracy", "completion accuracy", typeface=True),
]  # typeface runs also measure interpolation_validity, gmm_validity and prior_validity


def by_name(name: str) -> Metric:
    return next(metric for metric in TABLE if metric.name == name)


# Views the rest of the package reads: shared containers that register_metric extends in place.
METRICS: list[str] = []  # every glyph-run metric, in the table's order
TYPEFACE_ONLY: list[str] = []
HEADLINE: list[str] = []
LOWER_IS_BETTER: set[str] = set()
RANGES: dict[str, tuple[float, float]] = {}
WORDS: dict[str, str] = {}
COLUMNS: dict[str, str] = {}  # metric -> its column title in the answer's tables
LABEL_FREE: list[str] = []
UNMARKED: set[str] = set()
SAMPLERS: list[str] = []  # the samplers whose samples are measured, in the order their seeds are drawn


def _add_to_views(metric: Metric) -> None:
    (TYPEFACE_ONLY if metric.typeface else METRICS).append(metric.name)
    if metric.headline and not metric.typeface:
        HEADLINE.append(metric.name)
    if metric.lower_is_better:
        LOWER_IS_BETTER.add(metric.name)
    RANGES[metric.name], WORDS[metric.name] = metric.range, metric.words
    if metric.column:
        COLUMNS[metric.name] = metric.column
    if not metric.needs_labels:
        LABEL_FREE.append(metric.name)
    if not metric.marked:
        UNMARKED.add(metric.name)
    if metric.sampler and metric.sampler not in SAMPLERS:
        SAMPLERS.append(metric.sampler)


def register_metric(metric: Metric) -> None:
    """Add a metric of glyph runs with its own ``compute(measured) -> Items`` (see
    :class:`latentmap.quality.metrics.Measured`): compare measures it, and reports, the
    answer's verdict and the pictures show it."""
    if metric.compute is None or metric.typeface or metric.sampler:
        raise ValueError("a registered metric brings compute(measured) and scores glyph runs, not a sampler")
    if any(known.name == metric.name for known in TABLE):
        raise ValueError(f"a metric named {metric.name!r} exists")
    TABLE.append(metric)
    _add_to_views(metric)


def registered() -> list[Metric]:
    """The metrics measured by their own ``compute``."""
    return [metric for metric in TABLE if metric.compute is not None]


for _metric in TABLE:
    _add_to_views(_metric)
