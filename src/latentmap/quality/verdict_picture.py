"""The answer in one picture: a panel per report (a dataset, or a grid along the latent size
or the training length), a row per model and a column per headline metric of the page's
tables. A cell's colour is the standardised difference from the plain AE it was measured
against (the difference over the half-width of its 95% interval, times 1.96: about a z-score),
signed so that blue is better and red worse whichever way the metric points; ▲/▼ where the
confirmatory judge decides; hatching where another judge finds the opposite."""

import io
from typing import Any

import numpy as np

from .metric_table import LOWER_IS_BETTER
from .names import readable

STRONGEST = 6.0  # colour saturates here: beyond it, every difference is plain
OLD_RULE_JUDGE = "cnn@5%"  # reports made before the confirmatory rule: the judge their numbers are


def standardised(result: dict[str, Any], metric: str) -> float:
    """The difference in units of its standard error, positive where the model is better."""
    half = (result["high"] - result["low"]) / 2 if result.get("low") is not None else float("nan")
    z = 1.96 * result["difference"] / half if half and half > 0 else float("nan")
    return -z if metric in LOWER_IS_BETTER else z


def decision(result: dict[str, Any], confirmatory: str) -> tuple[str, bool]:
    """The confirmatory judge's call (better / worse / tie) and whether another judge's call
    is the opposite significant one."""
    judges = result.get("judges") or {}
    call = judges.get(confirmatory, result["verdict"])
    significant = {c for c in [call, *judges.values()] if c in ("better", "worse")}
    return (call if call in ("better", "worse") else "tie"), len(significant) == 2


Cells = tuple[list[str], np.ndarray, list[list[str]], np.ndarray]


def cells(report: dict[str, Any], metrics: tuple[str, ...]) -> Cells:
    """Row labels, standardised effects (NaN: not measured, or the plain AE itself), each
    cell's mark and whether it is contradicted, for the models measured against a plain AE."""
    confirmatory = report.get("confirmatory") or OLD_RULE_JUDGE
    rows = [row for row in report["models"] if row.get("versus_baseline")]
    effects = np.full((len(rows), len(metrics)), np.nan)
    marks = [["" for _ in metrics] for _ in rows]
    contradicted = np.zeros((len(rows), len(metrics)), dtype=bool)
    for i, row in enumerate(rows):
        for j, metric in enumerate(metrics):
            result = row["versus_baseline"].get(metric)
            if result is None:
                continue
            effects[i, j] = standardised(result, metric)
            call, contradicted[i, j] = decision(result, confirmatory)
            marks[i][j] = {"better": "▲", "worse": "▼"}.get(call, "")
    labels = [readable(str(row["model"]), str(report["dataset"])) for row in rows]
    return labels, effects, marks, contradicted


def verdict_picture(reports: list[dict[str, Any]], metrics: tuple[str, ...], titles: dict[str, str]) -> bytes:
    """A PNG of the answer: one panel per report, side by side."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    panels = [cells(report, metrics) for report in reports]
    tallest = max(len(labels) for labels, *_ in panels)
    fig = Figure(figsize=(1.5 + 5.2 * len(reports), 2.4 + 0.32 * tallest), dpi=100, layout="constrained")
    axes = fig.subplots(1, len(reports), squeeze=False)[0]
    colours, norm = colormaps["RdBu"], Normalize(-STRONGEST, STRONGEST)
    for ax, report, (labels, effects, marks, contradicted) in zip(axes, reports, panels, strict=True):
        shown = np.ma.masked_invalid(np.clip(effects, -STRONGEST, STRONGEST))
        image = ax.imshow(shown, cmap=colours, norm=norm, aspect="auto")
        ax.set_facecolor("#e6e6e6")  # not measured: the prior of a model without one
        for i, j in zip(*np.nonzero(contradicted), strict=True):
            ax.add_patch(_hatch(j, i))
        for i, row in enumerate(marks):
            for j, mark in enumerate(row):
                if mark:
                    dark = abs(effects[i, j]) > STRONGEST * 0.6
                    ax.text(j, i, mark, ha="center", va="center", fontsize=9, color="white" if dark else "black")
        ax.set_xticks(range(len(metrics)), [titles[m] for m in metrics], rotation=35, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_title(f"{report['dataset']}: against the plain AE", fontsize=10)
    bar = fig.colorbar(image, ax=list(axes), shrink=0.8, pad=0.01)
    bar.set_label("standardised difference (blue: better)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    judge = reports[0].get("confirmatory") or OLD_RULE_JUDGE
    fig.suptitle(
        f"▲/▼: better/worse for the confirmatory judge ({judge}), Benjamini-Hochberg at 5%\n"
        "hatched: another judge finds the opposite; grey: no comparison in the report",
        fontsize=9,
    )
    out = io.BytesIO()
    fig.savefig(out, format="png", bbox_inches="tight", metadata={"Software": None})
    return out.getvalue()


def _hatch(column: int, row: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, hatch="////", edgecolor="#444444", linewidth=0)
