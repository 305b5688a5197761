"""The verdict in words, generated from sweep reports (``report.json`` per dataset), so that no
sentence about the answer can drift from its numbers: per headline metric, which models the
reports call better or worse than the plain AE on which datasets (with the difference and
its q-value), which they call no different, and where the report's judges disagree.

    python -m latentmap.quality.verdict docs/answer/*/report.json
"""

import json
import sys
from pathlib import Path
from typing import Any

from ..errors import LatentmapError
from .report import HEADLINE, WORDS, judges_cell, signed


def model_label(row: dict[str, Any], dataset: str) -> str:
    """The model's name without its dataset prefix (``digits-vae-reg_lambda=4`` -> ``vae-reg_lambda=4``)."""
    name = str(row["model"])
    return name[len(dataset) + 1 :] if name.startswith(f"{dataset}-") else name


def calls(reports: list[dict[str, Any]], metric: str) -> dict[str, dict[str, list[str]]]:
    """verdict -> model -> the datasets (with difference and q) where a report made that call."""
    found: dict[str, dict[str, list[str]]] = {"better": {}, "worse": {}, "tie": {}, "split": {}}
    for report in reports:
        dataset = str(report["dataset"])
        for row in report["models"]:
            result = (row.get("versus_baseline") or {}).get(metric)
            if result is None:
                continue
            where = dataset
            if result["verdict"] in ("better", "worse"):
                where += f" {signed(result['difference'])}, q {result['q']:.2g}"
            elif result["verdict"] == "split":
                where += f": {judges_cell(result)}"
            found[result["verdict"]].setdefault(model_label(row, dataset), []).append(where)
    return found


SAID = {
    "better": "better than the plain AE",
    "worse": "worse",
    "tie": "no significant difference",
    "split": "the judges disagree",
}


def verdict_bullets(reports: list[dict[str, Any]]) -> list[str]:
    """One markdown bullet per headline metric that any report measured against the plain AE."""
    missing = [str(r.get("dataset")) for r in reports if r.get("baseline") is None]
    if missing:
        raise LatentmapError(f"no plain AE in the report(s) of {', '.join(missing)}: nothing to call against")
    bullets = []
    for metric in HEADLINE:
        found = calls(reports, metric)
        if not any(found.values()):
            continue
        parts = []
        for verdict, words in SAID.items():
            if found[verdict]:
                listed = "; ".join(f"{model} ({', '.join(where)})" for model, where in found[verdict].items())
                parts.append(f"{words}: {listed}")
        bullets.append(f"- **{WORDS[metric]}** — " + ". ".join(parts) + ".")
    return bullets


def main(paths: list[str]) -> int:
    try:
        reports = [json.loads(Path(path).read_text()) for path in paths]
        print("\n".join(verdict_bullets(reports)))
    except (OSError, ValueError, KeyError, LatentmapError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
