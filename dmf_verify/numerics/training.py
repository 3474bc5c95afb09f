"""The experimental protocol of Arora et al. (2019), public code: problems, initialization, optimizers.

Protocol (issue #7; Arora et al. 2019, Appendix D.2):

* ground truth ``W* = n W0 / ||W0||_F`` with ``W0 = U V^T / sqrt(r)``, ``U, V`` i.i.d. N(0, 1) of
  shape ``(n, r)``: rank exactly r, ``||W*||_F = n`` (RMS entry 1), not symmetric;
* completion: ``m`` distinct entries uniformly without replacement, ``y = W*`` on them;
  sensing: ``A_i`` with i.i.d. N(0, 1/n^2) entries (so ``||A_i||_F ~ 1`` like a completion
  indicator ``e_a e_b^T``; this scaling is our choice, the public code does not fix it here);
* loss ``L = (1/m) sum_i (<A_i, W> - y_i)^2`` (mean, no 1/2);
* N full-width n x n factors, i.i.d. N(0, s^2) with ``s = init_scale^(1/N) / sqrt(n)``;
* stop at the first iteration with ``L <= tol`` (1e-6), cap ``max_iter`` (1e6).

Optimizers (:func:`train`):

* ``"gd"``: W_j <- W_j - lr g_j (the theory's object);
* ``"adaptive"``: the public code's "GroupRMSprop": one scalar for all layers,
  ``v_t = rho v_{t-1} + (1 - rho) sum_j ||g_j||_F^2``, ``eta_t = lr / (sqrt(v_t / (1 - rho^t)) + eps)``;
  since every layer gets the same scalar, this is GD with a time-varying step, i.e. a time
  reparametrization of the same gradient-flow path (up to discretization);
* ``"flow"``: the gradient flow itself, integrated with an adaptive-step Dormand-Prince 5(4)
  pair (error control, FSAL), stopping at the first accepted step with ``L <= tol``. ``lr`` is
  the first trial step; ``rtol``/``atol`` set the accuracy. Steps grow by orders of magnitude
  on the initial plateau, which is where the per-step optimizers spend most iterations.

The per-step gradient is computed by backpropagation reusing partial products: ``N - 1``
products forward, ``2(N - 1)`` backward (``3(N - 1)`` matrix products in all, vs. ``~N^2`` when
each factor gradient is formed from scratch). ``dtype=np.float32`` is available and measured in
``benchmarks/bench_figure1.py``; float64 is the default.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from dmf_verify.errors import InvalidArgument, ShapeError
from dmf_verify.numerics.losses import CompletionLoss, SensingLoss
from dmf_verify.numerics.validation import check_depth, check_positive, check_seed

TASKS = ("completion", "sensing")
OPTIMIZERS = ("gd", "adaptive", "flow")


def _check_int(value, name: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgument(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise InvalidArgument(f"{name} must be {rng}, got {v}")
    return v


def ground_truth(n: int, rank: int, *, seed: int = 0) -> np.ndarray:
    """``W* = n W0/||W0||_F``, ``W0 = U V^T/sqrt(rank)`` with U, V i.i.d. N(0, 1) of shape (n, rank)."""
    n = _check_int(n, "n", 1)
    rank = _check_int(rank, "rank", 1, n)
    rng = np.random.default_rng(check_seed(seed))
    u = rng.standard_normal((n, rank))
    v = rng.standard_normal((n, rank))
    w0 = u @ v.T / math.sqrt(rank)
    return n * w0 / np.linalg.norm(w0)


@dataclass(eq=False)
class Problem:
    """A protocol instance: ``loss`` (mean, no 1/2) and the ground truth it observes."""

    task: str
    n: int
    rank: int
    m: int
    seed: int
    ground_truth: np.ndarray
    loss: CompletionLoss | SensingLoss

    def test_mse(self, w) -> float:
        """||W - W*||_F^2 / n^2 (the public code's test error)."""
        d = np.asarray(w, dtype=np.float64) - self.ground_truth
        return float(np.sum(d * d) / d.size)

    def reconstruction_error(self, w) -> float:
        """||W - W*||_F / ||W*||_F (Arora et al. 2019, Appendix D.2; = sqrt(test MSE) under this protocol)."""
        d = np.asarray(w, dtype=np.float64) - self.ground_truth
        return float(np.linalg.norm(d) / np.linalg.norm(self.ground_truth))

    def arrays(self) -> dict:
        """The instance as plain arrays (for an .npz anyone can reload)."""
        out = {"ground_truth": self.ground_truth}
        if isinstance(self.loss, CompletionLoss):
            out.update(rows=self.loss.rows, cols=self.loss.cols, y=self.loss.values)
        else:
            out.update(A=self.loss.A, y=self.loss.y)
        return out


def _problem_seeds(seed: int) -> tuple[int, int]:
    s = check_seed(seed)
    return s, s + 1_000_003


def make_problem(task: str, n: int, rank: int, m: int, *, seed: int = 0) -> Problem:
    """The protocol's completion or sensing instance for (n, rank, m, seed)."""
    if task not in TASKS:
        raise InvalidArgument(f"task must be one of {TASKS}, got {task!r}")
    n = _check_int(n, "n", 1)
    rank = _check_int(rank, "rank", 1, n)
    m = _check_int(m, "m (number of observations)", 1, n * n if task == "completion" else None)
    s_gt, s_obs = _problem_seeds(seed)
    gt = ground_truth(n, rank, seed=s_gt)
    rng = np.random.default_rng(s_obs)
    if task == "completion":
        idx = rng.choice(n * n, size=m, replace=False)
        rows, cols = np.unravel_index(idx, (n, n))
        loss = CompletionLoss(rows, cols, gt[rows, cols], shape=(n, n), reduction="mean", half=False)
    else:
        a = rng.standard_normal((m, n, n)) / n
        y = a.reshape(m, -1) @ gt.reshape(-1)
        loss = SensingLoss(a, y, reduction="mean", half=False)
    return Problem(task, n, rank, m, int(seed), gt, loss)


def completion_problem(n: int, rank: int, m: int, *, seed: int = 0) -> Problem:
    return make_problem("completion", n, rank, m, seed=seed)


def sensing_problem(n: int, rank: int, m: int, *, seed: int = 0) -> Problem:
    return make_problem("sensing", n, rank, m, seed=seed)


def init_factors(n: int, depth: int, init_scale: float, *, seed: int = 0) -> list[np.ndarray]:
    """N full-width n x n factors, i.i.d. N(0, s^2), ``s = init_scale^(1/N)/sqrt(n)``."""
    n = _check_int(n, "n", 1)
    depth = check_depth(depth)
    scale = check_positive(init_scale, "init_scale")
    s = scale ** (1.0 / depth) / math.sqrt(n)
    rng = np.random.default_rng(check_seed(seed) + 2_000_003)
    return [s * rng.standard_normal((n, n)) for _ in range(depth)]


# --------------------------------------------------------------------------------------------
# objective: loss value and all factor gradients with 3(N-1) matrix products


class _Objective:
    """``(fs) -> (loss, grads)`` for the protocol's mean loss (no 1/2), reusing partial products."""

    def __init__(self, loss, dtype):
        self.dtype = np.dtype(dtype)
        self.shape = tuple(loss.shape)
        if isinstance(loss, CompletionLoss):
            self.kind = "completion"
            self.idx = np.ravel_multi_index((loss.rows, loss.cols), self.shape)
            self.y = loss.values.astype(self.dtype)
            self.g = np.zeros(self.shape, dtype=self.dtype)
        elif isinstance(loss, SensingLoss):
            self.kind = "sensing"
            self.flat = loss.flat.astype(self.dtype)
            self.y = loss.y.astype(self.dtype)
        else:
            raise InvalidArgument(f"training supports CompletionLoss and SensingLoss, got {type(loss).__name__}")
        self.weight = float(loss.weight)
        self.nfev = 0

    def __call__(self, fs):
        self.nfev += 1
        pre = [fs[0]]
        for f in fs[1:]:
            pre.append(f @ pre[-1])
        w = pre[-1]
        if self.kind == "completion":
            r = w.ravel()[self.idx] - self.y
            g = self.g
            g.ravel()[self.idx] = (2.0 * self.weight) * r
        else:
            r = self.flat @ w.ravel() - self.y
            g = ((2.0 * self.weight) * (r @ self.flat)).reshape(self.shape)
        value = self.weight * float(np.dot(r, r))
        n = len(fs)
        grads = [None] * n
        b = g
        for j in range(n - 1, 0, -1):
            grads[j] = b @ pre[j - 1].T
            b = fs[j].T @ b
        grads[0] = b if n > 1 else b.copy()
        return value, grads, w


@dataclass
class TrainResult:
    """Outcome of :func:`train`.

    ``status``: ``"converged"`` (loss <= tol), ``"max_iter"``, ``"diverged"`` (non-finite or
    exploding loss) or ``"step_underflow"`` (flow only: the step size collapsed).
    ``iterations``: parameter updates (accepted steps for ``flow``); ``nfev``: gradient evaluations.
    """

    status: str
    optimizer: str
    factors: list[np.ndarray]
    product: np.ndarray
    iterations: int
    nfev: int
    loss: float
    seconds: float
    flow_time: float | None = None
    history: dict = field(default_factory=dict)


def train(loss, factors, *, optimizer: str = "adaptive", lr: float = 1e-3, tol: float = 1e-6,
          max_iter: int = 1_000_000, rho: float = 0.99, eps: float = 1e-4, rtol: float = 1e-4,
          atol: float = 1e-8, dtype=np.float64, max_loss: float | None = None,
          record_every: int = 0, time_limit: float | None = None, flow_method: str = "rkc") -> TrainResult:
    """Minimize ``loss(W_N ... W_1)`` from ``factors`` with ``optimizer`` until ``loss <= tol``.

    ``loss`` is a :class:`CompletionLoss` or :class:`SensingLoss` (its own reduction/half are
    honoured) or a :class:`Problem`. Divergence does not raise: it ends the run with status
    ``"diverged"`` (sweeps record it and go on). ``record_every`` > 0 records (iteration, loss)
    pairs; ``time_limit`` (seconds) ends a run early with status ``"time_limit"``.
    """
    if isinstance(loss, Problem):
        loss = loss.loss
    if optimizer not in OPTIMIZERS:
        raise InvalidArgument(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    lr = check_positive(lr, "lr")
    if flow_method not in ("rkc", "dopri5"):
        raise InvalidArgument(f"flow_method must be 'rkc' or 'dopri5', got {flow_method!r}")
    tol = check_positive(tol, "tol", allow_zero=True)
    max_iter = _check_int(max_iter, "max_iter", 0)
    if not 0.0 <= rho < 1.0:
        raise InvalidArgument(f"rho must be in [0, 1), got {rho}")
    check_positive(eps, "eps", allow_zero=True)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise InvalidArgument(f"dtype must be float32 or float64, got {dtype}")
    if not factors:
        raise InvalidArgument("need at least one factor")
    fs = [np.array(f, dtype=dtype, copy=True, order="C") for f in factors]
    for f in fs:
        if f.ndim != 2 or not np.all(np.isfinite(f)):
            raise InvalidArgument("factors must be finite 2-d arrays")
    for a, b in zip(fs, fs[1:]):
        if b.shape[1] != a.shape[0]:
            raise ShapeError(f"factor shapes {a.shape} and {b.shape} do not chain")
    if (fs[-1].shape[0], fs[0].shape[1]) != tuple(loss.shape):
        raise ShapeError(f"the product has shape {(fs[-1].shape[0], fs[0].shape[1])} but the loss expects {tuple(loss.shape)}")
    obj = _Objective(loss, dtype)
    start = time.perf_counter()
    # overflow on the way to a divergence is detected (non-finite loss -> status "diverged")
    with np.errstate(over="ignore", invalid="ignore"):
        if optimizer == "flow":
            runner = _run_rkc if flow_method == "rkc" else _run_flow
            res = runner(obj, fs, h0=lr, tol=tol, max_iter=max_iter, rtol=rtol, atol=atol,
                         max_loss=max_loss, record_every=record_every, time_limit=time_limit, start=start)
        else:
            res = _run_steps(obj, fs, optimizer, lr=lr, tol=tol, max_iter=max_iter, rho=rho, eps=eps,
                             max_loss=max_loss, record_every=record_every, time_limit=time_limit, start=start)
    status, fs, it, value, w, flow_time, hist = res
    seconds = time.perf_counter() - start
    return TrainResult(status, optimizer, [f.astype(np.float64) for f in fs], np.asarray(w, dtype=np.float64),
                       it, obj.nfev, float(value), seconds, flow_time, hist)


def _limit(value: float, max_loss):
    return 1e8 * (abs(value) + 1.0) if max_loss is None else float(max_loss)


def _stop_reason(value: float, limit: float, tol: float, it: int, max_iter: int, time_limit, start: float,
                 *, check_clock: bool = True) -> str | None:
    """The status that ends a training loop now, or None to go on (same rules for every optimizer)."""
    if not math.isfinite(value) or value > limit:
        return "diverged"
    if value <= tol:
        return "converged"
    if it >= max_iter:
        return "max_iter"
    if check_clock and time_limit is not None and time.perf_counter() - start > time_limit:
        return "time_limit"
    return None


def _run_steps(obj, fs, optimizer, *, lr, tol, max_iter, rho, eps, max_loss, record_every, time_limit, start):
    adaptive = optimizer == "adaptive"
    v = 0.0
    rho_t = 1.0
    it = 0
    value, grads, w = obj(fs)
    limit = _limit(value, max_loss)
    hist = {"iteration": [], "loss": []}
    while True:
        if record_every and it % record_every == 0:
            hist["iteration"].append(it)
            hist["loss"].append(value)
        status = _stop_reason(value, limit, tol, it, max_iter, time_limit, start, check_clock=it % 256 == 0)
        if status is not None:
            break
        it += 1
        if adaptive:
            sq = 0.0
            for g in grads:
                sq += float(np.vdot(g, g))
            v = rho * v + (1.0 - rho) * sq
            rho_t *= rho
            eta = lr / (math.sqrt(v / (1.0 - rho_t)) + eps)
        else:
            eta = lr
        for f, g in zip(fs, grads):
            g *= eta
            f -= g
        value, grads, w = obj(fs)
    return status, fs, it, value, w, None, {k: np.asarray(x) for k, x in hist.items()}


# Dormand-Prince 5(4) coefficients
_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
_A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
_E = (71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40)


def _run_flow(obj, fs, *, h0, tol, max_iter, rtol, atol, max_loss, record_every, time_limit, start):
    """Gradient flow dW_j/dt = -g_j by Dormand-Prince 5(4) with a PI step controller."""
    shapes = [f.shape for f in fs]
    sizes = [f.size for f in fs]
    offs = np.cumsum([0] + sizes)
    dtype = fs[0].dtype

    def split(y):
        return [y[offs[i]:offs[i + 1]].reshape(shapes[i]) for i in range(len(shapes))]

    def rhs(y):
        value, grads, w = obj(split(y))
        k = np.empty_like(y)
        for i, g in enumerate(grads):
            np.negative(g.ravel(), out=k[offs[i]:offs[i + 1]])
        return value, k, w

    y = np.concatenate([f.ravel() for f in fs]).astype(dtype)
    value, k1, w = rhs(y)
    limit = _limit(value, max_loss)
    t, h, it = 0.0, float(h0), 0
    err_prev = 1e-4
    safety, min_fac, max_fac = 0.9, 0.2, 10.0
    hist = {"iteration": [], "loss": [], "t": []}
    status = "max_iter"
    while True:
        if record_every and it % record_every == 0:
            hist["iteration"].append(it)
            hist["loss"].append(value)
            hist["t"].append(t)
        status = _stop_reason(value, limit, tol, it, max_iter, time_limit, start)
        if status is not None:
            break
        ks = [k1]
        for s in range(1, 7):
            ys = y.copy()
            for a, kk in zip(_A[s], ks):
                if a != 0.0:
                    ys += (h * a) * kk
            v_s, k_s, w_s = rhs(ys)
            ks.append(k_s)
        y_new = ys  # stage 7 is evaluated at the 5th-order solution (FSAL)
        errv = np.zeros_like(y)
        for e, kk in zip(_E, ks):
            if e != 0.0:
                errv += (h * e) * kk
        scale = atol + rtol * np.maximum(np.abs(y), np.abs(y_new))
        err = float(np.sqrt(np.mean((errv / scale) ** 2)))
        if not math.isfinite(err) or not math.isfinite(v_s):
            h *= 0.2
            if h < 1e-300:
                status = "step_underflow"
                break
            continue
        if err <= 1.0:
            t += h
            it += 1
            y, k1, value, w = y_new, ks[6], v_s, w_s
            fac = safety * max(err, 1e-10) ** (-0.7 / 5) * err_prev ** (0.4 / 5)
            h *= min(max_fac, max(min_fac, fac))
            err_prev = max(err, 1e-4)
        else:
            h *= max(min_fac, safety * err ** (-1 / 5))
            if h < 1e-14 * max(t, 1.0):
                status = "step_underflow"
                break
    return status, [f.copy() for f in split(y)], it, value, w, t, {k: np.asarray(x) for k, x in hist.items()}


def _rkc_coefficients(s: int, damping: float = 0.05):
    """First-order damped Runge-Kutta-Chebyshev (Verwer et al. 2004): stage coefficients and the
    real stability interval beta(s) ~ (2 - 4 damping / 3) s^2."""
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
    return mu, nu, mut, beta


def _run_rkc(obj, fs, *, h0, tol, max_iter, rtol, atol, max_loss, record_every, time_limit, start,
             max_stages: int = 250, power_every: int = 10, dopri_start: bool = True):
    """Gradient flow: Dormand-Prince 5(4) while it is accurate-step-limited, then (once the step is
    stability-limited, h lambda_max > 3) first-order damped Runge-Kutta-Chebyshev, with error-controlled steps.

    The Hessian of a loss is symmetric, so the Jacobian of the flow has a real spectrum in
    [-lambda_max, 0]: a Chebyshev method with s stages is stable for h lambda_max <= beta(s) ~ 1.93 s^2,
    i.e. it crosses the stiff final phase with ~sqrt(kappa) instead of ~kappa gradient evaluations.
    lambda_max is estimated by a warm-started power iteration on finite differences of the gradient;
    the local error (h/2)(F(y_new) - F(y)) of the first-order step is kept below atol + rtol |y|.
    """
    shapes = [f.shape for f in fs]
    sizes = [f.size for f in fs]
    offs = np.cumsum([0] + sizes)
    dtype = fs[0].dtype
    fd_eps = float(np.sqrt(np.finfo(dtype).eps))

    def split(y):
        return [y[offs[i]:offs[i + 1]].reshape(shapes[i]) for i in range(len(shapes))]

    def rhs(y):
        value, grads, w = obj(split(y))
        k = np.empty_like(y)
        for i, g in enumerate(grads):
            np.negative(g.ravel(), out=k[offs[i]:offs[i + 1]])
        return value, k, w

    rng = np.random.default_rng(12345)
    y = np.concatenate([f.ravel() for f in fs]).astype(dtype)
    value, fy, w = rhs(y)
    limit = _limit(value, max_loss)
    vec = rng.standard_normal(y.size).astype(dtype)

    def spectral_radius(y, fy, vec, iters):
        lam = 0.0
        for _ in range(iters):
            vec = vec / np.linalg.norm(vec)
            delta = fd_eps * (1.0 + float(np.linalg.norm(y)))
            _, f2, _ = rhs(y + delta * vec)
            d = (f2 - fy) / delta
            lam = float(np.linalg.norm(d))
            if lam == 0.0 or not math.isfinite(lam):
                break
            vec = d
        return lam, vec

    lam, vec = spectral_radius(y, fy, vec, 8)
    t, h, it = 0.0, float(h0), 0
    use_dopri, err_prev = dopri_start, 1e-4
    hist = {"iteration": [], "loss": [], "t": [], "stages": []}
    status = "max_iter"
    s = 1
    while True:
        if record_every and it % record_every == 0:
            hist["iteration"].append(it)
            hist["loss"].append(value)
            hist["t"].append(t)
            hist["stages"].append(s)
        status = _stop_reason(value, limit, tol, it, max_iter, time_limit, start)
        if status is not None:
            break
        if it % power_every == 0 and it > 0:
            lam, vec = spectral_radius(y, fy, vec, 3)
        lam_safe = 1.2 * lam
        if use_dopri and h * lam_safe > 3.0:
            use_dopri = False  # stability-limited: hand over to the Chebyshev method
        if use_dopri:
            ok, y_new, f_new, v_new, w_new, err = _dopri_step(rhs, y, fy, h, rtol, atol)
            s = 6
            if ok:
                t += h
                it += 1
                y, fy, value, w = y_new, f_new, v_new, w_new
                fac = 0.9 * max(err, 1e-10) ** (-0.7 / 5) * err_prev ** (0.4 / 5)
                h *= min(10.0, max(0.2, fac))
                err_prev = max(err, 1e-4)
            else:
                h *= max(0.2, 0.9 * err ** (-1 / 5)) if math.isfinite(err) else 0.2
                if h < 1e-14 * max(t, 1.0):
                    status = "step_underflow"
                    break
            continue
        h = min(h, 1.93 * max_stages ** 2 / max(lam_safe, 1e-300))
        s = max(1, math.ceil(math.sqrt(h * lam_safe / 1.93)))
        mu, nu, mut, beta = _rkc_coefficients(s)
        while beta < h * lam_safe and s < max_stages:
            s += 1
            mu, nu, mut, beta = _rkc_coefficients(s)
        y_prev2 = y
        y_prev = y + (mut[1] * h) * fy
        for j in range(2, s + 1):
            _, fj, _ = rhs(y_prev)
            y_new = mu[j] * y_prev + nu[j] * y_prev2 + (mut[j] * h) * fj
            y_prev2, y_prev = y_prev, y_new
        y_new = y_prev
        v_new, f_new, w_new = rhs(y_new)
        errv = (0.5 * h) * (f_new - fy)
        scale = atol + rtol * np.maximum(np.abs(y), np.abs(y_new))
        err = float(np.sqrt(np.mean((errv / scale) ** 2)))
        if not math.isfinite(err) or not math.isfinite(v_new):
            h *= 0.2
            if h < 1e-300:
                status = "step_underflow"
                break
            continue
        if err <= 1.0:
            t += h
            it += 1
            y, fy, value, w = y_new, f_new, v_new, w_new
            h *= min(5.0, max(0.2, 0.8 / math.sqrt(max(err, 1e-10))))
        else:
            h *= max(0.2, 0.8 / math.sqrt(err))
            if h < 1e-14 * max(t, 1.0):
                status = "step_underflow"
                break
    return status, [f.copy() for f in split(y)], it, value, w, t, {k: np.asarray(x) for k, x in hist.items()}


def _dopri_step(rhs, y, k1, h, rtol, atol):
    """One Dormand-Prince 5(4) trial step: (accepted, y_new, f(y_new), loss, W, error norm)."""
    ks = [k1]
    ys = y
    v_s = w_s = None
    for s in range(1, 7):
        ys = y.copy()
        for a, kk in zip(_A[s], ks):
            if a != 0.0:
                ys += (h * a) * kk
        v_s, k_s, w_s = rhs(ys)
        ks.append(k_s)
    errv = np.zeros_like(y)
    for e, kk in zip(_E, ks):
        if e != 0.0:
            errv += (h * e) * kk
    scale = atol + rtol * np.maximum(np.abs(y), np.abs(ys))
    err = float(np.sqrt(np.mean((errv / scale) ** 2)))
    ok = math.isfinite(err) and math.isfinite(v_s) and err <= 1.0
    return ok, ys, ks[6], v_s, w_s, err
