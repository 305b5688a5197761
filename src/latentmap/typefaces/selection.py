"""Choosing a training set from a clustering: a fraction of each cluster, its *least*
prototypical members first (farthest from the centre, so small fractions give the most
diverse subsets), the dataset sizes that gives, the ``font_set.json`` and its picture.
"""

from dataclasses import asdict
from typing import Any

import numpy as np

from .clustering import Clustering
from .corpus import ClusteringError, TypefaceCorpus

MAX_PICTURE_PIXELS = 40_000_000  # font_chars.png: about 6,300 px square at most


def take_count(size: int, fraction: float) -> int:
    """How many members a fraction of a cluster takes: rounded half up (as the page does),
    at least one when the fraction is above 0."""
    if not 0 <= fraction <= 1:
        raise ClusteringError(f"fractions must lie in [0, 1], got {fraction}")
    return 0 if fraction == 0 else max(1, int(np.floor(fraction * size + 0.5)))


def select(clustering: Clustering, fractions: list[float]) -> list[np.ndarray]:
    """Typeface ids chosen from each cluster: the farthest from the centre first."""
    if len(fractions) != len(clustering.clusters):
        raise ClusteringError(f"expected {len(clustering.clusters)} fractions, got {len(fractions)}")
    return [
        members[::-1][: take_count(len(members), f)] for members, f in zip(clustering.clusters, fractions, strict=True)
    ]


def dataset_sizes(corpus: TypefaceCorpus, chosen: np.ndarray, n_selected_chars: int) -> dict[str, int]:
    """Typefaces and the images of the datasets they would give: DS-S (selected characters),
    DS-G (the "good" characters) and DS-A (all characters)."""
    return {
        "typefaces": len(chosen),
        "DS-S": len(chosen) * n_selected_chars,  # every clustered typeface has every selected character
        "DS-G": int(corpus.glyph_counts["good"][chosen].sum()),
        "DS-A": int(corpus.glyph_counts["all"][chosen].sum()),
    }


# --------------------------------------------------------------------------- saving


def font_set_for(clustering: Clustering, corpus: TypefaceCorpus, fractions: list[float]) -> tuple[Any, np.ndarray]:
    """The FontSet of the chosen typefaces (clusters with nothing chosen are left out) and
    their typeface ids."""
    from ..data import FontSet

    chosen = select(clustering, fractions)
    clusters = [[str(n) for n in corpus.names[ids]] for ids in chosen if len(ids)]
    if not clusters:
        raise ClusteringError("no typefaces selected: drag a cluster's fraction above 0%")
    params = asdict(clustering.params)
    extra = {
        "algorithm": clustering.params.algorithm,
        "parameters": params,
        "fractions": [float(f) for f, ids in zip(fractions, chosen, strict=True) if len(ids)],
        "cluster_sizes": [len(c) for c, ids in zip(clustering.clusters, chosen, strict=True) if len(ids)],
        "dataset": corpus.dataset.spec,
    }
    return FontSet(charset=list(clustering.chars), clusters=clusters, extra=extra), np.concatenate(chosen)


def font_chars_image(corpus: TypefaceCorpus, font_ids: np.ndarray, chars: str) -> np.ndarray:
    """The selected characters of every chosen typeface: one strip per typeface, strips in
    as many columns as keep the picture roughly square; at most ``MAX_PICTURE_PIXELS``
    (the first typefaces that fit: all 94 characters of 3,000 typefaces would be 260 MB)."""
    from ..images import tile

    strip_pixels = 32 * (28 * len(chars) + 8)  # with the gaps
    font_ids = font_ids[: max(1, MAX_PICTURE_PIXELS // strip_pixels)]
    strips = np.zeros((len(font_ids), 28, 28 * len(chars) + 4), np.uint8)
    for row, font_id in enumerate(font_ids):
        for k, char in enumerate(chars):
            glyph = corpus.glyph(int(font_id), char)
            if glyph is not None:
                strips[row, :, 28 * k : 28 * (k + 1)] = glyph
    columns = max(1, round(np.sqrt(len(font_ids) * 28 / strips.shape[2])))
    return tile(strips, ncols=columns, gap=2, background=40)
