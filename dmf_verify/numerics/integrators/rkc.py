"""Gradient flows through their stiff phase: DOPRI5 while accuracy limits the step, then a damped
first-order Runge-Kutta-Chebyshev method (Verwer, Sommeijer & Hundsdorfer 2004) once stability does.

The Hessian of a loss is symmetric, so the Jacobian of a gradient flow ``y' = -grad L(y)`` has a
real spectrum in ``[-lambda_max, 0]`` (near a minimum; mildly indefinite far from one). An
s-stage Chebyshev method is stable for ``h lambda_max <= beta(s) ~ 1.93 s^2``: it crosses a phase
of curvature ratio kappa with ~sqrt(kappa) instead of ~kappa gradient evaluations.

Stability estimate (cheap): during the DOPRI5 phase the free estimate ``h ||k7 - k6|| / ||y7 -
y6||`` decides the hand-over (no extra evaluations); in the Chebyshev phase ``lambda_max`` is
tracked by one warm-started finite-difference power iteration every ``power_every`` accepted
steps (and after a rejection), safeguarded by the free secant bound ``||F(y_new) - F(y)|| /
||y_new - y||`` of every accepted step. The local error of a step is estimated by
``(h/2) (F(y_new) - F(y))`` and kept below ``atol + rtol max(|y|, |y_new|)`` (RMS norm) by an
elementary controller, so a smaller ``rtol`` never allows a larger step at the same state. All
work vectors are allocated once; the stage loop allocates nothing.
"""

from __future__ import annotations

import functools
import math
import time

import numpy as np

from dmf_verify.numerics.integrators._ops import ops_for
from dmf_verify.numerics.integrators._solution import Solution, Status
from dmf_verify.numerics.integrators.dopri5 import STABILITY_BOUNDARY, dopri5, error_norm, locate


@functools.lru_cache(maxsize=512)
def rkc_coefficients(s: int, damping: float = 0.05):
    """Stage coefficients (mu, nu, mu_tilde) of the damped first-order RKC method with s stages and
    its real stability interval beta(s) ~ (2 - 4 damping / 3) s^2."""
    w0 = 1.0 + damping / (s * s)
    t = [1.0, w0]
    u = [1.0, 2.0 * w0]
    for _ in range(2, s + 1):
        t.append(2.0 * w0 * t[-1] - t[-2])
        u.append(2.0 * w0 * u[-1] - u[-2])
    dts = s * u[s - 1]  # T_s'(w0) = s U_{s-1}(w0)
    w1 = t[s] / dts
    b = [1.0 / tj for tj in t]
    mu = [0.0, 0.0] + [2.0 * w0 * b[j] / b[j - 1] for j in range(2, s + 1)]
    nu = [0.0, 0.0] + [-b[j] / b[j - 2] for j in range(2, s + 1)]
    mut = [0.0, w1 / w0] + [2.0 * w1 * b[j] / b[j - 1] for j in range(2, s + 1)]
    beta = (1.0 + w0) / w1
    return tuple(mu), tuple(nu), tuple(mut), beta


@functools.lru_cache(maxsize=512)
def rkc2_coefficients(s: int, damping: float = 2.0 / 13.0):
    """Stage coefficients (mu, nu, mu_tilde, gamma_tilde) of the second-order RKC method of
    Sommeijer, Shampine & Verwer (1997) with s >= 2 stages, and beta(s) ~ 0.65 s^2."""
    if s < 2:
        raise ValueError("RKC2 needs s >= 2 stages")
    w0 = 1.0 + damping / (s * s)
    t, t1, t2 = [1.0, w0], [0.0, 1.0], [0.0, 0.0]
    for _ in range(2, s + 1):
        t.append(2.0 * w0 * t[-1] - t[-2])
        t1.append(2.0 * t[-2] + 2.0 * w0 * t1[-1] - t1[-2])
        t2.append(4.0 * t1[-2] + 2.0 * w0 * t2[-1] - t2[-2])
    w1 = t1[s] / t2[s]
    b = [0.0] * (s + 1)
    for j in range(2, s + 1):
        b[j] = t2[j] / (t1[j] ** 2)
    b[0] = b[1] = b[2]
    mu, nu, mut, gmt = [0.0] * (s + 1), [0.0] * (s + 1), [0.0] * (s + 1), [0.0] * (s + 1)
    mut[1] = b[1] * w1
    for j in range(2, s + 1):
        mu[j] = 2.0 * b[j] * w0 / b[j - 1]
        nu[j] = -b[j] / b[j - 2]
        mut[j] = 2.0 * b[j] * w1 / b[j - 1]
        gmt[j] = -(1.0 - b[j - 1] * t[j - 1]) * mut[j]
    beta = (1.0 + w0) / w1
    return tuple(mu), tuple(nu), tuple(mut), tuple(gmt), beta


def _beta(s: int, order: int) -> float:
    return rkc_coefficients(s)[3] if order == 1 else rkc2_coefficients(s)[4]


def stages_for(h_lambda: float, max_stages: int, order: int = 1) -> int:
    """The fewest stages s with beta(s) >= h_lambda (at most max_stages; order 2 needs s >= 2)."""
    c = 1.93 if order == 1 else 0.65
    s = max(order, math.ceil(math.sqrt(max(h_lambda, 0.0) / c)))
    while s > order and _beta(s - 1, order) >= h_lambda:
        s -= 1
    while s < max_stages and _beta(s, order) < h_lambda:
        s += 1
    return min(s, max_stages)


class _RKC:
    def __init__(self, rhs, like, ops):
        self.rhs = rhs
        self.ops = ops
        size = like.shape[0]
        self.work = [ops.empty(size, like) for _ in range(4)]
        self.fnew = ops.empty(size, like)
        self.fj = ops.empty(size, like)
        self.tmp = ops.empty(size, like)
        self.s1 = ops.empty(size, like)
        self.s2 = ops.empty(size, like)
        self.nfev = 0

    def step2(self, y, fy, h, s):
        """s-stage second-order RKC step (as :meth:`step`)."""
        mu, nu, mut, gmt, _ = rkc2_coefficients(s)
        free = [w for w in self.work if w is not y]
        tmp, fj, ops = self.tmp, self.fj, self.ops
        y2 = y
        y1 = free.pop()
        ops.mul(fy, mut[1] * h, y1)
        y1 += y
        for j in range(2, s + 1):
            self.rhs(y1, fj)
            self.nfev += 1
            yn = free.pop()
            ops.mul(y1, mu[j], yn)
            ops.mul(y2, nu[j], tmp)
            yn += tmp
            ops.mul(y, 1.0 - mu[j] - nu[j], tmp)
            yn += tmp
            ops.mul(fj, mut[j] * h, tmp)
            yn += tmp
            ops.mul(fy, gmt[j] * h, tmp)
            yn += tmp
            if y2 is not y:
                free.append(y2)
            y2, y1 = y1, yn
        value = self.rhs(y1, self.fnew)
        self.nfev += 1
        return y1, value

    def step(self, y, fy, h, s):
        """s-stage RKC step from (y, fy); returns (y_new buffer, value at y_new); F(y_new) in self.fnew."""
        mu, nu, mut, _ = rkc_coefficients(s)
        free = [w for w in self.work if w is not y]
        tmp, fj, ops = self.tmp, self.fj, self.ops
        y2 = y
        y1 = free.pop()
        ops.mul(fy, mut[1] * h, y1)
        y1 += y
        for j in range(2, s + 1):
            self.rhs(y1, fj)
            self.nfev += 1
            yn = free.pop()
            ops.mul(y1, mu[j], yn)
            ops.mul(y2, nu[j], tmp)
            yn += tmp
            ops.mul(fj, mut[j] * h, tmp)
            yn += tmp
            if y2 is not y:
                free.append(y2)
            y2, y1 = y1, yn
        value = self.rhs(y1, self.fnew)
        self.nfev += 1
        return y1, value


def rkc(rhs, y0, *, h0: float, rtol: float = 1e-4, atol: float = 1e-8, max_steps: int = 1_000_000,
        t_end: float = math.inf, stop=None, on_step=None, time_limit: float | None = None,
        dopri_start: bool = True, max_stages: int = 250, power_every: int = 10, safety: float = 1.2,
        seed: int = 12345, order: int = 1, stop_below: float | None = None, band: float = 0.9) -> Solution:
    """Integrate ``y' = F(y)`` (a gradient flow) from ``y0``: DOPRI5 until the step is
    stability-limited, then damped first-order RKC. Arguments as :func:`~.dopri5.dopri5`;
    ``max_stages`` caps the Chebyshev stages, ``power_every`` sets how often (in accepted steps)
    one power iteration refreshes ``lambda_max``, ``safety`` multiplies it. ``stats`` counts
    ``nfev`` (all right-hand-side evaluations), ``power_nfev`` (those of the power iteration),
    ``steps``/``rejected`` (both phases), ``dopri_steps``, ``max_stages_used`` and ``t_switch``.
    ``stop_below``/``band``: the located terminal event of :func:`~.dopri5.dopri5`.
    """
    start = time.perf_counter()
    ops = ops_for(y0)
    y = ops.copy(y0)
    size = y.shape[0]
    nfev0 = 0
    t, steps, rejected, h = 0.0, 0, 0, float(h0)
    stats = {"dopri_steps": 0, "t_switch": None, "power_nfev": 0, "max_stages_used": 0, "located": 0}
    eng = _RKC(rhs, y, ops)
    fy = ops.empty(size, y)
    value = rhs(y, fy)
    nfev0 += 1
    if dopri_start:
        sol = dopri5(rhs, y, h0=h, rtol=rtol, atol=atol, max_steps=max_steps, t_end=t_end, stop=stop,
                     on_step=on_step, time_limit=time_limit, stiff_limit=STABILITY_BOUNDARY, value0=value,
                     f0=fy, start=start, stop_below=stop_below, band=band)
        nfev0 += sol.stats["nfev"]
        stats["located"] = sol.stats["located"]
        steps, rejected = sol.stats["steps"], sol.stats["rejected"]
        stats["dopri_steps"] = steps
        if not (sol.status is Status.EVENT and sol.stats["stiff"]):
            return _finish(sol.status, sol.t_final, sol.y[0], sol.stats["value"], rtol, atol,
                           {**stats, "nfev": nfev0, "steps": steps, "rejected": rejected}, sol.message)
        y = ops.copy(sol.y[0])
        ops.assign(fy, sol.stats["f"])
        value = sol.stats["value"]
        t, h = float(sol.t_final), float(sol.stats["h"])
        lam = sol.stats["h_lambda"] / max(h, 1e-300)
        stats["t_switch"] = t
    else:
        lam = 0.0
        if on_step is not None:
            on_step(t, steps, value, y)
        st = stop(value, t, steps) if stop is not None else None
        if st is not None:
            return _finish(st, t, y, value, rtol, atol, {**stats, "nfev": nfev0, "steps": 0, "rejected": 0}, "")
    # the state lives in one of the engine's work buffers (swapped, never copied, on acceptance)
    ops.assign(eng.work[0], y)
    y = eng.work[0]
    vec = ops.randn(size, y, seed)
    yp = ops.empty(size, y)
    fp = ops.empty(size, y)
    fd_eps = math.sqrt(ops.eps(y))
    reseed = [seed]

    def power(iters):
        nonlocal vec
        est = 0.0
        for _ in range(iters):
            nv = ops.norm(vec)
            if nv == 0.0 or not math.isfinite(nv):
                reseed[0] += 1
                vec = ops.randn(size, y, reseed[0])
                nv = ops.norm(vec)
            delta = fd_eps * (1.0 + ops.norm(y))
            ops.mul(vec, delta / nv, yp)
            ops.add(yp, y, yp)
            rhs(yp, fp)
            stats["power_nfev"] += 1
            ops.sub(fp, fy, vec)
            est = ops.norm(vec) / delta
            if not math.isfinite(est) or est == 0.0:
                break
        return est

    lam = max(lam, power(3))
    since_power = 0
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order}")
    expo = -1.0 / (order + 1)
    status, message = None, ""
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
        if since_power >= power_every:
            lam = max(power(1), 0.5 * lam)
            since_power = 0
        lam_safe = safety * lam
        h = min(h, t_end - t, _beta(max_stages, order) / max(lam_safe, 1e-300))
        s = stages_for(h * lam_safe, max_stages, order)
        stats["max_stages_used"] = max(stats["max_stages_used"], s)
        if order == 1:
            y_new, v_new = eng.step(y, fy, h, s)
        else:
            y_new, v_new = eng.step2(y, fy, h, s)
        err = math.inf
        if math.isfinite(v_new):
            err, dnum = _error(eng, ops, y, y_new, fy, h, order, rtol, atol)
        if not (math.isfinite(err) and math.isfinite(v_new)):
            rejected += 1
            h *= 0.2
            if h < 1e-300 or h < 1e-14 * max(t, 1.0):
                status, message = Status.NONFINITE, "non-finite right-hand side at every step size tried"
            continue
        if err <= 1.0:
            if stop_below is not None and v_new <= stop_below < value:
                stepf = eng.step if order == 1 else eng.step2

                def trial(hh, stepf=stepf, y=y, fy=fy, lam_safe=lam_safe):
                    yy, vv = stepf(y, fy, hh, stages_for(hh * lam_safe, max_stages, order))
                    return vv, yy
                h, v_new, y_new, n_loc = locate(trial, h, value, v_new, stop_below, band)
                stats["located"] += n_loc
                _, dnum = _error(eng, ops, y, y_new, fy, h, order, rtol, atol)
            ops.sub(y_new, y, eng.s1)
            dy = ops.norm(eng.s1)
            if dy > 0:
                lam = max(lam, dnum / dy)  # secant lower bound on lambda_max (free)
            t += h
            steps += 1
            since_power += 1
            y = y_new
            fy, eng.fnew = eng.fnew, fy
            value = v_new
            h *= min(5.0, max(0.1, 0.8 * max(err, 1e-10) ** expo))
            if on_step is not None:
                on_step(t, steps, value, y)
            status = stop(value, t, steps) if stop is not None else None
            if status is None and stop_below is not None and value <= stop_below:
                status = Status.EVENT
        else:
            rejected += 1
            h *= max(0.1, 0.8 * err ** expo)
            lam = max(lam, power(1))
            if h < 1e-14 * max(t, 1.0):
                status, message = Status.STEP_UNDERFLOW, f"step size {h:.3g} below 1e-14 t"
    nfev = nfev0 + eng.nfev + stats["power_nfev"]
    return _finish(status, t, y, value, rtol, atol, {**stats, "nfev": nfev, "steps": steps, "rejected": rejected,
                                                     "h": h, "lambda": lam}, message)


def _error(eng, ops, y, y_new, fy, h, order, rtol, atol):
    """(local error norm, ||F(y_new) - F(y)||) of a step; the embedded estimate of order 2 is
    (1/15) [12 (y_n - y_n+1) + 6 h (F(y_n) + F(y_n+1))], of order 1 (h/2)(F(y_n+1) - F(y_n))."""
    ops.sub(eng.fnew, fy, eng.tmp)
    dnum = ops.norm(eng.tmp)
    if order == 1:
        eng.tmp *= 0.5 * h
    else:
        ops.add(eng.fnew, fy, eng.tmp)
        eng.tmp *= 6.0 * h
        ops.sub(y, y_new, eng.s1)
        eng.s1 *= 12.0
        eng.tmp += eng.s1
        eng.tmp *= 1.0 / 15.0
    return error_norm(eng.tmp, y, y_new, rtol, atol, eng.s1, eng.s2, ops), dnum


def _finish(status, t, y, value, rtol, atol, stats, message) -> Solution:
    stats = {k: v for k, v in stats.items() if k != "f"}
    stats["value"] = value
    return Solution(status, np.array([t]), ops_for(y).copy(y)[None], t, "rkc", rtol, atol, stats, message)
