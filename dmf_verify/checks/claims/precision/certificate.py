"""Certified enclosures (python-flint arb, interval arithmetic) of two Lemma 4 quantities, checked
against values computed *without* the closed form by the mp integrator:

* the blow-up time T = |x0|^-p / (p |g|) for constant g (N = 3, 4, 5; p = 1 - 2/N), against the
  high-precision integration of t(v) along x = x0 e^v (dmf_verify.numerics.scalar_ode.blowup_time_mp);
* the solution x(t) = s (|x0|^-p - p s G(t))^(-1/p) at a rational time for affine g (G rational),
  against the GBS integration of the ODE itself.

All inputs are exact rationals (fmpq); arb evaluates at ARB_PREC bits with rigorous error bounds.
Checked per quantity (normalized, each <= 1):

* the enclosure is narrower than 1e-30;
* the mp value (MP_DIGITS = 45 digits requested) lies within 10^-45 |value| of the enclosure: the
  certificate verifies the digits the integrator states (the enclosure is ~1e-58 wide);
* the enclosure is rigorous at low precision too: at 24, 53 and 100 bits it still contains the
  high-precision value (a radius that is estimated rather than propagated fails here).
"""

from __future__ import annotations

import functools
from fractions import Fraction

import mpmath
import numpy as np
from mpmath import mp

from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.numerics import scalar_ode as so
from dmf_verify.numerics.precise import integrate

ARB_PREC = 200      # bits (~60 digits): interval width ~1e-58, below the mp values' stated 1e-45
MP_DIGITS = 45      # digits requested from the mp integrator (checked against the enclosure)
WIDTH_BAR = 1e-30
LOW_PRECS = (24, 53, 100)  # bits: rigour check (the enclosure must still contain the value)


def _frac(x: float, digits: int = 4) -> Fraction:
    return Fraction(f"{x:.{digits}f}")


def _arb_env():
    import flint

    return flint


def _to_arb(flint, q: Fraction):
    return flint.arb(flint.fmpq(q.numerator, q.denominator))


def _mpf_to_arb(flint, v):
    """The exact binary value of an mpf as a (zero-radius) arb."""
    man, exp = v.man_exp if v != 0 else (0, 0)  # mpmath's man_exp drops the sign
    man = -int(man) if v < 0 else int(man)
    old = flint.ctx.prec
    flint.ctx.prec = max(ARB_PREC, int(man).bit_length() + 64)  # enough bits: the product is exact
    try:
        out = flint.arb(flint.fmpz(int(man))) * flint.arb(2) ** int(exp)
    finally:
        flint.ctx.prec = old
    if out.rad() != 0:
        raise AssertionError("mpf -> arb conversion was not exact")
    return out


def arb_blowup_time(x0: Fraction, n: int, g: Fraction, *, exponent: Fraction | None = None, prec: int = ARB_PREC):
    """Enclosure of |x0|^-p / (p |g|) (``exponent`` replaces p: used by the control)."""
    flint = _arb_env()
    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        p = _to_arb(flint, Fraction(n - 2, n) if exponent is None else exponent)
        return abs(_to_arb(flint, x0)) ** (-p) / (p * abs(_to_arb(flint, g)))
    finally:
        flint.ctx.prec = old


def arb_solution(t: Fraction, x0: Fraction, n: int, a: Fraction, b: Fraction, *, exponent: Fraction | None = None,
                 prec: int = ARB_PREC):
    """Enclosure of s (|x0|^-p - p s G(t))^(-1/p), g = a + b t, G = a t + b t^2/2 (exact rational)."""
    flint = _arb_env()
    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        s = 1 if x0 > 0 else -1
        p = _to_arb(flint, Fraction(n - 2, n) if exponent is None else exponent)
        G = _to_arb(flint, a * t + b * t * t / 2)
        base = abs(_to_arb(flint, x0)) ** (-p) - p * s * G
        return s * base ** (-1 / p)
    finally:
        flint.ctx.prec = old


def _cases(seed: int):
    rng = np.random.default_rng([seed, 30])
    blow = []
    for i, n in enumerate((3, 4, 5)):
        s = 1 if i % 2 == 0 else -1
        blow.append((n, s * _frac(rng.uniform(0.3, 1.5)), s * _frac(rng.uniform(0.5, 1.5))))
    sol = []
    for n in (3, 4):
        x0 = _frac(rng.uniform(0.5, 1.0)) * (1 if n == 3 else -1)
        a, b = _frac(rng.uniform(-0.5, 0.5)), _frac(rng.uniform(-0.5, 0.5))
        T = so.blowup_time(float(x0), n, so.affine(float(a), float(b)), t_max=2.0)
        t = _frac(min(1.0, 0.5 * T), 3)
        sol.append((n, x0, a, b, t))
    return blow, sol


def _s(q: Fraction) -> str:
    return f"{q.numerator}/{q.denominator}"


@functools.lru_cache(maxsize=4)
def _mp_values(seed: int):
    blow, sol = _cases(seed)
    out_b, out_s = [], []
    for n, x0, g in blow:
        with mp.workdps(MP_DIGITS + 10):
            x0m, gm = mpmath.mpf(x0.numerator) / x0.denominator, mpmath.mpf(g.numerator) / g.denominator
        T, tail = so.blowup_time_mp(x0m, n, so.constant(gm), digits=MP_DIGITS)
        out_b.append((n, x0, g, T, tail))
    for n, x0, a, b, t in sol:
        with mp.workdps(MP_DIGITS + 10):
            x0m, am, bm = (mpmath.mpf(q.numerator) / q.denominator for q in (x0, a, b))
            tm = mpmath.mpf(t.numerator) / t.denominator
            res = integrate(so.rhs_mp(n, so.affine(am, bm)), [x0m], [tm], digits=MP_DIGITS)
        out_s.append((n, x0, a, b, t, res.y[-1][0]))
    return out_b, out_s


def _distance(flint, box, value) -> float:
    """Distance of an mpf from an arb interval relative to |value| (0 when it is inside)."""
    v = _mpf_to_arb(flint, value)
    if box.contains(v):
        return 0.0
    with mp.workdps(80):
        mid = mpmath.mpf(box.mid().str(70, radius=False)) if box.mid().is_finite() else mpmath.inf
        rad = mpmath.mpf(float(box.rad()))
        return float(max(abs(mid - value) - rad, 0) / abs(value))


def _checks(flint, make, value, name, cases, info, exponent):
    box = make(exponent=exponent)
    cases[f"{name}: width / {WIDTH_BAR:g}"] = 2 * float(box.rad()) / WIDTH_BAR
    cases[f"{name}: distance of the mp value / 10^-{MP_DIGITS}"] = _distance(flint, box, value) * 10.0 ** MP_DIGITS
    if exponent is None:  # rigour: low-precision enclosures still contain the value (1 + distance when not)
        lows = {prec: _distance(flint, make(exponent=None, prec=prec), value) for prec in LOW_PRECS}
        cases[f"{name}: not contained at {LOW_PRECS} bits"] = max(0.0 if d == 0 else 1.0 + d for d in lows.values())
    info[name] = {"arb": box.str(40, radius=True), "mp": mpmath.nstr(value, 50), "width": 2 * float(box.rad())}


def _measure(seed: int, *, control: bool = False) -> Measurement:
    flint = _arb_env()
    blows, sols = _mp_values(seed)
    cases, info = {}, {}
    for n, x0, g, T, tail in blows:
        name = f"blow-up time N={n} x0={_s(x0)} g={_s(g)}"
        _checks(flint, lambda exponent, prec=ARB_PREC, n=n, x0=x0, g=g: arb_blowup_time(x0, n, g, exponent=exponent,
                                                                                        prec=prec),
                T, name, cases, info, Fraction(n - 1, n) if control else None)
        info[name]["mp_tail_bound"] = float(tail)
    for n, x0, a, b, t, val in sols:
        name = f"x(t) N={n} x0={_s(x0)} g={_s(a)}+{_s(b)}t t={_s(t)}"
        _checks(flint, lambda exponent, prec=ARB_PREC, n=n, x0=x0, a=a, b=b, t=t:
                arb_solution(t, x0, n, a, b, exponent=exponent, prec=prec),
                val, name, cases, info, Fraction(n - 1, n) if control else None)
    if control:  # the control is about the formula: only the distance to the (wrong) enclosure counts
        cases = {k: v for k, v in cases.items() if "distance" in k}
    return Measurement(cases=cases, details={"values": info, "arb_prec_bits": ARB_PREC, "mp_digits": MP_DIGITS,
                                             "low_precisions_bits": LOW_PRECS, "seed": seed})


CLAIM = Claim(
    id="precision.blowup_certificate",
    source="Arora et al. 2019, Lemma 4 (Appendix A, eq. 12), certified by this project with python-flint arb",
    statement=r"T = \frac{|x_0|^{-(1-2/N)}}{(1-2/N)|g|} \in [T]_{\mathrm{arb}},\ "
              r"x(t) \in [x(t)]_{\mathrm{arb}},\ \mathrm{width} < 10^{-30}",
    verify=_measure,
    control=lambda seed: _measure(seed, control=True),
    tolerance=1.0,
    tolerance_reason="normalized, each case <= 1: the enclosure's width over 1e-30 (arb at 200 bits gives ~1e-58), "
                     "the mp value's distance from the enclosure over 10^-45 |value| (45 digits requested: local "
                     "tolerance 1e-47 at 55 working digits, blow-up tail bound < 1e-50), and containment at 24, 53 "
                     "and 100 bits (0 when contained). Measured by dmf-verify sweep over seeds 0-19: worst error 0.029 (seed 1) = 0.029 x the tolerance "
                     "(35x margin); smallest control 1.4e+40 (seed 14) = 1.4e+40 x the tolerance",
    control_description="enclosures of the off-by-one formulas (exponent q = 1 - 1/N in place of p = 1 - 2/N): "
                        "the integrated values must lie far outside them",
    notes="blow-up time for constant g at N = 3, 4, 5 (both signs of x0) and x(t) at a rational t for "
          "affine g at N = 3, 4; all inputs exact rationals (4 decimals drawn from the seed).",
)
