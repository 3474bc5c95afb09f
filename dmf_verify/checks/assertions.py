"""Assertions for users' own tests about gradient dynamics (public API).

Every assertion returns a :class:`Check` (measured error, tolerance, the reason for the
tolerance) and raises :class:`DMFAssertionError` (an ``AssertionError``) when the error exceeds
the tolerance -- or is not a finite number: a NaN or infinite measurement never passes. The
failure message shows the measured error, the tolerance and its reason, the seed and a
reproducer (the pytest node to rerun, with ``--dmf-seed``).

Measured-error assertions for any quantity you compute (GD, flow, spectral, high precision):

* :func:`assert_close` -- ``measured`` matches ``expected`` within ``tol`` (absolute, or
  ``relative=True``; scalars, arrays, complex values, mpmath numbers and matrices, where
  ``digits=d`` asks for ``d`` correct significant digits).
* :func:`assert_rate` -- an empirical statement over random instances holds with a rate of at
  least ``at_least``, *proved* at ``confidence`` by the one-sided Clopper-Pearson bound
  (:class:`dmf_verify.checks.claim.Rate`).
* :func:`assert_order` -- errors decay like ``step**expected``: the least-squares slope of
  log(error) against log(step) is within ``tol`` of ``expected``.

Flow assertions whose tolerance is derived from the integrator's own error estimate:

* :func:`assert_flow_matches` -- a quantity along the gradient flow matches a formula. The
  flow is solved twice (``rtol`` and ``rtol * refine``); the difference of the quantity between
  the two runs estimates the integration error in that quantity, and tolerance = ``safety`` x
  that estimate + a float64 floor (``64 eps`` x the quantity's scale).
* :func:`assert_conserved` -- an invariant is conserved along the flow (same tolerance rule).
* :func:`assert_gd_tracks_flow` -- gradient descent with step eta tracks the flow with
  first-order error: the observed order log2(e(eta)/e(eta/2)) at the smallest step is within a
  tolerance of 1, the tolerance being derived from the measured order sequence (for a
  first-order method the deviation from 1 halves with each halving, so
  tolerance = 2 |p_last - p_prev| + 0.02).

Quantities and formulas of the flow assertions are callables of a :class:`FlowState` (time
``t``, ``factors``, product ``W``, ``loss``, ``depth``, lazy ``gradient`` = grad l(W)),
returning a float or an array. Inputs are given either as ``trajectory=`` (a recipe from
:mod:`dmf_verify.checks.strategies`) or as ``loss=, factors=, horizon=``.

Within pytest use the ``dmf`` fixture of the plugin (it fills in the seed, the reproducer and,
inside a ``dmf_claim`` test that declares ``tolerance=``, the claim's tolerance); standalone
calls work as well:

>>> check = assert_close(0.5 + 1e-4, 0.5, tol=1e-3, reason="illustration")
>>> round(check.error, 9), check.tolerance
(0.0001, 0.001)
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

__all__ = [
    "Check",
    "DMFAssertionError",
    "FlowState",
    "assert_close",
    "assert_conserved",
    "assert_flow_matches",
    "assert_gd_tracks_flow",
    "assert_order",
    "assert_rate",
    "collecting",
]

EPS = float(np.finfo(float).eps)
MIN_RTOL = 3e-14  # DOP853 in scipy clamps rtol to 100 eps


class DMFAssertionError(AssertionError):
    """A dmf-verify assertion failed; carries the :class:`Check` as ``check``."""

    def __init__(self, message: str, check: Check):
        super().__init__(message)
        self.check = check


@dataclass
class Check:
    """Outcome of one assertion: ``passed`` iff ``error`` is finite and ``<= tolerance``.

    ``rate`` is set by :func:`assert_rate`: its error then depends on the role of the
    measurement (:meth:`error_as`): 1 - the lower confidence bound for a verified statement,
    1 - the upper bound for a negative control.
    """

    name: str
    error: float
    tolerance: float
    tolerance_reason: str
    seed: int | None = None
    reproducer: str = ""
    details: dict = field(default_factory=dict)
    rate: object | None = None  # a dmf_verify.checks.claim.Rate for assert_rate

    @property
    def passed(self) -> bool:
        return math.isfinite(self.error) and self.error <= self.tolerance

    def error_as(self, role: str = "verify") -> float:
        """The error in ``role`` ("verify" or "control"); differs from ``error`` only for rates."""
        if self.rate is not None:
            return float(self.rate.resolve(role))
        return float(self.error)

    @property
    def ratio(self) -> float:
        """error / tolerance (<= 1 passes; NaN for a NaN error)."""
        if math.isnan(self.error):
            return math.nan
        if self.tolerance > 0:
            return self.error / self.tolerance
        return 0.0 if self.error == 0 else math.inf

    def message(self) -> str:
        bad = "" if math.isfinite(self.error) else "  (not a finite number: a broken measurement never passes)"
        lines = [f"dmf-verify: {self.name} FAILED",
                 f"  measured error : {self.error:.3e}{bad}",
                 f"  tolerance      : {self.tolerance:.3e}  ({self.tolerance_reason})",
                 f"  seed           : {self.seed if self.seed is not None else '-'}"]
        for k, v in self.details.items():
            lines.append(f"  {k:15s}: {v}")
        if self.reproducer:
            lines.append("  reproduce with :")
            lines += ["      " + ln for ln in self.reproducer.splitlines()]
        return "\n".join(lines)


@dataclass
class FlowState:
    """The state of a flow at time ``t``: factors, product W, loss; ``gradient`` is lazy."""

    t: float
    factors: list[np.ndarray]
    W: np.ndarray
    loss: object

    @property
    def depth(self) -> int:
        return len(self.factors)

    @cached_property
    def gradient(self) -> np.ndarray:
        return self.loss.gradient(self.W)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
_RECORDERS: list[Callable[[Check], None]] = []
_COLLECTING = [0]


@contextlib.contextmanager
def collecting():
    """Within this block failed assertions are recorded but do not raise.

    Used when a test runs as a claim: the claim needs every measured error (also those of a
    negative control, which is expected to fail), not the first failure.
    """
    _COLLECTING[0] += 1
    try:
        yield
    finally:
        _COLLECTING[0] -= 1


def _finish(check: Check) -> Check:
    if not check.reproducer.startswith("pytest "):
        line = _pytest_reproducer(check.seed)
        check.reproducer = line + ("\n" + check.reproducer if check.reproducer and line else check.reproducer)
    for rec in list(_RECORDERS):
        rec(check)
    if not check.passed and not _COLLECTING[0]:
        raise DMFAssertionError(check.message(), check)
    return check


def _pytest_reproducer(seed) -> str:
    """``pytest 'NODE'`` for the running test (from $PYTEST_CURRENT_TEST), else ''."""
    node = os.environ.get("PYTEST_CURRENT_TEST", "")
    if not node:
        return ""
    node = node.rsplit(" (", 1)[0]
    return f"pytest '{node}'" + (f" --dmf-seed {seed}" if seed is not None else "")


def _check_reason(reason, what: str = "tol") -> str:
    from dmf_verify.errors import InvalidArgument

    if not isinstance(reason, str) or not reason.strip():
        raise InvalidArgument(f"reason= must say where {what} comes from (a measured figure, a precision, a "
                              f"step size), got {reason!r}")
    return reason.strip()


def _check_tol(tol, name: str = "tol") -> float:
    from dmf_verify.errors import InvalidArgument

    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating, np.integer)):
        raise InvalidArgument(f"{name} must be a finite number >= 0, got {tol!r}")
    t = float(tol)
    if not math.isfinite(t) or t < 0:
        raise InvalidArgument(f"{name} must be a finite number >= 0, got {t!r}")
    return t


def _inputs(trajectory, loss, factors, horizon):
    if trajectory is not None:
        return trajectory.loss, trajectory.factors, float(trajectory.horizon)
    from dmf_verify.errors import InvalidArgument

    if loss is None or factors is None or horizon is None:
        raise InvalidArgument("pass trajectory=, or all of loss=, factors= and horizon=")
    from dmf_verify.numerics.validation import check_factors, check_positive

    return loss, check_factors(factors), check_positive(horizon, "horizon")


def _array_literal(a: np.ndarray) -> str:
    return "np.array(" + np.array2string(np.asarray(a), separator=", ", precision=17,
                                         floatmode="unique", threshold=10**6).replace("\n", "") + ")"


def _default_reproducer(kind: str, trajectory, loss, factors, horizon, extra: str = "") -> str:
    if trajectory is not None and hasattr(trajectory, "reproducer"):
        return trajectory.reproducer() + (f"\n# then: {kind}(..., trajectory=instance{extra})")
    fs = [np.asarray(f) for f in factors]
    if sum(f.size for f in fs) <= 64:
        lines = ["import numpy as np", "factors = [" + ", ".join(_array_literal(f) for f in fs) + "]"]
    else:
        lines = [f"# factors with shapes {[f.shape for f in fs]} (too large to print)"]
    lines.append(f"# loss = {type(loss).__name__} on shape {getattr(loss, 'shape', '?')}, horizon = {horizon!r}")
    lines.append(f"# then: {kind}(..., loss=loss, factors=factors, horizon={horizon!r}{extra})")
    return "\n".join(lines)


def _run_flow(loss, factors, times, rtol, atol):
    from dmf_verify.numerics.flow import integrate_factor_flow

    sol = integrate_factor_flow(loss, factors, times, rtol=rtol, atol=atol)
    return [FlowState(float(t), fs, w, loss) for t, fs, w in zip(sol.t, sol.factors, sol.products)]


def _as_vec(x) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float)).ravel()


# --------------------------------------------------------------------------------------------
# the assertions
# --------------------------------------------------------------------------------------------
def assert_flow_matches(quantity: Callable[[FlowState], object], formula: Callable[[FlowState], object], *,
                        trajectory=None, loss=None, factors: Sequence[np.ndarray] | None = None,
                        horizon: float | None = None, n_times: int = 5, rtol: float = 1e-10,
                        atol: float = 1e-12, refine: float = 1e-3, safety: float = 10.0,
                        seed: int | None = None, reproducer: str | None = None,
                        name: str = "quantity along the flow matches the formula") -> Check:
    """Assert max_t |quantity(state(t)) - formula(state(t))| <= tolerance along the flow.

    The flow dW_j/dt = -dphi/dW_j is integrated (DOP853) at ``rtol`` and at
    ``max(rtol * refine, 3e-14)`` (scipy's floor; keep ``rtol >= 1e-11`` for a meaningful estimate);
    the quantity is compared with the formula on the refined run. The integrator's error
    estimate for the quantity is max_t |quantity(coarse) - quantity(refined)| (the coarse run's
    global error, which the refined run's is ~1/refine times smaller than), and

        tolerance = safety * estimate + 64 eps * (1 + max_t |quantity|).

    The error is absolute (max over times and over the entries of the quantity).
    """
    loss, fs, T = _inputs(trajectory, loss, factors, horizon)
    times = np.linspace(0.0, T, int(n_times))
    coarse = _run_flow(loss, fs, times, rtol, atol)
    fine = _run_flow(loss, fs, times, max(rtol * refine, MIN_RTOL), atol * refine)
    err, est, scale, worst_t = 0.0, 0.0, 0.0, 0.0
    for c, f in zip(coarse, fine):
        qf = _as_vec(quantity(f))
        qc = _as_vec(quantity(c))
        expected = _as_vec(formula(f))
        if expected.shape != qf.shape and expected.size != 1:
            from dmf_verify.errors import ShapeError

            raise ShapeError(f"formula returned shape {expected.shape} but the quantity has shape {qf.shape}")
        e = float(np.max(np.abs(qf - expected)))
        if not math.isfinite(e):
            e = math.inf
        if e > err or not math.isfinite(e):
            err, worst_t = e, f.t
        est = max(est, float(np.max(np.abs(qc - qf))))
        scale = max(scale, float(np.max(np.abs(qf))))
    floor = 64 * EPS * (1.0 + scale)
    tol = safety * est + floor
    rep = reproducer if reproducer is not None else _default_reproducer(
        "assert_flow_matches", trajectory, loss, fs, T)
    return _finish(Check(name, err, tol,
                         f"{safety:g} x integrator error estimate {est:.2e} "
                         f"(rtol {rtol:g} vs {max(rtol * refine, MIN_RTOL):g}) "
                         f"+ float64 floor {floor:.1e}", seed, rep,
                         {"worst time": f"t = {worst_t:g} of [0, {T:g}]", "times": int(n_times)}))


def assert_conserved(invariant: Callable[[FlowState], object], *, trajectory=None, loss=None,
                     factors: Sequence[np.ndarray] | None = None, horizon: float | None = None,
                     n_times: int = 5, rtol: float = 1e-10, atol: float = 1e-12, refine: float = 1e-3,
                     safety: float = 10.0, seed: int | None = None, reproducer: str | None = None) -> Check:
    """Assert that ``invariant(state)`` stays equal to its initial value along the flow.

    Same tolerance rule as :func:`assert_flow_matches` (the formula is the initial value).
    """
    loss_, fs, T = _inputs(trajectory, loss, factors, horizon)
    start = _as_vec(invariant(FlowState(0.0, [f.copy() for f in fs], _product(fs), loss_)))
    rep = reproducer if reproducer is not None else _default_reproducer(
        "assert_conserved", trajectory, loss_, fs, T)
    return assert_flow_matches(invariant, lambda _s: start, loss=loss_, factors=fs, horizon=T, n_times=n_times,
                               rtol=rtol, atol=atol, refine=refine, safety=safety, seed=seed, reproducer=rep,
                               name="invariant is conserved along the flow")


def _product(fs):
    from dmf_verify.numerics.model import product

    return product(fs)


def assert_gd_tracks_flow(*, trajectory=None, loss=None, factors: Sequence[np.ndarray] | None = None,
                          horizon: float | None = None, steps: Sequence[int] = (50, 100, 200, 400),
                          order: float = 1.0, floor: float = 0.02, seed: int | None = None,
                          reproducer: str | None = None) -> Check:
    """Assert that GD with eta = horizon/k tracks the flow at time ``horizon`` with order ``order``.

    For each k in ``steps`` (each doubling the previous), e(eta) = ||W_GD(k steps) - W_flow(T)||_F
    with the flow solved by DOP853 at rtol=1e-12. The observed orders are
    p_i = log2(e_i / e_(i+1)); the error is |p_last - order| and the tolerance
    2 |p_last - p_prev| + ``floor``: for e = C1 eta + C2 eta^2 + ..., p_i - 1 is proportional
    to eta_i, so p_last - 1 ~ p_prev - p_last. The flow reference's own error estimate (rtol
    1e-12 vs 1e-9) must be below 1% of the smallest GD error, else the check fails as
    unresolved.
    """
    from dmf_verify.errors import InvalidArgument
    from dmf_verify.numerics.descent import gradient_descent
    from dmf_verify.numerics.flow import integrate_factor_flow

    loss_, fs, T = _inputs(trajectory, loss, factors, horizon)
    ks = [int(k) for k in steps]
    if len(ks) < 3 or any(b != 2 * a for a, b in zip(ks, ks[1:])):
        raise InvalidArgument(f"steps must hold >= 3 step counts, each twice the previous, got {list(steps)}")
    ref = integrate_factor_flow(loss_, fs, [0.0, T], rtol=1e-12, atol=1e-14).products[-1]
    rough = integrate_factor_flow(loss_, fs, [0.0, T], rtol=1e-9, atol=1e-11).products[-1]
    ref_err = float(np.linalg.norm(ref - rough))
    errs = [float(np.linalg.norm(gradient_descent(loss_, fs, step=T / k, steps=k).product - ref)) for k in ks]
    rep = reproducer if reproducer is not None else _default_reproducer(
        "assert_gd_tracks_flow", trajectory, loss_, fs, T, f", steps={tuple(ks)}")
    details = {"steps": ks, "errors": [f"{e:.3e}" for e in errs]}
    if min(errs) <= 100 * ref_err or min(errs) == 0:
        return _finish(Check("GD tracks the flow (unresolved: GD error not above the flow reference's)",
                             math.inf, 0.0, f"flow reference error estimate {ref_err:.1e}", seed, rep, details))
    p = [math.log2(errs[i] / errs[i + 1]) for i in range(len(errs) - 1)]
    details["observed orders"] = [round(x, 4) for x in p]
    tol = 2 * abs(p[-1] - p[-2]) + floor
    return _finish(Check(f"GD tracks the flow with order {order:g}", abs(p[-1] - order), tol,
                         f"2 x |p_last - p_prev| = {2 * abs(p[-1] - p[-2]):.2e} + floor {floor:g}",
                         seed, rep, details))


# --------------------------------------------------------------------------------------------
# measured-error assertions for any computed quantity
# --------------------------------------------------------------------------------------------
def _is_mp(x) -> bool:
    mod = type(x).__module__ or ""
    return mod.startswith("mpmath")


def _flatten(x) -> tuple[list, tuple]:
    """(flat list of scalars, shape) for numbers, sequences, numpy arrays, torch tensors, mpmath matrices."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor
        x = x.detach().cpu().numpy()
    if _is_mp(x) and hasattr(x, "rows") and hasattr(x, "cols"):  # mpmath.matrix
        return [x[i, j] for i in range(x.rows) for j in range(x.cols)], (x.rows, x.cols)
    if _is_mp(x):
        return [x], ()
    a = np.asarray(x, dtype=object if _has_mp(x) else None)
    return list(a.ravel()), a.shape


def _has_mp(x) -> bool:
    if isinstance(x, (list, tuple)):
        return any(_has_mp(v) for v in x)
    if isinstance(x, np.ndarray):
        return x.dtype == object and any(_is_mp(v) for v in x.ravel())
    return _is_mp(x)


def _describe(v) -> str:
    if _is_mp(v):
        import mpmath

        return mpmath.nstr(v, 20)
    try:
        return repr(complex(v)) if isinstance(v, complex) or np.iscomplexobj(v) else repr(float(v))
    except (TypeError, ValueError):
        return repr(v)


def _discrepancy(measured, expected, *, relative: bool, norm: str) -> tuple[float, dict]:
    """(error, details): max (or Frobenius) norm of measured - expected, optionally relative."""
    from dmf_verify.errors import InvalidArgument, ShapeError

    m, mshape = _flatten(measured)
    e, eshape = _flatten(expected)
    if len(m) == 0:
        raise InvalidArgument("measured is empty: nothing was measured")
    if len(e) == 1 and len(m) > 1:
        e = e * len(m)
    elif len(e) != len(m):
        raise ShapeError(f"expected has shape {tuple(eshape)} but measured has shape {tuple(mshape)}")
    if any(_is_mp(v) for v in m + e):
        import mpmath

        bits = [mpmath.mpmathify(v) for v in m + e]
        prec = max([mpmath.mp.prec] + [_mp_bits(v) for v in bits]) + 16
        with mpmath.mp.workprec(prec):
            mm = [mpmath.mpmathify(v) for v in m]
            ee = [mpmath.mpmathify(v) for v in e]
            if any(mpmath.isnan(v) for v in mm + ee):
                return math.nan, {"measured": "contains NaN"}
            diffs = [abs(a - b) for a, b in zip(mm, ee)]
            i = max(range(len(diffs)), key=lambda k: diffs[k])
            num = diffs[i] if norm == "max" else mpmath.sqrt(mpmath.fsum(d**2 for d in diffs))
            if relative:
                scale = max(abs(v) for v in ee) if norm == "max" else mpmath.sqrt(mpmath.fsum(abs(v)**2 for v in ee))
                if scale == 0:
                    raise InvalidArgument("relative=True (or digits=) with an expected value of 0: the relative "
                                          "error is undefined; give an absolute tol")
                num = num / scale
            err = float(num)
        worst = (i, mm[i], ee[i])
    else:
        mm = np.asarray(m)
        ee = np.asarray(e)
        try:
            mm = mm.astype(complex if np.iscomplexobj(mm) or np.iscomplexobj(ee) else float)
            ee = ee.astype(mm.dtype)
        except (TypeError, ValueError):
            raise InvalidArgument(f"measured and expected must be numbers, got {type(m[0]).__name__} and "
                                  f"{type(e[0]).__name__}") from None
        if np.isnan(mm).any() or np.isnan(ee).any():
            return math.nan, {"measured": "contains NaN" if np.isnan(mm).any() else "finite",
                              "expected": "contains NaN" if np.isnan(ee).any() else "finite"}
        diffs = np.abs(mm - ee)
        i = int(np.argmax(diffs))
        num = float(diffs[i]) if norm == "max" else float(np.linalg.norm(diffs))
        if relative:
            scale = float(np.max(np.abs(ee))) if norm == "max" else float(np.linalg.norm(ee))
            if scale == 0:
                raise InvalidArgument("relative=True (or digits=) with an expected value of 0: the relative error "
                                      "is undefined; give an absolute tol")
            num = num / scale
        err = num if math.isfinite(num) else math.inf
        worst = (i, mm[i], ee[i])
    details = {}
    if len(m) == 1:
        details = {"measured": _describe(worst[1]), "expected": _describe(worst[2])}
    else:
        idx = np.unravel_index(worst[0], mshape) if mshape else (worst[0],)
        details = {"worst entry": f"{tuple(int(k) for k in idx)}: measured {_describe(worst[1])}, "
                                  f"expected {_describe(worst[2])}",
                   "entries": len(m)}
    return err, details


def _mp_bits(v) -> int:
    if hasattr(v, "_mpf_"):
        return int(v._mpf_[3])
    if hasattr(v, "_mpc_"):
        return max(int(v._mpc_[0][3]), int(v._mpc_[1][3]))
    return 53


def assert_close(measured, expected, *, tol: float | None = None, reason: str | None = None,
                 digits: float | None = None, relative: bool = False, norm: str = "max",
                 name: str | None = None, seed: int | None = None, reproducer: str | None = None) -> Check:
    """Assert that a measured quantity matches its expected value: error = ||measured - expected||.

    ``measured`` / ``expected``: numbers (real or complex; an imaginary part is never dropped),
    sequences, numpy arrays, torch tensors, mpmath numbers or matrices (a scalar ``expected``
    broadcasts). The error is the max-norm (``norm="max"``) or the Frobenius norm
    (``norm="fro"``) of the entrywise difference, divided by the same norm of ``expected`` when
    ``relative=True``. mpmath values are compared at their own precision (the difference is
    taken with enough bits for the operands), so ``digits=30`` -- shorthand for
    ``relative=True, tol=1e-30`` -- checks 30 significant digits of a high-precision result.

    ``reason`` says where ``tol`` comes from (a measured figure, a precision, a step size); it
    is required. A NaN anywhere, or an infinite difference, fails: a broken measurement is
    never a pass.

    >>> import mpmath
    >>> with mpmath.workdps(40):
    ...     c = assert_close(mpmath.sqrt(2), mpmath.mpf("1.414213562373095048801688724209698078570"),
    ...                      digits=35, reason="40-digit evaluation")
    >>> c.error < 1e-38
    True
    """
    from dmf_verify.errors import InvalidArgument

    if norm not in ("max", "fro"):
        raise InvalidArgument(f"norm must be 'max' or 'fro', got {norm!r}")
    if digits is not None:
        if tol is not None:
            raise InvalidArgument("give tol= or digits=, not both")
        d = _check_tol(digits, "digits")
        tol, relative = 10.0 ** (-d), True
        if reason is None:
            reason = f"{d:g} significant digits requested"
    if tol is None:
        raise InvalidArgument("assert_close needs tol= (or digits=); inside a dmf_claim test that declares "
                              "tolerance=, dmf.close uses the claim's tolerance")
    t = _check_tol(tol)
    why = _check_reason(reason)
    err, details = _discrepancy(measured, expected, relative=bool(relative), norm=norm)
    kind = ("relative " if relative else "") + ("max-norm" if norm == "max" else "Frobenius")
    details = {"compared": f"{kind} difference", **details}
    return _finish(Check(name or "measured value matches the expected value", err, t, why, seed,
                         reproducer or "", details))


def assert_rate(outcomes, *, at_least: float, confidence: float = 0.95, reason: str | None = None,
                name: str | None = None, seed: int | None = None, reproducer: str | None = None) -> Check:
    """Assert an empirical statement: it holds on a fraction >= ``at_least`` of random instances.

    ``outcomes`` maps instance names to whether the statement held (or is a sequence of
    booleans, named ``case0, case1, ...``). The data must *prove* the rate: with the one-sided
    Clopper-Pearson bound ``lo`` at ``confidence``, error = 1 - lo and tolerance = 1 - at_least
    (a :class:`dmf_verify.checks.claim.Rate`). So 20 successes out of 20 prove a rate of 0.86 at
    95% (0.05**(1/20)) but not 0.9; the failure message says how many trials would. Inside a
    claim's negative control the error is 1 - (upper bound): the control is rejected only
    when its rate is proved below ``at_least``.

    >>> round(assert_rate([True] * 20, at_least=0.8).error, 4)   # 1 - 0.05**(1/20)
    0.1391
    """
    from dmf_verify.checks.claim import Rate
    from dmf_verify.errors import InvalidArgument

    if isinstance(outcomes, Mapping):
        items = {str(k): v for k, v in outcomes.items()}
    else:
        try:
            items = {f"case{i}": v for i, v in enumerate(outcomes)}
        except TypeError:
            raise InvalidArgument(f"outcomes must be a mapping or a sequence of booleans, got "
                                  f"{type(outcomes).__name__}") from None
    for k, v in items.items():
        if not isinstance(v, (bool, np.bool_)):
            raise InvalidArgument(f"outcome {k!r} must be True or False, got {v!r}")
    items = {k: bool(v) for k, v in items.items()}
    a = _check_tol(at_least, "at_least")
    r = Rate(outcomes=items, claimed_rate=a, confidence=float(confidence))
    s = r.summary()
    need = math.ceil(math.log(1.0 - r.confidence) / math.log(a))
    why = reason.strip() if isinstance(reason, str) and reason.strip() else \
        f"claimed rate {a:g}, proved at {r.confidence:g} confidence (one-sided Clopper-Pearson)"
    details = {"held": f"{s['successes']}/{s['trials']} (rate {s['rate']:.3f})",
               "bounds": f"{r.confidence:g} one-sided: lower {s['lower_bound']:.4f}, upper {s['upper_bound']:.4f}",
               "failed": ", ".join(s["failed_instances"][:10]) + (" ..." if len(s["failed_instances"]) > 10 else "")
               or "none",
               "trials needed": f"{need} without a failure prove {a:g}"}
    return _finish(Check(name or f"statement holds on at least {a:g} of the instances", r.resolve("verify"),
                         1.0 - a, why, seed, reproducer or "", details, rate=r))


def assert_order(steps, errors, *, expected: float, tol: float | None = None, reason: str | None = None,
                 name: str | None = None, seed: int | None = None, reproducer: str | None = None) -> Check:
    """Assert an order of convergence: errors ~ C * steps**expected.

    ``steps`` are step sizes (eta, h, 1/n: any positive, distinct values), ``errors`` the
    measured errors at those steps (>= 2 points; 3 or more to see the trend). The fitted order
    is the least-squares slope of log(error) against log(step); error = |slope - expected|,
    tolerance ``tol`` (``reason`` says where it comes from -- e.g. the size of the next term of
    the error expansion at the steps used). The pairwise orders are reported too. A NaN,
    infinite or zero error fails (a zero error is below resolution: the order is undefined).

    >>> h = [0.1, 0.05, 0.025]
    >>> assert_order(h, [3 * x**2 for x in h], expected=2, tol=1e-9, reason="exact power").error < 1e-12
    True
    """
    from dmf_verify.errors import InvalidArgument

    hs = [float(h) for h in np.asarray(steps, dtype=float).ravel()]
    es_raw = list(np.asarray(errors, dtype=float).ravel())
    if len(hs) != len(es_raw):
        raise InvalidArgument(f"steps and errors must have the same length, got {len(hs)} and {len(es_raw)}")
    if len(hs) < 2:
        raise InvalidArgument(f"an order needs at least 2 (step, error) points, got {len(hs)}")
    for h in hs:
        if not math.isfinite(h) or h <= 0:
            raise InvalidArgument(f"steps must be finite and > 0, got {h!r}")
    if len(set(hs)) != len(hs):
        raise InvalidArgument(f"steps must be distinct, got {hs}")
    for e in es_raw:
        if e < 0:
            raise InvalidArgument(f"errors must be >= 0 (they are norms), got {e!r}")
    expected = float(expected)
    if tol is None:
        raise InvalidArgument("assert_order needs tol=; inside a dmf_claim test that declares tolerance=, "
                              "dmf.order uses the claim's tolerance")
    t = _check_tol(tol)
    why = _check_reason(reason)
    details = {"points": ", ".join(f"({h:.3g}, {e:.3e})" for h, e in zip(hs, es_raw))}
    es = [float(e) for e in es_raw]
    if not all(math.isfinite(e) and e > 0 for e in es):
        details["problem"] = "an error is NaN, infinite or 0 (below resolution): the order is undefined"
        slope = math.nan
    else:
        lh, le = np.log(hs), np.log(es)
        slope = float(np.polyfit(lh, le, 1)[0])
        details["fitted order"] = f"{slope:.4f}"
        details["pairwise orders"] = ", ".join(f"{(le[i] - le[i + 1]) / (lh[i] - lh[i + 1]):.4f}"
                                               for i in range(len(hs) - 1))
    err = abs(slope - expected) if math.isfinite(slope) else math.nan
    return _finish(Check(name or f"errors converge with order {expected:g}", err, t, why, seed,
                         reproducer or "", details))
