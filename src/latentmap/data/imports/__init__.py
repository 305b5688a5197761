"""``latentmap data import``: the user's own images -> a dataset spec like ``digits``.

Sources (folders of images, IDX, npz / npy-per-class, Parquet) stream in chunks into one
preallocated (N, 28, 28) array: a million QuickDraw bitmaps take the final array plus a
chunk. Pictures become 28x28 uint8 grey, white ink on black (see ``pixels``); the split is
the source's where it has one, else a seeded ``test_fraction``; labels are optional.
"""

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ...errors import DataError, LatentmapError
from ...version import __version__
from ..sources import BUILTIN_SPECS, DataPaths
from . import store
from .detect import open_sources
from .pixels import FITS, INVERTS, is_dark_on_light, to_mnist_style
from .readers import FORMATS, Chunk, Reader, ReadOptions

__all__ = ["FITS", "FORMATS", "INVERTS", "ImportOptions", "ImportResult", "import_dataset", "store"]
UNLABELLED = "(no label)"
NamesFile = dict[int, str] | list[str] | None  # class names from --label_names, if given


@dataclass
class ImportOptions:
    format: str = "auto"
    labels: str | None = None  # CSV of file name, label (flat folders)
    label_names: str | None = None  # class names: one per line, or EMNIST's "label code" mapping
    transpose: bool = False  # EMNIST stores images transposed
    images_key: str | None = None
    labels_key: str | None = None
    image_column: str | None = None
    label_column: str | None = None
    invert: str = "auto"  # auto | yes | no
    fit: str = "mnist"  # mnist | pad | stretch (pictures that are not 28x28)
    test_fraction: float = 0.15  # when the source has no split
    seed: int = 0

    def check(self) -> None:
        if self.invert not in INVERTS:
            raise LatentmapError(f"unknown --invert '{self.invert}': use {', '.join(INVERTS)}")
        if self.fit not in FITS:
            raise LatentmapError(f"unknown --fit '{self.fit}': use {', '.join(FITS)}")
        if not 0 < self.test_fraction < 1:
            raise LatentmapError(f"--test_fraction must be between 0 and 1, got {self.test_fraction}")

    def identity(self) -> dict[str, Any]:
        """What changes the imported arrays (file options count by their content's hash)."""
        return {k: v for k, v in asdict(self).items() if k not in ("labels", "label_names")}

    def read_options(self) -> ReadOptions:
        return ReadOptions(
            self.labels, self.transpose, self.images_key, self.labels_key, self.image_column, self.label_column
        )


@dataclass
class ImportResult:
    name: str
    manifest_path: Path
    manifest: dict[str, Any]
    reused: bool = False
    problems: list[tuple[str, str]] = field(default_factory=list)


def read_label_names(path: Path) -> dict[int, str] | list[str]:
    """Class names, one per line (in label order), or ``LABEL CODE`` pairs as in EMNIST's
    mapping files (``10 65``: label 10 is 'A')."""
    try:
        lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read label names file {path}: {exc}") from exc
    if lines and all(len(p) == 2 and p[0].isdigit() and p[1].isdigit() for p in lines):
        return {int(a): chr(int(b)) for a, b in lines}
    return [" ".join(p) for p in lines]


class LabelBook:
    """Label values as they come (ints or strings) -> dense ids, ordered at the end."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}

    def add(self, values: np.ndarray | str, n: int) -> np.ndarray:
        if isinstance(values, str):
            return np.full(n, self.id_of(values), np.int32)
        if values.dtype.kind in "iu":
            uniques, inverse = np.unique(values, return_inverse=True)
            ids = np.array([self.id_of(int(u)) for u in uniques], np.int32)
            return ids[inverse]
        return np.array([-1 if v in ("", None) else self.id_of(v) for v in values.tolist()], np.int32)

    def id_of(self, value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return self.ids.setdefault(value, len(self.ids))

    def ordered(self, source_names: list[str] | None, names_file: NamesFile) -> tuple[np.ndarray, list[str]]:
        """(old id -> new id, class names): numbers in numeric order, names alphabetically."""
        values = list(self.ids)
        numeric = all(isinstance(v, int) for v in values)
        order = sorted(values) if numeric else sorted(values, key=str)
        remap = np.empty(len(values), np.int64)
        for new, value in enumerate(order):
            remap[self.ids[value]] = new
        names = [self.name_of(v, numeric, source_names, names_file) for v in order]
        return remap, names

    @staticmethod
    def name_of(value: Any, numeric: bool, source: list[str] | None, names_file: NamesFile) -> str:
        if numeric and isinstance(names_file, dict):
            return names_file.get(value, str(value))
        names = names_file if isinstance(names_file, list) else source
        if numeric and names is not None and 0 <= value < len(names):
            return names[value]
        return str(value)


def sources_key(readers: list[Reader], extra_files: list[Path], options: ImportOptions) -> tuple[str, list[dict]]:
    files = sorted({f.resolve() for r in readers for f in r.files} | {f.resolve() for f in extra_files})
    listed = [{"path": str(f), "bytes": f.stat().st_size, "sha256": store.file_sha256(f)} for f in files]
    digest = hashlib.sha256(json.dumps([[s["sha256"] for s in listed], options.identity(), store.VERSION]).encode())
    return digest.hexdigest(), listed


def import_dataset(
    sources: list[str],
    name: str,
    options: ImportOptions | None = None,
    data_dir: str | None = None,
    cache_dir: str | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> ImportResult:
    """Import ``sources`` as the dataset ``name``; the same sources and options again reuse
    it, other ones at the same name are refused unless ``overwrite``."""
    options = options or ImportOptions()
    options.check()
    store.check_name(name, BUILTIN_SPECS)
    if not sources:
        raise LatentmapError("give at least one source to import")
    paths = DataPaths.resolve(data_dir, None, cache_dir)
    readers = open_sources(sources, options.format, options.read_options())
    extra = [Path(p) for p in (options.labels, options.label_names) if p]
    key, listed = sources_key(readers, extra, options)
    existing = store.find(name, paths)
    if existing is not None:
        try:
            old = store.read_manifest(existing)
        except DataError:
            old = None
        if old is not None and old["key"] == key and existing.with_suffix(".npz").is_file():
            return ImportResult(name, existing, old, reused=True)
        if not overwrite:
            raise LatentmapError(
                f"a dataset named '{name}' was imported from other sources or with other options ({existing}): "
                "use --overwrite to replace it, or another --name"
            )
    started = time.perf_counter()
    names_file = read_label_names(Path(options.label_names)) if options.label_names else None
    arrays, report, problems = read_all(readers, options, names_file, progress)
    manifest = {
        "version": store.VERSION,
        "name": name,
        "key": key,
        "sources": listed,
        "format": sorted({r.format for r in readers}),
        "options": options.identity(),
        "labelled": arrays.labelled,
        "label_names": arrays.label_names,
        "counts": counts(arrays),
        **report,
        "skipped": [{"file": f, "reason": why} for f, why in problems[:1000]],
        "skipped_total": len(problems),
        "seconds": round(time.perf_counter() - started, 1),
        "latentmap": __version__,
    }
    path = store.save(store.write_folder(paths), name, arrays, manifest)
    return ImportResult(name, path, manifest, problems=problems)


def counts(arrays: store.Arrays) -> dict[str, dict[str, int]]:
    result = {}
    for split, rows in (("train", ~arrays.is_test), ("test", arrays.is_test)):
        per_class = np.bincount(arrays.labels[rows], minlength=len(arrays.label_names))
        result[split] = {n: int(c) for n, c in zip(arrays.label_names, per_class, strict=True)}
    return result


def read_all(
    readers: list[Reader], options: ImportOptions, names_file: NamesFile, progress: bool
) -> tuple[store.Arrays, dict[str, Any], list[tuple[str, str]]]:
    total = sum(r.count() for r in readers)
    images = np.empty((total, 28, 28), np.uint8)
    label_ids = np.full(total, -1, np.int32)
    split = np.full(total, -1, np.int8)  # 1 test, 0 train, -1 not given by the source
    book = LabelBook()
    problems: list[tuple[str, str]] = []
    inverted, resized, filled = [], 0, 0
    bar = tqdm(total=total, unit="img", desc="import", disable=not progress, leave=False)
    for reader in readers:
        invert: bool | None = {"yes": True, "no": False}.get(options.invert)
        for chunk in reader.chunks(problems):
            n = len(chunk.pictures)
            if invert is None:  # auto: decided on the source's first pictures
                invert = is_dark_on_light(list(chunk.pictures[:256]))
                if invert:
                    inverted.append(str(reader.path))
            resized += sum(p.shape != (28, 28) for p in chunk.pictures) if isinstance(chunk.pictures, list) else 0
            images[filled : filled + n] = to_mnist_style(chunk.pictures, invert, options.fit)
            if chunk.labels is not None:
                label_ids[filled : filled + n] = book.add(chunk.labels, n)
            split[filled : filled + n] = split_flags(chunk)
            filled += n
            bar.update(n)
    bar.close()
    images, label_ids, split = images[:filled], label_ids[:filled], split[:filled]
    labelled = bool((label_ids >= 0).any())
    if labelled and (label_ids < 0).any():
        missing = label_ids < 0
        problems.append(
            ("(several files)", f"{int(missing.sum())} image(s) with no label among labelled ones: left out")
        )
        images, label_ids, split = images[~missing], label_ids[~missing], split[~missing]
    if not len(images):
        raise DataError(
            "no readable images in the sources" + (f" (first problem: {problems[0][1]})" if problems else "")
        )
    if labelled:
        remap, label_names = book.ordered(next((r.label_names for r in readers if r.label_names), None), names_file)
        labels = remap[label_ids]
    else:
        labels, label_names = np.zeros(len(images), np.int64), [UNLABELLED]
    unknown = split < 0
    if unknown.any():
        drawn = np.random.default_rng(options.seed).random(int(unknown.sum())) < options.test_fraction
        split[unknown] = drawn
    report = {
        "inverted": inverted,
        "resized": int(resized),
        "split_from": "source" if not unknown.any() else ("seeded fraction" if unknown.all() else "source and seeded"),
    }
    return store.Arrays(images, labels, split.astype(bool), label_names, labelled), report, problems


def split_flags(chunk: Chunk) -> np.ndarray | int:
    if chunk.split is None:
        return -1
    if isinstance(chunk.split, str):
        return int(chunk.split == "test")
    return chunk.split
