"""A TMNIST dataset regrouped by typeface: one row of glyphs per typeface, one column per
character (what the typeface model trains on and completes)."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DataError, LatentmapError
from .datasets import Dataset
from .typeface_split import families


@dataclass
class GlyphGrid:
    images: np.ndarray  # (T, C, 28, 28) uint8, zeros where a glyph is missing
    present: np.ndarray  # (T, C) bool
    names: np.ndarray  # (T,) typeface names
    is_test: np.ndarray  # (T,) bool: the dataset's family split
    chars: list[str]  # the C characters, in label order
    groups: np.ndarray | None = None  # (T,) split group of each typeface (intervals resample groups)

    def __len__(self) -> int:
        return len(self.names)

    def split(self, which: str) -> "GlyphGrid":
        keep = self.is_test if which == "test" else ~self.is_test
        return self.subset(np.flatnonzero(keep))

    def subset(self, rows: np.ndarray) -> "GlyphGrid":
        groups = None if self.groups is None else self.groups[rows]
        return GlyphGrid(
            self.images[rows], self.present[rows], self.names[rows], self.is_test[rows], self.chars, groups
        )

    def row_of(self, name: str) -> int:
        """The row of typeface ``name``; an unknown name says which similar ones exist."""
        hits = np.flatnonzero(self.names == name)
        if len(hits):
            return int(hits[0])
        lowered = name.lower()
        similar = [str(n) for n in self.names if lowered in str(n).lower() or str(n).lower() in lowered][:5]
        hint = f" (similar: {', '.join(similar)})" if similar else ""
        raise LatentmapError(f"unknown typeface '{name}'{hint}")


def char_positions(chars: str | Sequence[str], charset: list[str]) -> np.ndarray:
    """Characters (a string, or any sequence of single characters: ``['H', 'a']``) -> their
    columns in ``charset``; a character outside it is refused."""
    if (
        not isinstance(chars, str)
        and isinstance(chars, Sequence)
        and all(isinstance(c, str) and len(c) == 1 for c in chars)
    ):
        chars = "".join(chars)
    if not isinstance(chars, str) or not chars:
        raise LatentmapError("give the characters as a non-empty string or list of single characters, e.g. 'Hamb'")
    unknown = sorted({c for c in chars if c not in charset})
    if unknown:
        raise LatentmapError(f"character(s) {''.join(unknown)!r} are not in this model's charset ({''.join(charset)})")
    return np.array([charset.index(c) for c in chars], dtype=np.int64)


def glyph_table(dataset: Dataset) -> np.ndarray:
    """(typefaces, characters) -> dataset row, -1 where a typeface lacks the character."""
    if dataset.typeface_ids is None:
        raise DataError(f"dataset {dataset.spec} has no typefaces: use numeric, alphanumeric or a font_set.json")
    table = np.full((len(dataset.fonts["name"]), len(dataset.label_names)), -1, np.int64)
    table[dataset.typeface_ids, dataset.labels] = np.arange(len(dataset))
    return table


def glyph_grid(dataset: Dataset) -> GlyphGrid:
    """Regroup a TMNIST dataset (or font set) by typeface: the typefaces it has glyphs of, in
    typeface-id order."""
    table = glyph_table(dataset)
    used = np.flatnonzero((table >= 0).any(axis=1))
    table = table[used]
    present = table >= 0
    images = np.where(present[..., None, None], dataset.images[np.maximum(table, 0)], 0).astype(np.uint8)
    first = table[np.arange(len(table)), present.argmax(axis=1)]  # any glyph: a typeface has one split
    is_test = dataset.is_test[first]
    names = dataset.fonts["name"][used]
    # Related families (one split group) are resampled together by the intervals over typefaces.
    groups = dataset.fonts.get("group", families(dataset.fonts))
    return GlyphGrid(images, present, names, is_test, list(dataset.label_names), groups[used])
