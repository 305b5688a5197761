"""Figures written after every training stage (``figures/stage-<k>-*.png``).

Built on matplotlib's object API (no global pyplot state) with the Agg canvas, so they
render the same with or without a display.
"""

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from ..atomic import atomic_path
from ..images import tile

if TYPE_CHECKING:
    from .data import TrainData
    from .run import Run

SAMPLE = 2000  # test images used for the figures


def save(fig: Figure, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    return path


def class_colours(n: int) -> np.ndarray:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return np.array([cmap(i % cmap.N) for i in range(n)])


def loss_curves(history: list[dict[str, float]], beta_curve: tuple[np.ndarray, np.ndarray] | None) -> Figure:
    terms = [k.removeprefix("train_") for k in history[0] if k.startswith("train_")]
    panels = len(terms) + (beta_curve is not None)
    fig = Figure(figsize=(4.2 * panels, 3.4), layout="constrained")
    epochs = [row["epoch"] for row in history]
    for ax, term in zip(fig.subplots(1, panels, squeeze=False)[0], terms, strict=False):
        ax.plot(epochs, [row[f"train_{term}"] for row in history], "o-", ms=3, label="train")
        ax.plot(epochs, [row.get(f"test_{term}", np.nan) for row in history], "s--", ms=3, label="test")
        ax.set(title=term, xlabel="epoch")
        if min(row[f"train_{term}"] for row in history) > 0:
            ax.set_yscale("log")
        ax.legend()
    if beta_curve is not None:
        ax = fig.axes[-1]
        x, beta = beta_curve
        ax.plot(x * epochs[-1] if len(history) else x, beta, color="tab:purple")
        ax.set(title="KL weight (beta) schedule", xlabel="epoch")
    return fig


def reconstruction_quantiles(images: np.ndarray, recon: np.ndarray) -> Figure:
    errors = ((images - recon) ** 2).reshape(len(images), -1).mean(axis=1)
    fig = Figure(figsize=(11, 5.2), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.3, 1])  # type: ignore[misc]
    ax = top.subplots()
    ax.hist(errors, bins=60, color="tab:blue", alpha=0.8)
    ax.set(title=f"test reconstruction error (mean pixel MSE; mean {errors.mean():.4f})", xlabel="MSE", ylabel="images")
    quantiles = np.linspace(0, 1, 8)
    order = np.argsort(errors)
    picks = order[np.minimum((quantiles * (len(order) - 1)).round().astype(int), len(order) - 1)]
    for i in picks:
        ax.axvline(errors[i], color="tab:red", lw=0.8)
    axes = bottom.subplots(2, 8)
    for col, (q, i) in enumerate(zip(quantiles, picks, strict=True)):
        axes[0, col].imshow(images[i], cmap="gray", vmin=0, vmax=1)
        axes[1, col].imshow(recon[i], cmap="gray", vmin=0, vmax=1)
        axes[0, col].set_title(f"q={q:.2f}\n{errors[i]:.4f}", fontsize=8)
    for ax in axes.ravel():
        ax.set_axis_off()
    axes[0, 0].text(-6, 14, "original", rotation=90, va="center", fontsize=8)
    axes[1, 0].text(-6, 14, "decoded", rotation=90, va="center", fontsize=8)
    return fig


def difference_rgb(images: np.ndarray, recon: np.ndarray) -> np.ndarray:
    """White paper: shared ink dark, extra ink (should not be there) red, missing ink blue."""
    common = np.minimum(images, recon)
    extra = np.clip(recon - images, 0, 1)
    missing = np.clip(images - recon, 0, 1)
    red = 1 - common - missing
    green = 1 - common - extra - missing
    blue = 1 - common - extra
    return np.clip(np.stack([red, green, blue], axis=-1), 0, 1)


def difference_images(images: np.ndarray, recon: np.ndarray, n: int = 32) -> Figure:
    rgb = difference_rgb(images[:n], recon[:n])
    grid = np.stack([tile(rgb[..., c], ncols=8, gap=2, background=1) for c in range(3)], axis=-1)
    fig = Figure(figsize=(8, 4.6), layout="constrained")
    ax = fig.subplots()
    ax.imshow(grid, interpolation="nearest")
    ax.set_title("difference: red = ink that should not be there, blue = ink that is missing")
    ax.set_axis_off()
    return fig


def latent_histograms(codes: np.ndarray, labels: np.ndarray, names: list[str], max_dims: int = 16) -> Figure:
    dims = np.argsort(-codes.var(axis=0))[:max_dims]
    shown = [c for c in np.unique(labels)][:10]  # at most 10 classes keep the colours readable
    colours = class_colours(len(shown))
    cols = 4
    rows = -(-len(dims) // cols)
    fig = Figure(figsize=(3.2 * cols, 2.4 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, d in zip(axes, dims, strict=False):
        # Stacked histograms as one filled outline per class (ax.stairs): the same picture as
        # ax.hist(stacked=True), but 10 patches per panel instead of 400 bars, which made this
        # figure most of a short training run's time.
        edges = np.histogram_bin_edges(codes[np.isin(labels, shown), d], bins=40)
        bottom = np.zeros(len(edges) - 1)
        for colour, c in zip(colours, shown, strict=False):
            top = bottom + np.histogram(codes[labels == c, d], bins=edges)[0]
            ax.stairs(top, edges, baseline=bottom, fill=True, color=colour, label=names[c])
            bottom = top
        ax.set_title(f"dim {d} (var {codes[:, d].var():.3g})", fontsize=9)
    for ax in axes[len(dims) :]:
        ax.set_axis_off()
    axes[0].legend(fontsize=6, ncols=2)
    fig.suptitle("latent code histograms by class (highest-variance dimensions)")
    return fig


def prior_samples(run: "Run", n: int = 100, seed: int = 0) -> Figure:
    z = np.random.default_rng(seed).standard_normal((n, run.d_latent)).astype(np.float32)
    fig = Figure(figsize=(6, 6), layout="constrained")
    ax = fig.subplots()
    ax.imshow(tile(run.decode(z), ncols=10, gap=1), cmap="gray", vmin=0, vmax=1)
    ax.set_title("samples decoded from the prior N(0, I)")
    ax.set_axis_off()
    return fig


def kl_per_dimension(kl: np.ndarray) -> Figure:
    fig = Figure(figsize=(max(5, 0.35 * len(kl)), 3.2), layout="constrained")
    ax = fig.subplots()
    ax.bar(np.arange(len(kl)), kl, color="tab:purple")
    ax.axhline(0.01, color="gray", lw=0.8, ls="--")
    ax.set(title=f"KL per latent dimension (test mean, total {kl.sum():.2f} nats)", xlabel="dimension", ylabel="nats")
    return fig


def sparse_activity(codes: np.ndarray, labels: np.ndarray, names: list[str]) -> Figure:
    active = codes > 0
    classes = np.unique(labels)
    counts = [active[labels == c].sum(axis=1).mean() for c in classes]
    rates = np.array([active[labels == c].mean(axis=0) for c in classes])
    order = np.argsort(-active.mean(axis=0))
    fig = Figure(figsize=(12, 4), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 2.2])
    left.bar(range(len(classes)), counts, color=class_colours(len(classes))[: len(classes)])
    left.set_xticks(range(len(classes)), [names[c] for c in classes], rotation=90 if len(classes) > 12 else 0)
    left.set(title="active code units per image, by class", ylabel="units > 0")
    image = right.imshow(rates[:, order], aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    right.set_yticks(range(len(classes)), [names[c] for c in classes], fontsize=7)
    right.set(title="firing rate per class (units sorted by how often they fire)", xlabel="code unit")
    fig.colorbar(image, ax=right, shrink=0.8)
    return fig


def sparse_code_matrix(codes: np.ndarray, labels: np.ndarray, names: list[str], per_class: int = 100) -> Figure:
    order = np.argsort(-(codes > 0).mean(axis=0))
    rows: list[np.ndarray] = []
    ticks: list[tuple[float, str]] = []
    for c in np.unique(labels)[:10]:
        members = codes[labels == c][:per_class]
        ticks.append((sum(len(r) for r in rows) + len(members) / 2, names[c]))
        rows.append(members[:, order])
    matrix = np.concatenate(rows)
    fig = Figure(figsize=(10, 8), layout="constrained")
    ax = fig.subplots()
    ax.imshow(matrix, aspect="auto", cmap="magma", interpolation="nearest")
    ax.set_yticks([t for t, _ in ticks], [n for _, n in ticks])
    ax.set(title=f"codes of {per_class} test images per class (units sorted by firing frequency)", xlabel="code unit")
    return fig


def stage_figures(
    run: "Run", history: list[dict[str, float]], data: "TrainData", stage: int, directory: Path
) -> list[Path]:
    """Write every figure for one stage; returns their paths."""
    import torch

    prefix = directory / f"stage-{stage}"
    if run.kind == "typeface":
        from . import typeface_figures
        from .schedules import BetaSchedule

        beta_curve = BetaSchedule(**run.config["beta"]).curve() if run.has_prior else None
        loss = save(loss_curves(history, beta_curve), Path(f"{prefix}-loss.png"))
        return [loss, *typeface_figures.stage_figures(run, data, stage, prefix)]  # type: ignore[arg-type]

    from ..models.vae import VariationalAutoencoder, kl_per_dim
    from .schedules import BetaSchedule

    rng = np.random.default_rng(stage)
    pick = np.sort(rng.choice(len(data.test_labels), size=min(SAMPLE, len(data.test_labels)), replace=False))
    images_u8, labels = data.test_images[pick], data.test_labels[pick]
    images = images_u8.astype(np.float32) / 255
    codes = run.encode(images_u8)
    recon = run.decode(codes)
    is_vae = isinstance(run.model, VariationalAutoencoder)
    beta = BetaSchedule(**run.config["beta"]).curve() if is_vae else None
    paths = [
        save(loss_curves(history, beta), Path(f"{prefix}-loss.png")),
        save(reconstruction_quantiles(images, recon), Path(f"{prefix}-reconstruction.png")),
        save(difference_images(images, recon), Path(f"{prefix}-difference.png")),
        save(latent_histograms(codes, labels, data.label_names), Path(f"{prefix}-latent.png")),
    ]
    if is_vae:
        assert isinstance(run.model, VariationalAutoencoder)
        with torch.no_grad():
            mu, logvar = run.model.posterior(run.features(images_u8))
            kl = kl_per_dim(mu, logvar).mean(dim=0).cpu().numpy()
        paths.append(save(prior_samples(run), Path(f"{prefix}-prior-samples.png")))
        paths.append(save(kl_per_dimension(kl), Path(f"{prefix}-kl.png")))
    if run.kind == "sparse":
        paths.append(save(sparse_activity(codes, labels, data.label_names), Path(f"{prefix}-active-units.png")))
        paths.append(save(sparse_code_matrix(codes, labels, data.label_names), Path(f"{prefix}-codes.png")))
    return paths


def show_if_interactive(directory: Path) -> None:
    """Open the last stage's figures in a window when there is a display (the original
    tools showed their plots; ``--no_plot`` skips this)."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return
    try:
        import matplotlib.pyplot as plt
        from PIL import Image
    except ImportError:
        return
    figures = sorted(directory.glob("stage-*.png"))
    if not figures:
        return
    last_stage = max(int(p.name.split("-")[1]) for p in figures)
    for path in (p for p in figures if p.name.split("-")[1] == str(last_stage)):
        plt.figure(path.name)
        plt.imshow(Image.open(path))
        plt.axis("off")
    plt.show()
