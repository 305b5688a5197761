"""Sources of arrays: IDX files, ``.npz`` archives and ``.npy`` files, read in chunks."""

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import DataError
from ..idx import read_idx
from .pixels import as_grey_batch
from .readers import (
    CHUNK,
    IDX_NAME,
    IMAGE_KEYS,
    LABEL_KEYS,
    QUICKDRAW_PREFIX,
    Chunk,
    Reader,
    ReadOptions,
    split_of_name,
)

# --------------------------------------------------------------------------- IDX


def idx_count(path: Path) -> int:
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == b"\x1f\x8b"
        with (gzip.open if compressed else open)(path, "rb") as handle:
            header = handle.read(8)
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    if len(header) < 8 or header[:2] != b"\0\0":
        raise DataError(f"{path} is not an IDX file (bad magic number)")
    return int.from_bytes(header[4:8], "big")


class IdxReader(Reader):
    format = "idx"

    def __init__(self, images: Path, labels: Path | None, options: ReadOptions) -> None:
        super().__init__(images, [images, *([labels] if labels else [])])
        self.labels_path = labels
        self.transpose = options.transpose
        self.split = split_of_name(images.name)

    def count(self) -> int:
        return idx_count(self.path)

    def chunks(self, problems: list[tuple[str, str]]) -> Iterator[Chunk]:
        images = read_idx(self.path, ndim=3)
        labels = read_idx(self.labels_path, ndim=1).astype(np.int64) if self.labels_path else None
        if labels is not None and len(labels) != len(images):
            raise DataError(f"{self.path} has {len(images)} images but {self.labels_path} {len(labels)} labels")
        if self.transpose:  # EMNIST stores every image transposed
            images = images.transpose(0, 2, 1)
        for start in range(0, len(images), CHUNK):
            part = slice(start, start + CHUNK)
            yield Chunk(as_grey_batch(images[part]), None if labels is None else labels[part], self.split)


def idx_readers(files: list[Path], options: ReadOptions) -> list[Reader]:
    """Pair each images file with the labels file of the same name."""
    kinds = {f: IDX_NAME.search(f.name) for f in files}
    labels = {IDX_NAME.sub("", f.name): f for f, m in kinds.items() if m and m.group(1).lower() == "labels"}
    readers: list[Reader] = []
    for file, match in kinds.items():
        if match is None or match.group(1).lower() == "images":
            readers.append(IdxReader(file, labels.get(IDX_NAME.sub("", file.name)), options))
    if not readers:
        raise DataError(f"no IDX images file among {', '.join(f.name for f in files)} (names like *-images-idx3-ubyte)")
    return readers


# --------------------------------------------------------------------------- NumPy


def npy_header(handle: Any, path: Path) -> tuple[tuple[int, ...], np.dtype[Any]]:
    try:
        version = np.lib.format.read_magic(handle)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(handle)
    except (ValueError, EOFError) as exc:
        raise DataError(f"{path} is not a NumPy .npy file: {exc}") from exc
    if fortran or dtype.hasobject:
        raise DataError(f"{path}: only C-ordered numeric arrays can be imported")
    return shape, dtype


class NpyReader(Reader):
    """One class per file, read in chunks straight from the file (no memory map: the pages
    of a mapped million-image file would count against the import's memory)."""

    format = "npy"

    def __init__(self, path: Path) -> None:
        super().__init__(path, [path])
        self.label = path.stem.removeprefix(QUICKDRAW_PREFIX)
        with open(path, "rb") as handle:
            self.shape, self.dtype = npy_header(handle, path)
        if len(self.shape) not in (2, 3, 4):
            raise DataError(f"{path} holds an array of shape {self.shape}: expected N x 784 or N x 28 x 28")

    def count(self) -> int:
        return int(self.shape[0])

    def chunks(self, problems: list[tuple[str, str]]) -> Iterator[Chunk]:
        per_row = int(np.prod(self.shape[1:]))
        with open(self.path, "rb") as handle:
            npy_header(handle, self.path)
            for start in range(0, self.count(), CHUNK):
                n = min(CHUNK, self.count() - start)
                flat = np.fromfile(handle, dtype=self.dtype, count=n * per_row)
                if flat.size != n * per_row:
                    raise DataError(f"{self.path} is truncated: {start + flat.size // per_row} of {self.count()} rows")
                yield Chunk(as_grey_batch(flat.reshape(n, *self.shape[1:])), self.label)


def pick_key(keys: list[str], asked: str | None, candidates: tuple[str, ...], what: str, path: Path) -> str | None:
    if asked is not None:
        if asked not in keys:
            raise DataError(f"{path} has no array '{asked}' (it has {', '.join(keys)})")
        return asked
    return next((k for k in candidates if k in keys), None)


class NpzReader(Reader):
    format = "npz"

    def __init__(self, path: Path, labels_file: Path | None, options: ReadOptions) -> None:
        super().__init__(path, [path, *([labels_file] if labels_file else [])])
        self.labels_file = labels_file
        self.options = options
        keys = self.keys(path)
        self.parts: list[tuple[str, str | None, str | None]] = []  # images key, labels key, split
        if options.images_key is None and {"x_train", "x_test"} & set(keys):  # Keras' mnist.npz layout
            for split in ("train", "test"):
                if f"x_{split}" in keys:
                    self.parts.append((f"x_{split}", f"y_{split}" if f"y_{split}" in keys else None, split))
        else:
            images = pick_key(keys, options.images_key, IMAGE_KEYS, "images", path)
            if images is None:
                raise DataError(f"{path}: which array holds the images? use --images_key (arrays: {', '.join(keys)})")
            labels = None if labels_file else pick_key(keys, options.labels_key, LABEL_KEYS, "labels", path)
            self.parts.append((images, labels if labels != images else None, split_of_name(path.name)))

    @staticmethod
    def keys(path: Path) -> list[str]:
        try:
            with np.load(path, allow_pickle=False) as npz:
                return list(npz.files)
        except (OSError, ValueError, EOFError) as exc:
            raise DataError(f"{path} is not a readable .npz file: {exc}") from exc

    def load(self, path: Path, key: str) -> np.ndarray:
        try:
            with np.load(path, allow_pickle=False) as npz:
                return np.asarray(npz[key])
        except (OSError, ValueError, EOFError, KeyError) as exc:
            raise DataError(f"cannot read array '{key}' of {path}: {exc}") from exc

    def count(self) -> int:
        total = 0
        for images_key, _, _ in self.parts:
            with np.load(self.path, allow_pickle=False) as npz:
                header = npz.zip.open(f"{images_key}.npy")
                total += int(npy_header(header, self.path)[0][0])
        return total

    def chunks(self, problems: list[tuple[str, str]]) -> Iterator[Chunk]:
        for images_key, labels_key, split in self.parts:
            images = self.load(self.path, images_key)
            if self.labels_file is not None:
                labels: np.ndarray | None = self.load(self.labels_file, self.keys(self.labels_file)[0])
            else:
                labels = None if labels_key is None else self.load(self.path, labels_key)
            if labels is not None and (labels.ndim != 1 or len(labels) != len(images)):
                raise DataError(f"{self.path}: {len(images)} images but labels of shape {labels.shape}")
            for start in range(0, len(images), CHUNK):
                part = slice(start, start + CHUNK)
                yield Chunk(as_grey_batch(images[part]), None if labels is None else labels[part], split)


def npz_readers(files: list[Path], options: ReadOptions) -> list[Reader]:
    """KMNIST ships images and labels as two .npz files (``kmnist-train-imgs.npz``,
    ``kmnist-train-labels.npz``): a labels-only file is paired with its images file."""
    labels_files = {f.name.replace("labels", "imgs"): f for f in files if "labels" in f.name.lower()}
    labels_files.update({name.replace("imgs", "images"): f for name, f in list(labels_files.items())})
    readers: list[Reader] = []
    for file in files:
        if file in labels_files.values():
            continue
        readers.append(NpzReader(file, labels_files.get(file.name), options))
    return readers
