"""KL-weight (beta) schedules for VAEs, as a function of training progress in [0, 1].

- ``constant``: always ``high``.
- ``linear``: warm-up from ``low`` to ``high`` over the first ``warmup`` fraction.
- ``cyclical``: cyclical annealing (Fu et al. 2019). After a lead-in (fraction ``lead``
  of training held at ``low``), the rest is split into ``cycles`` equal cycles; each ramps
  linearly from ``low`` to ``high`` over its first ``ramp`` fraction, then holds ``high``.
"""

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import LatentmapError

SCHEDULES = ("constant", "linear", "cyclical")
# Learning-rate schedules: ``constant``, or ``cosine`` (Loshchilov & Hutter 2017, no restarts):
# the rate falls from --learn_rate to 0 along half a cosine over the whole run, so that a long
# run ends converged instead of jittering at Adam's full step size.
LR_SCHEDULES = ("constant", "cosine")


def learn_rate_factor(schedule: str, progress: float) -> float:
    """The multiplier of the base learning rate at ``progress`` in [0, 1] of the run."""
    if schedule == "constant":
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))


@dataclass
class BetaSchedule:
    kind: str = "constant"
    low: float = 0.0
    high: float = 0.01
    warmup: float = 0.25
    cycles: int = 4
    lead: float = 0.0
    ramp: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in SCHEDULES:
            raise LatentmapError(f"unknown beta schedule '{self.kind}': use {', '.join(SCHEDULES)}")
        if self.low < 0 or self.high < 0:
            raise LatentmapError("beta values must be >= 0")
        if not 0 < self.warmup <= 1 or not 0 < self.ramp <= 1 or not 0 <= self.lead < 1 or self.cycles < 1:
            raise LatentmapError("schedule fractions must lie in (0, 1] (lead in [0, 1)) and cycles >= 1")

    def __call__(self, progress: float) -> float:
        progress = min(max(progress, 0.0), 1.0)
        span = self.high - self.low
        if self.kind == "constant":
            return self.high
        if self.kind == "linear":
            return self.low + span * min(1.0, progress / self.warmup)
        if progress < self.lead:
            return self.low
        within = (progress - self.lead) / (1.0 - self.lead) * self.cycles
        position = 1.0 if within >= self.cycles else within % 1.0
        return self.low + span * min(1.0, position / self.ramp)

    def curve(self, points: int = 500) -> tuple[np.ndarray, np.ndarray]:
        x = np.linspace(0, 1, points)
        return x, np.array([self(p) for p in x])

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
