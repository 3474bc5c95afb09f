"""Closed-form rates of the paper's dynamics, evaluated numerically (float64).

These are the formulas under test; the claims compare them with quantities computed
independently (finite differences of integrated trajectories).
"""

from __future__ import annotations

import numpy as np

from dmf_verify.errors import ShapeError
from dmf_verify.numerics.validation import as_matrix, as_real_array, check_depth, check_real


def singular_value_rates(w, grad, depth: int, *, exponent: float | None = None,
                         reference=None) -> tuple[np.ndarray, np.ndarray]:
    """Theorem 3: d sigma_r/dt = -N (sigma_r^2)^(1 - 1/N) <grad, u_r v_r^T> for every r.

    Returns (sigma, rates) with sigma the sorted singular values. ``exponent`` replaces
    1 - 1/N (negative controls use a wrong one). ``reference=(U, V)`` aligns the signs of the
    singular vectors (the rate does not depend on them: u_r and v_r flip together).
    """
    from dmf_verify.numerics.spectral import svd_aligned

    w = as_matrix(w, "W")
    g = as_matrix(grad, "grad")
    if g.shape != w.shape:
        raise ShapeError(f"grad has shape {g.shape} but W has shape {w.shape}")
    n = check_depth(depth)
    e = 1.0 - 1.0 / n if exponent is None else check_real(exponent, "exponent")
    u, s, v = svd_aligned(w, reference)
    proj = np.einsum("ir,ij,jr->r", u, g, v)
    return s, -n * (s * s) ** e * proj


def five_point_derivative(values: np.ndarray, h: float) -> np.ndarray:
    """Central 5-point stencil at the middle of 5 equally spaced samples (error h^4/30 f^(5)).

    ``values`` holds the 5 samples along its first axis (a vector, or one row per sample).
    """
    v = as_real_array(values, "values")
    if v.ndim < 1 or v.shape[0] != 5:
        raise ShapeError(f"values must hold 5 samples along its first axis, got an array of shape {v.shape}")
    h = check_real(h, "h", low=0.0, low_open=True)
    return (-v[4] + 8 * v[3] - 8 * v[1] + v[0]) / (12.0 * h)
