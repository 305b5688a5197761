"""The sweep's report per dataset: ``report.json``, ``report.md`` and ``report.png``.

A *model* is a set of runs that differ only in their seed. Per metric and model: the
per-seed values, their mean and a 95% t-interval over seeds (one seed: the bootstrap
interval over test pairs). Against the plain AE (the first ``dense`` model): the mean
difference over matched seeds with an interval holding both the seed-to-seed and the
pair-to-pair noise (:func:`.stats.group_difference`); a model is called better or worse
only where that interval excludes 0, and the verdict says so in words.
"""

import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import ensure_writable_dir, write_bytes
from .compare import LOWER_IS_BETTER, Comparison, draw_strips, finite, fmt
from .grid import RunSpec
from .stats import Items, group_difference, t_interval

HEADLINE = (
    "interpolation_validity",
    "interpolation_validity_cross_class",
    "smoothness",
    "prior_validity",
    "prior_fid",
    "gmm_validity",
    "gmm_fid",
    "holes",
    "analogy_accuracy",
)
WORDS = {
    "interpolation_validity": "interpolation validity",
    "interpolation_validity_cross_class": "cross-class interpolation validity",
    "smoothness": "smoothness",
    "prior_validity": "prior sample validity",
    "prior_fid": "prior sample FID",
    "gmm_validity": "GMM sample validity",
    "gmm_fid": "GMM sample FID",
    "holes": "holes",
    "analogy_accuracy": "analogies",
}


@dataclass
class Model:
    name: str
    specs: list[RunSpec] = field(default_factory=list)
    runs: list[int] = field(default_factory=list)  # indices into the comparison's runs

    @property
    def kind(self) -> str:
        return str(self.specs[0].options["kind"])

    @property
    def seeds(self) -> list[int]:
        return [int(s.options["seed"]) for s in self.specs]


def models_of(specs: list[RunSpec]) -> list[Model]:
    """Runs grouped by model, in the order the specs come; the plain AE first if there is one."""
    models: dict[str, Model] = {}
    for k, spec in enumerate(specs):
        model = models.setdefault(spec.model, Model(spec.model))
        model.specs.append(spec)
        model.runs.append(k)
    ordered = list(models.values())
    dense = [m for m in ordered if m.kind == "dense"]
    return dense[:1] + [m for m in ordered if m not in dense[:1]]


def summary(comparison: Comparison, model: Model, metric: str) -> dict[str, Any]:
    values = [comparison.runs[k]["metrics"][metric] for k in model.runs]
    mean, low, high = t_interval(values)
    if len(values) == 1:
        low, high = comparison.runs[model.runs[0]]["ci"][metric]
    return {"values": values, "mean": mean, "low": low, "high": high, "interval": "t" if len(values) > 1 else "boot"}


def versus(comparison: Comparison, model: Model, baseline: Model, metric: str) -> dict[str, Any] | None:
    """Model minus baseline over their matched seeds; None without a shared seed."""
    from .stats import verdict

    seeds = [s for s in model.seeds if s in baseline.seeds]
    if not seeds:
        return None

    def items_of(m: Model) -> list[Items]:
        return [comparison.items[m.runs[m.seeds.index(s)]][metric] for s in seeds]

    difference, low, high = group_difference(items_of(model), items_of(baseline), comparison.runs[0]["seed"])
    return {
        "difference": difference,
        "low": low,
        "high": high,
        "seeds": seeds,
        "verdict": verdict(low, high, metric in LOWER_IS_BETTER),
    }


def build(comparison: Comparison, specs: list[RunSpec]) -> dict[str, Any]:
    models = models_of(specs)
    baseline = models[0] if models and models[0].kind == "dense" else None
    rows = []
    for model in models:
        row: dict[str, Any] = {"model": model.name, "kind": model.kind, "seeds": model.seeds, "metrics": {}}
        for metric in HEADLINE:
            row["metrics"][metric] = summary(comparison, model, metric)
        if baseline is not None and model is not baseline:
            row["versus_baseline"] = {m: versus(comparison, model, baseline, m) for m in HEADLINE}
        rows.append(row)
    return {
        "dataset": comparison.dataset,
        "judge": comparison.judge,
        "baseline": baseline.name if baseline else None,
        "pairs": comparison.runs[0]["sizes"]["pairs"],
        "models": rows,
        "verdict": verdict_lines(rows, baseline.name if baseline else None),
    }


def verdict_lines(rows: list[dict[str, Any]], baseline: str | None) -> list[str]:
    if baseline is None:
        return ["No plain AE (kind dense) in this sweep: models are not judged against one."]
    lines = []
    for row in rows:
        if "versus_baseline" not in row:
            continue
        calls: dict[str, list[str]] = {"better": [], "worse": [], "tie": []}
        for metric, result in row["versus_baseline"].items():
            if result is not None:
                text = f"{WORDS[metric]} ({result['difference']:+.3f} [{result['low']:+.3f}, {result['high']:+.3f}])"
                calls[result["verdict"]].append(text if result["verdict"] != "tie" else WORDS[metric])
        parts = [f"better on {', '.join(calls['better'])}" if calls["better"] else ""]
        parts.append(f"worse on {', '.join(calls['worse'])}" if calls["worse"] else "")
        parts.append(f"no significant difference on {', '.join(calls['tie'])}" if calls["tie"] else "")
        seeds = len(row["seeds"])
        lines.append(f"{row['model']} against {baseline} ({seeds} seed(s)): " + "; ".join(p for p in parts if p) + ".")
    return lines


def markdown(report: dict[str, Any]) -> str:
    out = [
        f"# Which training makes a smooth, valid latent space? — {report['dataset']}\n",
        f"{report['pairs']} seeded test pairs per run, the same for every run; judge accuracy "
        f"{report['judge']['accuracy']:.4f}. Each cell: mean over seeds [95% interval] (t over seeds; one seed: "
        "bootstrap over pairs), then the per-seed values. Against the plain AE: the difference and its "
        "interval over matched seeds (seed and pair noise); ▲/▼ only where it excludes 0, = otherwise. "
        f"Lower is better for {', '.join(sorted(m for m in HEADLINE if m in LOWER_IS_BETTER))}.\n",
        "## Verdict\n",
        *[f"- {line}" for line in report["verdict"]],
        "",
    ]
    marks = {"better": "▲", "worse": "▼", "tie": "="}
    for metric in HEADLINE:
        out += [f"## {metric}\n", "| model | mean [95% interval] | seeds | vs plain AE |", "| --- | ---: | --- | --- |"]
        for row in report["models"]:
            s = row["metrics"][metric]
            versus_ae = (row.get("versus_baseline") or {}).get(metric)
            against = (
                f"{marks[versus_ae['verdict']]} {versus_ae['difference']:+.3f} "
                f"[{versus_ae['low']:+.3f}, {versus_ae['high']:+.3f}]"
                if versus_ae
                else ("baseline" if row["model"] == report["baseline"] else "")
            )
            per_seed = ", ".join(fmt(v) for v in s["values"])
            out.append(
                f"| {row['model']} | {fmt(s['mean'])} [{fmt(s['low'])}, {fmt(s['high'])}] | {per_seed} | {against} |"
            )
        out.append("")
    return "\n".join(out)


def picture(report: dict[str, Any], comparison: Comparison, specs: list[RunSpec]) -> bytes:
    """A panel per headline metric (a dot per seed, the mean with its interval per model),
    then the same test pairs morphed by each model's first seed."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    models = models_of(specs)
    rows = report["models"]
    cols = 4
    panel_rows = -(-len(HEADLINE) // cols)
    strips = [comparison.strips[m.runs[0]] for m in models]
    n_pairs = len(strips[0][0]) if strips else 0
    fig = plt.figure(figsize=(4.2 * cols, 3.2 * panel_rows + 0.5 * n_pairs * len(models) + 1), dpi=90)
    grid = fig.add_gridspec(panel_rows + 1, cols, height_ratios=[1] * panel_rows + [0.16 * n_pairs * len(models) + 0.3])
    colours = plt.get_cmap("tab10")(np.arange(len(rows)) % 10)
    for k, metric in enumerate(HEADLINE):
        ax = fig.add_subplot(grid[k // cols, k % cols])
        for x, row in enumerate(rows):
            s = row["metrics"][metric]
            ax.scatter(np.full(len(s["values"]), x), s["values"], s=14, color=colours[x], alpha=0.6)
            if not (math.isnan(s["low"]) or math.isnan(s["high"])):
                ax.errorbar(
                    x + 0.18,
                    s["mean"],
                    yerr=[[s["mean"] - s["low"]], [s["high"] - s["mean"]]],
                    fmt="o",
                    color=colours[x],
                    capsize=3,
                    markersize=4,
                )
        ax.set_title(metric + (" (lower is better)" if metric in LOWER_IS_BETTER else ""), fontsize=8)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([str(x) for x in range(len(rows))], fontsize=7)
        ax.tick_params(labelsize=7)
    ax = fig.add_subplot(grid[panel_rows, :])
    draw_strips(ax, strips, [str(r) for r in range(len(models))])
    ax.set_title("the same test pairs through each model's first seed (red frame: invalid)", fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours]
    fig.legend(
        handles,
        [f"{x}: {row['model']}" for x, row in enumerate(rows)],
        loc="upper center",
        ncol=min(len(rows), 3),
        fontsize=8,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.02 * (1 + len(rows) // 3)))
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def write_report(comparison: Comparison, specs: list[RunSpec], out_dir: Path) -> list[Path]:
    """report.json, report.md and report.png in ``out_dir`` (each rendered before any is written)."""
    report = build(comparison, specs)
    folder = ensure_writable_dir(out_dir)
    paths = [folder / "report.json", folder / "report.md", folder / "report.png"]
    contents = [
        (json.dumps(finite(report), indent=1, allow_nan=False) + "\n").encode(),
        markdown(report).encode(),
        picture(report, comparison, specs),
    ]
    for path, data in zip(paths, contents, strict=True):
        write_bytes(path, data)
    return paths
