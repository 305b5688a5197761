"""Shared fixtures: real data from ../shared (MNIST, Fashion-MNIST, the font corpus).

``LATENTMAP_SHARED`` overrides where the shared folder is; by default it sits beside the
repository, as in CI.
"""

import csv
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

# `make test` runs the files on two pytest-xdist workers (one file per worker at a time):
# each worker and the processes it starts get their share of the cores, not all of them.
WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if WORKERS > 1:
    import torch

    THREADS = str(max(1, (os.cpu_count() or 1) // WORKERS))
    os.environ.setdefault("OMP_NUM_THREADS", THREADS)  # training, torchrun and sweep subprocesses
    os.environ.setdefault("LATENTMAP_THREADS", THREADS)
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

# The longest files first, so that no long file is left to run alone at the end.
LONGEST_FIRST = ["test_readme.py", "test_training.py", "test_sweep.py", "test_explorer_browser.py"]
LONGEST_FIRST += ["test_distributed.py", "test_families.py", "test_typeface_model.py", "test_explorer_features.py"]
LONGEST_FIRST += ["test_run_directory.py", "test_typeface_explorer.py", "test_widget.py"]
LONGEST_FIRST += ["test_commands.py", "test_quality.py", "test_request_policy.py", "test_fonts_browser.py"]

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LATENTMAP_SHARED", REPO.parent / "shared"))
DATASETS = SHARED / "datasets"
FONTS = SHARED / "fonts" / "google"

# A small, varied slice of the corpus, including fonts with known blank glyphs.
SMALL_FONTS = [
    "ABeeZee-Regular",
    "Abel-Regular",
    "AbrilFatface-Regular",
    "Italiana-Regular",
    "BIZUDGothic-Regular",
    "OpenSans-Bold",
    "OpenSans-Italic",
    "Roboto-Regular",
    "Lobster-Regular",
    "PlayfairDisplay-Regular",
    "SourceCodePro-Regular",
    "Pacifico-Regular",
    "Merriweather-Regular",
    "Oswald-Regular",
    "Lato-Black",
    "Inconsolata-Regular",
    "DancingScript-Regular",
    "Bangers-Regular",
    "CourierPrime-Regular",
    "Raleway-Light",
]


def require(path: Path) -> Path:
    """Skip without the shared data, but fail under CI (LATENTMAP_REQUIRE_DATA=1): there a
    missing folder is a broken setup, not a reason to pass."""
    if not path.exists():
        if os.environ.get("LATENTMAP_REQUIRE_DATA"):
            pytest.fail(f"shared data not found at {path} and LATENTMAP_REQUIRE_DATA is set")
        pytest.skip(f"shared data not found at {path} (set LATENTMAP_SHARED)")
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    return require(DATASETS)


@pytest.fixture(scope="session")
def fonts_dir() -> Path:
    return require(FONTS)


def shared_path(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A path that every pytest-xdist worker of this run shares (beside the workers' own
    temporary folders), so what one worker builds the other reads instead of building it again."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name


def built_once(folder: Path, build: Callable[[Path], None]) -> Path:
    """``folder``, built by the first worker that asks (the others wait on a file lock, then
    read it); a build that failed is started again by the next one."""
    from filelock import FileLock

    with FileLock(f"{folder}.lock"):
        if not (folder / ".built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            build(folder)
            (folder / ".built").touch()
    return folder


@pytest.fixture(scope="session")
def small_fonts_dir(tmp_path_factory: pytest.TempPathFactory, fonts_dir: Path) -> Path:
    """About 20 real font files and the matching manifest rows, in a folder of their own
    (one for all workers: the TMNIST caches built from it are keyed by its files)."""
    return built_once(shared_path(tmp_path_factory, "fonts"), lambda folder: copy_small_fonts(fonts_dir, folder))


def copy_small_fonts(fonts_dir: Path, folder: Path) -> None:
    available = {p.stem: p for p in fonts_dir.glob("*.woff2")}
    chosen = [available[name] for name in SMALL_FONTS if name in available]
    assert len(chosen) >= 15, "the shared font corpus is missing the fonts these tests use"
    for path in chosen:
        shutil.copy(path, folder / path.name)
    with open(fonts_dir / "manifest.csv", newline="") as src, open(folder / "manifest.csv", "w", newline="") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        names = {p.name for p in chosen}
        writer.writerows(row for row in reader if row["file"] in names)


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory, datasets_dir: Path, small_fonts_dir: Path) -> Path:
    """One cache for all workers: the parsed datasets (built here, once, before any test can
    race to build them) and every judge a test trains with the same settings."""
    from latentmap import load_dataset

    def build(folder: Path) -> None:
        for spec in ("digits", "fashion", "numeric", "alphanumeric"):
            load_dataset(spec, data_dir=datasets_dir, fonts_dir=small_fonts_dir, cache_dir=folder)

    return built_once(shared_path(tmp_path_factory, "cache"), build)


@pytest.fixture(scope="session")
def data_opts(datasets_dir: Path, session_cache: Path) -> dict[str, str]:
    """Where the shared datasets and the shared cache are, as load_dataset / TrainOptions take them."""
    return {"data_dir": str(datasets_dir), "cache_dir": str(session_cache)}


@pytest.fixture(scope="session")
def digits(data_opts: dict[str, str]):
    from latentmap import load_dataset

    return load_dataset("digits", **data_opts)


@pytest.fixture
def data_env(monkeypatch: pytest.MonkeyPatch, datasets_dir: Path, small_fonts_dir: Path, session_cache: Path) -> Path:
    """Point latentmap at the shared (read-only) datasets, a small font folder and a
    session-wide cache, as CI does with the full corpus."""
    monkeypatch.setenv("LATENTMAP_DATA", str(datasets_dir))
    monkeypatch.setenv("LATENTMAP_FONTS", str(small_fonts_dir))
    monkeypatch.setenv("LATENTMAP_CACHE", str(session_cache))
    return session_cache


@pytest.fixture(autouse=True)
def small_quality_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The latent-quality metrics on 1,000 real images and samples instead of 5,000 (and
    samplers fitted to 5,000 codes instead of 20,000, FID intervals from 100 replicates
    instead of 500): the same code, a fifth of the work."""
    from latentmap.quality import metrics, stats
    from latentmap.train import samplers

    monkeypatch.setattr(stats, "N_BOOT_SETWISE", 100)  # FID intervals from 100 replicates, not 500
    monkeypatch.setattr(metrics, "REAL_SAMPLES", 1000)
    monkeypatch.setattr(metrics, "PRIOR_SAMPLES", 1000)
    monkeypatch.setattr(metrics, "TRAIN_CODES", 5000)
    monkeypatch.setattr(samplers, "FIT_CODES", 5000)
