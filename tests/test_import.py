"""`latentmap data import`: every source format, written here from the MNIST copies, comes back
pixel for pixel with its labels and split; unreadable files are listed, not fatal."""

import gzip
import io
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentmap import load_dataset
from latentmap.cli import main
from latentmap.data.imports import ImportOptions, import_dataset
from latentmap.errors import LatentmapError

PER_CLASS = 6


@pytest.fixture(scope="module")
def mnist_slice(datasets_dir, tmp_path_factory):
    """A few train and test digits of each class."""
    digits = load_dataset("digits", data_dir=datasets_dir, cache_dir=tmp_path_factory.mktemp("cache"))
    rows = [np.nonzero((digits.labels == c) & (digits.is_test == t))[0][:PER_CLASS] for t in (0, 1) for c in range(10)]
    return digits.subset(np.concatenate(rows))


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A writable data root of the test's own (imports are written into it)."""
    monkeypatch.setenv("LATENTMAP_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENTMAP_CACHE", str(tmp_path / "cache"))
    return tmp_path


def sorted_rows(images, labels):
    """Rows in a canonical order (by label, then bytes), to compare sets of images."""
    keys = [(int(lab), img.tobytes()) for img, lab in zip(images, labels, strict=True)]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return images[order], labels[order]


def assert_same(imported, expected_images, expected_labels, expected_test):
    """Pixels, labels and the split round-trip exactly (order aside)."""
    names = imported.label_names
    labels = np.array([int(names[i]) for i in imported.labels])
    for test in (False, True):
        got = sorted_rows(imported.images[imported.is_test == test], labels[imported.is_test == test])
        want = sorted_rows(expected_images[expected_test == test], expected_labels[expected_test == test])
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def write_png_folder(folder: Path, data) -> None:
    for i, (image, label, test) in enumerate(zip(data.images, data.labels, data.is_test, strict=True)):
        path = folder / ("test" if test else "train") / str(label) / f"{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path)


def test_png_folder_with_class_and_split_folders(root, mnist_slice):
    write_png_folder(root / "pngs", mnist_slice)
    (root / "pngs" / "train" / "3" / "broken.png").write_bytes(b"not a png")
    result = import_dataset([str(root / "pngs")], "pngs", progress=False)
    assert result.manifest["split_from"] == "source"
    assert [f for f, _ in result.problems] == [str(root / "pngs" / "train" / "3" / "broken.png")]
    data = load_dataset("pngs")
    assert data.label_names == [str(d) for d in range(10)] and data.labelled
    assert_same(data, mnist_slice.images, mnist_slice.labels, mnist_slice.is_test)
    again = import_dataset([str(root / "pngs")], "pngs", progress=False)
    assert again.reused
    with pytest.raises(LatentmapError, match="--overwrite"):
        import_dataset([str(root / "pngs")], "pngs", ImportOptions(test_fraction=0.3), progress=False)


def write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def test_transposed_idx_with_an_emnist_mapping(root, mnist_slice):
    folder = root / "emnist"
    folder.mkdir()
    for split, test in (("train", False), ("test", True)):
        rows = mnist_slice.is_test == test
        write_idx(folder / f"emnist-digits-{split}-images-idx3-ubyte.gz", mnist_slice.images[rows].transpose(0, 2, 1))
        write_idx(folder / f"emnist-digits-{split}-labels-idx1-ubyte.gz", mnist_slice.labels[rows])
    mapping = root / "emnist-digits-mapping.txt"
    mapping.write_text("".join(f"{d} {48 + d}\n" for d in range(10)))
    options = ImportOptions(label_names=str(mapping), read={"transpose": True})
    import_dataset([str(folder)], "emnist", options, progress=False)
    data = load_dataset("emnist")
    assert data.label_names == [chr(48 + d) for d in range(10)]
    assert_same(data, mnist_slice.images, mnist_slice.labels, mnist_slice.is_test)


def test_npy_per_class_like_quickdraw(root, mnist_slice):
    folder = root / "quickdraw"
    folder.mkdir()
    for digit in range(10):
        np.save(
            folder / f"full_numpy_bitmap_{digit}.npy", mnist_slice.images[mnist_slice.labels == digit].reshape(-1, 784)
        )
    result = import_dataset([str(folder)], "doodles", ImportOptions(test_fraction=0.25), progress=False)
    assert result.manifest["split_from"] == "seeded fraction"
    data = load_dataset("doodles")
    assert 0 < data.is_test.sum() < len(data)
    assert_same(data, mnist_slice.images, mnist_slice.labels, data_split_for(data, mnist_slice))


def data_split_for(data, reference):
    """The imported split mapped back onto the reference rows (images are unique here)."""
    test_images = {img.tobytes() for img in data.images[data.is_test]}
    return np.array([img.tobytes() in test_images for img in reference.images])


def test_npz_plain_and_kmnist_pairs(root, mnist_slice):
    np.savez(root / "digits.npz", images=mnist_slice.images, labels=mnist_slice.labels)
    import_dataset([str(root / "digits.npz")], "npz", progress=False)
    data = load_dataset("npz")
    assert_same(data, mnist_slice.images, mnist_slice.labels, data_split_for(data, mnist_slice))

    kmnist = root / "kmnist"
    kmnist.mkdir()
    for split, test in (("train", False), ("test", True)):
        rows = mnist_slice.is_test == test
        np.savez(kmnist / f"kmnist-{split}-imgs.npz", mnist_slice.images[rows])
        np.savez(kmnist / f"kmnist-{split}-labels.npz", mnist_slice.labels[rows])
    import_dataset([str(kmnist)], "kmnist", progress=False)
    assert_same(load_dataset("kmnist"), mnist_slice.images, mnist_slice.labels, mnist_slice.is_test)


def test_parquet_with_png_bytes_as_hugging_face_exports_it(root, mnist_slice):
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = [f"digit {d}" for d in range(10)]
    metadata = {"huggingface": json.dumps({"info": {"features": {"label": {"_type": "ClassLabel", "names": names}}}})}
    for split, test in (("train", False), ("test", True)):
        rows = mnist_slice.is_test == test
        cells = []
        for image in mnist_slice.images[rows]:
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format="PNG")
            cells.append({"bytes": buffer.getvalue(), "path": None})
        table = pa.table({"image": cells, "label": mnist_slice.labels[rows]}).replace_schema_metadata(metadata)
        pq.write_table(table, root / f"{split}-00000-of-00001.parquet")
    sources = [str(root / f"{s}-00000-of-00001.parquet") for s in ("train", "test")]
    import_dataset(sources, "hf", progress=False)
    data = load_dataset("hf")
    assert data.label_names == names
    relabelled = data.subset(np.arange(len(data)))
    relabelled.label_names = [n.split()[1] for n in names]
    assert_same(relabelled, mnist_slice.images, mnist_slice.labels, mnist_slice.is_test)


def test_dark_on_light_scans_of_another_size_are_inverted_and_fitted(root, mnist_slice):
    folder = root / "scans" / "7"
    folder.mkdir(parents=True)
    sevens = mnist_slice.images[mnist_slice.labels == 7]
    for i, image in enumerate(sevens):  # black ink on white paper, 64x48, in colour
        big = Image.fromarray(255 - image).resize((48, 64)).convert("RGB")
        big.save(folder / f"{i}.jpg", quality=95)
    result = import_dataset([str(root / "scans")], "scans", progress=False)
    assert result.manifest["inverted"] == [str(root / "scans")]
    assert result.manifest["resized"] == len(sevens)
    data = load_dataset("scans")
    assert data.images.shape == (len(sevens), 28, 28)
    ink = data.images.astype(float)
    assert ink[:, :2].max() < 40 and ink[:, -2:].max() < 40  # white on black, a margin like MNIST's
    cy = (ink.sum(2) @ np.arange(28) / ink.sum((1, 2))).mean()
    assert abs(cy - 13.5) < 1.0  # centre of mass at the centre
    kept = import_dataset([str(root / "scans")], "kept", ImportOptions(invert="no", fit="stretch"), progress=False)
    assert kept.manifest["inverted"] == [] and load_dataset("kept").images[:, 0].mean() > 200


def test_flat_folder_with_a_labels_csv_and_without_labels(root, mnist_slice):
    flat = root / "flat"
    flat.mkdir()
    rows = ["file,label"]
    for i, (image, label) in enumerate(zip(mnist_slice.images[:30], mnist_slice.labels[:30], strict=True)):
        Image.fromarray(image).save(flat / f"{i:03}.png")
        rows.append(f"{i:03}.png,{label}")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    import_dataset([str(flat)], "flat", ImportOptions(read={"labels": str(root / "labels.csv")}), progress=False)
    data = load_dataset("flat")
    assert data.labelled and sorted(data.label_names) == sorted({str(v) for v in mnist_slice.labels[:30]})
    import_dataset([str(flat)], "unlabelled", progress=False)
    bare = load_dataset("unlabelled")
    assert not bare.labelled and len(bare) == 30 and bare.manifest["labelled"] is False


def test_command_line_import_info_and_one_line_errors(root, mnist_slice, capsys):
    write_png_folder(root / "pngs", mnist_slice)
    assert main(["data", "import", str(root / "pngs"), "--name", "cli"]) == 0
    assert "120 images (60 train, 60 test; split from source), 10 classes" in capsys.readouterr().out
    assert main(["data", "info", "cli"]) == 0
    info = capsys.readouterr().out
    assert "imported  ['folder']" in info and "sha256" in info
    assert main(["data", "import", str(root / "missing"), "--name", "x"]) == 2
    assert main(["data", "import", str(root / "pngs"), "--name", "digits"]) == 2
    assert main(["data", "import", str(root / "pngs"), "--name", "../evil"]) == 2
    (root / "bad.npz").write_bytes(b"garbage")
    assert main(["data", "import", str(root / "bad.npz"), "--name", "bad"]) == 2
    err = capsys.readouterr().err
    assert err.count("latentmap: error:") == 4 and "Traceback" not in err
    assert main(["data", "info", "nosuch"]) == 2
    assert "latentmap data import" in capsys.readouterr().err
    assert not list((root / "data").rglob("bad.*"))


def test_a_new_format_is_one_reader_registered(root, mnist_slice, capsys):
    """A format written here, registered, is detected, has its flag in --help and imports,
    with no other edit."""
    from latentmap.data.imports import READERS, Reader, ReaderOption
    from latentmap.data.imports.readers import Chunk, register_reader

    @register_reader
    class PixelRows(Reader):
        """Text files of 'label,p1,...,p784' rows."""

        format = "pixelrows"
        suffixes = (".pixelrows",)
        options = (ReaderOption("label_first", "the label is the first value of a row", switch=True),)

        def __init__(self, path, options) -> None:
            super().__init__(path, [path])
            self.rows = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
            self.first = bool(options.get("label_first"))

        def count(self) -> int:
            return len(self.rows)

        def chunks(self, problems):
            labels, pixels = (
                (self.rows[:, 0], self.rows[:, 1:]) if self.first else (self.rows[:, -1], self.rows[:, :-1])
            )
            yield Chunk(pixels.reshape(-1, 28, 28).astype(np.uint8), labels)

    try:
        rows = np.column_stack([mnist_slice.labels, mnist_slice.images.reshape(len(mnist_slice), 784)])
        np.savetxt(root / "digits.pixelrows", rows, fmt="%d", delimiter=",")
        with pytest.raises(SystemExit):
            main(["data", "import", "--help"])
        shown = capsys.readouterr().out
        assert "--label_first" in shown and "pixelrows" in shown
        assert main(["data", "import", str(root / "digits.pixelrows"), "--name", "rows", "--label_first"]) == 0
        imported = load_dataset("rows")
        assert_same(imported, mnist_slice.images, mnist_slice.labels, imported.is_test)
        assert main(["data", "import", str(root / "digits.pixelrows"), "--name", "r2", "--transpose"]) == 2
        assert "--transpose is an option of idx sources, not of pixelrows" in capsys.readouterr().err
    finally:
        READERS.pop("pixelrows")
