"""Which reader reads a source: the first registered format that accepts the path (or the
one ``--format`` names), and the options given for another format refused."""

from pathlib import Path

from ...errors import LatentmapError
from . import arrays, files  # noqa: F401  (they register the built-in formats)
from .readers import READERS, Reader, ReadOptions, formats, reader_options, readers_in_order, regular_file


def detect_format(path: Path) -> str:
    for reader in readers_in_order():
        if reader.accepts(path):
            return reader.format
    raise LatentmapError(
        f"cannot tell the format of {path}: use --format ({', '.join(formats()[1:])}) or a folder of images"
    )


def open_sources(sources: list[str], fmt: str, options: ReadOptions) -> list[Reader]:
    paths = [Path(s).expanduser() for s in sources]
    for path in paths:
        if not path.exists():
            raise LatentmapError(f"{path} does not exist")
        if not path.is_dir():
            regular_file(path, "source")
    if fmt == "auto":
        found = {detect_format(p) for p in paths}
        if len(found) > 1:
            raise LatentmapError(
                f"the sources mix formats ({', '.join(sorted(found))}): import them one format at a time"
            )
        fmt = found.pop()
    if fmt not in READERS:
        raise LatentmapError(f"unknown --format '{fmt}': use {', '.join(formats())}")
    declared = reader_options()
    for name, value in options.items():
        if value in (None, False):
            continue
        if name not in declared:
            raise LatentmapError(f"unknown import option '{name}': use {', '.join(sorted(declared))}")
        if name not in {option.name for option in READERS[fmt].options}:
            raise LatentmapError(f"--{name} is an option of {declared[name][0].format} sources, not of {fmt}")
    return READERS[fmt].open(paths, options)
