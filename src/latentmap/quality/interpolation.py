"""Paths through a latent space: the interpolation weights every part uses (7 steps between
two codes, then 10% and 50% beyond the target) and linear / spherical interpolation.
"""

import numpy as np

INTERMEDIATE_STEPS = 7
EXTRAPOLATIONS = (0.1, 0.5)  # beyond the target, as fractions of the source -> target step


def interpolation_weights() -> np.ndarray:
    """t for the 7 intermediate steps, then the extrapolations past the target (1.1, 1.5)."""
    inner = np.arange(1, INTERMEDIATE_STEPS + 1) / (INTERMEDIATE_STEPS + 1)
    return np.concatenate([inner, 1 + np.array(EXTRAPOLATIONS)])


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(n, d) x (n, d) x (m,) -> (n, m, d)."""
    return a[:, None, :] + t[None, :, None] * (b - a)[:, None, :]


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation (White 2016); also extrapolates for t > 1. Falls back to
    linear where the two codes are (anti)parallel or zero."""
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    cos = np.clip(np.einsum("nd,nd->n", a, b) / np.maximum(norms, 1e-12), -1.0, 1.0)
    omega = np.arccos(cos)[:, None]
    sin = np.sin(omega)
    safe = (sin[:, 0] > 1e-6) & (norms > 1e-12)
    wa = np.where(safe[:, None], np.sin((1 - t)[None, :] * omega) / np.where(sin == 0, 1, sin), 1 - t[None, :])
    wb = np.where(safe[:, None], np.sin(t[None, :] * omega) / np.where(sin == 0, 1, sin), t[None, :])
    return wa[:, :, None] * a[:, None, :] + wb[:, :, None] * b[:, None, :]
