"""Sources of arrays: IDX files, ``.npz`` archives and ``.npy`` files, streamed in chunks.

Their headers are the user's and are checked before anything is allocated: a shape of
pictures (N x H*W, N x H x W, N x 1 x H x W or N x H x W x C) with sides of 1 to
``MAX_SIDE``, a numeric dtype, and no more bytes than the file (or the compressed archive
member) can hold. Archive members are decompressed as they are read, never whole.
"""

import contextlib
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from ...errors import DataError
from ..idx import DEFLATE_RATIO, MAX_SIDE, idx_chunks, idx_header, read_idx
from .pixels import as_grey_batch
from .readers import (
    IDX_NAME,
    IMAGE_KEYS,
    LABEL_KEYS,
    QUICKDRAW_PREFIX,
    Chunk,
    Reader,
    ReaderOption,
    ReadOptions,
    files_of,
    register_reader,
    rows_per_chunk,
    split_of_name,
)

PIXEL_KINDS = "buif"  # bool, unsigned, signed, float
LABEL_KINDS = "buifU"  # ... and text
READ_ERRORS = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error)

# --------------------------------------------------------------------------- IDX


@register_reader
class IdxReader(Reader):
    """The MNIST format, ``.gz`` or plain (EMNIST, KMNIST): images paired with the labels
    file of the same name, the split read from the name (train / t10k, test)."""

    format = "idx"
    rank = 40
    options = (ReaderOption("transpose", "transpose every image (EMNIST stores them transposed)", switch=True),)

    @classmethod
    def is_file_of(cls, path: Path) -> bool:
        return IDX_NAME.search(path.name) is not None

    @classmethod
    def open(cls, paths: list[Path], options: ReadOptions) -> list[Reader]:
        return idx_readers(files_of(paths, cls), options)

    def __init__(self, images: Path, labels: Path | None, options: ReadOptions) -> None:
        super().__init__(images, [images, *([labels] if labels else [])])
        self.labels_path = labels
        self.transpose = bool(options.get("transpose"))
        self.split = split_of_name(images.name)
        header = idx_header(images, ndim=3)
        self.shape, self.itemsize = header.shape, header.dtype.itemsize

    def count(self) -> int:
        return self.shape[0]

    def chunks(self, problems: list[tuple[str, str]]) -> Iterator[Chunk]:
        labels = read_idx(self.labels_path, ndim=1).astype(np.int64) if self.labels_path else None
        if labels is not None and len(labels) != self.count():
            raise DataError(f"{self.path} has {self.count()} images but {self.labels_path} {len(labels)} labels")
        start = 0
        rows = rows_per_chunk(int(np.prod(self.shape[1:])) * self.itemsize)
        for images in idx_chunks(self.path, rows, ndim=3):
            if self.transpose:  # EMNIST stores every image transposed
                images = images.transpose(0, 2, 1)
            part = slice(start, start + len(images))
            yield Chunk(as_grey_batch(images), None if labels is None else labels[part], self.split)
            start += len(images)


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


def npy_header(handle: IO[bytes], source: str) -> tuple[tuple[int, ...], np.dtype[Any], int]:
    """Shape, dtype and header length of the .npy stream at ``handle`` (left at its data)."""
    try:
        version = np.lib.format.read_magic(handle)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(handle)
        offset = handle.tell()
    except (*READ_ERRORS, SyntaxError) as exc:
        raise DataError(f"{source} is not a NumPy .npy array: {exc}") from exc
    if fortran:
        raise DataError(f"{source}: only C-ordered arrays can be imported")
    return tuple(int(d) for d in shape), dtype, offset


def check_array(
    shape: tuple[int, ...], dtype: np.dtype[Any], room: int, exact: bool, source: str, pictures: bool
) -> None:
    """Refuse what a header claims that cannot be (or should not be) read: see the module docs."""
    kinds = PIXEL_KINDS if pictures else LABEL_KINDS
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in kinds:
        what = "pictures" if pictures else "labels"
        raise DataError(f"{source} holds {what} of dtype {dtype}: only numbers{'' if pictures else ' or text'} import")
    if any(d < 0 for d in shape):
        raise DataError(f"{source} has a negative size in its shape {shape}")
    if pictures:
        if len(shape) not in (2, 3, 4):
            raise DataError(f"{source} holds an array of shape {shape}: expected N x 784 or N x 28 x 28")
        sides = picture_sides(shape)
        if min(sides) < 1 or max(sides) > MAX_SIDE:
            raise DataError(f"{source} holds pictures of {' x '.join(map(str, sides))}: sides of 1 to {MAX_SIDE}")
    elif len(shape) != 1:
        raise DataError(f"{source} holds labels of shape {shape}: expected one label per picture")
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes > room or (exact and nbytes != room):
        raise DataError(
            f"{source} is truncated or its header is forged: it claims shape {shape} ({nbytes:,} bytes), "
            f"{'not' if exact else 'more than'} the {room:,} it can hold"
        )


def picture_sides(shape: tuple[int, ...]) -> tuple[int, ...]:
    if len(shape) == 2:
        side = round(float(np.sqrt(shape[1])))
        return (side, side) if side * side == shape[1] else (shape[1], 1)
    if len(shape) == 4:
        return shape[2:] if shape[1] == 1 else shape[1:3]
    return shape[1:]


def array_chunks(handle: IO[bytes], shape: tuple[int, ...], dtype: np.dtype[Any], source: str) -> Iterator[np.ndarray]:
    """The array's rows from a stream at its data, a chunk at a time (``rows_per_chunk``)."""
    per_row = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
    rows = rows_per_chunk(per_row)
    for start in range(0, shape[0], rows):
        n = min(rows, shape[0] - start)
        try:
            data = handle.read(n * per_row)
        except READ_ERRORS as exc:
            raise DataError(f"{source} is corrupt: {exc}") from exc
        if len(data) != n * per_row:
            raise DataError(f"{source} is truncated: {start + len(data) // max(per_row, 1)} of {shape[0]} rows")
        yield np.frombuffer(data, dtype).reshape(n, *shape[1:])


@register_reader
class NpyReader(Reader):
    """One class per file, the stem its name (QuickDraw's ``full_numpy_bitmap_cat.npy`` ->
    ``cat``), N x 784 or N x 28 x 28, read in chunks straight from the file (no memory map:
    the pages of a mapped million-image file would count against the import's memory)."""

    format = "npy"
    suffixes = (".npy",)
    rank = 10

    def __init__(self, path: Path, options: ReadOptions | None = None) -> None:
        super().__init__(path, [path])
        self.label = path.stem.removeprefix(QUICKDRAW_PREFIX)
        with open_file(path) as handle:
            self.shape, self.dtype, offset = npy_header(handle, str(path))
        check_array(self.shape, self.dtype, path.stat().st_size - offset, True, str(path), pictures=True)

    def count(self) -> int:
        return self.shape[0]

    def chunks(self, problems: list[tuple[str, str]]) -> Iterator[Chunk]:
        with open_file(self.path) as handle:
            npy_header(handle, str(self.path))
            for rows in array_chunks(handle, self.shape, self.dtype, str(self.path)):
                yield Chunk(as_grey_batch(rows), self.label)


def open_file(path: Path) -> IO[bytes]:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from exc


def pick_key(keys: list[str], asked: str | None, candidates: tuple[str, ...], path: Path) -> str | None:
    if asked is not None:
        if asked not in keys:
            raise DataError(f"{path} has no array '{asked}' (it has {', '.join(keys)})")
        return asked
    return next((k for k in candidates if k in keys), None)


class Archive:
    """The .npy members of an .npz file, each checked and streamed from the zip."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with zipfile.ZipFile(path) as archive:
                self.members = {i.filename.removesuffix(".npy"): i for i in archive.infolist() if is_npy(i)}
        except READ_ERRORS as exc:
            raise DataError(f"{path} is not a readable .npz archive: {exc}") from exc
        if not self.members:
            raise DataError(f"{path} holds no .npy arrays")

    @property
    def keys(self) -> list[str]:
        return list(self.members)

    def header(self, key: str, pictures: bool) -> tuple[tuple[int, ...], np.dtype[Any]]:
        with self.open(key) as handle:
            shape, dtype, offset = npy_header(handle, self.name(key))
        info = self.members[key]
        compressed = info.compress_type != zipfile.ZIP_STORED
        room = info.compress_size * DEFLATE_RATIO if compressed else info.file_size - offset
        check_array(shape, dtype, room, not compressed, self.name(key), pictures)
        return shape, dtype

    def chunks(self, key: str) -> Iterator[np.ndarray]:
        shape, dtype = self.header(key, pictures=True)
        with self.open(key) as handle:
            npy_header(handle, self.name(key))
            yield from array_chunks(handle, shape, dtype, self.name(key))

    def labels(self, key: str) -> np.ndarray:
        shape, dtype = self.header(key, pictures=False)
        with self.open(key) as handle:
            npy_header(handle, self.name(key))
            return np.concatenate([*array_chunks(handle, shape, dtype, self.name(key)), np.zeros(0, dtype)])

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[IO[bytes]]:
        try:
            archive = zipfile.ZipFile(self.path)
            member = archive.open(self.members[key])
        except READ_ERRORS as exc:
            raise DataError(f"cannot read {self.name(key)}: {exc}") from exc
        with archive, member:
            yield member

    def name(self, key: str) -> str:
        return f"array '{key}' of {self.path}"


def is_npy(info: zipfile.ZipInfo) -> bool:
    return info.filename.endswith(".npy") and not info.is_dir()


@register_reader
class NpzReader(Reader):
    """Image and label arrays (``--images_key`` / ``--labels_key``, else the obvious names:
    images, x, arr_0, ...; Keras' x_train / x_test; KMNIST's imgs and labels files)."""

    format = "npz"
    suffixes = (".npz",)
    rank = 30
    options = (
        ReaderOption("images_key", "npz: the array of images"),
        ReaderOption("labels_key", "npz: the array of labels"),
    )

    @classmethod
    def open(cls, paths: list[Path], options: ReadOptions) -> list[Reader]:
        return npz_readers(files_of(paths, cls), options)

    def __init__(self, path: Path, labels_file: Path | None, options: ReadOptions) -> None:
        super().__init__(path, [path, *([labels_file] if labels_file else [])])
        self.archive = Archive(path)
        self.labels_archive = Archive(labels_file) if labels_file else None
        keys = self.archive.keys
        self.parts: list[tuple[str, str | None, str | None]] = []  # images key, labels key, split
        images_key, labels_key = options.get("images_key"), options.get("labels_key")
        if images_key is None and {"x_train", "x_test"} & set(keys):  # Keras' mnist.npz layout
            for split in ("train", "test"):
                if f"x_{split}" in keys:
                    self.parts.append((f"x_{split}", f"y_{split}" if f"y_{split}" in keys else None, split))
        else:
            images = pick_key(keys, images_key, IMAGE_KEYS, path)
            if images is None:
                raise DataError(f"{path}: which array holds the images? use --images_key (arrays: {', '.join(keys)})")
            labels = None if labels_file else pick_key(keys, labels_key, LABEL_KEYS, path)
            self.parts.append((images, labels if labels != images else None, split_of_name(path.name)))
        self.sizes = [self.archive.header(images, pictures=True)[0][0] for images, _, _ in self.parts]

    def count(self) -> int:
        return sum(self.sizes)

    def chunks(self, problems: list[tuple[str, str]]) -> Iterator[Chunk]:
        for (images_key, labels_key, split), size in zip(self.parts, self.sizes, strict=True):
            if self.labels_archive is not None:
                labels: np.ndarray | None = self.labels_archive.labels(self.labels_archive.keys[0])
            else:
                labels = None if labels_key is None else self.archive.labels(labels_key)
            if labels is not None and len(labels) != size:
                raise DataError(f"{self.path}: {size} images but {len(labels)} labels")
            start = 0
            for rows in self.archive.chunks(images_key):
                part = slice(start, start + len(rows))
                yield Chunk(as_grey_batch(rows), None if labels is None else labels[part], split)
                start += len(rows)


def npz_readers(files: list[Path], options: ReadOptions) -> list[Reader]:
    """KMNIST ships images and labels as two .npz files (``kmnist-train-imgs.npz``,
    ``kmnist-train-labels.npz``): a labels file is paired with its images file when that is
    among the sources; alone it is read like any archive."""
    names = {f.name: f for f in files}
    labels_files: dict[str, Path] = {}
    for file in files:
        if "labels" in file.name.lower():
            for word in ("imgs", "images"):
                partner = file.name.replace("labels", word)
                if partner in names:
                    labels_files[partner] = file
    paired = set(labels_files.values())
    return [NpzReader(f, labels_files.get(f.name), options) for f in files if f not in paired]
