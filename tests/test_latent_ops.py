import numpy as np
import pytest

from latentmap.quality.interpolation import interpolation_weights, lerp, slerp
from latentmap.spaces.points import points_layout


def test_interpolation_weights():
    t = interpolation_weights()
    np.testing.assert_allclose(t, [1 / 8, 2 / 8, 3 / 8, 4 / 8, 5 / 8, 6 / 8, 7 / 8, 1.1, 1.5])


def test_lerp_and_extrapolation():
    a, b = np.array([[0.0, 2.0]]), np.array([[4.0, 2.0]])
    out = lerp(a, b, np.array([0, 0.5, 1, 1.5]))
    np.testing.assert_allclose(out[0], [[0, 2], [2, 2], [4, 2], [6, 2]])


def test_slerp_ends_and_norm():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 8))
    b = rng.normal(size=(5, 8))
    b *= np.linalg.norm(a, axis=1, keepdims=True) / np.linalg.norm(b, axis=1, keepdims=True)  # equal norms
    out = slerp(a, b, np.array([0.0, 0.3, 1.0]))
    np.testing.assert_allclose(out[:, 0], a, atol=1e-9)
    np.testing.assert_allclose(out[:, 2], b, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(out[:, 1], axis=1), np.linalg.norm(a, axis=1), rtol=1e-9)


def test_slerp_falls_back_to_lerp_for_parallel_codes():
    a = np.array([[1.0, 0.0]])
    out = slerp(a, 2 * a, np.array([0.5]))
    np.testing.assert_allclose(out[0, 0], [1.5, 0.0])


@pytest.mark.parametrize("n", [1, 3, 1000])
def test_points_layout_is_aligned(n):
    layout = points_layout(n)
    assert all(layout[k] % 4 == 0 for k in layout)
    assert layout["labels"] >= 8 * n and layout["bytes"] >= layout["categories"] + 2 * n
