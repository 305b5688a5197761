"""The points of a typeface run's map: one per typeface (its code from all its glyphs),
coloured by the manifest's category, drawn as its glyph of one character."""

from dataclasses import dataclass

import numpy as np

from ..data import Dataset
from ..data.glyphs import GlyphGrid, glyph_grid
from ..errors import LatentmapError
from ..images import to_uint8
from ..train.typeface import TypefaceRun

THUMBNAIL_CHARS = "Aa5"  # the first the charset has is each point's picture
UNKNOWN_CATEGORY = "unknown"


@dataclass
class TypefacePoints:
    rows: np.ndarray  # (N,) rows of the glyph grid
    codes: np.ndarray  # (N, d)
    labels: np.ndarray  # (N,) category index
    label_names: list[str]  # categories
    images: np.ndarray  # (N, 28, 28) uint8 thumbnails
    thumbnail: str  # the character the thumbnails show
    count: int  # typefaces in the whole grid (what rows index)


def thumbnail_char(chars: list[str]) -> str:
    return next((c for c in THUMBNAIL_CHARS if c in chars), chars[0])


def categories(dataset: Dataset, grid: GlyphGrid) -> tuple[np.ndarray, list[str]]:
    """Per grid row its category index, and the category names (``unknown`` without a manifest)."""
    by_name = dict(zip(dataset.fonts["name"].tolist(), dataset.fonts.get("category", []), strict=False))
    per_row = [str(by_name.get(str(name), "")) or UNKNOWN_CATEGORY for name in grid.names]
    names = sorted(set(per_row))
    return np.array([names.index(c) for c in per_row], np.int64), names


def thumbnails(run: TypefaceRun, grid: GlyphGrid, rows: np.ndarray, codes: np.ndarray, char: str) -> np.ndarray:
    """Each typeface's glyph of ``char``; decoded from its code where it has none."""
    column = run.chars.index(char)
    images = grid.images[rows, column].copy()
    missing = ~grid.present[rows, column]
    if missing.any():
        decoded = run.decode(codes[missing], char)[:, 0]
        images[missing] = to_uint8(decoded)
    return images


def typeface_points(
    run: TypefaceRun, dataset: Dataset, split: str, max_points: int | None, seed: int, thumbnail: str | None = None
) -> TypefacePoints:
    grid = glyph_grid(dataset)
    rows = np.arange(len(grid))
    if split != "all":
        rows = rows[grid.is_test == (split == "test")]
    if max_points is not None and max_points < len(rows):
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=max_points, replace=False))
    if len(rows) < 5:
        raise LatentmapError(f"only {len(rows)} {split} typefaces: a map needs at least 5 (try --split all)")
    codes = run.encode_typefaces(grid.images[rows], grid.present[rows])
    labels, names = categories(dataset, grid)
    if thumbnail is not None and thumbnail not in run.chars:
        raise LatentmapError(f"--thumbnail {thumbnail!r} is not a character of this model ({''.join(run.chars)})")
    char = thumbnail or thumbnail_char(run.chars)
    return TypefacePoints(rows, codes, labels[rows], names, thumbnails(run, grid, rows, codes, char), char, len(grid))
