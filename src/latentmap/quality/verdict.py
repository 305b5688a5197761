"""The manual's answer (docs/sweeps.md), generated from sweep reports (``report.json`` per dataset), so that no
number or sentence about it can drift from what the reports say: a table per report (each
model's headline metrics with their intervals and marks; in a grid over the latent size, a
table per metric with a column per size), the panel of judges, and the verdict in words (per
headline metric, which models the reports call better or worse than the plain AE where, with
the difference and its q-value, which no different, and where the judges disagree).

    latentmap answer docs/answer/*/report.json
    latentmap answer docs/answer/*/report.json --write docs/sweeps.md --picture docs/answer/verdict.png
    latentmap answer docs/latent-size/*/report.json --write docs/sweeps.md --block latent-size

``--write`` puts the block between the file's ``<!-- answer: begin -->`` and
``<!-- answer: end -->`` lines (``--block NAME``: ``<!-- NAME: begin -->``), and nowhere else,
so a test can hold the page to the committed reports (:func:`written_block`).
"""

import json
from pathlib import Path
from typing import Any

from ..atomic import write_bytes, write_text
from ..errors import LatentmapError
from .axis import AXES, families_over, values_along
from .interaction import changes_along
from .metric_table import COLUMNS, HEADLINE, LOWER_IS_BETTER, METRICS, WORDS
from .names import readable
from .report import CALLS, MARKS, judges_cell, q_text, signed, sort_calls
from .verdict_picture import verdict_picture

# The page's columns (the table's metrics with a column title): the full reports hold every headline metric.
TABLE = tuple(metric for metric in METRICS if metric in COLUMNS)
# The picture's columns: every column of the tables that compares against the plain AE (it has no prior).
PICTURED = tuple(m for m in TABLE if m != "prior_validity")
# A latent-size report's tables: the question's two validities and the samples' quality.
ALONG_SIZE = ("interpolation_validity", "gmm_validity", "gmm_fid", "smoothness")


def calls(reports: list[dict[str, Any]], metric: str) -> dict[str, dict[str, list[str]]]:
    """verdict -> model -> where a report made that call (the dataset, when there are several,
    with the difference and q)."""
    found: dict[str, dict[str, list[str]]] = {call: {} for call in CALLS}
    several = len({str(r["dataset"]) for r in reports}) > 1
    for report in reports:
        dataset = str(report["dataset"])

        def said(model: str, result: dict[str, Any], dataset: str = dataset) -> tuple[str, str]:
            detail = ""
            if result["verdict"] in ("better", "worse"):
                detail = f"{signed(result['difference'])}, q {q_text(result['q'], 2)}"
            elif result["verdict"] == "split":
                detail = judges_cell(result)
            if several:
                detail = f"{dataset}: {detail}" if result["verdict"] == "split" else f"{dataset} {detail}".strip()
            return readable(model, dataset), detail

        results = [(str(row["model"]), (row.get("versus_baseline") or {}).get(metric)) for row in report["models"]]
        for call, pairs in sort_calls(results, said).items():
            for model, detail in pairs:
                found[call].setdefault(model, []).append(detail)
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
                listed = "; ".join(
                    f"{model} ({', '.join(where)})" if any(where) else model for model, where in found[verdict].items()
                )
                parts.append(f"{words}: {listed}")
        bullets.append(f"- **{WORDS[metric]}** — " + ". ".join(p[0].upper() + p[1:] for p in parts) + ".")
    return bullets


def column(metric: str) -> str:
    return COLUMNS.get(metric, WORDS[metric]) + (" ↓" if metric in LOWER_IS_BETTER else "")


def cell(summary: dict[str, Any] | None, versus: dict[str, Any] | None, metric: str) -> str:
    """``0.703 [0.683, 0.723] ▼``: the mean over seeds, its interval, the verdict's mark."""
    if summary is None:
        return "n/a"
    shown = "{:.0f}" if metric.endswith("_fid") else "{:.3f}"
    text = f"{shown.format(summary['mean'])} [{shown.format(summary['low'])}, {shown.format(summary['high'])}]"
    mark = MARKS.get(versus["verdict"], "") if versus else ""
    return f"{text} {mark}" if mark in ("▲", "▼", "≠") else text


def summary_table(report: dict[str, Any]) -> list[str]:
    """A row per model, a column per metric of :data:`TABLE`."""
    dataset = str(report["dataset"])
    lines = [f"| {dataset} | " + " | ".join(column(m) for m in TABLE) + " |", "| --- |" + " ---: |" * len(TABLE)]
    for row in report["models"]:
        versus = row.get("versus_baseline") or {}
        cells = [cell(row["metrics"].get(m), versus.get(m), m) for m in TABLE]
        lines.append(f"| {readable(str(row['model']), dataset)} | " + " | ".join(cells) + " |")
    return lines


AXIS_HEADINGS = {"d_latent": "d = {}", "epochs": "{} epochs"}


def axis_of(report: dict[str, Any]) -> str | None:
    """The axis a grid report runs along (latent size, training length), if any."""
    return next((axis for axis in AXES if families_over(report["models"], axis)), None)


def size_tables(report: dict[str, Any], axis: str = "d_latent") -> list[str]:
    """A table per metric of :data:`ALONG_SIZE`: a row per family, a column per value of ``axis``."""
    dataset = str(report["dataset"])
    families = families_over(report["models"], axis)
    sizes = values_along(families, axis)
    lines: list[str] = []
    for metric in ALONG_SIZE:
        heading = AXIS_HEADINGS.get(axis, axis + " = {}")
        lines += [f"| {dataset}: {column(metric)} | " + " | ".join(heading.format(d) for d in sizes) + " |"]
        lines += ["| --- |" + " ---: |" * len(sizes)]
        for family, rows in families.items():
            at = {row[axis]: row for row in rows}
            cells = [
                cell(at[d]["metrics"].get(metric), (at[d].get("versus_baseline") or {}).get(metric), metric)
                if d in at
                else ""
                for d in sizes
            ]
            lines.append(f"| {readable(family, dataset)} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines[:-1]


AXIS_WORDS = {"d_latent": "the latent size", "epochs": "the training length"}


def interaction_bullets(report: dict[str, Any], axis: str) -> list[str]:
    """Per metric of :data:`ALONG_SIZE`, where a model's difference from the plain AE changes
    between neighbouring values of ``axis`` (the difference of differences, BH over them all)."""
    changes = changes_along(report, axis, ALONG_SIZE)
    heading = AXIS_HEADINGS.get(axis, axis + " = {}")
    lines = [
        f"**Does the difference change along {AXIS_WORDS.get(axis, axis)}?** The difference of differences "
        f"between neighbouring values, Benjamini-Hochberg over its {len(changes)} steps:",
        "",
    ]
    for metric in ALONG_SIZE:
        moved = [c for c in changes if c.metric == metric and c.q < 0.05]
        said = "; ".join(
            f"{readable(c.family, str(report['dataset']))} {heading.format(c.start)} → {heading.format(c.end)} "
            f"{signed(c.change)} [{signed(c.low)}, {signed(c.high)}], q {q_text(c.q, 2)} "
            f"({'gains on' if c.better else 'loses to'} the AE)"
            for c in moved
        )
        lines.append(f"- **{WORDS[metric]}** — " + (said or "no significant change") + ".")
    return lines


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def reading(reports: list[dict[str, Any]]) -> str:
    """How to read the tables: the cells, the marks, and who judged."""
    rows = [row for report in reports for row in report["models"]]
    seeds = max(len(row.get("seeds") or [0]) for row in rows)
    sized = any(families_over(report["models"], "d_latent") for report in reports)
    trained = any(families_over(report["models"], "epochs") for report in reports)
    arched = len({row.get("arch", "mlp") for row in rows}) > 1
    varying = (("size", sized), ("architecture", arched), ("training length", trained))
    same = " and ".join(word for word, varies in varying if varies)
    judged = "the plain AE" + (f" of the same {same}" if same else "") + (" (a conv AE: the MLP AE)" if arched else "")
    accuracy: dict[str, list[str]] = {}
    quantiles: set[float] = set()
    for report in reports:
        for one in (report.get("panel") or {"": {"net": "cnn", **report["judge"]}}).values():
            quantiles.update([one["quantile"]] if "quantile" in one else [])
            found = accuracy.setdefault(one.get("net", one.get("arch")), [])  # "arch" in reports before 0.2
            said = f"{one['accuracy']:.2%} on {report['dataset']}"
            found += [said] if said not in found else []
    nets = {"cnn": "a CNN", "mlp": "a pixel MLP"}
    who = " and ".join(f"{nets.get(arch, arch)} (test accuracy {', '.join(said)})" for arch, said in accuracy.items())
    ranks = [ordinal(round(q * 100)) for q in sorted(quantiles)]
    at = ", ".join(ranks[:-1]) + f" and {ranks[-1]}" if len(ranks) > 1 else "".join(ranks)
    panel = f", each at tau on the {at} percentile of its confidence on real test images" if quantiles else ""
    if all(report.get("confirmatory") for report in reports):  # the confirmatory-judge rule
        return (
            f"Each cell: the mean over {seeds} seeds [its 95% interval: the seed spread, pooled over the "
            "report's models, and the pair noise the seeds share]. "
            f"▲/▼: better/worse than {judged}, where the difference survives Benjamini-Hochberg at 5% over the "
            f"report's family for the confirmatory judge (the CNN at its 5th percentile), declared in advance; "
            f"the judges: {who}{panel}; ≠: another judge finds the opposite; no mark: no significant "
            "difference. The numbers are the confirmatory judge's; ↓: lower is better."
        )
    return (
        f"Each cell: the mean over {seeds} seeds [its 95% interval: seed-to-seed and shared-pair noise]. "
        f"▲/▼: better/worse than {judged}, where the difference survives Benjamini-Hochberg at 5% over the "
        f"report's family for every judge: {who}{panel}; ≠: the judges disagree; no mark: no significant "
        "difference. The numbers are the CNN's at its 5th percentile; ↓: lower is better."
    )


def block(reports: list[dict[str, Any]]) -> list[str]:
    """The page's lines for these reports: the tables, how to read them, the verdict in words."""
    bullets = verdict_bullets(reports)  # first: it says what is missing from a report
    lines: list[str] = []
    changes: list[str] = []
    for report in reports:
        axis = axis_of(report)
        lines += [*(size_tables(report, axis) if axis else summary_table(report)), ""]
        changes += ["", *interaction_bullets(report, axis)] if axis else []
    return [*lines, reading(reports), "", "**The verdict, generated from these reports:**", "", *bullets, *changes]


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}: begin -->", f"<!-- {name}: end -->"


def marked_block(text: str, source: str, name: str) -> tuple[int, int]:
    """Line indices of the begin and end markers of block ``name`` in ``text`` (one pair, in order)."""
    begin, end = markers(name)
    lines = text.splitlines()
    begins = [k for k, line in enumerate(lines) if line.strip() == begin]
    ends = [k for k, line in enumerate(lines) if line.strip() == end]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise LatentmapError(f"{source} needs one '{begin}' line and, after it, one '{end}' line")
    return begins[0], ends[0]


def written_block(text: str, name: str = "answer", source: str = "the file") -> list[str]:
    """The lines between the markers of block ``name`` in ``text``."""
    begin, end = marked_block(text, source, name)
    return text.splitlines()[begin + 1 : end]


def with_block(text: str, lines: list[str], name: str = "answer", source: str = "the file") -> str:
    """``text`` with the lines between the markers of block ``name`` replaced by ``lines``."""
    begin, end = marked_block(text, source, name)
    old = text.splitlines()
    return "\n".join([*old[: begin + 1], *lines, *old[end:]]) + "\n"


def answer(report_paths: list[str], write: str | None = None, name: str = "answer", picture: str | None = None) -> str:
    """The answer's block for these report.json files: written between ``write``'s markers of
    block ``name`` (else returned to print), and drawn in one picture at ``picture``."""
    try:
        reports = [json.loads(Path(path).read_text()) for path in report_paths]
    except (OSError, ValueError) as exc:
        raise LatentmapError(f"cannot read the reports: {exc}") from exc
    try:
        lines = block(reports)
        said = "\n".join(lines)
        if write:
            target = Path(write)
            write_text(target, with_block(target.read_text(), lines, name, str(target)))
            said = f"wrote {len(reports)} report(s) into {target}'s {name} block"
        if picture:
            write_bytes(picture, verdict_picture(reports, PICTURED, {m: column(m) for m in PICTURED}))
            said += f"\ndrew {len(reports)} report(s) in {picture}"
    except (KeyError, TypeError) as exc:
        raise LatentmapError(f"a report lacks what a sweep writes ({exc}): is it a report.json?") from exc
    except OSError as exc:
        raise LatentmapError(f"cannot write the answer: {exc}") from exc
    return said
