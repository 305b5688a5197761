import copy
import csv
import io
import shutil
import zipfile

import numpy as np
import pytest

from latentmap import load_dataset
from latentmap.data import render, tmnist
from latentmap.errors import DataError

DIGITS_AND_MORE = '0123456789AZaz-=_,"$'


@pytest.fixture(scope="module")
def rendered(small_fonts_dir):
    return tmnist.rebuild(small_fonts_dir, DIGITS_AND_MORE, workers=2, progress=False)


def test_rebuild_shapes_names_and_metadata(rendered, small_fonts_dir):
    files = sorted(small_fonts_dir.glob("*.woff2"))
    assert rendered.images.dtype == np.uint8 and rendered.images.shape[1:] == (28, 28)
    assert len(rendered.images) == len(rendered.labels) == len(rendered.typeface_ids)
    assert rendered.fonts["name"].tolist() == [p.stem for p in files]
    abel = rendered.fonts["name"].tolist().index("Abel-Regular")
    assert rendered.fonts["family"][abel] == "Abel"
    assert rendered.fonts["category"][abel] == "sans-serif"
    assert set(rendered.fonts["category"]) <= {"sans-serif", "serif", "display", "handwriting", "monospace"}


def test_glyphs_follow_the_mnist_recipe(rendered):
    images = rendered.images.astype(np.float64)
    for image in images:
        rows, cols = np.nonzero(image)
        assert rows.max() - rows.min() + 1 <= 20 and cols.max() - cols.min() + 1 <= 20
        assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 >= 16  # longer side ~20 px
        total = image.sum()
        cy = image.sum(axis=1) @ np.arange(28) / total
        cx = image.sum(axis=0) @ np.arange(28) / total
        assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1


def test_blank_glyphs_are_skipped(rendered):
    names = rendered.fonts["name"].tolist()
    italiana = names.index("Italiana-Regular")
    drawn = {DIGITS_AND_MORE[i] for i in rendered.labels[rendered.typeface_ids == italiana]}
    assert {"-", "=", "_"}.isdisjoint(drawn)
    assert set("0123456789AZaz") <= drawn
    # every other font draws every character of this set, except BIZ UDGothic's blank '_'
    counts = np.bincount(rendered.typeface_ids, minlength=len(names))
    expected = [len(DIGITS_AND_MORE) - {"Italiana-Regular": 3, "BIZUDGothic-Regular": 1}.get(n, 0) for n in names]
    assert counts.tolist() == expected


def test_rebuild_is_deterministic_across_worker_counts(rendered, small_fonts_dir):
    serial = tmnist.rebuild(small_fonts_dir, DIGITS_AND_MORE, workers=1, progress=False)
    np.testing.assert_array_equal(serial.images, rendered.images)
    np.testing.assert_array_equal(serial.labels, rendered.labels)


def test_unreadable_font_file(tmp_path):
    (tmp_path / "Broken-Regular.ttf").write_bytes(b"this is not a font")
    with pytest.raises(DataError, match=r"cannot read font file .*Broken-Regular\.ttf"):
        tmnist.rebuild(tmp_path, "A", workers=1, progress=False)


def test_font_files_are_found_recursively_with_every_suffix(tmp_path, small_fonts_dir):
    source = small_fonts_dir / "Abel-Regular.woff2"
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "Abel-Regular.woff2").write_bytes(source.read_bytes())
    (tmp_path / "notes.txt").write_text("not a font")
    assert [p.name for p in render.find_font_files(tmp_path)] == ["Abel-Regular.woff2"]


# --------------------------------------------------------------------------- published CSVs


def csv_text(arrays: tmnist.TmnistArrays, charset: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(tmnist.CSV_HEADER)
    names = arrays.fonts["name"][arrays.typeface_ids]
    for name, label, image in zip(names, arrays.labels, arrays.images, strict=True):
        writer.writerow([name, charset[label], *image.ravel().tolist()])
    return out.getvalue()


@pytest.mark.parametrize("zipped", [False, True])
def test_csv_round_trip(rendered, tmp_path, zipped):
    text = csv_text(rendered, DIGITS_AND_MORE)  # includes ',' and '"' labels, which CSV quotes
    path = tmp_path / "94_character_TMNIST.csv"
    if zipped:
        path = path.with_name(path.name + ".zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("94_character_TMNIST.csv", text)
    else:
        path.write_text(text)
    parsed = tmnist.read_csv(path, DIGITS_AND_MORE, block_mb=1)  # small blocks: several batches
    np.testing.assert_array_equal(parsed.images, rendered.images)
    np.testing.assert_array_equal(parsed.labels, rendered.labels)
    np.testing.assert_array_equal(
        parsed.fonts["name"][parsed.typeface_ids], rendered.fonts["name"][rendered.typeface_ids]
    )


def small_csv(tmp_path, header=None, rows=None):
    header = header or tmnist.CSV_HEADER
    rows = rows or [["Abel-Regular", "7", *["0"] * 784]]
    path = tmp_path / "TMNIST_Data.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    return path


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (tmnist.CSV_HEADER[:-1], None, r"missing: \['784'\]"),
        ([*tmnist.CSV_HEADER, "785"], None, r"unexpected: \['785'\]"),
        (None, [["Abel-Regular", "7", "x", *["0"] * 783]], "malformed"),
        (None, [["Abel-Regular", "7", "300", *["0"] * 783]], "malformed"),
        (None, [["Abel-Regular", "7", *["0"] * 700]], "malformed"),
        (None, [["Abel-Regular", "Q", *["0"] * 784]], "labels outside"),
    ],
)
def test_malformed_csv(tmp_path, header, rows, message):
    with pytest.raises(DataError, match=message):
        tmnist.read_csv(small_csv(tmp_path, header, rows), tmnist.NUMERIC)


def test_empty_and_broken_zip(tmp_path):
    with pytest.raises(DataError, match="no rows"):
        tmnist.read_csv(small_csv(tmp_path, rows=[[]]), tmnist.NUMERIC)
    broken = tmp_path / "TMNIST_Data.csv.zip"
    broken.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match="not a readable zip"):
        tmnist.read_csv(broken, tmnist.NUMERIC)


def test_published_csv_wins_over_fonts(rendered, small_fonts_dir, tmp_path):
    digits = np.isin(rendered.labels, np.arange(10))
    subset = tmnist.TmnistArrays(
        rendered.images[digits], rendered.labels[digits], rendered.typeface_ids[digits], rendered.fonts
    )
    (tmp_path / "tmnist").mkdir()
    (tmp_path / "tmnist" / "TMNIST_Data.csv").write_text(csv_text(subset, DIGITS_AND_MORE))
    data = load_dataset("numeric", data_dir=tmp_path, fonts_dir=small_fonts_dir, cache_dir=tmp_path / "c")
    assert data.source.startswith("published CSV")
    assert len(data) == digits.sum()
    assert data.fonts["category"].tolist() == [""] * len(data.fonts["name"])


def test_numeric_from_fonts(data_env, small_fonts_dir):
    data = load_dataset("numeric")
    n_fonts = len(list(small_fonts_dir.glob("*.woff2")))
    assert data.source.startswith("rendered from fonts")
    assert data.label_names == list("0123456789")
    assert data.class_counts().tolist() == [n_fonts] * 10
    assert sorted(set(data.typefaces.tolist())) == sorted(p.stem for p in small_fonts_dir.glob("*.woff2"))


@pytest.fixture(scope="module")
def fonts_with_pictures(tmp_path_factory, small_fonts_dir, fonts_dir):
    """The small corpus plus two picture fonts (a barcode, scribbles) and one font whose
    character map is symbol-encoded (a real font given a (3, 0) cmap subtable)."""
    from fontTools.ttLib import TTFont

    folder = tmp_path_factory.mktemp("pictures")
    for path in small_fonts_dir.iterdir():
        shutil.copy(path, folder / path.name)
    for name in ("LibreBarcode128-Regular", "RedactedScript-Regular"):
        shutil.copy(fonts_dir / f"{name}.woff2", folder / f"{name}.woff2")
    font = TTFont(small_fonts_dir / "Abel-Regular.woff2")
    symbol = copy.deepcopy(next(t for t in font["cmap"].tables if t.platformID == 3))
    symbol.platEncID = 0
    font["cmap"].tables.append(symbol)
    font.flavor = None
    font.save(folder / "SymbolAbel-Regular.ttf")
    return folder


def test_picture_and_symbol_fonts_are_skipped_and_reported(fonts_with_pictures, tmp_path, capsys):
    from latentmap.cli import main

    result = tmnist.rebuild(fonts_with_pictures, tmnist.ALPHANUMERIC, workers=2, progress=False)
    names = set(result.fonts["name"].tolist())
    assert {"LibreBarcode128-Regular", "RedactedScript-Regular", "SymbolAbel-Regular"}.isdisjoint(names)
    assert {"Abel-Regular", "Roboto-Regular", "Pacifico-Regular", "DancingScript-Regular"} <= names
    assert "symbol-encoded" in result.skipped["SymbolAbel-Regular"]
    assert "do not look like their characters" in result.skipped["LibreBarcode128-Regular"]
    assert "do not look like their characters" in result.skipped["RedactedScript-Regular"]
    assert result.typeface_ids.max() == len(names) - 1 and len(result.images) == len(result.labels)
    args = ["--fonts-dir", str(fonts_with_pictures), "--cache-dir", str(tmp_path), "--data-dir", str(tmp_path)]
    assert main(["data", "prepare", "alphanumeric", *args]) == 0
    assert main(["data", "info", "alphanumeric", *args]) == 0
    out = capsys.readouterr().out
    assert out.count("3 font(s) left out") == 2 and out.count("SymbolAbel-Regular: symbol-encoded") == 2


def test_digits_only_rebuilds_judge_shapes_on_more_characters(fonts_with_pictures):
    """Ten digits are too few to judge shapes: the check renders all 94 characters, so the
    same fonts are left out of numeric as of alphanumeric, and the extra glyphs are not kept."""
    result = tmnist.rebuild(fonts_with_pictures, tmnist.NUMERIC, workers=2, progress=False)
    assert {"LibreBarcode128-Regular", "RedactedScript-Regular"} <= set(result.skipped)
    assert set(np.unique(result.labels).tolist()) <= set(range(10))
    assert {"Abel-Regular", "Oswald-Regular", "Pacifico-Regular"} <= set(result.fonts["name"].tolist())


def font_with_glyph_names(path, mapping):
    """A real TrueType font whose glyphs are boxes, named and mapped as ``mapping`` says
    ({character: glyph name}), as a Symbol-style font maps Phi to F."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    names = [".notdef", *dict.fromkeys(mapping.values())]
    glyphs = {}
    for k, name in enumerate(names):
        pen = TTGlyphPen(None)
        pen.moveTo((100, 0))
        pen.lineTo((100, 500 + 40 * k))
        pen.lineTo((300 + 20 * k, 700))
        pen.lineTo((500, 0))
        pen.closePath()
        glyphs[name] = pen.glyph()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(c): name for c, name in mapping.items()})
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({name: (600, 100) for name in names})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": path.stem.split("-")[0], "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()  # format 2: the glyph names are stored
    builder.save(str(path))
    return path


def test_glyphs_named_as_other_characters_are_dropped_and_reported(small_fonts_dir, tmp_path, capsys):
    from latentmap.cli import main

    folder = tmp_path / "fonts"
    folder.mkdir()
    for name in ("Abel-Regular.woff2", "Roboto-Regular.woff2"):
        shutil.copy(small_fonts_dir / name, folder / name)
    mapping = {"A": "Alpha", "F": "Phi", "P": "Pi", "W": "Omega", "$": "existential", "@": "congruent"}
    mapping |= {"^": "perpendicular", "B": "B", "b": "B", "C": "uni0043", "D": "D.ss01", "-": "minus", "E": "glyph7"}
    font_with_glyph_names(folder / "Symbolic-Regular.ttf", mapping)

    rendered = render.render_font(folder / "Symbolic-Regular.ttf", tmnist.ALPHANUMERIC)
    kept = {tmnist.ALPHANUMERIC[p] for p in rendered.positions}
    assert kept == {"B", "b", "C", "D", "-", "E"}  # unicase, uniXXXX, suffixed, minus, unnamed glyphs stay
    assert sorted(rendered.dropped) == sorted(
        ["A (Alpha)", "F (Phi)", "P (Pi)", "W (Omega)", "$ (existential)", "@ (congruent)", "^ (perpendicular)"]
    )

    result = tmnist.rebuild(folder, tmnist.ALPHANUMERIC, workers=1, progress=False)
    font_id = list(result.fonts["name"]).index("Symbolic-Regular")
    labels = {tmnist.ALPHANUMERIC[k] for k in result.labels[result.typeface_ids == font_id]}
    assert labels == kept and "7 glyph(s) named as other characters" in result.dropped["Symbolic-Regular"]
    assert "Abel-Regular" not in result.dropped and "Roboto-Regular" not in result.dropped
    args = ["--fonts-dir", str(folder), "--cache-dir", str(tmp_path / "cache"), "--data-dir", str(tmp_path)]
    assert main(["data", "prepare", "alphanumeric", *args]) == 0
    assert main(["data", "info", "alphanumeric", *args]) == 0
    out = capsys.readouterr().out
    assert out.count("Symbolic-Regular: 7 glyph(s) named as other characters: $ (existential), @ (congruent), A") == 2
