"""From a position on the 2D map back to a latent code, and the judge's validity of the
decodes over the whole map.

PCA is inverted exactly: its projection is affine, so regressing the codes on (x, y, 1)
recovers ``mean + xy @ components`` (the residual is orthogonal to the projection). t-SNE
and UMAP have no inverse; a smooth one is inverse-distance weighting of the codes of the
``K`` nearest points on the map (weights 1 / distance^2; a point's own code on the point).
"""

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path
from ..embed.methods import PLANE
from ..errors import RequestError

K = 8
MAX_XY = 4096
GRID = 64  # validity map cells per side
SUBSAMPLES = 2  # per cell side: each cell's validity is the mean of 2 x 2 decodes


class MapInverse:
    def __init__(self, xy: np.ndarray, codes: np.ndarray, method: str) -> None:
        self.xy = xy.astype(np.float64)
        self.codes = codes.astype(np.float64)
        self.affine: np.ndarray | None = None
        if method == PLANE:  # the map is the code plane of a 2-dim run
            self.affine = np.vstack([np.eye(2), np.zeros((1, 2))])
            self.method = "exact: the map is the 2-dim code plane itself"
        elif method == "pca":
            design = np.column_stack([self.xy, np.ones(len(xy))])
            self.affine, *_ = np.linalg.lstsq(design, self.codes, rcond=None)
            self.method = "exact inverse of the PCA projection (mean + x, y along its two components)"
        else:
            from scipy.spatial import cKDTree

            self.tree = cKDTree(self.xy)
            self.method = f"inverse-distance weighting of the codes of the {K} nearest points on the map"

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        if self.affine is not None:
            return (np.column_stack([xy, np.ones(len(xy))]) @ self.affine).astype(np.float32)
        k = min(K, len(self.xy))
        distances, index = self.tree.query(xy, k=k)
        distances, index = distances.reshape(len(xy), k), index.reshape(len(xy), k)
        weights = 1.0 / np.maximum(distances, 1e-12) ** 2
        exact = distances[:, 0] < 1e-9
        weights[exact] = 0
        weights[exact, 0] = 1
        weights /= weights.sum(axis=1, keepdims=True)
        return np.einsum("nk,nkd->nd", weights, self.codes[index]).astype(np.float32)


def check_xy(xy: Any) -> np.ndarray:
    try:
        array = np.asarray(xy, dtype=np.float64)
    except (ValueError, TypeError):
        raise RequestError("xy must be a list of [x, y] pairs") from None
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
        raise RequestError(f"xy must be a list of [x, y] pairs, got shape {list(array.shape)}")
    if len(array) > MAX_XY:
        raise RequestError(f"at most {MAX_XY} positions per request, got {len(array)}")
    if not (np.isfinite(array) & (np.abs(array) < 1e30)).all():
        raise RequestError("xy must hold finite numbers")
    return array


def extent_of(xy: np.ndarray) -> list[float]:
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    pad = 0.04 * max(x1 - x0, y1 - y0, 1e-6)
    return [float(x0 - pad), float(y0 - pad), float(x1 + pad), float(y1 + pad)]


def grid_positions(extent: list[float], size: int = GRID, sub: int = SUBSAMPLES) -> np.ndarray:
    """Sample positions, cell by cell (row-major from the top: y decreasing), ``sub`` x
    ``sub`` per cell: (size * size * sub * sub, 2)."""
    x0, y0, x1, y1 = extent
    n = size * sub
    xs = x0 + (np.arange(n) + 0.5) / n * (x1 - x0)
    ys = y1 - (np.arange(n) + 0.5) / n * (y1 - y0)
    gx, gy = np.meshgrid(xs, ys)  # (n, n), row r = y from the top
    cells = np.stack([gx, gy], axis=-1).reshape(size, sub, size, sub, 2).transpose(0, 2, 1, 3, 4)
    return cells.reshape(-1, 2)


class ValidityMaps:
    """The judge's validity over one embedding's map, computed once in the background and
    cached beside the embedding (``<name>.validity.npz``). ``key`` names what the map was
    made from: the embedding (its points and parameters) and the judge (weights and tau);
    a file with another key is stale and never shown.

    Reading (:meth:`get`) never starts work: only :meth:`start` does, which the app calls
    from a state-changing request. A failed computation is recorded and answered as such
    until the next :meth:`start`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.result: dict[str, Any] | None = None
        self.error: tuple[str, str] | None = None  # (key, message) of the last failure
        self.lock = threading.RLock()  # start() holds it across its check and the start
        self.thread: threading.Thread | None = None

    def get(self, key: str) -> tuple[str, dict[str, Any] | str | None]:
        """("ready", map), ("computing", None), ("failed", message) or ("absent", None)."""
        with self.lock:
            if self.result is not None and self.result.get("key") == key:
                return "ready", self.result
            if self.thread is not None and self.thread.is_alive():
                return "computing", None
            if self.error is not None and self.error[0] == key:
                return "failed", self.error[1]
            cached = self.read(key)
            if cached is not None:
                self.result = cached
                return "ready", cached
            return "absent", None

    def start(self, compute: Any, key: str) -> tuple[str, dict[str, Any] | str | None]:
        """Start computing the map for ``key`` unless it is ready or under way; then as :meth:`get`."""
        with self.lock:  # two POSTs at once: the second sees the first one's thread
            status, value = self.get(key)
            if status in ("ready", "computing"):
                return status, value
            self.error = None
            self.thread = threading.Thread(target=self.run, args=(compute, key), daemon=True)
            self.thread.start()
        return "computing", None

    def run(self, compute: Any, key: str) -> None:
        try:
            result = {**compute(), "key": key}
        except Exception as exc:  # reported to the page once, not retried by its polling
            with self.lock:
                self.error = (key, f"{type(exc).__name__}: {exc}".splitlines()[0])
            return
        try:  # written before it is shown, so a "ready" map is always also on disk
            with atomic_path(self.path) as tmp:
                meta = {k: v for k, v in result.items() if k != "validity"}
                np.savez(tmp, validity=np.asarray(result["validity"], np.float32), meta=np.array(json.dumps(meta)))
        except OSError:
            pass  # a read-only folder: the map stays in memory
        with self.lock:
            self.result = result

    def read(self, key: str) -> dict[str, Any] | None:
        try:
            with np.load(self.path, allow_pickle=False) as npz:
                meta = json.loads(str(npz["meta"]))
                validity = npz["validity"]
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            return None
        if not isinstance(meta, dict) or meta.get("key") != key or validity.size != meta["size"][0] * meta["size"][1]:
            return None
        return {**meta, "validity": validity.astype(float).round(4).tolist()}
