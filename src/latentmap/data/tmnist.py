"""Typography-MNIST: read the published CSV files, or rebuild them from font files.

Both paths produce a :class:`TmnistArrays`: images, labels (positions in the charset),
and per-typeface metadata. Typeface names are the CSV's ``names`` column, or the font
file's stem when rebuilding.
"""

import csv
import io
import multiprocessing
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..errors import DataError
from ..extras import require
from . import render

# The 94 printable ASCII characters U+0021..U+007E, in code-point order.
ALPHANUMERIC = "".join(chr(c) for c in range(0x21, 0x7F))
NUMERIC = "0123456789"
GOOD = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ~#$%&?"

CSV_FILES = {"numeric": "TMNIST_Data.csv", "alphanumeric": "94_character_TMNIST.csv"}
CSV_HEADER = ["names", "labels", *map(str, range(1, 785))]
FONT_META = ("family", "weight", "style", "category")


# A font whose glyphs look like their characters puts most of them near their own class's
# mean shape; pictograph, barcode and scribble fonts put almost none (measured on the
# Google Fonts corpus: median 0.98, 1st percentile 0.40; barcodes and "redacted" fonts
# 0.05-0.09, ordinary script fonts >= 0.2).
SHAPE_THRESHOLD = 0.15
# With few classes (the 10 digits) nearest-mean ranks say little: condensed fonts' digits are
# far from the mean digit. A smaller charset is rendered with all 94 characters for the check
# (the extra glyphs are dropped after), so numeric leaves out exactly the fonts alphanumeric does.
SHAPE_MIN_CLASSES = 20


@dataclass
class TmnistArrays:
    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) int64, positions in the charset
    typeface_ids: np.ndarray  # (N,) int32 into ``fonts["name"]``
    fonts: dict[str, np.ndarray]  # per typeface: name, family, weight, style, category (str)
    skipped: dict[str, str] = field(default_factory=dict)  # font file stem -> why it was left out
    dropped: dict[str, str] = field(default_factory=dict)  # font file stem -> glyphs left out, and why


def charset_for(spec: str) -> str:
    return NUMERIC if spec == "numeric" else ALPHANUMERIC


# --------------------------------------------------------------------------- CSV files


def find_csv(tmnist_dir: Path, spec: str) -> Path | None:
    name = CSV_FILES[spec]
    for candidate in (tmnist_dir / name, tmnist_dir / f"{name}.zip"):
        if candidate.is_file():
            return candidate
    return None


def _open_csv(path: Path) -> io.BufferedIOBase:
    if path.suffix.lower() != ".zip":
        return open(path, "rb")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{path} is not a readable zip file ({exc}); download it again") from exc
    members = [m for m in archive.namelist() if m.lower().endswith(".csv") and not m.startswith("__MACOSX")]
    if len(members) != 1:
        raise DataError(f"{path} should hold exactly one .csv file, found {len(members)}")
    return archive.open(members[0])  # type: ignore[return-value]


def read_csv(path: str | os.PathLike[str], charset: str, block_mb: int = 16) -> TmnistArrays:
    """Stream a published TMNIST CSV (plain or zipped) in vectorised blocks (pyarrow)."""
    pa = require("pyarrow", "arrow", "reading TMNIST's published CSV files")
    from pyarrow import csv as pacsv

    path = Path(path)
    try:
        with _open_csv(path) as stream:
            header = next(csv.reader([stream.readline().decode("utf-8", "replace")]), [])
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    if header != CSV_HEADER:
        missing = [c for c in CSV_HEADER if c not in header]
        extra = [c for c in header if c not in CSV_HEADER]
        raise DataError(
            f"{path} is not a TMNIST CSV: expected columns names, labels, 1..784"
            f" (missing: {missing[:5] or 'none'}, unexpected: {extra[:5] or 'none'})"
        )
    types = {"names": pa.string(), "labels": pa.string(), **{c: pa.uint8() for c in CSV_HEADER[2:]}}
    label_of = {c: i for i, c in enumerate(charset)}
    images, labels, names = [], [], []
    rows = 0
    try:
        with _open_csv(path) as stream:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(block_size=block_mb << 20),
                convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False),
            )
            for batch in reader:
                pixels = np.column_stack([batch.column(i).to_numpy(zero_copy_only=False) for i in range(2, 786)])
                if any(batch.column(i).null_count for i in range(2, 786)):
                    raise DataError(f"{path} has empty pixel cells near row {rows + 2}")
                chars = batch.column(1).to_numpy(zero_copy_only=False)
                uniques, inverse = np.unique(chars, return_inverse=True)
                unknown = [str(u) for u in uniques if u not in label_of]
                if unknown:
                    raise DataError(f"{path} has labels outside the expected characters: {unknown[:5]}")
                labels.append(np.array([label_of[u] for u in uniques], dtype=np.int64)[inverse])
                images.append(pixels.reshape(-1, 28, 28))
                names.append(batch.column(0).to_numpy(zero_copy_only=False))
                rows += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        first = str(exc).splitlines()[0]
        raise DataError(f"{path} is malformed: {first}") from exc
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"cannot read {path} ({exc}); it may be truncated: download it again") from exc
    if rows == 0:
        raise DataError(f"{path} has a header but no rows")
    font_names, typeface_ids = np.unique(np.concatenate(names).astype(str), return_inverse=True)
    arrays = TmnistArrays(
        images=np.concatenate(images),
        labels=np.concatenate(labels),
        typeface_ids=typeface_ids.astype(np.int32),
        fonts=_font_table(font_names, manifest={}),
    )
    return drop_pictures(arrays, len(charset))


# --------------------------------------------------------------------------- font files


def read_manifest(fonts_dir: Path) -> dict[str, dict[str, str]]:
    """``manifest.csv`` beside the fonts (Google Fonts corpus): typeface -> metadata."""
    path = fonts_dir / "manifest.csv"
    if not path.is_file():
        return {}
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    if rows and "file" not in rows[0]:
        raise DataError(f"{path} has no 'file' column; fix or remove it")
    return {Path(row["file"]).stem: {k: row.get(k) or "" for k in FONT_META} for row in rows if row.get("file")}


def _font_table(names: np.ndarray, manifest: dict[str, dict[str, str]]) -> dict[str, np.ndarray]:
    table = {"name": np.asarray(names, dtype=str)}
    for key in FONT_META:
        table[key] = np.array([manifest.get(n, {}).get(key, "") for n in table["name"]], dtype=str)
    return table


def unique_typefaces(files: list[Path]) -> list[Path]:
    """One file per typeface name (stem): the first in sorted order wins."""
    seen: dict[str, Path] = {}
    for path in files:
        seen.setdefault(path.stem, path)
    return list(seen.values())


@dataclass
class Skipped:
    reason: str


def _render_task(task: tuple[str, str]) -> render.RenderedFont | Skipped | str:
    path, charset = task
    try:
        return render.render_font(path, charset)
    except render.FontSkipped as exc:
        return Skipped(str(exc))
    except DataError as exc:  # sent back as text so the parent can report it cleanly
        return str(exc)


def shape_scores(images: np.ndarray, labels: np.ndarray, typeface_ids: np.ndarray, n_classes: int) -> np.ndarray:
    """Per typeface: the share of its glyphs whose own class is among the ``k`` class mean
    shapes most similar to it (cosine; k = 5 of 94 characters, 1 of 10 digits)."""
    k = max(1, n_classes // 19)
    x = images.reshape(len(images), -1).astype(np.float32)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6)
    means = np.zeros((n_classes, x.shape[1]), np.float32)
    np.add.at(means, labels, x)
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-6)
    similarity = x @ means.T
    own = similarity[np.arange(len(x)), labels]
    near = (similarity > own[:, None]).sum(axis=1) < k
    n_fonts = int(typeface_ids.max()) + 1 if len(typeface_ids) else 0
    counts = np.bincount(typeface_ids, minlength=n_fonts)
    return np.bincount(typeface_ids, weights=near, minlength=n_fonts) / np.maximum(counts, 1)


def _rendered(tasks: list[tuple[str, str]], workers: int) -> Iterator[render.RenderedFont | Skipped | str]:
    if workers <= 1 or len(tasks) < 8:
        yield from map(_render_task, tasks)
        return
    # fork shares the loaded modules; results come back in input order (deterministic).
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with context.Pool(workers) as pool:
        yield from pool.imap(_render_task, tasks, chunksize=4)


def rebuild(
    fonts_dir: str | os.PathLike[str],
    charset: str,
    workers: int | None = None,
    progress: bool = True,
) -> TmnistArrays:
    """Render ``charset`` from every font file under ``fonts_dir`` (the TMNIST recipe)."""
    fonts_dir = Path(fonts_dir)
    files = unique_typefaces(render.find_font_files(fonts_dir))
    if not files:
        raise DataError(
            f"no font files (.ttf, .otf, .woff, .woff2) under {fonts_dir}: set --fonts-dir or "
            "LATENTMAP_FONTS, or put the published TMNIST CSV files in <data dir>/tmnist/"
        )
    workers = workers or os.cpu_count() or 1
    rendered = charset
    if len(charset) < SHAPE_MIN_CLASSES:
        rendered = charset + "".join(c for c in ALPHANUMERIC if c not in charset)
    tasks = [(str(p), rendered) for p in files]
    images, labels, typeface_ids = [], [], []
    kept: list[Path] = []
    skipped: dict[str, str] = {}
    dropped: dict[str, str] = {}
    bar = tqdm(
        total=len(tasks), unit="font", desc=f"rendering {len(rendered)} chars", disable=None if progress else True
    )  # None: only on a terminal
    with bar:
        for path, result in zip(files, _rendered(tasks, workers), strict=True):
            bar.update()
            if isinstance(result, str):
                raise DataError(result)
            if isinstance(result, Skipped):
                skipped[path.stem] = result.reason
                continue
            glyphs, positions, dropped_chars = result
            if dropped_chars:
                dropped[path.stem] = (
                    f"{len(dropped_chars)} glyph(s) named as other characters: {', '.join(dropped_chars)}"
                )
            images.append(glyphs)
            labels.append(positions.astype(np.int64))
            typeface_ids.append(np.full(len(positions), len(kept), dtype=np.int32))
            kept.append(path)
    if not kept:
        raise DataError(f"none of the font files under {fonts_dir} can be used: {_few_reasons(skipped)}")
    arrays = TmnistArrays(
        images=np.concatenate(images),
        labels=np.concatenate(labels),
        typeface_ids=np.concatenate(typeface_ids),
        fonts=_font_table(np.array([p.stem for p in kept]), read_manifest(fonts_dir)),
        skipped=skipped,
        dropped=dropped,
    )
    arrays = drop_pictures(arrays, len(rendered))
    if rendered == charset:
        return arrays
    keep = arrays.labels < len(charset)  # the requested characters come first in ``rendered``
    return TmnistArrays(
        arrays.images[keep],
        arrays.labels[keep],
        arrays.typeface_ids[keep],
        arrays.fonts,
        arrays.skipped,
        arrays.dropped,
    )


def _few_reasons(skipped: dict[str, str]) -> str:
    return "; ".join(f"{name}: {why}" for name, why in list(skipped.items())[:3])


def drop_pictures(arrays: TmnistArrays, n_classes: int) -> TmnistArrays:
    """Leave out typefaces whose glyphs do not look like their characters (pictographs,
    barcodes, scribbles), recording why."""
    if len(arrays.fonts["name"]) < 10 or n_classes < SHAPE_MIN_CLASSES:  # too few to judge shapes
        return arrays
    scores = shape_scores(arrays.images, arrays.labels, arrays.typeface_ids, n_classes)
    bad = np.nonzero(scores < SHAPE_THRESHOLD)[0]
    if not len(bad):
        return arrays
    skipped = dict(arrays.skipped)
    for font_id in bad:
        skipped[str(arrays.fonts["name"][font_id])] = (
            f"glyphs do not look like their characters (shape score {scores[font_id]:.2f} < {SHAPE_THRESHOLD})"
        )
    keep_font = np.ones(len(scores), bool)
    keep_font[bad] = False
    new_id = np.cumsum(keep_font) - 1
    rows = keep_font[arrays.typeface_ids]
    return TmnistArrays(
        images=arrays.images[rows],
        labels=arrays.labels[rows],
        typeface_ids=new_id[arrays.typeface_ids[rows]].astype(np.int32),
        fonts={k: v[keep_font] for k, v in arrays.fonts.items()},
        skipped=skipped,
        dropped={k: v for k, v in arrays.dropped.items() if k not in skipped},
    )


def fonts_fingerprint(fonts_dir: Path) -> str:
    """Cheap identity of a font corpus (names, sizes, mtimes) to tell when a cache is stale."""
    import hashlib

    digest = hashlib.sha256()
    for path in render.find_font_files(fonts_dir):
        stat = path.stat()
        digest.update(f"{path.relative_to(fonts_dir).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    manifest = fonts_dir / "manifest.csv"
    if manifest.is_file():
        digest.update(f"manifest\0{manifest.stat().st_mtime_ns}".encode())
    return digest.hexdigest()
