import gzip

import numpy as np
import pytest

from latentmap.data.idx import parse_idx, read_idx
from latentmap.errors import DataError


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def test_reads_shared_mnist_files(datasets_dir):
    labels = read_idx(datasets_dir / "mnist" / "train-labels-idx1-ubyte.gz", ndim=1)
    images = read_idx(datasets_dir / "mnist" / "train-images-idx3-ubyte.gz", ndim=3)
    test_labels = read_idx(datasets_dir / "mnist" / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels[0] == 5 and test_labels[0] == 7
    assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_round_trip_plain_and_gzip(tmp_path):
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(array))
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(array)))
    for name in ("a", "a.gz"):
        np.testing.assert_array_equal(read_idx(tmp_path / name), array)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[:-1], "truncated"),
        (lambda b: b + b"\0", "longer than its header"),
        (lambda b: b"\x01" + b[1:], "bad magic"),
        (lambda b: b[:2] + b"\x42" + b[3:], "unknown IDX data type"),
        (lambda b: b[:6], "truncated inside its header"),
    ],
)
def test_bad_idx_bytes(mutate, message):
    data = idx_bytes(np.zeros((2, 3, 3)))
    with pytest.raises(DataError, match=message):
        parse_idx(mutate(data))


def test_wrong_number_of_dimensions():
    with pytest.raises(DataError, match="3 dimensions, expected 1"):
        parse_idx(idx_bytes(np.zeros((2, 3, 3))), ndim=1)


def test_corrupt_gzip(tmp_path):
    data = gzip.compress(idx_bytes(np.zeros((50, 28, 28))))
    path = tmp_path / "x.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "nope.gz")
