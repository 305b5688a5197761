"""``latentmap compare``: the latent-quality metrics of several runs of one dataset, side
by side: a table, ``compare.json``, ``compare.md`` and ``compare.png`` (a bar per metric and
run, and the same interpolations seen through each model)."""

import io
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import ensure_writable_dir, write_bytes
from ..data import Dataset
from ..errors import LatentmapError
from ..train.run import Run
from .judge import Judge
from .metrics import METRICS, Probe, make_probe, measure

STRIP_PAIRS = 3  # of each kind: same-class and different-class pairs
LOWER_IS_BETTER = {"reconstruction_mse", "smoothness", "smoothness_p90", "prior_fid", "holes"}


@dataclass
class Comparison:
    dataset: str
    judge: dict[str, Any]
    runs: list[dict[str, Any]] = field(default_factory=list)
    strips: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # per run: images, valid

    def to_json(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "judge": self.judge, "runs": self.runs}


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
    probe: Probe = make_probe(dataset, pairs, seed)  # refuses pairs < 1
    shown = np.r_[0 : min(STRIP_PAIRS, probe.n_same), probe.n_same : min(probe.n_same + STRIP_PAIRS, pairs)]
    comparison = Comparison(dataset.spec, judge_summary(judge))
    for run in runs:
        start = time.perf_counter()
        metrics, details = measure(run, dataset, judge, probe, mode)
        strips, valid = details.pop("strips"), details.pop("strip_valid")
        comparison.strips.append((strips[shown], valid[shown]))
        comparison.runs.append(
            {
                "run": str(run.path),
                "name": run.path.name,
                "kind": run.kind,
                "d_latent": run.d_latent,
                "metrics": metrics,
                **details,
            }
        )
        log(f"measured {run.path.name} ({run.kind}, {run.d_latent} dims) in {time.perf_counter() - start:.1f} s")
    return comparison


def fmt(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def table(comparison: Comparison) -> str:
    """Markdown table: metrics x runs (the best of each row in bold)."""
    names = [f"{r['name']} ({r['kind']})" for r in comparison.runs]
    lines = ["| metric | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]
    for metric in METRICS:
        values = [r["metrics"][metric] for r in comparison.runs]
        finite = [v for v in values if not math.isnan(v)]
        best = (min if metric in LOWER_IS_BETTER else max)(finite) if len(finite) > 1 else None
        cells = [f"**{fmt(v)}**" if v == best else fmt(v) for v in values]
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(comparison: Comparison) -> str:
    judge = comparison.judge
    first = comparison.runs[0]
    return (
        f"# Latent quality on {comparison.dataset}\n\n"
        f"Judge: test accuracy {judge['accuracy']:.4f}, tau {judge['tau']:.3f} (5th percentile of its top-class "
        f"confidence on real test images). {first['samples']['pairs']} seeded test pairs "
        f"({first['samples']['same_class_pairs']} same class), seed {first['seed']}, {first['mode']} interpolation; "
        f"lower is better for {', '.join(sorted(LOWER_IS_BETTER))}.\n\n"
        + table(comparison)
        + "\n\n"
        + "\n".join(f"- {r['name']}: prior samples from {r['prior']}" for r in comparison.runs)
        + "\n"
    )


def picture(comparison: Comparison) -> bytes:
    """compare.png: a bar chart per metric (runs side by side), then for each of the first
    pairs the interpolation strip of every run stacked, invalid cells framed in red."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    names = [r["name"] for r in comparison.runs]
    n_runs = len(names)
    pairs = len(comparison.strips[0][0])
    cols = 6
    bar_rows = -(-len(METRICS) // cols)
    fig = plt.figure(figsize=(2.6 * cols, 2.2 * bar_rows + 0.55 * pairs * n_runs + 1), dpi=90)
    grid = fig.add_gridspec(bar_rows + 1, cols, height_ratios=[1] * bar_rows + [0.25 * pairs * n_runs + 0.3])
    colours = plt.get_cmap("tab10")(np.arange(n_runs) % 10)
    for k, metric in enumerate(METRICS):
        ax = fig.add_subplot(grid[k // cols, k % cols])
        values = [r["metrics"][metric] for r in comparison.runs]
        ax.bar(range(n_runs), np.nan_to_num(values), color=colours)
        ax.set_title(metric, fontsize=8)
        ax.set_xticks([])
        ax.tick_params(labelsize=7)
    ax = fig.add_subplot(grid[bar_rows, :])
    rows = []
    for pair in range(pairs):
        for images, valid in comparison.strips:
            row = np.repeat(images[pair][..., None], 3, axis=-1)  # (10, 28, 28, 3)
            bad = ~valid[pair]
            row[bad, :2, :, :] = row[bad, -2:, :, :] = row[bad, :, :2, :] = row[bad, :, -2:, :] = (1.0, 0.15, 0.15)
            rows.append(np.concatenate(list(row), axis=1))
        rows.append(np.ones((6, rows[-1].shape[1], 3)))
    ax.imshow(np.concatenate(rows[:-1]), interpolation="nearest")
    ax.set_yticks([14 + (28 * n_runs + 6) * p + 28 * r for p in range(pairs) for r in range(n_runs)])
    ax.set_yticklabels([n for _ in range(pairs) for n in names], fontsize=7)
    ax.set_xticks([])
    ax.set_title("the same test pairs through each model (red frame: the judge finds the decode invalid)", fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours]
    fig.legend(handles, names, loc="upper center", ncol=min(n_runs, 6), fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def write_outputs(comparison: Comparison, out_dir: str | Path) -> list[Path]:
    """compare.json, compare.md and compare.png, each written atomically."""
    folder = ensure_writable_dir(out_dir)
    paths = [folder / "compare.json", folder / "compare.md", folder / "compare.png"]
    contents = [
        (json.dumps(comparison.to_json(), indent=1, allow_nan=True) + "\n").encode(),
        markdown(comparison).encode(),
        picture(comparison),  # rendered before anything is written: no partial set of files
    ]
    for path, data in zip(paths, contents, strict=True):
        write_bytes(path, data)
    return paths
