"""Lemma 4 (Arora et al. 2019): closed-form solution of dx/dt = g(t) (x^2)^(1-1/N), sign
preservation, and the finite-time blow-up for N >= 3 (Appendix A, eq. 12; docs/theory.md).

Measured: for N = 2..5, both signs of x(0) and three forcings g (constant, affine, cosine, with
seed-drawn parameters), the Gragg-Bulirsch-Stoer mp integrator (numerics/precise.py) at
40-digit working precision (30 digits requested + 10 guard) against the closed form evaluated
at 60 digits; and, for constant g with N = 3, 4, 5, the blow-up time by (a) a float64 DOP853
event and (b) a high-precision integration of t(v) along x = x0 e^v, both against
|x0|^-p/(p|g|).
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
from mpmath import mp

from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.numerics import scalar_ode as so
from dmf_verify.numerics.precise import integrate

DIGITS = 30            # requested digits; working precision = 40 (GUARD_DIGITS = 10)
TOL_MP = 1e-25         # the bar: >= 25 digits agreement at 40-digit working precision
TOL_F64 = 1e-10        # DOP853 blow-up event at rtol = 1e-13
DEPTHS = (2, 3, 4, 5)
BLOWUP_DEPTHS = (3, 4, 5)
REMAINING = 1e-3       # DOP853 event at ~1e-3 T before blow-up; the constant-g tail is exact


def _dec(x: float, digits: int = 6) -> str:
    """A decimal string: exact input for mp and for float (up to its rounding)."""
    return f"{x:.{digits}f}"


def _cases(seed: int):
    rng = np.random.default_rng([seed, 4])
    out = []
    for n in DEPTHS:
        for s in (1, -1):
            mag = rng.uniform(0.3, 1.5)
            x0 = _dec(s * mag)
            forcings = [
                so.constant(_dec(rng.choice([-1, 1]) * rng.uniform(0.5, 1.5))),
                so.affine(_dec(rng.uniform(-1, 1)), _dec(rng.uniform(-1, 1))),
                so.cosine(_dec(rng.uniform(-0.5, 0.5)), _dec(rng.uniform(0.5, 1.5)), _dec(rng.uniform(1, 4))),
            ]
            # two of the three kinds per (N, sign), rotating, so every N sees all three kinds
            i = 2 * DEPTHS.index(n) + (0 if s > 0 else 1)
            for g in (forcings[i % 3], forcings[(i + 1) % 3]):
                T = so.blowup_time(x0, n, g, t_max=1.0)
                t_end = min(0.5, 0.8 * T)
                out.append((n, x0, g, [_dec(t_end * f, 8) for f in (0.25, 0.5, 1.0)]))
    return out


def _blowup_cases(seed: int):
    rng = np.random.default_rng([seed, 44])
    out = []
    for i, n in enumerate(BLOWUP_DEPTHS):
        s = 1 if i % 2 == 0 else -1
        x0 = _dec(s * rng.uniform(0.3, 1.5))
        g = so.constant(_dec(s * rng.uniform(0.5, 1.5)))  # s g > 0: |x| grows and blows up
        out.append((n, x0, g))
    return out


def _wrong_solution(t, x0, n, g, dps):
    """Control: the off-by-one exponent q = 1 - 1/N (the ODE's exponent) in place of p = 1 - 2/N."""
    with mp.workdps(dps):
        x = mpmath.mpf(x0)
        s = 1 if x > 0 else -1
        q = 1 - mpmath.mpf(1) / n
        base = abs(x) ** (-q) - q * s * g.G_mp(mpmath.mpf(t))
        return s * abs(base) ** (-1 / q)


def _rel(a, b) -> float:
    with mp.workdps(60):
        return float(abs(mpmath.mpf(a) - mpmath.mpf(b)) / abs(mpmath.mpf(b)))


@functools.lru_cache(maxsize=4)
def _raw(seed: int):
    """The numerical solutions (shared by verify and control: the control only swaps the reference)."""
    sols = []
    for n, x0, g, times in _cases(seed):
        res = integrate(so.rhs_mp(n, g), [x0], times, digits=DIGITS)
        sols.append((n, x0, g, times, [row[0] for row in res.y]))
    blows = []
    for n, x0, g in _blowup_cases(seed):
        est = so.blowup_time_dop853(x0, n, g, remaining=REMAINING)
        T_mp, tail = so.blowup_time_mp(x0, n, g, digits=DIGITS)
        blows.append((n, x0, g, est, T_mp, tail))
    return sols, blows


def _blowup_reference(x0, n, g, exponent):
    with mp.workdps(60):
        e = mpmath.mpf(exponent)
        return abs(mpmath.mpf(x0)) ** (-e) / (e * abs(mpmath.mpf(g.a)))


def _measure(seed: int, *, wrong: bool = False, aggregate=max) -> Measurement:
    sols, blows = _raw(seed)
    scores, per_case = [], {}
    sign_ok = True
    worst_mp, worst_f64, worst_bu_mp = 0.0, 0.0, 0.0
    for n, x0, g, times, values in sols:
        errs = []
        for t, v in zip(times, values):
            ref = _wrong_solution(t, x0, n, g, 60) if wrong else so.solution_mp(t, x0, n, g, dps=60)
            errs.append(_rel(v, ref))
            sign_ok &= (v > 0) == (float(x0) > 0)
        e = max(errs)
        per_case[f"N={n} x0={x0} {g} t<={times[-1]}"] = e
        worst_mp = max(worst_mp, e)
        scores.append(e / TOL_MP)
    blow = {}
    for n, x0, g, est, T_mp, tail in blows:
        with mp.workdps(60):
            expo = (1 - mpmath.mpf(1) / n) if wrong else (1 - mpmath.mpf(2) / n)
        T_ref_mp = _blowup_reference(x0, n, g, expo)
        T_ref = float(T_ref_mp)
        e64 = abs(est.estimate - T_ref) / T_ref
        emp = _rel(T_mp, T_ref_mp)
        blow[f"N={n} x0={x0} {g}"] = {"T_reference": T_ref, "T_dop853_event": est.estimate, "dop853_rel_error": e64,
                                      "dop853_nfev": est.nfev, "T_mp": mpmath.nstr(T_mp, 35),
                                      "mp_rel_error": emp, "mp_tail_bound": float(tail)}
        worst_f64, worst_bu_mp = max(worst_f64, e64), max(worst_bu_mp, emp)
        scores.extend([e64 / TOL_F64, emp / TOL_MP])
    error = aggregate(scores)
    if not sign_ok and not wrong:
        error = math.inf
    return Measurement(error, {
        "normalized": "error = max(mp discrepancy / 1e-25, float64 blow-up discrepancy / 1e-10)",
        "worst_mp_relative_error": worst_mp, "worst_mp_digits": -math.log10(worst_mp) if worst_mp > 0 else math.inf,
        "worst_blowup_dop853_rel_error": worst_f64, "worst_blowup_mp_rel_error": worst_bu_mp,
        "sign_preserved": sign_ok, "cases": per_case, "blowup": blow,
        "working_dps": DIGITS + 10, "seed": seed})


def _derive():
    from dmf_verify.theory.scalar_ode import lemma4

    return lemma4()


CLAIM = Claim(
    id="arora2019.lemma4",
    source="Arora et al. 2019, Lemma 4 (Appendix A, eq. 12)",
    statement=r"\dot x = g(t)(x^2)^{1-1/N},\ x(0)\neq 0:\ x(t) = x(0)e^{\mathrm{sgn}(x_0)G(t)}\ (N=2),\ "
              r"x(t) = \mathrm{sgn}(x_0)\big(|x_0|^{-(1-2/N)} - (1-\tfrac{2}{N})\mathrm{sgn}(x_0)G(t)\big)^{-\frac{1}{1-2/N}}"
              r"\ (N\ge 3),\ G(t)=\int_0^t g",
    verify=_measure,
    control=lambda seed: _measure(seed, wrong=True, aggregate=min),
    tolerance=1.0,
    tolerance_reason="normalized: each discrepancy divided by its own bar. mp parts: integrator asked for 30 "
                     "digits (local tol 1e-32, 40-digit working precision), closed form at 60 digits; the bar "
                     "1e-25 is the issue's 25-digit requirement (measured ~1e-33..1e-37). float64 blow-up: DOP853 "
                     "at rtol 1e-13 with an event ~1e-3 T before the singularity and the exact constant-g tail; "
                     "bar 1e-10 (measured ~1e-14). Measured by dmf-verify sweep over seeds 0-19: worst error 7.3e-05 (seed 2) = 7.3e-05 x the tolerance "
                     "(1.4e+04x margin); smallest control 4.8e+08 (seed 7) = 4.8e+08 x the tolerance",
    control_description="off-by-one exponent q = 1 - 1/N instead of p = 1 - 2/N in the solution and the "
                        "blow-up time (for N = 2 this replaces the exponential law by a power law)",
    derive=_derive,
    formula="lemma4:solution, blowup_time (numerics.scalar_ode, checked in tests/test_formulas.py)",
    notes="N = 2..5, both signs of x(0), two of g constant / affine / a + b cos(omega t) per (N, sign) "
          "(rotating) with seed-drawn parameters, 3 times each up to min(0.5, 0.8 T_blowup); blow-up for constant g at N = 3, 4, 5. "
          "The closed forms hold as written; blow-up needs sign(x0) g > 0 (else |x| decays).",
)
