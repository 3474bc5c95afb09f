"""float64 DOP853 and the mp integrator agree on the project's small ODE systems, and where
float64 stops being enough: close to the finite-time blow-up of Lemma 4 (N >= 3).

Problems (the same three kinds the mp integrator was built for): the scalar Lemma 4 ODE, the
eq. 10 pair (sigma_r, sigma_r'), and a balanced-diagonal-style deep factorization flow
(N = 3, two diagonal entries, six unknowns).
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
from mpmath import mp
from scipy.integrate import solve_ivp

from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.numerics import scalar_ode as so
from dmf_verify.numerics.precise import diagonal_flow_rhs, integrate

DIGITS = 25
RTOL = 1e-13
NEAR_BLOWUP = (1e-2, 1e-4, 1e-6, 1e-8, 1e-10)   # remaining fraction (T - t)/T


def _dec(x: float, d: int = 6) -> str:
    return f"{x:.{d}f}"


def _problems(seed: int):
    rng = np.random.default_rng([seed, 64])
    x0 = _dec(rng.uniform(0.5, 1.0))
    g = so.constant(_dec(rng.uniform(0.8, 1.2)))
    T = so.blowup_time(x0, 3, g)
    gc = so.cosine(_dec(rng.uniform(-0.3, 0.3)), _dec(rng.uniform(0.5, 1.0)), _dec(rng.uniform(1, 3)))
    x1 = _dec(-rng.uniform(0.5, 1.0))
    alpha, a, b = _dec(rng.uniform(0.3, 0.9)), _dec(rng.uniform(0.3, 0.8)), _dec(rng.uniform(0.3, 0.8))
    tgt = [_dec(rng.uniform(0.5, 2.0)) for _ in range(2)]
    w0 = [_dec(rng.uniform(0.2, 0.6)) for _ in range(6)]
    from dmf_verify.checks.claims.arora2019.eq11 import _pair_rhs

    def pair_float(n, al, g0, g1, w):
        al, g0, g1, w = map(float, (al, g0, g1, w))
        e = 1 - 1 / n

        def f(t, y):
            P = -(g0 + g1 * math.cos(w * t))
            return [-n * (y[0] * y[0]) ** e * al * P, -n * (y[1] * y[1]) ** e * P]
        return f
    gam = ("0.8", "0.2", "2")
    return [
        ("Lemma 4, N=3, constant g, t = T/2", so.rhs(3, g), so.rhs_mp(3, g), [x0], _dec(T / 2, 12)),
        ("Lemma 4, N=4, cosine g, t = 0.5", so.rhs(4, gc), so.rhs_mp(4, gc), [x1], "0.5"),
        ("eq. 10 pair, N=3, t = 0.3", pair_float(3, alpha, *gam), _pair_rhs(3, alpha, *gam), [a, b], "0.3"),
        ("diagonal flow, N=3, 2 entries, t = 1", diagonal_flow_rhs(3, tgt, backend="float"),
         diagonal_flow_rhs(3, tgt), w0, "1"),
    ], (x0, g, T)


def _dop853(f, y0, t):
    y0 = np.array([float(v) for v in y0])
    sol = solve_ivp(f, (0.0, float(t)), y0, method="DOP853", rtol=RTOL, atol=1e-300, t_eval=[float(t)])
    return sol.y[:, -1]


@functools.lru_cache(maxsize=4)
def _measure_cached(seed: int):
    probs, (x0, g, T) = _problems(seed)
    cases = {}
    for name, ff, fm, y0, t in probs:
        yf = _dop853(ff, y0, t)
        ym = integrate(fm, y0, [t], digits=DIGITS).y[-1]
        with mp.workdps(40):
            cases[name] = max(float(abs(mpmath.mpf(a) - b) / abs(b)) for a, b in zip(yf, ym))
    near = {}
    ts = [T * (1 - frac) for frac in NEAR_BLOWUP]
    ys = so.integrate_dop853(ts, float(x0), 3, g, rtol=RTOL)  # one run, output at every fraction
    for frac, t, yf in zip(NEAR_BLOWUP, ts, ys):
        ref = so.solution_mp(repr(t), x0, 3, g, dps=60)
        with mp.workdps(60):
            near[frac] = float(abs(mpmath.mpf(float(yf)) - ref) / abs(ref))
    return cases, near, T


def _verify(seed: int) -> Measurement:
    cases, _near, _T = _measure_cached(seed)
    return Measurement(max(cases.values()), {"relative_difference": cases, "dop853_rtol": RTOL,
                                             "mp_digits": DIGITS, "seed": seed})


def _control(seed: int) -> Measurement:
    _cases, near, T = _measure_cached(seed)
    bad = {f: e for f, e in near.items() if f <= 1e-8}
    return Measurement(min(bad.values()), {
        "float64_rel_error_vs_remaining_fraction": {f"(T-t)/T={f:g}": e for f, e in near.items()},
        "blowup_time": T, "note": "reference: Lemma 4 closed form at 60 digits (agrees with the mp "
                                  "integrator to >= 25 digits: arora2019.lemma4)", "seed": seed})


CLAIM = Claim(
    id="precision.float64_vs_mp",
    source="this project (float64 DOP853 vs the mp integrator on Arora et al. 2019, Lemma 4 and eqs. 10-11)",
    statement=r"\max_i |y_i^{\mathrm{DOP853}}(t) - y_i^{\mathrm{mp}}(t)| / |y_i^{\mathrm{mp}}(t)| \lesssim 10^{-12}"
              r"\ \text{away from blow-up}",
    verify=_verify,
    control=_control,
    tolerance=1e-10,
    tolerance_reason="DOP853 at rtol 1e-13 over <= a few hundred steps: global relative error <= ~1e-11 "
                     "; the mp solution is good to ~1e-25 (precision.mp_digits), so the difference is the float64 "
                     "error. Measured by dmf-verify sweep over seeds 0-19: worst error 5.5e-14 (seed 8) = 0.00055 x the tolerance "
                     "(1.8e+03x margin); smallest control 1.5e-06 (seed 13) = 1.5e+04 x the tolerance",
    control_description="the same float64 solve of Lemma 4 (N = 3) evaluated at (T - t)/T = 1e-8 and 1e-10 "
                        "before blow-up: the relative condition number 1/(p (T - t)) turns float64's ~1e-16 T "
                        "error in the effective blow-up time into >= 1e-10 relative error in x",
    notes="details of the control list the float64 error as the remaining fraction (T-t)/T goes 1e-2 .. 1e-10 "
          "(measured ~1.5e-14 / ((T-t)/T)): float64 stays below 1e-10 only until (T-t)/T ~ 1e-4, and has lost "
          "~10 digits at 1e-8.",
)
