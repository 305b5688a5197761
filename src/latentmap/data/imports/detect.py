"""Which reader reads a source: the format detected from the path (or ``--format``)."""

from pathlib import Path

from ...errors import LatentmapError
from .arrays import NpyReader, idx_readers, npz_readers
from .files import FolderReader, ParquetReader
from .readers import FORMATS, IDX_NAME, Reader, ReadOptions, regular_file


def detect_format(path: Path) -> str:
    if path.is_dir():
        suffixes = {p.suffix.lower() for p in path.iterdir() if p.is_file()}
        names = [p.name for p in path.iterdir() if p.is_file()]
        if ".npy" in suffixes:
            return "npy"
        if ".parquet" in suffixes:
            return "parquet"
        if ".npz" in suffixes:
            return "npz"
        if any(IDX_NAME.search(n) for n in names):
            return "idx"
        return "folder"
    suffix = path.suffix.lower()
    if IDX_NAME.search(path.name):
        return "idx"
    if suffix in (".npz", ".npy", ".parquet"):
        return suffix[1:]
    raise LatentmapError(
        f"cannot tell the format of {path}: use --format ({', '.join(FORMATS[1:])}) or a folder of images"
    )


def files_of(paths: list[Path], fmt: str) -> list[Path]:
    """The files of that format in the given paths (folders are listed, sorted)."""
    suffix = {"npy": ".npy", "npz": ".npz", "parquet": ".parquet"}.get(fmt)
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.iterdir()
                if p.is_file() and (IDX_NAME.search(p.name) if fmt == "idx" else p.suffix == suffix)
            )
        else:
            found.append(path)
    if not found:
        raise LatentmapError(f"no {fmt} files in {', '.join(map(str, paths))}")
    return found


def open_sources(sources: list[str], fmt: str, options: ReadOptions) -> list[Reader]:
    paths = [Path(s).expanduser() for s in sources]
    for path in paths:
        if not path.exists():
            raise LatentmapError(f"{path} does not exist")
        if not path.is_dir():
            regular_file(path, "source")
    if fmt == "auto":
        formats = {detect_format(p) for p in paths}
        if len(formats) > 1:
            raise LatentmapError(
                f"the sources mix formats ({', '.join(sorted(formats))}): import them one format at a time"
            )
        fmt = formats.pop()
    if fmt not in FORMATS:
        raise LatentmapError(f"unknown --format '{fmt}': use {', '.join(FORMATS)}")
    if options.labels_csv and fmt != "folder":
        raise LatentmapError("--labels (a CSV of file names and labels) goes with a folder of images")
    if fmt == "folder":
        for path in paths:
            if not path.is_dir():
                raise LatentmapError(f"{path} is not a folder of images")
        return [FolderReader(p, options) for p in paths]
    files = files_of(paths, fmt)
    if fmt == "idx":
        return idx_readers(files, options)
    if fmt == "npz":
        return npz_readers(files, options)
    if fmt == "npy":
        return [NpyReader(f) for f in files]
    return [ParquetReader(f, options) for f in files]
