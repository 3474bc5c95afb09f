"""Chou-Gieshoff-Maly-Rauhut: GD on 1/2 ||W_N...W_1 - A||_F^2 as decoupled scalar recursions.

With A = Q diag(lam) Q^T symmetric and W_j(0) = alpha I (or, via the SVD path, A = U diag(s) V^T
with W_N(0) = alpha U, W_j(0) = alpha I (1 < j < N), W_1(0) = alpha V^T), gradient descent keeps
every factor diagonal in the eigen-/singular basis, and each direction follows exactly

    w_{k+1} = w_k + eta w_k^(N-1) (lam - w_k^N),      x_k = w_k^N  (end-to-end value).

This module implements that recursion (vectorised over eigenvalues), the continuous-time
switch-on time T_theta (time for x to reach theta*lam) in closed form, the derived two-sided
bounds on the discrete switch-on iteration K_theta (theory/chou.py proves them), the step-size
bound for monotone convergence, and the early-stopping helper: the predicted iteration interval
in which erank(W_k) is within delta of erank(A_r).

Bounds (N >= 2, lam > 0, 0 < alpha < w_theta = (theta lam)^(1/N), 0 < theta < 1, ANY eta > 0):

    T_theta/eta + 2 - 2 e^S  <=  K_theta  <  T_theta/eta + 1 + Lambda,

    h(u) = u^(N-1)(lam - u^N),  w_rho = (rho lam)^(1/N),  rho = (N-1)/(2N-1)  (argmax of h),
    u_peak = clip(w_rho, alpha, w_theta),  Lambda = ln(h(u_peak)/h(alpha)),  S = ln(h(u_peak)/h(w_theta)).

S = 0 when theta <= rho, so then ceil(T/eta) <= K. Monotone convergence x_k -> lam (used for the
intervals: x_k stays above theta lam after K_theta) needs eta <= 1/(N lam_max^(2-2/N)).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from dmf_verify.errors import InvalidArgument, ShapeError
from dmf_verify.numerics.validation import (
    as_finite_array,
    as_matrix,
    as_real_array,
    as_vector,
    check_bool,
    check_depth,
    check_int,
    check_option,
    check_positive,
    check_real,
)


class StepSizeWarning(UserWarning):
    """The step size exceeds the bound 1/(N lam_max^(2-2/N)) under which x_k -> lam monotonically."""


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------
def _depth(depth) -> int:
    n = check_depth(depth)
    if n < 2:
        raise InvalidArgument(f"depth must be >= 2 for the switch-on analysis (N = 1 is linear regression), got {n}")
    return n


def _theta(theta) -> float:
    t = check_positive(theta, "theta")
    if not t < 1:
        raise InvalidArgument(f"theta (the switch-on fraction of lam) must lie in (0, 1), got {t}")
    return t


def _positive_lam(lam, name: str = "lam") -> float:
    v = check_real(lam, name)
    if v <= 0:
        raise InvalidArgument(
            f"{name} must be > 0 for a switch-on time, got {v}: from W_j(0) = alpha I with alpha > 0, an eigenvalue "
            "lam <= 0 is never switched on (w_k decreases to 0 and x_k = w_k^N -> 0; for even N the product "
            "Q diag(w^N) Q^T is PSD and cannot reach lam < 0 at all). Use the SVD path for indefinite A.")
    return v


def convergence_step_bound(lam_max, depth) -> float:
    """eta* = 1 / (N lam_max^(2 - 2/N)): for eta <= eta* and 0 < alpha^N < lam, x_k increases monotonically to lam.

    (The fixed point is linearly stable up to 2 eta*; chou.convergence measures both thresholds.)
    """
    n = _depth(depth)
    lam = _positive_lam(lam_max, "lam_max")
    return 1.0 / (n * lam ** (2.0 - 2.0 / n))


def check_step(step, lam_max, depth, *, stacklevel: int = 3) -> float:
    """Validate ``step`` > 0 and warn (:class:`StepSizeWarning`) when it exceeds the convergence bound."""
    eta = check_positive(step, "step")
    bound = convergence_step_bound(lam_max, depth)
    if eta > bound:
        warnings.warn(f"step {eta:g} exceeds the monotone-convergence bound 1/(N lam_max^(2-2/N)) = {bound:.6g} "
                      f"(N = {depth}, lam_max = {float(lam_max):g}); switch-on bounds still hold, but x_k may "
                      "overshoot lam and the predicted intervals are not guaranteed", StepSizeWarning,
                      stacklevel=stacklevel)
    return eta


# --------------------------------------------------------------------------------------------
# the recursion
# --------------------------------------------------------------------------------------------
def recursion_step(w, lam, depth: int, step: float):
    """One GD step of the scalar recursion w + eta w^(N-1) (lam - w^N) (arrays broadcast).

    >>> float(recursion_step(0.5, 1.0, 2, 0.1))  # 0.5 + 0.1 * 0.5 * (1 - 0.25)
    0.5375
    """
    w, lam = as_finite_array(w, "w"), as_finite_array(lam, "lam")
    depth, step = check_depth(depth), check_positive(step, "step")
    try:
        np.broadcast_shapes(w.shape, lam.shape)
    except ValueError:
        raise ShapeError(f"w and lam must broadcast together, got shapes {w.shape} and {lam.shape}") from None
    return _recursion(w, lam, depth, step)


def _recursion(w, lam, depth, step):
    return w + step * w ** (depth - 1) * (lam - w**depth)


def recursion_map(depth, step):
    """The recursion's step map for many cases at once, validated once: ``f(w, lam)`` -> next w.

    ``depth`` (integers >= 1) and ``step`` (finite, > 0) may be arrays, one entry per case; the
    returned function is :func:`recursion_step` without the per-call checks, for hot loops.

    >>> f = recursion_map([2, 3], [0.1, 0.1])
    >>> [round(float(x), 6) for x in f(np.array([0.5, 0.5]), np.array([1.0, 1.0]))]
    [0.5375, 0.521875]
    """
    d = as_real_array(depth, "depth", ndim=(0, 1))
    if np.asarray(depth).dtype.kind not in "iu":
        raise InvalidArgument(f"depth must hold integers >= 1 (an integer array), got dtype {np.asarray(depth).dtype}; "
                              "depths are never rounded")
    if np.any(d < 1):
        raise InvalidArgument(f"depth must hold integers >= 1, got minimum {int(np.min(d))}")
    h = as_real_array(step, "step", ndim=(0, 1))
    if np.any(h <= 0):
        raise InvalidArgument(f"step must be > 0, got minimum {float(np.min(h))}")
    try:
        np.broadcast_shapes(d.shape, h.shape)
    except ValueError:
        raise ShapeError(f"depth and step must have one entry per case (or be scalars), got shapes {d.shape} "
                         f"and {h.shape}") from None

    def step_map(w, lam):
        return _recursion(w, lam, d, h)

    return step_map


@dataclass
class RecursionResult:
    """End-to-end values x_k = w_k^N of the scalar recursions, k = 0..steps (rows), one column per lam."""

    lam: np.ndarray
    depth: int
    alpha: float
    step: float
    w: np.ndarray  # (steps + 1, len(lam))
    details: dict = field(default_factory=dict)

    @property
    def x(self) -> np.ndarray:
        return self.w**self.depth


def scalar_recursion(lam, depth, *, alpha, step, steps: int, warn: bool = True) -> RecursionResult:
    """Run w_{k+1} = w_k + eta w_k^(N-1)(lam - w_k^N) from w_0 = alpha for every entry of ``lam``.

    ``lam`` may contain zeros or negative values (then w_k decreases towards 0). Raises
    :class:`dmf_verify.errors.DivergenceError` when an iterate becomes non-finite.
    """
    from dmf_verify.errors import DivergenceError

    n = _depth(depth)
    lam = np.atleast_1d(as_finite_array(lam, "lam")).astype(np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise ShapeError(f"lam must be a scalar or a non-empty 1-D spectrum, got shape {lam.shape}")
    a = check_positive(alpha, "alpha")
    warn = check_bool(warn, "warn")
    if warn and np.any(lam > 0):
        eta = check_step(step, lam.max(), n)
    else:
        eta = check_positive(step, "step")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise InvalidArgument(f"steps must be a non-negative integer, got {steps!r}")
    out = np.empty((int(steps) + 1, lam.size))
    w = np.full(lam.size, a)
    out[0] = w
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, int(steps) + 1):
            w = w + eta * w ** (n - 1) * (lam - w**n)
            out[k] = w
            if not np.all(np.isfinite(w)):
                raise DivergenceError(f"scalar recursion diverged at step {k} with step size {eta:g} "
                                      f"(N = {n}, lam_max = {lam.max():g})", step=k, value=float(np.max(np.abs(w))))
    return RecursionResult(lam, n, a, eta, out)


def measured_switch_on(lam, depth, *, alpha, step, theta, max_steps: int = 10_000_000) -> int:
    """The first k with x_k = w_k^N >= theta * lam (scalar recursion, one eigenvalue)."""
    n = _depth(depth)
    lam = _positive_lam(lam)
    th = _theta(theta)
    a = check_positive(alpha, "alpha")
    eta = check_positive(step, "step")
    max_steps = check_int(max_steps, "max_steps", low=1)
    target = (th * lam) ** (1.0 / n)
    if a >= target:
        raise InvalidArgument(f"alpha = {a:g} must be below the switch-on level (theta lam)^(1/N) = {target:g}")
    w, k = a, 0
    while w < target:
        w = w + eta * w ** (n - 1) * (lam - w**n)
        k += 1
        if k > max_steps:
            raise InvalidArgument(f"no switch-on within max_steps = {max_steps} iterations (lam = {lam:g}, "
                                  f"alpha = {a:g}, step = {eta:g}); raise max_steps")
    return k


# --------------------------------------------------------------------------------------------
# continuous time and bounds
# --------------------------------------------------------------------------------------------
def _incomplete_beta0(z: float, a: float) -> float:
    """B(z; a, 0) = int_0^z s^(a-1)/(1-s) ds = z^a/a 2F1(1, a; a+1; z) for 0 <= z < 1."""
    from scipy.special import hyp2f1

    if z == 0:
        return 0.0
    return float(z**a / a * hyp2f1(1.0, a, a + 1.0, z))


def switch_on_time(lam, depth, *, alpha, theta) -> float:
    """Continuous time T_theta for x(t) = w(t)^N, w' = w^(N-1)(lam - w^N), w(0) = alpha, to reach theta*lam.

    N = 2: T = ln( theta (lam - alpha^2) / ((1 - theta) alpha^2) ) / (2 lam).
    N >= 3: T = (alpha^(2-N) - w_theta^(2-N)) / ((N-2) lam) + lam^(2/N-2)/N [B(theta; 2/N, 0) - B(alpha^N/lam; 2/N, 0)].
    """
    n = _depth(depth)
    lam = _positive_lam(lam)
    th = _theta(theta)
    a = check_positive(alpha, "alpha")
    if a**n >= th * lam:
        raise InvalidArgument(f"alpha^N = {a**n:g} must be below the switch-on level theta*lam = {th * lam:g}")
    if n == 2:
        return math.log(th * (lam - a * a) / ((1.0 - th) * a * a)) / (2.0 * lam)
    wt = (th * lam) ** (1.0 / n)
    first = (a ** (2 - n) - wt ** (2 - n)) / ((n - 2) * lam)
    second = lam ** (2.0 / n - 2.0) / n * (_incomplete_beta0(th, 2.0 / n) - _incomplete_beta0(a**n / lam, 2.0 / n))
    return first + second


def switch_on_time_quadrature(lam, depth, *, alpha, theta) -> float:
    """The same T_theta by adaptive quadrature of int dx / (N x^(2-2/N) (lam - x)) in log x (independent check)."""
    from scipy.integrate import quad

    n = _depth(depth)
    lam = _positive_lam(lam)
    th = _theta(theta)
    a = check_positive(alpha, "alpha")

    def integrand(s):  # x = e^s, dx = x ds
        x = math.exp(s)
        return x / (n * x ** (2.0 - 2.0 / n) * (lam - x))

    val, _ = quad(integrand, n * math.log(a), math.log(th * lam), epsabs=0.0, epsrel=1e-12, limit=500)
    return float(val)


@dataclass(frozen=True)
class SwitchOnBounds:
    """lower <= K_theta < upper (iterations); T = continuous switch-on time; Lambda, S the correction terms."""

    lower: float
    upper: float
    T: float
    step: float
    Lambda: float
    S: float

    @property
    def first_possible(self) -> int:
        """Smallest integer iteration allowed by the lower bound (>= 1)."""
        return max(1, math.ceil(self.lower - 1e-12))

    @property
    def last_possible(self) -> int:
        """Largest integer iteration allowed by the strict upper bound."""
        return math.ceil(self.upper) - 1


def switch_on_bounds(lam, depth, *, alpha, step, theta) -> SwitchOnBounds:
    """Derived bounds on K_theta = min{k : w_k^N >= theta lam} (theory/chou.py: switch_on_bounds_derivation).

    Valid for every eta > 0 (the step-size condition is needed only for what happens after K_theta).
    """
    n = _depth(depth)
    lam = _positive_lam(lam)
    th = _theta(theta)
    a = check_positive(alpha, "alpha")
    eta = check_positive(step, "step")
    T = switch_on_time(lam, n, alpha=a, theta=th)
    wt = (th * lam) ** (1.0 / n)
    wr = ((n - 1) / (2 * n - 1) * lam) ** (1.0 / n)
    peak = min(max(wr, a), wt)

    def log_h(u):
        return (n - 1) * math.log(u) + math.log(lam - u**n)

    big_lambda = log_h(peak) - log_h(a)
    s = log_h(peak) - log_h(wt)
    lower = max(1.0, T / eta + 2.0 - 2.0 * math.exp(s))
    return SwitchOnBounds(lower, T / eta + 1.0 + big_lambda, T, eta, big_lambda, s)


# --------------------------------------------------------------------------------------------
# effective rank over a box, enclosures, intervals
# --------------------------------------------------------------------------------------------
def erank_rows(x: np.ndarray) -> np.ndarray:
    """Effective rank exp(H(x/sum x)) of every row of a non-negative array (0 ln 0 = 0).

    >>> erank_rows(np.array([[1.0, 1.0, 0.0], [2.0, 0.0, 0.0]]))
    array([2., 1.])
    """
    x = as_real_array(x, "x")
    if np.any(x < 0):
        raise InvalidArgument(f"x must be non-negative (singular values or eigenvalues >= 0), got min {float(x.min()):g}")
    return _erank_rows(x)


def _erank_rows(x: np.ndarray) -> np.ndarray:
    tot = x.sum(axis=-1, keepdims=True)
    p = np.divide(x, tot, out=np.zeros_like(x), where=tot > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return np.exp(-terms.sum(axis=-1))


def erank_box_bounds(lo, hi) -> tuple[float, float]:
    """Exact min and max of erank(x) over the box lo <= x <= hi (x >= 0, not all zero).

    min: x -> H(x / sum x) is quasi-concave on the orthant (its superlevel sets are cones over
    convex subsets of the simplex), so the minimum over the box sits at a vertex (enumerated).
    max: H is Schur-concave, and for a fixed sum the water-filled vector clip(c, lo, hi) is
    majorised by every box vector with that sum, so the maximum is max_c H(clip(c, lo, hi)).
    """
    lo, hi = as_vector(lo, "lo"), as_vector(hi, "hi")
    if hi.shape != lo.shape:
        raise ShapeError(f"lo and hi must have the same length, got {lo.size} and {hi.size}")
    if np.any(lo < 0) or np.any(lo > hi):
        raise InvalidArgument(f"lo and hi must satisfy 0 <= lo <= hi entrywise, got lo = {lo.tolist()}, hi = {hi.tolist()}")
    return _erank_box_bounds(lo, hi)


def _erank_box_bounds(lo: np.ndarray, hi: np.ndarray) -> tuple[float, float]:
    d = lo.size
    if d > 16:
        raise InvalidArgument(f"vertex enumeration limited to 16 eigenvalues, got {d}")
    free = np.flatnonzero(hi > lo)
    if free.size:
        bits = (np.arange(2**free.size)[:, None] >> np.arange(free.size)[None, :]) & 1
        verts = np.repeat(lo[None, :], bits.shape[0], axis=0)
        verts[:, free] = np.where(bits == 1, hi[free], lo[free])
        emin = float(_erank_rows(verts).min())
    else:
        emin = float(_erank_rows(lo[None, :])[0])
    knots = np.unique(np.concatenate([lo, hi]))
    knots = knots[knots > 0]
    if knots.size == 0:
        return emin, emin
    best = float(_erank_rows(np.clip(knots[:, None], lo, hi)).max())
    if knots.size > 1:
        # On [c0, c1] between consecutive knots the free coordinates equal c and the others are fixed
        # at f_i (lo_i or hi_i). With S_F = sum f_i, E_F = sum f_i ln f_i and S = S_F + m c,
        # dH/dc = m (E_F - S_F ln c) / S^2: H rises up to c* = exp(E_F / S_F) and falls after it,
        # so the segment's maximum is at clip(c*, c0, c1) (theory/chou.py: erank_box_max_derivation).
        c0, c1 = knots[:-1], knots[1:]
        mid = 0.5 * (c0 + c1)
        fixed = np.clip(mid[:, None], lo, hi)
        is_fixed = (mid[:, None] < lo) | (mid[:, None] > hi)
        f = np.where(is_fixed, fixed, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            flogf = np.where(f > 0, f * np.log(np.where(f > 0, f, 1.0)), 0.0)
        sf = f.sum(axis=1)
        cstar = np.where(sf > 0, np.exp(np.divide(flogf.sum(axis=1), sf, out=np.zeros_like(sf), where=sf > 0)), mid)
        cbest = np.clip(cstar, c0, c1)
        best = max(best, float(_erank_rows(np.clip(cbest[:, None], lo, hi)).max()))
    return emin, max(best, emin)


def _enclosure_levels(lam: float, x0: float, n_levels: int) -> np.ndarray:
    lower = np.geomspace(x0, 0.5 * lam, n_levels + 1)[1:] / lam
    upper = 1.0 - 0.5 * np.geomspace(1.0, 1e-6, n_levels)[1:]
    return np.unique(np.concatenate([lower, upper]))


def enclosure_breakpoints(lam, depth, *, alpha, step, n_levels: int = 40):
    """For one eigenvalue: levels theta_j and integers (first_j, last_j) with
    x_k < theta_j lam for k < first_j and x_k >= theta_j lam for k >= last_j (monotone regime)."""
    n, lam = _depth(depth), _positive_lam(lam)
    alpha, step = check_positive(alpha, "alpha"), check_positive(step, "step")
    n_levels = check_int(n_levels, "n_levels", low=1)
    x0 = alpha**n
    levels = _enclosure_levels(lam, x0, n_levels)
    levels = levels[levels * lam > x0 * (1 + 1e-9)]
    first, last = [], []
    for th in levels:
        b = switch_on_bounds(lam, n, alpha=alpha, step=step, theta=float(th))
        first.append(b.first_possible)
        last.append(b.last_possible)
    return levels, np.asarray(first), np.asarray(last)


@dataclass
class IntervalPrediction:
    """Predicted iteration intervals for |erank(W_k) - erank(A_r)| <= delta.

    ``inner`` = (a, b): for every a <= k <= b the bound is guaranteed (None if no such run);
    ``outer`` = (a, b): outside it (within the run that contains ``inner``) the bound cannot hold.
    ``breaks``/``emin``/``emax``: the piecewise-constant erank enclosure, segment i = [breaks[i], breaks[i+1]).
    """

    rank: int
    delta: float
    target_erank: float
    inner: tuple[int, int] | None
    outer: tuple[int, int] | None
    breaks: np.ndarray
    emin: np.ndarray
    emax: np.ndarray
    step_bound: float
    details: dict = field(default_factory=dict)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True as (first index, last index)."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    return list(zip(starts.tolist(), ends.tolist()))


def _check_spectrum(spectrum) -> np.ndarray:
    lam = np.atleast_1d(as_finite_array(spectrum, "spectrum")).astype(np.float64)
    if lam.ndim != 1 or lam.size < 1:
        raise ShapeError(f"spectrum must be a non-empty 1-D array, got shape {lam.shape}")
    if np.any(lam < 0):
        raise InvalidArgument(f"spectrum has negative entries {lam[lam < 0].tolist()}: from W_j(0) = alpha I those "
                              "are never switched on (and for even N unreachable); pass singular values (SVD path)")
    return np.sort(lam)[::-1]


def predict_erank_intervals(spectrum, depth, *, alpha, step, rank: int, delta: float = 0.05,
                            n_levels: int = 40, rank_tol: float | None = None) -> IntervalPrediction:
    """Predicted intervals where |erank(W_k) - erank(A_r)| <= delta, from the switch-on bounds of every eigenvalue.

    Each x_k^(i) is enclosed in [lo_i(k), hi_i(k)] using the bounds at ``n_levels`` levels per
    side (monotone regime: eta <= eta*; otherwise a :class:`StepSizeWarning`), and erank over the box
    is bounded exactly (:func:`erank_box_bounds`).
    """
    n = _depth(depth)
    lam = _check_spectrum(spectrum)
    a = check_positive(alpha, "alpha")
    dlt = check_positive(delta, "delta")
    n_levels = check_int(n_levels, "n_levels", low=1)
    rank_tol = check_real(rank_tol, "rank_tol", low=0.0, optional=True)
    if lam[0] <= 0:
        raise InvalidArgument("spectrum is identically zero: there is nothing to switch on")
    eta = check_step(step, lam[0], n)
    tol = (lam.size * np.finfo(float).eps * lam[0]) if rank_tol is None else float(rank_tol)
    numerical_rank = int(np.sum(lam > tol))
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank < 1:
        raise InvalidArgument(f"rank must be a positive integer, got {rank!r}")
    if rank > numerical_rank:
        raise InvalidArgument(f"target rank {rank} exceeds rank(A) = {numerical_rank} (eigenvalues above {tol:.3g})")
    x0 = a**n
    if x0 >= lam[rank - 1]:
        raise InvalidArgument(f"alpha^N = {x0:g} must be below lam_r = {lam[rank - 1]:g} (small initialisation)")
    target = float(_erank_rows(lam[None, :rank])[0])
    # per eigenvalue: piecewise-constant lo(k), hi(k)
    encl = []
    cuts = {0}
    for li in lam:
        if li <= x0 * (1 + 1e-9):
            encl.append(None)  # x_k in [0, x0]: non-increasing from alpha^N (lam <= alpha^N)
            continue
        levels, first, last = enclosure_breakpoints(li, n, alpha=a, step=eta, n_levels=n_levels)
        encl.append((li, levels, first, last))
        cuts.update(first.tolist())
        cuts.update(last.tolist())
    breaks = np.array(sorted(cuts), dtype=np.int64)
    emin = np.empty(breaks.size)
    emax = np.empty(breaks.size)
    for s, k in enumerate(breaks):
        lo = np.empty(lam.size)
        hi = np.empty(lam.size)
        for i, e in enumerate(encl):
            if e is None:
                lo[i], hi[i] = 0.0, x0
                continue
            li, levels, first, last = e
            reached = levels[last <= k]
            lo[i] = max(x0, li * reached.max()) if reached.size else x0
            below = levels[first > k]
            hi[i] = li * below.min() if below.size else li
        emin[s], emax[s] = _erank_box_bounds(lo, hi)
    ok_inner = (emin >= target - dlt) & (emax <= target + dlt)
    ok_outer = (emax >= target - dlt) & (emin <= target + dlt)
    ends = np.concatenate([breaks[1:] - 1, [np.iinfo(np.int64).max // 4]])
    inner = outer = None
    runs = _runs(ok_inner)
    if runs:
        i0, i1 = max(runs, key=lambda r: ends[r[1]] - breaks[r[0]])
        inner = (int(breaks[i0]), int(ends[i1]))
        for o0, o1 in _runs(ok_outer):
            if o0 <= i0 and i1 <= o1:
                outer = (int(breaks[o0]), int(ends[o1]))
    return IntervalPrediction(rank, dlt, target, inner, outer, breaks, emin, emax, convergence_step_bound(lam[0], n),
                              {"spectrum": lam.tolist(), "depth": n, "alpha": a, "step": eta, "n_levels": n_levels})


def measured_erank_interval(erank_values: np.ndarray, target: float, delta: float, inside: tuple[int, int] | None):
    """The maximal run of |erank_k - target| <= delta (k = row index) that overlaps ``inside`` (or the longest run).

    >>> measured_erank_interval(np.array([1.0, 1.5, 1.55, 2.0]), 1.5, 0.1, None)
    (1, 2)
    """
    values = as_vector(erank_values, "erank_values")
    target, delta = check_real(target, "target"), check_positive(delta, "delta")
    if inside is not None:
        if isinstance(inside, (str, bytes)) or not hasattr(inside, "__len__") or len(inside) != 2:
            raise InvalidArgument(f"inside must be None or a pair (first, last) of iterations, got {inside!r}")
        inside = (check_int(inside[0], "inside[0]"), check_int(inside[1], "inside[1]"))
    ok = np.abs(values - target) <= delta
    runs = _runs(ok)
    if not runs:
        return None
    if inside is not None:
        over = [r for r in runs if r[0] <= inside[1] and r[1] >= inside[0]]
        if over:
            return max(over, key=lambda r: r[1] - r[0])
    return max(runs, key=lambda r: r[1] - r[0])


# --------------------------------------------------------------------------------------------
# matrices: aligned initialisation and the early-stopping helper
# --------------------------------------------------------------------------------------------
def aligned_factors(a, depth, *, alpha, path: str = "auto") -> tuple[list[np.ndarray], np.ndarray, str]:
    """Initial factors whose GD decouples exactly, the spectrum the recursions see, and the path used.

    path="symmetric": A must be symmetric with eigenvalues >= 0 (raises otherwise); W_j(0) = alpha I.
    path="svd": A = U diag(s) V^T (any real square or rectangular A); W_N(0) = alpha U_r, W_1(0) = alpha V_r^T,
    W_j(0) = alpha I_r in between (r = min(d, d')), so W_k = U_r diag(w_k^N) V_r^T.
    path="auto": symmetric when A is symmetric PSD (to round-off), otherwise svd.
    """
    n = _depth(depth)
    m = as_matrix(a, "A")
    al = check_positive(alpha, "alpha")
    if path not in ("auto", "symmetric", "svd"):
        raise InvalidArgument(f"path must be 'auto', 'symmetric' or 'svd', got {path!r}")
    scale = max(1.0, float(np.max(np.abs(m)))) if m.size else 1.0
    symmetric = m.shape[0] == m.shape[1] and np.allclose(m, m.T, rtol=0, atol=1e-12 * scale)
    if path in ("auto", "symmetric") and symmetric:
        lam = np.linalg.eigvalsh(0.5 * (m + m.T))[::-1]
        psd = lam[-1] >= -1e-12 * scale
        if psd:
            return [al * np.eye(m.shape[0]) for _ in range(n)], np.clip(lam, 0.0, None), "symmetric"
        if path == "symmetric":
            raise InvalidArgument(f"A has negative eigenvalue {lam[-1]:.6g}: with W_j(0) = alpha I it is never "
                                  "switched on (w_k -> 0; for even N the product stays PSD); use path='svd'")
    elif path == "symmetric":
        asym = float(np.max(np.abs(m - m.T))) if m.shape[0] == m.shape[1] else float("inf")
        raise InvalidArgument(f"the symmetric path needs a symmetric A; got shape {m.shape}, max |A - A^T| = {asym:.3g}; "
                              "use path='svd'")
    u, s, vt = np.linalg.svd(m, full_matrices=False)
    r = s.size
    fs = [al * vt] + [al * np.eye(r) for _ in range(n - 2)] + [al * u]
    return fs, s, "svd"


@dataclass
class EarlyStoppingInterval:
    """Output of :func:`early_stopping_interval`: stop at an iteration in ``inner`` for an erank-r-like W_k."""

    rank: int
    target_erank: float
    inner: tuple[int, int] | None
    outer: tuple[int, int] | None
    spectrum: np.ndarray
    path: str
    step_bound: float
    prediction: IntervalPrediction


def early_stopping_interval(a=None, depth=3, *, alpha, step, rank: int, spectrum=None, delta: float = 0.05,
                            path: str = "auto", n_levels: int = 40) -> EarlyStoppingInterval:
    """Predicted iterations where erank(W_k) is within ``delta`` of erank(A_r), for GD from the aligned init.

    Pass the matrix ``a`` or its ``spectrum`` (eigenvalues >= 0 / singular values). Raises
    InvalidArgument for rank > rank(A), a non-symmetric A with path='symmetric', negative
    eigenvalues on the symmetric path; warns (StepSizeWarning) when step exceeds the convergence bound.
    """
    if (a is None) == (spectrum is None):
        raise InvalidArgument("pass exactly one of the matrix A and its spectrum")
    n = _depth(depth)
    check_option(path, "path", ("auto", "symmetric", "svd"))
    if a is not None:
        _, lam, used = aligned_factors(a, n, alpha=alpha, path=path)
    else:
        lam, used = _check_spectrum(spectrum), "spectrum"
    pred = predict_erank_intervals(lam, n, alpha=alpha, step=step, rank=rank, delta=delta, n_levels=n_levels)
    return EarlyStoppingInterval(rank, pred.target_erank, pred.inner, pred.outer, np.asarray(lam), used,
                                 pred.step_bound, pred)
