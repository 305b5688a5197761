"""`latentmap data import` of files nobody here wrote: every hostile or broken source gets one
line and exit 2 with nothing written; headers cannot ask for more memory than the file
holds; names from the user's files are stored and printed safely."""

import gzip
import io
import json
import os
import re
import struct
import zipfile

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from latentmap.cli import main
from latentmap.data.imports import ImportOptions, import_dataset


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTMAP_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENTMAP_CACHE", str(tmp_path / "cache"))
    return tmp_path


def idx(shape, data: bytes = b"") -> bytes:
    return struct.pack(">BBBB", 0, 0, 8, len(shape)) + struct.pack(f">{len(shape)}I", *shape) + data


def npz(path, compressed=False, **arrays):
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


def png_bytes(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def parquet(path, table):
    pq.write_table(table, path)
    return path


def cases(root):
    """(what it is, sources and flags) for each hostile or broken source."""
    digits = np.random.default_rng(0).integers(0, 256, (6, 28, 28), dtype=np.uint8)
    r = root
    (r / "corrupt.npz").write_bytes(b"PK\x03\x04 not really a zip")
    good = npz(r / "good.npz", images=digits, labels=np.arange(6))
    (r / "truncated.npz").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    np.save(r / "array.npy", digits)
    (r / "renamed.npz").write_bytes((r / "array.npy").read_bytes())
    with zipfile.ZipFile(r / "nosuffix.npz", "w") as archive:
        archive.writestr("images", (r / "array.npy").read_bytes())
    (r / "kmnist").mkdir()
    npz(r / "kmnist" / "k-train-imgs.npz", arr_0=digits)
    with zipfile.ZipFile(r / "kmnist" / "k-train-labels.npz", "w"):
        pass
    (r / "zero").mkdir()
    np.save(r / "zero" / "cat.npy", np.zeros((3, 0), np.uint8))
    table = pa.table({"image": [{"bytes": "not bytes", "path": "a.png"}], "label": [1]})
    with open(r / "mapping.txt", "w") as handle:
        handle.write("0 99999999\n")
    (r / "dup").mkdir()
    npz(r / "dup" / "a.npz", images=digits, labels=np.arange(6) % 2)
    (r / "dup-names.txt").write_text("same\nsame\n")
    forged = bytearray(idx((10**9, 28, 28), bytes(784)))
    return {
        "corrupt npz": [r / "corrupt.npz"],
        "truncated npz": [r / "truncated.npz"],
        "npy renamed npz": [r / "renamed.npz"],
        "member without .npy": [r / "nosuffix.npz"],
        "0-d array": [npz(r / "scalar.npz", images=np.array(5))],
        "datetime pixels": [npz(r / "dates.npz", images=np.zeros((2, 28, 28), "datetime64[s]"))],
        "string pixels": [npz(r / "text.npz", images=np.full((2, 28, 28), "x"))],
        "structured pixels": [npz(r / "struct.npz", images=np.zeros((2, 784), [("a", "u1"), ("b", "f4")]))],
        "object labels": [npz(r / "objlab.npz", images=digits, labels=np.zeros((6, 2, 2)))],
        "empty kmnist labels": [r / "kmnist"],
        "idx 5x0x0": [write(r / "z-images-idx3-ubyte", idx((5, 0, 0)))],
        "npy 3x0": [r / "zero"],
        "idx count 10^9": [write(r / "big-images-idx3-ubyte", bytes(forged))],
        "idx count 2^32-1": [write(r / "max-images-idx3-ubyte", idx((2**32 - 1, 28, 28), bytes(784)))],
        "npy shape (10^13, 784)": [npy_with_shape(r / "huge.npy", "(10000000000000, 784)")],
        "npy shape (-5, 784)": [npy_with_shape(r / "negative.npy", "(-5, 784)")],
        "gz idx bomb": [gz_bomb(r / "bomb-images-idx3-ubyte.gz")],
        "npz member bomb": [npz(r / "bomb.npz", True, images=np.zeros((1, 8000, 8000), np.uint8))],
        "parquet bytes as a string": [parquet(r / "str.parquet", table)],
        "parquet image column of ints": [parquet(r / "ints.parquet", pa.table({"n": [1, 2]})), "--image_column", "n"],
        "parquet list labels": [
            parquet(r / "lists.parquet", pa.table({"image": [png_bytes(digits[0])], "label": [[1, 2]]}))
        ],
        "parquet footer says 1 row of 600": [forged_parquet(r / "footer.parquet", digits)],
        "emnist mapping 0 99999999": [good, "--label_names", r / "mapping.txt"],
        "missing --label_names": [good, "--label_names", r / "nosuch.txt"],
        "--label_names /dev/zero": [good, "--label_names", "/dev/zero"],
        "--seed=-1": [good, "--seed=-1"],
        "duplicate class names": [r / "dup", "--label_names", r / "dup-names.txt"],
        "a device as source": ["/dev/zero", "--format", "npy"],
    }


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def npy_with_shape(path, shape: str):
    header = f"{{'descr': '|u1', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * (118 - len(header)) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + bytes(784))
    return path


def gz_bomb(path):
    """1 x 20000 x 20000 zeros: 390 KB compressed, 400 MB when read."""
    with gzip.open(path, "wb") as handle:
        handle.write(idx((1, 20000, 20000)))
        block = bytes(20000 * 100)
        for _ in range(200):
            handle.write(block)
    return path


def forged_parquet(path, digits):
    """600 rows whose file footer claims 1 (the row group still says 600)."""
    table = pa.table({"image": [png_bytes(digits[i % 6]) for i in range(600)], "label": [i % 6 for i in range(600)]})
    pq.write_table(table, path)
    data = path.read_bytes()
    length = int.from_bytes(data[-8:-4], "little")
    footer = data[-8 - length : -8]
    forged = footer.replace(b"\x16\xb0\x09", b"\x16\x02", 1)  # num_rows 600 -> 1 (compact thrift, zigzag)
    assert forged != footer
    path.write_bytes(data[: -8 - length] + forged + len(forged).to_bytes(4, "little") + b"PAR1")
    return path


def test_each_hostile_source_gets_one_line_and_writes_nothing(root, capsys):
    failures = []
    for what, args in cases(root).items():
        code = main(["data", "import", *map(str, args), "--name", "x"])
        err = capsys.readouterr().err
        said = [line for line in re.split(r"[\r\n]", err) if line.strip() and "import:" not in line]  # not the bar
        one_line = len(said) == 1 and said[0].startswith("latentmap: error:") and "Traceback" not in err
        if code != 2 or not one_line:
            failures.append(f"{what}: exit {code}, {err!r}")
    assert not failures, "\n".join(failures)
    assert not list((root / "data").rglob("x.*")) and not list((root / "cache").rglob("x.*"))


def test_a_name_must_match_whole(root, capsys):
    digits = npz(root / "d.npz", images=np.zeros((3, 28, 28), np.uint8))
    assert main(["data", "import", str(digits), "--name", "nl\n"]) == 2
    assert "cannot name a dataset" in capsys.readouterr().err


def test_huge_pictures_are_refused_and_large_ones_shrunk_as_decoded(root):
    folder = root / "scans" / "a"
    folder.mkdir(parents=True)
    Image.new("L", (9000, 9000), 255).save(folder / "bomb.png")  # 81 million pixels in a small file
    big = np.full((3000, 2000), 255, np.uint8)
    big[1000:2000, 800:1200] = 0  # a dark bar on paper
    Image.fromarray(big).save(folder / "big.png")
    Image.fromarray(big[:28, :28]).save(folder / "small.png")
    result = import_dataset([str(root / "scans")], "scans", progress=False)
    assert result.manifest["counts"]["train"]["a"] + result.manifest["counts"]["test"]["a"] == 2
    [(file, reason)] = result.problems
    assert file.endswith("bomb.png") and "DecompressionBomb" in reason


def test_names_from_the_users_files_are_safe_to_store_and_print(root):
    folder = root / "classes"
    names = [b"caf\xe9", b"red\x1b[31m", b"\xe2\x80\xaeevil", b"plain"]
    for i, raw in enumerate(names):
        path = folder.as_posix().encode() + b"/" + raw
        os.makedirs(path)
        Image.fromarray(np.full((28, 28), 40 * i, np.uint8)).save(path.decode("utf-8", "surrogateescape") + "/1.png")
    result = import_dataset([str(folder)], "names", ImportOptions(test_fraction=0.5), progress=False)
    stored = result.manifest["label_names"]
    assert stored == ["caf\ufffd", "plain", "red\\x1b[31m", "\\u202eevil"]
    json.dumps(result.manifest, ensure_ascii=False).encode("utf-8")  # no lone surrogates left


def test_nan_labels_are_missing_and_counts_agree(root):
    labels = np.array([0, 1, np.nan, 1, np.nan, 0], np.float64)
    images = np.random.default_rng(1).integers(0, 256, (6, 28, 28), dtype=np.uint8)
    result = import_dataset([str(npz(root / "nan.npz", images=images, labels=labels))], "nan", progress=False)
    counts = result.manifest["counts"]
    assert result.manifest["label_names"] == ["0", "1"]
    assert sum(counts["train"].values()) + sum(counts["test"].values()) == 4
    assert any("no label" in why for _, why in result.problems)


def test_a_lone_labels_archive_is_an_ordinary_archive(root):
    images = np.random.default_rng(2).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    path = npz(root / "my-labels.npz", images=images, labels=np.arange(4))
    result = import_dataset([str(path)], "lone", progress=False)
    assert result.manifest["label_names"] == ["0", "1", "2", "3"]


def test_renaming_a_class_folder_is_another_dataset(root, capsys):
    for label in ("cat", "dog"):
        (root / "pets" / label).mkdir(parents=True)
        Image.fromarray(np.full((28, 28), 9, np.uint8)).save(root / "pets" / label / f"{label}.png")
    assert main(["data", "import", str(root / "pets"), "--name", "pets"]) == 0
    assert main(["data", "import", str(root / "pets"), "--name", "pets"]) == 0
    assert "reused" in capsys.readouterr().out
    for extra in range(6):  # data info summarises what it imported from more than five files
        Image.fromarray(np.full((28, 28), extra, np.uint8)).save(root / "pets" / "cat" / f"{extra}.png")
    assert main(["data", "import", str(root / "pets"), "--name", "more"]) == 0
    assert main(["data", "info", "more"]) == 0
    assert "... 3 more files (8 in all" in capsys.readouterr().out
    assert main(["data", "info", "more", "--sources"]) == 0
    assert capsys.readouterr().out.count("sha256") == 8
    (root / "pets" / "dog").rename(root / "pets" / "wolf")
    assert main(["data", "import", str(root / "pets"), "--name", "pets"]) == 2
    assert "other sources" in capsys.readouterr().err
