"""Assertions for users' own property tests about gradient dynamics (public API).

Three helpers, each returning a :class:`Check` (measured error, tolerance, how the tolerance was
derived) and raising :class:`DMFAssertionError` (an ``AssertionError``) when the error exceeds
the tolerance. The failure message shows the measured error, the tolerance, the seed and a
minimal reproducer.

* :func:`assert_flow_matches` -- a quantity along the gradient flow matches a formula. The
  tolerance is derived from the integrator's error estimate: the flow is solved twice (``rtol``
  and ``rtol * refine``); the difference of the quantity between the two runs estimates the
  integration error in that quantity, and tolerance = ``safety`` x that estimate + a float64
  floor (``64 eps`` x the quantity's scale).
* :func:`assert_conserved` -- an invariant is conserved along the flow (same tolerance rule).
* :func:`assert_gd_tracks_flow` -- gradient descent with step eta tracks the flow with
  first-order error: the observed order log2(e(eta)/e(eta/2)) at the smallest step is within a
  tolerance of 1, the tolerance being derived from the measured order sequence (for a
  first-order method the deviation from 1 halves with each halving, so
  tolerance = 2 |p_last - p_prev| + 0.02).

Quantities and formulas are callables of a :class:`FlowState` (time ``t``, ``factors``,
product ``W``, ``loss``, ``depth``, lazy ``gradient`` = grad l(W)), returning a float or an
array. Inputs are given either as ``trajectory=`` (a recipe from :mod:`dmf_verify.checks.strategies`) or as
``loss=, factors=, horizon=``.

Within pytest use the ``dmf`` fixture of the plugin (it fills in the seed and the test id);
standalone calls work as well.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

__all__ = [
    "Check",
    "DMFAssertionError",
    "FlowState",
    "assert_conserved",
    "assert_flow_matches",
    "assert_gd_tracks_flow",
]

EPS = float(np.finfo(float).eps)
MIN_RTOL = 3e-14  # DOP853 in scipy clamps rtol to 100 eps


class DMFAssertionError(AssertionError):
    """A dmf-verify assertion failed; carries the :class:`Check` as ``check``."""

    def __init__(self, message: str, check: "Check"):
        super().__init__(message)
        self.check = check


@dataclass
class Check:
    """Outcome of one assertion: ``passed`` iff ``error <= tolerance``."""

    name: str
    error: float
    tolerance: float
    tolerance_reason: str
    seed: int | None = None
    reproducer: str = ""
    details: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return math.isfinite(self.error) and self.error <= self.tolerance

    @property
    def ratio(self) -> float:
        """error / tolerance (<= 1 passes)."""
        if self.tolerance > 0:
            return self.error / self.tolerance
        return 0.0 if self.error == 0 else math.inf

    def message(self) -> str:
        lines = [f"dmf-verify: {self.name} FAILED",
                 f"  measured error : {self.error:.3e}",
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


def _finish(check: Check) -> Check:
    for rec in list(_RECORDERS):
        rec(check)
    if not check.passed:
        raise DMFAssertionError(check.message(), check)
    return check


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
    from dmf_verify.numerics.descent import gradient_descent
    from dmf_verify.errors import InvalidArgument
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
