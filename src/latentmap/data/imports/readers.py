"""Readers of the sources ``latentmap data import`` takes, each streaming pictures in chunks.

Each format is one :class:`Reader` subclass, registered with :func:`register_reader`: it
declares its name, the suffixes of its files (or ``is_file_of``), its command-line options
(``ReaderOption``) and how it opens its files; detection, ``--format``, ``--help`` and the
import's identity read the registry, so a new format is one module that registers its
reader. The built-in ones: ``folder`` and ``parquet`` (:mod:`.files`), ``idx``, ``npy``
and ``npz`` (:mod:`.arrays`).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp"}
CHUNK = 16_384  # pictures per chunk of an array source (of 28x28 bytes; fewer when larger)
CHUNK_BYTES = CHUNK * 784


def rows_per_chunk(row_bytes: int) -> int:
    """Rows of an array source read at once: CHUNK of MNIST's size, a few of a large picture."""
    return max(1, min(CHUNK, CHUNK_BYTES // max(row_bytes, 1)))


FILE_CHUNK = 512  # image files per chunk
IDX_NAME = re.compile(r"(images|labels)[-_.]idx(\d)[-_.]ubyte", re.IGNORECASE)
QUICKDRAW_PREFIX = "full_numpy_bitmap_"
IMAGE_KEYS = ("images", "image", "imgs", "x", "X", "data", "arr_0")
LABEL_KEYS = ("labels", "label", "y", "Y", "targets", "target", "arr_1")


@dataclass(frozen=True)
class ReaderOption:
    """A flag of ``latentmap data import`` that one format reads, declared by its reader:
    ``--name`` (and ``--name-with-dashes``); a ``switch`` is on or off, else a text value.
    ``is_file``: its value names a file, which the import's identity counts by content."""

    name: str
    help: str
    switch: bool = False
    is_file: bool = False


ReadOptions = dict[str, Any]  # option name -> value: the options the readers declare


@dataclass
class Chunk:
    """Grey uint8 pictures, with their labels (per picture, one for all, or None) and split
    (``"train"``/``"test"`` for all, per-picture test flags, or None: not given)."""

    pictures: np.ndarray | list[np.ndarray]
    labels: np.ndarray | str | None = None
    split: str | np.ndarray | None = None


@dataclass
class Reader:
    """One source: the files it reads (hashed for the manifest) and its pictures in chunks.
    A format subclasses it, sets the class attributes and registers it."""

    path: Path
    files: list[Path] = field(default_factory=list)
    label_names: list[str] | None = None  # class names the source itself carries (parquet metadata)

    format: ClassVar[str] = ""
    suffixes: ClassVar[tuple[str, ...]] = ()  # of the format's files, lower case
    options: ClassVar[tuple[ReaderOption, ...]] = ()
    rank: ClassVar[int] = 100  # detection tries lower ranks first (a folder of images: last)

    @classmethod
    def is_file_of(cls, path: Path) -> bool:
        """Whether ``path`` (a file) is one of this format's."""
        return path.suffix.lower() in cls.suffixes

    @classmethod
    def accepts(cls, path: Path) -> bool:
        """A file of this format, or a folder holding one."""
        if path.is_dir():
            return any(p.is_file() and cls.is_file_of(p) for p in path.iterdir())
        return cls.is_file_of(path)

    @classmethod
    def open(cls, paths: list[Path], options: ReadOptions) -> list["Reader"]:
        """The readers of ``paths`` (files, or folders of them): one per file by default."""
        return [cls(file, options) for file in files_of(paths, cls)]  # type: ignore[arg-type]

    def count(self) -> int:
        """An upper bound of the pictures (unreadable ones fall out)."""
        raise NotImplementedError

    def chunks(self, problems: list[tuple[str, str]]) -> Iterator[Chunk]:
        raise NotImplementedError


READERS: dict[str, type[Reader]] = {}  # by format


def register_reader(reader: type[Reader]) -> type[Reader]:
    """Add a format (a class decorator)."""
    if not reader.format or reader.format == "auto":
        raise ValueError(f"{reader.__name__} needs a format name other than 'auto'")
    READERS[reader.format] = reader
    return reader


def readers_in_order() -> list[type[Reader]]:
    """The formats in the order detection tries them."""
    return sorted(READERS.values(), key=lambda reader: reader.rank)


def formats() -> tuple[str, ...]:
    return ("auto", *(reader.format for reader in readers_in_order()))


def reader_options() -> dict[str, tuple[type[Reader], ReaderOption]]:
    """Every format's options by name (two formats may share one, e.g. a labels key)."""
    return {option.name: (reader, option) for reader in READERS.values() for option in reader.options}


def file_options() -> set[str]:
    """The options whose value names a file (counted by its content, not its path)."""
    return {name for name, (_, option) in reader_options().items() if option.is_file}


def files_of(paths: list[Path], reader: type[Reader]) -> list[Path]:
    """The files of that format in the given paths (folders are listed, sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file() and reader.is_file_of(p))
        else:
            found.append(path)
    if not found:
        raise DataError(f"no {reader.format} files in {', '.join(map(str, paths))}")
    return found


def regular_file(path: Path, what: str) -> Path:
    """``path`` if it is a regular file (not a device like /dev/zero, a pipe or a folder)."""
    if not path.is_file():
        raise DataError(f"cannot read {what} {path}: {'not a regular file' if path.exists() else 'no such file'}")
    return path


def split_of_name(name: str) -> str | None:
    lowered = name.lower()
    if "t10k" in lowered or re.search(r"(^|[^a-z])test", lowered):
        return "test"
    if re.search(r"(^|[^a-z])train", lowered):
        return "train"
    return None
