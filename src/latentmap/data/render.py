"""The TMNIST / MNIST glyph recipe: render, invert, crop, fit into 20 px, centre of mass.

For each character a font's cmap covers: render with Pillow at size 28, invert (ink
bright on black), crop to the ink bounding box, scale the longer side to 20 px keeping
the aspect ratio, then place it on a 28x28 canvas so that its centre of mass sits at the
centre. Characters with no ink at this size are skipped, as the TMNIST authors skipped
characters missing from a font, and so are glyphs whose name in the font names another
character (a Symbol font's ``Phi`` under ``F``; names read with the Adobe Glyph List).
"""

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
from fontTools.agl import toUnicode
from fontTools.ttLib import TTFont, TTLibError
from PIL import Image, ImageDraw, ImageFont

from ..errors import DataError

FONT_SIZE = 28
BOX = 20
SIDE = 28
CENTRE = (SIDE - 1) / 2  # in pixel-index coordinates
FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
# Glyph names that are another character by the Adobe Glyph List but draw the ASCII one in
# ordinary text fonts: a hyphen drawn as a hyphen or minus, typographic quotes in old fonts.
SAME_GLYPH = {"-": "\u2010\u2011\u2212", "'": "\u2019", "`": "\u2018"}


def render_glyph(font: ImageFont.FreeTypeFont, char: str) -> np.ndarray | None:
    """One character as a (28, 28) uint8 image, or None when it draws no ink."""
    left, top, right, bottom = (int(v) for v in font.getbbox(char))
    if right <= left or bottom <= top:
        return None
    # Drawing white on black is the inverted black-on-white rendering.
    canvas = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(canvas).text((-left, -top), char, font=font, fill=255)
    ink_box = canvas.getbbox()
    if ink_box is None:
        return None
    return fit_ink(canvas.crop(ink_box))


def fit_ink(ink: Image.Image) -> np.ndarray:
    """Ink cropped to its bounding box (grey, bright on black) -> 28x28: the longer side
    scaled to 20 px keeping the aspect ratio, the centre of mass at the centre."""
    scale = BOX / max(ink.size)
    size = (max(1, round(ink.width * scale)), max(1, round(ink.height * scale)))
    return centre_of_mass_paste(np.asarray(ink.resize(size, Image.Resampling.LANCZOS)))


def fit_mnist(pixels: np.ndarray) -> np.ndarray:
    """Any grey image (ink bright on black) -> 28x28 by the MNIST / TMNIST recipe: crop to
    the ink, fit into 20 px, centre of mass at the centre. No ink: a black image."""
    image = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8))
    ink_box = image.getbbox()
    return np.zeros((SIDE, SIDE), np.uint8) if ink_box is None else fit_ink(image.crop(ink_box))


def centre_of_mass_paste(glyph: np.ndarray) -> np.ndarray:
    """Paste ``glyph`` onto a 28x28 canvas with its centre of mass at the centre
    (integer shift; ink pushed past the border is clipped, as in MNIST)."""
    weights = glyph.astype(np.float64)
    total = weights.sum()
    out = np.zeros((SIDE, SIDE), dtype=np.uint8)
    if total == 0:
        return out
    h, w = glyph.shape
    cy = weights.sum(axis=1) @ np.arange(h) / total
    cx = weights.sum(axis=0) @ np.arange(w) / total
    oy, ox = round(CENTRE - cy), round(CENTRE - cx)
    y0, x0 = max(oy, 0), max(ox, 0)
    y1, x1 = min(oy + h, SIDE), min(ox + w, SIDE)
    out[y0:y1, x0:x1] = glyph[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    return out


class FontSkipped(DataError):
    """A readable font that must not go into TMNIST (its letters would be pictures)."""


def character_map(path: str | os.PathLike[str]) -> dict[int, str]:
    """The font's best cmap, code point -> glyph name (fontTools); symbol-encoded fonts are
    skipped: their (3, 0) subtable maps code points to pictures, not letters."""
    try:
        with TTFont(path, lazy=True) as font:
            if any(t.platformID == 3 and t.platEncID == 0 for t in font["cmap"].tables):
                raise FontSkipped("symbol-encoded character map (pictures, not letters)")
            cmap = font.getBestCmap()
    except (TTLibError, OSError, AssertionError, KeyError, ValueError, ImportError) as exc:
        raise DataError(f"cannot read font file {path}: {exc}; remove or replace it") from exc
    if cmap is None:
        raise DataError(f"font file {path} has no usable character map; remove or replace it")
    return dict(cmap)


def named_as(glyph_name: str) -> str:
    """The character a glyph name stands for by the Adobe Glyph List ('' when it names none:
    ``glyph123``, ``cid00042``)."""
    return toUnicode(glyph_name)


def names_other_character(char: str, glyph_name: str) -> bool:
    """The glyph's name says it is another character: ``Phi`` under ``F``. Case is ignored
    (unicase fonts share one glyph between ``a`` and ``A``), and so are names the glyph list
    does not know."""
    named = named_as(glyph_name)
    return bool(named) and named.lower() != char.lower() and named not in SAME_GLYPH.get(char, "")


class RenderedFont(NamedTuple):
    images: np.ndarray  # (k, 28, 28) uint8
    positions: np.ndarray  # (k,) int16 into the charset
    dropped: list[str]  # characters whose glyph names another character, as "F (Phi)"


def render_font(path: str | os.PathLike[str], charset: str) -> RenderedFont:
    """Every character of ``charset`` the font covers with a glyph of that character (by its
    name) that draws ink."""
    cmap = character_map(path)
    try:
        font = ImageFont.truetype(str(path), FONT_SIZE)
    except OSError as exc:
        raise DataError(f"cannot read font file {path}: {exc}; remove or replace it") from exc
    images, positions, dropped = [], [], []
    for position, char in enumerate(charset):
        glyph_name = cmap.get(ord(char))
        if glyph_name is None:
            continue
        if names_other_character(char, glyph_name):
            dropped.append(f"{char} ({glyph_name})")
            continue
        image = render_glyph(font, char)
        if image is not None:
            images.append(image)
            positions.append(position)
    if not images:
        return RenderedFont(np.zeros((0, SIDE, SIDE), np.uint8), np.zeros(0, np.int16), dropped)
    return RenderedFont(np.stack(images), np.asarray(positions, dtype=np.int16), dropped)


def find_font_files(directory: str | os.PathLike[str]) -> list[Path]:
    """Font files under ``directory`` (recursively), sorted for a deterministic order."""
    root = Path(directory)
    return sorted(
        (p for p in root.rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file()),
        key=lambda p: p.relative_to(root).as_posix(),
    )
