"""Does a model's difference from the plain AE change along an axis (latent size, training
length)? "Better at d = 32, no different at d = 8" is two tests, not one: the claim that the
answer changes with size is the size x model interaction, the difference of the two
differences, tested here with its own interval and Benjamini-Hochberg over every step.

Each difference's standard error is read back from its interval in the report (half-width
over Student's t at its degrees of freedom, normal where a report has none); two steps are
treated as independent, which overstates the variance where they share test pairs, so the
test is conservative."""

import itertools
import math
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from scipy import stats as scipy_stats

from .axis import families_over
from .metric_table import LOWER_IS_BETTER
from .stats import LEVEL, false_discoveries


@dataclass
class Change:
    """How a family's difference from the plain AE moves from one axis value to the next."""

    family: str
    metric: str
    start: Any
    end: Any
    change: float  # difference at ``end`` minus difference at ``start``
    low: float
    high: float
    p: float
    q: float = math.nan

    @property
    def better(self) -> bool:
        """Whether the family gains on the AE from ``start`` to ``end``."""
        return (self.change < 0) == (self.metric in LOWER_IS_BETTER)


def standard_error(result: dict[str, Any]) -> tuple[float, float]:
    """A difference's standard error and degrees of freedom, from its interval."""
    df = result.get("df") or math.inf
    t = scipy_stats.t.ppf((1 + LEVEL) / 2, df) if math.isfinite(df) else scipy_stats.norm.ppf((1 + LEVEL) / 2)
    return (result["high"] - result["low"]) / (2 * t), df


def step(family: str, metric: str, start: tuple[Any, dict], end: tuple[Any, dict]) -> Change | None:
    a, b = start[1].get(metric), end[1].get(metric)
    if not a or not b or a.get("low") is None or b.get("low") is None:
        return None
    (se_a, df_a), (se_b, df_b) = standard_error(a), standard_error(b)
    change, se, df = b["difference"] - a["difference"], math.hypot(se_a, se_b), min(df_a, df_b)
    if not se > 0:
        return None
    dist = scipy_stats.t(df) if math.isfinite(df) else scipy_stats.norm()
    half = dist.ppf((1 + LEVEL) / 2) * se
    p = float(2 * dist.sf(abs(change) / se))
    return Change(family, metric, start[0], end[0], change, change - half, change + half, p)


def changes_along(report: dict[str, Any], axis: str, metrics: tuple[str, ...]) -> list[Change]:
    """Every family's change of difference between neighbouring values of ``axis``, for each
    of ``metrics``, with q-values over all of them (the report's family of interaction tests)."""
    found = []
    for family, rows in families_over(report["models"], axis).items():
        if any(row["model"] == report.get("baseline") for row in rows):
            continue  # the plain AE's own family: a longer AE against a shorter one is no interaction
        measured = sorted(
            ((row[axis], row["versus_baseline"]) for row in rows if row.get("versus_baseline")), key=itemgetter(0)
        )
        for metric in metrics:
            for start, end in itertools.pairwise(measured):
                change = step(family, metric, start, end)
                found += [change] if change else []
    for change, q in zip(found, false_discoveries([c.p for c in found]), strict=True):
        change.q = q
    return found
