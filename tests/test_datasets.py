import gzip
import os
import shutil

import numpy as np
import pytest

from latentmap import load_dataset
from latentmap.data import datasets
from latentmap.errors import DataError, DatasetSpecError

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_digits(data_env):
    data = load_dataset("digits")
    assert data.images.shape == (70000, 28, 28) and data.images.dtype == np.uint8
    assert data.labels.dtype == np.int64 and data.is_test.sum() == 10000
    train, test = data.split("train"), data.split("test")
    assert train.class_counts().tolist() == MNIST_TRAIN_COUNTS
    assert train.labels[0] == 5 and test.labels[0] == 7
    assert train.images.mean() / 255 == pytest.approx(0.1307, abs=1e-4)
    assert data.label_names == [str(d) for d in range(10)]
    assert (data.typefaces == "").all() and data.typeface_ids is None


def test_fashion(data_env):
    train = load_dataset("fashion", split="train")
    test = load_dataset("fashion", split="test")
    assert train.label_names[0] == "T-shirt/top" and train.label_names[9] == "Ankle boot"
    assert train.class_counts().tolist() == [6000] * 10
    assert test.class_counts().tolist() == [1000] * 10


def test_cache_is_written_once_and_reused(data_env):
    first = load_dataset("digits")
    assert first.cache_path is not None and first.cache_path.parent == data_env
    stamp = first.cache_path.stat().st_mtime_ns
    second = load_dataset("digits")
    assert second.cache_path.stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(first.images, second.images)
    with np.load(first.cache_path, allow_pickle=False) as npz:  # a pickle-free file
        assert {"images", "labels", "is_test", "meta"} <= set(npz.files)


def test_corrupt_cache_is_rebuilt(datasets_dir, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "digits.npz").write_bytes(b"not an npz at all")
    data = load_dataset("digits", data_dir=datasets_dir, cache_dir=cache)
    assert len(data) == 70000
    valid = (cache / "digits.npz").read_bytes()
    (cache / "digits.npz").write_bytes(valid[: len(valid) // 2])  # a truncated zip
    assert len(load_dataset("digits", data_dir=datasets_dir, cache_dir=cache)) == 70000
    with np.load(cache / "digits.npz", allow_pickle=False) as npz:
        assert npz["images"].shape == (70000, 28, 28)


def test_default_cache_lands_in_a_writable_data_root(datasets_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("LATENTMAP_CACHE", raising=False)
    root = tmp_path / "root"
    shutil.copytree(datasets_dir / "fashion-mnist", root / "fashion-mnist")
    data = load_dataset("fashion", data_dir=root)
    assert data.cache_path == root / "cache" / "fashion.npz"


def test_checksum_mismatch_is_reported(datasets_dir, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(datasets_dir / "mnist", root / "mnist")
    labels = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(labels.read_bytes()))
    content[-1] = (content[-1] + 1) % 10  # still a valid IDX file, but not the published one
    os.chmod(labels, 0o644)
    labels.write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(DataError, match="fails its checksum"):
        load_dataset("digits", data_dir=root, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache" / "digits.npz").exists()


def test_recompressed_files_verify_by_content(datasets_dir, tmp_path):
    root = tmp_path / "root"
    (root / "mnist").mkdir(parents=True)
    for path in (datasets_dir / "mnist").glob("*.gz"):
        raw = gzip.decompress(path.read_bytes())
        if "labels" in path.name:  # plain file
            (root / "mnist" / path.stem).write_bytes(raw)
        else:  # different gzip container, same content
            (root / "mnist" / path.name).write_bytes(gzip.compress(raw, compresslevel=1, mtime=0))
    assert len(load_dataset("digits", data_dir=root, cache_dir=tmp_path / "c", split="test")) == 10000


def test_unknown_spec_and_split(data_env):
    with pytest.raises(DatasetSpecError, match="unknown dataset 'mnist'"):
        load_dataset("mnist")
    with pytest.raises(DatasetSpecError, match="unknown split"):
        load_dataset("digits", split="validation")


def test_typeface_split_is_by_family_and_about_15_percent():
    names = np.array([f"Font{i}-{style}" for i in range(2000) for style in ("Regular", "Bold", "Italic")])
    fonts = {"name": names, "family": np.array([""] * len(names))}
    is_test = datasets.typeface_is_test(fonts)
    assert 0.13 < is_test.mean() < 0.17
    # every weight and style of a family lands on the same side (the stem before '-')
    assert (is_test.reshape(-1, 3) == is_test.reshape(-1, 3)[:, :1]).all()
    # the same name always lands on the same side, whatever else is in the corpus
    reverse = {k: v[::-1] for k, v in fonts.items()}
    np.testing.assert_array_equal(datasets.typeface_is_test(reverse), is_test[::-1])
    # the manifest's family wins over the file name
    listed = {"name": np.array(["A-Regular", "B-Regular"]), "family": np.array(["Same", "Same"])}
    assert len(set(datasets.typeface_is_test(listed).tolist())) == 1


def test_tmnist_split_keeps_families_together(data_env):
    data = load_dataset("alphanumeric")
    family = datasets.families(data.fonts)
    test_fonts = np.unique(data.typeface_ids[data.is_test])
    train_fonts = np.unique(data.typeface_ids[~data.is_test])
    assert not set(family[test_fonts].tolist()) & set(family[train_fonts].tolist())
    open_sans = [i for i, n in enumerate(data.fonts["name"]) if str(n).startswith("OpenSans-")]
    assert len(open_sans) == 2 and len({bool(data.is_test[data.typeface_ids == i][0]) for i in open_sans}) == 1


def test_tmnist_never_puts_a_typeface_in_both_splits(data_env):
    data = load_dataset("numeric")
    assert data.typeface_ids is not None
    train_fonts = set(data.typeface_ids[~data.is_test].tolist())
    test_fonts = set(data.typeface_ids[data.is_test].tolist())
    assert not train_fonts & test_fonts
    assert train_fonts | test_fonts == set(range(len(data.fonts["name"])))


def test_missing_tmnist_sources(tmp_path):
    with pytest.raises(DataError, match="no Typography-MNIST source"):
        load_dataset("alphanumeric", data_dir=tmp_path, fonts_dir=tmp_path / "none", cache_dir=tmp_path / "c")
