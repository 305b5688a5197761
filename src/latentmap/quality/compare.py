"""``latentmap compare``: the latent-quality metrics of several runs of one dataset, side
by side, each with its 95% bootstrap interval: a table, ``compare.json``, ``compare.md`` and
``compare.png`` (a bar per metric and run, and the same interpolations seen through each
model). A run is called better or worse than the first only where the paired interval of
the difference excludes 0; otherwise the table says tie."""

import hashlib
import io
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path, ensure_writable_dir, write_bytes
from ..data import Dataset
from ..errors import LatentmapError
from ..train.run import Run
from .judge import Judge
from .metric_table import LOWER_IS_BETTER, METRICS
from .metrics import Probe, judged, make_probe, measure, measure_evidence, measurement_settings
from .stats import Items, boot_count, bootstrap_interval, paired_difference, verdict

STRIP_PAIRS = 3  # of each kind: same-class and different-class pairs


@dataclass
class Comparison:
    dataset: str
    judge: dict[str, Any]
    runs: list[dict[str, Any]] = field(default_factory=list)
    strips: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # per run: images, valid
    items: list[dict[str, Items]] = field(default_factory=list)  # per run: the units behind each metric

    def to_json(self) -> dict[str, Any]:
        return finite({"dataset": self.dataset, "judge": self.judge, "runs": self.runs})

    def against_first(self, k: int, metric: str) -> tuple[float, float, float, str]:
        """Run k minus the first run on ``metric``: difference, paired 95% interval, verdict."""
        seed = self.runs[0]["seed"]
        difference, low, high = paired_difference(self.items[k][metric], self.items[0][metric], seed)
        return difference, low, high, verdict(low, high, metric in LOWER_IS_BETTER)


def finite(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null (json.dumps would write NaN, which is not JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def judge_summary(judge: Judge) -> dict[str, Any]:
    keys = ("accuracy", "group_accuracy", "tau", "confidence_quantiles", "confusable_groups", "data_hash")
    return {k: judge.info[k] for k in keys if k in judge.info}


def check_same_dataset(runs: list[Run]) -> str:
    specs = sorted({run.dataset_spec for run in runs})
    if len(specs) != 1:
        raise LatentmapError(f"runs of different datasets cannot be compared: {', '.join(specs)}")
    return specs[0]


def compare_runs(
    runs: list[Run], dataset: Dataset, judge: Judge, pairs: int, seed: int = 0, mode: str = "linear", log: Any = print
) -> Comparison:
    check_same_dataset(runs)
    probe: Probe = make_probe(dataset, pairs, seed)  # refuses pairs < 2
    comparison = Comparison(dataset.spec, judge_summary(judge))
    for run in runs:
        start = time.perf_counter()
        metrics, details = measure(run, dataset, judge, probe, mode)
        add_run(comparison, run, metrics, shown_only(details, probe))
        log(f"measured {run.path.name} ({run.kind}, {run.d_latent} dims) in {time.perf_counter() - start:.1f} s")
    return comparison


def shown_pairs(probe: Probe) -> np.ndarray:
    """The pairs drawn in pictures: the first same-class and the first cross-class ones."""
    n_same, n = probe.n_same, len(probe.pairs)
    return np.r_[0 : min(STRIP_PAIRS, n_same), n_same : min(n_same + STRIP_PAIRS, n)]


def shown_only(details: dict[str, Any], probe: Probe) -> dict[str, Any]:
    """``details`` with the strips of the shown pairs alone (all pairs' strips are large)."""
    shown = shown_pairs(probe)
    for name in ("strips", "strip_confidence", "strip_valid"):
        if name in details:
            details[name] = details[name][shown]
    return details


UNSAVED = ("items", "strips", "strip_confidence", "strip_valid")  # arrays: pictures and intervals, not JSON


def add_run(comparison: Comparison, run: Run, metrics: dict[str, Any], details: dict[str, Any]) -> None:
    """One measured run (its details holding the shown pairs' strips) into the comparison."""
    comparison.strips.append((details["strips"], details["strip_valid"]))
    comparison.items.append(details["items"])
    entry = {"run": str(run.path), "name": run.path.name, "kind": run.kind, "d_latent": run.d_latent}
    saved = {k: v for k, v in details.items() if k not in UNSAVED}
    comparison.runs.append({**entry, "metrics": metrics, **saved})


def measurement_path(run: Run, judge: Judge, probe: Probe, mode: str) -> Path:
    """Keyed by the judge's weights, not its tau: one measurement serves every tau."""
    key = [run.weights_sha256, judge.weights_fingerprint, len(probe.pairs), probe.seed, mode, METRICS]
    key.append(measurement_settings())
    return run.path / "quality" / f"{hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]}.npz"


Measurement = tuple[dict[str, Items], dict[str, np.ndarray], dict[str, Any], dict[str, list[float]]]


def measure_cached(
    run: Run, dataset: Dataset, judge: Judge, probe: Probe, mode: str = "linear"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """:func:`measure`, from the run's kept measurement (:func:`kept_measurement`) at the judge's tau."""
    items, evidence, details, intervals = kept_measurement(run, dataset, judge, probe, mode)
    return judged(items, evidence, details, judge.tau, intervals)


def kept_measurement(run: Run, dataset: Dataset, judge: Judge, probe: Probe, mode: str = "linear") -> Measurement:
    """The run measured by the judge's network at no particular tau: (tau-free items, the
    judge's evidence, details, intervals of the tau-free metrics), kept in
    ``<run>/quality/<key>.npz`` (key: the weights, the judge's network, the pairs, seed and
    mode, the sample sizes and the metrics' code version), so that a sweep run again
    measures nothing it measured before, a change of constants measures afresh, and the same
    judge at another tau reads the same file (it keeps the judge's confidence in each
    decode, not its verdicts). The bootstrap replicates of the tau-free metrics are kept
    too, and their values, so a report over many runs never refits FID."""
    path = measurement_path(run, judge, probe, mode)
    cached = read_measurement(path)
    if cached is not None:
        return cached
    items, evidence, details = measure_evidence(run, dataset, judge, probe, mode)
    details = shown_only(details, probe)
    intervals = {name: list(bootstrap_interval(one, probe.seed)) for name, one in items.items()}  # FID's: slow
    arrays: dict[str, Any] = {f"item.{name}": one.values for name, one in items.items()}
    arrays |= {f"evidence.{name}": values for name, values in evidence.items()}
    # the replicates behind those intervals: a report asks for them again (FID's take seconds each)
    arrays |= {f"replicates.{name}": one.resampled(probe.seed) for name, one in items.items() if len(one) > 1}
    arrays |= {"reference": items["gmm_fid"].reference, "strips": details["strips"]}
    arrays["strip_confidence"] = details["strip_confidence"]
    meta = {
        "details": {k: v for k, v in details.items() if k not in UNSAVED},
        "items": {name: [one.unit, one.stat] for name, one in items.items()},
        "intervals": intervals,
        "values": {name: float(one.compute()) for name, one in items.items()},
    }
    try:
        with atomic_path(path) as tmp:
            np.savez(tmp, **arrays, meta=json.dumps(meta))
    except (OSError, LatentmapError):
        pass  # a read-only run directory: measured, not kept
    return items, evidence, details, intervals


def read_measurement(path: Path) -> Measurement | None:
    """What :func:`kept_measurement` kept in ``path``, or None."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            arrays = {name: npz[name] for name in npz.files}
        items = {}
        for name, (unit, stat) in meta["items"].items():
            reference = arrays["reference"] if stat == "fid" else None
            items[name] = one = Items(
                unit, arrays[f"item.{name}"], stat, reference, value=meta.get("values", {}).get(name)
            )
            if f"replicates.{name}" in arrays:
                one.replicated[(meta["details"]["seed"], boot_count(one))] = arrays[f"replicates.{name}"]
        evidence = {name.removeprefix("evidence."): v for name, v in arrays.items() if name.startswith("evidence.")}
        details = {**meta["details"], "strips": arrays["strips"], "strip_confidence": arrays["strip_confidence"]}
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError):
        return None  # unreadable or of another layout: measured again
    return items, evidence, details, meta["intervals"]


def fmt(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


MARKS = {"better": "▲ better", "worse": "▼ worse", "tie": "= tie"}


def table(comparison: Comparison) -> str:
    """Markdown table: metrics x runs, each value with its 95% interval; every run after the
    first is marked better, worse or tie against the first by the paired interval of the
    difference (no mark for noise)."""
    names = [f"{r['name']} ({r['kind']})" for r in comparison.runs]
    lines = ["| metric | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]
    for metric in METRICS:
        cells = []
        for k, run in enumerate(comparison.runs):
            if metric not in run["metrics"]:  # prior_* of a run without a prior
                cells.append("n/a")
                continue
            low, high = run["ci"][metric]
            cell = f"{fmt(run['metrics'][metric])} [{fmt(low)}, {fmt(high)}]"
            if k > 0 and metric in comparison.runs[0]["metrics"]:
                cell += " " + MARKS[comparison.against_first(k, metric)[3]]
            cells.append(cell)
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(comparison: Comparison) -> str:
    judge = comparison.judge
    first = comparison.runs[0]
    lower = ", ".join(sorted(m for m in METRICS if m in LOWER_IS_BETTER))
    return (
        f"# Latent quality on {comparison.dataset}\n\n"
        f"Judge: test accuracy {judge['accuracy']:.4f}, tau {judge['tau']:.3f} (5th percentile of its top-class "
        f"confidence on real test images). {first['sizes']['pairs']} seeded test pairs "
        f"({first['sizes']['same_class_pairs']} same class), seed {first['seed']}, {first['mode']} interpolation; "
        f"lower is better for {lower}. Brackets: 95% bootstrap interval over the "
        "test pairs (or samples). Marks compare each run with the first on the same pairs: better or worse only "
        "where the paired 95% interval of the difference excludes 0, otherwise tie.\n\n"
        + table(comparison)
        + "\n\n"
        + "Samples: gaussian_* from a Gaussian fitted to the train codes and gmm_* from a 10-component mixture, "
        "for every run; prior_* from N(0, I), only for runs trained towards it (n/a otherwise).\n"
    )


def picture(comparison: Comparison) -> bytes:
    """compare.png: a bar chart per metric (runs side by side), then for each of the first
    pairs the interpolation strip of every run stacked, invalid cells framed in red."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    names = [r["name"] for r in comparison.runs]
    n_runs = len(names)
    pairs = len(comparison.strips[0][0])
    cols = 6
    bar_rows = -(-len(METRICS) // cols)
    fig = Figure(figsize=(2.6 * cols, 2.2 * bar_rows + 0.55 * pairs * n_runs + 1), dpi=90)
    grid = fig.add_gridspec(bar_rows + 1, cols, height_ratios=[1] * bar_rows + [0.25 * pairs * n_runs + 0.3])
    colours = colormaps["tab10"](np.arange(n_runs) % 10)
    for k, metric in enumerate(METRICS):
        ax = fig.add_subplot(grid[k // cols, k % cols])
        values = [r["metrics"].get(metric, math.nan) for r in comparison.runs]
        ax.bar(range(n_runs), np.nan_to_num(values), color=colours)
        ax.set_title(metric, fontsize=8)
        ax.set_xticks([])
        ax.tick_params(labelsize=7)
    ax = fig.add_subplot(grid[bar_rows, :])
    draw_strips(ax, comparison.strips, names)
    ax.set_title("the same test pairs through each model (red frame: the judge finds the decode invalid)", fontsize=9)
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in colours]
    fig.legend(handles, names, loc="upper center", ncol=min(n_runs, 6), fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def draw_strips(ax: Any, strips: list[tuple[np.ndarray, np.ndarray]], names: list[str]) -> None:
    """Per pair, each model's strip stacked (source, 7 decodes, target), invalid cells framed red."""
    pairs = len(strips[0][0]) if strips else 0
    rows = []
    for pair in range(pairs):
        for images, valid in strips:
            row = np.repeat(images[pair][..., None], 3, axis=-1)  # (9, 28, 28, 3)
            bad = ~valid[pair]
            row[bad, :2, :, :] = row[bad, -2:, :, :] = row[bad, :, :2, :] = row[bad, :, -2:, :] = (1.0, 0.15, 0.15)
            rows.append(np.concatenate(list(row), axis=1))
        rows.append(np.ones((6, rows[-1].shape[1], 3)))
    if rows:
        ax.imshow(np.concatenate(rows[:-1]), interpolation="nearest")
    ax.set_yticks([14 + (28 * len(strips) + 6) * p + 28 * r for p in range(pairs) for r in range(len(strips))])
    ax.set_yticklabels([n for _ in range(pairs) for n in names], fontsize=7)
    ax.set_xticks([])


def write_outputs(comparison: Comparison, out_dir: str | Path) -> list[Path]:
    """compare.json, compare.md and compare.png, each written atomically."""
    folder = ensure_writable_dir(out_dir)
    paths = [folder / "compare.json", folder / "compare.md", folder / "compare.png"]
    contents = [
        (json.dumps(comparison.to_json(), indent=1, allow_nan=False) + "\n").encode(),
        markdown(comparison).encode(),
        picture(comparison),  # rendered before anything is written: no partial set of files
    ]
    for path, data in zip(paths, contents, strict=True):
        write_bytes(path, data)
    return paths
