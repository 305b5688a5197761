"""Figures of a typeface run after each stage: test typefaces (families the model never
saw) as given, completed from a few glyphs, and decoded from all of them; new typefaces."""

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..images import labelled_rows, save_png, tile
from . import samplers

if TYPE_CHECKING:
    from .data import TrainData
    from .typeface import TypefaceRun

SHEET_TEXT = "Hamburgefonstiv0123456789"  # the type designer's test word, and the digits
TYPEFACES = 6
SHOTS = 4


def sheet_columns(chars: list[str], limit: int = 26) -> np.ndarray:
    """The columns a sheet shows: the test word's characters the charset has, else the first ones."""
    wanted = [chars.index(c) for c in dict.fromkeys(SHEET_TEXT) if c in chars]
    return np.array(wanted[:limit] if len(wanted) >= min(len(chars), 8) else range(min(len(chars), limit)))


def glyph_row(glyphs: np.ndarray) -> np.ndarray:
    """(k, 28, 28) floats in [0, 1] -> one uint8 strip."""
    return (tile(np.clip(glyphs, 0, 1), ncols=len(glyphs), gap=2) * 255).astype(np.uint8)


def completion_sheet(run: "TypefaceRun", data: "TrainData", seed: int) -> tuple[list[np.ndarray], list[str]]:
    assert data.grids is not None
    test = data.grids[1]
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(test), size=min(TYPEFACES, len(test)), replace=False))
    columns = sheet_columns(run.chars)
    text = "".join(run.chars[c] for c in columns)
    strips, labels = [], []
    for row in rows:
        present = test.present[row]
        shown = np.zeros_like(present)
        shown[rng.permutation(np.flatnonzero(present))[:SHOTS]] = True
        few = run.encode_typefaces(test.images[row : row + 1], shown[None])
        full = run.encode_typefaces(test.images[row : row + 1], present[None])
        real = test.images[row, columns].astype(np.float32) / 255
        given = "".join(run.chars[c] for c in np.flatnonzero(shown))
        strips += [glyph_row(real), glyph_row(run.decode(few, text)[0]), glyph_row(run.decode(full, text)[0])]
        labels += [str(test.names[row])[:16], f"from {given!r}", "from all"]
    return strips, labels


def stage_figures(run: "TypefaceRun", data: "TrainData", stage: int, prefix: Path) -> list[Path]:
    strips, labels = completion_sheet(run, data, stage)
    paths = [Path(f"{prefix}-typefaces.png")]
    save_png(labelled_rows(strips, labels, scale=2, label_width=150), paths[0])
    text = "".join(run.chars[c] for c in sheet_columns(run.chars))
    assert data.grids is not None
    train = data.grids[0]
    sampler = "prior" if run.has_prior else "gaussian"  # a Gaussian: fitted quickly at every stage
    fit_to = np.zeros((1, run.d_latent)) if run.has_prior else run.encode_typefaces(train.images, train.present)
    codes = samplers.fit(sampler, fit_to).sample(8, seed=stage)
    sampled = [glyph_row(glyphs) for glyphs in run.decode(codes, text)]
    paths.append(Path(f"{prefix}-samples.png"))
    save_png(labelled_rows(sampled, [f"{sampler} {i + 1}" for i in range(len(sampled))], 2, 110), paths[1])
    return paths
