"""``font_set.json``: a training set of typefaces chosen in the typeface clustering app.

``{"charset": ["A", ...], "clusters": [{"font_names": [...]}, ...]}``; extra keys
(algorithm, parameters, fractions) are kept but ignored here.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import write_text
from ..errors import FontSetError
from .tmnist import ALPHANUMERIC


@dataclass
class FontSet:
    charset: list[str]
    clusters: list[list[str]]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def font_names(self) -> list[str]:
        """Every typeface of every cluster, once, in first-seen order."""
        return list(dict.fromkeys(name for cluster in self.clusters for name in cluster))

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "charset": list(self.charset),
            "clusters": [{"font_names": list(c)} for c in self.clusters],
        }


def _few(items: list[str], n: int = 5) -> str:
    shown = ", ".join(repr(i) for i in items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


def parse_font_set(data: Any, source: str = "font_set.json") -> FontSet:
    """Validate the structure and the charset (characters must be among the 94)."""
    if not isinstance(data, dict):
        raise FontSetError(f"{source}: expected a JSON object with 'charset' and 'clusters'")
    charset, clusters = data.get("charset"), data.get("clusters")
    if not isinstance(charset, list) or not charset:
        raise FontSetError(f"{source}: 'charset' must be a non-empty list of characters")
    if not isinstance(clusters, list) or not clusters:
        raise FontSetError(f"{source}: 'clusters' must be a non-empty list of {{'font_names': [...]}}")
    bad_chars = [c for c in charset if not isinstance(c, str) or len(c) != 1 or c not in ALPHANUMERIC]
    if bad_chars:
        offenders = _few([str(c) for c in bad_chars])
        raise FontSetError(f"{source}: charset has characters outside the 94 printable ASCII characters: {offenders}")
    if len(set(charset)) != len(charset):
        raise FontSetError(f"{source}: charset lists a character twice")
    names: list[list[str]] = []
    for i, cluster in enumerate(clusters):
        fonts = cluster.get("font_names") if isinstance(cluster, dict) else None
        if not isinstance(fonts, list) or not all(isinstance(n, str) and n for n in fonts):
            raise FontSetError(
                f"{source}: clusters[{i}] must be an object with a list of typeface names in 'font_names'"
            )
        names.append(fonts)
    if not any(names):
        raise FontSetError(f"{source}: no typefaces selected (every cluster's 'font_names' is empty)")
    extra = {k: v for k, v in data.items() if k not in ("charset", "clusters")}
    return FontSet(charset=list(charset), clusters=names, extra=extra)


def read_font_set(path: str | os.PathLike[str]) -> FontSet:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FontSetError(f"cannot read {path}: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise FontSetError(f"{path} is not valid JSON: {str(exc)[:200]}") from exc
    return parse_font_set(data, source=str(path))


def write_font_set(path: str | os.PathLike[str], font_set: FontSet) -> None:
    write_text(path, json.dumps(font_set.to_json(), indent=1, ensure_ascii=False) + "\n")


def check_typefaces(font_set: FontSet, known: set[str], source: str) -> None:
    unknown = [n for n in font_set.font_names if n not in known]
    if unknown:
        raise FontSetError(
            f"{source}: {len(unknown)} typeface(s) are not in the TMNIST data: {_few(unknown)}"
            " (check the fonts directory or the published CSV)"
        )
