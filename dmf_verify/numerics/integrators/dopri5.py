"""Dormand-Prince 5(4) for large autonomous systems ``y' = F(y)`` (gradient flows), allocation-free.

:func:`dopri5` integrates with an elementary (I) step controller and FSAL, evaluating a stopping
rule after every accepted step, and returns a :class:`~dmf_verify.numerics.integrators.Solution`
holding only the final state (it never stores every step). It is written for the gradient flows
of the training module: ``rhs(y, out)`` writes ``F(y)`` into ``out`` and returns a scalar that the
stopping rule sees (the loss). All stage vectors live in buffers allocated once, every update is an
``out=`` operation, and the stage combinations are one matrix-vector product over the stacked
stages, so the step loop allocates no arrays (float32 or float64, the dtype of ``y0``).

Stiffness: the free estimate ``h ||k7 - k6|| / ||y7 - y6||`` of Hairer & Wanner (the two last
stages are evaluated at the same time) approximates ``h lambda`` along the error-dominating
direction; ``stiff_limit`` ends the integration with status ``EVENT`` and ``stats["stiff"]`` when
it exceeds the real stability boundary of the method (about 3.3), so a caller can hand over to a
Chebyshev method (:mod:`dmf_verify.numerics.integrators.rkc`).
"""

from __future__ import annotations

import math
import time

import numpy as np

from dmf_verify.numerics.integrators._ops import NumpyOps, ops_for
from dmf_verify.numerics.integrators._solution import Solution, Status

C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
E = (71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40)
STABILITY_BOUNDARY = 3.3  # |h lambda| on the negative real axis where DOPRI5 loses stability


def error_norm(err, y, y_new, rtol: float, atol: float, s1, s2, ops=NumpyOps) -> float:
    """RMS of ``err / (atol + rtol max(|y|, |y_new|))`` using the scratch buffers s1, s2 (err is overwritten)."""
    ops.abs(y, s1)
    ops.abs(y_new, s2)
    ops.maximum(s1, s2, s1)
    s1 *= rtol
    s1 += atol
    ops.div(err, s1, err)
    return math.sqrt(ops.sqsum(err) / err.shape[0])


class Dopri5Stepper:
    """The buffers and one trial step of DOPRI5 for ``rhs`` on vectors of ``size`` entries."""

    def __init__(self, rhs, like, ops=None):
        self.rhs = rhs
        self.ops = ops = ops or ops_for(like)
        size = like.shape[0]
        self.K = ops.empty_2d(7, size, like)
        self.ys = [ops.empty(size, like), ops.empty(size, like)]
        self.tmp = ops.empty(size, like)
        self.s1 = ops.empty(size, like)
        self.s2 = ops.empty(size, like)
        self.A = [None] + [ops.coeffs(a, like) for a in A[1:]]
        self.E = ops.coeffs(E, like)
        self.nfev = 0

    def step(self, y: np.ndarray, h: float, rtol: float, atol: float):
        """One trial step from y (K[0] must hold F(y)): returns (err, value at y_new, y_new buffer,
        free stiffness estimate h*lambda). K[6] then holds F(y_new)."""
        K, tmp, ops = self.K, self.tmp, self.ops
        value = math.nan
        for s in range(1, 7):
            ys = self.ys[s % 2]
            ops.combo(self.A[s], K[:s], tmp)
            ops.mul(tmp, h, ys)
            ys += y
            value = self.rhs(ys, K[s])
            self.nfev += 1
        # K[6] is F at the 5th-order solution (FSAL): s = 6 used ys[0]; the stage at c = 1 (s = 5) ys[1].
        # Both are at t + h, so ||K[6] - K[5]|| / ||y_new - y_c1|| estimates lambda (stiffness test).
        y_new, y6 = self.ys[0], self.ys[1]
        ops.sub(K[6], K[5], tmp)
        num = ops.sqsum(tmp)
        ops.sub(y_new, y6, self.s1)
        den = ops.sqsum(self.s1)
        stiff = h * math.sqrt(num / den) if den > 0 else 0.0
        ops.combo(self.E, K, tmp)
        tmp *= h
        err = error_norm(tmp, y, y_new, rtol, atol, self.s1, self.s2, ops)
        return err, value, y_new, stiff


def dopri5(rhs, y0, *, h0: float, rtol: float = 1e-4, atol: float = 1e-8, max_steps: int = 1_000_000,
           t_end: float = math.inf, stop=None, on_step=None, time_limit: float | None = None,
           stiff_limit: float | None = None, value0: float | None = None, f0=None,
           start: float | None = None, stop_below: float | None = None, band: float = 0.9) -> Solution:
    """Integrate the autonomous system ``y' = F(y)`` from ``y0`` (a 1-D float32/float64 array, copied).

    ``rhs(y, out) -> value`` writes F(y) into ``out``; ``stop(value, t, steps)`` (after every
    accepted step and at the start) returns a :class:`Status` to end with, or None; ``on_step(t,
    steps, value, y)`` is called at every accepted step (and at t = 0). ``stiff_limit``: end with
    status EVENT (``stats["stiff"] = True``) once the free estimate of ``h lambda`` exceeds it.
    ``value0``/``f0``: F(y0) and its value when the caller has them. ``stop_below``: a terminal
    event where the value (a loss, non-increasing along a gradient flow) first falls to
    ``stop_below``; the step that crosses it is shortened (regula falsi on log value) until the
    value lies in ``[band * stop_below, stop_below]``, so the run stops where a small-step method
    would (status EVENT, ``stats["located"]`` the number of re-steps). The state is stored only at
    the end (``Solution.y`` has one row; ``Solution.stats["value"]`` is the last value).
    """
    ops = ops_for(y0)
    y = ops.copy(y0)
    stepper = Dopri5Stepper(rhs, y, ops)
    K = stepper.K
    if f0 is None:
        value = rhs(y, K[0])
        stepper.nfev += 1
    else:
        ops.assign(K[0], f0)
        value = float(value0)
    t, h, steps, rejected = 0.0, float(h0), 0, 0
    start = time.perf_counter() if start is None else start
    status, message, stiff_hit, located = None, "", False, 0
    last_stiff = 0.0
    if on_step is not None:
        on_step(t, steps, value, y)
    status = stop(value, t, steps) if stop is not None else None
    rejected_last = False
    while status is None:
        if steps >= max_steps:
            status = Status.MAX_STEPS
            break
        if time_limit is not None and time.perf_counter() - start > time_limit:
            status = Status.TIME_LIMIT
            break
        if t >= t_end:
            status = Status.SUCCESSFUL
            break
        h = min(h, t_end - t)
        err, v_new, y_new, stiff = stepper.step(y, h, rtol, atol)
        if not (math.isfinite(err) and math.isfinite(v_new)):
            rejected += 1
            h *= 0.2
            rejected_last = True
            if h < 1e-300 or h < 1e-14 * max(t, 1.0):
                status, message = Status.NONFINITE, "non-finite right-hand side at every step size tried"
            continue
        if err <= 1.0:
            if stop_below is not None and v_new <= stop_below < value:
                h, v_new, y_new, n_loc = locate(lambda hh: stepper.step(y, hh, rtol, atol)[1:3], h, value, v_new,
                                                stop_below, band)
                located += n_loc
            t += h
            steps += 1
            ops.assign(y, y_new)
            ops.assign(K[0], K[6])
            value = v_new
            last_stiff = stiff
            fac = 0.9 * max(err, 1e-10) ** -0.2
            h *= min(1.0 if rejected_last else 5.0, max(0.2, fac))
            rejected_last = False
            if on_step is not None:
                on_step(t, steps, value, y)
            status = stop(value, t, steps) if stop is not None else None
            if status is None and stop_below is not None and value <= stop_below:
                status = Status.EVENT
            if status is None and stiff_limit is not None and stiff > stiff_limit:
                status, stiff_hit = Status.EVENT, True
        else:
            rejected += 1
            rejected_last = True
            h *= max(0.2, 0.9 * err ** -0.2)
            if h < 1e-14 * max(t, 1.0):
                status, message = Status.STEP_UNDERFLOW, f"step size {h:.3g} below 1e-14 t"
    return Solution(status, np.array([t]), y[None], t, "dopri5", rtol, atol,
                    {"nfev": stepper.nfev, "steps": steps, "rejected": rejected, "value": value, "h": h,
                     "stiff": stiff_hit, "h_lambda": last_stiff, "f": K[0], "located": located}, message)


def locate(trial, h, v0, v1, level, band, max_iter: int = 12):
    """Shorten a step of length h (value v0 at its start > level >= v1 at its end) until the value
    at its end lies in [band * level, level]: regula falsi on log(value) in the step length with
    the Illinois modification. ``trial(hh) -> (value, state)`` redoes the step with length hh;
    returns (hh, value, state, trials). If the bracket cannot be narrowed (max_iter), the shortest
    trial with value <= level is returned."""
    import math as _m

    lo, hi = 0.0, h
    glo, ghi = _m.log(v0 / level), _m.log(max(v1, 1e-300) / level)
    best = None
    side = 0
    n = 0
    state = None
    value = v1
    for n in range(1, max_iter + 1):
        hm = lo + (hi - lo) * glo / (glo - ghi)
        if not (lo < hm < hi):
            hm = 0.5 * (lo + hi)
        value, state = trial(hm)
        if not _m.isfinite(value):
            hi, ghi = hm, -1.0
            continue
        if band * level <= value <= level:
            return hm, value, state, n
        g = _m.log(max(value, 1e-300) / level)
        if g > 0:
            lo, glo = hm, g
            if side == -1:
                ghi *= 0.5
            side = -1
        else:
            hi, ghi = hm, g
            best = (hm, value)
            if side == 1:
                glo *= 0.5
            side = 1
    if best is None or best[0] != hi:
        value, state = trial(hi)
        return hi, value, state, n + 1
    value, state = trial(hi)
    return hi, value, state, n + 1
