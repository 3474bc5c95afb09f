"""High-precision ODE integration with mpmath: adaptive Gragg-Bulirsch-Stoer extrapolation.

``integrate(rhs, y0, t_eval, digits=40)`` solves y' = rhs(t, y) for a small system (a few to a few
dozen unknowns) to about ``digits`` significant digits and returns a
:class:`~dmf_verify.numerics.integrators.Solution` (``y[i][c]``: component c at ``t[i]``, mpf at the
working precision; ``stats`` holds ``digits``, ``dps``, ``columns``, ``steps``, ``rejected``,
``nfev``, ``initial_order``, ``final_order``, ``arithmetic``). All arithmetic runs inside
``mp.workdps(digits + GUARD_DIGITS)``; the global ``mp.dps`` is never changed outside that block
(gmpy2 is used by mpmath automatically when installed).

Method
------
One step of size H from (t, y) runs Gragg's modified midpoint rule with n_j = 2, 4, 6, ..., 2k
substeps (an even-n midpoint result has an error expansion in even powers of H/n_j) and
extrapolates the k results to H -> 0 with the Aitken-Neville scheme: the diagonal entry
T_{k,k} has order 2k. The difference between T_{k,k} and T_{k,k-1} estimates the local error of
the *lower* order entry; the step is accepted when that estimate is below the tolerance and the
(more accurate) T_{k,k} is kept (local extrapolation). Order and step size follow
Hairer-Norsett-Wanner II.9 (ODEX): work per unit step decides the column.
The number of columns k grows with the requested digits (high order = few, large steps), which
is what makes high precision cheap compared with ``mpmath.odefun``.

Output times are hit exactly (the step is shortened to land on each requested time).

How a run ends (``Solution.status``; with ``throw=True``, the default, failures raise)
-----------------------------------------------------------------------------------------
* ``BLOWUP`` (:class:`~dmf_verify.errors.BlowUpError`): ``|y|`` exceeded ``max_abs`` (default
  10^(dps/2)), or the step size collapsed while ``|y|`` had grown by more than 10^6;
* ``NONFINITE`` (:class:`~dmf_verify.errors.NonFiniteDerivativeError`, a
  :class:`~dmf_verify.errors.NonFiniteError`): the right-hand side returned NaN/inf;
* ``STALLED`` (:class:`~dmf_verify.errors.StalledError`): the right-hand side does not resolve
  changes of y (or t) far below float64 resolution -- a float64 value leaks into it, so its
  values carry ~1e-16 noise that no step size can bring below a 10^-digits tolerance (the
  *precision probe*, four extra evaluations, run at the start and again after a streak of
  rejected steps) -- or the step size collapsed with ``|y|`` bounded;
* ``MAX_STEPS`` (:class:`~dmf_verify.errors.IntegrationError`): ``max_steps`` attempts used.
In every case ``t_final`` (the error's ``.t``) is the time at which the integrator stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mpmath
from mpmath import mp

from dmf_verify.errors import InvalidArgument, ShapeError
from dmf_verify.numerics.integrators._solution import Solution, Status
from dmf_verify.numerics.validation import _show, check_bool, check_callable, check_exact_real, check_int, check_option

GUARD_DIGITS = 10
#: A rejection streak of this length triggers the precision probe again.
PROBE_STREAK = 6
#: |y| growth (over max(|y0|, 1)) that turns a collapsed step size into a blow-up rather than a stall.
BLOWUP_GROWTH = 10**6


def default_columns(digits: int) -> int:
    """Extrapolation columns k (order 2k) for a given number of digits.

    Measured on the scalar Lemma 4 ODE and the eq. 10 pair (benchmarks/bench_precise.py):
    the cost is lowest for k near digits/2.5 (k = 15-23 for 30-50 digits); the step-by-step order
    control then adjusts k within [2, k + max(4, k/2)].

    >>> default_columns(30), default_columns(50)
    (15, 23)
    """
    digits = check_int(digits, "digits", low=1)
    return max(4, min(40, round(digits / 2.5) + 3))


def _to_mpf_list(values, name: str) -> list:
    """A flat sequence of real numbers (int, float, decimal str, mpf) as mpf at the current precision."""
    if values is None or isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise InvalidArgument(f"{name} must be a sequence of real numbers (int, float, decimal str, mpf), "
                              f"got {_show(values)}")
    if getattr(values, "ndim", 1) != 1:
        raise ShapeError(f"{name} must be a flat (1-D) sequence, got an array of shape {values.shape}")
    out = []
    for i, v in enumerate(values):
        if isinstance(v, (list, tuple)) or getattr(v, "ndim", 0) != 0:
            raise ShapeError(f"{name} must be a flat (1-D) sequence of numbers, got {_show(v)} at index {i}")
        check_exact_real(v, f"{name}[{i}]")
        out.append(mpmath.mpf(v) if not isinstance(v, mpmath.mpf) else +v)
    return out


class _Stop(Exception):
    """Internal: end the run with a status at time t (state y)."""

    def __init__(self, status: Status, message: str, t, y):
        super().__init__(message)
        self.status, self.message, self.t, self.y = status, message, t, y


def integrate(rhs: Callable[[object, list], Sequence], y0: Sequence, t_eval: Sequence, *,
              digits: int = 40, t0=0, columns: int | None = None, rtol=None, atol=None,
              h0=None, max_steps: int = 100_000, max_abs=None, arithmetic: str = "mpmath",
              probe: bool = True, throw: bool = True) -> Solution:
    """Integrate y' = rhs(t, y) from t0 to the (non-decreasing) times ``t_eval`` with about
    ``digits`` correct significant digits; returns a :class:`Solution`.

    ``rhs(t, y)`` receives an mpf time and a list of mpf values and returns a sequence of the
    same length; it is always called inside the working-precision block, so any mpmath function
    it uses runs at the working precision. Numbers may be given as str/int/float/mpf (use str or
    mpf for exact decimal inputs: a float like 0.1 is taken at its binary value).

    ``arithmetic="gmpy2"`` runs the integrator (and hands ``rhs``) gmpy2 ``mpfr`` numbers at the
    same precision instead of mpmath ``mpf`` (about 10x cheaper arithmetic; ``rhs`` must then use
    gmpy2 functions, e.g. ``diagonal_flow_rhs(..., backend="gmpy2")``); results are returned as
    mpf either way (exact conversion). ``probe=False`` skips the precision probe (see the module
    docstring). ``throw=False`` returns a failed run as a Solution instead of raising.

    Raises :class:`InvalidArgument` / :class:`NonFiniteError` for bad settings or input; failures
    of the run as described in the module docstring.

    >>> sol = integrate(lambda t, y: [-y[0]], ["1"], ["1"], digits=30)
    >>> sol.status, mpmath.nstr(sol.y[-1][0], 30)
    (<Status.SUCCESSFUL: 'successful'>, '0.367879441171442321595523770161')
    >>> leak = integrate(lambda t, y: [mpmath.mpf(float(-y[0]))], ["1"], ["1"], digits=30, throw=False)
    >>> leak.status                                   # a float64 value inside the rhs: stopped at once
    <Status.STALLED: 'stalled'>
    """
    check_callable(rhs, "rhs")
    digits = check_int(digits, "digits", low=5, high=500)
    k = default_columns(digits) if columns is None else check_int(columns, "columns", low=2, high=60)
    max_steps = check_int(max_steps, "max_steps", low=1)
    check_option(arithmetic, "arithmetic", ("mpmath", "gmpy2"))
    probe = check_bool(probe, "probe")
    throw = check_bool(throw, "throw")
    dps = digits + GUARD_DIGITS
    with mp.workdps(dps):
        y = _to_mpf_list(y0, "y0")
        if not y:
            raise InvalidArgument("y0 must hold at least one value")
        ts = _to_mpf_list(t_eval, "t_eval")
        t = mpmath.mpf(check_exact_real(t0, "t0"))
        if not ts:
            raise InvalidArgument("t_eval must hold at least one time")
        prev = t
        for s in ts:
            if s < prev:
                raise InvalidArgument(f"t_eval must be non-decreasing and >= t0 = {mpmath.nstr(t, 8)}, "
                                      f"got {mpmath.nstr(s, 8)} after {mpmath.nstr(prev, 8)}")
            prev = s
        opts = {}
        for name, v in (("rtol", rtol), ("atol", atol), ("h0", h0), ("max_abs", max_abs)):
            if v is not None:
                x = mpmath.mpf(check_exact_real(v, name))
                if not x > 0:
                    raise InvalidArgument(f"{name} must be > 0, got {v!r}")
                opts[name] = x
        A = _arithmetic(arithmetic, mp.prec)
        y, ts, t = [A.from_mpf(v) for v in y], [A.from_mpf(v) for v in ts], A.from_mpf(t)
        opts = {key: A.from_mpf(v) for key, v in opts.items()}
        stats = {"digits": digits, "dps": dps, "columns": k, "arithmetic": A.name, "method": "Gragg-Bulirsch-Stoer",
                 "initial_order": 2 * k}
        out_t, out_y = [], []
        tol_r = A.num(10) ** (-(digits + 2)) if rtol is None else opts["rtol"]
        tol_a = tol_r if atol is None else opts["atol"]
        with A.context():
            try:
                t_end, y_end, message = _run(A, rhs, y, ts, t, dps, k, tol_r, tol_a, opts.get("h0"), max_steps,
                                             opts.get("max_abs"), probe, out_t, out_y, stats)
                status = Status.SUCCESSFUL
            except _Stop as stop:
                status, message, t_end, y_end = stop.status, stop.message, stop.t, stop.y
        sol = Solution(status, [A.to_mpf(v) for v in out_t], [[A.to_mpf(v) for v in row] for row in out_y],
                       A.to_mpf(t_end), "GBS", rtol=A.to_mpf(tol_r), atol=A.to_mpf(tol_a), stats=stats,
                       message=message, y_final=[A.to_mpf(v) for v in y_end])
    return sol.raise_for_status() if throw else sol


def _probe(A, f, t, y, fy, dps):
    """Does rhs resolve perturbations of y and t far below float64 resolution?

    Symmetric differences f(y + d e) - f(y - d e) at a large relative d (1e-6) and a small one
    (10^-(0.6 dps)), e = (1 + |y_i|) with alternating signs; for an rhs computed at the working
    precision the small difference is the large one scaled by the ratio of the d's (to ~1e-12
    relative: the third-order term); a float64 leak rounds the small perturbation away (difference
    0) or quantizes it to ~1e-16. Returns a message when a leak is found, else None.
    """
    big, small = A.num(10) ** -6, A.num(10) ** (-int(0.6 * dps))
    ratio = small / big
    floor = A.num(10) ** (-(dps - 8))
    e = [(1 + abs(v)) * (1 if i % 2 == 0 else -1) for i, v in enumerate(y)]
    fscale = max(abs(v) for v in fy) + 1

    def sym(d, which):
        if which == "y":
            a = f(t, [v + d * w for v, w in zip(y, e)])
            b = f(t, [v - d * w for v, w in zip(y, e)])
        else:
            dt = d * (1 + abs(t))
            a, b = f(t + dt, y), f(t - dt, y)
        return [p - q for p, q in zip(a, b)]

    for which in ("y", "t"):
        try:
            db, ds = sym(big, which), sym(small, which)
        except (ZeroDivisionError, OverflowError, ValueError):
            continue
        for c, (u, v) in enumerate(zip(db, ds)):
            if not (A.isfinite(u) and A.isfinite(v)):
                continue
            pred = u * ratio
            if abs(pred) > floor * fscale and abs(v - pred) > abs(pred) / 2:
                return (f"the right-hand side does not resolve a relative change of {A.fmt(small, 3)} in {which}: "
                        f"component {c} changed by {A.fmt(v, 3)} where {A.fmt(pred, 3)} was expected from a change "
                        f"of {A.fmt(big, 3)}; its values are computed at float64 precision (a float leaking into "
                        f"the mp computation?), so no step size can reach the tolerance")
    return None


def _run(A, rhs, y, ts, t, dps, k, tol_r, tol_a, h0, max_steps, max_abs, probe, out_t, out_y, stats):
    big = A.num(10) ** (dps // 2) if max_abs is None else max_abs
    kmax = min(60, k + max(4, k // 2))
    seq = [2 * (j + 1) for j in range(kmax + 1)]
    # Aitken-Neville weights 1/((n_j/n_{j-l})^2 - 1), exact rationals -> mpf once.
    weights = [[None] + [1 / (A.num(seq[j] * seq[j]) / (seq[j - l] * seq[j - l]) - 1)
                         for l in range(1, j + 1)] for j in range(kmax + 1)]
    work = [sum(seq[: j + 1]) for j in range(kmax + 1)]  # f-evaluations to build column j
    span = ts[-1] - t
    counters = {"steps": 0, "rejected": 0, "nfev": 0}
    stats.update(counters)
    n = len(y)
    y_scale0 = max(max(abs(v) for v in y), A.num(1))

    nonfinite = {}

    def f(tt, yy):
        counters["nfev"] += 1
        v = list(rhs(tt, yy))
        if len(v) != n:
            raise InvalidArgument(f"rhs returned {len(v)} values for a system of size {n}")
        for x in v:
            if not A.isfinite(x):
                nonfinite["t"], nonfinite["value"] = tt, x
                break
        return v

    def check_finite(values, tt, yy):
        for v in values:
            if not A.isfinite(v):
                raise _Stop(Status.NONFINITE, f"the right-hand side returned a non-finite value {v} at "
                                              f"t = {A.fmt(tt, 15)}", tt, yy)

    def sync():
        stats.update(counters)

    try:
        fy = f(t, y)
        check_finite(fy, t, y)
        if probe:
            leak = _probe(A, f, t, y, fy, dps)
            if leak:
                raise _Stop(Status.STALLED, leak, t, y)
        if h0 is not None:
            H = h0
        else:  # a fraction of the local time scale |y|/|y'| (high order: large first steps are fine)
            ynorm, fnorm = max(abs(v) for v in y), max(abs(v) for v in fy)
            if fnorm == 0 or ynorm == 0:
                H = span / 8
            else:
                H = A.num("0.25") * ynorm / fnorm
                if span > 0:
                    H = min(H, span)
            if H <= 0:
                H = A.num(1)
        tiny = A.num(10) ** (-(dps - 5))
        kmin = 2
        kc = k - 1  # current target column (0-based): order 2k
        after_reject = False
        streak = 0
        probed_at = 0
        for target in ts:
            while t < target:
                if counters["steps"] + counters["rejected"] >= max_steps:
                    raise _Stop(Status.MAX_STEPS, f"max_steps = {max_steps} exhausted at t = {A.fmt(t, 15)} "
                                                  f"(target {A.fmt(target, 15)})", t, y)
                last = False
                H_free = H
                if t + H >= target:
                    H, last = target - t, True
                if H <= tiny * (1 + abs(t)):
                    ygrow = max(abs(v) for v in y) / y_scale0
                    if nonfinite and ygrow <= BLOWUP_GROWTH:
                        raise _Stop(Status.NONFINITE, f"the right-hand side returned a non-finite value "
                                                      f"{nonfinite['value']} at t = {A.fmt(nonfinite['t'], 20)}; "
                                                      f"no step beyond t = {A.fmt(t, 20)} avoids it", t, y)
                    if ygrow > BLOWUP_GROWTH:
                        raise _Stop(Status.BLOWUP, f"step size collapsed to {A.fmt(H, 5)} at t = {A.fmt(t, 20)} "
                                                   f"with |y| grown {A.fmt(ygrow, 3)}-fold: finite-time blow-up "
                                                   f"near t = {A.fmt(t, 20)}", t, y)
                    raise _Stop(Status.STALLED, f"step size collapsed to {A.fmt(H, 5)} at t = {A.fmt(t, 20)} with "
                                                f"|y| bounded: the error estimate cannot reach the tolerance "
                                                f"(a noise floor or a non-smooth right-hand side)", t, y)
                ynew, jc, hopt = _gbs_step(A, f, t, y, fy, H, kc, seq, weights, tol_r, tol_a)
                if ynew is not None:
                    nonfinite.clear()
                    t = target if last else t + H
                    y = ynew
                    counters["steps"] += 1
                    streak = 0
                    fy = f(t, y)
                    check_finite(fy, t, y)
                    if max(abs(v) for v in y) > big:
                        raise _Stop(Status.BLOWUP, f"|y| exceeded {A.fmt(big, 5)} at t = {A.fmt(t, 20)}: "
                                                   f"finite-time blow-up at or after t = {A.fmt(t, 20)}", t, y)
                    kc, Hn = jc, hopt[jc]
                    if jc - 1 in hopt and work[jc - 1] / hopt[jc - 1] < 0.8 * work[jc] / hopt[jc]:
                        kc, Hn = max(kmin, jc - 1), hopt[jc - 1]
                    elif jc + 1 <= kmax - 1 and (jc - 1 not in hopt or
                                                  work[jc] / hopt[jc] < 0.9 * work[jc - 1] / hopt[jc - 1]):
                        kc, Hn = jc + 1, hopt[jc] * work[jc + 1] / work[jc]
                    if after_reject:
                        Hn = min(Hn, H)
                    after_reject = False
                    H = Hn if not last else max(Hn, H_free) if Hn >= H else Hn
                else:
                    counters["rejected"] += 1
                    streak += 1
                    if probe and streak >= PROBE_STREAK and counters["rejected"] >= 2 * probed_at:
                        probed_at = max(counters["rejected"], 1)
                        leak = _probe(A, f, t, y, fy, dps)
                        if leak:
                            raise _Stop(Status.STALLED, leak, t, y)
                    after_reject = True
                    kc = max(kmin, min(kc, max(hopt) if hopt else kc))
                    H = hopt.get(kc, H / 5) if hopt else H / 5
                    H = min(H, H_free / 2)
            out_t.append(target)
            out_y.append(list(y))
        stats["final_order"] = 2 * (kc + 1)
        return t, y, "every requested time reached"
    finally:
        sync()


class _MpmathArith:
    name = "mpmath"

    def __init__(self, prec):
        self.prec = prec
        self.num = mpmath.mpf
        self.isfinite = mpmath.isfinite
        self.inf = mpmath.inf

    def fmt(self, x, n):
        return mpmath.nstr(x, n)

    def from_mpf(self, v):
        return v

    def to_mpf(self, v):
        return v

    def context(self):
        import contextlib

        return contextlib.nullcontext()


class _Gmpy2Arith:
    name = "gmpy2"

    def __init__(self, prec):
        import gmpy2

        self.gmpy2 = gmpy2
        self.prec = prec
        self.isfinite = gmpy2.is_finite
        self.inf = gmpy2.inf()

    def num(self, x):
        if isinstance(x, mpmath.mpf):
            return self.from_mpf(x)
        return self.gmpy2.mpfr(x) if not isinstance(x, float) else self.gmpy2.mpfr(repr(x))

    def fmt(self, x, n):
        return f"{float(x):.{min(n, 17)}g}"

    def from_mpf(self, v):
        sign, man, exp, _ = v._mpf_
        if not man:
            return self.gmpy2.mpfr(0)
        with self.gmpy2.context(self.gmpy2.get_context(), precision=max(self.prec, int(man).bit_length() + 2)):
            out = self.gmpy2.mul_2exp(self.gmpy2.mpfr(-int(man) if sign else int(man)), exp)
        return out

    def to_mpf(self, v):
        num, den = v.as_integer_ratio()
        with mp.workprec(max(self.prec, abs(num).bit_length() + 2)):
            return mpmath.ldexp(mpmath.mpf(num), -(den.bit_length() - 1))

    def context(self):
        return self.gmpy2.context(self.gmpy2.get_context(), precision=self.prec)


def _arithmetic(name, prec):
    if name == "mpmath":
        return _MpmathArith(prec)
    if name == "gmpy2":
        try:
            return _Gmpy2Arith(prec)
        except ImportError:
            raise InvalidArgument("arithmetic='gmpy2' needs the gmpy2 package") from None
    raise InvalidArgument(f"arithmetic must be 'mpmath' or 'gmpy2', got {name!r}")


def _gbs_step(A, f, t, y, fy, H, kc, seq, weights, tol_r, tol_a):
    """One extrapolated step of size H aiming at column kc (0-based).

    Columns are built one by one; from column kc-1 on, the scaled difference
    err_j = ||T_jj - T_j,j-1|| is tested and the step is accepted at the first j <= kc+1 with
    err_j <= 1. Returns (T_jj or None when rejected, j, {column: optimal step size}).
    """
    rows, hopt = [], {}
    safe1, safe2 = A.num("0.94"), A.num("0.65")
    jmax = min(kc + 1, len(seq) - 1)
    for j in range(jmax + 1):
        nsub = seq[j]
        h = H / nsub
        h2 = h + h
        z0 = y
        z1 = [a + h * b for a, b in zip(y, fy)]
        try:
            for i in range(1, nsub):
                fz = f(t + i * h, z1)
                z0, z1 = z1, [a + h2 * b for a, b in zip(z0, fz)]
        except (ZeroDivisionError, OverflowError, ValueError):
            return None, j, hopt
        row = [z1]
        for l in range(1, j + 1):
            w = weights[j][l]
            a, b = row[l - 1], rows[j - 1][l - 1]
            row.append([p + (p - q) * w for p, q in zip(a, b)])
        rows.append(row)
        if j >= max(1, kc - 1):
            err = _scaled_error(A, row[-1], row[-2], y, tol_r, tol_a)
            if not A.isfinite(err):
                return None, j, hopt
            expo = A.num(1) / (2 * j + 1)
            fac = A.num(4) if err == 0 else min(A.num(4), max(A.num("0.02"), safe1 * (safe2 / err) ** expo))
            hopt[j] = H * fac
            if err <= 1:
                return row[-1], j, hopt
    return None, jmax, hopt


def _scaled_error(A, best, lower, y, tol_r, tol_a):
    err = A.num(0)
    for p, q, y0 in zip(best, lower, y):
        if not (A.isfinite(p) and A.isfinite(q)):
            return A.inf
        e = abs(p - q) / (tol_a + tol_r * max(abs(p), abs(y0)))
        err = max(err, e)
    return err


__all__ = ["BLOWUP_GROWTH", "GUARD_DIGITS", "PROBE_STREAK", "default_columns", "integrate"]
