"""``latentmap data import``: the user's own images -> a dataset spec like ``digits``.

Sources (folders of images, IDX, npz / npy-per-class, Parquet) stream in chunks into one
preallocated (N, 28, 28) array: a million QuickDraw bitmaps take the final array plus a
chunk. Pictures become 28x28 uint8 grey, white ink on black (see ``pixels``); the split is
the source's where it has one, else a seeded ``test_fraction``; labels are optional.
"""

import hashlib
import json
import time
from collections.abc import Callable
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
from .labels import LabelBook, NamesFile, clean_name, read_label_names
from .pixels import FITS, INVERTS, is_dark_on_light, to_mnist_style
from .readers import (
    READERS,
    Chunk,
    Reader,
    ReaderOption,
    ReadOptions,
    file_options,
    formats,
    reader_options,
    regular_file,
)

__all__ = [
    "FITS",
    "INVERTS",
    "READERS",
    "ImportOptions",
    "ImportResult",
    "Reader",
    "ReaderOption",
    "formats",
    "import_dataset",
    "reader_options",
    "store",
]
UNLABELLED = "(no label)"


@dataclass
class ImportOptions:
    format: str = "auto"
    label_names: str | None = None  # class names: one per line, or EMNIST's "label code" mapping
    read: ReadOptions = field(default_factory=dict)  # the formats' own options (readers.ReaderOption)
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
        if not 0 <= self.seed < 2**63:
            raise LatentmapError(f"--seed must be a whole number from 0, got {self.seed}")

    def identity(self) -> dict[str, Any]:
        """What changes the imported arrays (file options count by their content's hash)."""
        files = file_options()
        general = {k: v for k, v in asdict(self).items() if k not in ("read", "label_names")}
        return {**general, **{k: v for k, v in sorted(self.read.items()) if k not in files and v not in (None, False)}}

    def option_files(self) -> dict[str, str]:
        """The files the options name (label names, a labels CSV): what they are -> path."""
        files = file_options()
        named = {f"--{name} file": str(value) for name, value in self.read.items() if name in files and value}
        return {**({"label names file": self.label_names} if self.label_names else {}), **named}


@dataclass
class ImportResult:
    name: str
    manifest_path: Path
    manifest: dict[str, Any]
    reused: bool = False
    problems: list[tuple[str, str]] = field(default_factory=list)


def sources_key(readers: list[Reader], extra_files: list[Path], options: ImportOptions) -> tuple[str, list[dict]]:
    """The import's identity: each file's content *and* its path within its source (a class
    folder renamed is another dataset), the options and the format version."""
    relative = {}
    for reader in readers:
        for file in reader.files:
            relative[file.resolve()] = file.relative_to(reader.path).as_posix() if reader.path.is_dir() else file.name
    for file in extra_files:
        relative[file.resolve()] = file.name
    files = sorted(relative)
    hashes = [store.file_sha256(f) for f in files]
    # Paths as they may be printed and stored (a Latin-1 or escape-laden name would not be);
    # the identity keeps them exact.
    sizes = [f.stat().st_size for f in files]
    listed = [
        {"path": clean_name(str(f)), "bytes": b, "sha256": h} for f, b, h in zip(files, sizes, hashes, strict=True)
    ]
    identity = [[relative[f], h] for f, h in zip(files, hashes, strict=True)]
    digest = hashlib.sha256(json.dumps([identity, options.identity(), store.VERSION]).encode())
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
    extra = [regular_file(Path(path), what) for what, path in options.option_files().items()]
    readers = open_sources(sources, options.format, options.read)
    key, listed = sources_key(readers, extra, options)
    existing = store.find(name, paths)
    if existing is not None:
        try:
            old = store.read_manifest(existing)
        except DataError:
            old = None
        if old is not None and old["key"] == key and existing.with_suffix(".npz").is_file():
            return ImportResult(name, existing, old, reused=True)
        # One in a read-only data root (a shared copy) is shadowed by the new import, not replaced.
        if not overwrite and existing.parent == store.write_folder(paths):
            raise LatentmapError(
                f"a dataset named '{name}' was imported from other sources or with other options ({existing}): "
                "use --overwrite to replace it, or another --name"
            )
    started = time.perf_counter()
    names_file = read_label_names(Path(options.label_names)) if options.label_names else None
    try:
        arrays, report, problems = read_all(readers, options, names_file, progress)
    except MemoryError as exc:
        total = sum(r.count() for r in readers)
        raise DataError(
            f"not enough memory to import {total:,} pictures ({total * 784 / 2**30:.1f} GB as 28x28 bytes): "
            "import fewer sources at a time"
        ) from exc
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
        "skipped": [{"file": clean_name(f), "reason": clean_name(why)} for f, why in problems[:1000]],
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
    with tqdm(total=total, unit="img", desc="import", disable=not progress, leave=False) as bar:
        filled, resized, inverted = fill(readers, options, (images, label_ids, split), book, problems, bar.update)
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


def fill(
    readers: list[Reader],
    options: ImportOptions,
    columns: tuple[np.ndarray, np.ndarray, np.ndarray],
    book: LabelBook,
    problems: list[tuple[str, str]],
    advance: Callable[[int], Any],
) -> tuple[int, int, list[str]]:
    """Stream every reader's chunks into the preallocated (images, label ids, split) columns:
    (pictures filled, pictures resized, sources inverted)."""
    images, label_ids, split = columns
    inverted: list[str] = []
    resized = filled = 0
    for reader in readers:
        invert: bool | None = {"yes": True, "no": False}.get(options.invert)
        for chunk in reader.chunks(problems):
            n = len(chunk.pictures)
            if filled + n > len(images):  # a header or footer that undercounts
                raise DataError(f"{reader.path} holds more pictures than its header says ({reader.count():,})")
            if invert is None:  # auto: decided on the source's first pictures
                invert = is_dark_on_light(list(chunk.pictures[:256]))
                if invert:
                    inverted.append(clean_name(str(reader.path)))
            resized += sum(p.shape != (28, 28) for p in chunk.pictures) if isinstance(chunk.pictures, list) else 0
            images[filled : filled + n] = to_mnist_style(chunk.pictures, invert, options.fit)
            if chunk.labels is not None:
                label_ids[filled : filled + n] = book.add(chunk.labels, n)
            split[filled : filled + n] = split_flags(chunk)
            filled += n
            advance(n)
    return filled, resized, inverted


def split_flags(chunk: Chunk) -> np.ndarray | int:
    if chunk.split is None:
        return -1
    if isinstance(chunk.split, str):
        return int(chunk.split == "test")
    return chunk.split
