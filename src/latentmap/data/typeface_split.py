"""The TMNIST train/test split: related typefaces on one side, chosen by a seeded hash.

A family's styles are one design, and so are families whose names extend another's
(``Roboto`` / ``Roboto Flex`` / ``Roboto Slab``, ``Noto Sans`` / ``Noto Sans Armenian``) and
typefaces that render the dataset's glyphs identically (``Yrsa`` and ``Rasa``). Each *group*,
the union of both relations, goes to test when the keyed hash of its name (the shortest family
in it) falls under TEST_FRACTION, so test scores measure designs the model never saw, and the
same group always lands on the same side whatever else is in the corpus.
"""

import hashlib
import re
from dataclasses import dataclass

import numpy as np

SPLIT_KEY = b"latentmap-typeface-split-v1"
TEST_FRACTION = 0.15
# Typeface scores: the judge learns from the training groups hashed under JUDGE_CUT, the
# baselines lend glyphs from those above it, so the judge never reads a glyph it was taught.
JUDGE_CUT = (1 + TEST_FRACTION) / 2
# Multipliers of the per-image and per-typeface hashes (odd, so no bit is lost).
_RNG = np.random.default_rng(20261129)
_WORD_MULTIPLIERS = _RNG.integers(1, 2**63, size=98, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_CLASS_MULTIPLIERS = _RNG.integers(1, 2**63, size=256, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def name_hashes(names: np.ndarray) -> np.ndarray:
    """A keyed hash of each name, as a fraction in [0, 1)."""
    digests = (hashlib.blake2b(str(n).encode(), key=SPLIT_KEY, digest_size=8).digest() for n in names)
    return np.fromiter((int.from_bytes(d, "little") / 2**64 for d in digests), dtype=np.float64, count=len(names))


def families(fonts: dict[str, np.ndarray]) -> np.ndarray:
    """Per typeface its family: the manifest's, else the name before the first '-'
    (``OpenSans-Bold`` -> ``OpenSans``)."""
    stems = np.array([str(n).split("-", 1)[0] for n in fonts["name"]], dtype=str)
    listed = fonts.get("family")
    return stems if listed is None else np.where(listed != "", listed, stems)


def family_words(family: str) -> tuple[str, ...]:
    """``Roboto Flex`` and the file stem ``RobotoFlex`` both -> ('roboto', 'flex')."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", family)
    return tuple(spaced.lower().split())


def components(n: int, edges: list[tuple[int, int]]) -> np.ndarray:
    """The connected component of each of ``n`` nodes joined by ``edges`` (scipy's)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    pairs = np.array(edges, dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def identical_typefaces(images: np.ndarray, labels: np.ndarray, typeface_ids: np.ndarray, n: int) -> list[list[int]]:
    """Sets of (2+) typefaces whose glyphs are the same pixels for the same characters.

    A wrapping 64-bit hash per image, summed per typeface with a multiplier per character,
    finds candidates in one vectorised pass; candidates are then compared pixel for pixel."""
    order = np.lexsort((labels, typeface_ids))
    words = np.ascontiguousarray(images.reshape(len(images), -1))
    pad = (-words.shape[1]) % 8
    image_hash = np.empty(len(images), dtype=np.uint64)
    for start in range(0, len(images), 65536):  # chunks: no 8x copy of the dataset at once
        chunk = words[start : start + 65536]
        chunk = np.pad(chunk, ((0, 0), (0, pad))) if pad else chunk
        packed = np.ascontiguousarray(chunk).view(np.uint64)
        image_hash[start : start + 65536] = (packed * _WORD_MULTIPLIERS[: packed.shape[1]]).sum(axis=1)
    keyed = image_hash * _CLASS_MULTIPLIERS[labels % 256]
    counts = np.bincount(typeface_ids, minlength=n)
    present = np.flatnonzero(counts)
    starts = np.concatenate([[0], np.cumsum(counts[present])[:-1]])
    sums = np.add.reduceat(keyed[order], starts) if len(order) else np.zeros(0, np.uint64)
    key = np.zeros(n, dtype=np.uint64)
    key[present] = sums
    rows = {int(t): order[s : s + c] for t, s, c in zip(present, starts, counts[present], strict=True)}
    same: list[list[int]] = []
    _, inverse, sizes = np.unique(
        np.stack([key[present], counts[present].astype(np.uint64)]), axis=1, return_inverse=True, return_counts=True
    )
    for bucket in np.flatnonzero(sizes > 1):
        members = [int(t) for t in present[inverse.ravel() == bucket]]
        while members:  # a hash collision splits a bucket into its truly identical sets
            first, rest = members[0], members[1:]
            a = rows[first]
            equal = [
                t
                for t in rest
                if np.array_equal(labels[rows[t]], labels[a]) and np.array_equal(images[rows[t]], images[a])
            ]
            if equal:
                same.append([first, *equal])
            members = [t for t in rest if t not in equal]
    return same


@dataclass
class Split:
    group: np.ndarray  # per typeface: its group's name (the shortest family in it)
    is_test: np.ndarray  # per typeface
    moved_typefaces: int  # typefaces on the other side than their family alone would put them
    moved_families: int


def typeface_split(
    fonts: dict[str, np.ndarray],
    images: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    typeface_ids: np.ndarray | None = None,
) -> Split:
    """Group related typefaces (family-name extension and, given the glyphs, identical
    renders) and split the groups by their seeded hash."""
    family = families(fonts)
    names = sorted(set(family.tolist()))
    index = {name: i for i, name in enumerate(names)}
    edges: list[tuple[int, int]] = []
    by_words: dict[tuple[str, ...], int] = {}
    for name in names:
        by_words.setdefault(family_words(name), index[name])
    for words, i in by_words.items():
        for cut in range(1, len(words)):  # every shorter family this one's name extends
            j = by_words.get(words[:cut])
            if j is not None:
                edges.append((i, j))
    for name in names:  # spellings of the same words ('Open Sans', 'OpenSans') are one family
        edges.append((index[name], by_words[family_words(name)]))
    family_id = np.array([index[f] for f in family.tolist()], dtype=np.int64)
    if images is not None and labels is not None and typeface_ids is not None:
        for same in identical_typefaces(images, labels, typeface_ids, len(family)):
            edges += [(int(family_id[t]), int(family_id[same[0]])) for t in same[1:]]
    component = components(len(names), edges)
    members: dict[int, list[str]] = {}
    for name in names:
        members.setdefault(int(component[index[name]]), []).append(name)
    root_name = {root: min(group, key=lambda f: (len(family_words(f)), len(f), f)) for root, group in members.items()}
    group = np.array([root_name[int(component[i])] for i in family_id], dtype=str)
    is_test = name_hashes(group) < TEST_FRACTION
    alone = name_hashes(family) < TEST_FRACTION
    moved = is_test != alone
    return Split(group, is_test, int(moved.sum()), len(set(family[moved].tolist())))


def lends(groups: np.ndarray) -> np.ndarray:
    """Per training typeface (by its split group): whether the completion baselines may lend
    its glyphs (the others are the scoring judge's to learn from)."""
    return name_hashes(groups) >= JUDGE_CUT
