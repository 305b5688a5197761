"""Any picture -> a 28x28 uint8 grey image, white ink on black like MNIST.

Colour is converted to grey (transparent pixels count as paper), a dark-on-light source is
inverted, and pictures of another size are fitted: ``mnist`` (crop to the ink, fit into a
20 px box, centre of mass at the centre: the MNIST / TMNIST recipe), ``pad`` (keep the
aspect ratio, pad to a square, resize) or ``stretch``. A 28x28 picture is kept as it is.
"""

import contextlib
import io
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ...errors import LatentmapError
from ..render import SIDE, fit_mnist

FITS = ("mnist", "pad", "stretch")
INVERTS = ("auto", "yes", "no")
# A picture file may decode to at most MAX_PIXELS (Pillow's own bound is 89 million and only
# warns): a 78 KB PNG can claim 9000 x 9000. What is decoded is shrunk at once to KEEP_SIDE,
# so a chunk of 512 pictures holds at most 512 x 112 x 112 bytes until they are fitted.
MAX_PIXELS = 25_000_000
KEEP_SIDE = 4 * SIDE
PICTURE_ERRORS = (
    OSError,
    UnidentifiedImageError,
    ValueError,
    SyntaxError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,  # an error under picture_limits
)


@contextlib.contextmanager
def picture_limits() -> Iterator[None]:
    """Inside: Pillow refuses pictures over MAX_PIXELS (its warning becomes the error)."""
    before = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = before


def read_picture(source: Path | bytes) -> np.ndarray:
    """A picture file (or its bytes) -> grey uint8, at most KEEP_SIDE on its longer side,
    decoded under :func:`picture_limits`. Raises one of PICTURE_ERRORS for a bad one."""
    with picture_limits(), Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
        image.draft("L", (KEEP_SIDE, KEEP_SIDE))  # JPEG: decoded at a fraction of its size
        pixels = grey(image)
    if max(pixels.shape) <= KEEP_SIDE:
        return pixels
    small = Image.fromarray(pixels)
    small.thumbnail((KEEP_SIDE, KEEP_SIDE), Image.Resampling.LANCZOS)
    return np.asarray(small, dtype=np.uint8)


def grey(image: Image.Image) -> np.ndarray:
    """A PIL image of any mode -> (H, W) uint8 grey; transparency shows white paper."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    if image.mode in ("I", "I;16", "I;16B", "F"):  # 16-bit or float scans: rescale to 8 bits
        pixels = np.asarray(image, dtype=np.float64)
        top = pixels.max() or 1.0
        return np.round(pixels / top * 255).astype(np.uint8)
    return np.asarray(image.convert("L"), dtype=np.uint8)


def border_means(images: np.ndarray) -> np.ndarray:
    """Mean of each image's outermost pixels, (N, H, W) -> (N,)."""
    edges = [images[:, 0, :], images[:, -1, :], images[:, :, 0], images[:, :, -1]]
    return np.concatenate(edges, axis=1).mean(axis=1)


def is_dark_on_light(samples: list[np.ndarray]) -> bool:
    """Whether pictures show dark ink on light paper: most of their borders are light."""
    if not samples:
        return False
    means = np.array([border_means(s[None]).item() for s in samples])
    return bool(np.median(means) > 127)


def fit(pixels: np.ndarray, how: str) -> np.ndarray:
    """A grey picture (ink bright on black) of any size -> (28, 28) uint8."""
    if pixels.shape == (SIDE, SIDE):
        return pixels
    if how == "mnist":
        return fit_mnist(pixels)
    image = Image.fromarray(pixels)
    if how == "pad":
        side = max(image.size)
        square = Image.new("L", (side, side), 0)
        square.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
        image = square
    elif how != "stretch":
        raise LatentmapError(f"unknown --fit '{how}': use {', '.join(FITS)}")
    return np.asarray(image.resize((SIDE, SIDE), Image.Resampling.LANCZOS), dtype=np.uint8)


def to_mnist_style(pictures: np.ndarray | list[np.ndarray], invert: bool, how: str) -> np.ndarray:
    """A batch of grey pictures (an (n, 28, 28) array is converted in one vectorised step) ->
    (n, 28, 28) uint8, white ink on black."""
    if isinstance(pictures, np.ndarray) and pictures.ndim == 3 and pictures.shape[1:] == (SIDE, SIDE):
        batch = pictures.astype(np.uint8, copy=False)
        return 255 - batch if invert else batch
    fitted = [fit(255 - p if invert else p, how) for p in pictures]
    return np.stack(fitted) if fitted else np.zeros((0, SIDE, SIDE), np.uint8)


def as_grey_batch(array: np.ndarray) -> np.ndarray:
    """A stack of pictures (N, H, W), (N, H*W) square, (N, H, W, 1|3|4) or (N, 1, H, W) ->
    (N, H, W) uint8 grey (floats in [0, 1] are scaled to 0..255)."""
    array = np.asarray(array)
    if array.ndim == 2:
        side = round(float(np.sqrt(array.shape[1])))
        if side * side != array.shape[1]:
            raise LatentmapError(f"rows of {array.shape[1]} values are not square images")
        array = array.reshape(len(array), side, side)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    elif array.ndim == 4 and array.shape[-1] in (1, 3, 4):
        array = array[..., 0] if array.shape[-1] == 1 else array[..., :3].mean(axis=-1)
    if array.ndim != 3:
        raise LatentmapError(f"expected a stack of images (N, H, W) or (N, H*W), got shape {array.shape}")
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating) and array.size and float(array.max()) <= 1.0:
        array = array * 255
    return np.clip(np.round(array), 0, 255).astype(np.uint8)
