"""The per-typeface view of a TMNIST dataset: which glyph row each (typeface, character) is,
and one vector per typeface (its images of the chosen characters, concatenated).
"""

import numpy as np

from ..data import Dataset
from ..data.glyphs import glyph_table
from ..data.tmnist import GOOD
from ..errors import LatentmapError, RequestError


class ClusteringError(RequestError):
    """Parameters that cannot work (unknown characters, more clusters than typefaces, ...)."""


class TypefaceCorpus:
    """The per-typeface view of a TMNIST dataset: which glyph row each (typeface, char) is."""

    def __init__(self, dataset: Dataset, codes: np.ndarray | None = None, codes_from: str = "") -> None:
        if dataset.typeface_ids is None:
            raise LatentmapError(f"{dataset.spec} has no typefaces: use alphanumeric or numeric")
        self.dataset = dataset
        self.names = dataset.fonts["name"]
        self.chars = "".join(dataset.label_names)
        self.table = table = glyph_table(dataset)  # (typefaces, chars) -> dataset row, -1 where missing
        self.good = [c for c in GOOD if c in self.chars]
        good = [self.chars.index(c) for c in self.good]
        self.glyph_counts = {"all": (table >= 0).sum(axis=1), "good": (table[:, good] >= 0).sum(axis=1)}
        self.codes = codes  # (typefaces, d) learned typeface codes, NaN rows where the run has none
        self.codes_from = codes_from  # the typeface run they come from

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

    def complete(self, chars: str | list[str], features: str = "pixels") -> np.ndarray:
        """Ids of the typefaces that have every one of ``chars`` (and a code, for ``codes``)."""
        has = (self.table[:, self.positions(chars)] >= 0).all(axis=1)
        if features == "codes":
            has &= np.isfinite(self.learned_codes()).all(axis=1)
        return np.nonzero(has)[0]

    def learned_codes(self) -> np.ndarray:
        if self.codes is None:
            raise ClusteringError("no learned codes: start the app with --codes RUN (a typeface run)")
        return self.codes

    def vectors(self, chars: str | list[str], features: str = "pixels") -> tuple[np.ndarray, np.ndarray]:
        """(typeface ids that have every character, their vectors): the glyph images of the
        characters, (n, len(chars) * 784) float32, or the typeface run's codes, (n, d)."""
        if features == "codes":
            complete = self.complete(chars, "codes")
            return complete, self.learned_codes()[complete].astype(np.float32)
        if features != "pixels":
            raise ClusteringError(f"unknown features '{features}': use pixels or codes")
        complete = self.complete(chars)
        rows = self.table[complete][:, self.positions(chars)]
        images = self.dataset.images[rows].reshape(len(complete), -1)
        # One pass from uint8 to scaled float32: all 94 characters make a 1 GB matrix.
        return complete, np.multiply(images, np.float32(1 / 255), dtype=np.float32)

    def glyph(self, font_id: int, char: str) -> np.ndarray | None:
        row = self.table[font_id, self.chars.index(char)]
        return None if row < 0 else self.dataset.images[row]


def typeface_codes(dataset: Dataset, run_path: str, **data_paths: str | None) -> np.ndarray:
    """(typefaces of ``dataset``, d) codes of a typeface run, matched by typeface name (each
    encoded from all its glyphs in the run's own dataset); NaN for typefaces the run lacks."""
    from ..train.run import load_run
    from ..train.typeface import TypefaceRun

    run = load_run(run_path)
    if not isinstance(run, TypefaceRun):
        raise LatentmapError(f"--codes needs a typeface run (latentmap train typeface); {run.path} is a {run.kind} run")
    from ..data import load_dataset

    same = run.dataset_spec == dataset.spec
    grid = run.grid(dataset if same else load_dataset(run.dataset_spec, **data_paths))  # type: ignore[arg-type]
    out = run.codes_by_name(grid, dataset.fonts["name"])
    if not np.isfinite(out).all(axis=1).any():
        raise LatentmapError(f"the typeface run {run.path} knows none of the typefaces of {dataset.spec}")
    return out
