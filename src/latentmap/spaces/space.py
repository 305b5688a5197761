"""Latent-space operations behind the explorer: one embedding with its run (decoder) and
dataset, loaded once; interpolation, extrapolation, analogies, decoding, neighbours,
decoding anywhere on the map, the judge's verdicts and validity map, typeface morphs and
attribute vectors.

Picks are dataset rows, so the same picks can go through several spaces (models) of one
dataset. Plain Python and numpy: the web app's routes are thin wrappers over
:class:`LatentSpace`.
"""

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.glyphs import glyph_table
from ..embed.file import Embedding, check_matches, check_weights
from ..errors import RequestError
from ..images import to_uint8
from ..quality.interpolation import INTERMEDIATE_STEPS, interpolation_weights, lerp, slerp
from .attributes import Attribute, class_attribute, has_font_metadata, tmnist_attributes
from .map_inverse import GRID, SUBSAMPLES, MapInverse, ValidityMaps, check_xy, extent_of, grid_positions
from .once import compute_in_background, once_property
from .opening import map_info, open_embedding
from .points import atlas_png, checked, points_blob

if TYPE_CHECKING:
    from ..data import Dataset
    from ..train.run import Run

MAX_SOURCES = 10
MAX_ANALOGY_ROWS = 7
MAX_DECODE = 512
MAX_MORPH_CHARS = 32
MAX_STRENGTH = 2.0
TOP_CLASSES = 3


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
    run: "Run"
    rows: np.ndarray  # (N,) int64 dataset row of each point
    dataset: Any  # latentmap.data.Dataset, shared by the spaces of one dataset
    judge_slot: Any = None  # latentmap.quality.judge.JudgeSlot: verdicts once a judge is ready

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        data_dir: str | None = None,
        fonts_dir: str | None = None,
        cache_dir: str | None = None,
        dataset: "Dataset | None" = None,
        judge_slot: Any = None,
        run: "Run | None" = None,
    ) -> "LatentSpace":
        """The space of a glyph map (a map of typefaces: :func:`latentmap.spaces.load_space`)."""
        path, embedding, run, dataset = open_embedding(path, run, dataset, data_dir, fonts_dir, cache_dir)
        if embedding.metadata.get("points") == "typefaces":
            raise RequestError(f"{path} is a map of typefaces: load it with latentmap.spaces.load_space")
        space = cls.from_embedding(path, embedding, run, dataset)
        space.judge_slot = judge_slot
        return space

    @classmethod
    def from_embedding(cls, path: Path, embedding: Embedding, run: "Run", dataset: "Dataset") -> "LatentSpace":
        """The space of a glyph map whose file, run and dataset are open."""
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
        info = {
            **map_info(path, embedding, run, dataset),
            "label_names": dataset.label_names,
            "typefaces": typeface_names,
            "categories": categories,
            "dataset_size": len(dataset),
        }
        return cls.of_map(path, info, embedding, run, dataset, dataset.images[rows], typeface_ids, category_ids)

    @classmethod
    def of_map(cls, path: Path, info: dict[str, Any], embedding: Embedding, run: "Run", dataset: "Dataset",
               images: np.ndarray, typeface_ids: np.ndarray, category_ids: np.ndarray, **more: Any) -> Any:  # fmt: skip
        """A space of the map's points (``embedding``) with the images and ids its kind shows."""
        xy, codes, labels, rows = embedding.xy, embedding.codes, embedding.labels, embedding.indices
        return cls(path, info, xy, codes, labels, images, typeface_ids, category_ids, run, rows, dataset, **more)

    @property
    def count(self) -> int:
        return len(self.labels)

    # ------------------------------------------------------------------ validation

    def check_indices(self, indices: list[int], what: str, limit: int | None = None) -> np.ndarray:
        """Point indices of this map."""
        return checked(indices, self.count, f"{what} index", what, limit)

    # ------------------------------------------------------------------ map data

    def points_blob(self) -> bytes:
        return points_blob(self.xy, self.labels, self.typeface_ids, self.category_ids, self.rows)

    @functools.lru_cache(maxsize=128)  # noqa: B019 - one LatentSpace per embedding, kept for the app's life
    def atlas_png(self, k: int) -> bytes:
        return atlas_png(self.images, k)

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

    def check_rows(self, rows: list[int], what: str, limit: int | None = None) -> np.ndarray:
        """Dataset rows (picks carry across spaces of one dataset)."""
        return checked(rows, len(self.dataset), f"{what} row", what, limit)

    def codes_of(self, rows: np.ndarray) -> np.ndarray:
        """Codes of dataset rows (the embedded points' stored codes are these same encodings)."""
        return self.run.encode(self.dataset.images[np.asarray(rows, dtype=np.int64)])

    def interpolate(self, sources: list[int], target: int, mode: str = "linear") -> np.ndarray:
        """Sources and target are point indices of this map; see :meth:`interpolate_rows`."""
        src = self.check_indices(sources, "source", MAX_SOURCES)
        if len(src) == 0:
            raise RequestError("pick at least one source")
        (tgt,) = self.check_indices([target], "target")
        return self.interpolate_rows(self.rows[src].tolist(), int(self.rows[tgt]), mode)

    def interpolate_rows(self, sources: list[int], target: int, mode: str = "linear") -> np.ndarray:
        """(n_sources, 11, 28, 28): source, 7 decodes towards the target, the target, and
        decodes 10% and 50% beyond it."""
        src = self.check_rows(sources, "source", MAX_SOURCES)
        if len(src) == 0:
            raise RequestError("pick at least one source")
        (tgt,) = self.check_rows([target], "target")
        if mode not in ("linear", "slerp"):
            raise RequestError(f"unknown interpolation mode '{mode}': use linear or slerp")
        t = interpolation_weights()
        codes = self.codes_of(np.append(src, tgt))
        a, b = codes[:-1], np.repeat(codes[-1:], len(src), axis=0)
        path = (slerp if mode == "slerp" else lerp)(a, b, t)  # (n, 9, d)
        generated = self.decode(path.reshape(-1, a.shape[1])).reshape(len(src), len(t), 28, 28)
        grid = np.empty((len(src), len(t) + 2, 28, 28), np.uint8)
        grid[:, 0] = self.dataset.images[src]
        grid[:, 1 : INTERMEDIATE_STEPS + 1] = generated[:, :INTERMEDIATE_STEPS]
        grid[:, INTERMEDIATE_STEPS + 1] = self.dataset.images[tgt]
        grid[:, INTERMEDIATE_STEPS + 2 :] = generated[:, INTERMEDIATE_STEPS:]
        return grid

    def analogy(self, cs: list[int], a: int, b: int) -> np.ndarray:
        """C, A, B are point indices of this map; see :meth:`analogy_rows`."""
        c = self.check_indices(cs, "C", MAX_ANALOGY_ROWS)
        if len(c) == 0:
            raise RequestError("pick at least one C image")
        ia, ib = self.check_indices([a, b], "A/B")
        return self.analogy_rows(self.rows[c].tolist(), int(self.rows[ia]), int(self.rows[ib]))

    def analogy_rows(self, cs: list[int], a: int, b: int) -> np.ndarray:
        """(n_c, 2, 28, 28): C and D = decode(code(C) + code(B) - code(A))."""
        c = self.check_rows(cs, "C", MAX_ANALOGY_ROWS)
        if len(c) == 0:
            raise RequestError("pick at least one C image")
        ia, ib = self.check_rows([a, b], "A/B")
        codes = self.codes_of(np.concatenate([c, [ia, ib]]))
        d = self.decode(codes[: len(c)] + codes[-1] - codes[-2])
        return np.stack([self.dataset.images[c], d], axis=1)

    # ------------------------------------------------------------------ the judge

    @property
    def judge(self) -> Any:
        slot = self.judge_slot
        return None if slot is None else slot.judge

    def judge_status(self) -> str:
        return "none" if self.judge_slot is None else str(self.judge_slot.status)

    def verdicts(self, grid: np.ndarray) -> list[list[dict[str, Any]]] | None:
        """Per cell of a (rows, cols, 28, 28) grid: valid, the class the judge sees, and its
        top classes with probabilities; None until a judge is ready."""
        judge = self.judge
        if judge is None:
            return None
        rows, cols = grid.shape[:2]
        probs, _ = judge.predict(grid.reshape(-1, 28, 28))
        top = np.argsort(-probs, axis=1)[:, :TOP_CLASSES]
        valid = judge.valid(probs)
        cells = [
            {
                "valid": bool(valid[k]),
                "label": int(top[k, 0]),
                "top": [[int(c), round(float(probs[k, c]), 4)] for c in top[k]],
            }
            for k in range(len(probs))
        ]
        return [cells[r * cols : (r + 1) * cols] for r in range(rows)]

    # ------------------------------------------------------------------ decode anywhere

    @functools.cached_property
    def inverse(self) -> MapInverse:
        return MapInverse(self.xy, self.codes, self.info["method"])

    def decode_xy(self, xy: Any) -> tuple[np.ndarray, np.ndarray]:
        """Images (n, 28, 28) uint8 decoded at map positions, and the codes used."""
        codes = self.inverse(check_xy(xy))
        return to_uint8(self.run.decode(codes)), codes

    @functools.cached_property
    def validity_maps(self) -> ValidityMaps:
        return ValidityMaps(self.path.with_name(self.path.name.removesuffix(".npz") + ".validity.npz"))

    def validity_key(self, judge: Any) -> str:
        """What a validity map depends on: this embedding's points and parameters, the
        weights that decode them, and the judge itself (its weights and tau)."""
        return f"{self.fingerprint}-{judge.fingerprint}-{GRID}x{SUBSAMPLES}"

    @functools.cached_property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.run.weights_sha256.encode())
        for array in (self.xy, self.rows):
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(json.dumps(self.info["method"]).encode())
        return digest.hexdigest()[:16]

    def validity_map(self, start: bool = False) -> tuple[str, dict[str, Any] | str | None]:
        """The judge's validity over the map (GRID x GRID cells) as (status, value): see
        :meth:`ValidityMaps.get`; ``start`` computes it (in the background) if needed."""
        judge = self.judge
        if judge is None:
            raise RequestError(f"no judge for {self.run.dataset_spec} yet ({self.judge_status()})")
        key = self.validity_key(judge)
        if start:
            return self.validity_maps.start(lambda: self.compute_validity(judge), key)
        return self.validity_maps.get(key)

    def compute_validity(self, judge: Any) -> dict[str, Any]:
        extent = extent_of(self.xy)
        positions = grid_positions(extent)
        valid = np.zeros(len(positions), bool)
        for start in range(0, len(positions), 4096):
            codes = self.inverse(positions[start : start + 4096])
            probs, _ = judge.predict(self.run.decode(codes))
            valid[start : start + 4096] = judge.valid(probs)
        cells = valid.reshape(GRID * GRID, SUBSAMPLES * SUBSAMPLES).mean(axis=1)
        return {
            "extent": extent,
            "size": [GRID, GRID],
            "validity": cells.round(4).tolist(),
            "method": self.inverse.method,
        }

    # ------------------------------------------------------------------ typefaces and attributes

    @functools.cached_property
    def glyphs(self) -> np.ndarray:
        if self.dataset.typeface_ids is None:
            raise RequestError(f"{self.run.dataset_spec} has no typefaces: morphs need TMNIST")
        return glyph_table(self.dataset)

    def morph(self, a: int, b: int, text: str) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Characters of ``text`` (or the whole charset) morphed from the typeface of row
        ``a`` to that of row ``b``: (chars, 9, 28, 28) with A's glyph, 7 steps, B's glyph;
        and a (chars,) mask of the characters both typefaces have (the rest are gaps)."""
        ia, ib = self.check_rows([a, b], "A/B")
        table = self.glyphs
        fa, fb = int(self.dataset.typeface_ids[ia]), int(self.dataset.typeface_ids[ib])
        names = self.dataset.label_names
        chars = list(dict.fromkeys(text)) if text else list(names)
        unknown = [c for c in chars if c not in names]
        if unknown:
            raise RequestError(f"characters {''.join(unknown[:5])!r} are not in this dataset's charset")
        if len(chars) > MAX_MORPH_CHARS:
            chars = chars[:MAX_MORPH_CHARS]
        positions = [names.index(c) for c in chars]
        ra, rb = table[fa, positions], table[fb, positions]
        shared = (ra >= 0) & (rb >= 0)
        if not shared.any():
            face = self.dataset.fonts["name"]
            raise RequestError(f"{face[fa]} and {face[fb]} share none of these characters: pick others")
        grid = np.zeros((len(chars), INTERMEDIATE_STEPS + 2, 28, 28), np.uint8)
        codes = self.codes_of(np.concatenate([ra[shared], rb[shared]]))
        half = int(shared.sum())
        t = interpolation_weights()[:INTERMEDIATE_STEPS]
        steps = self.decode(lerp(codes[:half], codes[half:], t).reshape(-1, codes.shape[1]))
        grid[shared, 0] = self.dataset.images[ra[shared]]
        grid[shared, 1:-1] = steps.reshape(half, INTERMEDIATE_STEPS, 28, 28)
        grid[shared, -1] = self.dataset.images[rb[shared]]
        return grid, chars, shared

    @once_property
    def attributes(self) -> dict[str, Attribute]:
        """TMNIST attribute vectors (heavy): computed once, at the app's start (prepare)."""
        has_fonts = self.dataset.typeface_ids is not None and has_font_metadata(self.dataset)
        return {a.name: a for a in tmnist_attributes(self.dataset, self.codes_of)} if has_fonts else {}

    def prepare(self) -> None:
        """Start the heavy derived data in the background at start-up: no request starts it."""
        if has_font_metadata(self.dataset):
            compute_in_background(self, "attributes")

    def attribute(self, name: str) -> Attribute:
        if name.startswith("class:"):
            if self.dataset.typeface_ids is not None:
                raise RequestError("class-difference vectors are for digits and fashion")
            return class_attribute(self.dataset, self.codes_of, name)
        if self.dataset.typeface_ids is None:
            raise RequestError(f"'{name}' needs TMNIST: use class:A-B here")
        if not has_font_metadata(self.dataset):
            raise RequestError("this TMNIST has no weight/style/category columns (no manifest.csv): no attributes")
        if name not in self.attributes:
            raise RequestError(f"unknown attribute '{name}': use one of {', '.join(self.attributes) or 'none'}")
        return self.attributes[name]

    def apply_attribute(self, rows: list[int], name: str, strength: float) -> tuple[np.ndarray, Attribute]:
        """(rows, 3, 28, 28): each picked image, its reconstruction, and the decode of its
        code + strength x the attribute vector."""
        picked = self.check_rows(rows, "picked", MAX_SOURCES)
        if len(picked) == 0:
            raise RequestError("pick at least one image")
        if not -MAX_STRENGTH <= strength <= MAX_STRENGTH:
            raise RequestError(f"strength must lie in [-{MAX_STRENGTH:g}, {MAX_STRENGTH:g}]")
        attribute = self.attribute(name)
        codes = self.codes_of(picked)
        decoded = self.decode(np.concatenate([codes, codes + strength * attribute.vector]))
        grid = np.stack([self.dataset.images[picked], decoded[: len(picked)], decoded[len(picked) :]], axis=1)
        return grid, attribute

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
