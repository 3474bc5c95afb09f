"""Symmetric PSD factorization W = Z Z^T (Gunasekar et al. 2017, Theorem 1 as recalled by Arora et al. 2019).

Loss l(W) for symmetric measurements; the objective is f(Z) = l(Z Z^T) with gradient
(G + G^T) Z, G = grad l(Z Z^T), so gradient flow is Z' = -(G + G^T) Z. From Z(0) = alpha I with
commuting symmetric A_i = V diag(lam_i) V^T, Z stays V diag(z) V^T, each eigenvalue w_k = z_k^2 of
W obeys w_k' = -4 (Lambda^T r)_k w_k (r = residual, Lambda = [lam_i]_i, 1/2-sum loss), hence

    w_k(t) = alpha^2 exp((Lambda^T nu(t))_k),    nu(t) = -4 int_0^t r,

and the limit t -> infinity is the unique minimizer of sum_k w_k ln(w_k / alpha^2) - w_k over
{w >= 0 : Lambda w = y} (:func:`entropic_limit`, by Newton's method on its dual). As alpha -> 0
that minimizer tends to the minimum-l1 (nuclear norm) PSD solution, and an eigenvalue off the LP
support behaves like alpha^(2 s_k), s_k = 1 - (Lambda^T mu)_k the dual slack of the LP
(theory/psd_factorization.py). This module integrates the flow on the full d x d matrix Z (no
reduction is used there) and computes both sides of that comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dmf_verify.errors import IntegrationError, InvalidArgument, ShapeError, SolverError
from dmf_verify.numerics.validation import (
    as_matrix,
    as_vector,
    check_int,
    check_loss,
    check_option,
    check_positive,
    check_real,
)


def _check_square(loss) -> int:
    check_loss(loss)
    shape = tuple(getattr(loss, "shape", ()))
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ShapeError(f"the PSD factorization W = Z Z^T needs a square loss, got shape {shape}")
    return int(shape[0])


def psd_gradient(loss, z: np.ndarray) -> np.ndarray:
    """Gradient of f(Z) = l(Z Z^T): (G + G^T) Z with G = grad l(Z Z^T)."""
    d = _check_square(loss)
    z = as_matrix(z, "z")
    if z.shape[0] != d:
        raise ShapeError(f"z has {z.shape[0]} rows but W = z z^T must be {d} x {d}")
    g = loss.gradient(z @ z.T)
    return (g + g.T) @ z


def psd_flow(loss, z0, t_eval, *, rtol: float = 1e-11, atol: float = 1e-14, method: str = "LSODA"):
    """Integrate Z' = -(G + G^T) Z from ``z0``; returns (t, [Z(t) for t in t_eval])."""
    from dmf_verify.numerics.flow import solve_flow

    d = _check_square(loss)
    z0 = as_matrix(z0, "z0")
    if z0.shape[0] != d:
        raise ShapeError(f"z0 = Z(0) has {z0.shape[0]} rows but W is {d} x {d}")
    shape = z0.shape

    def rhs(_t, y):
        z = y.reshape(shape)
        g = loss.gradient(z @ z.T)
        return (-(g + g.T) @ z).ravel()

    t, ys, _nfev, _status, _msg = solve_flow(rhs, z0.ravel(), t_eval, rtol=rtol, atol=atol, method=method)
    return t, [y.reshape(shape) for y in ys]


@dataclass
class PSDLimit:
    """The end of a flow run: W = Z Z^T, the time reached and the loss there."""

    W: np.ndarray
    Z: np.ndarray
    t: float
    loss: float
    alpha: float


def psd_flow_limit(loss, *, alpha: float, loss_tol: float = 1e-24, rtol: float = 1e-11, max_doublings: int = 60,
                   method: str = "LSODA") -> PSDLimit:
    """Gradient flow from Z(0) = alpha I integrated over doubling horizons until l(Z Z^T) < ``loss_tol``.

    Raises :class:`IntegrationError` when the measurements are not fitted after ``max_doublings``
    horizon doublings (the limit does not fit the data: Theorem 1's premise fails).
    """
    d = _check_square(loss)
    a = check_positive(alpha, "alpha")
    tol = check_positive(loss_tol, "loss_tol")
    max_doublings = check_int(max_doublings, "max_doublings", low=1)
    check_real(rtol, "rtol", low=0.0, low_open=True)
    from dmf_verify.numerics.integrators.scipy_ode import METHODS

    check_option(method, "method", METHODS)
    z = a * np.eye(d)
    horizon, total = 1.0, 0.0
    value = loss.value(z @ z.T)
    for _ in range(int(max_doublings)):
        _t, states = psd_flow(loss, z, [0.0, horizon], rtol=rtol, method=method)
        z = states[-1]
        total += horizon
        w = z @ z.T
        value = loss.value(w)
        if value < tol:
            return PSDLimit(0.5 * (w + w.T), z, total, float(value), a)
        horizon *= 2.0
    raise IntegrationError(f"the PSD flow from alpha = {a:g} I did not fit the measurements by t = {total:g} "
                           f"(loss {value:.3e} >= loss_tol {tol:g})", t=total)


def entropic_limit(eigenvalues, y, *, alpha: float, tol: float = 1e-14, max_iter: int = 200) -> np.ndarray:
    """The t -> infinity limit of the commuting flow, in the shared eigenbasis: w = alpha^2 exp(Lambda^T nu).

    ``eigenvalues`` is Lambda (m x d: row i holds the eigenvalues of A_i); nu solves Lambda w = y, i.e.
    minimizes the convex dual phi(nu) = sum_k alpha^2 exp((Lambda^T nu)_k) - y . nu. Damped Newton
    (backtracking on phi, or on the residual near the root), continued from alpha = 1 down to alpha in
    steps of alpha^(1/K) (nu ~ ln(1/alpha^2) mu grows like ln(1/alpha), so each level starts close to its
    root); raises :class:`SolverError` if the gradient norm does not fall below ``tol`` (relative to ||y||)
    (e.g. y outside the cone {Lambda w : w > 0}).
    """
    lam, yv = _check_lp(eigenvalues, y)
    a = check_positive(alpha, "alpha")
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", low=1)
    levels = max(1, int(np.ceil(abs(np.log10(a)))))
    nu, prev = np.zeros(lam.shape[0]), None
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, levels + 1):
            t = k / levels
            if prev is not None:
                nu = nu * (t / prev)  # nu is ~ proportional to ln(1/alpha^2)
            w, nu = _newton_dual(lam, yv, 2.0 * t * np.log(a) if a != 1.0 else 0.0, nu, tol, max_iter)
            prev = t
    return w


def _check_lp(eigenvalues, y) -> tuple[np.ndarray, np.ndarray]:
    """Lambda (m x d) and y (m entries), finite and matching."""
    lam = as_matrix(eigenvalues, "eigenvalues")
    yv = as_vector(y, "y")
    if yv.size != lam.shape[0]:
        raise ShapeError(f"y has {yv.size} entries but eigenvalues holds {lam.shape[0]} measurements (rows)")
    return lam, yv


def _newton_dual(lam, yv, log_a2, nu, tol, max_iter):
    scale = max(1.0, float(np.linalg.norm(yv)))

    def phi(v):
        return float(np.sum(np.exp(log_a2 + lam.T @ v)) - yv @ v)

    grad = np.full(yv.shape, np.inf)
    for _ in range(int(max_iter)):
        w = np.exp(log_a2 + lam.T @ nu)
        grad = lam @ w - yv
        gnorm = float(np.linalg.norm(grad))
        if gnorm <= tol * scale:
            return w, nu
        hess = (lam * w) @ lam.T
        step, *_ = np.linalg.lstsq(hess, grad, rcond=None)
        if not np.all(np.isfinite(step)):
            raise SolverError("entropic limit: non-finite Newton step (y outside the cone Lambda w, w > 0?)",
                              status="nonfinite")
        f0, t = phi(nu), 1.0
        while t > 1e-12:
            trial = nu - t * step
            g_trial = lam @ np.exp(log_a2 + lam.T @ trial) - yv
            # Armijo on phi, or (near the root, where phi's decrease drowns in round-off) a smaller residual
            if phi(trial) <= f0 - 0.25 * t * float(grad @ step) or float(np.linalg.norm(g_trial)) <= (1 - 0.5 * t) * gnorm:
                break
            t *= 0.5
        nu = nu - t * step
    raise SolverError(f"entropic limit did not converge in {max_iter} Newton steps (|grad| = "
                      f"{float(np.linalg.norm(grad)):.3e}); is y = Lambda w for some w > 0?", status="max_iter")


@dataclass
class LPRate:
    """The PSD minimum-nuclear-norm LP on eigenvalues and the predicted rates of the limit in alpha."""

    x: np.ndarray           # minimizer (eigenvalues of W* in the shared basis)
    support: np.ndarray     # indices with x_k > 0
    off_support: np.ndarray
    slack: np.ndarray       # s_k = 1 - (Lambda^T mu)_k (0 on the support, > 0 off it for a strict vertex)
    dual: np.ndarray        # mu (HiGHS equality multipliers)
    nuclear_norm: float

    def prefactors(self, eigenvalues) -> np.ndarray:
        """C_k of w_k(alpha) ~ C_k alpha^(2 s_k) off the support: exp(Lambda_k^T delta*), Lambda_S^T delta* = ln x*_S."""
        lam = np.asarray(eigenvalues, dtype=float)
        delta = np.linalg.solve(lam[:, self.support].T, np.log(self.x[self.support]))
        return np.exp(lam[:, self.off_support].T @ delta)

    def exponents(self, *, init_power: float = 2.0) -> np.ndarray:
        """Predicted exponents p_k of w_k(alpha) ~ alpha^(p_k) off the support: init_power * s_k (W(0) = alpha^2 I)."""
        return init_power * self.slack[self.off_support]


def lp_rates(eigenvalues, y, *, support_tol: float = 1e-10) -> LPRate:
    """Solve min 1^T x s.t. Lambda x = y, x >= 0 (HiGHS) and return the dual slacks.

    Raises :class:`InvalidArgument` when the solution is not a strict vertex (a zero slack off the
    support: the alpha-rate of that eigenvalue is then not a power law).
    """
    from dmf_verify.numerics.nuclear import min_nuclear_norm_commuting

    lam, yv = _check_lp(eigenvalues, y)
    support_tol = check_positive(support_tol, "support_tol")
    lp = min_nuclear_norm_commuting(lam, yv, psd=True)
    x = np.asarray(lp.eigenvalues, dtype=float)
    mu = np.asarray(lp.dual, dtype=float)
    slack = 1.0 - lam.T @ mu
    on = np.flatnonzero(x > support_tol * max(1.0, float(np.max(x))))
    off = np.setdiff1d(np.arange(x.size), on)
    if off.size and float(np.min(slack[off])) <= 1e-9:
        raise InvalidArgument(f"the LP solution is not a strict vertex: dual slack {float(np.min(slack[off])):.3e} "
                              "off the support (degenerate; no power-law rate)")
    return LPRate(x, on, off, slack, mu, float(lp.nuclear_norm))


__all__ = ["LPRate", "PSDLimit", "entropic_limit", "lp_rates", "psd_flow", "psd_flow_limit", "psd_gradient"]
