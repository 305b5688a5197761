"""A sweep along one numeric axis (the latent size, the training length): each headline
metric against it, one line per family of models (the models that differ only along the
axis), with the interval band of each point (seed and shared-pair noise, as in the report)."""

import io
import math
from typing import Any

import numpy as np

from .metric_table import LOWER_IS_BETTER
from .names import readable

AXES = ("d_latent", "epochs")  # the grids' axes a report draws a figure along


def family_of(row: dict[str, Any], axis: str) -> str:
    """The model's name without its ``axis=value`` part: what stays the same along the axis."""
    return "-".join(part for part in row["model"].split("-") if not part.startswith(f"{axis}="))


def families_over(rows: list[dict[str, Any]], axis: str) -> dict[str, list[dict[str, Any]]]:
    """Families with at least two values along ``axis``, each's rows sorted by it."""
    families: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if isinstance(row.get(axis), int | float):
            families.setdefault(family_of(row, axis), []).append(row)
    return {name: sorted(found, key=lambda r: r[axis]) for name, found in families.items() if len(found) > 1}


def values_along(families: dict[str, list[dict[str, Any]]], axis: str) -> list[Any]:
    """Every value of ``axis`` that some family was measured at, in order."""
    return sorted({row[axis] for rows in families.values() for row in rows})


def axis_picture(report: dict[str, Any], axis: str, words: dict[str, str]) -> bytes:
    """A panel per metric of ``words`` (metric -> title), the report's models along ``axis``."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    families = families_over(report["models"], axis)
    values = values_along(families, axis)
    cols = 4
    panels = -(-len(words) // cols)
    fig = Figure(figsize=(4.2 * cols, 3.2 * panels), dpi=90)
    axes = fig.subplots(panels, cols, squeeze=False)
    colours = colormaps["tab10"](np.arange(len(families)) % 10)
    for k, (metric, title) in enumerate(words.items()):
        ax = axes[k // cols][k % cols]
        for colour, (name, found) in zip(colours, families.items(), strict=True):
            points = [(r[axis], r["metrics"][metric]) for r in found if r["metrics"].get(metric) is not None]
            if not points:
                continue
            x = [value for value, _ in points]
            ax.plot(
                x,
                [s["mean"] for _, s in points],
                "o-",
                color=colour,
                label=readable(name, report["dataset"]),
                markersize=4,
            )
            low = [s["low"] if s["low"] is not None and not math.isnan(s["low"]) else s["mean"] for _, s in points]
            high = [s["high"] if s["high"] is not None and not math.isnan(s["high"]) else s["mean"] for _, s in points]
            ax.fill_between(x, low, high, color=colour, alpha=0.15)
        ax.set_xscale("log", base=2)
        ax.set_xticks(values, [f"{v:g}" for v in values])  # the sizes measured, not powers of 2
        ax.minorticks_off()
        ax.set_xlabel(axis, fontsize=8)
        ax.set_title(title + (" (lower is better)" if metric in LOWER_IS_BETTER else ""), fontsize=9)
        ax.tick_params(labelsize=7)
    for k in range(len(words), panels * cols):
        axes[k // cols][k % cols].axis("off")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 5), fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
