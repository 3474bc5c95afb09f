"""The scalar ODE of Lemma 4 (Arora et al. 2019): dx/dt = g(t) (x^2)^(1 - 1/N), x(0) != 0.

Closed forms (Arora et al. 2019, Lemma 4 and eq. 11, re-derived in theory/scalar_ode.py), with G(t) = int_0^t g and
p = 1 - 2/N, s = sign(x(0)):

* N = 1: x(t) = x(0) + G(t);
* N = 2: x(t) = x(0) exp(s G(t))                       (no finite-time blow-up);
* N >= 3: x(t) = s (|x(0)|^(-p) - p s G(t))^(-1/p)      (blow-up when s G(t) reaches |x(0)|^(-p)/p).

This module gives float64 closed forms, the blow-up time (closed form for constant and affine
g, a bracketed root otherwise), a float64 DOP853 solution, a DOP853 *event* estimate of the
blow-up time, and the mpmath versions used by the high-precision checks
(``solution_mp``, ``rhs_mp``, ``blowup_time_mp``). Bad input raises project errors:
x(0) = 0, N < 1, non-finite parameters (InvalidArgument / NonFiniteError) and any time at or
past the blow-up time (:class:`BlowUpError`, whose message and ``.t`` give that time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numpy as np
from mpmath import mp
from scipy.optimize import brentq

from dmf_verify.errors import BlowUpError, IntegrationError, InvalidArgument
from dmf_verify.numerics.integrators._solution import Status
from dmf_verify.numerics.integrators.scipy_ode import solve
from dmf_verify.numerics.validation import (
    as_real_array,
    check_depth,
    check_exact_real,
    check_int,
    check_option,
    check_real,
)

KINDS = ("constant", "affine", "cosine")


@dataclass(frozen=True)
class Forcing:
    """g(t) for Lemma 4: ``constant`` g = a; ``affine`` g = a + b t; ``cosine`` g = a + b cos(omega t).

    Parameters may be given as decimal strings for exact high-precision use (``"0.7"``); float
    versions are used by the float64 routines.
    """

    kind: str
    a: object
    b: object = 0
    omega: object = 1

    def __post_init__(self):
        check_option(self.kind, "kind", KINDS)
        for name in ("a", "b", "omega"):
            check_exact_real(getattr(self, name), name)
        if self.kind == "cosine" and float(mpmath.mpf(self.omega)) == 0.0:
            raise InvalidArgument("cosine forcing needs omega != 0, got 0")

    # float64 ------------------------------------------------------------------------------
    @property
    def params(self) -> tuple[float, float, float]:
        return float(mpmath.mpf(self.a)), float(mpmath.mpf(self.b)), float(mpmath.mpf(self.omega))

    def g(self, t):
        a, b, w = self.params
        t = np.asarray(t, dtype=float)
        if self.kind == "constant":
            return a + 0.0 * t
        if self.kind == "affine":
            return a + b * t
        return a + b * np.cos(w * t)

    def G(self, t):
        a, b, w = self.params
        t = np.asarray(t, dtype=float)
        if self.kind == "constant":
            return a * t
        if self.kind == "affine":
            return a * t + 0.5 * b * t * t
        return a * t + (b / w) * np.sin(w * t)

    # mpmath (call inside mp.workdps) -------------------------------------------------------
    def _mp(self):
        return mpmath.mpf(self.a), mpmath.mpf(self.b), mpmath.mpf(self.omega)

    def g_mp_fast(self):
        """g(t) as a closure with the parameters converted once, at the current mp precision."""
        a, b, w = self._mp()
        if self.kind == "constant":
            return lambda t: a
        if self.kind == "affine":
            return lambda t: a + b * t
        cos = mpmath.cos
        return lambda t: a + b * cos(w * t)

    def g_mp(self, t):
        a, b, w = self._mp()
        if self.kind == "constant":
            return a
        if self.kind == "affine":
            return a + b * t
        return a + b * mpmath.cos(w * t)

    def G_mp(self, t):
        a, b, w = self._mp()
        if self.kind == "constant":
            return a * t
        if self.kind == "affine":
            return a * t + b * t * t / 2
        return a * t + (b / w) * mpmath.sin(w * t)

    # sympy ----------------------------------------------------------------------------------
    def sympy(self, t):
        import sympy as sp

        a, b, w = (sp.nsimplify(str(v)) for v in (self.a, self.b, self.omega))
        if self.kind == "constant":
            return a + 0 * t
        if self.kind == "affine":
            return a + b * t
        return a + b * sp.cos(w * t)

    def __str__(self) -> str:
        if self.kind == "constant":
            return f"g = {self.a}"
        if self.kind == "affine":
            return f"g = {self.a} + {self.b} t"
        return f"g = {self.a} + {self.b} cos({self.omega} t)"


def constant(a) -> Forcing:
    return Forcing("constant", a)


def affine(a, b) -> Forcing:
    return Forcing("affine", a, b)


def cosine(a, b, omega) -> Forcing:
    return Forcing("cosine", a, b, omega)


def as_forcing(g) -> Forcing:
    """A Forcing, or a real number meaning a constant g."""
    if isinstance(g, Forcing):
        return g
    return constant(check_exact_real(g, "g"))


# ---------------------------------------------------------------------------------------------
def check_problem(x0, depth) -> tuple[float, int]:
    """Validate x(0) (finite, non-zero) and N (integer >= 1); return them as (float, int)."""
    n = check_depth(depth)
    x = float(mpmath.mpf(check_exact_real(x0, "x0", nonzero=True)))  # Lemma 4 needs x(0) != 0
    return x, n


def exponent_p(depth: int) -> float:
    """p = 1 - 2/N, the exponent in the N >= 3 closed form."""
    return 1.0 - 2.0 / check_depth(depth)


def _times(t, name: str) -> np.ndarray:
    a = as_real_array(t, name, ndim=(0, 1))
    if np.any(a < 0):
        raise InvalidArgument(f"{name} must be >= 0 (Lemma 4 runs forward from t = 0), got min {a.min():g}")
    return a


def blowup_threshold(x0, depth) -> float:
    """K = |x(0)|^(-p)/p: the solution (N >= 3) blows up when sign(x0) G(t) reaches K (inf for N <= 2)."""
    x, n = check_problem(x0, depth)
    if n <= 2:
        return math.inf
    p = exponent_p(n)
    return abs(x) ** (-p) / p


def blowup_time(x0, depth, g, *, t_max: float = 1e4) -> float:
    """First t > 0 with sign(x0) G(t) = |x0|^(-p)/p (N >= 3), or ``math.inf`` when there is none
    (N <= 2; g driving |x| down; or, for cosine forcing, none in [0, t_max]).

    Closed form for constant and affine g; for cosine g a bracketed root (brentq) of the first
    crossing on a grid of spacing <= pi/(4 |omega|), so crossings are not skipped.
    """
    x, n = check_problem(x0, depth)
    g = as_forcing(g)
    t_max = check_real(t_max, "t_max", low=0.0, low_open=True)
    K = blowup_threshold(x, n)
    if not math.isfinite(K):
        return math.inf
    s = 1.0 if x > 0 else -1.0
    a, b, w = g.params
    if g.kind == "constant":
        return K / (s * a) if s * a > 0 else math.inf
    if g.kind == "affine":
        # s (a t + b t^2 / 2) = K: smallest positive root
        A, B, C = 0.5 * s * b, s * a, -K
        if A == 0.0:
            return -C / B if B > 0 else math.inf
        disc = B * B - 4 * A * C
        if disc < 0:
            return math.inf
        r = math.sqrt(disc)
        # numerically stable roots
        q = -0.5 * (B + math.copysign(r, B)) if B != 0 else -0.5 * r
        roots = [q / A] + ([C / q] if q != 0 else [])
        pos = [t for t in roots if t > 0]
        return min(pos) if pos else math.inf
    # cosine: grid scan + brentq
    def h(t):
        return s * float(g.G(t)) - K
    dt = math.pi / (4 * abs(w))  # independent of t_max, so repeated calls give the same root
    t_prev, _h_prev = 0.0, h(0.0)
    t_cur = dt
    while t_prev < t_max:
        t_cur = min(t_prev + dt, t_max)
        h_cur = h(t_cur)
        if h_cur >= 0:
            if h_cur == 0:
                return t_cur
            return brentq(h, t_prev, t_cur, xtol=1e-15, rtol=4 * np.finfo(float).eps)
        t_prev, _h_prev = t_cur, h_cur
    return math.inf


def solution(t, x0, depth, g):
    """Closed-form x(t) (float64) at times t >= 0; BlowUpError for any t at or past blow-up."""
    x, n = check_problem(x0, depth)
    g = as_forcing(g)
    ts = _times(t, "t")
    T = blowup_time(x, n, g, t_max=2.0 * max(float(np.max(ts, initial=0.0)), 1.0))
    if np.any(ts >= T):
        raise BlowUpError(f"x(t) requested at t = {float(np.max(ts)):.17g}, at or past the blow-up time "
                          f"T = {T:.17g} (N = {n}, x(0) = {x!r}, {g})", t=T)
    G = g.G(ts)
    s = 1.0 if x > 0 else -1.0
    if n == 1:
        return x + G
    if n == 2:
        return x * np.exp(s * G)
    p = exponent_p(n)
    base = abs(x) ** (-p) - p * s * G
    if np.any(base <= 0):  # rounding at the crossing: still past the blow-up, never a silent inf
        raise BlowUpError(f"x(t) requested at t = {float(np.max(ts)):.17g}, at or past the blow-up time "
                          f"T = {T:.17g} (N = {n}, x(0) = {x!r}, {g})", t=T)
    return s * base ** (-1.0 / p)


def rhs(depth, g):
    """f(t, x) = g(t) (x^2)^(1-1/N) for scipy (vectorized over x)."""
    n = check_depth(depth)
    g = as_forcing(g)
    e = 1.0 - 1.0 / n

    def f(t, y):
        return g.g(t) * (y * y) ** e
    return f


def integrate_dop853(t_eval, x0, depth, g, *, rtol: float = 1e-13, atol: float = 1e-300):
    """x(t) by DOP853 at the times t_eval (stores only those); BlowUpError past the blow-up time."""
    x, n = check_problem(x0, depth)
    g = as_forcing(g)
    ts = _times(t_eval, "t_eval").reshape(-1)
    T = blowup_time(x, n, g, t_max=2.0 * max(float(np.max(ts, initial=0.0)), 1.0))
    if np.any(ts >= T):
        raise BlowUpError(f"x(t) requested at t = {float(np.max(ts)):.17g}, at or past the blow-up time "
                          f"T = {T:.17g} (N = {n}, x(0) = {x!r}, {g})", t=T)
    if ts.size == 0 or float(ts[-1]) == 0.0:
        return np.full(ts.shape, x)
    order = np.argsort(ts, kind="stable")
    uniq, inverse = np.unique(ts[order], return_inverse=True)
    sol = solve(rhs(n, g), [x], uniq, rtol=rtol, atol=atol)   # raises with the failure time
    out = np.empty(ts.shape)
    out[order] = sol.y[inverse, 0]
    return out


@dataclass
class BlowUpEstimate:
    """DOP853 event estimate: ``t_event`` (|x| reached ``threshold``), ``tail`` = the local
    constant-g remainder |x|^(-p)/(p |g(t_event)|), ``estimate`` = t_event + tail."""

    t_event: float
    tail: float
    estimate: float
    threshold: float
    nfev: int


def blowup_time_dop853(x0, depth, g, *, t_max: float = 1e4, threshold: float | None = None,
                       rtol: float = 1e-13, remaining: float = 1e-6) -> BlowUpEstimate:
    """Blow-up time by DOP853 with a terminal event at |x| = threshold (N >= 3).

    The default threshold |x(0)| remaining^(-1/p) (remaining = 1e-6) leaves a remaining time of
    ~``remaining`` times the total at the event (exactly so for constant g): far enough from the singularity that float64 resolves T - t (a threshold such as 1e40
    would need T - t below the float spacing of T), and the tail |x|^(-p)/(p|g|) added to the
    event time is exact for constant g and O(tail^2 g'/g) otherwise.

    Raises InvalidArgument for N <= 2 (no blow-up) and IntegrationError when no blow-up
    happens before ``t_max``.
    """
    x, n = check_problem(x0, depth)
    g = as_forcing(g)
    if n <= 2:
        raise InvalidArgument(f"N = {n} <= 2: the solution does not blow up in finite time")
    p = exponent_p(n)
    t_max = check_real(t_max, "t_max", low=0.0, low_open=True)
    remaining = check_real(remaining, "remaining", low=0.0, high=1.0, low_open=True, high_open=True)
    threshold = check_real(threshold, "threshold", low=0.0, low_open=True, optional=True)
    if threshold is None:
        threshold = abs(x) * remaining ** (-1.0 / p)
    if not (threshold > abs(x) and math.isfinite(threshold)):
        raise InvalidArgument(f"threshold must be finite and > |x(0)| = {abs(x)}, got {threshold}")

    sol = solve(rhs(n, g), [x], [float(t_max)], rtol=rtol, atol=1e-300, max_norm=threshold)
    if sol.status is not Status.EVENT:
        raise IntegrationError(f"no blow-up before t_max = {t_max} (|x| stayed below {threshold:.3e})",
                               t=float(sol.t_final))
    te = float(sol.t_final)
    xe = abs(float(sol.y_final[0]))
    ge = abs(float(g.g(te)))
    tail = xe ** (-p) / (p * ge) if ge > 0 else math.inf
    return BlowUpEstimate(te, tail, te + tail, threshold, int(sol.nfev))


# --- mpmath versions (used by the high-precision checks) ----------------------------------------
def solution_mp(t, x0, depth, g, *, dps: int = 40):
    """Closed-form x(t) as an mpf computed at ``dps`` digits (BlowUpError at or past the blow-up).

    >>> mpmath.nstr(solution_mp("0.5", "0.5", 2, constant("1"), dps=30), 20)   # 0.5 e^0.5
    '0.82436063535006407342'
    """
    _, n = check_problem(x0, depth)
    dps = check_int(dps, "dps", low=5, high=10_000)
    g = as_forcing(g)
    check_exact_real(t, "t")
    with mp.workdps(dps):
        t = mpmath.mpf(t)
        if t < 0:
            raise InvalidArgument(f"t must be >= 0 (Lemma 4 runs forward from t = 0), got {mpmath.nstr(t, 17)}")
        x = mpmath.mpf(x0)
        G = g.G_mp(t)
        s = 1 if x > 0 else -1
        if n == 1:
            return x + G
        if n == 2:
            return x * mpmath.exp(s * G)
        p = 1 - mpmath.mpf(2) / n
        base = abs(x) ** (-p) - p * s * G
        if base <= 0:
            raise BlowUpError(f"t = {mpmath.nstr(t, 20)} is at or past the blow-up time (N = {n}, x(0) = {x0})",
                              t=float(t))
        return s * base ** (-1 / p)


def rhs_mp(depth, g, *, exponent=None):
    """[g(t) (x^2)^(1-1/N)] for dmf_verify.numerics.precise.integrate (``exponent`` overrides 1-1/N)."""
    n = check_depth(depth)
    g = as_forcing(g)
    if exponent is not None:
        check_exact_real(exponent, "exponent")

    cache = {}

    def f(t, y):
        prec = mp.prec
        if prec not in cache:  # constants converted once per working precision
            e = (1 - mpmath.mpf(1) / n) if exponent is None else mpmath.mpf(exponent)
            cache.clear()
            cache[prec] = (e, g.g_mp_fast())
        e, gf = cache[prec]
        x2 = y[0] * y[0]
        if n == 1 and exponent is None:
            return [gf(t)]
        if n == 2 and exponent is None:
            return [gf(t) * mpmath.sqrt(x2)]
        return [gf(t) * mpmath.power(x2, e)]
    return f


def blowup_time_mp(x0, depth, g, *, digits: int = 40):
    """Blow-up time at high precision, *without* the closed form: integrate t(v) along
    x = x0 e^v (v = log(x/x0)), dt/dv = sign(x0) |x0|^(-p) e^(-p v) / g(t), with the
    GBS integrator of dmf_verify.numerics.precise, up to v = V where the remaining time is below
    10^-(digits+5). Needs sign(x0) g(t) > 0 along the way (checked).

    Returns (T as mpf, bound on the neglected tail as mpf).
    """
    from dmf_verify.numerics.precise import integrate

    _x, n = check_problem(x0, depth)
    g = as_forcing(g)
    digits = check_int(digits, "digits", low=5, high=500)
    if n <= 2:
        raise InvalidArgument(f"N = {n} <= 2: the solution does not blow up in finite time")
    with mp.workdps(digits + 10):
        x0m = mpmath.mpf(x0)
        s = 1 if x0m > 0 else -1
        p = 1 - mpmath.mpf(2) / n
        c = abs(x0m) ** (-p)
        a, b, _w = g._mp()
        if g.kind == "constant":
            gmin = s * a
        elif g.kind == "affine":
            gmin = s * a if s * b >= 0 else None
        else:
            gmin = s * a - abs(b)
        if gmin is None or gmin <= 0:
            raise InvalidArgument(f"blowup_time_mp needs sign(x0) g(t) >= const > 0 for all t, got {g} "
                                  f"with sign(x0) = {s}")
        V = ((digits + 5) * mpmath.log(10) + mpmath.log(c / (p * gmin) + 1)) / p

        gf, sc, exp = g.g_mp_fast(), s * c, mpmath.exp

        def f(v, y):
            return [sc * exp(-p * v) / gf(y[0])]
        res = integrate(f, [0], [V], digits=digits)
        T = res.y[-1][0]
        tail = c * mpmath.exp(-p * V) / (p * gmin)
        return T, tail


__all__ = [
    "KINDS",
    "BlowUpEstimate",
    "Forcing",
    "affine",
    "as_forcing",
    "blowup_threshold",
    "blowup_time",
    "blowup_time_dop853",
    "blowup_time_mp",
    "check_problem",
    "constant",
    "cosine",
    "exponent_p",
    "integrate_dop853",
    "rhs",
    "rhs_mp",
    "solution",
    "solution_mp",
]
