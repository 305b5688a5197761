"""The per-typeface view of a TMNIST dataset: which glyph row each (typeface, character) is,
and one vector per typeface (its images of the chosen characters, concatenated).
"""

import numpy as np

from ..data import Dataset
from ..data.tmnist import GOOD
from ..errors import LatentmapError, RequestError


class ClusteringError(RequestError):
    """Parameters that cannot work (unknown characters, more clusters than typefaces, ...)."""


class TypefaceCorpus:
    """The per-typeface view of a TMNIST dataset: which glyph row each (typeface, char) is."""

    def __init__(self, dataset: Dataset) -> None:
        if dataset.typeface_ids is None:
            raise LatentmapError(f"{dataset.spec} has no typefaces: use alphanumeric or numeric")
        self.dataset = dataset
        self.names = dataset.fonts["name"]
        self.chars = "".join(dataset.label_names)
        table = np.full((len(self.names), len(self.chars)), -1, dtype=np.int64)
        table[dataset.typeface_ids, dataset.labels] = np.arange(len(dataset))
        self.table = table  # (typefaces, chars) -> dataset row, -1 where the glyph is missing
        self.good = [c for c in GOOD if c in self.chars]
        good = [self.chars.index(c) for c in self.good]
        self.glyph_counts = {"all": (table >= 0).sum(axis=1), "good": (table[:, good] >= 0).sum(axis=1)}

    def positions(self, chars: str | list[str]) -> list[int]:
        chars = list(chars)
        unknown = [c for c in chars if c not in self.chars]
        if unknown:
            raise ClusteringError(f"unknown characters {unknown[:5]}: choose among the dataset's {len(self.chars)}")
        if not chars:
            raise ClusteringError("select at least one character")
        if len(set(chars)) != len(chars):
            raise ClusteringError("a character is selected twice")
        return [self.chars.index(c) for c in chars]

    def complete(self, chars: str | list[str]) -> np.ndarray:
        """Ids of the typefaces that have every one of ``chars``."""
        return np.nonzero((self.table[:, self.positions(chars)] >= 0).all(axis=1))[0]

    def vectors(self, chars: str | list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(typeface ids that have every character, their (n, len(chars) * 784) float32 vectors)."""
        complete = self.complete(chars)
        rows = self.table[complete][:, self.positions(chars)]
        images = self.dataset.images[rows].reshape(len(complete), -1)
        # One pass from uint8 to scaled float32: all 94 characters make a 1 GB matrix.
        return complete, np.multiply(images, np.float32(1 / 255), dtype=np.float32)

    def glyph(self, font_id: int, char: str) -> np.ndarray | None:
        row = self.table[font_id, self.chars.index(char)]
        return None if row < 0 else self.dataset.images[row]
