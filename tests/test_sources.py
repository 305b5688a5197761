import contextlib
import dataclasses
import functools
import gzip
import http.server
import threading
from pathlib import Path

import pytest

from latentmap import load_dataset
from latentmap.data import sources
from latentmap.data.sources import DataPaths
from latentmap.errors import DownloadError


@contextlib.contextmanager
def serve(directory: Path):
    """A static file server on 127.0.0.1 (tests never touch the network)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_download_verifies_each_file(datasets_dir, tmp_path):
    with serve(datasets_dir / "mnist") as url:
        files = sources.download_idx_files("digits", tmp_path / "mnist", mirrors=(url,))
    assert sorted(files) == sorted(sources.IDX_FILES)
    assert all(p.is_file() for p in files.values())


def test_download_falls_back_to_the_next_mirror(datasets_dir, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with serve(empty) as broken, serve(datasets_dir / "fashion-mnist") as good:
        files = sources.download_idx_files("fashion", tmp_path / "f", mirrors=(broken, good))
    assert len(files) == 4


def test_corrupt_download_is_rejected_and_removed(datasets_dir, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    first = sources.IDX_FILES[0]  # fetched first: its checksum fails before any other is asked for
    raw = bytearray(gzip.decompress((datasets_dir / "mnist" / f"{first}.gz").read_bytes()))
    raw[-1] ^= 0xFF
    (bad / f"{first}.gz").write_bytes(gzip.compress(bytes(raw), compresslevel=1))  # level 9 took ~10 s
    dest = tmp_path / "dest"
    with serve(bad) as url, pytest.raises(DownloadError, match="fails its checksum"):
        sources.download_idx_files("digits", dest, mirrors=(url,))
    assert not any(dest.glob("*.gz"))


def test_load_dataset_downloads_when_nothing_is_local(datasets_dir, tmp_path, monkeypatch):
    with serve(datasets_dir / "mnist") as url:
        patched = dataclasses.replace(sources.IDX_SOURCES["digits"], mirrors=(url,))
        monkeypatch.setitem(sources.IDX_SOURCES, "digits", patched)
        data = load_dataset("digits", data_dir=tmp_path / "root", cache_dir=tmp_path / "cache", split="test")
    assert len(data) == 10000 and data.labels[0] == 7
    assert (tmp_path / "root" / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file()


def test_path_resolution_order(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTMAP_DATA", str(tmp_path / "env-root"))
    monkeypatch.setenv("LATENTMAP_FONTS", str(tmp_path / "env-fonts"))
    monkeypatch.delenv("LATENTMAP_CACHE", raising=False)
    paths = DataPaths.resolve()
    assert paths.root == tmp_path / "env-root"
    assert paths.fonts == tmp_path / "env-fonts"
    assert paths.cache == tmp_path / "env-root" / "cache"
    explicit = DataPaths.resolve(data_dir=tmp_path / "flag", fonts_dir=tmp_path / "ff", cache_dir=tmp_path / "cc")
    assert (explicit.root, explicit.fonts, explicit.cache) == (tmp_path / "flag", tmp_path / "ff", tmp_path / "cc")


def test_unwritable_root_caches_elsewhere(tmp_path, monkeypatch):
    root = tmp_path / "a-file-not-a-folder"
    root.write_text("")
    monkeypatch.delenv("LATENTMAP_CACHE", raising=False)
    assert DataPaths.resolve(data_dir=root).cache == sources.default_root() / "cache"


def test_missing_shared_data_fails_under_ci(tmp_path, monkeypatch):
    from tests.conftest import require

    monkeypatch.setenv("LATENTMAP_REQUIRE_DATA", "1")
    with pytest.raises(pytest.fail.Exception, match="LATENTMAP_REQUIRE_DATA"):
        require(tmp_path / "missing")
    monkeypatch.delenv("LATENTMAP_REQUIRE_DATA")
    with pytest.raises(pytest.skip.Exception):
        require(tmp_path / "missing")
