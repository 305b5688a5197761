"""Validity at any threshold: what the judge said about each decode, kept apart from tau.

A decode is valid when the judge's top probability reaches tau (and, where the metric asks,
names an allowed class). Measuring keeps the *evidence* instead of the verdicts: per decode
its confidence, or -1 where the class is wrong. Validity at a tau is then a comparison, so
one measurement serves every threshold (tau at the 1st, 5th or 20th percentile of the
judge's confidence on real images) and a verdict can be checked against all of them.
"""

import numpy as np

from .interpolation import INTERMEDIATE_STEPS
from .judge import Judge, group_of
from .metric_table import SAMPLERS
from .stats import Items

WRONG_CLASS = -1.0  # below every tau: a decode of the wrong class is never valid


def class_confidence(judge: Judge, probs: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Per decode: its top probability if the predicted class is one of the ``allowed`` (n, m)
    (a confusable group such as TMNIST's l I | 1 counted as one class), else WRONG_CLASS."""
    groups = [[judge.info["label_names"].index(c) for c in g] for g in judge.info.get("confusable_groups", [])]
    ids = group_of(groups, probs.shape[1])
    right = (ids[probs.argmax(axis=1)][:, None] == ids[allowed]).any(axis=1)
    return np.where(right, probs.max(axis=1), WRONG_CLASS).astype(np.float32)


def validity_items(evidence: dict[str, np.ndarray], tau: float, n_same: int) -> dict[str, Items]:
    """The metrics a threshold changes, at ``tau``, from the evidence: ``pairs`` (n, 9: the 7 inner points of
    each path, then 10% and 50% beyond), ``<sampler>_samples`` and ``analogies``."""
    valid = evidence["pairs"] >= tau
    inner = valid[:, :INTERMEDIATE_STEPS].astype(float)
    items = {
        "interpolation_validity": Items("pairs", inner.mean(axis=1)),
        "interpolation_validity_same_class": Items("same_class_pairs", inner[:n_same].mean(axis=1)),
        "interpolation_validity_cross_class": Items("cross_class_pairs", inner[n_same:].mean(axis=1)),
        "interpolation_worst": Items("pairs", inner.min(axis=1)),
        "extrapolation_validity_10": Items("pairs", valid[:, INTERMEDIATE_STEPS].astype(float)),
        "extrapolation_validity_50": Items("pairs", valid[:, INTERMEDIATE_STEPS + 1].astype(float)),
        "analogy_accuracy": Items("analogies", (evidence["analogies"] >= tau).astype(float)),
    }
    for sampler in SAMPLERS:
        if f"{sampler}_samples" in evidence:
            items[f"{sampler}_validity"] = Items(f"{sampler}_samples", (evidence[f"{sampler}_samples"] >= tau) * 1.0)
    return items


def strip_valid(confidence: np.ndarray, tau: float) -> np.ndarray:
    """(n, 9) for pictures of strips: the two ends (reconstructions) and the 7 inner points."""
    ends = np.ones((len(confidence), 1), bool)
    return np.concatenate([ends, confidence[:, :INTERMEDIATE_STEPS] >= tau, ends], axis=1)
