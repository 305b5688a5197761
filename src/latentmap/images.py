"""Image grids and PNG output shared by the CLI, figures and the web apps."""

import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .atomic import atomic_path
from .errors import LatentmapError


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] -> uint8 pixels (rounded, clipped)."""
    return np.clip(np.round(images * 255), 0, 255).astype(np.uint8)


def tile(images: np.ndarray, ncols: int, gap: int = 2, background: int = 0) -> np.ndarray:
    """Arrange (N, H, W) images row-major in a grid with ``gap`` pixels between them."""
    n, h, w = images.shape
    nrows = max(1, -(-n // ncols))
    padded = np.full((nrows * ncols, h + gap, w + gap), background, dtype=images.dtype)
    padded[:n, :h, :w] = images
    grid = padded.reshape(nrows, ncols, h + gap, w + gap).transpose(0, 2, 1, 3)
    return grid.reshape(nrows * (h + gap), ncols * (w + gap))[: nrows * (h + gap) - gap, : ncols * (w + gap) - gap]


def labelled_rows(rows: list[np.ndarray], labels: list[str], scale: int = 2, label_width: int = 110) -> Image.Image:
    """Stack image-grid rows (uint8, white ink on black) with a text label left of each."""
    width = max(r.shape[1] for r in rows)
    strips = []
    for row in rows:
        strip = np.zeros((row.shape[0] + 4, width), np.uint8)
        strip[: row.shape[0], : row.shape[1]] = row
        strips.append(strip)
    body = Image.fromarray(np.concatenate(strips)).resize(
        (width * scale, sum(s.shape[0] for s in strips) * scale), Image.Resampling.NEAREST
    )
    canvas = Image.new("L", (body.width + label_width, body.height), 0)
    canvas.paste(body, (label_width, 0))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=14)
    y = 0
    for strip, label in zip(strips, labels, strict=True):
        draw.text((6, y + strip.shape[0] * scale // 2), label, fill=255, font=font, anchor="lm")
        y += strip.shape[0] * scale
    return canvas


def save_png(image: Image.Image | np.ndarray, path: str | os.PathLike[str]) -> None:
    """Write a PNG atomically; a clear error if the location is not writable."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    try:
        with atomic_path(path) as tmp:
            image.save(tmp, format="PNG")
    except OSError as exc:
        raise LatentmapError(f"cannot write {path}: {exc.strerror or exc}") from exc
