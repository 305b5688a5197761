"""Readers of the sources ``latentmap data import`` takes, each streaming pictures in chunks.

- ``folder``: image files (PNG/JPEG/BMP/TIFF/GIF/WebP); class sub-folders give the labels
  (torchvision's ImageFolder layout), ``train/`` and ``test/`` folders the split; a flat
  folder takes its labels from ``--labels labels.csv`` (file name, label).
- ``idx``: the MNIST format, ``.gz`` or plain (EMNIST, KMNIST); images paired with the
  labels file of the same name, the split read from the name (train / t10k, test).
- ``npz``: image and label arrays (``--images_key`` / ``--labels_key``, else the obvious
  names: images, x, arr_0, ...; Keras' x_train / x_test; KMNIST's imgs and labels files).
- ``npy``: one class per file, the stem its name (QuickDraw's ``full_numpy_bitmap_cat.npy``
  -> ``cat``), N x 784 or N x 28 x 28; read in chunks, never all at once.
- ``parquet``: as Hugging Face datasets export it (an image column of ``{bytes, path}``
  structs, a label column, class names from the schema's metadata), read in batches.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import DataError

FORMATS = ("auto", "folder", "idx", "npz", "npy", "parquet")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp"}
CHUNK = 16_384  # pictures per chunk of an array source (of 28x28 bytes; fewer when larger)
CHUNK_BYTES = CHUNK * 784


def rows_per_chunk(row_bytes: int) -> int:
    """Rows of an array source read at once: CHUNK of MNIST's size, a few of a large picture."""
    return max(1, min(CHUNK, CHUNK_BYTES // max(row_bytes, 1)))


FILE_CHUNK = 512  # image files per chunk
IDX_NAME = re.compile(r"(images|labels)[-_.]idx(\d)[-_.]ubyte", re.IGNORECASE)
QUICKDRAW_PREFIX = "full_numpy_bitmap_"
IMAGE_KEYS = ("images", "image", "imgs", "x", "X", "data", "arr_0")
LABEL_KEYS = ("labels", "label", "y", "Y", "targets", "target", "arr_1")


@dataclass
class ReadOptions:
    labels_csv: str | None = None
    transpose: bool = False
    images_key: str | None = None
    labels_key: str | None = None
    image_column: str | None = None
    label_column: str | None = None


@dataclass
class Chunk:
    """Grey uint8 pictures, with their labels (per picture, one for all, or None) and split
    (``"train"``/``"test"`` for all, per-picture test flags, or None: not given)."""

    pictures: np.ndarray | list[np.ndarray]
    labels: np.ndarray | str | None = None
    split: str | np.ndarray | None = None


@dataclass
class Reader:
    """One source: the files it reads (hashed for the manifest) and its pictures in chunks."""

    path: Path
    files: list[Path] = field(default_factory=list)
    label_names: list[str] | None = None  # class names the source itself carries (parquet metadata)

    format = ""

    def count(self) -> int:
        """An upper bound of the pictures (unreadable ones fall out)."""
        raise NotImplementedError

    def chunks(self, problems: list[tuple[str, str]]) -> Iterator[Chunk]:
        raise NotImplementedError


def regular_file(path: Path, what: str) -> Path:
    """``path`` if it is a regular file (not a device like /dev/zero, a pipe or a folder)."""
    if not path.is_file():
        raise DataError(f"cannot read {what} {path}: {'not a regular file' if path.exists() else 'no such file'}")
    return path


def split_of_name(name: str) -> str | None:
    lowered = name.lower()
    if "t10k" in lowered or re.search(r"(^|[^a-z])test", lowered):
        return "test"
    if re.search(r"(^|[^a-z])train", lowered):
        return "train"
    return None
