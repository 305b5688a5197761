"""Class labels as the user's files give them (numbers, names, folder and file names, a
names file) -> dense ids and class names that are safe to store, print and serve.

Names come from file systems and files nobody here wrote: undecodable bytes (a Latin-1
folder name) are replaced, control and bidi characters (a terminal escape, a newline, a
right-to-left override) are written as escapes; a missing label (empty, None, NaN) is
missing, not a class; two labels that end up with the same name are refused, never merged.
"""

import math
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import DataError

NamesFile = dict[int, str] | list[str] | None  # class names from --label_names, if given
BIDI = {"\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}
MISSING = -1


def clean_name(name: str) -> str:
    """A class name that prints as itself: see the module docs."""
    try:
        text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that was never a byte
        text = name.encode("utf-8", "replace").decode("utf-8")
    return "".join(escaped(c) if unicodedata.category(c) in ("Cc", "Cs") or c in BIDI else c for c in text)


def escaped(character: str) -> str:
    return character.encode("unicode_escape").decode("ascii")


def read_label_names(path: Path) -> dict[int, str] | list[str]:
    """Class names, one per line (in label order), or ``LABEL CODE`` pairs as in EMNIST's
    mapping files (``10 65``: label 10 is 'A')."""
    if not path.is_file():
        raise DataError(
            f"cannot read label names file {path}: {'not a regular file' if path.exists() else 'no such file'}"
        )
    try:
        lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read label names file {path}: {exc}") from exc
    if lines and all(len(p) == 2 and p[0].isdigit() and p[1].isdigit() for p in lines):
        for label, code in lines:
            if int(code) > 0x10FFFF:
                raise DataError(f"{path}: '{label} {code}' names no character (codes go up to {0x10FFFF})")
        return {int(a): clean_name(chr(int(b))) for a, b in lines}
    return [clean_name(" ".join(p)) for p in lines]


def is_missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


class LabelBook:
    """Label values as they come (ints or strings) -> dense ids, ordered at the end."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}

    def add(self, values: np.ndarray | str, n: int) -> np.ndarray:
        if isinstance(values, str):
            return np.full(n, self.id_of(values), np.int32)
        if values.dtype.kind in "iubf":
            ids = np.full(len(values), MISSING, np.int32)
            present = ~np.isnan(values) if values.dtype.kind == "f" else np.ones(len(values), bool)
            uniques, inverse = np.unique(values[present], return_inverse=True)
            ids[present] = np.array([self.id_of(u.item()) for u in uniques], np.int32)[inverse]
            return ids
        return np.array([MISSING if is_missing(v) else self.id_of(v) for v in values.tolist()], np.int32)

    def id_of(self, value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int | float | str):
            raise DataError(f"a label of type {type(value).__name__} ({str(value)[:40]}): labels are numbers or names")
        return self.ids.setdefault(value, len(self.ids))

    def ordered(self, source_names: list[str] | None, names_file: NamesFile) -> tuple[np.ndarray, list[str]]:
        """(old id -> new id, class names): numbers in numeric order, names alphabetically."""
        values = list(self.ids)
        numeric = all(isinstance(v, int) for v in values)
        order = sorted(values) if numeric else sorted(values, key=str)
        remap = np.empty(len(values), np.int64)
        for new, value in enumerate(order):
            remap[self.ids[value]] = new
        names = [clean_name(self.name_of(v, numeric, source_names, names_file)) for v in order]
        seen: dict[str, Any] = {}
        for value, name in zip(order, names, strict=True):
            if name in seen:
                raise DataError(
                    f"two labels are both named '{name}' ({seen[name]!r} and {value!r}): give each class its own name"
                )
            seen[name] = value
        return remap, names

    @staticmethod
    def name_of(value: Any, numeric: bool, source: list[str] | None, names_file: NamesFile) -> str:
        if numeric and isinstance(names_file, dict):
            return names_file.get(value, str(value))
        names = names_file if isinstance(names_file, list) else source
        if numeric and names is not None and 0 <= value < len(names):
            return names[value]
        return str(value)
