"""``latentmap compare`` of typeface runs: the numbers that apply to a typeface space, with
95% bootstrap intervals and each run marked better, worse or tie against the first by the
paired interval of the difference (the runs see the same typefaces, pairs and seeds).

- completion from 4 given glyphs of unseen (test-family) typefaces: pixel MSE and SSIM of
  the generated glyphs, the baselines' (nearest typeface, mean of the 5 nearest, zero-shot),
  the judge's accuracy on them (the scoring judge: see completion_scores.py);
- interpolation validity: share of glyphs, over every character and 7 steps between two
  test typefaces, that the judge confidently reads as the intended character;
- sample validity of the same kind for typefaces drawn from the GMM (and the prior, for
  typeface VAEs).
"""

import io
import math
from typing import Any

import numpy as np

from ..data.glyphs import GlyphGrid
from ..quality.interpolation import INTERMEDIATE_STEPS, interpolation_weights, lerp
from ..train.typeface import TypefaceRun
from .completion_scores import UNIT, completion_items, completion_task
from .judge import Judge
from .metric_table import LOWER_IS_BETTER, UNMARKED
from .stats import Items, bootstrap_interval, paired_difference, verdict

SHOTS = 4
MAX_PAIRS = 300  # typeface pairs: each decodes 7 steps x every character
SAMPLES = 200
METRICS = (
    "completion_mse",
    "nearest_mse",
    "knearest_mse",
    "zero_shot_mse",
    "completion_ssim",
    "nearest_ssim",
    "completion_accuracy",
    "interpolation_validity",
    "gmm_validity",
    "prior_validity",
)


def glyph_validity(judge: Judge, glyphs: np.ndarray) -> np.ndarray:
    """(n, C, 28, 28) decoded alphabets -> (n,) share of glyphs read confidently as their character."""
    labels = np.broadcast_to(np.arange(glyphs.shape[1]), glyphs.shape[:2])
    probs, _ = judge.predict(glyphs.reshape(-1, 28, 28))
    valid = judge.valid(probs) & (probs.argmax(axis=1) == labels.reshape(-1))
    return valid.reshape(glyphs.shape[:2]).mean(axis=1)


def interpolation_items(run: TypefaceRun, test: GlyphGrid, judge: Judge, pairs: int, seed: int) -> np.ndarray:
    """Per seeded pair of test typefaces: validity of the 7 intermediate alphabets."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(test), pairs)
    b = (a + rng.integers(1, len(test), pairs)) % len(test)  # never the typeface itself
    codes = run.encode_typefaces(test.images, test.present)
    path = lerp(codes[a], codes[b], interpolation_weights()[:INTERMEDIATE_STEPS])  # (pairs, 7, d)
    alphabets = run.decode(path.reshape(-1, path.shape[-1]))
    return glyph_validity(judge, alphabets).reshape(pairs, INTERMEDIATE_STEPS).mean(axis=1)


def measure_typeface_run(
    run: TypefaceRun, grid: GlyphGrid, judge: Judge, pairs: int, seed: int, dataset: Any = None
) -> dict[str, Items]:
    """The units behind every metric of :data:`METRICS` (NaN-free; prior only for VAEs)."""
    task = completion_task(grid, judge, SHOTS, seed)
    completion = completion_items(run, task, judge, SHOTS)
    test = grid.split("test")
    items = {
        # related typefaces are correlated: intervals resample whole split groups
        "completion_mse": Items(UNIT, completion["mse"], groups=task.test.groups),
        "nearest_mse": Items(UNIT, completion["baseline_mse"], groups=task.test.groups),
        "knearest_mse": Items(UNIT, completion["knearest_mse"], groups=task.test.groups),
        "zero_shot_mse": Items(UNIT, completion["zero_shot_mse"], groups=task.test.groups),
        "completion_ssim": Items(UNIT, completion["ssim"], groups=task.test.groups),
        "nearest_ssim": Items(UNIT, completion["baseline_ssim"], groups=task.test.groups),
        "completion_accuracy": Items(UNIT, completion["accuracy"], groups=task.test.groups),
        "interpolation_validity": Items("typeface_pairs", interpolation_items(run, test, judge, pairs, seed)),
    }
    for sampler in ("gmm", "prior") if run.has_prior else ("gmm",):
        codes = run.sampler(sampler, dataset).sample(SAMPLES, seed)
        items[f"{sampler}_validity"] = Items(f"{sampler}_typefaces", glyph_validity(judge, run.decode(codes)))
    return items


def compare_typeface_runs(
    runs: list[TypefaceRun], grid: GlyphGrid, judge: Judge, pairs: int, seed: int = 0, dataset: Any = None
) -> dict[str, Any]:
    """compare.json's content for typeface runs (``items`` kept for the table, not saved)."""
    pairs = min(pairs, MAX_PAIRS)
    measured = [measure_typeface_run(run, grid, judge, pairs, seed, dataset) for run in runs]
    entries = []
    for k, (run, items) in enumerate(zip(runs, measured, strict=True)):
        metrics = {name: float(it.compute()) for name, it in items.items()}
        intervals = {name: bootstrap_interval(it, seed) for name, it in items.items()}
        against: dict[str, Any] = {}
        for name in items:
            if k and name in measured[0] and name not in UNMARKED:
                difference, low, high = paired_difference(items[name], measured[0][name], seed)
                against[name] = [difference, low, high, verdict(low, high, name in LOWER_IS_BETTER)]
        entries.append(
            {"run": str(run.path), "name": run.path.name, "kind": "typeface " + ("vae" if run.has_prior else "ae"),
             "d_latent": run.d_latent, "metrics": metrics, "ci": intervals, "against_first": against}
        )  # fmt: skip
    sizes = {"test_typefaces": len(grid.split("test")), "pairs": pairs, "samples": SAMPLES, "shots": SHOTS}
    return {"dataset": runs[0].dataset_spec, "judge": {k: judge.info[k] for k in ("accuracy", "tau")}, "sizes": sizes,
            "seed": seed, "runs": entries}  # fmt: skip


MARKS = {"better": "▲ better", "worse": "▼ worse", "tie": "= tie"}


def fmt(value: float | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def typeface_markdown(result: dict[str, Any]) -> str:
    names = [f"{r['name']} ({r['kind']})" for r in result["runs"]]
    lines = ["| metric | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]
    for metric in METRICS:
        cells = []
        for run in result["runs"]:
            if metric not in run["metrics"]:
                cells.append("n/a")
                continue
            low, high = run["ci"][metric]
            cell = f"{fmt(run['metrics'][metric])} [{fmt(low)}, {fmt(high)}]"
            if metric in run["against_first"]:
                cell += " " + MARKS[run["against_first"][metric][3]]
            cells.append(cell)
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    sizes, judge = result["sizes"], result["judge"]
    return (
        f"# Typeface spaces on {result['dataset']}\n\n"
        f"Judge: test accuracy {judge['accuracy']:.4f}, tau {judge['tau']:.3f}, trained on half of the training "
        "typefaces; the baselines lend only from the other half. Completion of "
        f"{sizes['test_typefaces']} test typefaces (families never trained on) from {sizes['shots']} given glyphs "
        "(nearest: the nearest training typeface's glyphs; knearest: the mean of the 5 nearest; zero_shot: each "
        f"character's mean training glyph; ssim: structural similarity, higher is better); {sizes['pairs']} "
        "test-typeface pairs; "
        f"{sizes['samples']} sampled typefaces; validity = share of glyphs the judge confidently reads as the "
        "intended character. Brackets: 95% bootstrap intervals; marks compare with the first run on the same "
        "units, better or worse only where the paired interval of the difference excludes 0.\n\n"
        + "\n".join(lines)
        + "\n"
    )


def typeface_picture(result: dict[str, Any]) -> bytes:
    """compare.png for typeface runs: a bar per run for each metric, with its interval."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    runs = result["runs"]
    fig = Figure(figsize=(2.6 * len(METRICS), 2.8), dpi=90)
    axes = fig.subplots(1, len(METRICS))
    colours = colormaps["tab10"](np.arange(len(runs)) % 10)
    for ax, metric in zip(axes, METRICS, strict=True):
        values = [r["metrics"].get(metric, np.nan) for r in runs]
        errors = [[v - r["ci"].get(metric, (v, v))[0] for v, r in zip(values, runs, strict=True)],
                  [r["ci"].get(metric, (v, v))[1] - v for v, r in zip(values, runs, strict=True)]]  # fmt: skip
        ax.bar(range(len(runs)), np.nan_to_num(values), yerr=np.nan_to_num(errors), color=colours, capsize=3)
        ax.set_title(metric, fontsize=8)
        ax.set_xticks([])
    fig.legend([Rectangle((0, 0), 1, 1, color=c) for c in colours], [r["name"] for r in runs],
               loc="upper center", ncol=min(len(runs), 6), fontsize=8)  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 0.85))
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
