"""Complete a typeface from a few glyphs with a typeface run: the given glyphs (from a
typeface of the dataset, or from a folder of PNGs named by character) -> one code -> the
whole alphabet; and sheets that show alphabets with the given glyphs marked."""

import os
import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from ..data.glyphs import GlyphGrid
from ..data.imports.pixels import border_means
from ..data.render import fit_mnist
from ..errors import LatentmapError
from ..train.typeface import TypefaceRun

GIVEN_INK = np.array([255, 170, 60], np.float32)  # given glyphs are drawn in orange
PER_ROW = 24
SCALE = 2


def given_from_font(grid: GlyphGrid, name: str, chars: str, run: TypefaceRun) -> np.ndarray:
    """The glyphs of ``chars`` in typeface ``name`` (k, 28, 28) uint8."""
    row = grid.row_of(name)
    columns = run.positions(chars)
    missing = [run.chars[c] for c in columns if not grid.present[row, c]]
    if missing:
        raise LatentmapError(f"typeface '{name}' has no glyph for {''.join(missing)!r}: give other characters")
    return grid.images[row, columns]


def char_of_file(stem: str) -> str:
    """``A.png`` -> 'A'; ``U+0041.png`` / ``uni0041.png`` -> 'A' (for '/', '.' and case-insensitive disks)."""
    if len(stem) == 1:
        return stem
    match = re.fullmatch(r"(?:U\+|uni|u)([0-9A-Fa-f]{4,6})", stem)
    if match:
        return chr(int(match.group(1), 16))
    raise LatentmapError(
        f"cannot tell the character of '{stem}.png': name glyph files by character, e.g. A.png or U+0041.png"
    )


def read_glyph_folder(folder: str | os.PathLike[str]) -> tuple[np.ndarray, str]:
    """A folder of glyph PNGs named by character -> (k, 28, 28) uint8 and the characters.
    Each goes through the TMNIST recipe (crop to the ink, longer side to 20 px, centre of mass
    at the centre), whatever its size: a hand-drawn glyph that fills its box would otherwise
    never look like the data. White ink on black; black-on-white images are inverted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LatentmapError(f"{folder} is not a folder of glyph PNGs")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")
    if not files:
        raise LatentmapError(f"{folder} holds no .png glyph images")
    images, chars = [], []
    for path in files:
        try:
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("L"))
        except (OSError, UnidentifiedImageError) as exc:
            raise LatentmapError(f"{path} is not a readable image: {exc}") from exc
        if pixels.min() == pixels.max():
            raise LatentmapError(f"{path} holds no glyph (every pixel is the same)")
        ink = 255 - pixels if border_means(pixels[None]).item() > 127 else pixels
        images.append(fit_mnist(ink))
        chars.append(char_of_file(path.stem))
    if len(set(chars)) != len(chars):
        raise LatentmapError(f"{folder} has two images of the same character")
    return np.stack(images).astype(np.uint8), "".join(chars)


def complete(run: TypefaceRun, images: np.ndarray, chars: str) -> np.ndarray:
    """Given glyphs and their characters -> every character's glyph (C, 28, 28) in [0, 1]."""
    return run.decode(run.encode_typeface(images, chars)[None])[0]


def alphabet_sheet(
    alphabets: list[np.ndarray], titles: list[str], marked: list[np.ndarray] | None = None
) -> Image.Image:
    """Alphabets (each (C, 28, 28) in [0, 1]) as rows of PER_ROW glyphs under a title; glyphs at
    the ``marked`` columns (the given ones) in orange, the rest white on black."""
    font = ImageFont.load_default(size=14)
    cell = 28 * SCALE + 4
    blocks = []
    for i, (glyphs, title) in enumerate(zip(alphabets, titles, strict=True)):
        rows = -(-len(glyphs) // PER_ROW)
        block = Image.new("RGB", (PER_ROW * cell + 8, rows * cell + 26), (0, 0, 0))
        ImageDraw.Draw(block).text((6, 4), title, fill=(220, 220, 220), font=font)
        ink = np.clip(glyphs, 0, 1)[..., None] * np.ones(3, np.float32) * 255
        if marked is not None:
            ink[marked[i]] = np.clip(glyphs[marked[i]], 0, 1)[..., None] * GIVEN_INK
        for k, glyph in enumerate(ink.astype(np.uint8)):
            tile = Image.fromarray(glyph).resize((28 * SCALE, 28 * SCALE), Image.Resampling.NEAREST)
            block.paste(tile, (4 + (k % PER_ROW) * cell, 24 + (k // PER_ROW) * cell))
        blocks.append(block)
    sheet = Image.new("RGB", (blocks[0].width, sum(b.height for b in blocks)), (0, 0, 0))
    y = 0
    for block in blocks:
        sheet.paste(block, (0, y))
        y += block.height
    return sheet
