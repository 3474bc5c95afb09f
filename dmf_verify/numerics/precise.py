"""High-precision ODE integration with mpmath: adaptive Gragg-Bulirsch-Stoer extrapolation.

``integrate(rhs, y0, t_eval, digits=40)`` solves y' = rhs(t, y) for a small system (a few to a few
dozen unknowns) to about ``digits`` significant digits. All arithmetic runs inside
``mp.workdps(digits + guard)``; the global ``mp.dps`` is never changed outside that block (gmpy2
is used by mpmath automatically when installed).

Method
------
One step of size H from (t, y) runs Gragg's modified midpoint rule with n_j = 2, 4, 6, ..., 2k
substeps (an even-n midpoint result has an error expansion in even powers of H/n_j) and
extrapolates the k results to H -> 0 with the Aitken-Neville scheme: the diagonal entry
T_{k,k} has order 2k. The difference between T_{k,k} and T_{k,k-1} (order 2k-1... 2k-2)
estimates the local error of the *lower* order entry; the step is accepted when that estimate is
below the tolerance and the (more accurate) T_{k,k} is kept (local extrapolation). The step size
follows the usual controller H_new = H * 0.9 * (1/err)^(1/(2k-1)), clipped to [0.2, 4].
The number of columns k grows with the requested digits (high order = few, large steps), which
is what makes high precision cheap compared with ``mpmath.odefun`` (a Taylor method whose
coefficients are obtained numerically).

Output times are hit exactly (the step is shortened to land on each requested time).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import mpmath
from mpmath import mp

from dmf_verify.errors import BlowUpError, IntegrationError, InvalidArgument, NonFiniteError

GUARD_DIGITS = 10


@dataclass
class PreciseResult:
    """Solution at the requested times; values are mpf numbers at ``dps`` working digits.

    ``y[i][c]`` is component c at time ``t[i]``. ``digits`` is the accuracy requested (the
    local tolerance is 10^-(digits+2)); ``dps`` the working precision used.
    """

    t: list
    y: list
    digits: int
    dps: int
    columns: int
    steps: int
    rejected: int
    nfev: int
    details: dict = field(default_factory=dict)

    def as_float(self):
        import numpy as np

        return np.array([[float(v) for v in row] for row in self.y])


def default_columns(digits: int) -> int:
    """Extrapolation columns k (order 2k) for a given number of digits.

    Measured on the scalar Lemma 4 ODE and the eq. 10 pair (benchmarks/bench_precise.py):
    the cost is lowest for k near digits/2.5 (k = 15-23 for 30-50 digits); the step-by-step order
    control then adjusts k within [2, k + max(4, k/2)].
    """
    return max(4, min(40, round(digits / 2.5) + 3))


def _to_mpf_list(values, name: str) -> list:
    out = []
    for v in values:
        try:
            x = mpmath.mpf(v) if not isinstance(v, mpmath.mpf) else +v
        except (TypeError, ValueError):
            raise InvalidArgument(f"{name} must hold real numbers (int, float, decimal str, mpf), got {v!r}") from None
        if not mpmath.isfinite(x):
            raise NonFiniteError(f"{name} holds a non-finite value {v!r}")
        out.append(x)
    return out


def integrate(rhs: Callable[[object, list], Sequence], y0: Sequence, t_eval: Sequence, *,
              digits: int = 40, t0=0, columns: int | None = None, rtol=None, atol=None,
              h0=None, max_steps: int = 100_000, max_abs=None, arithmetic: str = "mpmath") -> PreciseResult:
    """Integrate y' = rhs(t, y) from t0 to the (increasing) times ``t_eval`` with about ``digits``
    correct significant digits.

    ``rhs(t, y)`` receives an mpf time and a list of mpf values and returns a sequence of the
    same length; it is always called inside the working-precision block, so any mpmath function
    it uses runs at the working precision. Numbers may be given as str/int/float/mpf (use str or
    mpf for exact decimal inputs: a float like 0.1 is taken at its binary value).

    ``arithmetic="gmpy2"`` runs the integrator (and hands ``rhs``) gmpy2 ``mpfr`` numbers at the
    same precision instead of mpmath ``mpf`` (about 10x cheaper arithmetic; ``rhs`` must then use
    gmpy2 functions, e.g. ``diagonal_flow_rhs(..., backend="gmpy2")``); results are returned as
    mpf either way (exact conversion).

    Raises :class:`InvalidArgument` for bad settings, :class:`NonFiniteError` for non-finite
    input or a non-finite derivative, :class:`BlowUpError` when |y| exceeds ``max_abs`` (default
    10^(dps/2)) or the step size collapses (finite-time blow-up), and
    :class:`IntegrationError` when ``max_steps`` is exhausted.
    """
    if not isinstance(digits, int) or isinstance(digits, bool) or not (5 <= digits <= 500):
        raise InvalidArgument(f"digits must be an integer in [5, 500], got {digits!r}")
    k = default_columns(digits) if columns is None else columns
    if not isinstance(k, int) or not (2 <= k <= 60):
        raise InvalidArgument(f"columns must be an integer in [2, 60], got {columns!r}")
    if not isinstance(max_steps, int) or max_steps < 1:
        raise InvalidArgument(f"max_steps must be a positive integer, got {max_steps!r}")
    dps = digits + GUARD_DIGITS
    with mp.workdps(dps):
        y = _to_mpf_list(y0, "y0")
        if not y:
            raise InvalidArgument("y0 must hold at least one value")
        ts = _to_mpf_list(t_eval, "t_eval")
        t = _to_mpf_list([t0], "t0")[0]
        if not ts:
            raise InvalidArgument("t_eval must hold at least one time")
        prev = t
        for s in ts:
            if s < prev:
                raise InvalidArgument(f"t_eval must be non-decreasing and >= t0 = {mpmath.nstr(t, 8)}, "
                                      f"got {mpmath.nstr(s, 8)} after {mpmath.nstr(prev, 8)}")
            prev = s
        A = _arithmetic(arithmetic, mp.prec)
        y, ts, t = [A.from_mpf(v) for v in y], [A.from_mpf(v) for v in ts], A.from_mpf(t)
        with A.context():
            return _run(A, rhs, y, ts, t, digits, dps, k, rtol, atol, h0, max_steps, max_abs)


def _run(A, rhs, y, ts, t, digits, dps, k, rtol, atol, h0, max_steps, max_abs):
    if True:
        tol_r = A.num(10) ** (-(digits + 2)) if rtol is None else A.num(rtol)
        tol_a = tol_r if atol is None else A.num(atol)
        if not (tol_r > 0 and tol_a > 0):
            raise InvalidArgument(f"rtol and atol must be > 0, got {rtol}, {atol}")
        big = A.num(10) ** (dps // 2) if max_abs is None else A.num(max_abs)
        kmax = min(60, k + max(4, k // 2))
        seq = [2 * (j + 1) for j in range(kmax + 1)]
        # Aitken-Neville weights 1/((n_j/n_{j-l})^2 - 1), exact rationals -> mpf once.
        weights = [[None] + [1 / (A.num(seq[j] * seq[j]) / (seq[j - l] * seq[j - l]) - 1)
                             for l in range(1, j + 1)] for j in range(kmax + 1)]
        work = [sum(seq[: j + 1]) for j in range(kmax + 1)]  # f-evaluations to build column j
        span = ts[-1] - t
        if h0 is not None and not A.num(h0) > 0:
            raise InvalidArgument(f"h0 must be > 0, got {h0!r}")
        steps = rejected = nfev = 0
        out_y = []
        n = len(y)

        def f(tt, yy):
            nonlocal nfev
            nfev += 1
            v = list(rhs(tt, yy))
            if len(v) != n:
                raise InvalidArgument(f"rhs returned {len(v)} values for a system of size {n}")
            return v

        fy = f(t, y)
        _check_finite(A, fy, t)
        if h0 is not None:
            H = A.num(h0)
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
        for target in ts:
            while t < target:
                if steps + rejected >= max_steps:
                    raise IntegrationError(f"max_steps = {max_steps} exhausted at t = {A.fmt(t, 15)} "
                                           f"(target {A.fmt(target, 15)})", t=float(t))
                last = False
                H_free = H
                if t + H >= target:
                    H, last = target - t, True
                if H <= tiny * (1 + abs(t)):
                    raise BlowUpError(f"step size collapsed to {A.fmt(H, 5)} at t = {A.fmt(t, 20)}: "
                                      f"finite-time blow-up near t = {A.fmt(t, 20)}", t=float(t))
                ynew, jc, hopt = _gbs_step(A, f, t, y, fy, H, kc, seq, weights, tol_r, tol_a)
                if ynew is not None:
                    t = target if last else t + H
                    y = ynew
                    steps += 1
                    fy = f(t, y)
                    _check_finite(A, fy, t)
                    if max(abs(v) for v in y) > big:
                        raise BlowUpError(f"|y| exceeded {A.fmt(big, 5)} at t = {A.fmt(t, 20)}: "
                                          f"finite-time blow-up at or after t = {A.fmt(t, 20)}",
                                          t=float(t))
                    # order and step selection (Hairer-Norsett-Wanner II.9, ODEX): work per unit step
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
                    rejected += 1
                    after_reject = True
                    kc = max(kmin, min(kc, max(hopt) if hopt else kc))
                    H = hopt.get(kc, H / 5) if hopt else H / 5
                    H = min(H, H_free / 2)
            out_y.append([A.to_mpf(v) for v in y])
        return PreciseResult(t=[A.to_mpf(v) for v in ts], y=out_y, digits=digits, dps=dps, columns=k, steps=steps,
                             rejected=rejected, nfev=nfev,
                             details={"method": "Gragg-Bulirsch-Stoer", "initial_order": 2 * k,
                                      "final_order": 2 * (kc + 1), "arithmetic": A.name})


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


def _check_finite(A, values, t):
    for v in values:
        if not A.isfinite(v):
            raise NonFiniteError(f"rhs returned a non-finite value {v} at t = {A.fmt(t, 15)}")


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


def mp_digits_agreement(a, b) -> float:
    """-log10 of the relative difference |a-b|/max(|a|,|b|) (inf when equal), for mpf or float."""
    with mp.workdps(max(mp.dps, 60)):
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        den = max(abs(a), abs(b))
        if a == b:
            return math.inf
        return float(-mpmath.log10(abs(a - b) / den))


__all__ = ["GUARD_DIGITS", "PreciseResult", "default_columns", "integrate", "mp_digits_agreement"]


# --- small test systems (used by the precision claims and benchmarks/bench_precise.py) ------------
def diagonal_flow_rhs(depth: int, target, *, backend: str = "mp"):
    """Gradient flow of 1/2 ||W_N...W_1 - diag(target)||_F^2 over *diagonal* factors W_j = diag(w_j).

    State layout: y = [w_1 (k entries), w_2, ..., w_N]; component i of layer j obeys
    dw_{j,i}/dt = -(prod_{l != j} w_{l,i}) (prod_l w_{l,i} - target_i). ``backend`` "mp" returns a
    callable for :func:`integrate` (lists of mpf); "gmpy2" the same for ``integrate(...,
    arithmetic="gmpy2")`` (lists of mpfr); "float" a numpy callable for scipy.
    """
    if not isinstance(depth, int) or depth < 1:
        raise InvalidArgument(f"depth must be an integer >= 1, got {depth!r}")
    k = len(target)
    if backend == "float":
        import numpy as np

        tgt = np.asarray([float(mpmath.mpf(v)) for v in target])

        def ff(_t, y):
            w = y.reshape(depth, k)
            prod = np.prod(w, axis=0)
            out = np.empty_like(w)
            for j in range(depth):
                out[j] = -np.prod(np.delete(w, j, axis=0), axis=0) * (prod - tgt)
            return out.ravel()
        return ff
    if backend == "mp":
        conv, key = mpmath.mpf, (lambda: mp.prec)
    elif backend == "gmpy2":
        import gmpy2

        conv, key = gmpy2.mpfr, (lambda: gmpy2.get_context().precision)
    else:
        raise InvalidArgument(f"backend must be 'mp', 'gmpy2' or 'float', got {backend!r}")
    cache = {}

    def f(_t, y):
        kp = key()
        if kp not in cache:
            cache.clear()
            cache[kp] = ([conv(str(v)) if not isinstance(v, mpmath.mpf) else conv(mpmath.nstr(v, 60))
                          for v in target], conv(1))
        tgt, one = cache[kp]
        out = [None] * (depth * k)
        for i in range(k):
            col = [y[j * k + i] for j in range(depth)]
            pre = [one] * (depth + 1)
            for j in range(depth):
                pre[j + 1] = pre[j] * col[j]
            suf = one
            resid = pre[depth] - tgt[i]
            for j in range(depth - 1, -1, -1):
                out[j * k + i] = -(pre[j] * suf) * resid
                suf = suf * col[j]
        return out
    return f


__all__ += ["diagonal_flow_rhs"]
