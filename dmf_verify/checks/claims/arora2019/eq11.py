"""Eqs. 10-11 of Arora et al. 2019 (Section 3; docs/theory.md): with <grad, u_r v_r^T> = alpha <grad, u_r' v_r'^T>,
sigma_r is a function of sigma_r' (linear / power / asymptotic law for N = 1 / 2 / >= 3), and for
N >= 3 its asymptote c^(-1/(1-2/N)) drops with depth (under conditions, see depth_gap).

Both claims integrate eq. 7 for the pair (sigma_r, sigma_r') with the mp integrator
(numerics/precise.py, 30 digits requested, 40-digit working precision).
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
from mpmath import mp

from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.numerics import scalar_ode as so
from dmf_verify.numerics.precise import integrate

DIGITS = 30
DEPTHS = (1, 2, 3, 4, 5)
GAP_DEPTHS = (3, 4, 5, 6, 7, 8)
GAP_DIGITS = 25          # verify; the control only needs the sign of O(1e-2) changes
GAP_CONTROL_DIGITS = 15


def _dec(x: float, digits: int = 6) -> str:
    return f"{x:.{digits}f}"


def _pair_rhs(n: int, alpha: str, gamma0: str, gamma1: str, omega: str):
    """Eq. 7 for (sigma_r, sigma_r') with projections alpha P(t) and P(t), P = -(gamma0 + gamma1 cos(omega t))."""
    cache = {}

    def f(t, y):
        if mp.prec not in cache:
            cache.clear()
            cache[mp.prec] = (mpmath.mpf(alpha), mpmath.mpf(gamma0), mpmath.mpf(gamma1), mpmath.mpf(omega),
                              1 - mpmath.mpf(1) / n)
        al, g0, g1, w, e = cache[mp.prec]
        P = -(g0 + g1 * mpmath.cos(w * t))
        if n == 1:
            return [-al * P, -P]
        return [-n * mpmath.power(y[0] * y[0], e) * al * P, -n * mpmath.power(y[1] * y[1], e) * P]
    return f


def law(n: int, alpha, a, b, sq, *, as_depth: int | None = None):
    """Eq. 11 (mp): sigma_r as a function of sigma_r' = sq, constant c fitted to sigma_r(0) = a,
    sigma_r'(0) = b. ``as_depth`` uses that depth's law instead (the control: N = 2's law at N >= 3)."""
    m = n if as_depth is None else as_depth
    alpha, a, b, sq = (mpmath.mpf(v) for v in (alpha, a, b, sq))
    if m == 1:
        return alpha * sq + (a - alpha * b)
    if m == 2:
        return a / b**alpha * sq**alpha
    p = 1 - mpmath.mpf(2) / m
    c = a ** (-p) - alpha * b ** (-p)
    return (alpha * sq ** (-p) + c) ** (-1 / p)


def _cases(seed: int):
    rng = np.random.default_rng([seed, 11])
    out = []
    for n in DEPTHS:
        lo, hi = _dec(rng.uniform(0.3, 0.9)), _dec(rng.uniform(1.2, 2.0))
        for alpha in ((lo,) if n % 2 else (hi,)) + ((lo, hi)[n % 2],) * (n == 3):
            a, b = _dec(rng.uniform(0.2, 1.0)), _dec(rng.uniform(0.2, 1.0))
            g0 = rng.uniform(0.5, 1.0)
            gamma = (_dec(g0), _dec(rng.uniform(-0.4, 0.4) * g0), _dec(rng.uniform(1, 3)))
            # horizon before either sigma blows up (Lemma 4 with g = N alpha |P| and N |P|)
            T = min(so.blowup_time(b, n, so.cosine(n * float(gamma[0]), n * float(gamma[1]), float(gamma[2])), t_max=2.0),
                    so.blowup_time(a, n, so.cosine(n * float(alpha) * float(gamma[0]),
                                                   n * float(alpha) * float(gamma[1]), float(gamma[2])), t_max=2.0))
            t_end = min(1.0, 0.7 * T)
            out.append((n, alpha, a, b, gamma, [_dec(t_end * f, 8) for f in (0.25, 0.5, 1.0)]))
    return out


@functools.lru_cache(maxsize=4)
def _pair_solutions(seed: int):
    sols = []
    for n, alpha, a, b, gamma, times in _cases(seed):
        res = integrate(_pair_rhs(n, alpha, *gamma), [a, b], times, digits=DIGITS)
        sols.append((n, alpha, a, b, gamma, times, res.y))
    return sols


def _measure_eq11(seed: int, *, control: bool = False) -> Measurement:
    errors, cases = [], {}
    for n, alpha, a, b, gamma, times, ys in _pair_solutions(seed):
        if control and n < 3:
            continue
        worst = 0.0
        with mp.workdps(60):
            for (sr, sq) in ys:
                pred = law(n, alpha, a, b, sq, as_depth=2 if control else None)
                worst = max(worst, float(abs(sr - pred) / abs(sr)))
        cases[f"N={n} alpha={alpha} a={a} b={b} gamma={gamma} t<={times[-1]} sigma_r'(end)={float(ys[-1][1]):.4g}"] = worst
        errors.append(worst)
    agg = min if control else max
    return Measurement(agg(errors), {"relative_error": cases, "working_dps": DIGITS + 10, "seed": seed,
                                     "law_used": "N = 2 law at N >= 3" if control else "eq. 11 at each N"})


# --- depth gap ------------------------------------------------------------------------------------
def _gap_params(seed: int, *, condition: bool = True):
    rng = np.random.default_rng([seed, 111])
    if condition:   # 0 < a <= b, 0 < alpha < 1: asymptote exists and decreases with N (theory/scalar_ode.py)
        a = rng.uniform(0.2, 1.0)
        return _dec(rng.uniform(0.3, 0.9)), _dec(a), _dec(a * rng.uniform(1.0, 3.0))
    # violated: a = 100 b, alpha small enough that the asymptote exists for N <= 8 (alpha (a/b)^p < 1)
    b = rng.uniform(0.005, 0.01)
    return _dec(rng.uniform(0.005, 0.02)), _dec(100 * b, 8), _dec(b, 8)


def measured_asymptote(n: int, alpha: str, a: str, b: str, *, digits: int = GAP_DIGITS):
    """lim sigma_r as sigma_r' -> oo, by integrating eq. 7 reparametrized by tau = log(sigma_r'/b)
    (dt/dtau = sigma_r'^(1-2/N)... / (N|P|): P drops out): d sigma_r/dtau = alpha (sigma_r^2)^(1-1/N) e^(-p l),
    dl/dtau = 1 with l = log sigma_r'. Integrated to tau_end = (digits + 8) log(10) / p; returns
    (value, tail bound)."""
    with mp.workdps(digits + 10):
        p = 1 - mpmath.mpf(2) / n
        tau_end = (digits + 8) * mpmath.log(10) / p
        e = 1 - mpmath.mpf(1) / n
        al = mpmath.mpf(alpha)

        def f(_tau, y):
            return [al * mpmath.power(y[0] * y[0], e) * mpmath.exp(-p * y[1]), mpmath.mpf(1)]
        res = integrate(f, [a, mpmath.log(mpmath.mpf(b))], [tau_end], digits=digits)
        A = res.y[-1][0]
        tail = al * A ** (2 * e) * mpmath.mpf(b) ** (-p) * mpmath.exp(-p * tau_end) / p  # A as proxy for sup sigma_r
        return A, tail


@functools.lru_cache(maxsize=8)
def _gap_raw(seed: int, condition: bool):
    alpha, a, b = _gap_params(seed, condition=condition)
    out = []
    for n in GAP_DEPTHS:
        A, tail = measured_asymptote(n, alpha, a, b, digits=GAP_DIGITS if condition else GAP_CONTROL_DIGITS)
        with mp.workdps(60):
            p = 1 - mpmath.mpf(2) / n
            c = mpmath.mpf(a) ** (-p) - mpmath.mpf(alpha) * mpmath.mpf(b) ** (-p)
            closed = c ** (-1 / p)
        out.append((n, A, tail, closed, c))
    return alpha, a, b, out


def _measure_gap(seed: int, *, condition: bool = True) -> Measurement:
    alpha, a, b, rows = _gap_raw(seed, condition)
    with mp.workdps(60):
        agree = max(float(abs(A - closed) / closed) for _, A, _, closed, _ in rows)
        increases = [float((rows[i + 1][1] - rows[i][1]) / rows[i][1]) for i in range(len(rows) - 1)]
    details = {"alpha": alpha, "a=sigma_r(0)": a, "b=sigma_r'(0)": b,
               "asymptote_measured": {n: mpmath.nstr(A, 25) for n, A, _, _, _ in rows},
               "asymptote_closed_form_rel_error": agree, "relative_change_N_to_N+1": increases,
               "c_N": {n: mpmath.nstr(c, 12) for n, _, _, _, c in rows},
               "tail_bound_max": max(float(t) for _, _, t, _, _ in rows),
               "fixed_c_reading": {f"c={c}": [float(mpmath.mpf(c) ** (-1 / (1 - mpmath.mpf(2) / n))) for n in GAP_DEPTHS]
                                   for c in ("0.5", "2")},
               "seed": seed}
    if condition:
        # measured asymptote must match the closed form and strictly decrease with N
        err = max(agree, max(max(0.0, x) for x in increases))
        return Measurement(err, details)
    # control (condition a <= b violated): the same "decreases with N" test; control_error = the
    # smallest increase over consecutive depths (every step must fail the decrease)
    return Measurement(min(increases), details)


def _derive_eq11():
    from dmf_verify.theory.scalar_ode import eq11

    return eq11()


def _derive_gap():
    from dmf_verify.theory.scalar_ode import asymptote_depth

    return asymptote_depth()


CLAIMS = [
    Claim(
        id="arora2019.eq11",
        source="Arora et al. 2019, eqs. 10-11 (Section 3)",
        statement=r"\sigma_r = \alpha\sigma_{r'} + c\ (N=1),\quad \sigma_r = c\,\sigma_{r'}^{\alpha}\ (N=2),\quad "
                  r"\sigma_r = \big(\alpha\sigma_{r'}^{-(1-2/N)} + c\big)^{-\frac{1}{1-2/N}}\ (N\ge 3)",
        verify=_measure_eq11,
        control=lambda seed: _measure_eq11(seed, control=True),
        tolerance=1e-24,
        tolerance_reason="the pair is integrated to 30 requested digits (local tol 1e-32, 40-digit working "
                         "precision); eq. 11 evaluated at 60 digits at the integrated sigma_r' amplifies its "
                         "relative error by d log F / d log sigma_r' = alpha (F/sigma_r')^(1-2/N) = O(1). Measured by dmf-verify sweep over seeds 0-19: worst error 8.2e-32 (seed 1) = 8.2e-08 x the tolerance "
                         "(1.2e+07x margin); smallest control 0.073 (seed 4) = 7.3e+22 x the tolerance",
        control_description="the N = 2 law sigma_r = c sigma_r'^alpha used at N = 3, 4, 5",
        derive=_derive_eq11,
        formula="eq11:law_n1, law_n2, law (eq11.law here, checked against them in tests/test_formulas.py)",
        notes="N = 1..5, alpha in (0.3, 0.9) for odd N and in (1.2, 2) for even N (both at N = 3), P(t) = -(g0 + g1 cos(w t)) < 0 so both "
              "singular values grow; horizon 0.7 x the first blow-up time (Lemma 4). The three laws of eq. 11 hold "
              "as written (c fitted to the initial values: a - alpha b, a/b^alpha, a^-p - alpha b^-p).",
    ),
    Claim(
        id="arora2019.eq11.depth_gap",
        source="Arora et al. 2019, Section 3, discussion after eq. 11 (the asymptote is lower for larger N)",
        statement=r"N\ge 3:\ \lim_{\sigma_{r'}\to\infty}\sigma_r = c_N^{-\frac{1}{1-2/N}},\ "
                  r"c_N = \sigma_r(0)^{-(1-2/N)} - \alpha\,\sigma_{r'}(0)^{-(1-2/N)},\ "
                  r"\text{strictly decreasing in } N \text{ if } 0<\sigma_r(0)\le\sigma_{r'}(0),\ \alpha>0,\ c_N>0",
        verify=_measure_gap,
        control=lambda seed: _measure_gap(seed, condition=False),
        tolerance=1e-20,
        tolerance_reason="asymptote integrated to 25 digits in tau = log sigma_r' up to tau = 33 log(10)/p (tail "
                         "bound ~1e-33); a genuine increase with N would be O(1e-2) relative, far above 1e-20. Measured by dmf-verify sweep over seeds 0-19: worst error 6.8e-27 (seed 2) = 6.8e-07 x the tolerance "
                         "(1.5e+06x margin); smallest control 0.033 (seed 0) = 3.3e+18 x the tolerance",
        control_description="the same decrease-with-N test with the condition violated: sigma_r(0) = 100 "
                            "sigma_r'(0), alpha in (0.005, 0.02) (c_N > 0 for N <= 8); control_error = the "
                            "smallest relative increase from N to N+1",
        derive=_derive_gap,
        slow=False,
        notes="N = 3..8. The paper says the asymptote c^(-1/(1-2/N)) is 'lower for larger N': with c held fixed "
              "that holds iff c < 1 (c > 1 makes it INCREASE, see details.fixed_c_reading); with fixed initial "
              "values it holds when sigma_r(0) <= sigma_r'(0) (proved in the derivation) and fails e.g. for "
              "sigma_r(0) = 100 sigma_r'(0) (the control).",
    ),
]
