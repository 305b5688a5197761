"""Atomic output: write to a temporary file beside the target, fsync, then rename; build a
folder in a staging folder beside it and rename it into place.

A crash, Ctrl-C or kill -9 never leaves a half-written file under the final name. The
temporary names carry the writer's process id, so the next write to the same target
removes what a killed process left behind. Files get the user's umask (0644 for the
usual 022), not mkstemp's 0600; folders 0777 less the umask, not mkdtemp's 0700.

A folder that a command fills (a run directory) is never one the user owns: only a new or
empty folder, or one that already holds what the command makes (and then only with
--overwrite, replaced by a rename, the old one deleted after the new one stands).
"""

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
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


# --------------------------------------------------------------------------- folders


def protected_folders() -> set[Path]:
    """Folders no command fills or replaces: the root, the home folder, the working folder
    and every folder above it (``--out .`` or ``--out ..`` is always a slip)."""
    cwd = Path.cwd().resolve()
    return {Path("/"), Path.home().resolve(), cwd, *cwd.parents}


def check_output_folder(
    out: str | os.PathLike[str], holds_ours: Callable[[Path], bool], what: str, overwrite: bool = False
) -> Path:
    """Refuse, in one line and before anything is written, an ``out`` that a command making
    ``what`` (say "run") must not fill: a file, a symbolic link, a protected folder, a folder
    holding anything but a ``what``, or a ``what`` without ``overwrite``."""
    out = Path(out)
    if out.is_symlink():
        raise LatentmapError(f"{out} is a symbolic link: give the folder it points to, or a new folder, as --out")
    if out.exists() and not out.is_dir():
        raise LatentmapError(f"{out} is a file: --out takes a folder for the {what}")
    if out.resolve() in protected_folders():
        raise LatentmapError(f"{out} is {describe(out)}: give a folder of its own for the {what} as --out")
    if out.is_dir() and any(out.iterdir()):
        if not holds_ours(out):
            raise LatentmapError(
                f"{out} holds files that are not a {what}: latentmap fills only a new or empty folder "
                "(nothing of yours is replaced): choose another --out"
            )
        if not overwrite:
            raise LatentmapError(
                f"{out} already holds a {what}: add --overwrite to replace it, or choose another --out"
            )
    return out


def describe(folder: Path) -> str:
    resolved = folder.resolve()
    if resolved == Path("/"):
        return "the root folder"
    if resolved == Path.home().resolve():
        return "your home folder"
    return "the working folder" if resolved == Path.cwd().resolve() else "a folder above the working folder"


def aside_name(out: Path, why: str) -> Path:
    """A hidden sibling of ``out`` that names our process, so a later call can tell whether
    its writer is gone (``remove_stale_folders``)."""
    return out.with_name(f".{out.name}.{why}-{os.getpid()}-{time.time_ns()}")


def remove_stale_folders(out: Path) -> None:
    """Delete the staging and moved-aside folders of ``out`` that a killed process left:
    only names this module makes, and only when their process is gone."""
    pattern = re.compile(re.escape(f".{out.name}.") + r"(?:staging|replaced)-(\d+)-\d+$")
    for path in out.parent.glob(f".{glob_escape(out.name)}.*"):
        match = pattern.match(path.name)
        if match and path.is_dir() and not path.is_symlink() and not pid_alive(match.group(1)):
            shutil.rmtree(path, ignore_errors=True)


def glob_escape(name: str) -> str:
    return re.sub(r"([*?[])", r"[\1]", name)


def staging_folder(out: Path) -> Path:
    """A new, empty folder beside ``out`` to build it in (0777 less the umask)."""
    parent = ensure_writable_dir(out.parent)
    remove_stale_folders(out)
    staging = aside_name(parent / out.name, "staging")
    try:
        staging.mkdir(mode=0o777 & ~current_umask())
    except OSError as exc:
        raise LatentmapError(f"cannot create a folder in {parent}: {exc.strerror}") from exc
    return staging


def move_aside(out: Path) -> Path | None:
    """Rename an existing ``out`` out of the way in one step (None when there is none)."""
    if not out.exists():
        return None
    aside = aside_name(out, "replaced")
    try:
        os.rename(out, aside)
    except OSError as exc:
        raise LatentmapError(f"cannot move the old {out} aside: {exc.strerror}") from exc
    return aside


def publish_folder(staging: Path, out: Path) -> None:
    """Put a finished staging folder at ``out``: the old one (checked by
    ``check_output_folder``) moved aside first, deleted once the new one stands."""
    aside = move_aside(out) if out.exists() and any(out.iterdir()) else None
    try:
        os.replace(staging, out)  # onto nothing, or onto an empty folder
    except OSError as exc:
        if aside is not None:
            os.rename(aside, out)  # put the old one back
        raise LatentmapError(f"cannot create {out}: {exc.strerror}") from exc
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
