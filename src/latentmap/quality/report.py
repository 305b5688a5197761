"""The sweep's report per dataset: ``report.json``, ``report.md`` and ``report.png``.

A *model* is a set of runs that differ only in their seed. Per metric and model: the
per-seed values, their mean and a 95% interval holding both the seed-to-seed and the
(shared) pair-to-pair noise, clipped to the metric's range. Against the plain AE (the first
``dense`` model of the same latent size and architecture, so the question is asked at each
size and for each architecture; a conv AE against the MLP AE: :func:`baselines_of`): the
mean difference over matched seeds with the same kind of interval and its p-value
(:func:`.stats.matched_difference`). A model is called better or worse only where the
difference survives Benjamini-Hochberg at 5% over the report's family (every
model x headline metric against the plain AE): its q-value is printed beside it. With a panel
of judges (:mod:`.panel`) each judge marks its own family the same way, and a mark stands
only where every judge makes it: where they differ the verdict is ``split``.
"""

import dataclasses
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..atomic import ensure_writable_dir, write_bytes
from .compare import Comparison, finite, fmt
from .grid import RunSpec
from .judge import TAU_QUANTILE
from .metric_table import HEADLINE, LABEL_FREE, LOWER_IS_BETTER, RANGES, WORDS
from .report_models import Model, baselines_of, items_of, measured, models_of, shape
from .report_picture import picture
from .stats import (
    Estimate,
    Items,
    SeedSpread,
    false_discoveries,
    matched_difference,
    moderated,
    outlying_seeds,
    own_spread,
    per_seed_differences,
    per_seed_values,
    pooled_spread,
    seeds_estimate,
    verdict,
)

FDR = 0.05  # Benjamini-Hochberg level over a report's family


@dataclass
class Spreads:
    """Per metric, the seed spread pooled over a report's models (``values``) and over its
    comparisons with their plain AE (``differences``): three seeds give one model 2 degrees
    of freedom, a dozen models 24 (:func:`.stats.moderated` keeps a failed seed's own)."""

    values: dict[str, SeedSpread | None] = field(default_factory=dict)
    differences: dict[str, SeedSpread | None] = field(default_factory=dict)


def spreads_of(comparison: Comparison, models: list[Model], baselines: dict[str, Model]) -> Spreads:
    spreads = Spreads()
    for metric in HEADLINE:
        kept = [m for m in models if measured(comparison, m, metric)]
        spreads.values[metric] = pooled_spread([per_seed_values(items_of(comparison, m, metric)) for m in kept])
        differences = []
        for model in kept:
            baseline = baselines.get(model.name)
            seeds = [s for s in model.seeds if baseline is not None and s in baseline.seeds]
            if baseline is not None and seeds and measured(comparison, baseline, metric):
                pair = items_of(comparison, model, metric, seeds), items_of(comparison, baseline, metric, seeds)
                differences.append(per_seed_differences(*pair))
        spreads.differences[metric] = pooled_spread(differences)
    return spreads


def summary(
    comparison: Comparison, model: Model, metric: str, pooled: SeedSpread | None = None
) -> dict[str, Any] | None:
    if not measured(comparison, model, metric):
        return None
    values = [comparison.runs[k]["metrics"][metric] for k in model.runs]
    items = items_of(comparison, model, metric)
    spread = moderated(own_spread(per_seed_values(items)), pooled)
    estimate = seeds_estimate(items, comparison.runs[0]["seed"], spread=spread)
    lowest, highest = RANGES.get(metric, (-math.inf, math.inf))
    low, high = max(estimate.low, lowest), min(estimate.high, highest)
    failed = [model.seeds[k] for k in outlying_seeds(per_seed_values(items), pooled)]
    found = {"values": values, "mean": estimate.value, "low": low, "high": high, "interval": "seeds and pairs"}
    return {**found, "outlying_seeds": failed} if failed else found


def versus(
    comparison: Comparison, model: Model, baseline: Model, metric: str, pooled: SeedSpread | None = None
) -> dict[str, Any] | None:
    """Model minus baseline over their matched seeds (verdict and q: see :func:`mark`); None
    without a shared seed. ``pooled``: the metric's seed spread over the report's comparisons."""
    seeds = [s for s in model.seeds if s in baseline.seeds]
    if not seeds or not (measured(comparison, model, metric) and measured(comparison, baseline, metric)):
        return None
    seed = comparison.runs[0]["seed"]
    pair = items_of(comparison, model, metric, seeds), items_of(comparison, baseline, metric, seeds)
    spread = moderated(own_spread(per_seed_differences(*pair)), pooled)
    found: Estimate = matched_difference(*pair, seed, spread=spread)
    df = spread.df if spread is not None else None
    return {"difference": found.value, "low": found.low, "high": found.high, "p": found.p, "seeds": seeds, "df": df}


def mark(rows: list[dict[str, Any]]) -> int:
    """q-values over the family of every comparison with the plain AE in these rows, and a
    verdict only where q < FDR; returns the family's size."""
    family = [(m, r) for row in rows for m, r in (row.get("versus_baseline") or {}).items() if r is not None]
    for (metric, result), q in zip(family, false_discoveries([r["p"] for _, r in family]), strict=True):
        result["q"] = q
        significant = not math.isnan(q) and q < FDR
        result["verdict"] = verdict(result["low"], result["high"], metric in LOWER_IS_BETTER) if significant else "tie"
    return len(family)


def judge_by_panel(
    rows: list[dict[str, Any]], comparison: Comparison, models: list[Model], panel: dict[str, list[dict[str, Items]]]
) -> None:
    """Every difference against a plain AE (``row["baseline"]``) as each judge of the panel calls
    it. The mark is the confirmatory judge's, declared in advance (the report's own judge: the
    CNN at its 5th percentile, under Benjamini-Hochberg over the report's whole family); each
    other judge marks its own family the same way and is shown beside it (``judges``: label ->
    verdict; ``panel_results``: label -> difference, p, q; ``agree``: how many of them make the
    same call). The six judges reuse one measurement and are far from independent, so asking
    all of them to agree turned real differences into ≠; a mark becomes ``split`` only where
    another judge is significant in the *opposite* direction. A metric no judge reads
    (smoothness, holes) keeps its one verdict."""
    named = {model.name: model for model in models}
    compared = [row for row in rows if "versus_baseline" in row]
    for name, items in panel.items():
        variant = dataclasses.replace(comparison, items=items)
        spreads = spreads_of(variant, models, {row["model"]: named[row["baseline"]] for row in compared})
        seen = []
        for row in compared:
            model, baseline = named[row["model"]], named[row["baseline"]]
            found = {}
            for metric, primary in row["versus_baseline"].items():
                if metric in LABEL_FREE:  # no judge reads it: its p is the same for every judge
                    found[metric] = primary and {"p": primary["p"], "low": primary["low"], "high": primary["high"]}
                else:
                    found[metric] = versus(variant, model, baseline, metric, spreads.differences[metric])
            seen.append({"versus_baseline": found})
        mark(seen)
        for row, judged in zip(compared, seen, strict=True):
            for metric, result in row["versus_baseline"].items():
                if result is not None and metric not in LABEL_FREE:
                    call = judged["versus_baseline"][metric]
                    result.setdefault("judges", {})[name] = call["verdict"]
                    kept = {key: call.get(key) for key in ("difference", "p", "q", "verdict")}
                    result.setdefault("panel_results", {})[name] = kept
    for row in compared:
        for result in row["versus_baseline"].values():
            if result is None or "judges" not in result:
                continue
            calls = list(result["judges"].values())
            result["agree"], result["of"] = sum(call == result["verdict"] for call in calls), len(calls)
            opposite = {"better": "worse", "worse": "better"}.get(result["verdict"])
            if opposite in calls:
                result["verdict"] = "split"


def build(
    comparison: Comparison,
    specs: list[RunSpec],
    panel: dict[str, list[dict[str, Items]]] | None = None,
    judges: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The report's content; ``panel`` (per judge label, per run: items) and ``judges``
    (what each judge is) from :mod:`.panel` make every mark one that all judges agree on."""
    models = models_of(specs)
    baselines = baselines_of(models)
    baseline = models[0] if baselines else None
    spreads = spreads_of(comparison, models, baselines)
    rows = []
    for model in models:
        row: dict[str, Any] = {"model": model.name, "kind": model.kind, "seeds": model.seeds, "metrics": {}}
        row["d_latent"], row["arch"], row["epochs"] = shape(model)
        for metric in HEADLINE:
            row["metrics"][metric] = summary(comparison, model, metric, spreads.values[metric])
        if model.name in baselines:
            row["baseline"] = baselines[model.name].name
            row["versus_baseline"] = {
                m: versus(comparison, model, baselines[model.name], m, spreads.differences[m]) for m in HEADLINE
            }
        rows.append(row)
    family = mark(rows)
    if panel and baselines:
        judge_by_panel(rows, comparison, models, panel)
    return {
        "dataset": comparison.dataset,
        "judge": comparison.judge,
        "panel": judges if panel else None,
        "confirmatory": confirmatory_judge(judges) if panel else None,
        "baseline": baseline.name if baseline else None,
        "pairs": comparison.runs[0]["sizes"]["pairs"],
        "family": family,
        "fdr": FDR,
        "models": rows,
        "verdict": verdict_lines(rows),
    }


def confirmatory_judge(judges: dict[str, dict[str, Any]] | None) -> str | None:
    """The panel's judge whose marks the report makes: its own network (the first) at the
    threshold every part uses (TAU_QUANTILE, the 5th percentile)."""
    return next((name for name, one in (judges or {}).items() if one.get("quantile") == TAU_QUANTILE), None)


CALLS = ("better", "worse", "tie", "split")  # split: the judges disagree
T = TypeVar("T")


def sort_calls(
    results: Iterable[tuple[Any, dict[str, Any] | None]], say: Callable[[Any, dict[str, Any]], T]
) -> dict[str, list[T]]:
    """Each measured ``(key, result)`` said by ``say`` under its call, in :data:`CALLS` order:
    the one sorting behind report.md's verdict and the answer's bullets."""
    calls: dict[str, list[T]] = {call: [] for call in CALLS}
    for key, result in results:
        if result is not None:
            calls[result["verdict"]].append(say(key, result))
    return calls


def verdict_lines(rows: list[dict[str, Any]]) -> list[str]:
    if not any("versus_baseline" in row for row in rows):
        return ["No plain AE (kind dense) in this sweep: models are not judged against one."]

    def said(metric: str, result: dict[str, Any]) -> str:
        if result["verdict"] not in ("better", "worse"):
            return WORDS[metric]
        interval = f"[{signed(result['low'])}, {signed(result['high'])}]"
        return f"{WORDS[metric]} ({signed(result['difference'])} {interval}, q {q_text(result['q'])})"

    words = {"better": "better on", "worse": "worse on", "tie": "no significant difference on",
             "split": "the judges disagree on"}  # fmt: skip
    lines = []
    for row in rows:
        if "versus_baseline" in row:
            calls = sort_calls(row["versus_baseline"].items(), said)
            parts = "; ".join(f"{words[call]} {', '.join(found)}" for call, found in calls.items() if found)
            lines.append(f"{row['model']} against {row['baseline']} ({len(row['seeds'])} seed(s)): {parts}.")
    return lines


def markdown(report: dict[str, Any]) -> str:
    out = [
        f"# Which training makes a smooth, valid latent space? — {report['dataset']}\n",
        f"{report['pairs']} seeded test pairs per run, the same for every run; judge accuracy "
        f"{report['judge']['accuracy']:.4f}. Each cell: mean over seeds [95% interval: seed-to-seed noise and the "
        "noise of the shared pairs, clipped to the metric's range], then the per-seed values. Against the plain AE "
        "of the same size and architecture (a plain AE of another architecture: the first plain AE of its size; "
        "each verdict line names both): "
        "the difference over matched seeds, its 95% interval and its Benjamini-Hochberg q-value over this "
        f"report's family ({report['family']} comparisons: every model x metric against the plain AE); ▲/▼ only "
        f"where q < {report['fdr']}, = otherwise. "
        f"Lower is better for {', '.join(sorted(m for m in HEADLINE if m in LOWER_IS_BETTER))}.\n",
        *panel_words(report),
        "## Verdict\n",
        *[f"- {line}" for line in report["verdict"]],
        "",
    ]
    panel = bool(report.get("panel"))
    for metric in HEADLINE:
        head = "| model | mean [95% interval] | seeds | vs plain AE |" + (" judges |" if panel else "")
        out += [f"## {metric}\n", head, "| --- | ---: | --- | --- |" + (" --- |" if panel else "")]
        for row in report["models"]:
            s = row["metrics"][metric]
            if s is None:
                out.append(f"| {row['model']} | n/a (no prior N(0, I)) | | |")
                continue
            versus_ae = (row.get("versus_baseline") or {}).get(metric)
            against = (
                f"{MARKS[versus_ae['verdict']]} {signed(versus_ae['difference'])} "
                f"[{signed(versus_ae['low'])}, {signed(versus_ae['high'])}] q {q_text(versus_ae['q'])}"
                if versus_ae
                else ("baseline" if "versus_baseline" not in row and report["baseline"] else "")
            )
            odd = set(s.get("outlying_seeds", []))
            seeds = zip(s["values"], row["seeds"], strict=True)
            per_seed = ", ".join(fmt(v) + (" (off: a failed training?)" if seed in odd else "") for v, seed in seeds)
            line = f"| {row['model']} | {fmt(s['mean'])} [{fmt(s['low'])}, {fmt(s['high'])}] | {per_seed} | {against} |"
            out.append(line + (f" {judges_cell(versus_ae)} |" if panel else ""))
        out.append("")
    return "\n".join(out)


MARKS = {"better": "▲", "worse": "▼", "tie": "=", "split": "≠"}


def panel_words(report: dict[str, Any]) -> list[str]:
    """report.md's account of the panel of judges, if the report has one."""
    panel = report.get("panel")
    if not panel:
        return []
    judges = ", ".join(f"{name} (tau {one['tau']:.3f})" for name, one in panel.items())
    return [
        f"A panel of {len(panel)} judges: {judges} (network@percentile of its confidence on real test images). "
        f"The marks are the confirmatory judge's, declared in advance ({report.get('confirmatory')}), under "
        "Benjamini-Hochberg over the whole family; each other judge marks its own family the same way, "
        "shown as 'k of n agree' and in the judges column (the calls at each percentile, per network). "
        "≠ only where another judge is significant in the opposite direction.\n"
    ]


def judges_cell(result: dict[str, Any] | None) -> str:
    """``cnn ▲▲= · mlp ▲▲▲``: each network's calls at each of its thresholds."""
    if not result or "judges" not in result:
        return ""
    by_net: dict[str, str] = {}
    for name, call in result["judges"].items():
        net = name.split("@")[0]
        by_net[net] = by_net.get(net, "") + MARKS[call]
    cell = " · ".join(f"{net} {calls}" for net, calls in by_net.items())
    return cell + (f" ({result['agree']} of {result['of']} agree)" if "agree" in result else "")


SMALLEST_P = 1e-4  # what three to a few dozen seeds' degrees of freedom can back: below it, "< 1e-4"


def q_text(q: float, digits: int = 3) -> str:
    """A p- or q-value as printed: never smaller than the seeds can say."""
    return "< 1e-4" if q < SMALLEST_P else f"{q:.{digits}g}"


def signed(value: float) -> str:
    """+0.012; a value that would print as ±0.000 keeps two significant digits (-0.00042),
    so an interval never looks like it touches 0 when it does not."""
    if math.isnan(value):
        return "n/a"
    text = f"{value:+.3f}"
    return f"{value:+.2g}" if value != 0 and float(text) == 0 else text


def write_report(
    comparison: Comparison,
    specs: list[RunSpec],
    out_dir: Path,
    panel: dict[str, list[dict[str, Items]]] | None = None,
    judges: dict[str, dict[str, Any]] | None = None,
) -> list[Path]:
    """report.json, report.md and report.png in ``out_dir`` (each rendered before any is
    written); ``panel`` and ``judges`` as :func:`build` takes them."""
    from .axis import AXES, axis_picture, families_over

    report = build(comparison, specs, panel, judges)
    folder = ensure_writable_dir(out_dir)
    paths = [folder / "report.json", folder / "report.md", folder / "report.png"]
    contents = [
        (json.dumps(finite(report), indent=1, allow_nan=False) + "\n").encode(),
        markdown(report).encode(),
        picture(report, tuple(HEADLINE), [comparison.strips[m.runs[0]] for m in models_of(specs)]),
    ]
    for axis in AXES:  # a grid along the axis (latent size, training length): each metric against it
        if len(families_over(report["models"], axis)) > 0:
            paths.append(folder / f"report-{axis}.png")
            contents.append(axis_picture(report, axis, {m: WORDS[m] for m in HEADLINE}))
    for path, data in zip(paths, contents, strict=True):
        write_bytes(path, data)
    return paths
