"""torch backend of the training loops and the gradient flow (optional: needs torch).

:func:`train` is :func:`dmf_verify.numerics.training.train` on torch tensors (``backend="torch"``
there): the same objective (3(N-1) products into buffers allocated once), the same update rules and
the same flow integrators (:mod:`dmf_verify.numerics.integrators` run on torch tensors, so on CUDA
the state never leaves the device; only scalars do). ``device=None`` picks ``cuda`` when available,
else ``cpu``. On CPU the results equal numpy's to floating-point tolerance (tests).

:func:`train_batch` runs B runs of the same shape at once (a sweep's seeds on one device): factors
stacked as (B, d_out, d_in), batched products, per-run GroupRMSprop scalars or GD steps, and a
per-run stop (a finished run is frozen where it stopped while the others go on).

Threads: torch's intra-op pool is left as configured (sweeps start workers with
OMP_NUM_THREADS=1); do not mix numpy- and torch-threaded hot loops in one process.
"""

from __future__ import annotations

import math
import time

import numpy as np

from dmf_verify.errors import InvalidArgument, ShapeError
from dmf_verify.numerics.losses import CompletionLoss, SensingLoss
from dmf_verify.numerics.validation import (
    _show,
    check_factors,
    check_int,
    check_option,
    check_positive,
    check_real,
)


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InvalidArgument("backend='torch' needs torch (pip install 'dmf-verify[torch]')") from exc
    return torch


def default_device() -> str:
    torch = _torch()
    return "cuda" if torch.cuda.is_available() else "cpu"


def _device(device):
    torch = _torch()
    dev = torch.device(device or default_device())
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidArgument(f"device {device!r} requested but CUDA is not available")
    return dev


def _tdtype(dtype):
    torch = _torch()
    return torch.float32 if np.dtype(dtype) == np.float32 else torch.float64


class TorchObjective:
    """The protocol's loss and all factor gradients on torch (see ``training._Objective``)."""

    def __init__(self, loss, dtype, device, shapes):
        torch = _torch()
        self.torch = torch
        self.dt = _tdtype(dtype)
        self.dev = device
        self.shape = tuple(loss.shape)
        if isinstance(loss, CompletionLoss):
            self.kind = "completion"
            idx = np.ravel_multi_index((loss.rows, loss.cols), self.shape)
            self.idx = torch.as_tensor(idx, dtype=torch.long, device=device)
            self.y = torch.as_tensor(loss.values, dtype=self.dt, device=device)
            self.g = torch.zeros(self.shape, dtype=self.dt, device=device)
        elif isinstance(loss, SensingLoss):
            self.kind = "sensing"
            flat = loss.flat
            mdt = torch.float32 if flat.dtype == np.float32 else self.dt
            self.flat = torch.as_tensor(np.ascontiguousarray(flat), dtype=mdt, device=device)
            self.y = torch.as_tensor(loss.y, dtype=torch.float64, device=device)
            self.g = torch.empty(self.shape, dtype=self.dt, device=device)
            self.rm = torch.empty(self.y.numel(), dtype=mdt, device=device)
            self.gm = torch.empty(self.shape[0] * self.shape[1], dtype=mdt, device=device)
        else:
            raise InvalidArgument(f"training supports CompletionLoss and SensingLoss, got {type(loss).__name__}")
        self.r = torch.empty(self.y.numel(), dtype=self.dt if self.kind == "completion" else torch.float64,
                             device=device)
        self.weight = float(loss.weight)
        self.nfev = 0
        d0 = shapes[0][1]
        self.pre = [None] + [torch.empty((s[0], d0), dtype=self.dt, device=device) for s in shapes[1:]]
        self.back = [torch.empty((s[1], d0), dtype=self.dt, device=device) for s in shapes]

    def evaluate(self, fs, grads, *, negate: bool = False, batch=None) -> float:
        torch = self.torch
        self.nfev += 1
        n = len(fs)
        w = fs[0]
        for j in range(1, n):
            torch.matmul(fs[j], w, out=self.pre[j])
            w = self.pre[j]
        self.w = w
        c = (-2.0 if negate else 2.0) * self.weight
        g = self.g
        if self.kind == "completion":
            torch.index_select(w.reshape(-1), 0, self.idx, out=self.r)
            self.r -= self.y
            value = self.weight * float(torch.dot(self.r, self.r))
            gf = g.view(-1)
            if batch is None:
                gf[self.idx] = c * self.r
            else:
                gf.zero_()
                gf[self.idx[batch]] = (c * self.y.numel() / len(batch)) * self.r[batch]
        else:
            torch.mv(self.flat, w.reshape(-1).to(self.flat.dtype), out=self.rm)
            torch.sub(self.rm.to(torch.float64), self.y, out=self.r)
            value = self.weight * float(torch.dot(self.r, self.r))
            if batch is None:
                torch.mv(self.flat.T, (c * self.r).to(self.flat.dtype), out=self.gm)
            else:
                rb = ((c * self.y.numel() / len(batch)) * self.r[batch]).to(self.flat.dtype)
                self.gm.copy_(self.flat[batch].T @ rb)
            g.view(-1).copy_(self.gm)
        b = g
        for j in range(n - 1, 0, -1):
            torch.matmul(b, (self.pre[j - 1] if j > 1 else fs[0]).T, out=grads[j])
            torch.matmul(fs[j].T, b, out=self.back[j - 1])
            b = self.back[j - 1]
        grads[0].copy_(b)
        return value


def train(loss, fs, *, optimizer, lr, tol, max_iter, rho, eps, rtol, atol, dtype, max_loss, record_every,
          time_limit, batch_size, seed, device=None, flow_method="rkc", flow_order=2):
    """:func:`dmf_verify.numerics.training.train` on torch (arguments validated there)."""
    from dmf_verify.numerics import training as T

    torch = _torch()
    dev = _device(device)
    dt = _tdtype(dtype)
    tfs = [torch.as_tensor(np.ascontiguousarray(f), dtype=dt, device=dev).clone() for f in fs]
    obj = TorchObjective(loss, dtype, dev, [tuple(f.shape) for f in tfs])
    start = time.perf_counter()
    with torch.no_grad():
        if optimizer == "flow":
            res = T._run_flow(obj, tfs, h0=lr, tol=tol, max_iter=max_iter, rtol=rtol, atol=atol, max_loss=max_loss,
                              record_every=record_every, time_limit=time_limit, start=start, method=flow_method,
                              order=flow_order)
        else:
            res = _run_steps(obj, tfs, optimizer, lr=lr, tol=tol, max_iter=max_iter, rho=rho, eps=eps,
                             max_loss=max_loss, record_every=record_every, time_limit=time_limit, start=start,
                             batch_size=batch_size, seed=seed)
    status, out, it, value, w, flow_time, hist, stats = res
    seconds = time.perf_counter() - start
    to64 = lambda a: a.detach().to("cpu", torch.float64).numpy()
    stats = dict(stats, device=str(dev))
    return T.TrainResult(status, optimizer, [to64(f) for f in out], to64(w), it, obj.nfev, float(value), seconds,
                         flow_time, hist, stats, "torch", str(np.dtype(dtype)))


def _run_steps(obj, fs, optimizer, *, lr, tol, max_iter, rho, eps, max_loss, record_every, time_limit, start,
               batch_size, seed):
    from dmf_verify.numerics.training import _limit, _stop_reason

    torch = obj.torch
    adaptive = optimizer == "adaptive"
    sgd = optimizer == "sgd"
    grads = [torch.empty_like(f) for f in fs]
    rng = np.random.default_rng(seed + 3_000_017) if sgd else None
    m = obj.y.numel()
    perm, pos = None, m

    def next_batch():
        nonlocal perm, pos
        if pos + batch_size > m:
            perm, pos = rng.permutation(m), 0
        b = perm[pos:pos + batch_size]
        pos += batch_size
        return torch.as_tensor(b, dtype=torch.long, device=obj.dev)

    v, rho_t, it = 0.0, 1.0, 0
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
                sq += float(torch.dot(g.view(-1), g.view(-1)))
            v = rho * v + (1.0 - rho) * sq
            rho_t *= rho
            eta = lr / (math.sqrt(v / (1.0 - rho_t)) + eps)
        else:
            eta = lr
        for f, g in zip(fs, grads):
            f.add_(g, alpha=-eta)
        value = obj.evaluate(fs, grads, batch=next_batch() if sgd else None)
    return status, fs, it, value, obj.w.clone(), None, {k: np.asarray(x) for k, x in hist.items()}, {}


def train_batch(problems, factor_lists, *, optimizer: str = "adaptive", lr: float = 1e-3, tol: float = 1e-6,
                max_iter: int = 1_000_000, rho: float = 0.99, eps: float = 1e-4, dtype=np.float64, device=None):
    """Train B runs of the same shapes and loss kind at once (``gd`` or ``adaptive``); returns a list
    of :class:`~dmf_verify.numerics.training.TrainResult`, run b stopped at its own first iterate
    with loss <= tol (or diverged / max_iter)."""
    from dmf_verify.numerics.training import Problem, TrainResult, _check_device

    torch = _torch()
    check_option(optimizer, "optimizer", ("gd", "adaptive"))
    lr = check_positive(lr, "lr")
    tol = check_real(tol, "tol", low=0.0)
    max_iter = check_int(max_iter, "max_iter", low=0)
    rho = check_real(rho, "rho", low=0.0, high=1.0, high_open=True)
    eps = check_real(eps, "eps", low=0.0)
    _check_device(device, "torch")
    for name, seq in (("problems", problems), ("factor_lists", factor_lists)):
        if seq is None or isinstance(seq, (str, bytes, np.ndarray)) or not isinstance(seq, (list, tuple)):
            raise InvalidArgument(f"{name} must be a list (one entry per run), got {_show(seq)}")
    losses = [p.loss if isinstance(p, Problem) else p for p in problems]
    if not losses or len(losses) != len(factor_lists):
        raise InvalidArgument(f"need as many factor_lists as problems (at least one), got {len(factor_lists)} "
                              f"and {len(losses)}")
    for b, ls in enumerate(losses):
        if not isinstance(ls, (CompletionLoss, SensingLoss)):
            raise InvalidArgument(f"problems[{b}] must be a CompletionLoss, SensingLoss or Problem, got {_show(ls)}")
    factor_lists = [check_factors(fl, f"factor_lists[{b}]") for b, fl in enumerate(factor_lists)]
    for b, (fl, ls) in enumerate(zip(factor_lists, losses)):
        if (fl[-1].shape[0], fl[0].shape[1]) != tuple(ls.shape):
            raise ShapeError(f"factor_lists[{b}] has a product of shape {(fl[-1].shape[0], fl[0].shape[1])} but "
                             f"problems[{b}] expects {tuple(ls.shape)}")
    kinds = {type(ls).__name__ for ls in losses}
    ms = {ls.m for ls in losses}
    shapes = {tuple(tuple(np.shape(f)) for f in fl) for fl in factor_lists}
    if len(kinds) != 1 or len(ms) != 1 or len(shapes) != 1 or len({tuple(ls.shape) for ls in losses}) != 1:
        raise InvalidArgument("train_batch needs runs of one loss kind, one m and equal factor shapes")
    dev = _device(device)
    dt = _tdtype(dtype)
    B = len(losses)
    depth = len(factor_lists[0])
    fs = [torch.as_tensor(np.stack([fl[j] for fl in factor_lists]), dtype=dt, device=dev).contiguous()
          for j in range(depth)]
    shape = tuple(losses[0].shape)
    weight = torch.as_tensor([float(ls.weight) for ls in losses], dtype=dt, device=dev)
    completion = isinstance(losses[0], CompletionLoss)
    if completion:
        idx = torch.as_tensor(np.stack([np.ravel_multi_index((ls.rows, ls.cols), shape) for ls in losses]),
                              dtype=torch.long, device=dev)
        y = torch.as_tensor(np.stack([ls.values for ls in losses]), dtype=dt, device=dev)
    else:
        A = torch.as_tensor(np.stack([ls.flat for ls in losses]), dtype=dt, device=dev)
        y = torch.as_tensor(np.stack([ls.y for ls in losses]), dtype=dt, device=dev)
    start = time.perf_counter()

    def evaluate():
        w = fs[0]
        pre = [w]
        for f in fs[1:]:
            w = torch.bmm(f, w)
            pre.append(w)
        if completion:
            r = torch.gather(w.reshape(B, -1), 1, idx) - y
            g = torch.zeros((B, shape[0] * shape[1]), dtype=dt, device=dev)
            g.scatter_(1, idx, (2.0 * weight)[:, None] * r)
        else:
            r = torch.bmm(A, w.reshape(B, -1, 1))[:, :, 0] - y
            g = (2.0 * weight)[:, None] * torch.bmm(r[:, None, :], A)[:, 0, :]
        value = weight * (r * r).sum(dim=1)
        g = g.reshape(B, *shape)
        grads = [None] * depth
        b = g
        for j in range(depth - 1, 0, -1):
            grads[j] = torch.bmm(b, pre[j - 1].transpose(1, 2))
            b = torch.bmm(fs[j].transpose(1, 2), b)
        grads[0] = b
        return value, grads, w

    active = torch.ones(B, dtype=torch.bool, device=dev)
    status = ["" for _ in range(B)]
    iters = np.zeros(B, dtype=np.int64)
    final_loss = np.full(B, np.nan)
    v = torch.zeros(B, dtype=dt, device=dev)
    rho_t = 1.0
    it = 0
    with torch.no_grad():
        value, grads, w = evaluate()
        limit = (1e8 * (value.abs() + 1.0)).cpu().numpy()
        out_f = [f.clone() for f in fs]
        out_w = w.clone()
        while True:
            vals = value.cpu().numpy()
            act = active.cpu().numpy()
            for b in np.flatnonzero(act):
                st = None
                if not math.isfinite(vals[b]) or vals[b] > limit[b]:
                    st = "diverged"
                elif vals[b] <= tol:
                    st = "converged"
                elif it >= max_iter:
                    st = "max_iter"
                if st is not None:
                    status[b], iters[b], final_loss[b] = st, it, vals[b]
                    for j in range(depth):
                        out_f[j][b] = fs[j][b]
                    out_w[b] = w[b]
                    active[b] = False
            if not bool(active.any()):
                break
            it += 1
            if optimizer == "adaptive":
                sq = sum((g * g).sum(dim=(1, 2)) for g in grads)
                v = rho * v + (1.0 - rho) * sq
                rho_t *= rho
                eta = lr / (torch.sqrt(v / (1.0 - rho_t)) + eps)
            else:
                eta = torch.full((B,), lr, dtype=dt, device=dev)
            eta = torch.where(active, eta, torch.zeros_like(eta))[:, None, None]
            for f, g in zip(fs, grads):
                f.sub_(eta * g)
            value, grads, w = evaluate()
    seconds = time.perf_counter() - start
    to64 = lambda a: a.detach().to("cpu", torch.float64).numpy()
    res = []
    for b in range(B):
        res.append(TrainResult(status[b], optimizer, [to64(f[b]) for f in out_f], to64(out_w[b]), int(iters[b]),
                               int(iters[b]) + 1, float(final_loss[b]), seconds, None, {},
                               {"device": str(dev), "batch": B}, "torch", str(np.dtype(dtype))))
    return res
