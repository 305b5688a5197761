"""Atomic file output: write to a temporary file beside the target, fsync, then rename.

A crash, Ctrl-C or kill -9 never leaves a half-written file under the final name. The
temporary names carry the writer's process id, so the next write to the same target
removes what a killed process left behind. Files get the user's umask (0644 for the
usual 022), not mkstemp's 0600.
"""

import contextlib
import os
import re
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


def pid_alive(pid: str | int) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def current_umask() -> int:
    try:  # Linux: read it without changing it (os.umask would, for every thread)
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temp_prefix(target: Path) -> str:
    return f".{target.stem}."


def remove_stale_temps(target: Path) -> None:
    """Delete our temporary files for ``target`` whose writing process is gone."""
    pattern = re.compile(re.escape(temp_prefix(target)) + r"(\d+)\.[^.]+\.tmp" + re.escape(target.suffix) + "$")
    for path in target.parent.glob(f"{temp_prefix(target)}*.tmp{target.suffix}"):
        match = pattern.match(path.name)
        if match and not pid_alive(match.group(1)):
            path.unlink(missing_ok=True)


def fsync_path(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path; on success it is fsynced and renamed to ``target``, on
    error removed.

    The temporary name keeps the target's suffix so that writers which look at the
    extension (``np.savez``, Pillow) choose the right format.
    """
    target = Path(target)
    directory = ensure_writable_dir(target.parent)
    remove_stale_temps(target)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f"{temp_prefix(target)}{os.getpid()}.", suffix=f".tmp{target.suffix}", dir=directory
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~current_umask())
        fsync_path(tmp)
        os.replace(tmp, target)
        with contextlib.suppress(OSError):  # the rename itself survives a power cut
            fsync_path(directory, directory=True)
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
