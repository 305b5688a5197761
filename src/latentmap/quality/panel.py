"""A panel of judges for a sweep's report: a verdict that hangs on one judge is not a verdict.

Every run is scored by each judge network of the panel (the CNN every part uses and a pixel
MLP that sees images another way) at tau on the 1st, 5th and 20th percentile of that
judge's confidence on real test images: six judges. A measurement keeps the judge's
confidence in each decode, not its verdicts (:mod:`.validity`), so the three thresholds of
one network cost one measurement. The report's mark is the confirmatory judge's (the first
network at its 5th percentile); the others are counted beside it (:func:`.report.judge_by_panel`).
"""

from collections.abc import Callable
from typing import Any

from ..data import Dataset
from ..train.run import Run
from .compare import kept_measurement, measurement_path
from .judge import Judge
from .metrics import Probe, items_at
from .stats import Items

QUANTILES = (0.01, 0.05, 0.2)


def label(net: str, quantile: float) -> str:
    return f"{net}@{quantile:.0%}"


def describe(judges: dict[str, Judge]) -> dict[str, dict[str, Any]]:
    """What report.json says of each judge of the panel."""
    return {
        label(net, q): {"net": net, "quantile": q, "tau": judge.at(q).tau, "accuracy": judge.info["accuracy"]}
        for net, judge in judges.items()
        for q in QUANTILES
    }


def panel_items(
    runs: list[Run], dataset: Dataset, judges: dict[str, Judge], probe: Probe, log: Callable[[str], Any] = print
) -> dict[str, list[dict[str, Items]]]:
    """Per judge of the panel, per run: the units behind every metric as that judge sees them.
    Each network's measurement of a run is read once; its thresholds share its tau-free units
    (FID's replicates come with them)."""
    panel: dict[str, list[dict[str, Items]]] = {}
    for net, judge in judges.items():
        kept = []
        for k, run in enumerate(runs):
            if not measurement_path(run, judge, probe, "linear").is_file():  # measured now: say so
                log(f"[{k + 1}/{len(runs)}] {run.path.name}: judging by the {net} judge too")
            kept.append(kept_measurement(run, dataset, judge, probe))
        for quantile in QUANTILES:
            tau = judge.at(quantile).tau
            panel[label(net, quantile)] = [
                items_at(items, evidence, details, tau) for items, evidence, details, _ in kept
            ]
    return panel
