"""A trained typeface model as a plain object: typefaces (a few glyphs each) -> one code,
codes -> whole alphabets."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..data.glyphs import GlyphGrid, char_positions, glyph_grid
from ..errors import LatentmapError
from ..images import to_uint8
from ..models.typeface import TypefaceAutoencoder
from .run import RUN_CLASSES, Run

ENCODE_BATCH = 256  # typefaces per forward pass


@dataclass
class TypefaceRun(Run):
    """``encode_typeface(images, chars)`` -> one code; ``decode(codes, chars)`` -> glyphs."""

    _grid: GlyphGrid | None = field(default=None, repr=False)

    @property
    def chars(self) -> list[str]:
        return list(self.config["label_names"])

    @property
    def typeface_model(self) -> TypefaceAutoencoder:
        assert isinstance(self.model, TypefaceAutoencoder)
        return self.model

    @property
    def has_prior(self) -> bool:
        return bool(self.model.config.variational)

    def grid(self, dataset: Any = None) -> GlyphGrid:
        """The glyphs of the run's dataset by typeface (or of ``dataset``), loaded once."""
        if dataset is not None:
            return glyph_grid(dataset)
        if self._grid is None:
            from ..data import load_dataset

            self._grid = glyph_grid(load_dataset(self.dataset_spec))
        return self._grid

    def positions(self, chars: str | Sequence[str] | None) -> np.ndarray:
        """Characters -> the model's character indices (None: every character)."""
        return np.arange(len(self.chars)) if chars is None else char_positions(chars, self.chars)

    # ------------------------------------------------------------------ encode

    def encode(self, images: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        raise LatentmapError(
            "a typeface run has one code per typeface, not per glyph: use encode_typeface(images, chars) "
            "or encode_typefaces(grid)"
        )

    @torch.no_grad()
    def encode_typefaces(self, images: np.ndarray, given: np.ndarray) -> np.ndarray:
        """Stacks (T, C, 28, 28) uint8 and which glyphs to show (T, C) bool -> codes (T, d)."""
        images, given = np.asarray(images), np.asarray(given, bool)
        count = len(self.chars)
        if images.ndim != 4 or images.shape[1:] != (count, 28, 28) or given.shape != images.shape[:2]:
            raise LatentmapError(
                f"expected glyph stacks (T, {count}, 28, 28) with a (T, {count}) mask, got {images.shape} "
                f"and {given.shape}"
            )
        if len(images) and not given.any(axis=1).all():
            raise LatentmapError("every typeface needs at least one given glyph")
        self.model.eval()
        codes = []
        for start in range(0, len(images), ENCODE_BATCH):
            part, shown = images[start : start + ENCODE_BATCH], given[start : start + ENCODE_BATCH]
            features = np.zeros((*shown.shape, self.preprocessor.n_features), np.float32)
            features[shown] = self.preprocessor.transform(part[shown])
            x = torch.from_numpy(features).to(self.device)
            codes.append(self.typeface_model.encode(x, torch.from_numpy(shown).to(self.device)).cpu().numpy())
        return np.concatenate(codes) if codes else np.zeros((0, self.d_latent), np.float32)

    def codes_by_name(self, grid: GlyphGrid, names: np.ndarray) -> np.ndarray:
        """(len(names), d) codes of the typefaces called ``names``, each from all its glyphs in
        ``grid``; NaN rows for names the grid lacks."""
        row_of = {str(name): k for k, name in enumerate(grid.names)}
        codes = self.encode_typefaces(grid.images, grid.present)
        out = np.full((len(names), self.d_latent), np.nan, np.float32)
        for k, name in enumerate(names):
            if str(name) in row_of:
                out[k] = codes[row_of[str(name)]]
        return out

    def encode_typeface(self, images: np.ndarray, chars: str | Sequence[str]) -> np.ndarray:
        """A few glyphs of one typeface (k, 28, 28), uint8 or float in [0, 1], and their
        characters (a string of length k, or a list of k single characters) -> the code (d,)."""
        images = np.asarray(images)
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise LatentmapError(f"expected glyph images of shape (k, 28, 28), got {images.shape}")
        columns = self.positions(chars)
        if len(columns) != len(images):
            raise LatentmapError(f"{len(images)} glyph image(s) but {len(columns)} character(s): give one per image")
        if len(set(columns.tolist())) != len(columns):
            raise LatentmapError(f"each character may be given once, got {chars!r}")
        if images.dtype != np.uint8:
            images = to_uint8(images)
        stack = np.zeros((1, len(self.chars), 28, 28), np.uint8)
        given = np.zeros((1, len(self.chars)), bool)
        stack[0, columns], given[0, columns] = images, True
        return self.encode_typefaces(stack, given)[0]

    # ------------------------------------------------------------------ decode

    @torch.no_grad()
    def decode(  # type: ignore[override]  # a typeface code decodes to glyphs of chosen characters
        self, codes: np.ndarray, chars: str | None = None, batch_size: int = 8192
    ) -> np.ndarray:
        """Codes (N, d) -> glyphs (N, len(chars), 28, 28) float32 in [0, 1] (every character by default)."""
        codes = np.asarray(codes, dtype=np.float32)
        if codes.ndim != 2 or codes.shape[1] != self.d_latent:
            raise LatentmapError(f"expected codes of shape (N, {self.d_latent}), got {codes.shape}")
        columns = torch.from_numpy(self.positions(chars)).to(self.device)
        self.model.eval()
        z = torch.from_numpy(codes).to(self.device).repeat_interleave(len(columns), dim=0)
        chars_of = columns.repeat(len(codes))
        parts = [
            torch.sigmoid(self.typeface_model.decode_glyphs(z[i : i + batch_size], chars_of[i : i + batch_size]))
            .cpu()
            .numpy()
            for i in range(0, len(z), batch_size)
        ]
        features = np.concatenate(parts) if parts else np.zeros((0, self.preprocessor.n_features), np.float32)
        return self.preprocessor.inverse_transform(features).reshape(len(codes), len(columns), 28, 28)

    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        raise LatentmapError("a typeface run reconstructs typefaces: decode(encode_typefaces(images, given))")

    # ------------------------------------------------------------------ samplers

    def train_codes(self, dataset: Any = None, seed: int = 0) -> np.ndarray:
        """Codes of the train typefaces, each from all its glyphs (what samplers are fitted to)."""
        train = self.grid(dataset).split("train")
        return self.encode_typefaces(train.images, train.present)

    def sample(self, n: int, sampler: str = "prior", seed: int = 0, dataset: Any = None) -> np.ndarray:
        """``n`` new typefaces: (n, C, 28, 28) float32 in [0, 1]."""
        if n < 1:
            raise LatentmapError(f"asked for {n} samples: ask for at least one")
        return self.decode(self.sampler(sampler, dataset).sample(n, seed))


RUN_CLASSES["typeface"] = TypefaceRun
