"""Lemma 1 (Arora et al. 2019): an analytic trajectory W(t) has an analytic SVD (signed sigma_r).

Observable content: on an analytic trajectory on which two singular values cross and one passes
through zero, the singular values *tracked* by dmf_verify.numerics.tracking are smooth (their second
differences equal the planted second derivatives), while the sorted |sigma| of a plain SVD kink
(their second differences grow like 1/h at the crossing).

Two independent quantities: the planted analytic trajectory W(t) = U(t) diag(sigma(t)) V(t)^T
(U(t) = expm(t K_U) U_0, V(t) = expm(t K_V) V_0, sigma_r cubic polynomials with known
sigma_r''), and the second differences of the singular values recovered by the tracker from the
matrices W(t_i) alone.
"""

from __future__ import annotations

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.numerics.tracking import track_svd

SHAPE = (5, 3)
H = 1e-3
T_END = 1.0


def _planted(seed: int):
    """Coefficients (c0, c1, c2, c3) of three cubics: sigma_1, sigma_2 cross near t ~ 0.3 and
    sigma_3 crosses zero near t ~ 0.55; random small curvature terms from the seed."""
    rng = np.random.default_rng(seed + 31337)
    c = rng.uniform(-0.2, 0.2, size=(3, 2))
    coef = np.array([[1.0, 0.8, c[0, 0], c[0, 1]],
                     [1.4, -0.6, c[1, 0], c[1, 1]],
                     [0.5, -0.9, c[2, 0], c[2, 1]]])
    d, dp = SHAPE
    ku = rng.standard_normal((d, d))
    kv = rng.standard_normal((dp, dp))
    u0, _ = np.linalg.qr(rng.standard_normal((d, 3)))
    v0, _ = np.linalg.qr(rng.standard_normal((dp, 3)))
    return coef, ku - ku.T, kv - kv.T, u0, v0


def _trajectory(seed: int):
    from scipy.linalg import expm

    coef, ku, kv, u0, v0 = _planted(seed)
    # grid offset by an irrational fraction of h: no sample lands exactly on a crossing
    t = np.arange(0.0, T_END + H / 2, H) + H * (np.sqrt(2.0) - 1.0)
    powers = np.stack([np.ones_like(t), t, t * t, t ** 3])
    sig = (coef @ powers).T                                     # (T, 3)
    sig2 = (coef[:, 2:3] * 2 + coef[:, 3:4] * 6 * t).T         # exact sigma''
    eu, ev = expm(H * ku), expm(H * kv)
    u, v = expm(t[0] * ku) @ u0, expm(t[0] * kv) @ v0
    ws = np.empty((t.size, *SHAPE))
    for i in range(t.size):
        ws[i] = (u * sig[i]) @ v.T
        u, v = eu @ u, ev @ v
    return t, ws, sig, sig2


def _measure(seed: int, *, tracked: bool = True) -> Measurement:
    t, ws, sig, sig2 = _trajectory(seed)
    tr = track_svd(ws)
    if tracked:
        values = tr.S
    else:
        values = tr.sorted_singular_values()
    # identify recovered columns with planted ones at t_0 (all planted sigma(t_0) > 0, distinct)
    ident = np.argsort(np.argsort(-sig[0]))     # planted r -> rank at t_0 -> column of the sorted SVD
    values = values[:, ident]
    d2 = (values[2:] - 2 * values[1:-1] + values[:-2]) / (H * H)
    err = np.abs(d2 - sig2[1:-1])
    scale = float(np.max(np.abs(sig)))
    crossings = {"|sigma| crossings (tracker swaps)": len(tr.swaps),
                 "zero crossings of planted sigma": int(np.sum(np.diff(np.sign(sig), axis=0) != 0))}
    return Measurement(float(err.max() / scale),
                       {"max_abs_second_difference_error": float(err.max()), "h": H, "samples": int(t.size),
                        "max_planted_sigma''": float(np.abs(sig2).max()), **crossings, "seed": seed,
                        "signed_sigma_range": [float(values.min()), float(values.max())]})


CLAIM = Claim(
    id="arora2019.lemma1",
    source="Arora et al. 2019, Lemma 1 (analytic SVD, eq. 6, signed singular values; proof in Appendix B.3)",
    statement=r"W(t)\ \text{analytic} \Rightarrow W(t) = U(t)S(t)V(t)^\top\ \text{with } U, S, V \text{ analytic, } "
              r"S \text{ diagonal (signed)}",
    verify=_measure,
    control=lambda seed: _measure(seed, tracked=False),
    tolerance=1e-6,
    tolerance_reason="planted sigma_r are cubic, so the second difference has no truncation error; what remains "
                     "is round-off ~4 eps max|sigma| / h^2 ~ 1e-9 (h = 1e-3). A kink of slope jump Delta gives a "
                     "second difference ~Delta/h ~ 1e3. Measured by dmf-verify sweep over seeds 0-19: worst error 2.4e-09 (seed 3) = 0.0024 x the tolerance "
                     "(4.2e+02x margin); smallest control 5.3e+02 (seed 7) = 5.3e+08 x the tolerance",
    control_description="the plain sorted |sigma| of each SVD (no column matching, no signs)",
    notes="5x3 trajectory (d != d'), 1001 samples on [0, 1]; sigma_1 and sigma_2 cross (one column swap for the "
          "tracker) and sigma_3 passes through zero; the tracker's column matching and independent sign choice "
          "of u_r and v_r recover the planted analytic sigma_r to round-off (error is relative to max|sigma|)",
)
