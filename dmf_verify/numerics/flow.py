"""Gradient-flow integration: factor level, end-to-end (Lemma 3), with scipy's DOP853.

Only the requested times are stored (``t_eval``); the integrator's internal steps are not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from dmf_verify.errors import IntegrationError, InvalidArgument
from dmf_verify.numerics.model import _check_loss_shape, factor_gradients_from, require_balanced
from dmf_verify.numerics.validation import as_finite_array, as_matrix, check_depth, check_factors


@dataclass
class FlowResult:
    """Solution at the requested times.

    ``status`` is ``"success"`` or ``"stopped"`` (the norm bound ``max_norm`` was hit at time
    ``t[-1]``). ``products[i]`` is W(t[i]); ``factors[i]`` the factors (factor flow only).
    """

    status: str
    t: np.ndarray
    products: np.ndarray
    factors: list[list[np.ndarray]] | None
    nfev: int
    rtol: float
    atol: float
    method: str
    message: str = ""


def _check_times(t_eval) -> np.ndarray:
    t = as_finite_array(t_eval, "t_eval").reshape(-1)
    if t.size == 0:
        raise InvalidArgument("t_eval must hold at least one time")
    if t[0] < 0 or np.any(np.diff(t) <= 0):
        raise InvalidArgument("t_eval must be non-negative and strictly increasing")
    return t


def solve_flow(rhs: Callable[[float, np.ndarray], np.ndarray], y0: np.ndarray, t_eval, *,
               rtol: float = 1e-10, atol: float = 1e-12, method: str = "DOP853",
               max_norm: float | None = None) -> tuple[np.ndarray, np.ndarray, int, str, str]:
    """Integrate y' = rhs(t, y) from t = 0, returning (t, Y[len(t), n], nfev, status, message).

    With ``max_norm`` a terminal event stops the run when ||y|| reaches it (status "stopped").
    """
    t = _check_times(t_eval)
    if not (rtol > 0 and atol > 0):
        raise InvalidArgument(f"rtol and atol must be > 0, got {rtol}, {atol}")
    events = None
    if max_norm is not None:
        def hit(_t, y):
            return np.linalg.norm(y) - max_norm
        hit.terminal = True
        events = [hit]
    span = (0.0, float(t[-1]))
    if t[-1] == 0:
        return t, y0[None, :].copy(), 0, "success", "no time to integrate"
    sol = solve_ivp(rhs, span, y0, method=method, t_eval=t, rtol=rtol, atol=atol, events=events)
    if sol.status == -1:
        raise IntegrationError(f"{method} failed at t = {sol.t[-1] if sol.t.size else 0.0:g}: {sol.message}",
                               t=float(sol.t[-1]) if sol.t.size else 0.0)
    if not np.all(np.isfinite(sol.y)):
        raise IntegrationError(f"{method} produced non-finite values (blow-up?)")
    status = "stopped" if sol.status == 1 else "success"
    return sol.t, sol.y.T, int(sol.nfev), status, sol.message


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
    fs = check_factors(factors)
    shapes = [f.shape for f in fs]
    from dmf_verify.numerics.model import _product

    _check_loss_shape(loss, _product(fs))
    rates = np.ones(len(fs)) if layer_rates is None else np.asarray(layer_rates, dtype=float)
    if rates.shape != (len(fs),):
        raise InvalidArgument(f"layer_rates must have {len(fs)} entries, got {rates.shape}")

    def rhs(_t, y):
        cur = _unpack(y, shapes)
        w = _product(cur)
        grads = factor_gradients_from(cur, loss.gradient(w))
        return -np.concatenate([r * g.ravel() for r, g in zip(rates, grads)])

    t, ys, nfev, status, msg = solve_flow(rhs, _pack(fs), t_eval, rtol=rtol, atol=atol,
                                          method=method, max_norm=max_norm)
    states = [_unpack(y.copy(), shapes) for y in ys]
    prods = np.stack([_product(s) for s in states])
    return FlowResult(status, t, prods, states, nfev, rtol, atol, method, msg)


def default_exponents(j: int, depth: int) -> tuple[float, float]:
    """Lemma 3's exponents for term j = 1..N: ((j-1)/N, (N-j)/N)."""
    return (j - 1) / depth, (depth - j) / depth


def end_to_end_velocity(w: np.ndarray, grad: np.ndarray, depth: int, *,
                        exponents: Callable[[int, int], tuple[float, float]] = default_exponents) -> np.ndarray:
    """-sum_j (W W^T)^a_j grad (W^T W)^b_j with (a_j, b_j) = exponents(j, N) (Lemma 3).

    Powers come from one compact SVD of W; a zero exponent is the full identity.
    """
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    v = vt.T
    out = np.zeros_like(grad)
    for j in range(1, depth + 1):
        a, b = exponents(j, depth)
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
    w0 = as_matrix(w0, "w0")
    n = check_depth(depth)
    _check_loss_shape(loss, w0)
    shape = w0.shape

    def rhs(_t, y):
        w = y.reshape(shape)
        return end_to_end_velocity(w, loss.gradient(w), n, exponents=exponents).ravel()

    t, ys, nfev, status, msg = solve_flow(rhs, w0.ravel(), t_eval, rtol=rtol, atol=atol,
                                          method=method, max_norm=max_norm)
    return FlowResult(status, t, ys.reshape(-1, *shape), None, nfev, rtol, atol, method, msg)


def integrate_end_to_end_from_factors(loss, factors: Sequence[np.ndarray], t_eval, *,
                                      balance_rtol: float = 1e-10, **options) -> FlowResult:
    """Lemma 3 started from factors: checks balancedness first (raises NotBalancedError)."""
    fs = check_factors(factors)
    require_balanced(fs, rtol=balance_rtol)
    from dmf_verify.numerics.model import _product

    return integrate_end_to_end_flow(loss, _product(fs), len(fs), t_eval, **options)
