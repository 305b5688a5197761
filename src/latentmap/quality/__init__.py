"""Latent quality in numbers: a judge classifier per dataset scores decoded images; the
metrics measure interpolation validity, smoothness, realism, samples and holes on seeded
test pairs; ``compare`` sets runs side by side. Reads run directories and their dataset;
produces judge files, ``compare.{json,md,png}``.
"""

from .compare import compare_runs
from .judge import Judge, JudgeSlot, judge_for, train_judge
from .metrics import METRICS, Probe, make_probe, measure

__all__ = [
    "METRICS",
    "Judge",
    "JudgeSlot",
    "Probe",
    "compare_runs",
    "judge_for",
    "make_probe",
    "measure",
    "train_judge",
]
