"""Latent-space operations behind the explorer: one embedding with its run (decoder) and
dataset, loaded once; interpolation, extrapolation, analogies, decoding, neighbours.

Plain Python and numpy: the web app's routes are thin wrappers over :class:`LatentSpace`.
"""

import functools
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .embedding import check_matches, check_weights, load_embedding
from .errors import RequestError

MAX_SOURCES = 10
MAX_ANALOGY_ROWS = 7
MAX_DECODE = 512
INTERMEDIATE_STEPS = 7
EXTRAPOLATIONS = (0.1, 0.5)  # beyond the target, as fractions of the source -> target step
ATLAS_COLUMNS = 64  # 64 x 64 thumbnails of 28 px: 1792 px square atlases
ATLAS_SIZE = ATLAS_COLUMNS * ATLAS_COLUMNS


def interpolation_weights() -> np.ndarray:
    """t for the 7 intermediate steps, then the extrapolations past the target (1.1, 1.5)."""
    inner = np.arange(1, INTERMEDIATE_STEPS + 1) / (INTERMEDIATE_STEPS + 1)
    return np.concatenate([inner, 1 + np.array(EXTRAPOLATIONS)])


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(n, d) x (n, d) x (m,) -> (n, m, d)."""
    return a[:, None, :] + t[None, :, None] * (b - a)[:, None, :]


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation (White 2016); also extrapolates for t > 1. Falls back to
    linear where the two codes are (anti)parallel or zero."""
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    cos = np.clip(np.einsum("nd,nd->n", a, b) / np.maximum(norms, 1e-12), -1.0, 1.0)
    omega = np.arccos(cos)[:, None]
    sin = np.sin(omega)
    safe = (sin[:, 0] > 1e-6) & (norms > 1e-12)
    wa = np.where(safe[:, None], np.sin((1 - t)[None, :] * omega) / np.where(sin == 0, 1, sin), 1 - t[None, :])
    wb = np.where(safe[:, None], np.sin(t[None, :] * omega) / np.where(sin == 0, 1, sin), t[None, :])
    return wa[:, :, None] * a[:, None, :] + wb[:, :, None] * b[:, None, :]


def to_uint8(images: np.ndarray) -> np.ndarray:
    return np.clip(np.round(images * 255), 0, 255).astype(np.uint8)


@dataclass(eq=False)  # identity hashing: the per-instance caches below key on it
class LatentSpace:
    """Everything the explorer needs about one embedding."""

    path: Path
    info: dict[str, Any]
    xy: np.ndarray  # (N, 2) float32
    codes: np.ndarray  # (N, d) float32
    labels: np.ndarray  # (N,) int64
    images: np.ndarray  # (N, 28, 28) uint8, the dataset rows of the embedded points
    typeface_ids: np.ndarray  # (N,) int32, -1 outside TMNIST
    category_ids: np.ndarray  # (N,) int16, -1 when unknown
    run: Any  # latentmap.runs.Run

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        data_dir: str | None = None,
        fonts_dir: str | None = None,
        cache_dir: str | None = None,
    ) -> "LatentSpace":
        from .data import load_dataset
        from .runs import load_run

        path = Path(path)
        embedding = load_embedding(path)
        meta = embedding.metadata
        run = load_run(meta["run"])
        dataset = load_dataset(run.dataset_spec, data_dir=data_dir, fonts_dir=fonts_dir, cache_dir=cache_dir)
        check_matches(embedding, run.dataset_spec, len(dataset), d_latent=run.d_latent)
        check_weights(embedding, run.weights_sha256)
        rows = embedding.indices
        typeface_ids = np.full(len(rows), -1, np.int32)
        category_ids = np.full(len(rows), -1, np.int16)
        typeface_names: list[str] = []
        categories: list[str] = []
        if dataset.typeface_ids is not None:
            typeface_ids = dataset.typeface_ids[rows].astype(np.int32)
            typeface_names = dataset.fonts["name"].tolist()
            categories = sorted({c for c in dataset.fonts["category"].tolist() if c})
            if categories:
                lookup = {c: i for i, c in enumerate(categories)}
                per_font = np.array([lookup.get(c, -1) for c in dataset.fonts["category"]], dtype=np.int16)
                category_ids = per_font[typeface_ids]
        n = len(rows)
        info = {
            "name": path.name.removesuffix(".npz"),
            "run": meta.get("run_name", Path(meta["run"]).name),
            "dataset": run.dataset_spec,
            "method": meta.get("method", ""),
            "kind": run.kind,
            "d_latent": run.d_latent,
            "count": n,
            "split": embedding.split,
            "label_names": dataset.label_names,
            "typefaces": typeface_names,
            "categories": categories,
            "atlas": {"columns": ATLAS_COLUMNS, "per_atlas": ATLAS_SIZE, "thumb": 28, "count": -(-n // ATLAS_SIZE)},
            "quality": meta.get("quality", {}),
            "points_layout": points_layout(n),
        }
        return cls(
            path,
            info,
            embedding.xy,
            embedding.codes,
            embedding.labels,
            dataset.images[rows],
            typeface_ids,
            category_ids,
            run,
        )

    @property
    def count(self) -> int:
        return len(self.labels)

    # ------------------------------------------------------------------ validation

    def check_indices(self, indices: list[int], what: str, limit: int | None = None) -> np.ndarray:
        if limit is not None and len(indices) > limit:
            raise RequestError(f"at most {limit} {what} allowed, got {len(indices)}")
        # Checked as Python integers: numpy would overflow on values beyond int64.
        bad = [i for i in indices if not 0 <= i < self.count]
        if bad:
            raise RequestError(f"{what} index {bad[0]} is out of range (0..{self.count - 1})")
        return np.asarray(indices, dtype=np.int64)

    # ------------------------------------------------------------------ map data

    def points_blob(self) -> bytes:
        """xy float32 (N*2), labels uint16, typeface ids int32, category ids int16,
        little-endian, at the offsets of ``info['points_layout']``."""
        parts = [
            self.xy.astype("<f4").tobytes(),
            self.labels.astype("<u2").tobytes(),
            self.typeface_ids.astype("<i4").tobytes(),
            self.category_ids.astype("<i2").tobytes(),
        ]
        layout = points_layout(self.count)
        blob = bytearray(layout["bytes"])
        for part, key in zip(parts, ("xy", "labels", "typefaces", "categories"), strict=True):
            blob[layout[key] : layout[key] + len(part)] = part
        return bytes(blob)

    @functools.lru_cache(maxsize=128)  # noqa: B019 - one LatentSpace per embedding, kept for the app's life
    def atlas_png(self, k: int) -> bytes:
        """Thumbnails ``k*4096 .. k*4096+4095`` as a 64-column grayscale PNG (white ink)."""
        from PIL import Image

        count = self.info["atlas"]["count"]
        if not 0 <= k < count:
            raise RequestError(f"atlas {k} does not exist (0..{count - 1})")
        thumbs = self.images[k * ATLAS_SIZE : (k + 1) * ATLAS_SIZE]
        rows = -(-len(thumbs) // ATLAS_COLUMNS)
        padded = np.zeros((rows * ATLAS_COLUMNS, 28, 28), np.uint8)
        padded[: len(thumbs)] = thumbs
        sheet = padded.reshape(rows, ATLAS_COLUMNS, 28, 28).transpose(0, 2, 1, 3).reshape(rows * 28, ATLAS_COLUMNS * 28)
        out = io.BytesIO()
        Image.fromarray(sheet).save(out, format="PNG", compress_level=1)
        return out.getvalue()

    # ------------------------------------------------------------------ operations

    def decode(self, codes: np.ndarray | list[list[float]]) -> np.ndarray:
        """(n, d) codes -> (n, 28, 28) uint8 images."""
        try:
            codes = np.asarray(codes, dtype=np.float64)
        except (ValueError, TypeError):  # ragged rows, non-numbers
            raise RequestError(f"codes must be a list of rows of {self.run.d_latent} numbers each") from None
        if codes.ndim != 2 or codes.shape[1] != self.run.d_latent:
            raise RequestError(f"codes must have shape (n, {self.run.d_latent}), got {list(codes.shape)}")
        if len(codes) > MAX_DECODE:
            raise RequestError(f"at most {MAX_DECODE} codes per request, got {len(codes)}")
        if not (np.isfinite(codes) & (np.abs(codes) < 1e30)).all():
            raise RequestError("codes must be finite numbers (|x| < 1e30)")
        return to_uint8(self.run.decode(codes.astype(np.float32)))

    def interpolate(self, sources: list[int], target: int, mode: str = "linear") -> np.ndarray:
        """(n_sources, 11, 28, 28): source, 7 decodes towards the target, the target, and
        decodes 10% and 50% beyond it."""
        src = self.check_indices(sources, "source", MAX_SOURCES)
        if len(src) == 0:
            raise RequestError("pick at least one source")
        (tgt,) = self.check_indices([target], "target")
        if mode not in ("linear", "slerp"):
            raise RequestError(f"unknown interpolation mode '{mode}': use linear or slerp")
        t = interpolation_weights()
        a, b = self.codes[src], np.repeat(self.codes[tgt][None], len(src), axis=0)
        path = (slerp if mode == "slerp" else lerp)(a, b, t)  # (n, 9, d)
        generated = self.decode(path.reshape(-1, a.shape[1])).reshape(len(src), len(t), 28, 28)
        grid = np.empty((len(src), len(t) + 2, 28, 28), np.uint8)
        grid[:, 0] = self.images[src]
        grid[:, 1 : INTERMEDIATE_STEPS + 1] = generated[:, :INTERMEDIATE_STEPS]
        grid[:, INTERMEDIATE_STEPS + 1] = self.images[tgt]
        grid[:, INTERMEDIATE_STEPS + 2 :] = generated[:, INTERMEDIATE_STEPS:]
        return grid

    def analogy(self, cs: list[int], a: int, b: int) -> np.ndarray:
        """(n_c, 2, 28, 28): C and D = decode(code(C) + code(B) - code(A))."""
        c = self.check_indices(cs, "C", MAX_ANALOGY_ROWS)
        if len(c) == 0:
            raise RequestError("pick at least one C image")
        ia, ib = self.check_indices([a, b], "A/B")
        d = self.decode(self.codes[c] + self.codes[ib] - self.codes[ia])
        return np.stack([self.images[c], d], axis=1)

    @functools.cached_property
    def _neighbour_index(self) -> Any:
        from sklearn.neighbors import NearestNeighbors

        return NearestNeighbors().fit(self.codes)

    def neighbours(self, index: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest points to ``index`` in the latent space (itself excluded)."""
        (i,) = self.check_indices([index], "point")
        if not 1 <= k <= 100:
            raise RequestError("k must be between 1 and 100")
        k = min(k, self.count - 1)
        distances, rows = self._neighbour_index.kneighbors(self.codes[i : i + 1], n_neighbors=k + 1)
        keep = rows[0] != i
        return rows[0][keep][:k], distances[0][keep][:k]


def points_layout(n: int) -> dict[str, int]:
    """Byte offsets of the arrays in :meth:`LatentSpace.points_blob` (each 4-byte aligned)."""

    def aligned(x: int) -> int:
        return -(-x // 4) * 4

    xy = 0
    labels = aligned(xy + 8 * n)
    typefaces = aligned(labels + 2 * n)
    categories = aligned(typefaces + 4 * n)
    return {
        "xy": xy,
        "labels": labels,
        "typefaces": typefaces,
        "categories": categories,
        "bytes": aligned(categories + 2 * n),
    }
