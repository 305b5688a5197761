"""Attribute vectors (directions in a latent space with a meaning) and typeface morphs.

TMNIST, from the font table's weight, style and category:
- ``bolder``: code of a glyph at weight >= 700 minus the same glyph at 400, same family
  and style, averaged over every such pair of typefaces and their shared characters;
- ``italic``: italic minus normal, same family and weight;
- ``serif``: mean serif glyph minus mean sans-serif glyph of the same character.
Digits and Fashion: class differences, ``class:7-1`` = mean code of 7 minus mean code of 1.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data import Dataset
from ..data.glyphs import glyph_table
from ..errors import RequestError

FONT_COLUMNS = ("family", "weight", "style", "category")


@dataclass
class Attribute:
    name: str
    description: str
    pairs: int  # typeface pairs (or images) it was built from
    vector: np.ndarray


def has_font_metadata(dataset: Dataset) -> bool:
    fonts = dataset.fonts
    return dataset.typeface_ids is not None and all(key in fonts and (fonts[key] != "").any() for key in FONT_COLUMNS)


def typeface_pairs(dataset: Dataset, attribute: str) -> list[tuple[int, int]]:
    """(from, to) typeface ids within families: regular -> bold, or normal -> italic."""
    fonts = dataset.fonts
    weight = np.array([int(w) if str(w).isdigit() else -1 for w in fonts["weight"]])
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, (family, style, w) in enumerate(zip(fonts["family"], fonts["style"], weight, strict=True)):
        key = (str(family), str(style)) if attribute == "bolder" else (str(family), str(w))
        groups.setdefault(key, []).append(i)
    pairs = []
    for members in groups.values():
        if attribute == "bolder":
            regular = [i for i in members if weight[i] == 400]
            bold = [i for i in members if weight[i] >= 700]
            pairs += [(regular[0], b) for b in bold] if regular else []
        else:
            normal = [i for i in members if fonts["style"][i] == "normal"]
            italic = [i for i in members if fonts["style"][i] == "italic"]
            pairs += [(normal[0], italic[0])] if normal and italic else []
    return pairs


def paired_difference(codes_of: Any, table: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray | None:
    a = table[[p[0] for p in pairs]]
    b = table[[p[1] for p in pairs]]
    both = (a >= 0) & (b >= 0)
    if not both.any():
        return None
    return (codes_of(b[both]) - codes_of(a[both])).mean(axis=0)


def tmnist_attributes(dataset: Dataset, codes_of: Any) -> list[Attribute]:
    table = glyph_table(dataset)
    out = []
    for name, what in (
        ("bolder", "weight >= 700 minus 400, same family and style"),
        ("italic", "italic minus normal, same family and weight"),
    ):
        pairs = typeface_pairs(dataset, name)
        vector = paired_difference(codes_of, table, pairs) if pairs else None
        if vector is not None:
            out.append(Attribute(name, what, len(pairs), vector))
    category = dataset.fonts["category"]
    serif, sans = np.nonzero(category == "serif")[0], np.nonzero(category == "sans-serif")[0]
    if len(serif) and len(sans):
        differences = []
        for char in range(table.shape[1]):
            a, b = table[serif, char], table[sans, char]
            a, b = a[a >= 0], b[b >= 0]
            if len(a) and len(b):
                differences.append(codes_of(a).mean(axis=0) - codes_of(b).mean(axis=0))
        if differences:
            out.append(
                Attribute(
                    "serif", "serif minus sans-serif, per character", len(serif) + len(sans), np.mean(differences, 0)
                )
            )
    return out


def class_attribute(dataset: Dataset, codes_of: Any, name: str) -> Attribute:
    """``class:A-B``: mean code of class A minus mean code of class B (by position)."""
    try:
        a, b = (int(part) for part in name.removeprefix("class:").split("-"))
    except ValueError:
        raise RequestError(f"unknown attribute '{name}': use class:A-B with class numbers") from None
    n = len(dataset.label_names)
    if not (0 <= a < n and 0 <= b < n) or a == b:
        raise RequestError(f"class attribute needs two different classes in 0..{n - 1}")
    rows_a, rows_b = np.nonzero(dataset.labels == a)[0][:2000], np.nonzero(dataset.labels == b)[0][:2000]
    vector = codes_of(rows_a).mean(axis=0) - codes_of(rows_b).mean(axis=0)
    names = dataset.label_names
    return Attribute(name, f"mean {names[a]} minus mean {names[b]}", len(rows_a) + len(rows_b), vector)
