"""The explorer's typeface mode: a map of a typeface run's codes, one point per typeface.

Every answer is text set in a typeface: the typeface at a point or at any map position,
interpolation between two typefaces as whole-text strips, attribute vectors (bolder, italic,
serif) acting on typeface codes, and new typefaces from the run's samplers; the judge reads
every glyph and a glyph counts as valid when it is confident *and* reads the intended
character. Points are rows of the run's glyph grid (typefaces), not dataset rows.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..data.glyphs import GlyphGrid, glyph_grid
from ..embed.file import Embedding, check_matches, check_weights
from ..embed.typefaces import categories
from ..errors import LatentmapError, RequestError
from ..images import to_uint8
from ..quality.interpolation import INTERMEDIATE_STEPS, interpolation_weights, lerp
from ..train.typeface import TypefaceRun
from .attributes import Attribute, has_font_metadata, typeface_pairs
from .map_inverse import check_xy
from .once import once_property
from .opening import map_info
from .samples import offered
from .space import MAX_SOURCES, MAX_STRENGTH, LatentSpace

if TYPE_CHECKING:
    from ..data import Dataset
    from ..train.run import Run

DEFAULT_TEXT = "Hamburgefonstiv"
MAX_TEXT = 24
MAX_SAMPLES = 16
# Glyphs one request may decode and judge (rows x characters): the page's largest asks for
# 480 (10 typefaces and their attribute rows x 24 characters); a small body must not buy
# a hundred thousand decodes and a hundred megabytes of answer.
MAX_GLYPHS = 512


@dataclass(eq=False)
class TypefaceSpace(LatentSpace):
    """A map of typefaces; ``rows`` are glyph-grid rows, ``typeface_ids`` the same rows."""

    grid: GlyphGrid | None = None

    @property
    def chars(self) -> list[str]:
        """The charset of the typeface run behind the map (from_embedding checks its kind)."""
        return cast(TypefaceRun, self.run).chars

    @classmethod
    def from_embedding(cls, path: Path, embedding: Embedding, run: "Run", dataset: "Dataset") -> "TypefaceSpace":
        """The space of a typeface map (``load_space`` reads the file, the run and the dataset)."""
        if not isinstance(run, TypefaceRun):
            raise LatentmapError(f"{path} is a typeface map but {run.path} is a {run.kind} run: re-run latentmap embed")
        grid = glyph_grid(dataset)
        check_matches(embedding, run.dataset_spec, len(grid), d_latent=run.d_latent)
        check_weights(embedding, run.weights_sha256)
        rows = embedding.indices
        labels, names = categories(dataset, grid)
        text = "".join(c for c in DEFAULT_TEXT if c in run.chars) or "".join(run.chars[:MAX_TEXT])
        info = {
            **map_info(path, embedding, run, dataset),
            "mode": "typeface",
            "label_names": names,
            "chars": run.chars,
            "text": text,
            "thumbnail": embedding.metadata.get("thumbnail", ""),
            "typefaces": grid.names.tolist(),
            "categories": names,
            "dataset_size": len(grid),
            "samplers": offered(run),
        }
        thumbnail = run.chars.index(info["thumbnail"]) if info["thumbnail"] in run.chars else 0
        images = np.where(grid.present[rows, thumbnail][:, None, None], grid.images[rows, thumbnail], 0)
        space: TypefaceSpace = cls.of_map(
            path,
            info,
            embedding,
            run,
            dataset,
            images.astype(np.uint8),
            rows.astype(np.int32),
            labels[rows].astype(np.int16),
            grid=grid,
        )
        return space

    @property
    def typeface_run(self) -> TypefaceRun:
        assert isinstance(self.run, TypefaceRun)
        return self.run

    # ------------------------------------------------------------------ text

    def text_of(self, text: str) -> str:
        text = text or self.info["text"]
        if len(text) > MAX_TEXT:
            raise RequestError(f"at most {MAX_TEXT} characters of text, got {len(text)}")
        unknown = sorted({c for c in text if c not in self.chars})
        if unknown:
            raise RequestError(f"characters {''.join(unknown[:5])!r} are not in this model's charset")
        return text

    def check_glyphs(self, rows: int, text: str) -> str:
        """The text to set, once ``rows`` x its characters is known to be within MAX_GLYPHS."""
        text = self.text_of(text)
        if rows * len(text) > MAX_GLYPHS:
            raise RequestError(
                f"{rows} rows x {len(text)} characters = {rows * len(text)} glyphs: at most {MAX_GLYPHS} per "
                "request (fewer typefaces or positions, or a shorter text)"
            )
        return text

    def set_text(self, codes: np.ndarray, text: str) -> np.ndarray:
        """Codes (n, d) -> the text set in each: (n, len(text), 28, 28) uint8."""
        text = self.check_glyphs(len(codes), text)
        return to_uint8(self.typeface_run.decode(np.asarray(codes, np.float32), text))

    def text_verdicts(self, grid: np.ndarray, text: str) -> list[list[dict[str, Any]]] | None:
        """The judge's verdict per glyph: valid when confident and reading the intended character."""
        verdicts = self.verdicts(grid)
        if verdicts is None:
            return None
        wanted = [self.chars.index(c) for c in self.text_of(text)]
        for row in verdicts:
            for cell, char in zip(row, wanted, strict=True):
                cell["valid"] = bool(cell["valid"] and cell["label"] == char)
        return verdicts

    # ------------------------------------------------------------------ operations

    def typeface_text(self, points: list[int], xy: Any, text: str) -> tuple[np.ndarray, list[str]]:
        """The text in the typefaces at ``points`` and at map positions ``xy``; row names."""
        if not points and not xy:
            raise RequestError("give points or xy positions")
        picked = self.check_indices(points, "point", MAX_SOURCES)
        self.check_glyphs(len(picked) + len(xy), text)  # before any decoding
        codes = [self.codes[picked]]
        names = [self.info["typefaces"][self.rows[i]] for i in picked]
        if xy:
            positions = check_xy(xy)
            codes.append(self.inverse(positions))
            names += [f"map ({x:.2f}, {y:.2f})" for x, y in positions]
        return self.set_text(np.concatenate(codes), text), names

    def typeface_interpolate(self, a: int, b: int, text: str) -> np.ndarray:
        """(9, len(text), 28, 28): the text in typeface A, 7 steps, typeface B (all decoded)."""
        ia, ib = self.check_indices([a, b], "A/B")
        t = np.concatenate([[0.0], interpolation_weights()[:INTERMEDIATE_STEPS], [1.0]])
        path = lerp(self.codes[ia : ia + 1], self.codes[ib : ib + 1], t)[0]
        return self.set_text(path, text)

    @once_property
    def attributes(self) -> dict[str, Attribute]:
        """bolder, italic, serif as differences of typeface codes (see explore.attributes)."""
        dataset = self.dataset
        if not has_font_metadata(dataset) or self.grid is None:
            return {}
        by_font = self.typeface_run.codes_by_name(self.grid, dataset.fonts["name"])
        out = {}
        for name, what in (
            ("bolder", "typeface weight >= 700 minus 400, same family and style"),
            ("italic", "italic minus normal typeface, same family and weight"),
        ):
            pairs = np.array(typeface_pairs(dataset, name), dtype=np.int64).reshape(-1, 2)
            differences = by_font[pairs[:, 1]] - by_font[pairs[:, 0]]
            differences = differences[np.isfinite(differences).all(axis=1)]
            if len(differences):
                out[name] = Attribute(name, what, len(differences), differences.mean(axis=0))
        category = dataset.fonts["category"]
        serif, sans = by_font[category == "serif"], by_font[category == "sans-serif"]
        serif, sans = serif[np.isfinite(serif).all(axis=1)], sans[np.isfinite(sans).all(axis=1)]
        if len(serif) and len(sans):
            vector = serif.mean(axis=0) - sans.mean(axis=0)
            out["serif"] = Attribute(
                "serif", "mean serif minus mean sans-serif typeface", len(serif) + len(sans), vector
            )
        return out

    def typeface_attribute(
        self, points: list[int], name: str, strength: float, text: str
    ) -> tuple[np.ndarray, Attribute]:
        """(2 x points, len(text), 28, 28): each typeface's text, then with code + strength x vector."""
        picked = self.check_indices(points, "point", MAX_SOURCES)
        if len(picked) == 0:
            raise RequestError("pick at least one typeface")
        if not -MAX_STRENGTH <= strength <= MAX_STRENGTH:
            raise RequestError(f"strength must lie in [-{MAX_STRENGTH:g}, {MAX_STRENGTH:g}]")
        if name not in self.attributes:
            raise RequestError(f"unknown attribute '{name}': use one of {', '.join(self.attributes) or 'none'}")
        attribute = self.attributes[name]
        codes = self.codes[picked]
        moved = codes + strength * attribute.vector
        return self.set_text(np.stack([codes, moved], axis=1).reshape(-1, codes.shape[1]), text), attribute

    def typeface_samples(self, sampler: str, n: int, seed: int, text: str) -> np.ndarray:
        """(n, len(text), 28, 28): new typefaces from the run's sampler."""
        if not 1 <= n <= MAX_SAMPLES:
            raise RequestError(f"n must be between 1 and {MAX_SAMPLES}")
        if sampler not in self.info["samplers"]:
            raise RequestError(f"this typeface run offers the samplers {', '.join(self.info['samplers'])}")
        try:
            codes = self.run.sampler(sampler, self.dataset).sample(n, seed)
        except LatentmapError as error:
            raise RequestError(str(error)) from None
        return self.set_text(codes, text)

    # ------------------------------------------------------------------ glyph-level operations do not apply

    def not_here(self, *args: Any, **kwargs: Any) -> Any:
        raise RequestError("this is a typeface map: use the /typeface/ routes (text, interpolate, attribute, samples)")

    codes_of = decode = decode_xy = apply_attribute = morph = validity_map = not_here
