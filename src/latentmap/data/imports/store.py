"""Imported datasets on disk: ``<data root>/imported/NAME.npz`` (images, labels, split) and
``NAME.json``, the manifest (sources and their hashes, options, counts per class and split,
what was skipped and why). The manifest is written last: a dataset without one is not there.
"""

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...atomic import atomic_path, write_text
from ...errors import DataError, DatasetSpecError, LatentmapError
from ..sources import DataPaths, _writable

FOLDER = "imported"
VERSION = 1
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # used with fullmatch: no newline slips past a $


def check_name(name: str, builtin: tuple[str, ...]) -> None:
    if not NAME.fullmatch(name) or name.lower().endswith(".json"):
        raise LatentmapError(
            f"'{name}' cannot name a dataset: use up to 64 letters, digits, '.', '_' or '-' (no .json ending)"
        )
    if name in builtin:
        raise LatentmapError(f"'{name}' is a built-in dataset: choose another --name")


def folders(paths: DataPaths) -> list[Path]:
    """Where imported datasets live: the data root's ``imported/`` and the cache's (where
    imports go when the data root is read-only), the one imports are written to first."""
    both = [paths.root / FOLDER, paths.cache / FOLDER]
    first = write_folder(paths)
    return [first, *(f for f in both if f != first)]


def write_folder(paths: DataPaths) -> Path:
    return paths.root / FOLDER if _writable(paths.root / FOLDER) else paths.cache / FOLDER


def find(name: str, paths: DataPaths) -> Path | None:
    """The manifest of the imported dataset ``name``, or None."""
    if not NAME.fullmatch(name):
        return None
    for folder in folders(paths):
        if (folder / f"{name}.json").is_file():
            return folder / f"{name}.json"
    return None


def names(paths: DataPaths) -> list[str]:
    found = {p.stem for folder in folders(paths) if folder.is_dir() for p in folder.glob("*.json")}
    return sorted(n for n in found if NAME.fullmatch(n))


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not a readable dataset manifest: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("version") != VERSION or "key" not in manifest:
        raise DataError(f"{path} is not a latentmap dataset manifest (version {VERSION}): import it again")
    return manifest


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 22):
                digest.update(block)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from exc
    return digest.hexdigest()


@dataclass
class Arrays:
    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) int64
    is_test: np.ndarray  # (N,) bool
    label_names: list[str]
    labelled: bool


def save(folder: Path, name: str, arrays: Arrays, manifest: dict[str, Any]) -> Path:
    """The arrays, then the manifest (each atomically): a crash leaves no dataset behind."""
    npz = folder / f"{name}.npz"
    try:
        with atomic_path(npz) as tmp:
            np.savez(
                tmp,
                images=arrays.images,
                labels=arrays.labels,
                is_test=arrays.is_test,
                label_names=np.array(arrays.label_names, dtype=str),
                key=np.array(manifest["key"]),
            )
    except OSError as exc:
        raise LatentmapError(f"cannot write {npz}: {exc.strerror or exc}") from exc
    path = folder / f"{name}.json"
    write_text(path, json.dumps(manifest, indent=1) + "\n")
    return path


def load(manifest_path: Path) -> tuple[Arrays, dict[str, Any]]:
    manifest = read_manifest(manifest_path)
    npz = manifest_path.with_suffix(".npz")
    try:
        with np.load(npz, allow_pickle=False) as data:
            if str(data["key"]) != manifest["key"]:
                raise DataError(f"{npz} does not belong to {manifest_path}: import the dataset again")
            arrays = Arrays(
                data["images"],
                data["labels"].astype(np.int64),
                data["is_test"].astype(bool),
                [str(n) for n in data["label_names"]],
                bool(manifest.get("labelled", True)),
            )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{npz} is missing or corrupt ({exc}): import the dataset again") from exc
    if arrays.images.ndim != 3 or arrays.images.shape[1:] != (28, 28) or len(arrays.labels) != len(arrays.images):
        raise DataError(f"{npz} holds arrays of the wrong shape: import the dataset again")
    return arrays, manifest


def unknown_spec(spec: str, builtin: tuple[str, ...], paths: DataPaths) -> DatasetSpecError:
    imported = names(paths)
    also = f", an imported dataset ({', '.join(imported)})" if imported else ""
    return DatasetSpecError(
        f"unknown dataset '{spec}': use one of {', '.join(builtin)}{also}, a path to a font_set.json, "
        "or import your own with `latentmap data import SOURCE... --name NAME`"
    )
