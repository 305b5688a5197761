"""The sweep report's figure, ``report.png``: a panel per headline metric (a dot per seed, the
mean with its interval per model), then the same test pairs morphed by each model."""

import io
import math
from typing import Any

import numpy as np

from .compare import draw_strips
from .metric_table import LOWER_IS_BETTER
from .names import readable


def picture(report: dict[str, Any], metrics: tuple[str, ...], strips: list[Any]) -> bytes:
    """A panel per metric (a dot per seed, the mean with its interval per model of the
    report), then ``strips``: the same test pairs morphed by each model's first seed."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    rows = report["models"]
    cols = 4
    panel_rows = -(-len(metrics) // cols)
    n_pairs = len(strips[0][0]) if strips else 0
    height = 3.2 * panel_rows + 0.5 * n_pairs * len(strips) + 1
    fig = Figure(figsize=(4.2 * cols, height), dpi=90)
    grid = fig.add_gridspec(panel_rows + 1, cols, height_ratios=[1] * panel_rows + [0.16 * n_pairs * len(strips) + 0.3])
    colours = colormaps["tab10"](np.arange(len(rows)) % 10)
    for k, metric in enumerate(metrics):
        ax = fig.add_subplot(grid[k // cols, k % cols])
        for x, row in enumerate(rows):
            s = row["metrics"][metric]
            if s is None:
                continue
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
    draw_strips(ax, strips, [str(r) for r in range(len(strips))])
    ax.set_title("the same test pairs through each model's first seed (red frame: invalid)", fontsize=9)
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in colours]
    fig.legend(
        handles,
        [f"{x}: {readable(str(row['model']), str(report['dataset']))}" for x, row in enumerate(rows)],
        loc="upper center",
        ncol=min(len(rows), 3),
        fontsize=8,
    )
    legend_inches = 0.2 * (1 + -(-len(rows) // 3))  # its lines, in inches: a share of a tall figure would be a gap
    fig.tight_layout(rect=(0, 0, 1, 1 - legend_inches / height))
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
