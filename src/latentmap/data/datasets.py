"""Dataset specs -> :class:`Dataset`, with parsed data cached as ``.npz`` (no pickle).

Specs: ``digits`` (MNIST), ``fashion`` (Fashion-MNIST), ``numeric`` (TMNIST digits),
``alphanumeric`` (TMNIST, 94 characters), a path to a ``font_set.json``, or the name of a
dataset the user imported (``latentmap data import``).
"""

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path
from ..errors import DataError, DatasetSpecError
from . import fontset, idx, imports, sources, tmnist
from .sources import BUILTIN_SPECS, DataPaths
from .typeface_split import name_hashes, typeface_split

FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
CACHE_VERSION = 3  # 2: TMNIST leaves out pictograph fonts and records why; 3: and mislabelled glyphs


@dataclass
class Dataset:
    """Images with labels and a train/test split; TMNIST rows also carry their typeface."""

    spec: str
    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) int64 positions in label_names
    label_names: list[str]
    is_test: np.ndarray  # (N,) bool
    typeface_ids: np.ndarray | None = None  # (N,) int32 into fonts["name"]; None outside TMNIST
    fonts: dict[str, np.ndarray] = field(default_factory=dict)  # per typeface: name, family, ...
    skipped: dict[str, str] = field(default_factory=dict)  # TMNIST fonts left out -> why
    dropped: dict[str, str] = field(default_factory=dict)  # TMNIST fonts -> glyphs left out, and why
    source: str = ""
    cache_path: Path | None = None
    built: bool = False  # this load built the cache (rather than reading it)
    labelled: bool = True  # an imported dataset may come without labels (the judge needs them)
    manifest: dict[str, Any] | None = None  # an imported dataset's manifest
    regrouped: tuple[int, int] = (0, 0)  # TMNIST: typefaces, families the related-family grouping moved

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def typefaces(self) -> np.ndarray:
        """(N,) typeface name of each image; empty strings outside TMNIST."""
        if self.typeface_ids is None:
            return np.full(len(self), "", dtype="<U1")
        return self.fonts["name"][self.typeface_ids]

    def subset(self, rows: np.ndarray) -> "Dataset":
        """The rows selected by a boolean mask or an index array."""
        return replace(
            self,
            images=self.images[rows],
            labels=self.labels[rows],
            is_test=self.is_test[rows],
            typeface_ids=None if self.typeface_ids is None else self.typeface_ids[rows],
        )

    def split(self, which: str | None) -> "Dataset":
        if which in (None, "all"):
            return self
        if which not in ("train", "test"):
            raise DatasetSpecError(f"unknown split '{which}': use train, test or all")
        return self.subset(self.is_test if which == "test" else ~self.is_test)

    def fingerprint(self) -> str:
        """A cheap identity of the content (spec, sizes, split, labels, a strided sample of the
        images): what was fitted to one dataset is not reused for another of the same name."""
        digest = hashlib.sha256(f"{self.spec}:{self.images.shape}".encode())
        for array in (self.is_test, self.labels, self.images[:: max(1, len(self) // 512)]):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=len(self.label_names))


# --------------------------------------------------------------------------- cache


def _save_cache(path: Path, arrays: dict[str, Any], meta: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        # Uncompressed: loading a cached dataset must take well under a second.
        np.savez(tmp, meta=np.array(json.dumps(meta)), **arrays)


def _load_cache(path: Path, key: str | None) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """Arrays and metadata of a valid cache file, or None if missing/stale/corrupt
    (``key`` None accepts any source: used when the sources are gone)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            if meta.get("version") != CACHE_VERSION or (key is not None and meta.get("key") != key):
                return None
            return {name: npz[name] for name in npz.files if name != "meta"}, meta
    except (OSError, ValueError, KeyError, json.JSONDecodeError, EOFError, zipfile.BadZipFile):
        return None  # a corrupt cache is rebuilt, never trusted


def _files_key(files: list[Path]) -> str:
    stats = [(p.resolve(), p.stat()) for p in files]
    parts = [f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}" for path, stat in stats]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# --------------------------------------------------------------------------- builders


def _idx_plan(spec: str, paths: DataPaths) -> tuple[str | None, Any]:
    files = sources.local_idx_files(spec, paths)
    return (_files_key(list(files.values())) if files else None), files


def _build_idx(spec: str, paths: DataPaths, files: dict[str, Path] | None) -> tuple[dict[str, np.ndarray], str]:
    files = files or sources.idx_files(spec, paths)
    arrays = {}
    for name, path in files.items():
        data = sources.verified_bytes(spec, name, path)
        arrays[name] = idx.parse_idx(data, source=str(path), ndim=3 if "images" in name else 1)
    train_x, train_y = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
    test_x, test_y = arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]
    for x, y, part in ((train_x, train_y, "train"), (test_x, test_y, "test")):
        if x.shape[1:] != (28, 28) or len(x) != len(y):
            raise DataError(f"{spec} {part} files disagree: images {x.shape}, labels {y.shape}")
    images = np.concatenate([train_x, test_x])
    labels = np.concatenate([train_y, test_y]).astype(np.int64)
    is_test = np.concatenate([np.zeros(len(train_y), bool), np.ones(len(test_y), bool)])
    source = ", ".join(str(p) for p in files.values())
    return {"images": images, "labels": labels, "is_test": is_test}, source


def _tmnist_plan(spec: str, paths: DataPaths) -> tuple[str | None, Any]:
    """The source to build from (published CSV wins over font files) and its cache key."""
    csv_path = tmnist.find_csv(paths.root / "tmnist", spec)
    if csv_path is not None:
        return f"csv:{_files_key([csv_path])}", csv_path
    if paths.fonts.is_dir():
        return f"fonts:{tmnist.fonts_fingerprint(paths.fonts)}", paths.fonts
    return None, None


def _build_tmnist(spec: str, paths: DataPaths, plan: Any, progress: bool) -> tuple[dict[str, np.ndarray], str]:
    charset = tmnist.charset_for(spec)
    if plan is None:
        raise DataError(
            f"no Typography-MNIST source for '{spec}': put {tmnist.CSV_FILES[spec]}[.zip] in "
            f"{paths.root / 'tmnist'} or point --fonts-dir / LATENTMAP_FONTS at a folder of font files "
            f"(looked in {paths.fonts})"
        )
    if plan.is_file():
        result, source = tmnist.read_csv(plan, charset), f"published CSV {plan}"
    else:
        result, source = tmnist.rebuild(plan, charset, progress=progress), f"rendered from fonts in {plan}"
    arrays = {"images": result.images, "labels": result.labels, "typeface_ids": result.typeface_ids}
    arrays.update({f"font_{k}": v for k, v in result.fonts.items()})
    arrays["skipped_names"] = np.array(list(result.skipped), dtype=str)
    arrays["skipped_reasons"] = np.array(list(result.skipped.values()), dtype=str)
    arrays["dropped_names"] = np.array(list(result.dropped), dtype=str)
    arrays["dropped_reasons"] = np.array(list(result.dropped.values()), dtype=str)
    return arrays, source


def _builtin(spec: str, paths: DataPaths, progress: bool, force: bool) -> Dataset:
    cache_path = paths.cache / f"{spec}.npz"
    is_idx = spec in sources.IDX_SOURCES
    key, plan = _idx_plan(spec, paths) if is_idx else _tmnist_plan(spec, paths)
    cached = None if force else _load_cache(cache_path, key)
    if cached is None:
        if is_idx:
            arrays, source = _build_idx(spec, paths, plan)
        else:
            arrays, source = _build_tmnist(spec, paths, plan, progress)
        if key is None and is_idx:  # just downloaded: key the cache by the new files
            key, _ = _idx_plan(spec, paths)
        meta: dict[str, Any] = {"version": CACHE_VERSION, "spec": spec, "key": key, "source": source}
        _save_cache(cache_path, arrays, meta)
    else:
        arrays, meta = cached
    dataset = _from_arrays(spec, arrays, meta["source"], cache_path)
    dataset.built = cached is None
    return dataset


def _from_arrays(spec: str, arrays: dict[str, np.ndarray], source: str, cache_path: Path) -> Dataset:
    if "typeface_ids" not in arrays:
        names = FASHION_CLASSES if spec == "fashion" else [str(d) for d in range(10)]
        return Dataset(
            spec, arrays["images"], arrays["labels"], names, arrays["is_test"], source=source, cache_path=cache_path
        )
    fonts = {k.removeprefix("font_"): v for k, v in arrays.items() if k.startswith("font_")}
    skipped = dict(zip(arrays["skipped_names"].tolist(), arrays["skipped_reasons"].tolist(), strict=True))
    dropped = dict(zip(arrays["dropped_names"].tolist(), arrays["dropped_reasons"].tolist(), strict=True))
    typeface_ids = arrays["typeface_ids"]
    split = typeface_split(fonts, arrays["images"], arrays["labels"], typeface_ids)
    fonts["group"] = split.group
    return Dataset(
        spec,
        arrays["images"],
        arrays["labels"],
        list(tmnist.charset_for(spec)),
        split.is_test[typeface_ids],
        typeface_ids=typeface_ids,
        fonts=fonts,
        skipped=skipped,
        dropped=dropped,
        source=source,
        cache_path=cache_path,
        regrouped=(split.moved_typefaces, split.moved_families),
    )


def _from_font_set(path: Path, paths: DataPaths, progress: bool, force: bool) -> Dataset:
    font_set = fontset.read_font_set(path)
    base_spec = "numeric" if all(c in tmnist.NUMERIC for c in font_set.charset) else "alphanumeric"
    base = _builtin(base_spec, paths, progress, force)
    fontset.check_typefaces(font_set, set(base.fonts["name"].tolist()), str(path))
    positions = np.array([base.label_names.index(c) for c in font_set.charset])
    chosen_fonts = np.isin(base.fonts["name"], font_set.font_names)
    assert base.typeface_ids is not None
    rows = chosen_fonts[base.typeface_ids] & np.isin(base.labels, positions)
    relabel = np.full(len(base.label_names), -1, dtype=np.int64)
    relabel[positions] = np.arange(len(positions))
    subset = base.subset(rows)
    if not subset.is_test.any() and len(font_set.font_names) > 1:
        # A small set can miss the 15% by chance; its lowest-hash group becomes the test set.
        assert subset.typeface_ids is not None
        present = np.unique(subset.typeface_ids)
        hashes = name_hashes(base.fonts["group"])
        lowest = hashes[present].min()  # the lowest-hash group present: all its typefaces
        subset.is_test = hashes[subset.typeface_ids] == lowest
    return replace(
        subset,
        spec=str(path),
        labels=relabel[subset.labels],
        label_names=list(font_set.charset),
        source=f"{path} over {base.source}",
    )


def is_font_set_spec(spec: str) -> bool:
    return spec.lower().endswith(".json") or Path(spec).is_file()


def load_dataset(
    spec: str,
    split: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    fonts_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
    force: bool = False,
) -> Dataset:
    """Load a dataset by spec, building (and caching) it from its sources when needed.

    ``split``: ``"train"``, ``"test"`` or None/``"all"``. ``force`` rebuilds the cache.
    """
    paths = DataPaths.resolve(data_dir, fonts_dir, cache_dir)
    spec = str(spec)
    if spec in BUILTIN_SPECS:
        dataset = _builtin(spec, paths, progress, force)
    elif (manifest := imports.store.find(spec, paths)) is not None:
        dataset = _imported(spec, manifest)
    elif is_font_set_spec(spec):
        dataset = _from_font_set(Path(spec), paths, progress, force)
    else:
        raise imports.store.unknown_spec(spec, BUILTIN_SPECS, paths)
    return dataset.split(split)


def _imported(name: str, manifest_path: Path) -> Dataset:
    arrays, manifest = imports.store.load(manifest_path)
    sources = manifest.get("sources", [])
    listed = ", ".join(str(s.get("path")) for s in sources[:3]) + (
        f" (+{len(sources) - 3} more)" if len(sources) > 3 else ""
    )
    return Dataset(
        name,
        arrays.images,
        arrays.labels,
        arrays.label_names,
        arrays.is_test,
        source=f"imported from {listed}",
        cache_path=manifest_path.with_suffix(".npz"),
        labelled=arrays.labelled,
        manifest=manifest,
    )
