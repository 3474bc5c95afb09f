"""The experimental protocol of Arora et al. (2019) and its public code: problems, initializations, optimizers.

Protocol (Arora et al. 2019, Appendix D.2):

* ground truth ``W* = n W0 / ||W0||_F`` with ``W0 = U V^T / sqrt(r)``, ``U, V`` i.i.d. N(0, 1) of
  shape ``(n, r)``: rank exactly r, ``||W*||_F = n`` (RMS entry 1), not symmetric;
* completion: ``m`` distinct entries uniformly without replacement, ``y = W*`` on them;
  sensing: ``A_i`` with i.i.d. N(0, 1/n^2) entries (the public code's ``torch.randn(m, n, n) / n``),
  ``y_i = <A_i, W*>``;
* loss ``L = (1/m) sum_i (<A_i, W> - y_i)^2`` (mean, no 1/2);
* N full-width n x n factors; initializations ``gaussian`` (i.i.d. N(0, s^2), ``s =
  init_scale^(1/N) / sqrt(n)``), ``orthogonal`` (Haar-orthogonal factors times
  ``(init_scale sqrt(n))^(1/N)``: balanced) and ``identity`` (``init_scale^(1/N) I``);
* stop at the first iteration with ``L <= tol`` (1e-6), cap ``max_iter`` (1e6).

Random streams (``rng=``): ``"project"`` (default) draws everything from numpy Generators seeded
from ``seed``; ``"public"`` reproduces the public code's draws for the seed it is run with
(``--set seed S`` in each of its scripts): W* from numpy's legacy ``RandomState(S)`` (U then V,
drawn in float64 and cast to float32, all arithmetic in float32 as under numpy 1.x); Omega by
``torch.multinomial(torch.ones(n^2), m, replacement=False)`` and the sensing matrices by
``torch.randn(m, n, n) / n`` on a torch generator seeded with S; the initialization as in its
``main.py``: ``nn.Sequential`` of N ``nn.Linear`` layers (each default initialization draws a
uniform n x n matrix, discarded) and then the chosen initialization drawn per layer; factor j
of the product ``W_N ... W_1`` is the transpose of layer ``N + 1 - j``'s weight (its end-to-end
matrix is ``W_1^T W_2^T ...``). The public draws need torch (the optional extra).

Optimizers (:func:`train`):

* ``"gd"``: W_j <- W_j - lr g_j (the theory's object; the public code's ``SGD`` on the full loss);
* ``"sgd"``: mini-batch SGD, batches of ``batch_size`` observations drawn without replacement
  within each epoch (seeded by ``seed``); the stopping rule sees the full loss;
* ``"adaptive"``: the public code's "GroupRMSprop": one scalar for all layers,
  ``v_t = rho v_{t-1} + (1 - rho) sum_j ||g_j||_F^2``, ``eta_t = lr / (sqrt(v_t / (1 - rho^t)) + eps)``:
  GD with a time-varying step, a time reparametrization of the same gradient-flow path;
* ``"flow"``: the gradient flow itself (:func:`dmf_verify.numerics.integrators.rkc`: DOPRI5 while
  accuracy limits the step, then Runge-Kutta-Chebyshev through the stiff final phase), stopping at
  the first accepted step with ``L <= tol``; ``lr`` is the first trial step, ``rtol``/``atol`` the
  accuracy.

The gradient is computed by backpropagation reusing partial products (``N - 1`` products forward,
``2(N - 1)`` backward: ``3(N - 1)`` in all) into buffers allocated once. ``dtype=np.float32`` is
available; float64 is the default. ``backend="torch"`` runs the same loops with torch
(:mod:`dmf_verify.numerics.torch_backend`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from dmf_verify.errors import InvalidArgument, NonFiniteError, ShapeError
from dmf_verify.numerics.integrators.rkc import rkc_coefficients as _rkc_coefficients  # noqa: F401 (tests)
from dmf_verify.numerics.losses import CompletionLoss, SensingLoss
from dmf_verify.numerics.validation import (
    _show,
    as_matrix,
    as_vector,
    check_bool,
    check_depth,
    check_factors,
    check_int,
    check_option,
    check_positive,
    check_real,
    check_seed,
    check_shape,
    check_tolerance,
)

TASKS = ("completion", "sensing")
OPTIMIZERS = ("gd", "sgd", "adaptive", "flow")
INITS = ("gaussian", "orthogonal", "identity")
RNGS = ("project", "public")
BACKENDS = ("numpy", "torch")
DENSE_FLOAT64_LIMIT = 2 ** 23  # sensing operators with more entries are stored in float32


def _check_int(value, name: str, lo: int, hi: int | None = None) -> int:
    return check_int(value, name, low=lo, high=hi)


def _check_choice(value, name: str, choices) -> str:
    return check_option(value, name, choices)


_DEVICE_TYPES = ("cpu", "cuda", "mps")


def _check_device(device, backend: str):
    """None, a torch device string ('cpu', 'cuda', 'cuda:N', 'mps') or a torch.device; only with backend='torch'."""
    if device is None:
        return None
    ok = type(device).__name__ == "device" and type(device).__module__.startswith("torch")
    if isinstance(device, str):
        kind, _, index = device.partition(":")
        ok = kind in _DEVICE_TYPES and (index == "" if ":" not in device else index.isdigit())
    if not ok:
        raise InvalidArgument(f"device must be None, 'cpu', 'cuda', 'cuda:N' or 'mps' (a torch device), "
                              f"got {_show(device)}")
    if backend != "torch":
        raise InvalidArgument(f"device = {device!r} is only used with backend='torch', got backend={backend!r} "
                              f"(pass device=None)")
    return device


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InvalidArgument("rng='public' and backend='torch' need torch (pip install 'dmf-verify[torch]')") from exc
    return torch


def ground_truth(n: int, rank: int, *, seed: int = 0, rng: str = "project") -> np.ndarray:
    """``W* = n W0/||W0||_F``, ``W0 = U V^T/sqrt(rank)`` with U, V i.i.d. N(0, 1) of shape (n, rank).

    ``rng="public"``: the public code's ``gen_gt.py`` run with seed ``seed`` (float32 arithmetic;
    returned as float64, exactly).
    """
    n = _check_int(n, "n", 1)
    rank = _check_int(rank, "rank", 1, n)
    seed = check_seed(seed)
    _check_choice(rng, "rng", RNGS)
    if rng == "public":
        if seed > 2 ** 32 - 1:
            raise InvalidArgument(f"seed must be <= 2**32 - 1 for rng='public' (numpy RandomState), got {seed}")
        rs = np.random.RandomState(seed)
        u = rs.randn(n, rank).astype(np.float32)
        v = rs.randn(n, rank).astype(np.float32)
        w = u.dot(v.T) / np.float32(np.sqrt(rank))  # float32 / float32 scalar (numpy 1.x value-based casting)
        w = w / np.linalg.norm(w, "fro") * np.float32(n)
        return w.astype(np.float64)
    g = np.random.default_rng(seed)
    u = g.standard_normal((n, rank))
    v = g.standard_normal((n, rank))
    w0 = u @ v.T / math.sqrt(rank)
    return n * w0 / np.linalg.norm(w0)


class SensingOperator(SensingLoss):
    """Gaussian sensing ``(1/m) sum_i (<A_i, W> - y_i)^2`` with A kept as one (m, d d') matrix.

    Memory and time: A is stored once, in float32 when it has more than ``DENSE_FLOAT64_LIMIT``
    entries (n = 100, m = 5000: 200 MB instead of 400 MB; the public code's A is float32 anyway),
    and every product casts the vector, never the matrix, to A's dtype (one sgemv/dgemv of
    ``m d d'`` multiply-adds per product; y stays float64). It is a :class:`SensingLoss`
    (``value``/``gradient``/``residual``/``flat``/``A`` work as there).
    """

    def __init__(self, flat: np.ndarray, y: np.ndarray, shape, *, reduction: str = "mean", half: bool = False):
        shape = check_shape(shape, "shape")
        if isinstance(flat, np.ndarray) and flat.dtype == np.float32:  # kept in float32 (large operators)
            if flat.ndim != 2 or flat.size == 0:
                raise ShapeError(f"flat must be a non-empty 2-D array, got an array of shape {flat.shape}")
            if not np.all(np.isfinite(flat)):
                raise NonFiniteError("flat (the measurement matrices A) has non-finite entries")
        else:
            flat = as_matrix(flat, "flat")
        flat = np.ascontiguousarray(flat)
        if flat.shape[1] != shape[0] * shape[1]:
            raise ShapeError(f"flat must have shape (m, {shape[0] * shape[1]}), got {flat.shape}")
        self.flat = flat
        self.A = flat.reshape(flat.shape[0], *shape)
        self.y = as_vector(y, "y")
        if self.y.size != flat.shape[0]:
            raise ShapeError(f"y has {self.y.size} entries but flat holds {flat.shape[0]} measurement matrices")
        self.reduction = check_option(reduction, "reduction", ("sum", "mean"))
        self.half = check_bool(half, "half")
        self.shape = (int(shape[0]), int(shape[1]))
        w = 1.0 if reduction == "sum" else 1.0 / flat.shape[0]
        self.weight = 0.5 * w if half else w

    def measure(self, w) -> np.ndarray:
        v = self._check(w).reshape(-1).astype(self.flat.dtype)
        return (self.flat @ v).astype(np.float64)

    def gradient(self, w) -> np.ndarray:
        r = self.residual(w).astype(self.flat.dtype)
        return (2.0 * self.weight) * (r @ self.flat).astype(np.float64).reshape(self.shape)

    def as_float64(self) -> SensingLoss:
        """The same loss as a plain float64 :class:`SensingLoss` (for small cross-checks)."""
        return SensingLoss(self.A.astype(np.float64), self.y.copy(), reduction=self.reduction, half=self.half)


@dataclass(eq=False)
class Problem:
    """A protocol instance: ``loss`` (mean, no 1/2) and the ground truth it observes.

    For rating data (no ground truth) ``ground_truth`` is None and ``test`` holds the held-out
    ``(rows, cols, values)``; ``test_mse`` is then the mean squared error on them.
    """

    task: str
    n: int
    rank: int
    m: int
    seed: int
    ground_truth: np.ndarray | None
    loss: CompletionLoss | SensingLoss
    rng: str = "project"
    test: tuple | None = None

    def test_mse(self, w) -> float:
        """||W - W*||_F^2 / n^2 (the public code's test error), or the held-out MSE for rating data."""
        w = np.asarray(w, dtype=np.float64)
        if self.ground_truth is None:
            rows, cols, vals = self.test
            d = w[rows, cols] - vals
            return float(np.mean(d * d))
        d = w - self.ground_truth
        return float(np.sum(d * d) / d.size)

    def reconstruction_error(self, w) -> float:
        """||W - W*||_F / ||W*||_F (= sqrt(test MSE) under this protocol); rating data: RMSE / RMS rating."""
        w = np.asarray(w, dtype=np.float64)
        if self.ground_truth is None:
            return math.sqrt(self.test_mse(w)) / float(np.sqrt(np.mean(self.test[2] ** 2)))
        d = w - self.ground_truth
        return float(np.linalg.norm(d) / np.linalg.norm(self.ground_truth))

    def arrays(self) -> dict:
        """The instance as plain arrays (for an .npz anyone can reload)."""
        out = {} if self.ground_truth is None else {"ground_truth": self.ground_truth}
        if isinstance(self.loss, CompletionLoss):
            out.update(rows=self.loss.rows, cols=self.loss.cols, y=self.loss.values)
        else:
            out.update(A=self.loss.A, y=self.loss.y)
        if self.test is not None:
            out.update(test_rows=self.test[0], test_cols=self.test[1], test_y=self.test[2])
        return out


def _problem_seeds(seed: int) -> tuple[int, int]:
    s = check_seed(seed)
    return s, s + 1_000_003


def public_observations(n: int, m: int, *, seed: int, task: str, ground_truth32=None, chunk: int = 256):
    """The public code's ``gen_obs.py`` draws for seed ``seed``: completion -> (rows, cols);
    sensing -> (A as float32 (m, n*n), y float32) with y computed as there (in chunks of
    measurements, which sums each y_i in the same order)."""
    n = _check_int(n, "n", 1)
    task = _check_choice(task, "task", TASKS)
    m = _check_int(m, "m", 1, n * n if task == "completion" else None)
    seed = check_seed(seed, high=2**64 - 1)
    chunk = _check_int(chunk, "chunk", 1)
    if task == "sensing":
        ground_truth32 = as_matrix(ground_truth32, "ground_truth32", shape=(n, n)).astype(np.float32)
    elif ground_truth32 is not None:
        raise InvalidArgument(f"ground_truth32 is only used with task='sensing', got {_show(ground_truth32)} "
                              f"with task='completion'")
    torch = _torch()
    g = torch.Generator().manual_seed(int(seed))
    if task == "completion":
        idx = torch.multinomial(torch.ones(n * n), m, replacement=False, generator=g)
        return (idx // n).numpy().astype(np.intp), (idx % n).numpy().astype(np.intp)
    xs = torch.randn(m, n, n, generator=g) / n
    wgt = torch.from_numpy(np.asarray(ground_truth32, dtype=np.float32))
    ys = torch.empty(m)
    with torch.no_grad():
        for i in range(0, m, chunk):
            ys[i:i + chunk] = (xs[i:i + chunk] * wgt).sum(dim=-1).sum(dim=-1)
    return xs.reshape(m, n * n).numpy(), ys.numpy()


def make_problem(task: str, n: int, rank: int, m: int, *, seed: int = 0, rng: str = "project") -> Problem:
    """The protocol's completion or sensing instance for (n, rank, m, seed) from the streams ``rng``."""
    _check_choice(task, "task", TASKS)
    _check_choice(rng, "rng", RNGS)
    n = _check_int(n, "n", 1)
    rank = _check_int(rank, "rank", 1, n)
    m = _check_int(m, "m (number of observations)", 1, n * n if task == "completion" else None)
    if rng == "public":
        gt = ground_truth(n, rank, seed=seed, rng="public")
        if task == "completion":
            rows, cols = public_observations(n, m, seed=seed, task=task)
            # the public code's y = W*[us, vs] in float32: exactly gt's (float32-valued) entries
            loss = CompletionLoss(rows, cols, gt[rows, cols], shape=(n, n), reduction="mean", half=False)
        else:
            flat, y = public_observations(n, m, seed=seed, task=task, ground_truth32=gt.astype(np.float32))
            loss = SensingOperator(flat, y.astype(np.float64), (n, n))
        return Problem(task, n, rank, m, int(seed), gt, loss, rng="public")
    s_gt, s_obs = _problem_seeds(seed)
    gt = ground_truth(n, rank, seed=s_gt)
    g = np.random.default_rng(s_obs)
    if task == "completion":
        idx = g.choice(n * n, size=m, replace=False)
        rows, cols = np.unravel_index(idx, (n, n))
        loss = CompletionLoss(rows, cols, gt[rows, cols], shape=(n, n), reduction="mean", half=False)
    else:
        if m * n * n <= DENSE_FLOAT64_LIMIT:
            flat = g.standard_normal((m, n * n)) / n
        else:  # large: draw and keep float32 (the public code's precision); y exact for this A
            flat = g.standard_normal((m, n * n), dtype=np.float32)
            flat /= np.float32(n)
        y = flat.astype(np.float64, copy=False) @ gt.reshape(-1) if flat.dtype == np.float64 else \
            _matvec64(flat, gt.reshape(-1))
        loss = SensingOperator(flat, y, (n, n))
    return Problem(task, n, rank, m, int(seed), gt, loss)


def _matvec64(flat32: np.ndarray, v: np.ndarray, chunk: int = 512) -> np.ndarray:
    """float32 matrix times float64 vector accumulated in float64, in row chunks (bounded memory)."""
    out = np.empty(flat32.shape[0])
    for i in range(0, flat32.shape[0], chunk):
        out[i:i + chunk] = flat32[i:i + chunk].astype(np.float64) @ v
    return out


def completion_problem(n: int, rank: int, m: int, *, seed: int = 0, rng: str = "project") -> Problem:
    return make_problem("completion", n, rank, m, seed=seed, rng=rng)


def sensing_problem(n: int, rank: int, m: int, *, seed: int = 0, rng: str = "project") -> Problem:
    return make_problem("sensing", n, rank, m, seed=seed, rng=rng)


def _haar(rs_normal, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rs_normal)
    return q * np.sign(np.diag(r))


def init_factors(n: int, depth: int, init_scale: float, *, seed: int = 0, init: str = "gaussian",
                 rng: str = "project", shape: tuple[int, int] | None = None) -> list[np.ndarray]:
    """N factors ``[W_1, ..., W_N]`` (product ``W_N ... W_1``) of the protocol's initialization.

    ``init``: ``gaussian`` (i.i.d. N(0, s^2), ``s = init_scale^(1/N)/sqrt(n)``), ``orthogonal``
    (Haar-orthogonal times ``(init_scale sqrt(n))^(1/N)``, balanced) or ``identity``
    (``init_scale^(1/N) I``). ``shape=(rows, cols)``: a non-square product (rating data): factor
    1 is ``(cols, cols)``-wide hidden layers as in the public code (hidden width = cols).
    ``rng="public"``: the public code's draws for seed ``seed`` (module docstring).
    """
    n = _check_int(n, "n", 1)
    depth = check_depth(depth)
    scale = check_positive(init_scale, "init_scale")
    seed = check_seed(seed)
    _check_choice(init, "init", INITS)
    _check_choice(rng, "rng", RNGS)
    rows, cols = (n, n) if shape is None else check_shape(shape, "shape")
    # public hidden sizes [rows] + [cols] * depth: layer k maps width h_k -> h_{k+1}
    hidden = [rows] + [cols] * depth
    if rng == "public":
        return _public_init(hidden, depth, scale, seed, init)
    g = np.random.default_rng(seed + 2_000_003)
    dims = [cols] + [cols] * (depth - 1) + [rows]  # W_j: dims[j] x dims[j-1]... factor j maps dims[j-1] -> dims[j]
    fs = []
    for j in range(depth):
        d_out, d_in = dims[j + 1], dims[j]
        if init == "gaussian":
            fs.append((scale ** (1.0 / depth) / math.sqrt(rows)) * g.standard_normal((d_out, d_in)))
        elif init == "identity":
            fs.append(scale ** (1.0 / depth) * np.eye(d_out, d_in))
        else:
            big = max(d_out, d_in)
            q = _haar(g.standard_normal((big, big)), big)[:d_out, :d_in]
            fs.append((scale * math.sqrt(rows)) ** (1.0 / depth) * q)
    return fs


def _public_init(hidden, depth, scale, seed, init) -> list[np.ndarray]:
    torch = _torch()
    g = torch.Generator().manual_seed(int(seed))
    shapes = [(hidden[k + 1], hidden[k]) for k in range(depth)]  # nn.Linear(h_k, h_{k+1}).weight
    for shp in shapes:  # the default nn.Linear initialization (kaiming uniform) of each layer, discarded
        bound = 1.0 / math.sqrt(shp[1])
        torch.empty(shp).uniform_(-bound, bound, generator=g)
    weights = []
    for shp in shapes:
        w = torch.empty(shp)
        if init == "gaussian":
            torch.nn.init.normal_(w, std=scale ** (1.0 / depth) * hidden[0] ** -0.5, generator=g)
        elif init == "orthogonal":
            torch.nn.init.orthogonal_(w, generator=g)
            w.mul_((scale * np.sqrt(hidden[0])) ** (1.0 / depth))
        else:
            torch.nn.init.eye_(w)
            w.mul_(scale ** (1.0 / depth))
        weights.append(w.numpy().astype(np.float64))
    # e2e = W_1^T W_2^T ... W_N^T (layer weights): factor j of W_N ... W_1 is layer (N + 1 - j)'s weight^T
    return [w.T.copy() for w in reversed(weights)]


# --------------------------------------------------------------------------------------------
# objective: loss value and all factor gradients with 3(N-1) matrix products, into fixed buffers


class _Objective:
    """``evaluate(fs, grads) -> loss`` for the protocol's mean loss (no 1/2), reusing partial
    products; ``grads`` are filled in place (``negate=True``: with -grad, the flow's direction).
    ``self.w`` is the product (a buffer overwritten by the next call)."""

    def __init__(self, loss, dtype, shapes=None):
        self.dtype = np.dtype(dtype)
        self.shape = tuple(loss.shape)
        if isinstance(loss, CompletionLoss):
            self.kind = "completion"
            self.idx = np.ravel_multi_index((loss.rows, loss.cols), self.shape)
            self.y = loss.values.astype(self.dtype)
            self.g = np.zeros(self.shape, dtype=self.dtype)
            self.r = np.empty(self.y.size, dtype=self.dtype)
            self.rs = np.empty(self.y.size, dtype=self.dtype)
        elif isinstance(loss, SensingLoss):
            self.kind = "sensing"
            flat = loss.flat
            if flat.dtype != np.float32 and flat.dtype != self.dtype:
                flat = flat.astype(self.dtype)
            self.flat = flat
            self.mdt = flat.dtype
            self.y = loss.y.astype(np.float64)
            self.g = np.empty(self.shape, dtype=self.dtype)
            self.wv = np.empty(self.shape[0] * self.shape[1], dtype=self.mdt)
            self.rm = np.empty(self.y.size, dtype=self.mdt)
            self.r = np.empty(self.y.size, dtype=np.float64)
            self.gm = np.empty(self.shape[0] * self.shape[1], dtype=self.mdt)
        else:
            raise InvalidArgument(f"training supports CompletionLoss and SensingLoss, got {type(loss).__name__}")
        self.weight = float(loss.weight)
        self.nfev = 0
        self.shapes = None
        if shapes is not None:
            self._alloc(shapes)

    def _alloc(self, shapes):
        self.shapes = [tuple(s) for s in shapes]
        d0 = self.shapes[0][1]
        self.pre = [None] + [np.empty((s[0], d0), dtype=self.dtype) for s in self.shapes[1:]]
        self.back = [np.empty((s[1], d0), dtype=self.dtype) for s in self.shapes]

    def evaluate(self, fs, grads, *, negate: bool = False, batch=None) -> float:
        self.nfev += 1
        if self.shapes is None:
            self._alloc([f.shape for f in fs])
        n = len(fs)
        w = fs[0]
        for j in range(1, n):
            np.matmul(fs[j], w, out=self.pre[j])
            w = self.pre[j]
        self.w = w
        c = (-2.0 if negate else 2.0) * self.weight
        g = self.g
        if self.kind == "completion":
            wf = w.reshape(-1)
            np.take(wf, self.idx, out=self.r)
            self.r -= self.y
            value = self.weight * float(np.dot(self.r, self.r))
            gf = g.reshape(-1)
            if batch is None:
                np.multiply(self.r, c, out=self.rs)
                gf[self.idx] = self.rs
            else:
                gf.fill(0.0)
                gf[self.idx[batch]] = (c * self.y.size / len(batch)) * self.r[batch]
        else:
            np.copyto(self.wv, w.reshape(-1), casting="same_kind")
            np.matmul(self.flat, self.wv, out=self.rm)
            np.subtract(self.rm, self.y, out=self.r)
            value = self.weight * float(np.dot(self.r, self.r))
            if batch is None:
                np.multiply(self.r, c, out=self.rm, casting="same_kind")
                np.matmul(self.rm, self.flat, out=self.gm)
            else:
                rb = (c * self.y.size / len(batch)) * self.r[batch]
                self.gm[:] = rb.astype(self.mdt) @ self.flat[batch]
            np.copyto(g.reshape(-1), self.gm, casting="same_kind")
        b = g
        for j in range(n - 1, 0, -1):
            np.matmul(b, self.pre[j - 1].T if j > 1 else fs[0].T, out=grads[j])
            np.matmul(fs[j].T, b, out=self.back[j - 1])
            b = self.back[j - 1]
        np.copyto(grads[0], b)
        return value

    def __call__(self, fs):
        """Backward-compatible form: ``(loss, grads, W)`` with freshly allocated gradients."""
        grads = [np.empty(f.shape, dtype=self.dtype) for f in fs]
        value = self.evaluate(fs, grads)
        return value, grads, self.w.copy()


@dataclass
class TrainResult:
    """Outcome of :func:`train`.

    ``status``: ``"converged"`` (loss <= tol), ``"max_iter"``, ``"diverged"`` (non-finite or
    exploding loss), ``"step_underflow"`` (flow only: the step size collapsed) or ``"time_limit"``.
    ``iterations``: parameter updates (accepted steps for ``flow``); ``nfev``: gradient evaluations.
    ``stats``: the integrator's counters for ``flow`` (``power_nfev``, ``rejected``, ...).
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
    stats: dict = field(default_factory=dict)
    backend: str = "numpy"
    dtype: str = "float64"


def _validate_train(loss, factors, optimizer, lr, tol, max_iter, rho, eps, dtype, flow_method, batch_size,
                    record_every, time_limit, backend, max_loss, rtol, atol):
    if isinstance(loss, Problem):
        loss = loss.loss
    if not isinstance(loss, (CompletionLoss, SensingLoss)):
        raise InvalidArgument(f"loss must be a CompletionLoss, SensingLoss or Problem, got {_show(loss)}")
    _check_choice(optimizer, "optimizer", OPTIMIZERS)
    _check_choice(flow_method, "flow_method", ("rkc", "dopri5"))
    _check_choice(backend, "backend", BACKENDS)
    lr = check_positive(lr, "lr")
    tol = check_positive(tol, "tol", allow_zero=True)
    max_iter = _check_int(max_iter, "max_iter", 0)
    rho = check_real(rho, "rho", low=0.0, high=1.0, high_open=True)
    check_positive(eps, "eps", allow_zero=True)
    check_tolerance(rtol, "rtol")
    check_tolerance(atol, "atol")
    check_int(record_every, "record_every", low=0)
    check_real(time_limit, "time_limit", low=0.0, low_open=True, optional=True)
    check_real(max_loss, "max_loss", low=0.0, low_open=True, allow_inf=True, optional=True)
    batch_size = check_int(batch_size, "batch_size", low=1, high=loss.m, optional=True)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise InvalidArgument(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dtype not in (np.float32, np.float64):
        raise InvalidArgument(f"dtype must be float32 or float64, got {dtype}")
    fs = check_factors(factors, "factors")
    if (fs[-1].shape[0], fs[0].shape[1]) != tuple(loss.shape):
        raise ShapeError(f"the product of the factors has shape {(fs[-1].shape[0], fs[0].shape[1])} but the loss "
                         f"expects {tuple(loss.shape)}")
    return loss, fs, lr, tol, max_iter, rho, dtype, batch_size


def train(loss, factors, *, optimizer: str = "adaptive", lr: float = 1e-3, tol: float = 1e-6,
          max_iter: int = 1_000_000, rho: float = 0.99, eps: float = 1e-4, rtol: float = 1e-3,
          atol: float = 1e-8, dtype=np.float64, max_loss: float | None = None,
          record_every: int = 0, time_limit: float | None = None, flow_method: str = "rkc",
          batch_size: int | None = None, seed: int = 0, backend: str = "numpy",
          device: str | None = None, flow_order: int = 2) -> TrainResult:
    """Minimize ``loss(W_N ... W_1)`` from ``factors`` with ``optimizer`` until ``loss <= tol``.

    ``loss`` is a :class:`CompletionLoss` or :class:`SensingLoss` (its own reduction/half are
    honoured) or a :class:`Problem`. Divergence does not raise: it ends the run with status
    ``"diverged"`` (sweeps record it and go on). ``record_every`` > 0 records (iteration, loss)
    pairs; ``time_limit`` (seconds) ends a run early with status ``"time_limit"``.
    ``batch_size``/``seed``: the mini-batches of ``"sgd"`` (default m/10). ``backend="torch"``
    runs on torch (``device`` e.g. ``"cuda"``; default cuda when available, else cpu).
    """
    loss, fs, lr, tol, max_iter, rho, dtype, batch_size = _validate_train(
        loss, factors, optimizer, lr, tol, max_iter, rho, eps, dtype, flow_method, batch_size, record_every,
        time_limit, backend, max_loss, rtol, atol)
    seed = check_seed(seed)
    flow_order = check_int(flow_order, "flow_order", low=1, high=2)
    device = _check_device(device, backend)
    if optimizer == "sgd" and batch_size is None:
        batch_size = max(1, loss.m // 10)
    if backend == "torch":
        from dmf_verify.numerics import torch_backend

        return torch_backend.train(loss, fs, optimizer=optimizer, lr=lr, tol=tol, max_iter=max_iter, rho=rho,
                                   eps=eps, rtol=rtol, atol=atol, dtype=dtype, max_loss=max_loss,
                                   record_every=record_every, time_limit=time_limit, batch_size=batch_size,
                                   seed=seed, device=device, flow_method=flow_method, flow_order=flow_order)
    fs = [np.array(f, dtype=dtype, copy=True, order="C") for f in fs]
    obj = _Objective(loss, dtype, [f.shape for f in fs])
    start = time.perf_counter()
    # overflow on the way to a divergence is detected (non-finite loss -> status "diverged")
    with np.errstate(over="ignore", invalid="ignore"):
        if optimizer == "flow":
            res = _run_flow(obj, fs, h0=lr, tol=tol, max_iter=max_iter, rtol=rtol, atol=atol, max_loss=max_loss,
                            record_every=record_every, time_limit=time_limit, start=start, method=flow_method,
                            order=flow_order)
        else:
            res = _run_steps(obj, fs, optimizer, lr=lr, tol=tol, max_iter=max_iter, rho=rho, eps=eps,
                             max_loss=max_loss, record_every=record_every, time_limit=time_limit, start=start,
                             batch_size=batch_size, seed=seed)
    status, fs, it, value, w, flow_time, hist, stats = res
    seconds = time.perf_counter() - start
    return TrainResult(status, optimizer, [f.astype(np.float64) for f in fs], np.asarray(w, dtype=np.float64),
                       it, obj.nfev, float(value), seconds, flow_time, hist, stats, "numpy", str(dtype))


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


def _run_steps(obj, fs, optimizer, *, lr, tol, max_iter, rho, eps, max_loss, record_every, time_limit, start,
               batch_size=None, seed=0):
    adaptive = optimizer == "adaptive"
    sgd = optimizer == "sgd"
    v = 0.0
    rho_t = 1.0
    it = 0
    grads = [np.empty_like(f) for f in fs]
    rng = np.random.default_rng(seed + 3_000_017) if sgd else None
    m = obj.y.size
    perm, pos = None, m

    def next_batch():
        nonlocal perm, pos
        if pos + batch_size > m:
            perm, pos = rng.permutation(m), 0
        b = perm[pos:pos + batch_size]
        pos += batch_size
        return b

    value = obj.evaluate(fs, grads, batch=next_batch() if sgd else None)
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
        value = obj.evaluate(fs, grads, batch=next_batch() if sgd else None)
    return status, fs, it, value, obj.w.copy(), None, {k: np.asarray(x) for k, x in hist.items()}, {}


_FLOW_STATUS = {"event": "converged", "max_steps": "max_iter", "nonfinite": "diverged", "blowup": "diverged",
                "step_underflow": "step_underflow", "time_limit": "time_limit", "successful": "max_iter",
                "stalled": "step_underflow"}


def _run_flow(obj, fs, *, h0, tol, max_iter, rtol, atol, max_loss, record_every, time_limit, start, method,
              order=2):
    """Gradient flow dW_j/dt = -g_j on one flat state vector (factors are views of it)."""
    from dmf_verify.numerics.integrators import Status, dopri5, rkc

    shapes = [f.shape for f in fs]
    sizes = [int(np.prod(f.shape)) for f in fs]
    offs = [0]
    for z in sizes:
        offs.append(offs[-1] + z)
    dtype = fs[0].dtype
    nf = len(fs)

    def views(y):
        return [y[offs[i]:offs[i + 1]].reshape(shapes[i]) for i in range(nf)]

    cache: dict = {}

    is_np = isinstance(fs[0], np.ndarray)

    def ptr(a):
        return a.ctypes.data if is_np else a.data_ptr()

    def rhs(y, out):
        key = (ptr(y), ptr(out))
        v = cache.get(key)
        if v is None:
            v = cache[key] = (views(y), views(out))
        return obj.evaluate(v[0], v[1], negate=True)

    if is_np:
        y0 = np.concatenate([f.ravel() for f in fs]).astype(dtype)
    else:
        import torch

        y0 = torch.cat([f.reshape(-1) for f in fs])
    hist = {"iteration": [], "loss": [], "t": []}
    state = {"limit": None}

    def stop(value, t, steps):
        if state["limit"] is None:
            state["limit"] = _limit(value, max_loss)
        reason = _stop_reason(value, state["limit"], tol, steps, max_iter, None, start)
        if reason == "converged":
            return Status.EVENT
        if reason == "diverged":
            return Status.BLOWUP
        if reason == "max_iter":
            return Status.MAX_STEPS
        return None

    def on_step(t, steps, value, y):
        if record_every and steps % record_every == 0:
            hist["iteration"].append(steps)
            hist["loss"].append(value)
            hist["t"].append(t)

    kw = {"order": order} if method == "rkc" else {}
    solver = rkc if method == "rkc" else dopri5
    # stop where the loss first reaches tol (the crossing step is shortened to land in [0.9 tol, tol]),
    # as a small-step optimizer would: the test error still moves in the final phase
    sol = solver(rhs, y0, h0=h0, rtol=rtol, atol=atol, max_steps=max_iter + 1, stop=stop, on_step=on_step,
                 time_limit=time_limit, stop_below=tol if tol > 0 else None, **kw)
    status = _FLOW_STATUS[sol.status.value]
    y = sol.y[0]
    out = [f.clone() if not is_np else f.copy() for f in views(y)]
    w = out[0]
    for f in out[1:]:
        w = f @ w
    stats = {k: v for k, v in sol.stats.items() if isinstance(v, (int, float, bool, type(None)))}
    stats["solver_status"] = sol.status.value
    return (status, out, int(sol.stats["steps"]), float(sol.stats["value"]), w, float(sol.t_final),
            {k: np.asarray(x) for k, x in hist.items()}, stats)
