"""The verdict in words, generated from sweep reports (``report.json`` per dataset), so that no
sentence about the answer can drift from its numbers: per headline metric, which models the
reports call better or worse than the plain AE on which datasets (with the difference and
its q-value), which they call no different, and where the report's judges disagree.

    python -m latentmap.quality.verdict docs/answer/*/report.json
    python -m latentmap.quality.verdict --write README.md docs/answer/*/report.json

``--write`` puts the bullets between the file's ``<!-- verdict: begin -->`` and
``<!-- verdict: end -->`` lines (and nowhere else), so a test can hold the README to the
committed reports (:func:`written_bullets`).
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..atomic import write_text
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


BEGIN, END = "<!-- verdict: begin -->", "<!-- verdict: end -->"


def marked_block(text: str, source: str) -> tuple[int, int]:
    """Line indices of the begin and end markers in ``text`` (one pair, in order)."""
    lines = text.splitlines()
    begins = [k for k, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [k for k, line in enumerate(lines) if line.strip() == END]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise LatentmapError(f"{source} needs one '{BEGIN}' line and, after it, one '{END}' line")
    return begins[0], ends[0]


def written_bullets(text: str, source: str = "the file") -> list[str]:
    """The bullets between the verdict markers of ``text``."""
    begin, end = marked_block(text, source)
    return [line for line in text.splitlines()[begin + 1 : end] if line.strip()]


def with_bullets(text: str, bullets: list[str], source: str = "the file") -> str:
    """``text`` with the lines between its verdict markers replaced by ``bullets``."""
    begin, end = marked_block(text, source)
    lines = text.splitlines()
    return "\n".join([*lines[: begin + 1], *bullets, *lines[end:]]) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m latentmap.quality.verdict", description=__doc__.split("\n")[0])
    parser.add_argument("reports", nargs="+", help="report.json of each dataset (a sweep writes <out>/<dataset>/)")
    parser.add_argument("--write", metavar="FILE", help="put the bullets between FILE's verdict markers")
    args = parser.parse_args(argv)
    try:
        reports = [json.loads(Path(path).read_text()) for path in args.reports]
        bullets = verdict_bullets(reports)
        if args.write:
            target = Path(args.write)
            write_text(target, with_bullets(target.read_text(), bullets, str(target)))
            print(f"wrote {len(bullets)} verdict bullets into {target}")
        else:
            print("\n".join(bullets))
    except (OSError, ValueError, KeyError, LatentmapError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
