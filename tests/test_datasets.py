import gzip
import os
import shutil

import numpy as np
import pytest

from latentmap import load_dataset
from latentmap.data import typeface_split as split
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
    is_test = split.typeface_split(fonts).is_test
    assert 0.13 < is_test.mean() < 0.17
    # every weight and style of a family lands on the same side (the stem before '-')
    assert (is_test.reshape(-1, 3) == is_test.reshape(-1, 3)[:, :1]).all()
    # the same name always lands on the same side, whatever else is in the corpus
    reverse = {k: v[::-1] for k, v in fonts.items()}
    np.testing.assert_array_equal(split.typeface_split(reverse).is_test, is_test[::-1])
    # the manifest's family wins over the file name
    listed = {"name": np.array(["A-Regular", "B-Regular"]), "family": np.array(["Same", "Same"])}
    assert len(set(split.typeface_split(listed).is_test.tolist())) == 1


def test_families_whose_names_extend_another_split_together():
    names = ["Roboto-Regular", "RobotoFlex-Regular", "RobotoSlab-Bold", "NotoSans-Regular", "NotoSansArmenian-Bold"]
    names += ["Robotron-Regular", "NotoSerif-Regular", "OpenSans-Regular"]
    listed = ["Roboto", "Roboto Flex", "", "Noto Sans", "Noto Sans Armenian", "Robotron", "Noto Serif", ""]
    fonts = {"name": np.array(names), "family": np.array(listed)}
    grouped = split.typeface_split(fonts)
    group = dict(zip(names, grouped.group.tolist(), strict=True))
    # manifest names and CamelCase file stems alike: a name that extends another joins it
    assert group["RobotoFlex-Regular"] == group["RobotoSlab-Bold"] == group["Roboto-Regular"] == "Roboto"
    assert group["NotoSansArmenian-Bold"] == group["NotoSans-Regular"] == "Noto Sans"
    # a longer word is not an extension, nor is a sibling that shares only a prefix family
    assert group["Robotron-Regular"] == "Robotron" and group["NotoSerif-Regular"] == "Noto Serif"
    assert group["OpenSans-Regular"] == "OpenSans"
    side = dict(zip(names, grouped.is_test.tolist(), strict=True))
    assert side["RobotoFlex-Regular"] == side["RobotoSlab-Bold"] == side["Roboto-Regular"]
    assert grouped.is_test.tolist() == (split.name_hashes(grouped.group) < split.TEST_FRACTION).tolist()


def test_typefaces_that_render_identically_split_together():
    rng = np.random.default_rng(0)
    glyphs = rng.integers(0, 256, (3, 10, 28, 28), dtype=np.uint8)
    glyphs[2] = glyphs[0]  # 'Yrsa' renders 'Rasa' pixel for pixel
    glyphs[1, :9] = glyphs[0, :9]  # one character differs: not the same design
    images, labels = glyphs.reshape(-1, 28, 28), np.tile(np.arange(10), 3)
    typeface_ids = np.repeat(np.arange(3), 10)
    order = rng.permutation(len(images))  # rows in any order
    images, labels, typeface_ids = images[order], labels[order], typeface_ids[order]
    fonts = {"name": np.array(["Rasa-Regular", "Other-Regular", "Yrsa-Regular"]), "family": np.array(["", "", ""])}
    assert split.identical_typefaces(images, labels, typeface_ids, 3) == [[0, 2]]
    grouped = split.typeface_split(fonts, images, labels, typeface_ids)
    assert grouped.group.tolist() == ["Rasa", "Other", "Rasa"]
    assert grouped.is_test[0] == grouped.is_test[2]


@pytest.fixture
def corpus_env(monkeypatch, datasets_dir, fonts_dir, session_cache):
    """The whole font corpus (its relations are what the split is about), read from the cache
    that `make setup` prepared when there is one."""
    monkeypatch.setenv("LATENTMAP_DATA", str(datasets_dir))
    monkeypatch.setenv("LATENTMAP_FONTS", str(fonts_dir))
    monkeypatch.setenv("LATENTMAP_CACHE", os.environ.get("LATENTMAP_CACHE") or str(session_cache))


def test_tmnist_split_keeps_related_families_together(corpus_env):
    data = load_dataset("alphanumeric")
    family = split.families(data.fonts)
    test_fonts = np.unique(data.typeface_ids[data.is_test])
    train_fonts = np.unique(data.typeface_ids[~data.is_test])
    assert not set(family[test_fonts].tolist()) & set(family[train_fonts].tolist())
    open_sans = [i for i, n in enumerate(data.fonts["name"]) if str(n).startswith("OpenSans-")]
    assert len(open_sans) >= 2 and len({bool(data.is_test[data.typeface_ids == i][0]) for i in open_sans}) == 1
    # no test family's name extends a train family's, or the other way round
    test_words = {split.family_words(f) for f in family[test_fonts].tolist()}
    train_words = {split.family_words(f) for f in family[train_fonts].tolist()}
    prefixes = {words[:cut] for words in train_words for cut in range(1, len(words))}
    assert not test_words & prefixes
    assert not {w[:cut] for w in test_words for cut in range(1, len(w))} & train_words
    # no test typeface draws the same pixels as a train typeface
    is_test_font = np.zeros(len(family), bool)
    is_test_font[test_fonts] = True
    for same in split.identical_typefaces(data.images, data.labels, data.typeface_ids, len(family)):
        assert len(set(is_test_font[same].tolist())) == 1, data.fonts["name"][same]
    roboto = [i for i, n in enumerate(data.fonts["name"]) if str(n).startswith("Roboto")]
    assert len(roboto) > 10 and len({bool(is_test_font[i]) for i in roboto}) == 1  # Roboto Flex, Slab, Mono...
    assert data.regrouped[0] > 0  # on this corpus the grouping moved typefaces


def test_data_info_reports_what_the_grouping_moved(corpus_env, capsys):
    from latentmap.cli import main

    data = load_dataset("numeric")
    assert main(["data", "info", "numeric"]) == 0
    moved, families = data.regrouped
    assert f"{moved:,} typefaces of {families:,} families moved" in capsys.readouterr().out


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
