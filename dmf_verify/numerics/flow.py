"""Gradient-flow integration: factor level, end-to-end (Lemma 3), with scipy's DOP853.

The integration itself is :func:`dmf_verify.numerics.integrators.scipy_ode.solve`; this module
builds the right-hand sides. Only the requested times are stored (``t_eval``); the integrator's
internal steps are not. Results are :class:`FlowResult` objects, a
:class:`~dmf_verify.numerics.integrators.Solution` with the product matrices (and factors) at the
requested times.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dmf_verify.errors import ShapeError
from dmf_verify.numerics.integrators._solution import Solution, Status
from dmf_verify.numerics.integrators.scipy_ode import check_times, solve
from dmf_verify.numerics.model import _check_loss_shape, factor_gradients_from, require_balanced
from dmf_verify.numerics.validation import (
    as_matrix,
    as_vector,
    check_callable,
    check_depth,
    check_factors,
    check_int,
    check_loss,
    check_real,
    check_tolerance,
)


@dataclass
class FlowResult(Solution):
    """A :class:`Solution` of a matrix flow at the requested times.

    ``status`` is ``Status.SUCCESSFUL``, or ``Status.EVENT`` when the norm bound ``max_norm`` was
    hit (at ``t_final``; ``t`` then holds the requested times before it). ``products[i]`` is
    W(t[i]); ``factors[i]`` the factors (factor flow only).
    """

    products: Any = None
    factors: list[list[np.ndarray]] | None = None


def _check_times(t_eval) -> np.ndarray:
    return check_times(t_eval, 0.0)


def solve_flow(rhs: Callable[[float, np.ndarray], np.ndarray], y0: np.ndarray, t_eval, *,
               rtol: float = 1e-10, atol: float = 1e-12, method: str = "DOP853",
               max_norm: float | None = None) -> tuple[np.ndarray, np.ndarray, int, str, str]:
    """Compatibility wrapper around :func:`~dmf_verify.numerics.integrators.scipy_ode.solve`:
    (t, Y[len(t), n], nfev, status, message) with status ``"success"`` or ``"stopped"`` (the norm
    bound was hit); failures raise the integrator's errors. New code calls ``solve`` directly.
    """
    sol = solve(rhs, y0, t_eval, rtol=rtol, atol=atol, method=method, max_norm=max_norm)
    return sol.t, sol.y, sol.nfev, "stopped" if sol.status is Status.EVENT else "success", sol.message


def _flow_result(sol: Solution, products, factors) -> FlowResult:
    return FlowResult(sol.status, sol.t, sol.y, sol.t_final, sol.method, sol.rtol, sol.atol, sol.stats,
                      sol.message, sol.y_final, products=products, factors=factors)


def _pack(fs: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([f.ravel() for f in fs])


def _unpack(y: np.ndarray, shapes: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    out, i = [], 0
    for s in shapes:
        n = s[0] * s[1]
        out.append(y[i:i + n].reshape(s))
        i += n
    return out


def integrate_factor_flow(loss, factors: Sequence[np.ndarray], t_eval, *, rtol: float = 1e-10,
                          atol: float = 1e-12, method: str = "DOP853",
                          layer_rates: Sequence[float] | None = None,
                          max_norm: float | None = None) -> FlowResult:
    """Integrate dW_j/dt = -rate_j * dphi/dW_j for all factors (rate_j = 1 is gradient flow).

    ``layer_rates`` lets each layer move at its own rate (plain gradient flow when omitted);
    unequal rates break balancedness, which the negative controls use.
    """
    check_loss(loss)
    fs = check_factors(factors)
    shapes = [f.shape for f in fs]
    from dmf_verify.numerics.model import _product

    _check_loss_shape(loss, _product(fs))
    rates = np.ones(len(fs)) if layer_rates is None else _check_rates(layer_rates, len(fs))

    def rhs(_t, y):
        cur = _unpack(y, shapes)
        w = _product(cur)
        grads = factor_gradients_from(cur, loss.gradient(w))
        return -np.concatenate([r * g.ravel() for r, g in zip(rates, grads)])

    sol = solve(rhs, _pack(fs), t_eval, rtol=rtol, atol=atol, method=method, max_norm=max_norm)
    states = [_unpack(y.copy(), shapes) for y in sol.y]
    prods = np.stack([_product(s) for s in states]) if states else np.empty((0, *_product(fs).shape))
    return _flow_result(sol, prods, states)


def _check_rates(layer_rates, n: int) -> np.ndarray:
    """One finite real rate per factor (a ShapeError names the count needed)."""
    return as_vector(layer_rates, "layer_rates", size=n)


def default_exponents(j: int, depth: int) -> tuple[float, float]:
    """Lemma 3's exponents for term j = 1..N: ((j-1)/N, (N-j)/N)."""
    depth = check_depth(depth)
    j = check_int(j, "j", low=1, high=depth)
    return (j - 1) / depth, (depth - j) / depth


def end_to_end_velocity(w: np.ndarray, grad: np.ndarray, depth: int, *,
                        exponents: Callable[[int, int], tuple[float, float]] = default_exponents) -> np.ndarray:
    """-sum_j (W W^T)^a_j grad (W^T W)^b_j with (a_j, b_j) = exponents(j, N) (Lemma 3).

    Powers come from one compact SVD of W; a zero exponent is the full identity.

    >>> end_to_end_velocity(np.diag([4.0, 1.0]), np.eye(2), 2).round(12)  # -(sqrt(WW^T) + sqrt(W^TW)) G
    array([[-8.,  0.],
           [ 0., -2.]])
    """
    w = as_matrix(w, "W")
    g = as_matrix(grad, "grad")
    if g.shape != w.shape:
        raise ShapeError(f"grad has shape {g.shape} but W has shape {w.shape}")
    return _velocity(w, g, _exponent_pairs(exponents, check_depth(depth)))


def _exponent_pairs(exponents, depth: int) -> list[tuple[float, float]]:
    """[(a_j, b_j) for j = 1..N], evaluated and checked once (not per right-hand-side call)."""
    check_callable(exponents, "exponents")
    pairs = []
    for j in range(1, depth + 1):
        pair = exponents(j, depth)
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ShapeError(f"exponents({j}, {depth}) must return a pair (a_j, b_j), got {pair!r}")
        pairs.append((check_real(pair[0], f"exponents({j}, {depth})[0]"),
                      check_real(pair[1], f"exponents({j}, {depth})[1]")))
    return pairs


def _velocity(w, grad, pairs):
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    v = vt.T
    out = np.zeros_like(grad)
    for a, b in pairs:
        x = grad if a == 0 else u @ ((s ** (2 * a))[:, None] * (u.T @ grad))
        x = x if b == 0 else ((x @ v) * s ** (2 * b)) @ v.T
        out -= x
    return out


def integrate_end_to_end_flow(loss, w0, depth: int, t_eval, *, rtol: float = 1e-10,
                              atol: float = 1e-12, method: str = "DOP853",
                              exponents: Callable[[int, int], tuple[float, float]] = default_exponents,
                              max_norm: float | None = None) -> FlowResult:
    """Integrate the end-to-end ODE of Lemma 3 for the product matrix W directly.

    Valid for a factor flow started from a *balanced* init with product ``w0`` (use
    :func:`integrate_end_to_end_from_factors` to have that checked).
    """
    check_loss(loss)
    w0 = as_matrix(w0, "w0")
    n = check_depth(depth)
    _check_loss_shape(loss, w0, "w0")
    pairs = _exponent_pairs(exponents, n)
    shape = w0.shape

    def rhs(_t, y):
        w = y.reshape(shape)
        return _velocity(w, loss.gradient(w), pairs).ravel()

    sol = solve(rhs, w0.ravel(), t_eval, rtol=rtol, atol=atol, method=method, max_norm=max_norm)
    return _flow_result(sol, sol.y.reshape(-1, *shape), None)


def integrate_end_to_end_from_factors(loss, factors: Sequence[np.ndarray], t_eval, *,
                                      balance_rtol: float = 1e-10, **options) -> FlowResult:
    """Lemma 3 started from factors: checks balancedness first (raises NotBalancedError)."""
    check_loss(loss)
    fs = check_factors(factors)
    require_balanced(fs, rtol=check_tolerance(balance_rtol, "balance_rtol"))
    from dmf_verify.numerics.model import _product

    return integrate_end_to_end_flow(loss, _product(fs), len(fs), t_eval, **options)
