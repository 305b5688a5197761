"""Sources of image files: folders (ImageFolder layout or a labels CSV) and Parquet files
with encoded images, decoded one by one with Pillow."""

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import DataError
from ...extras import require
from .pixels import PICTURE_ERRORS, read_picture
from .readers import (
    FILE_CHUNK,
    IMAGE_SUFFIXES,
    Chunk,
    Reader,
    ReaderOption,
    ReadOptions,
    register_reader,
    regular_file,
    split_of_name,
)

# --------------------------------------------------------------------------- folders


def read_labels_csv(path: Path) -> dict[str, str]:
    """``file name, label`` rows (a header row is allowed) -> {name: label}."""
    regular_file(path, "labels file")
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read labels file {path}: {exc}") from exc
    if rows and rows[0][0].strip().lower() in ("file", "filename", "file_name", "name", "path", "image"):
        rows = rows[1:]
    labels = {}
    for number, row in enumerate(rows, start=1):
        if len(row) < 2 or not row[1].strip():
            raise DataError(f"{path}, row {number}: expected 'file name, label', got {row}")
        labels[row[0].strip()] = row[1].strip()
    if not labels:
        raise DataError(f"{path} lists no labelled files")
    return labels


@register_reader
class FolderReader(Reader):
    """Image files (PNG/JPEG/BMP/TIFF/GIF/WebP); class sub-folders give the labels
    (torchvision's ImageFolder layout), ``train/`` and ``test/`` folders the split; a flat
    folder takes its labels from ``--labels labels.csv`` (file name, label). Any folder
    that no other format claims."""

    format = "folder"
    suffixes = tuple(sorted(IMAGE_SUFFIXES))
    rank = 1000
    options = (ReaderOption("labels", "a flat folder's labels: CSV of file name, label", is_file=True),)

    @classmethod
    def accepts(cls, path: Path) -> bool:
        return path.is_dir()

    @classmethod
    def open(cls, paths: list[Path], options: ReadOptions) -> list[Reader]:
        for path in paths:
            if not path.is_dir():
                raise DataError(f"{path} is not a folder of images")
        return [cls(path, options) for path in paths]

    def __init__(self, path: Path, options: ReadOptions) -> None:
        super().__init__(path)
        self.entries: list[tuple[Path, str | None, str | None]] = []  # file, split, label
        by_name = read_labels_csv(Path(options["labels"])) if options.get("labels") else None
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        for file in files:
            parts = list(file.relative_to(path).parts[:-1])
            split = parts.pop(0).lower() if parts and parts[0].lower() in ("train", "test") else None
            if by_name is not None:
                label = by_name.get(file.relative_to(path).as_posix(), by_name.get(file.name))
            else:
                label = parts[0] if parts else None
            self.entries.append((file, split, label))
        self.files = files

    def count(self) -> int:
        return len(self.entries)

    def chunks(self, problems: list[tuple[str, str]]) -> Iterator[Chunk]:
        for start in range(0, len(self.entries), FILE_CHUNK):
            pictures, labels, splits = [], [], []
            for file, split, label in self.entries[start : start + FILE_CHUNK]:
                try:
                    pictures.append(read_picture(file))
                except PICTURE_ERRORS as exc:
                    problems.append((str(file), f"not a readable image ({type(exc).__name__}: {exc})"))
                    continue
                labels.append("" if label is None else label)
                splits.append(split == "test" if split else -1)
            yield Chunk(
                pictures,
                np.array(labels, dtype=object) if any(labels) else None,
                np.array(splits, dtype=np.int8) if any(s != -1 for s in splits) else None,
            )


# --------------------------------------------------------------------------- Parquet


def check_columns(path: Path, schema: Any, image_column: str, label_column: str | None) -> None:
    """The image column holds encoded pictures (bytes, or Hugging Face's {bytes, path}
    structs); the label column numbers or names."""
    import pyarrow as pa

    kind = schema.field(image_column).type
    binary = (pa.types.is_binary(kind) or pa.types.is_large_binary(kind)) or (
        pa.types.is_struct(kind) and kind.get_field_index("bytes") >= 0
    )
    if not binary:
        raise DataError(
            f"{path}: column '{image_column}' holds {kind}, not encoded images (a binary column or "
            "{bytes, path} structs): name the image column with --image_column"
        )
    if label_column is None:
        return
    kind = schema.field(label_column).type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    checks = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean, pa.types.is_string)
    if not any(check(kind) for check in (*checks, pa.types.is_large_string)):
        raise DataError(
            f"{path}: column '{label_column}' holds {kind}: labels are numbers or names "
            "(name another column with --label_column)"
        )


@register_reader
class ParquetReader(Reader):
    """As Hugging Face datasets export it: an image column of ``{bytes, path}`` structs, a
    label column, class names from the schema's metadata, read in batches."""

    format = "parquet"
    suffixes = (".parquet",)
    rank = 20
    options = (
        ReaderOption("image_column", "parquet: the column of images"),
        ReaderOption("label_column", "parquet: the column of labels"),
    )

    def __init__(self, path: Path, options: ReadOptions) -> None:
        pa = require("pyarrow", "arrow", "importing Parquet files")
        import pyarrow.parquet as pq

        super().__init__(path, [path])
        try:
            self.file = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"{path} is not a readable Parquet file: {exc}") from exc
        schema = self.file.schema_arrow
        names = schema.names
        self.image_column = options.get("image_column") or next(
            (n for n in names if pa.types.is_struct(schema.field(n).type) or pa.types.is_binary(schema.field(n).type)),
            None,
        )
        if self.image_column not in names:
            raise DataError(f"{path}: no image column found; name it with --image_column (columns: {', '.join(names)})")
        self.label_column = options.get("label_column") or next((n for n in ("label", "labels") if n in names), None)
        if self.label_column is not None and self.label_column not in names:
            raise DataError(f"{path} has no column '{self.label_column}' (columns: {', '.join(names)})")
        check_columns(path, schema, str(self.image_column), self.label_column)
        self.split_column = "split" if "split" in names else None
        self.label_names = self.class_names(schema.metadata or {})
        self.rows = self.file.metadata.num_rows
        groups = sum(self.file.metadata.row_group(i).num_rows for i in range(self.file.metadata.num_row_groups))
        if self.rows < 0 or groups != self.rows or self.rows > path.stat().st_size:
            raise DataError(
                f"{path}: its footer claims {self.rows:,} rows ({groups:,} in its row groups), "
                f"which a file of {path.stat().st_size:,} bytes cannot hold"
            )

    def class_names(self, metadata: dict[bytes, bytes]) -> list[str] | None:
        """A Hugging Face ClassLabel's names, kept in the schema's metadata."""
        try:
            features = json.loads(metadata[b"huggingface"])["info"]["features"]
            names = features[self.label_column]["names"]
        except (KeyError, TypeError, ValueError):
            return None
        return [str(n) for n in names] if isinstance(names, list) else None

    def count(self) -> int:
        return int(self.rows)

    def chunks(self, problems: list[tuple[str, str]]) -> Iterator[Chunk]:
        import pyarrow as pa

        try:
            yield from self.read_batches(problems)
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"{self.path} is corrupt: {str(exc).splitlines()[0][:300]}") from exc

    def read_batches(self, problems: list[tuple[str, str]]) -> Iterator[Chunk]:
        columns = [c for c in (self.image_column, self.label_column, self.split_column) if c]
        row = 0
        name_split = split_of_name(self.path.name)
        for batch in self.file.iter_batches(batch_size=FILE_CHUNK, columns=columns):
            cells = batch.column(self.image_column).to_pylist()
            labels = batch.column(self.label_column).to_pylist() if self.label_column else None
            splits = batch.column(self.split_column).to_pylist() if self.split_column else None
            pictures, kept = [], []
            for i, cell in enumerate(cells):
                data = cell.get("bytes") if isinstance(cell, dict) else cell
                try:
                    if not isinstance(data, bytes) or not data:
                        raise ValueError(f"no image bytes (a {type(data).__name__})")
                    pictures.append(read_picture(data))
                    kept.append(i)
                except PICTURE_ERRORS as exc:
                    problems.append((f"{self.path} row {row + i}", f"not a readable image ({exc})"))
            row += len(cells)
            split: str | np.ndarray | None = name_split
            if splits is not None:
                split = np.array([str(splits[i]).lower().startswith("test") for i in kept], dtype=np.int8)
            picked = None if labels is None else np.array([labels[i] for i in kept], dtype=object)
            yield Chunk(pictures, picked, split)
