"""Reader for the IDX format of MNIST and Fashion-MNIST (plain or gzip-compressed).

Layout: big-endian magic ``0x00 0x00 <type> <ndim>``, ``ndim`` big-endian int32 sizes,
then the raw array. MNIST uses type 0x08 (uint8): magic 2049 for labels (1-D) and 2051
for images (3-D).
"""

import gzip
import os
import zlib
from pathlib import Path
from typing import Any

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


def read_idx(path: str | os.PathLike[str], ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (``.gz`` or plain); ``ndim`` checks the number of dimensions."""
    return parse_idx(read_bytes(path), source=str(path), ndim=ndim)
