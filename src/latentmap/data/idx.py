"""Reader for the IDX format of MNIST and Fashion-MNIST (plain or gzip-compressed).

Layout: big-endian magic ``0x00 0x00 <type> <ndim>``, ``ndim`` big-endian int32 sizes,
then the raw array. MNIST uses type 0x08 (uint8): magic 2049 for labels (1-D) and 2051
for images (3-D).
"""

import gzip
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import numpy as np

from ..errors import DataError

_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The file's content, decompressed when it is gzip (detected by its magic bytes)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from exc
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path} is a corrupt or truncated gzip file ({exc}); delete it and fetch it again") from exc


def parse_idx(data: bytes, source: str = "<bytes>", ndim: int | None = None) -> np.ndarray:
    """Parse an IDX byte string into an array, validating header and length."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{source} is not an IDX file (bad magic number)")
    type_code, dims = data[2], data[3]
    if type_code not in _DTYPES:
        raise DataError(f"{source} has unknown IDX data type 0x{type_code:02x}")
    if ndim is not None and dims != ndim:
        raise DataError(f"{source} has {dims} dimensions, expected {ndim}")
    header = 4 + 4 * dims
    if len(data) < header:
        raise DataError(f"{source} is truncated inside its header")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=dims, offset=4))
    dtype = _DTYPES[type_code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(f"{source} is {what}: {len(data)} bytes, expected {expected} for shape {shape}")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


# Bounds on what an IDX header may claim, checked before anything is allocated: a side of at
# most MAX_SIDE pixels, and no more bytes than the file can hold (deflate packs at most about
# 1032 bytes into one, so a 389 KB .gz cannot hold 1 x 20000 x 20000 pixels).
MAX_SIDE = 4096
DEFLATE_RATIO = 1032


@dataclass
class IdxHeader:
    shape: tuple[int, ...]
    dtype: np.dtype[Any]

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as raw:
        return raw.read(2) == b"\x1f\x8b"


def open_idx(path: str | os.PathLike[str], ndim: int | None = None) -> tuple[IdxHeader, BinaryIO]:
    """An IDX file's checked header and a stream positioned at its data (decompressed as it is
    read when the file is gzip). The caller closes the stream."""
    path = Path(path)
    try:
        if not path.exists():
            raise DataError(f"cannot read {path}: no such file")
        if not path.is_file():
            raise DataError(f"{path} is not a regular file")
        stored, compressed = path.stat().st_size, is_gzip(path)
        handle = cast(BinaryIO, gzip.open(path, "rb") if compressed else open(path, "rb"))  # noqa: SIM115
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        head = read_exactly(handle, 4, path)
        if head[0] != 0 or head[1] != 0:
            raise DataError(f"{path} is not an IDX file (bad magic number)")
        if head[2] not in _DTYPES:
            raise DataError(f"{path} has unknown IDX data type 0x{head[2]:02x}")
        if ndim is not None and head[3] != ndim:
            raise DataError(f"{path} has {head[3]} dimensions, expected {ndim}")
        shape = tuple(int(s) for s in np.frombuffer(read_exactly(handle, 4 * head[3], path), dtype=">u4"))
        header = IdxHeader(shape, _DTYPES[head[2]])
        if len(shape) > 1 and (min(shape[1:]) < 1 or max(shape[1:]) > MAX_SIDE):
            raise DataError(f"{path} claims pictures of {' x '.join(map(str, shape[1:]))}: sides of 1 to {MAX_SIDE}")
        room = (stored * DEFLATE_RATIO) if compressed else stored - 4 - 4 * len(shape)
        if header.nbytes > room or (not compressed and header.nbytes != room):
            raise DataError(
                f"{path} is truncated or its header is forged: it claims shape {shape}"
                f" ({header.nbytes:,} bytes), which a file of {stored:,} bytes cannot hold"
            )
        return header, handle
    except (DataError, OSError, EOFError, zlib.error) as exc:
        handle.close()
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{path} is a corrupt or truncated gzip file ({exc})") from exc


def read_exactly(handle: BinaryIO, count: int, path: Path) -> bytes:
    try:
        data = handle.read(count)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path} is a corrupt or truncated gzip file ({exc})") from exc
    if len(data) != count:
        raise DataError(f"{path} is truncated: {len(data)} of {count} bytes where more were expected")
    return data


def idx_chunks(path: str | os.PathLike[str], rows: int, ndim: int | None = None) -> Iterator[np.ndarray]:
    """An IDX file's array, ``rows`` items at a time, never all of it in memory at once."""
    header, handle = open_idx(path, ndim)
    with handle:
        per_row = int(np.prod(header.shape[1:], dtype=np.int64)) * header.dtype.itemsize
        for start in range(0, header.shape[0] if header.shape else 0, rows):
            n = min(rows, header.shape[0] - start)
            data = read_exactly(handle, n * per_row, Path(path))
            yield np.frombuffer(data, header.dtype).reshape(n, *header.shape[1:]).astype(header.dtype.newbyteorder("="))
        if read_trailing(handle, Path(path)):
            raise DataError(f"{path} is longer than its header says")


def read_trailing(handle: BinaryIO, path: Path) -> bool:
    try:
        return bool(handle.read(1))
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path} is a corrupt or truncated gzip file ({exc})") from exc


def idx_header(path: str | os.PathLike[str], ndim: int | None = None) -> IdxHeader:
    header, handle = open_idx(path, ndim)
    handle.close()
    return header


def read_idx(path: str | os.PathLike[str], ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (``.gz`` or plain), streamed and checked against its header; ``ndim``
    checks the number of dimensions."""
    header = idx_header(path, ndim)
    parts = list(idx_chunks(path, max(1, header.shape[0] if header.shape else 1), ndim))
    return np.concatenate(parts) if parts else np.zeros(header.shape, header.dtype.newbyteorder("="))
