"""Theorem 3 / Lemma 4 (Arora et al. 2019): for N >= 2 a signed singular value never crosses zero.

Along the balanced factor flow each tracked singular value obeys the scalar ODE
dx/dt = g(t) (x^2)^(1 - 1/N) with g(t) = -N <grad l(W(t)), u_r(t) v_r(t)^T> (Theorem 3), whose
solution (Lemma 4) keeps sign(x(0)) for N >= 2; for N = 1 the ODE is linear, x = x(0) + G(t),
and x can cross zero.

The loss pulls the smallest singular value of W towards a negative value (Frobenius loss
to a target whose determinant has the opposite sign, plus a generic perturbation so the
singular vectors move). Two independent quantities: the signed sigma_r(t) recovered by the SVD
tracker from the integrated factor flow, and Lemma 4's closed form with G(t) = int_0^t g, g
measured from the tracked vectors and integrated by the cumulative Simpson rule. The verify
also requires the sign content itself: for N >= 2 sign(x(0)) x(t) > 0 at every sample, for
N = 1 a zero crossing (otherwise the error is reported as inf).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.checks.instances import matrix_with_spectrum
from dmf_verify.numerics.flow import integrate_factor_flow
from dmf_verify.numerics.losses import FrobeniusLoss
from dmf_verify.numerics.model import balanced_factors
from dmf_verify.numerics.tracking import track_svd

SHAPE = (3, 3)
DEPTHS = (1, 2, 3, 4)
TIMES = np.linspace(0.0, 4.0, 801)


def lemma4(x0: float, big_g: np.ndarray, depth: int) -> np.ndarray:
    """Lemma 4: solution of dx/dt = g (x^2)^(1 - 1/N) with G = int g (N = 1: x0 + G)."""
    s = np.sign(x0)
    if depth == 1:
        return x0 + big_g
    if depth == 2:
        return x0 * np.exp(s * big_g)
    q = 1.0 - 2.0 / depth
    return s * (abs(x0) ** (-q) - q * s * big_g) ** (-1.0 / q)


@lru_cache(maxsize=4)
def _runs(seed: int):
    """(signed sigma_r(t), g(t)) per (depth, orientation); orientation -1 tracks the frame with v_r flipped, so
    the same trajectory is followed from sigma_r(0) < 0 (Lemma 4 with sign(x0) = -1)."""
    rng = np.random.default_rng(seed + 4242)
    w0 = matrix_with_spectrum(SHAPE, [1.2, 0.8, 0.3], seed=seed)
    u, _s, vt = np.linalg.svd(w0)
    target = w0 - 0.9 * np.outer(u[:, 2], vt[2]) + 0.2 * rng.standard_normal(SHAPE) / 3.0
    loss = FrobeniusLoss(target)
    out = {}
    for depth in DEPTHS:
        fs = balanced_factors(w0, depth, seed=seed + depth)
        sol = integrate_factor_flow(loss, fs, TIMES, rtol=1e-12, atol=1e-14)
        grads = [loss.gradient(w) for w in sol.products]
        u0, _s0, vt0 = np.linalg.svd(sol.products[0])
        for orientation in (1, -1):
            v0 = vt0.T.copy()
            r = 2  # the smallest singular value (sorted SVD), pulled towards a negative value by the target
            v0[:, r] *= orientation
            tr = track_svd(sol.products, reference=(u0, v0))
            proj = np.array([tr.U[i][:, r] @ grads[i] @ tr.V[i][:, r] for i in range(TIMES.size)])
            out[(depth, orientation)] = (tr.S[:, r], -depth * proj)
    return out


def _measure(seed: int, *, wrong_depth: bool = False) -> Measurement:
    from scipy.integrate import cumulative_simpson

    errors, signs = {}, {}
    for (depth, orientation), (x, g) in _runs(seed).items():
        big_g = cumulative_simpson(g, x=TIMES, initial=0.0)
        model = lemma4(float(x[0]), big_g, depth + 1 if wrong_depth else depth)
        err = float(np.max(np.abs(x - model)) / abs(x[0]))
        flips = int(np.sum(np.diff(np.sign(x)) != 0))
        key = f"N={depth}, sigma_r(0) {'>' if orientation > 0 else '<'} 0"
        signs[key] = {"min sign(x0) x(t)": float(np.min(np.sign(x[0]) * x)), "sign changes": flips,
                      "x(0)": float(x[0]), "x(t_end)": float(x[-1])}
        if not wrong_depth and ((depth >= 2 and flips > 0) or (depth == 1 and flips == 0)):
            err = float("inf")  # the sign content failed: N >= 2 crossed, or the N = 1 example did not
        errors[key] = err
    return Measurement(cases=errors, details={"sign": signs, "horizon": float(TIMES[-1]), "samples": int(TIMES.size),
                                              "seed": seed})


CLAIM = Claim(
    id="arora2019.theorem3.sign",
    source="Arora et al. 2019, Theorem 3 (second part) with Lemma 4 (sign of singular values; Appendix B.4)",
    statement=r"N \ge 2,\ \sigma_r(0) \ne 0 \Rightarrow \operatorname{sign}\sigma_r(t) = \operatorname{sign}\sigma_r(0)"
              r"\ \forall t;\ \ N = 1:\ \sigma_r(t) = \sigma_r(0) + \int_0^t g\ \text{may cross } 0",
    verify=_measure,
    control=lambda seed: _measure(seed, wrong_depth=True),
    tolerance=1e-6,
    tolerance_reason="cumulative Simpson on a grid of 0.005: quadrature error ~h^4 max|g''''| t / 180 ~ 1e-10; "
                     "DOP853 rtol=1e-12 and SVD round-off ~1e-13, relative to |sigma_r(0)|. Measured by dmf-verify sweep over seeds 0-19: worst error 8.2e-10 (seed 7) = 0.00082 x the tolerance "
                     "(1.2e+03x margin); smallest control 0.05 (seed 3) = 5e+04 x the tolerance",
    control_description="Lemma 4's closed form for depth N + 1 (exponent 1 - 1/(N+1)); at N = 1 this is the "
                        "sign-preserving N = 2 solution, which cannot follow the zero crossing",
    derive=lambda: __import__("dmf_verify.theory.scalar_ode", fromlist=["sign_preservation"]).sign_preservation(),
    notes="3x3 (square: a zero singular value has no null-space partner to swap with), Frobenius loss to a "
          "target with det of opposite sign plus a generic perturbation; depths 1-4, t in [0, 4]. Measured: "
          "for N >= 2 the smallest sigma decays towards 0 without crossing; for N = 1 it crosses once",
)
