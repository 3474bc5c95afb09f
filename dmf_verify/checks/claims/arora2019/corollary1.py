"""Corollary 1 (Arora et al. 2019): stationary singular vectors <=> U^T grad l(W) V diagonal.

Measured on generic converging sensing flows (no construction that keeps the singular vectors
fixed): for a square W (no projection term) eqs. 8-9 are an invertible linear map between
offdiag(U^T G V) and (U^T U', V^T V') (2x2 blocks with determinant sigma_r'^2 - sigma_r^2), so
U' = V' = 0 exactly when offdiag(U^T G V) = 0, and the two vanish together along the flow. The
off-diagonal of U^T G V is predicted from finite differences of the tracked U, V ALONE and compared
with the one computed directly from the gradient, at an early, a middle and a late time (where both
have decayed by orders of magnitude): relative discrepancy per (depth, time).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.checks.deferred import deferred
from dmf_verify.checks.instances import balanced_instance, sensing_loss
from dmf_verify.numerics.flow import integrate_factor_flow
from dmf_verify.numerics.rates import five_point_derivative
from dmf_verify.numerics.tracking import track_svd

DEPTHS = (1, 2, 3, 4)
STEP = 1e-3
MIDPOINTS = (0.3, 1.2, 2.0)


def predicted_offdiag(u, s, v, du, dv, depth: int, gap_exponent: float | None = None) -> np.ndarray:
    """Invert the F-terms of eqs. 8-9: offdiag(U^T G V) from A = U^T U', B = V^T V' (square W)."""
    a, b = u.T @ du, v.T @ dv
    p = (s * s) ** (1.0 / depth if gap_exponent is None else gap_exponent)
    k = s.size
    out = np.zeros((k, k))
    for r in range(k):
        for q in range(r + 1, k):
            delta = p[q] - p[r]
            m = np.array([[s[q], s[r]], [s[r], s[q]]])
            x, y = np.linalg.solve(m, -delta * np.array([a[r, q], b[r, q]]))
            out[r, q], out[q, r] = x, y
    return out


@lru_cache(maxsize=4)
def _part_b_windows(seed: int):
    shape = (4, 4)
    loss = sensing_loss(shape, 20, seed=seed)
    offsets = STEP * np.arange(-2, 3)
    times = np.concatenate([[0.0]] + [t0 + offsets for t0 in MIDPOINTS])
    out = {}
    for depth in DEPTHS:
        fs = balanced_instance(shape, depth, seed=seed + depth, spectrum=[1.6, 1.2, 0.8, 0.4],
                               hidden=[5, 4, 6][: depth - 1])
        sol = integrate_factor_flow(loss, fs, times, rtol=1e-13, atol=1e-15)
        wins = []
        for i in range(len(MIDPOINTS)):
            tr = track_svd(sol.products[1 + 5 * i: 6 + 5 * i])
            wins.append((tr, loss.gradient(sol.products[3 + 5 * i])))
        out[depth] = wins
    return out


def _part_b(seed: int, gap_exponent=None) -> dict:
    out = {}
    for depth, wins in _part_b_windows(seed).items():
        rows = []
        for tr, grad in wins:
            du, dv = five_point_derivative(tr.U, STEP), five_point_derivative(tr.V, STEP)
            u, s, v = tr.U[2], tr.S[2], tr.V[2]
            gh = u.T @ grad @ v
            meas = gh - np.diag(np.diag(gh))
            ge = None if gap_exponent is None else gap_exponent(depth)
            pred = predicted_offdiag(u, s, v, du, dv, depth, ge)
            rows.append({"offdiag": float(np.linalg.norm(meas)),
                         "|U'|+|V'|": float(np.linalg.norm(du) + np.linalg.norm(dv)),
                         "relative_error": float(np.linalg.norm(pred - meas) / np.linalg.norm(meas))})
        out[depth] = rows
    return out


def _measure(seed: int, gap_exponent=None) -> Measurement:
    b = _part_b(seed, gap_exponent=gap_exponent)
    cases = {f"N={depth}, t={t}": r["relative_error"] for depth, rows in b.items() for t, r in zip(MIDPOINTS, rows)}
    return Measurement(cases=cases, details={"generic_flows": b, "midpoints": list(MIDPOINTS), "h": STEP,
                                             "seed": seed})


CLAIM = Claim(
    id="arora2019.corollary1",
    source="Arora et al. 2019, Corollary 1 (with Lemma 2; proof in Appendix B.6)",
    statement=r"\dot U = 0,\ \dot V = 0 \text{ on an interval} \Rightarrow U^\top\nabla\ell(W)V \text{ diagonal; "
              r"for square } W:\ \|\mathrm{offdiag}(U^\top\nabla\ell V)\| = 0 \iff \dot U = \dot V = 0",
    verify=_measure,
    control=lambda seed: _measure(seed, gap_exponent=lambda n: 1.0 / (n + 1)),
    tolerance=1e-5,
    tolerance_reason="a 5-point stencil at h=1e-3 (4th order, ~1e-9 relative) plus integrator noise rtol/h ~ 1e-10 "
                     "absolute, divided by an off-diagonal mass that has decayed 10-60x by t = 2. Measured by dmf-verify sweep over seeds 0-19: worst error 1.3e-07 (seed 4) = 0.013 x the tolerance "
                     "(79x margin); smallest control 0.045 (seed 9) = 4.5e+03 x the tolerance",
    control_description="the inversion of eqs. 8-9 with gap exponent 1/(N+1) instead of 1/N (F_rr' built from "
                        "(sigma^2)^(1/(N+1))): the predicted off-diagonal must miss the measured one",
    derive=deferred("dmf_verify.theory.singular_vectors:corollary1"),
    notes="4x4 Gaussian sensing with 20 measurements (the flow converges, G -> 0), balanced init, depths 1-4, "
          "midpoints t = 0.3, 1.2, 2.0; details list offdiag and |U'|+|V'| at each (they decay together). The earlier "
          "part (a), sensing matrices sharing W(0)'s singular vectors, was dropped: it held by construction",
)
