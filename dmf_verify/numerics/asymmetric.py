"""Over-parameterized asymmetric matrix sensing (Soltanolkotabi, Stöger & Xie 2023; docs/theory.md).

Model: an unknown rank-r matrix X* in R^{n1 x n2}; m Gaussian measurements y_i = <A_i, X*>
(A_i with i.i.d. N(0, 1) entries); the factorization X = U V^T with U in R^{n1 x k},
V in R^{n2 x k} and k >= r (over-parameterized for k > r); the loss

    f(U, V) = 1/(2m) sum_i (<A_i, U V^T> - y_i)^2       (SensingLoss(reduction="mean", half=True))

with closed-form gradients, writing G(X) = (1/m) sum_i (<A_i, X> - y_i) A_i = grad l(X):

    G_U = grad_U f = G(U V^T) V,        G_V = grad_V f = G(U V^T)^T U.

The measurement operator is stored as the m x (n1 n2) matrix ``A_flat`` (row i = vec(A_i), row
major), so A(X) = A_flat @ vec(X) and A^*(r) = reshape(r @ A_flat): two mat-vecs, no Python loop.

Gradient descent: U <- U - eta_U G_U, V <- V - eta_V G_V (simultaneous; eta_U = eta_V = eta is
the paper's algorithm, unequal rates exist only as a negative control), from U_0 = alpha U_bar,
V_0 = alpha V_bar with U_bar, V_bar i.i.d. N(0, 1/k) entries (our normalization; the full paper's
constants are not in the seed). Divergence raises :class:`DivergenceError` naming the step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dmf_verify.errors import DivergenceError, InvalidArgument, ShapeError
from dmf_verify.numerics.losses import SensingLoss
from dmf_verify.numerics.validation import (
    as_matrix,
    as_real_array,
    as_vector,
    check_bool,
    check_int,
    check_option,
    check_positive,
    check_real,
    check_seed,
    check_tolerance,
)


def _check_int(value, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgument(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise InvalidArgument(f"{name} must be >= {minimum}, got {value}")
    return int(value)


@dataclass(eq=False)
class AsymmetricSensing:
    """A sensing problem: ground truth ``x_star`` (n1 x n2), ``A_flat`` (m x n1 n2), ``y`` (m,)."""

    x_star: np.ndarray
    A_flat: np.ndarray
    y: np.ndarray
    rank: int | None = None
    seed: int | None = None
    loss: SensingLoss = field(init=False, repr=False)

    def __post_init__(self):
        self.x_star = as_matrix(self.x_star, "x_star (the ground truth X*)")
        a = as_matrix(self.A_flat, "A_flat (the measurement operator)")
        n1, n2 = self.x_star.shape
        if a.shape[1] != n1 * n2:
            raise ShapeError(f"A_flat has {a.shape[1]} columns but X* is {n1} x {n2} (needs n1*n2 = {n1 * n2})")
        y = as_real_array(self.y, "y (the measurements)").reshape(-1)
        self.rank = check_int(self.rank, "rank", low=1, optional=True)
        self.seed = None if self.seed is None else check_seed(self.seed)
        if y.size != a.shape[0]:
            raise ShapeError(f"y has {y.size} entries but A_flat has {a.shape[0]} rows (measurements)")
        self.A_flat, self.y = a, y
        # SensingLoss keeps A as (m, n1, n2) and its own flat view: share memory (reshape is a view)
        self.loss = SensingLoss(a.reshape(a.shape[0], n1, n2), y, reduction="mean", half=True)

    @property
    def shape(self) -> tuple[int, int]:
        return self.x_star.shape

    @property
    def m(self) -> int:
        return self.y.size

    # --- the measurement operator and its adjoint ---------------------------------------------
    def measure(self, x) -> np.ndarray:
        """A(X) = (<A_i, X>)_i."""
        x = as_real_array(x, "x", nonempty=False)
        if x.shape != self.shape:
            raise ShapeError(f"X has shape {x.shape}, expected {self.shape}")
        return self.A_flat @ x.reshape(-1)

    def adjoint(self, r) -> np.ndarray:
        """A^*(r) = sum_i r_i A_i."""
        r = as_real_array(r, "r", nonempty=False).reshape(-1)
        if r.size != self.m:
            raise ShapeError(f"r has {r.size} entries, expected m = {self.m}")
        return (r @ self.A_flat).reshape(self.shape)

    def spectral_matrix(self) -> np.ndarray:
        """(1/m) A^*(y): the matrix whose top singular subspaces small-init GD aligns with first."""
        return self.adjoint(self.y) / self.m

    # --- the factorized loss ---------------------------------------------------------------------
    def _check_uv(self, u, v, names: tuple[str, str] = ("u", "v")) -> tuple[np.ndarray, np.ndarray]:
        nu, nv = names
        u, v = as_matrix(u, nu), as_matrix(v, nv)
        n1, n2 = self.shape
        if u.shape[0] != n1 or v.shape[0] != n2:
            raise ShapeError(f"{nu} is {u.shape} and {nv} is {v.shape}, but X* is {n1} x {n2} "
                             f"(need {nu}: {n1} x k, {nv}: {n2} x k)")
        if u.shape[1] != v.shape[1]:
            raise ShapeError(f"{nu} has k = {u.shape[1]} columns but {nv} has {v.shape[1]} (the same k is needed)")
        return u, v

    def value(self, u, v) -> float:
        u, v = self._check_uv(u, v)
        return self.loss.value(u @ v.T)

    def gradients(self, u, v) -> tuple[np.ndarray, np.ndarray]:
        """(G_U, G_V) = (G V, G^T U) with G = (1/m) A^*(A(U V^T) - y)."""
        u, v = self._check_uv(u, v)
        g = self.loss.gradient(u @ v.T)
        return g @ v, g.T @ u

    def relative_error(self, x) -> float:
        x = as_matrix(x, "x", shape=self.shape)
        return float(np.linalg.norm(x - self.x_star) / np.linalg.norm(self.x_star))


def _check_problem(problem) -> AsymmetricSensing:
    if not isinstance(problem, AsymmetricSensing):
        raise InvalidArgument(f"problem must be an AsymmetricSensing (e.g. from sensing_problem), got {type(problem).__name__}")
    return problem


def low_rank_matrix(n1: int, n2: int, r: int, *, seed: int = 0, condition: float = 1.0) -> np.ndarray:
    """A rank-r matrix with singular values linearly spaced in [1/condition, 1] and Haar singular vectors."""
    n1, n2, r = _check_int(n1, "n1"), _check_int(n2, "n2"), _check_int(r, "rank r")
    if r > min(n1, n2):
        raise InvalidArgument(f"rank r = {r} exceeds min(n1, n2) = {min(n1, n2)}")
    cond = check_positive(condition, "condition")
    if cond < 1:
        raise InvalidArgument(f"condition must be >= 1, got {cond}")
    rng = np.random.default_rng(check_seed(seed))
    qu, _ = np.linalg.qr(rng.standard_normal((n1, r)))
    qv, _ = np.linalg.qr(rng.standard_normal((n2, r)))
    s = np.linspace(1.0, 1.0 / cond, r)
    return (qu * s) @ qv.T


def sensing_problem(n1: int, n2: int, r: int, m: int, *, seed: int = 0, condition: float = 1.0) -> AsymmetricSensing:
    """X* of rank r (unit top singular value) and m Gaussian measurements (A_i i.i.d. N(0, 1) entries)."""
    m = _check_int(m, "number of measurements m")
    seed = check_seed(seed)
    x_star = low_rank_matrix(n1, n2, r, seed=seed, condition=condition)
    rng = np.random.default_rng([seed, 1])
    a = rng.standard_normal((m, n1 * n2))
    return AsymmetricSensing(x_star, a, a @ x_star.reshape(-1), rank=r, seed=seed)


def small_init(n1: int, n2: int, k: int, alpha: float, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """U_0 = alpha U_bar, V_0 = alpha V_bar with U_bar, V_bar i.i.d. N(0, 1/k) entries."""
    n1, n2 = _check_int(n1, "n1"), _check_int(n2, "n2")
    k = _check_int(k, "k (number of columns of U and V)")
    a = check_positive(alpha, "alpha (initialization scale)")
    rng = np.random.default_rng([check_seed(seed), 2])
    s = a / np.sqrt(k)
    return s * rng.standard_normal((n1, k)), s * rng.standard_normal((n2, k))


def imbalance(u, v) -> np.ndarray:
    """D = U^T U - V^T V (k x k).

    >>> imbalance(np.array([[2.0]]), np.array([[1.0]]))
    array([[3.]])
    """
    u, v = as_matrix(u, "u"), as_matrix(v, "v")
    if u.shape[1] != v.shape[1]:
        raise ShapeError(f"u and v must have the same number of columns k, got shapes {u.shape} and {v.shape}")
    return u.T @ u - v.T @ v


def sin_theta(x, reference, r: int) -> float:
    """Largest principal-angle sine between the top-r left AND right singular subspaces of x and reference.

    Returns max(||(I - P_ref) U_x||_2, ||(I - Q_ref) V_x||_2) over the top-r singular vectors.
    """
    x = as_matrix(x, "x")
    reference = as_matrix(reference, "reference")
    if reference.shape != x.shape:
        raise ShapeError(f"reference has shape {reference.shape} but x has shape {x.shape}")
    r = check_int(r, "r", low=1, high=min(x.shape))
    ux, _, vxt = np.linalg.svd(x, full_matrices=False)
    ur, _, vrt = np.linalg.svd(reference, full_matrices=False)
    ux, vx, ur, vr = ux[:, :r], vxt[:r].T, ur[:, :r], vrt[:r].T
    left = ux - ur @ (ur.T @ ux)
    right = vx - vr @ (vr.T @ vx)
    return float(max(np.linalg.norm(left, 2), np.linalg.norm(right, 2)))


@dataclass
class AsymmetricResult:
    """Outcome of :func:`asymmetric_gd`. ``history`` arrays are recorded every ``record_every`` steps.

    ``accumulated`` is sum_t (eta_U^2 G_U^T G_U - eta_V^2 G_V^T G_V) over all steps taken (the
    exact bookkeeping of the imbalance for eta_U = eta_V), and ``grad_energy`` is
    sum_t (eta_U^2 ||G_U||_F^2 + eta_V^2 ||G_V||_F^2).
    """

    status: str
    u: np.ndarray
    v: np.ndarray
    u0: np.ndarray
    v0: np.ndarray
    steps: int
    loss: float
    history: dict[str, np.ndarray]
    accumulated: np.ndarray
    grad_energy: float
    max_step_residual: float
    diverged_at: int | None = None

    @property
    def product(self) -> np.ndarray:
        return self.u @ self.v.T


def asymmetric_gd(problem: AsymmetricSensing, u0, v0, *, step: float, steps: int, step_v: float | None = None,
                  tol: float | None = None, record_every: int = 0, track_steps: bool = False,
                  angles: bool = False, on_divergence: str = "raise", max_loss: float | None = None) -> AsymmetricResult:
    """Gradient descent on f(U, V) from (u0, v0).

    ``step_v`` (default: ``step``) gives V its own rate (negative controls only). Stops when the loss
    is <= ``tol``. With ``track_steps`` each step's identity D_{t+1} - D_t = eta^2 (G_U^T G_U - G_V^T G_V)
    is checked and the worst relative residual kept in ``max_step_residual``. Recorded history:
    step, loss, rel_error (to X*), imbalance (||D||_F), norm (||U V^T||_F), and with ``angles`` the
    sines ``sin_star`` (top-r subspaces vs X*) and ``sin_spectral`` (vs (1/m) A^*(y)).
    Divergence (non-finite loss or loss > ``max_loss``, default 1e8 (f_0 + 1)) raises
    :class:`DivergenceError` with the step, or with ``on_divergence="return"`` ends with status "diverged".
    """
    problem = _check_problem(problem)
    u, v = problem._check_uv(u0, v0, ("u0", "v0"))
    u, v = u.copy(), v.copy()
    eta_u = check_positive(step, "step")
    eta_v = eta_u if step_v is None else check_positive(step_v, "step_v")
    steps = _check_int(steps, "steps", minimum=0)
    on_divergence = check_option(on_divergence, "on_divergence", ("raise", "return"))
    tol = check_real(tol, "tol", low=0.0, optional=True)
    record_every = check_int(record_every, "record_every", low=0)
    track_steps, angles = check_bool(track_steps, "track_steps"), check_bool(angles, "angles")
    max_loss = check_real(max_loss, "max_loss", low=0.0, low_open=True, allow_inf=True, optional=True)
    r = problem.rank or int(np.linalg.matrix_rank(problem.x_star))
    spectral = problem.spectral_matrix() if angles else None
    x = u @ v.T
    value = problem.loss.value(x)
    limit = 1e8 * (value + 1.0) if max_loss is None else float(max_loss)
    k = u.shape[1]
    acc = np.zeros((k, k))
    energy = 0.0
    worst = 0.0
    rec: dict[str, list] = {}

    def record(t):
        items = {"step": t, "loss": value, "rel_error": problem.relative_error(x),
                 "imbalance": float(np.linalg.norm(imbalance(u, v))), "norm": float(np.linalg.norm(x))}
        if angles:
            items["sin_star"] = sin_theta(x, problem.x_star, r)
            items["sin_spectral"] = sin_theta(x, spectral, r)
        for key, val in items.items():
            rec.setdefault(key, []).append(val)

    status, diverged_at, t = "max_steps", None, 0
    if record_every:
        record(0)
    while True:
        if tol is not None and value <= tol:
            status = "converged"
            break
        if t >= steps:
            break
        g = problem.loss.gradient(x)
        gu, gv = g @ v, g.T @ u
        term = eta_u**2 * (gu.T @ gu) - eta_v**2 * (gv.T @ gv)
        if track_steps:
            d_old = imbalance(u, v)
        u -= eta_u * gu
        v -= eta_v * gv
        acc += term
        energy += eta_u**2 * float(np.sum(gu * gu)) + eta_v**2 * float(np.sum(gv * gv))
        t += 1
        x = u @ v.T
        value = problem.loss.value(x)
        if not np.isfinite(value) or value > limit:
            if on_divergence == "raise":
                raise DivergenceError(
                    f"asymmetric gradient descent diverged at step {t}: loss = {value:.3e} (limit {limit:.3e}) "
                    f"with step size {eta_u:g}; try a smaller step", step=t, value=float(value))
            status, diverged_at = "diverged", t
            break
        if track_steps:
            scale = max(float(np.linalg.norm(u)) ** 2, float(np.linalg.norm(v)) ** 2, 1e-300)
            worst = max(worst, float(np.linalg.norm(imbalance(u, v) - d_old - term)) / scale)
        if record_every and t % record_every == 0:
            record(t)
    if record_every and status != "diverged" and rec["step"][-1] != t:
        record(t)
    return AsymmetricResult(status, u, v, np.asarray(u0, dtype=np.float64), np.asarray(v0, dtype=np.float64), t,
                            float(value), {key: np.asarray(val) for key, val in rec.items()}, acc, energy, worst,
                            diverged_at)


def asymmetric_flow(problem: AsymmetricSensing, u0, v0, t_eval, *, rate_v: float = 1.0, rtol: float = 1e-12,
                    atol: float = 1e-14) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Gradient flow U' = -G_U, V' = -rate_v G_V (rate_v != 1 only as a negative control).

    Returns (t, [(U(t), V(t)) for t in t_eval]); only the requested times are stored.
    """
    from dmf_verify.numerics.flow import solve_flow

    problem = _check_problem(problem)
    u0, v0 = problem._check_uv(u0, v0, ("u0", "v0"))
    rate = check_positive(rate_v, "rate_v")
    rtol, atol = check_tolerance(rtol, "rtol"), check_tolerance(atol, "atol")
    t_eval = as_real_array(t_eval, "t_eval", ndim=(0, 1, 2)).reshape(-1)
    n1, k = u0.shape
    split = n1 * k

    def rhs(_t, y):
        u = y[:split].reshape(n1, k)
        v = y[split:].reshape(-1, k)
        g = problem.loss.gradient(u @ v.T)
        return np.concatenate([-(g @ v).ravel(), -rate * (g.T @ u).ravel()])

    t, ys, _nfev, _status, _msg = solve_flow(rhs, np.concatenate([u0.ravel(), v0.ravel()]), t_eval,
                                             rtol=rtol, atol=atol)
    return t, [(y[:split].reshape(n1, k), y[split:].reshape(-1, k)) for y in ys]


def batched_gd(problem: AsymmetricSensing, u0s, v0s, *, step: float, steps: int, record_every: int = 0,
               max_loss: float | None = None) -> dict:
    """Run B independent GD runs at once (arrays u0s: (B, n1, k), v0s: (B, n2, k)); one Python loop.

    Used for sweeps over alpha (same k): each step costs two batched mat-mats instead of B loops.
    Returns a dict with ``u``, ``v`` (final, (B, ., k)), ``rel_error`` and ``loss`` (final, (B,)) and,
    with ``record_every``, ``history`` = {"step": (T,), "loss": (T, B), "rel_error": (T, B),
    "imbalance": (T, B)}. Divergence of any run raises :class:`DivergenceError` naming the step and run.
    """
    problem = _check_problem(problem)
    u = np.array(as_real_array(u0s, "u0s"), copy=True)
    v = np.array(as_real_array(v0s, "v0s"), copy=True)
    record_every = check_int(record_every, "record_every", low=0)
    max_loss = check_real(max_loss, "max_loss", low=0.0, low_open=True, allow_inf=True, optional=True)
    if u.ndim != 3 or v.ndim != 3 or u.shape[0] != v.shape[0]:
        raise ShapeError(f"u0s and v0s must be (B, n1, k) and (B, n2, k) stacks, got {u.shape} and {v.shape}")
    n1, n2 = problem.shape
    if u.shape[1] != n1 or v.shape[1] != n2 or u.shape[2] != v.shape[2]:
        raise ShapeError(f"stacks {u.shape} and {v.shape} do not match X* of shape {problem.shape} with a common k")
    if not (np.all(np.isfinite(u)) and np.all(np.isfinite(v))):
        raise InvalidArgument("initial factors contain non-finite entries")
    eta = check_positive(step, "step")
    steps = _check_int(steps, "steps", minimum=0)
    a, y, m = problem.A_flat, problem.y, problem.m
    xs = problem.x_star
    nstar = float(np.linalg.norm(xs))
    b = u.shape[0]

    def state():
        x = u @ v.transpose(0, 2, 1)
        res = x.reshape(b, -1) @ a.T - y
        return x, res, 0.5 * np.sum(res * res, axis=1) / m

    x, res, val = state()
    limit = 1e8 * (val + 1.0) if max_loss is None else np.full(b, float(max_loss))
    hist = {"step": [], "loss": [], "rel_error": [], "imbalance": []}

    def record(t):
        hist["step"].append(t)
        hist["loss"].append(val.copy())
        hist["rel_error"].append(np.linalg.norm((x - xs).reshape(b, -1), axis=1) / nstar)
        d = u.transpose(0, 2, 1) @ u - v.transpose(0, 2, 1) @ v
        hist["imbalance"].append(np.linalg.norm(d.reshape(b, -1), axis=1))

    if record_every:
        record(0)
    for t in range(1, steps + 1):
        g = (res @ a).reshape(b, n1, n2) / m
        gu = g @ v
        gv = g.transpose(0, 2, 1) @ u
        u -= eta * gu
        v -= eta * gv
        x, res, val = state()
        bad = ~np.isfinite(val) | (val > limit)
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise DivergenceError(f"batched gradient descent diverged at step {t} (run {i}): loss = {val[i]:.3e} "
                                  f"with step size {eta:g}; try a smaller step", step=t, value=float(val[i]))
        if record_every and t % record_every == 0:
            record(t)
    if record_every and hist["step"][-1] != steps:
        record(steps)
    out = {"u": u, "v": v, "loss": val, "rel_error": np.linalg.norm((x - xs).reshape(b, -1), axis=1) / nstar}
    if record_every:
        out["history"] = {key: np.asarray(val_) for key, val_ in hist.items()}
    return out


def alpha_sweep(problem: AsymmetricSensing, k: int, alphas, *, step: float, steps: int, seed: int = 0,
                record_every: int = 0) -> dict:
    """Final errors of GD from U_0 = alpha U_bar, V_0 = alpha V_bar for each alpha (same U_bar, V_bar)."""
    problem = _check_problem(problem)
    n1, n2 = problem.shape
    ub, vb = small_init(n1, n2, k, 1.0, seed=seed)
    al = as_vector(alphas, "alphas")
    al = np.array([check_positive(x, f"alphas[{i}]") for i, x in enumerate(al)])
    return batched_gd(problem, al[:, None, None] * ub, al[:, None, None] * vb, step=step, steps=steps,
                      record_every=record_every)


def loglog_slope(xs, ys) -> float:
    """Least-squares slope of log(y) against log(x) (at least two points, all > 0).

    >>> round(loglog_slope([1.0, 2.0, 4.0], [3.0, 12.0, 48.0]), 12)
    2.0
    """
    xs, ys = as_vector(xs, "xs"), as_vector(ys, "ys")
    if xs.size < 2 or ys.shape != xs.shape:
        raise ShapeError(f"xs and ys must hold the same number (>= 2) of points, got {xs.size} and {ys.size}")
    for name, a in (("xs", xs), ("ys", ys)):
        if np.any(a <= 0):
            raise InvalidArgument(f"{name} must be > 0 for a log-log slope, got min {float(a.min()):g}")
    lx, ly = np.log(xs), np.log(ys)
    return float(np.polyfit(lx, ly, 1)[0])


__all__ = ["AsymmetricResult", "AsymmetricSensing", "alpha_sweep", "asymmetric_flow", "asymmetric_gd", "batched_gd",
           "imbalance", "loglog_slope", "low_rank_matrix", "sensing_problem", "sin_theta", "small_init"]
