"""The map's points as the browser reads them: one binary blob of typed arrays (positions,
labels, typefaces, categories, dataset rows) and PNG atlases of 4,096 thumbnails each; and
the range check every index or row from a request passes.
"""

import io

import numpy as np

from ..errors import RequestError

ATLAS_COLUMNS = 64  # 64 x 64 thumbnails of 28 px: 1792 px square atlases
ATLAS_SIZE = ATLAS_COLUMNS * ATLAS_COLUMNS


def points_blob(
    xy: np.ndarray, labels: np.ndarray, typeface_ids: np.ndarray, category_ids: np.ndarray, rows: np.ndarray
) -> bytes:
    """xy float32 (N*2), labels uint16, typeface ids int32, category ids int16, dataset
    rows int32, little-endian, at the offsets of :func:`points_layout`."""
    parts = [
        xy.astype("<f4").tobytes(),
        labels.astype("<u2").tobytes(),
        typeface_ids.astype("<i4").tobytes(),
        category_ids.astype("<i2").tobytes(),
        rows.astype("<i4").tobytes(),
    ]
    layout = points_layout(len(labels))
    blob = bytearray(layout["bytes"])
    for part, key in zip(parts, ("xy", "labels", "typefaces", "categories", "rows"), strict=True):
        blob[layout[key] : layout[key] + len(part)] = part
    return bytes(blob)


def atlas_png(images: np.ndarray, k: int) -> bytes:
    """Thumbnails ``k*4096 .. k*4096+4095`` as a 64-column grayscale PNG (white ink)."""
    from PIL import Image

    count = -(-len(images) // ATLAS_SIZE)
    if not 0 <= k < count:
        raise RequestError(f"atlas {k} does not exist (0..{count - 1})")
    thumbs = images[k * ATLAS_SIZE : (k + 1) * ATLAS_SIZE]
    rows = -(-len(thumbs) // ATLAS_COLUMNS)
    padded = np.zeros((rows * ATLAS_COLUMNS, 28, 28), np.uint8)
    padded[: len(thumbs)] = thumbs
    sheet = padded.reshape(rows, ATLAS_COLUMNS, 28, 28).transpose(0, 2, 1, 3).reshape(rows * 28, ATLAS_COLUMNS * 28)
    out = io.BytesIO()
    Image.fromarray(sheet).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def checked(values: list[int], n: int, name: str, what: str, limit: int | None) -> np.ndarray:
    """``values`` as an int64 array after checking each lies in 0..n-1 (at most ``limit``)."""
    if limit is not None and len(values) > limit:
        raise RequestError(f"at most {limit} {what} allowed, got {len(values)}")
    # Checked as Python integers: numpy would overflow on values beyond int64.
    bad = [v for v in values if not 0 <= v < n]
    if bad:
        raise RequestError(f"{name} {bad[0]} is out of range (0..{n - 1})")
    return np.asarray(values, dtype=np.int64)


def points_layout(n: int) -> dict[str, int]:
    """Byte offsets of the arrays in :meth:`LatentSpace.points_blob` (each 4-byte aligned)."""

    def aligned(x: int) -> int:
        return -(-x // 4) * 4

    xy = 0
    labels = aligned(xy + 8 * n)
    typefaces = aligned(labels + 2 * n)
    categories = aligned(typefaces + 4 * n)
    rows = aligned(categories + 2 * n)
    return {
        "xy": xy,
        "labels": labels,
        "typefaces": typefaces,
        "categories": categories,
        "rows": rows,
        "bytes": aligned(rows + 4 * n),
    }
