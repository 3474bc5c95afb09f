"""float64 ODE integration with scipy's explicit Runge-Kutta solvers (DOP853 by default).

:func:`solve` is the project's one float64 entry point for ``y' = rhs(t, y)``: it drives a scipy
``OdeSolver`` step by step, stores the state only at the requested times (dense output between
steps, never every step) and returns a :class:`~dmf_verify.numerics.integrators.Solution` whose
``status`` says how the run ended:

* ``SUCCESSFUL`` -- every requested time reached;
* ``EVENT`` -- the terminal event ``||y|| = max_norm`` was hit (``t_final`` is the event time,
  located on the dense output to ~1e-14 relative, ``y_final`` the state there);
* ``BLOWUP`` -- ``||y||`` passed ``blowup_norm``, or the solver failed (step-size collapse or a
  non-finite value) after the state had grown by more than ``BLOWUP_GROWTH`` over ``||y(t0)||``:
  a finite-time blow-up;
* ``NONFINITE`` -- the right-hand side returned NaN/inf at a state that had not blown up (a
  bad parameter such as a NaN rate, a domain error);
* ``STEP_UNDERFLOW`` -- scipy could not find a step size above the floating-point spacing;

(For the explicit Runge-Kutta methods a trial stage that hits NaN/inf is retried with a shorter
step, which walks the solver up to the onset; for Radau, BDF and LSODA it stops at once.)
* ``MAX_STEPS`` / ``TIME_LIMIT`` -- a budget ran out.

For every failure ``t_final`` is the last time the solver reached (never the last requested time),
and with ``throw=True`` (the default) :meth:`Solution.raise_for_status` raises the matching error
(:class:`~dmf_verify.errors.BlowUpError`, :class:`~dmf_verify.errors.NonFiniteDerivativeError`,
:class:`~dmf_verify.errors.IntegrationError`) carrying that time.

All options are validated first (finite, in range), so a NaN option can never reach scipy's step
control -- where a NaN first step loops forever.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from dmf_verify.errors import InvalidArgument, ShapeError
from dmf_verify.numerics.integrators._solution import Solution, Status
from dmf_verify.numerics.validation import (
    _show,
    as_real_array,
    check_bool,
    check_callable,
    check_int,
    check_option,
    check_real,
    check_tolerance,
)

#: A solver failure after ||y|| grew by this factor over ||y(t0)|| (or over 1 when ||y(t0)|| < 1)
#: is classified as a blow-up.
BLOWUP_GROWTH = 1e6

METHODS = ("DOP853", "RK45", "RK23", "Radau", "BDF", "LSODA")


class _NonFiniteRHS(Exception):
    def __init__(self, t, f):
        super().__init__()
        self.t = t
        self.f = f


def check_times(t_eval, t0: float = 0.0, name: str = "t_eval") -> np.ndarray:
    """Requested output times: a real scalar or 1-D array, finite, strictly increasing, >= t0."""
    t = as_real_array(t_eval, name, ndim=(0, 1)).reshape(-1)
    if t[0] < t0:
        raise InvalidArgument(f"{name} must start at or after t0 = {t0:g}, got {t[0]:g}")
    if np.any(np.diff(t) <= 0):
        raise InvalidArgument(f"{name} must be strictly increasing, got {_show(t)}")
    return t


def _method_class(method: str):
    import scipy.integrate as si

    return getattr(si, check_option(method, "method", METHODS))


def solve(rhs: Callable[[float, np.ndarray], np.ndarray], y0, t_eval, *, t0: float = 0.0,
          method: str = "DOP853", rtol: float = 1e-10, atol: float = 1e-12, max_norm: float | None = None,
          blowup_norm: float | None = None, max_steps: int | None = None, time_limit: float | None = None,
          first_step: float | None = None, throw: bool = True) -> Solution:
    """Integrate ``y' = rhs(t, y)`` from ``t0`` and return the states at the times ``t_eval``.

    ``rhs(t, y)`` takes a float and a float64 vector and returns a vector of the same length.
    ``max_norm``: terminal event when ``||y||_2`` reaches it from below (status ``EVENT``).
    ``blowup_norm``: status ``BLOWUP`` as soon as ``||y||_2`` exceeds it. ``max_steps``,
    ``time_limit`` (seconds of wall clock): budgets. ``throw=False`` returns failures as a
    :class:`Solution` instead of raising.

    >>> sol = solve(lambda t, y: -y, [1.0], [0.0, 1.0], rtol=1e-12, atol=1e-14)
    >>> sol.status, round(float(sol.y[-1, 0]), 12)
    (<Status.SUCCESSFUL: 'successful'>, 0.367879441171)
    >>> solve(lambda t, y: y * y, [1.0], [2.0], throw=False).status   # y = 1/(1 - t)
    <Status.BLOWUP: 'blowup'>
    """
    check_callable(rhs, "rhs")
    cls = _method_class(method)
    rtol = check_tolerance(rtol, "rtol")
    atol = check_tolerance(atol, "atol")
    t0 = check_real(t0, "t0")
    ts = check_times(t_eval, t0)
    max_norm = check_real(max_norm, "max_norm", low=0.0, low_open=True, optional=True)
    blowup_norm = check_real(blowup_norm, "blowup_norm", low=0.0, low_open=True, optional=True)
    max_steps = check_int(max_steps, "max_steps", low=1, optional=True)
    time_limit = check_real(time_limit, "time_limit", low=0.0, low_open=True, optional=True)
    first_step = check_real(first_step, "first_step", low=0.0, low_open=True, optional=True)
    throw = check_bool(throw, "throw")
    y0 = np.array(as_real_array(y0, "y0", ndim=(0, 1)), dtype=np.float64).reshape(-1)

    n = y0.size
    nfev = 0

    def fun(t, y):
        nonlocal nfev
        nfev += 1
        f = np.asarray(rhs(t, y), dtype=np.float64).reshape(-1)
        if f.size != n:
            raise ShapeError(f"rhs returned {f.size} values for a system of size {n}")
        if not np.all(np.isfinite(f)):
            raise _NonFiniteRHS(t, f)
        return f

    out_t: list[float] = []
    out_y: list[np.ndarray] = []
    norm0 = float(np.linalg.norm(y0))
    settings = {"method": method, "rtol": rtol, "atol": atol}
    start = time.monotonic()
    state = {"t": t0, "y": y0, "steps": 0, "rejected": 0}

    def finish(status: Status, message: str = "", t_final=None, y_final=None) -> Solution:
        sol = Solution(status, np.array(out_t), np.array(out_y).reshape(len(out_t), n),
                       state["t"] if t_final is None else t_final, stats={"nfev": nfev, "steps": state["steps"],
                                                                          "rejected_nonfinite": state["rejected"]},
                       message=message, y_final=state["y"].copy() if y_final is None else y_final, **settings)
        return sol.raise_for_status() if throw else sol

    def failure(kind: str, detail: str) -> Solution:
        """Classify a solver failure at the last accepted state."""
        ny = float(np.linalg.norm(state["y"]))
        if ny > BLOWUP_GROWTH * max(norm0, 1.0):
            return finish(Status.BLOWUP, f"{detail}; ||y|| grew from {norm0:.3e} to {ny:.3e}: finite-time blow-up "
                                         f"near t = {state['t']:.17g}")
        return finish(Status.NONFINITE if kind == "nonfinite" else Status.STEP_UNDERFLOW, detail)

    def nonfinite_detail(exc: _NonFiniteRHS) -> str:
        bad = int(np.sum(~np.isfinite(exc.f)))
        return (f"the right-hand side returned {bad} non-finite value(s) at t = {exc.t:.17g} "
                f"(last accepted t = {state['t']:.17g})")

    i = 0
    while i < ts.size and ts[i] == t0:
        out_t.append(t0)
        out_y.append(y0.copy())
        i += 1
    if i == ts.size:
        try:
            fun(t0, y0)
        except _NonFiniteRHS as exc:
            return failure("nonfinite", nonfinite_detail(exc))
        return finish(Status.SUCCESSFUL, "no time to integrate")
    try:
        f0 = fun(t0, y0)
    except _NonFiniteRHS as exc:
        return failure("nonfinite", nonfinite_detail(exc))
    del f0
    h_first = first_step
    while True:  # a NaN while choosing the first step: retry with a shorter one
        try:
            solver = cls(fun, t0, y0, float(ts[-1]), rtol=rtol, atol=atol,
                         **({"first_step": h_first} if h_first is not None else {}))
            break
        except _NonFiniteRHS as exc:
            h_first = 0.25 * (exc.t - t0) if h_first is None else 0.25 * h_first
            if not h_first > _spacing(t0):
                return failure("nonfinite", nonfinite_detail(exc))

    while i < ts.size:
        if max_steps is not None and state["steps"] >= max_steps:
            return finish(Status.MAX_STEPS, f"max_steps = {max_steps} reached at t = {state['t']:.17g}")
        if time_limit is not None and time.monotonic() - start > time_limit:
            return finish(Status.TIME_LIMIT, f"time_limit = {time_limit:g} s reached at t = {state['t']:.17g}")
        try:
            msg = solver.step()
        except _NonFiniteRHS as exc:
            # a trial stage hit a NaN/inf: the accepted state is untouched; retry with a shorter step,
            # which walks up to the onset of the non-finite values (or of a blow-up)
            state["rejected"] += 1
            if method not in ("DOP853", "RK45", "RK23"):
                return failure("nonfinite", nonfinite_detail(exc))
            h = 0.25 * min(float(solver.h_abs), abs(exc.t - solver.t))
            if not h > 100 * _spacing(solver.t):
                return failure("nonfinite", nonfinite_detail(exc))
            solver.h_abs = h
            continue
        if solver.status == "failed":
            return failure("underflow", f"{method} failed at t = {solver.t:.17g}: {msg}")
        t_old, t_new = solver.t_old, solver.t
        y_new = solver.y
        state["steps"] += 1
        dense = None
        if max_norm is not None and np.linalg.norm(y_new) >= max_norm > np.linalg.norm(state["y"]):
            dense = solver.dense_output()
            te = _locate(lambda s, dense=dense: float(np.linalg.norm(dense(s))) - max_norm, t_old, t_new)
            while i < ts.size and ts[i] <= te:
                out_t.append(float(ts[i]))
                out_y.append(dense(ts[i]).copy())
                i += 1
            state["t"], state["y"] = te, dense(te).copy()
            return finish(Status.EVENT, f"||y|| reached max_norm = {max_norm:g} at t = {te:.17g}")
        while i < ts.size and ts[i] <= t_new:
            if ts[i] == t_new:
                out_y.append(y_new.copy())
            else:
                if dense is None:
                    dense = solver.dense_output()
                out_y.append(np.asarray(dense(ts[i]), dtype=np.float64).copy())
            out_t.append(float(ts[i]))
            i += 1
        state["t"], state["y"] = t_new, y_new.copy()
        if blowup_norm is not None and np.linalg.norm(y_new) > blowup_norm:
            return finish(Status.BLOWUP, f"||y|| = {np.linalg.norm(y_new):.3e} exceeded blowup_norm = "
                                         f"{blowup_norm:.3e} at t = {t_new:.17g}: finite-time blow-up at or "
                                         f"before t = {t_new:.17g}")
    return finish(Status.SUCCESSFUL, "every requested time reached")


def _spacing(t: float) -> float:
    return abs(np.nextafter(t, np.inf) - t)


def _locate(g, a: float, b: float) -> float:
    """The first root of g on [a, b] with g(a) < 0 <= g(b) (bracketed, brentq to ~1e-15 relative)."""
    from scipy.optimize import brentq

    if g(b) == 0.0:
        return b
    return float(brentq(g, a, b, xtol=1e-15 * max(1.0, abs(b)), rtol=4 * np.finfo(float).eps))


__all__ = ["BLOWUP_GROWTH", "METHODS", "check_times", "solve"]
