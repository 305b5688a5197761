import json

import numpy as np
import pytest

from latentmap import load_dataset
from latentmap.data import FontSet, read_font_set, write_font_set
from latentmap.errors import FontSetError

CHOSEN = ["Abel-Regular", "Lobster-Regular", "OpenSans-Bold"]


def write(path, payload):
    path.write_text(json.dumps(payload))
    return path


def test_font_set_selects_typefaces_and_characters(data_env, tmp_path):
    spec = write(
        tmp_path / "font_set.json",
        {
            "charset": ["A", "b", "3", "?"],
            "clusters": [{"font_names": CHOSEN[:2]}, {"font_names": CHOSEN[2:]}],
            "algorithm": "kmeans",
        },
    )
    data = load_dataset(str(spec))
    assert data.label_names == ["A", "b", "3", "?"]
    assert len(data) == 12 and data.class_counts().tolist() == [3, 3, 3, 3]
    assert sorted(set(data.typefaces.tolist())) == sorted(CHOSEN)
    full = load_dataset("alphanumeric")
    for image, label, face in zip(data.images, data.labels, data.typefaces, strict=True):
        row = np.nonzero((full.typefaces == face) & (full.labels == full.label_names.index(data.label_names[label])))[0]
        np.testing.assert_array_equal(full.images[row[0]], image)


def test_digit_only_font_set_uses_numeric(data_env, tmp_path):
    spec = write(tmp_path / "digits.json", {"charset": ["0", "7"], "clusters": [{"font_names": CHOSEN}]})
    data = load_dataset(str(spec), split="all")
    assert len(data) == 6 and data.cache_path is not None and data.cache_path.name == "numeric.npz"


def test_round_trip_keeps_extra_keys(tmp_path):
    font_set = FontSet(charset=["A", "~"], clusters=[["x", "y"], ["z"]], extra={"algorithm": "dbscan", "eps": 0.5})
    write_font_set(tmp_path / "fs.json", font_set)
    again = read_font_set(tmp_path / "fs.json")
    assert again == font_set and again.font_names == ["x", "y", "z"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "expected a JSON object"),
        ({"clusters": [{"font_names": ["a"]}]}, "'charset' must be"),
        ({"charset": ["A"], "clusters": []}, "'clusters' must be"),
        ({"charset": ["A", "é", "AB"], "clusters": [{"font_names": ["a"]}]}, "outside the 94.*'é', 'AB'"),
        ({"charset": ["A", "A"], "clusters": [{"font_names": ["a"]}]}, "twice"),
        ({"charset": ["A"], "clusters": [{"fonts": ["a"]}]}, r"clusters\[0\]"),
        ({"charset": ["A"], "clusters": [{"font_names": []}]}, "no typefaces"),
    ],
)
def test_malformed_font_sets(tmp_path, payload, message):
    with pytest.raises(FontSetError, match=message):
        read_font_set(write(tmp_path / "fs.json", payload))


def test_not_json(tmp_path):
    path = tmp_path / "fs.json"
    path.write_text("{charset: ")
    with pytest.raises(FontSetError, match="not valid JSON"):
        read_font_set(path)


def test_unknown_typefaces_are_named(data_env, tmp_path):
    spec = write(
        tmp_path / "fs.json",
        {"charset": ["A"], "clusters": [{"font_names": ["Abel-Regular", "NoSuch-Font", "Nope-Bold"]}]},
    )
    with pytest.raises(FontSetError, match=r"2 typeface.*'NoSuch-Font', 'Nope-Bold'"):
        load_dataset(str(spec))


def test_missing_font_set_file(data_env, tmp_path):
    with pytest.raises(FontSetError, match="cannot read"):
        load_dataset(str(tmp_path / "absent.json"))
