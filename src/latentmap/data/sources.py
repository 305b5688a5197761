"""Where data lives: the data root, the writable cache, font files, verified downloads.

Resolution order (DESIGN.md, "Data root"):
- data root: ``--data-dir`` > ``LATENTMAP_DATA`` > the user cache dir (platformdirs);
- cache (parsed ``.npz`` files): ``LATENTMAP_CACHE`` > ``<data root>/cache`` when writable
  > the user cache dir, so a read-only data root still works;
- fonts: ``--fonts-dir`` > ``LATENTMAP_FONTS`` > ``<data root>/fonts``.
"""

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from ..errors import DataError, DownloadError
from .idx import read_bytes

IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@dataclass(frozen=True)
class IdxSource:
    """One of the IDX datasets: its folder name, mirrors and the SHA-256 of each
    decompressed file (robust to re-compression of the ``.gz`` containers)."""

    folder: str
    mirrors: tuple[str, ...]
    sha256: dict[str, str] = field(hash=False)
    system_dirs: tuple[str, ...] = ()


IDX_SOURCES = {
    "digits": IdxSource(
        folder="mnist",
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        sha256={
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
    ),
    "fashion": IdxSource(
        folder="fashion-mnist",
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
        ),
        sha256={
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        # Debian's dataset-fashion-mnist package.
        system_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
}


BUILTIN_SPECS = ("digits", "fashion", "numeric", "alphanumeric")  # the IDX sources and TMNIST's two


def default_root() -> Path:
    return Path(platformdirs.user_cache_dir("latentmap"))


@dataclass(frozen=True)
class DataPaths:
    root: Path
    cache: Path
    fonts: Path

    @classmethod
    def resolve(
        cls,
        data_dir: str | os.PathLike[str] | None = None,
        fonts_dir: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> "DataPaths":
        root = Path(data_dir or os.environ.get("LATENTMAP_DATA") or default_root()).expanduser()
        fonts = Path(fonts_dir or os.environ.get("LATENTMAP_FONTS") or root / "fonts").expanduser()
        cache_env = cache_dir or os.environ.get("LATENTMAP_CACHE")
        if cache_env:
            cache = Path(cache_env).expanduser()
        elif _writable(root / "cache"):
            cache = root / "cache"
        else:
            cache = default_root() / "cache"
        return cls(root=root, cache=cache, fonts=fonts)


def _writable(path: Path) -> bool:
    """Whether ``path`` exists writable or could be created (its nearest existing parent is).
    A folder whose mode has no write bit is read-only for root too (a shared data root laid
    read-only is not ours to write, though root may)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            writable = os.access(candidate, os.W_OK | os.X_OK) and bool(candidate.stat().st_mode & 0o222)
            return candidate.is_dir() and writable
    return False


def find_file(directory: Path, name: str) -> Path | None:
    """``name.gz`` or plain ``name`` inside ``directory``."""
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    return None


def local_idx_files(spec: str, paths: DataPaths) -> dict[str, Path] | None:
    """The four IDX files from the first directory that has all of them, or None."""
    source = IDX_SOURCES[spec]
    for directory in (paths.root / source.folder, paths.cache / source.folder, *map(Path, source.system_dirs)):
        found = {name: find_file(directory, name) for name in IDX_FILES}
        if all(found.values()):
            return {name: p for name, p in found.items() if p is not None}
    return None


def verified_bytes(spec: str, name: str, path: Path) -> bytes:
    """The decompressed content of one IDX file, checked against its published SHA-256."""
    data = read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    expected = IDX_SOURCES[spec].sha256[name]
    if digest != expected:
        raise DataError(
            f"{path} fails its checksum (sha256 of the decompressed content is {digest[:12]}…, "
            f"expected {expected[:12]}…): delete it so it can be fetched again"
        )
    return data


def download_idx_files(spec: str, dest: Path, mirrors: tuple[str, ...] | None = None) -> dict[str, Path]:
    """Fetch the four IDX files into ``dest``, trying each mirror in turn, each file verified."""
    import pooch  # imported lazily: only downloads need it

    source = IDX_SOURCES[spec]
    mirrors = mirrors or source.mirrors
    dest.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for name in IDX_FILES:
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + f"/{name}.gz"
            try:
                path = Path(pooch.retrieve(url, known_hash=None, fname=f"{name}.gz", path=dest, progressbar=True))
            except Exception as exc:  # network errors come in many types; try the next mirror
                errors.append(f"{url}: {type(exc).__name__}")
                continue
            try:
                verified_bytes(spec, name, path)
            except DataError as exc:
                path.unlink(missing_ok=True)
                errors.append(f"{url}: {exc}")
                continue
            files[name] = path
            break
        else:
            detail = "; ".join(errors)
            raise DownloadError(
                f"could not download {name} for '{spec}' ({detail}). Put the files in "
                f"{dest} by hand or point --data-dir / LATENTMAP_DATA at a folder that has them"
            )
    return files


def idx_files(spec: str, paths: DataPaths) -> dict[str, Path]:
    """Local files if present, else downloaded into the data root (or the cache when the
    data root is read-only)."""
    found = local_idx_files(spec, paths)
    if found is not None:
        return found
    folder = IDX_SOURCES[spec].folder
    dest = paths.root / folder if _writable(paths.root / folder) else paths.cache / folder
    return download_idx_files(spec, dest)
