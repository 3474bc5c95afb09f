"""The spectral flow: integrate (sigma, U, V) with Theorem 3 and Lemma 2 as the vector field.

For balanced gradient flow the end-to-end matrix W = U diag(sigma) V^T (compact SVD, k = min(d, d')
distinct positive singular values) moves by

    d sigma_r/dt = rate(N, sigma_r, <G, u_r v_r^T>)         (Theorem 3, eq. 7)
    (dU/dt, dV/dt) = lemma2(U, sigma, V, G, N)               (Lemma 2, eqs. 8-9)

with G = grad l(W). :func:`integrate_spectral_flow` (float64, scipy DOP853 through
:func:`dmf_verify.numerics.integrators.scipy_ode.solve`) and :func:`integrate_spectral_flow_mp`
(mpmath, the GBS integrator) integrate the state and reconstruct W(t) = U diag(sigma) V^T at the
requested times. The two rate functions are parameters: the claims pass the formulas compiled from
the derivations (:mod:`dmf_verify.theory.compiled`); the float64 default is the hand-written pair
:func:`dmf_verify.numerics.rates.singular_value_rates`-style rate and
:func:`dmf_verify.numerics.singular_vectors.lemma2_rates`. The state is valid while the singular
values stay distinct and positive (Lemma 2 is undefined at a crossing).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dmf_verify.errors import UndefinedError
from dmf_verify.numerics.integrators._solution import Solution
from dmf_verify.numerics.validation import as_matrix, check_callable, check_depth, check_int


def handwritten_rate(n: int, sigma, proj):
    """Theorem 3's rate, hand-written (the default): -N (sigma^2)^(1 - 1/N) P."""
    return -n * (sigma * sigma) ** (1.0 - 1.0 / n) * proj


def handwritten_vectors(u, s, v, g, n):
    from dmf_verify.numerics.singular_vectors import lemma2_rates

    return lemma2_rates(u, s, v, g, n)


@dataclass
class SpectralFlowResult(Solution):
    """A :class:`Solution` with ``products`` W(t_i), ``sigmas`` (T, k), ``U`` (T, d, k), ``V`` (T, d', k) and
    ``orthonormality`` = max_i max(||U^T U - I||, ||V^T V - I||) along the output times."""

    products: Any = None
    sigmas: Any = None
    U: Any = None
    V: Any = None
    orthonormality: float = 0.0


def _check_spectrum(s, *, rtol: float = 1e-8) -> None:
    s = [float(x) for x in s]
    top = max(s)
    if min(s) <= rtol * top:
        raise UndefinedError(f"the spectral flow needs positive singular values; got min sigma = {min(s):.3e} "
                             f"(<= {rtol:.0e} * max)")
    ss = sorted(s)
    for a, b in itertools.pairwise(ss):
        if b - a <= rtol * top:
            raise UndefinedError(f"the spectral flow needs distinct singular values; {a:.6e} and {b:.6e} coincide "
                                 f"to {rtol:.0e} relative")


def initial_state(w0):
    """(sigma, U, V) of a compact SVD of ``w0`` (float64), checked distinct and positive."""
    w = as_matrix(w0, "w0")
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    _check_spectrum(s)
    return s, u, vt.T


def integrate_spectral_flow(gradient: Callable[[np.ndarray], np.ndarray], w0, depth: int, t_eval, *,
                            sigma_rate: Callable = handwritten_rate, vector_rates: Callable = handwritten_vectors,
                            rtol: float = 1e-12, atol: float = 1e-14, method: str = "DOP853") -> SpectralFlowResult:
    """Integrate (sigma, U, V) from the SVD of ``w0`` (float64); ``gradient(W)`` is grad l(W).

    ``sigma_rate(N, sigma_r, P_r)`` and ``vector_rates(U, sigma, V, G, N) -> (dU, dV)`` form the field.
    """
    from dmf_verify.numerics.integrators.scipy_ode import solve

    check_callable(gradient, "gradient")
    check_callable(sigma_rate, "sigma_rate")
    check_callable(vector_rates, "vector_rates")
    n = check_depth(depth)
    s0, u0, v0 = initial_state(w0)
    d, k = u0.shape
    dp = v0.shape[0]

    def unpack(y):
        return y[:k], y[k:k + d * k].reshape(d, k), y[k + d * k:].reshape(dp, k)

    def rhs(_t, y):
        s, u, v = unpack(y)
        w = (u * s) @ v.T
        g = np.asarray(gradient(w), dtype=np.float64)
        proj = np.einsum("ir,ij,jr->r", u, g, v)
        ds = np.array([sigma_rate(n, s[r], proj[r]) for r in range(k)], dtype=np.float64)
        du, dv = vector_rates(u, s, v, g, n)
        return np.concatenate([ds, np.asarray(du, dtype=np.float64).ravel(), np.asarray(dv, dtype=np.float64).ravel()])

    y0 = np.concatenate([s0, u0.ravel(), v0.ravel()])
    sol = solve(rhs, y0, t_eval, rtol=rtol, atol=atol, method=method)
    parts = [unpack(y) for y in sol.y]
    sig = np.array([p[0] for p in parts])
    us = np.array([p[1] for p in parts])
    vs = np.array([p[2] for p in parts])
    prods = np.array([(u * s) @ v.T for s, u, v in parts])
    orth = max(max(np.abs(u.T @ u - np.eye(k)).max(), np.abs(v.T @ v - np.eye(k)).max()) for _, u, v in parts)
    return SpectralFlowResult(sol.status, sol.t, sol.y, sol.t_final, sol.method, sol.rtol, sol.atol, sol.stats,
                              sol.message, sol.y_final, products=prods, sigmas=sig, U=us, V=vs,
                              orthonormality=float(orth))


def mp_svd(w):
    """Compact SVD (sigma list, U, V as mpmath matrices) at the current precision, sigma descending."""
    import mpmath

    a = w if isinstance(w, mpmath.matrix) else mpmath.matrix(as_matrix(w, "w").tolist())
    transposed = a.rows < a.cols
    if transposed:
        a = a.T
    u, s, vt = mpmath.svd_r(a, full_matrices=False, compute_uv=True)
    k = len(s)
    order = sorted(range(k), key=lambda r: -s[r])
    sig = [s[r] for r in order]
    U = mpmath.matrix(u.rows, k)
    V = mpmath.matrix(vt.cols, k)
    for c, r in enumerate(order):
        for i in range(u.rows):
            U[i, c] = u[i, r]
        for i in range(vt.cols):
            V[i, c] = vt[r, i]
    if transposed:
        U, V = V, U
    return sig, U, V


def integrate_spectral_flow_mp(gradient: Callable, w0, depth: int, t_eval, *, sigma_rate: Callable,
                               vector_rates: Callable, digits: int = 40, **options) -> Solution:
    """The spectral flow in mpmath with the GBS integrator; returns the GBS :class:`Solution` whose
    ``y[i]`` are the states and ``stats["products"]`` the reconstructed W(t_i) as mpmath matrices.

    ``gradient(W)`` takes and returns ``mpmath.matrix``; ``sigma_rate(N, sigma, P)`` works on mpf;
    ``vector_rates(U, sigma, V, G, N)`` on mpmath matrices (``compiled.lemma2_rates(..., backend="mpmath")``).
    ``w0`` is a float64 matrix (taken at its exact binary value) or an mpmath matrix.
    """
    import mpmath
    from mpmath import mp

    from dmf_verify.numerics.integrators.gbs import GUARD_DIGITS, integrate

    check_callable(gradient, "gradient")
    check_callable(sigma_rate, "sigma_rate")
    check_callable(vector_rates, "vector_rates")
    n = check_depth(depth)
    digits = check_int(digits, "digits", low=5, high=500)
    with mp.workdps(digits + GUARD_DIGITS):
        w = w0 if isinstance(w0, mpmath.matrix) else mpmath.matrix(as_matrix(w0, "w0").tolist())
        s0, u0, v0 = mp_svd(w)
        _check_spectrum(s0)
        d, k, dp = u0.rows, len(s0), v0.rows

        def unpack(y):
            s = list(y[:k])
            u = mpmath.matrix(d, k)
            v = mpmath.matrix(dp, k)
            for i in range(d):
                for r in range(k):
                    u[i, r] = y[k + i * k + r]
            for i in range(dp):
                for r in range(k):
                    v[i, r] = y[k + d * k + i * k + r]
            return s, u, v

        def recon(s, u, v):
            return u * mpmath.diag(s) * v.T

        def rhs(_t, y):
            s, u, v = unpack(y)
            g = gradient(recon(s, u, v))
            gh = u.T * g * v
            ds = [sigma_rate(n, s[r], gh[r, r]) for r in range(k)]
            du, dv = vector_rates(u, s, v, g, n)
            return ds + [du[i, r] for i in range(d) for r in range(k)] + [dv[i, r] for i in range(dp) for r in range(k)]

        y0 = list(s0) + [u0[i, r] for i in range(d) for r in range(k)] + [v0[i, r] for i in range(dp) for r in range(k)]
        sol = integrate(rhs, y0, t_eval, digits=digits, **options)
        sol.stats["products"] = [recon(*unpack(y)) for y in sol.y]
        return sol


__all__ = ["SpectralFlowResult", "handwritten_rate", "handwritten_vectors", "initial_state", "integrate_spectral_flow",
           "integrate_spectral_flow_mp", "mp_svd"]
