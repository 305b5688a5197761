"""How well a typeface run completes unseen typefaces from a few glyphs, next to a baseline.

For every test typeface (families the model never saw) k of its glyphs are given (k = 1, 2,
4, 8; the same random order for every k, so the given sets nest) and the others are
generated. The baseline is what a font picker would do: the training typeface nearest to
the given glyphs (mean pixel distance over them) lends its own glyphs for the rest (the next
nearest where it has no such glyph). Scores: pixel MSE and SSIM of the generated glyphs
against the real ones, and the judge's accuracy on them relative to its accuracy on the real
glyphs, each with a paired bootstrap interval over split groups of test typefaces.

The judge that scores them learns from half of the training typefaces and the baselines lend
only from the other half (:func:`latentmap.data.typeface_split.lends`): a judge that had seen the
lent glyphs would read the baseline better than any glyph it never saw.
"""

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..data.datasets import Dataset
from ..data.glyphs import GlyphGrid
from ..data.typeface_split import lends
from ..extras import require
from ..train.typeface import TypefaceRun
from .judge import Judge, judge_for
from .stats import Items, bootstrap_interval, paired_difference

SHOTS = (1, 2, 4, 8)
UNIT = "test_typefaces"


def scoring_judge_data(dataset: Dataset) -> Dataset:
    """TMNIST without the training typefaces the baselines lend from (test typefaces stay: the
    judge is measured on them), under its own name so its judge is cached apart."""
    assert dataset.typeface_ids is not None, "typeface scores need a TMNIST dataset"
    lender = lends(dataset.fonts["group"])[dataset.typeface_ids] & ~dataset.is_test
    return replace(dataset.subset(~lender), spec=f"{dataset.spec} (judge half)")


def scoring_judge(dataset: Dataset, cache_dir: Path, **kwargs: Any) -> Judge:
    """The judge of typeface scores (see the module docstring), trained on first use."""
    return judge_for(scoring_judge_data(dataset), cache_dir, **kwargs)


SSIM_WINDOW = 7  # scikit-image's default window; its mean leaves out a border of 3 pixels


def ssim(images: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Per glyph (..., 28, 28 in [0, 1]) the SSIM against its reference, as scikit-image's
    ``structural_similarity`` gives for the pair: glyphs side by side in one wide picture, one
    call, each glyph's mean over its own interior (no window crosses into a neighbour)."""
    shape = np.broadcast_shapes(images.shape, references.shape)
    a = np.broadcast_to(images, shape).reshape(-1, 28, 28).astype(np.float32)  # half the time of float64
    b = np.broadcast_to(references, shape).reshape(-1, 28, 28).astype(np.float32)
    pad = SSIM_WINDOW // 2
    out = np.empty(len(a))
    metrics = require("skimage.metrics", "typeface", "the typeface completion scores (SSIM)")
    for start in range(0, len(a), 4096):
        wide_a, wide_b = (x[start : start + 4096].transpose(1, 0, 2).reshape(28, -1) for x in (a, b))
        _, full = metrics.structural_similarity(wide_a, wide_b, win_size=SSIM_WINDOW, data_range=1.0, full=True)
        glyphs = full.reshape(28, -1, 28).transpose(1, 0, 2)
        out[start : start + 4096] = glyphs[:, pad:-pad, pad:-pad].mean(axis=(1, 2))
    return out.reshape(shape[:-2])


def shot_order(present: np.ndarray, seed: int) -> np.ndarray:
    """(T, C) rank of each present glyph in a seeded random order (C for missing glyphs)."""
    rng = np.random.default_rng(seed)
    ranks = np.full(present.shape, present.shape[1], np.int64)
    for row, columns in enumerate(present):
        shown = np.flatnonzero(columns)
        ranks[row, rng.permutation(shown)] = np.arange(len(shown))
    return ranks


K_NEAREST = 5  # the k-nearest baseline averages this many lenders per character


def lender_order(train: GlyphGrid, reference: np.ndarray, images: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Training typefaces from nearest to farthest by the given glyphs (mean pixel distance)."""
    columns = np.flatnonzero(given)
    query = images[columns].reshape(len(columns), -1).astype(np.float32) / 255
    has = train.present[:, columns]
    distance = np.where(has, ((reference[:, columns] - query) ** 2).mean(axis=2), np.nan)
    mean = np.nanmean(np.where(has.any(axis=1, keepdims=True), distance, np.inf), axis=1)
    return np.argsort(np.nan_to_num(mean, nan=np.inf), kind="stable")


def lender_orders(train: GlyphGrid, images: np.ndarray, given: np.ndarray) -> list[np.ndarray]:
    """:func:`lender_order` of every typeface (T, C, 28, 28) with given glyphs (T, C)."""
    reference = train.images.reshape(len(train), train.images.shape[1], -1).astype(np.float32) / 255
    return [lender_order(train, reference, images[t], given[t]) for t in range(len(images))]


def nearest_completion(
    train: GlyphGrid, images: np.ndarray, given: np.ndarray, k: int = 1, orders: list[np.ndarray] | None = None
) -> np.ndarray:
    """The font picker's baseline: for each typeface (T, C, 28, 28) with given glyphs (T, C),
    per character the glyph of the nearest training typeface that has it (k > 1: the mean of
    the k nearest that have it, in [0, 255] as float32). ``orders``: the lender orders, when
    already computed for another k."""
    orders = lender_orders(train, images, given) if orders is None else orders
    out = np.zeros(images.shape, np.uint8 if k == 1 else np.float32)
    characters = np.arange(images.shape[1])
    for t, order in enumerate(orders):
        if k == 1:
            lender = order[train.present[order].argmax(axis=0)]  # per character: the nearest that has it
            out[t] = train.images[lender, characters]
            continue
        for c in characters:
            lenders = order[train.present[order, c]][:k]
            if len(lenders):
                out[t, c] = train.images[lenders, c].mean(axis=0)
    return out


def zero_shot_completion(train: GlyphGrid) -> np.ndarray:
    """The baseline that looks at nothing given: each character's mean training glyph, (C, 28,
    28) in [0, 1]. What the encoder adds is what a model scores beyond it."""
    counts = np.maximum(train.present.sum(axis=0), 1)[:, None, None]
    weights = train.present[..., None, None]
    return (np.where(weights, train.images, 0).astype(np.float64).sum(axis=0) / counts / 255).astype(np.float32)


def per_typeface(values: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Mean of per-glyph values over each typeface's target glyphs: (T,)."""
    return (values * targets).sum(axis=1) / targets.sum(axis=1)


@dataclass
class CompletionTask:
    """The test typefaces with something left to generate, and the seeded order their glyphs are given in."""

    train: GlyphGrid  # the training typefaces the baselines lend from
    test: GlyphGrid
    ranks: np.ndarray  # (T, C): a glyph is given when its rank < k
    real_correct: np.ndarray  # (T, C): the judge reads the real glyph right


def completion_task(grid: GlyphGrid, judge: Judge | None, most_shots: int, seed: int) -> CompletionTask:
    test = grid.split("test")
    test = test.subset(np.flatnonzero(test.present.sum(axis=1) > most_shots))  # something left to generate
    labels = np.broadcast_to(np.arange(len(grid.chars)), test.present.shape)
    train = grid.split("train")
    lenders = train if train.groups is None else train.subset(np.flatnonzero(lends(train.groups)))
    return CompletionTask(lenders, test, shot_order(test.present, seed), correct(judge, test.images, labels))


def completion_items(run: TypefaceRun, task: CompletionTask, judge: Judge | None, k: int) -> dict[str, np.ndarray]:
    """Per test typeface, with k glyphs given: the mean pixel MSE of the generated glyphs and of
    the nearest-typeface baseline's, and the judge's accuracy on them and on the real glyphs."""
    test = task.test
    given = task.ranks < k
    targets = test.present & ~given
    real = test.images.astype(np.float32) / 255
    generated = run.decode(run.encode_typefaces(test.images, given))
    orders = lender_orders(task.train, test.images, given)  # the distances once, for both baselines
    borrowed = nearest_completion(task.train, test.images, given, orders=orders).astype(np.float32) / 255
    averaged = nearest_completion(task.train, test.images, given, K_NEAREST, orders) / 255
    mean_glyphs = zero_shot_completion(task.train)[None]

    def mse(images: np.ndarray) -> np.ndarray:
        return per_typeface(((images - real) ** 2).mean(axis=(2, 3)), targets)

    def structure(images: np.ndarray) -> np.ndarray:
        scores = np.zeros(targets.shape)
        scores[targets] = ssim(np.broadcast_to(images, real.shape)[targets], real[targets])
        return per_typeface(scores, targets)

    items = {"targets": targets.sum(axis=1).astype(np.float64)}
    for name, images in (
        ("", generated),
        ("baseline_", borrowed),
        ("knearest_", averaged),
        ("zero_shot_", mean_glyphs),
    ):
        items[f"{name}mse"], items[f"{name}ssim"] = mse(images), structure(images)
    if judge is not None:
        labels = np.broadcast_to(np.arange(test.present.shape[1]), test.present.shape)
        items["real_accuracy"] = per_typeface(task.real_correct, targets)
        items["accuracy"] = per_typeface(correct(judge, generated, labels), targets)
        items["baseline_accuracy"] = per_typeface(correct(judge, borrowed, labels), targets)
    return items


def completion_scores(
    run: TypefaceRun, grid: GlyphGrid, judge: Judge | None, shots: tuple[int, ...] = SHOTS, seed: int = 0
) -> list[dict[str, Any]]:
    """One row of scores per number of given glyphs (see the module docstring)."""
    task = completion_task(grid, judge, max(shots), seed)
    rows = []
    for k in shots:
        items = completion_items(run, task, judge, k)
        # related typefaces are correlated: intervals resample whole split groups
        mse = Items(UNIT, items["mse"], groups=task.test.groups)
        baseline = Items(UNIT, items["baseline_mse"], groups=task.test.groups)
        difference, low, high = paired_difference(mse, baseline, seed)
        row: dict[str, Any] = {
            "shots": k,
            "typefaces": len(task.test),
            "glyphs": int(items["targets"].sum()),
            "mse": float(mse.compute()),
            "mse_ci": bootstrap_interval(mse, seed),
            "baseline_mse": float(baseline.compute()),
            "mse_minus_baseline": difference,
            "mse_minus_baseline_ci": (low, high),
            "knearest_mse": float(items["knearest_mse"].mean()),  # the mean of the K_NEAREST lenders' glyphs
            "zero_shot_mse": float(items["zero_shot_mse"].mean()),  # each character's mean training glyph
            **{
                f"{name}ssim": float(items[f"{name}ssim"].mean())
                for name in ("", "baseline_", "knearest_", "zero_shot_")
            },
        }
        if judge is not None:
            real = max(float(items["real_accuracy"].mean()), 1e-9)
            row.update(
                real_accuracy=real,
                accuracy=float(items["accuracy"].mean()),
                baseline_accuracy=float(items["baseline_accuracy"].mean()),
                relative_accuracy=float(items["accuracy"].mean()) / real,
                baseline_relative_accuracy=float(items["baseline_accuracy"].mean()) / real,
            )
        rows.append(row)
    return rows


def correct(judge: Judge | None, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(T, C) whether the judge reads each glyph as its character (zeros without a judge)."""
    if judge is None:
        return np.zeros(labels.shape, np.float32)
    probs, _ = judge.predict(images.reshape(-1, 28, 28))
    return (probs.argmax(axis=1) == labels.reshape(-1)).reshape(labels.shape).astype(np.float32)
