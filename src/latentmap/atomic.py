"""Atomic file output: write to a temporary file beside the target, then rename.

A crash or Ctrl-C never leaves a half-written file under the final name.
"""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import LatentmapError


def ensure_writable_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and parents) and check that we can write into it."""
    directory = Path(path)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LatentmapError(f"cannot create directory {directory}: {exc.strerror}") from exc
    if not os.access(directory, os.W_OK | os.X_OK):
        raise LatentmapError(f"directory {directory} is not writable: choose another location")
    return directory


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path; on success it is renamed to ``target``, on error removed.

    The temporary name keeps the target's suffix so that writers which look at the
    extension (``np.savez``, Pillow) choose the right format.
    """
    target = Path(target)
    directory = ensure_writable_dir(target.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=directory)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    try:
        with atomic_path(target) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:  # disk full, permissions, ...: one clear line, nothing half-written
        raise LatentmapError(f"cannot write {target}: {exc.strerror or exc}") from exc


def write_text(target: str | os.PathLike[str], text: str) -> None:
    write_bytes(target, text.encode("utf-8"))
