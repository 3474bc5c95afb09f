"""The mp integrator delivers the digits it states: ``integrate(..., digits=D)`` is accurate to a
relative 10^-D, checked against references with MORE digits computed independently of it:

* exact solutions evaluated by mpmath at D + 30 digits (exp, 1/(1+t), tan, cos/sin, and Lemma 4's
  closed form written out here for the project's own right-hand side ``scalar_ode.rhs_mp``);
* for a system without a closed form (the diagonal deep-factorization flow) the same integration
  at D + 20 digits.

Every run is capped at MAX_STEPS accepted + rejected steps (a good run takes < 100): an integrator
that stalls (e.g. float64 numbers leaking into the extrapolation) raises instead of running on.
"""

from __future__ import annotations

import functools

import mpmath
from mpmath import mp

from dmf_verify.checks.claim import Claim, Measurement

DIGITS = (20, 30, 45)
MAX_STEPS = 400
EXTRA = 30   # digits of the closed-form references
CONTROL_EXTRA = 10  # control: claim D + 10 correct digits (the working precision) instead of D


def _lemma4_closed(t, x0, g, n):
    """x(t) = s (|x0|^-p - p s g t)^(-1/p), p = 1 - 2/N, for dx/dt = g (x^2)^(1-1/N) (constant g)."""
    p = 1 - mpmath.mpf(2) / n
    s = 1 if x0 > 0 else -1
    return [s * (abs(x0) ** (-p) - p * s * g * t) ** (-1 / p)]


def _systems():
    """(name, rhs, y0 (strings), t (string), exact(t) -> list or None)."""
    from dmf_verify.numerics import scalar_ode as so
    from dmf_verify.numerics.precise import diagonal_flow_rhs

    return [
        ("y' = y", lambda t, y: [y[0]], ["1"], "1", lambda t: [mpmath.exp(t)]),
        ("y' = -y^2", lambda t, y: [-y[0] * y[0]], ["1"], "2", lambda t: [1 / (1 + t)]),
        ("y' = 1 + y^2", lambda t, y: [1 + y[0] * y[0]], ["0"], "1.2", lambda t: [mpmath.tan(t)]),
        ("oscillator", lambda t, y: [y[1], -y[0]], ["1", "0"], "3", lambda t: [mpmath.cos(t), -mpmath.sin(t)]),
        ("Lemma 4 rhs_mp, N=3, g=0.8, x0=-0.7", so.rhs_mp(3, so.constant("0.8")), ["-0.7"], "0.9",
         lambda t: _lemma4_closed(t, mpmath.mpf("-0.7"), mpmath.mpf("0.8"), 3)),
        ("Lemma 4 rhs_mp, N=4, g=1.1, x0=0.6", so.rhs_mp(4, so.constant("1.1")), ["0.6"], "0.7",
         lambda t: _lemma4_closed(t, mpmath.mpf("0.6"), mpmath.mpf("1.1"), 4)),
        ("diagonal flow N=3 (reference: D + 20 digits)", diagonal_flow_rhs(3, ["1.5", "0.7"]),
         ["0.4", "0.5", "0.3", "0.6", "0.5", "0.4"], "1", None),
    ]


def _relative(a, b):
    return max(abs(x - y) / abs(y) for x, y in zip(a, b))


@functools.lru_cache(maxsize=1)
def _errors() -> dict:
    """Relative error of every (system, D) run against its reference (a cached, seed-free measurement)."""
    from dmf_verify.numerics.precise import integrate

    out = {}
    for name, f, y0, t, exact in _systems():
        for d in DIGITS:
            res = integrate(f, y0, [t], digits=d, max_steps=MAX_STEPS)
            with mp.workdps(d + EXTRA):
                if exact is not None:
                    ref = exact(mpmath.mpf(t))
                else:
                    ref = integrate(f, y0, [t], digits=d + 20, max_steps=MAX_STEPS).y[-1]
                err = _relative(res.y[-1], ref)
            out[(name, d)] = (float(err), res.stats["steps"] + res.stats["rejected"])
    return out


def _measure(seed: int, *, claimed_extra: int = 0) -> Measurement:
    errs = _errors()
    cases = {f"{name}, D={d}": e * 10.0 ** (d + claimed_extra) for (name, d), (e, _n) in errs.items()}
    return Measurement(cases=cases, details={
        "relative_error": {f"{name}, D={d}": e for (name, d), (e, _n) in errs.items()},
        "steps_incl_rejected": {f"{name}, D={d}": n for (name, d), (_e, n) in errs.items()},
        "normalized": f"relative error x 10^(D + {claimed_extra})", "max_steps": MAX_STEPS,
        "note": "deterministic: the systems are fixed, the seed is not used"})


CLAIM = Claim(
    id="precision.mp_digits",
    source="this project: dmf_verify.numerics.precise.integrate (Gragg-Bulirsch-Stoer at D + 10 working digits)",
    statement=r"|y^{(D)}(t) - y(t)| \le 10^{-D} |y(t)| \text{ for } D \in \{20, 30, 45\}",
    verify=_measure,
    control=lambda seed: _measure(seed, claimed_extra=CONTROL_EXTRA),
    tolerance=1.0,
    tolerance_reason="normalized: relative error x 10^D, so 1 is the stated accuracy of 'digits = D'. The local "
                     "tolerance is 10^-(D+2) at D + 10 working digits; the references carry >= D + 20 digits. "
                     "Measured by dmf-verify sweep over seeds 0-19: worst error 0.046 (seed 0) = 0.046 x the tolerance "
                     "(22x margin); smallest control 1e+03 (seed 0) = 1e+03 x the tolerance",
    control_description="claim D + 10 correct digits (all working digits): the same errors x 10^(D+10) must "
                        "exceed 1, i.e. the measurement resolves digits beyond the stated ones",
    notes="7 systems x D = 20, 30, 45: y' = y, y' = -y^2, y' = 1 + y^2 (tan), the harmonic oscillator, the Lemma 4 "
          "ODE with scalar_ode.rhs_mp for N = 3 (x0 < 0) and N = 4 against its closed form written out in this "
          "module, and the diagonal N = 3 flow against the same integration at D + 20 digits; each run is capped "
          "at 400 steps (incl. rejected)",
)
