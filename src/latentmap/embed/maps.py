"""The big map: every image drawn at its 2D location, tinted by class, with a legend.

Drawing is vectorised: the ink pixels of the thumbnails are scattered onto the canvas by
indexed assignment, in slices of a seeded random order (so no class is always on top).
"""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

THUMB = 28


def palette(n: int) -> np.ndarray:
    """(n, 3) uint8 colours that read well on black: tab10 / tab20, else evenly spaced hues."""
    from matplotlib import colormaps
    from matplotlib.colors import hsv_to_rgb

    if n <= 10:
        colours = np.array([colormaps["tab10"](i)[:3] for i in range(n)])
    elif n <= 20:
        colours = np.array([colormaps["tab20"](i)[:3] for i in range(n)])
    else:
        hues = (np.arange(n) * 0.618034) % 1.0  # golden-ratio steps keep neighbours apart
        colours = hsv_to_rgb(np.stack([hues, np.full(n, 0.75), np.full(n, 1.0)], axis=1))
    return (np.clip(colours * 1.15, 0, 1) * 255).astype(np.uint8)


def map_positions(xy: np.ndarray, size: int, thumb: int = THUMB, margin: int = 8) -> np.ndarray:
    """Top-left pixel (x, y) of each thumbnail; aspect ratio kept, centred, y pointing up."""
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = float(max(hi - lo)) or 1.0
    scale = (size - 2 * margin - thumb) / span
    pos = (xy - (lo + hi) / 2) * scale + (size - thumb) / 2  # centred on both axes
    pos[:, 1] = size - thumb - pos[:, 1]
    return np.clip(np.round(pos), 0, size - thumb).astype(np.int64)


def render_map(
    xy: np.ndarray,
    images: np.ndarray,
    labels: np.ndarray,
    label_names: list[str],
    size: int = 4096,
    seed: int = 0,
    title: str = "",
    progress: bool = False,
) -> Image.Image:
    """RGB image of ``size`` x ``size`` pixels."""
    from tqdm import tqdm

    colours = palette(len(label_names))
    canvas = np.zeros((size, size, 3), dtype=np.uint8)
    thumb = images.shape[1]
    pos = map_positions(xy, size, thumb)
    order = np.random.default_rng(seed).permutation(len(xy))
    # in slices of the drawing order (same picture as one step: later thumbnails still land on
    # top), which bounds the index arrays' memory and lets a bar show progress
    steps = np.array_split(order, max(1, min(50, len(order) // 5000)))
    for step in tqdm(steps, desc="map", unit="slice", disable=None if progress else True, leave=False):
        which, dy, dx = np.nonzero(images[step])  # ink pixels only: overlaps never erase ink
        drawn = step[which]
        ink = images[drawn, dy, dx].astype(np.uint16)
        canvas[pos[drawn, 1] + dy, pos[drawn, 0] + dx] = (ink[:, None] * colours[labels[drawn]] // 255).astype(np.uint8)
    picture = Image.fromarray(canvas)
    draw_legend(picture, label_names, colours, title)
    return picture


def draw_legend(picture: Image.Image, names: list[str], colours: np.ndarray, title: str) -> None:
    font_size = max(12, picture.width // 160)
    font = ImageFont.load_default(size=font_size)
    line = int(font_size * 1.4)
    per_column = 24
    columns = -(-len(names) // per_column)
    width = max(int(font.getlength(n)) for n in names) + line * 2
    height = line * (min(len(names), per_column) + (2 if title else 1))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 0, width * columns + line, height), fill=(20, 20, 20))
    y0 = line // 2
    if title:
        draw.text((line // 2, y0), title, fill=(230, 230, 230), font=font)
        y0 += line
    for i, (name, colour) in enumerate(zip(names, colours, strict=True)):
        x = line // 2 + (i // per_column) * width
        y = y0 + (i % per_column) * line
        draw.rectangle((x, y + 2, x + line - 6, y + line - 4), fill=tuple(int(c) for c in colour))
        draw.text((x + line, y), name, fill=(230, 230, 230), font=font)
