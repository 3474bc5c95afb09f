"""Gradient descent on B independent deep factorizations at once (one Python loop, stacked products).

Empirical claims are rates over many random instances; running the instances one after the other
costs B Python loops of small matrix products. Here every factor is a stack ``(B, d_j, d_{j-1})``
and one step is a handful of batched ``matmul`` calls, so twenty 5x5 instances cost about as much
as one.

Losses (``value`` -> (B,), ``gradient`` -> (B, d, d')):

* :class:`BatchedFrobenius`: the estimation problem l_b(W) = 1/2 ||W - A_b||_F^2 (Chou et al.);
* :class:`BatchedSensing`: l_b(W) = c sum_i (<A_{b,i}, W> - y_{b,i})^2 with c = 1/2 (``reduction="sum"``)
  or 1/(2m) (``"mean"``), one measurement set per instance.

The factor gradients are (W_N ... W_{j+1})^T G (W_{j-1} ... W_1)^T, updated simultaneously, as in
:func:`dmf_verify.numerics.descent.gradient_descent` (which this reproduces run by run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from dmf_verify.errors import DivergenceError, InvalidArgument, ShapeError
from dmf_verify.numerics.validation import (
    _show,
    as_real_array,
    check_callable,
    check_int,
    check_loss,
    check_option,
    check_positive,
    check_real,
)


def _stack(x, name: str, ndim: int) -> np.ndarray:
    return as_real_array(x, name, ndim=ndim)


@dataclass(eq=False)
class BatchedFrobenius:
    """l_b(W) = 1/2 ||W - targets[b]||_F^2 for b = 0..B-1 (``targets``: (B, d, d'))."""

    targets: np.ndarray

    def __post_init__(self):
        self.targets = _stack(self.targets, "targets", 3)
        self.shape = self.targets.shape

    def value(self, w: np.ndarray) -> np.ndarray:
        r = w - self.targets
        return 0.5 * np.einsum("bij,bij->b", r, r)

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return w - self.targets


@dataclass(eq=False)
class BatchedSensing:
    """l_b(W) = c sum_i (<A[b, i], W> - y[b, i])^2, ``A``: (B, m, d, d'), ``y``: (B, m).

    ``reduction="sum"``: c = 1/2; ``"mean"``: c = 1/(2m).
    """

    A: np.ndarray
    y: np.ndarray
    reduction: str = "mean"

    def __post_init__(self):
        a = _stack(self.A, "A", 4)
        y = _stack(self.y, "y", 2)
        if y.shape != a.shape[:2]:
            raise ShapeError(f"y has shape {y.shape} but A holds {a.shape[:2]} measurement matrices")
        check_option(self.reduction, "reduction", ("sum", "mean"))
        self.A, self.y = a, y
        b, m, d, dp = a.shape
        self.flat = a.reshape(b, m, d * dp)
        self.shape = (b, d, dp)
        self.weight = 0.5 if self.reduction == "sum" else 0.5 / m

    def residual(self, w: np.ndarray) -> np.ndarray:
        return (self.flat @ w.reshape(w.shape[0], -1, 1))[..., 0] - self.y

    def value(self, w: np.ndarray) -> np.ndarray:
        r = self.residual(w)
        return self.weight * np.einsum("bm,bm->b", r, r)

    def gradient(self, w: np.ndarray) -> np.ndarray:
        r = self.residual(w)
        return (2.0 * self.weight) * (r[:, None, :] @ self.flat)[:, 0, :].reshape(w.shape)


def _chain(fs: Sequence[np.ndarray]) -> np.ndarray:
    w = fs[0]
    for f in fs[1:]:
        w = f @ w
    return w


def batched_factor_gradients(fs: Sequence[np.ndarray], g: np.ndarray) -> list[np.ndarray]:
    """(W_N..W_{j+1})^T G (W_{j-1}..W_1)^T for every j, on stacks (prefix and suffix products reused)."""
    fs = _check_stacks(fs, "fs")
    g = _stack(g, "g", 3)
    if g.shape != (fs[0].shape[0], fs[-1].shape[1], fs[0].shape[2]):
        raise ShapeError(f"g has shape {g.shape} but the products of fs have shape "
                         f"{(fs[0].shape[0], fs[-1].shape[1], fs[0].shape[2])}")
    return _factor_gradients(fs, g)


def _check_stacks(factors, name: str) -> list[np.ndarray]:
    """[W_1, ..., W_N], each a stack (B, d_j, d_{j-1}) of finite values, chaining, with one B."""
    if factors is None or isinstance(factors, (str, bytes, np.ndarray)) or not isinstance(factors, Sequence):
        raise InvalidArgument(f"{name} must be a sequence of factor stacks [W_1, ..., W_N], got {_show(factors)}")
    fs = [_stack(f, f"{name}[{j}] (W_{j + 1})", 3) for j, f in enumerate(factors)]
    if not fs:
        raise InvalidArgument(f"{name} must hold at least one factor stack, got an empty sequence")
    b = fs[0].shape[0]
    for j in range(1, len(fs)):
        if fs[j].shape[0] != b or fs[j].shape[2] != fs[j - 1].shape[1]:
            raise ShapeError(f"{name} do not chain: W_{j + 1} has shape {fs[j].shape}, "
                             f"W_{j} has {fs[j - 1].shape}")
    return fs


def _factor_gradients(fs, g) -> list[np.ndarray]:
    n = len(fs)
    pre = [None] * (n + 1)  # pre[j] = W_j ... W_1
    for j in range(1, n + 1):
        pre[j] = fs[0] if j == 1 else fs[j - 1] @ pre[j - 1]
    grads = [None] * n
    back = g  # (W_N ... W_{j+1})^T G
    for j in range(n - 1, -1, -1):
        grads[j] = back if j == 0 else back @ np.swapaxes(pre[j], 1, 2)
        back = np.swapaxes(fs[j], 1, 2) @ back
    return grads


@dataclass
class BatchedDescentResult:
    """Final factors (stacks), product, per-instance loss and the recorded history.

    ``history["step"]`` holds the recorded iterations; every other key maps to an array whose
    first axis runs over the records and second over the instances.
    """

    factors: list[np.ndarray]
    product: np.ndarray
    loss: np.ndarray
    steps: int
    history: dict = field(default_factory=dict)


def batched_descent(loss, factors: Sequence[np.ndarray], *, step, steps: int, record_every: int = 0,
                    observe: Callable[[np.ndarray], dict] | None = None,
                    max_loss: float | None = None) -> BatchedDescentResult:
    """``steps`` simultaneous GD updates W_j <- W_j - eta_b dphi_b/dW_j on every instance b.

    ``factors``: [W_1, ..., W_N], each a stack (B, d_j, d_{j-1}); ``step``: a scalar or one step
    per instance (B,). ``observe(W)`` (W: (B, d, d')) returns arrays of shape (B, ...) to record
    every ``record_every`` steps (and at the last step). A non-finite loss, or one above
    ``max_loss`` (default 1e8 (l_0 + 1)), raises :class:`DivergenceError` naming the step and instance.
    """
    check_loss(loss)
    fs = [np.array(f, copy=True) for f in _check_stacks(factors, "factors")]
    b = fs[0].shape[0]
    out_shape = (b, fs[-1].shape[1], fs[0].shape[2])
    if tuple(getattr(loss, "shape", out_shape)) != out_shape:
        raise ShapeError(f"the products of the factors have shape {out_shape} but the loss expects "
                         f"{tuple(loss.shape)}")
    if isinstance(step, np.ndarray) and step.ndim == 0:
        step = step[()]
    if isinstance(step, (list, tuple, np.ndarray)):
        eta = as_real_array(step, "step", ndim=1)
        if eta.shape != (b,):
            raise ShapeError(f"step must be a scalar or hold {b} steps (one per instance), got shape {eta.shape}")
        if np.any(eta <= 0):
            raise InvalidArgument(f"step must hold steps > 0, got {_show(eta)}")
    else:
        eta = np.full(b, check_positive(step, "step"))
    steps = check_int(steps, "steps", low=0)
    record_every = check_int(record_every, "record_every", low=0)
    check_callable(observe, "observe", optional=True)
    max_loss = check_real(max_loss, "max_loss", low=0.0, low_open=True, allow_inf=True, optional=True)
    eta3 = eta[:, None, None]
    w = _chain(fs)
    value = loss.value(w)
    limit = 1e8 * (np.abs(value) + 1.0) if max_loss is None else np.full(b, float(max_loss))
    rec: dict[str, list] = {"step": [], "loss": []}

    def record(k):
        rec["step"].append(k)
        rec["loss"].append(value.copy())
        if observe is not None:
            for key, val in observe(w).items():
                rec.setdefault(key, []).append(np.asarray(val))

    if record_every:
        record(0)
    for k in range(1, int(steps) + 1):
        grads = _factor_gradients(fs, loss.gradient(w))
        for f, g in zip(fs, grads):
            f -= eta3 * g
        w = _chain(fs)
        value = loss.value(w)
        bad = ~np.isfinite(value) | (value > limit)
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise DivergenceError(f"batched gradient descent diverged at step {k} (instance {i}): loss = "
                                  f"{value[i]:.3e} with step size {eta[i]:g}; try a smaller step",
                                  step=k, value=float(value[i]))
        if record_every and k % record_every == 0:
            record(k)
    if record_every and rec["step"][-1] != steps:
        record(int(steps))
    hist = {key: np.asarray(v) for key, v in rec.items()}
    return BatchedDescentResult(fs, w, value, int(steps), hist)


def batched_effective_rank(w: np.ndarray) -> np.ndarray:
    """Effective rank (Roy & Vetterli) of every matrix of a stack (B, d, d'); 0 for a zero matrix."""
    w = _stack(w, "w", 3)
    s = np.linalg.svd(w, compute_uv=False)
    tot = s.sum(axis=-1, keepdims=True)
    p = np.divide(s, tot, out=np.zeros_like(s), where=tot > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = np.exp(-terms.sum(axis=-1))
    return np.where(tot[..., 0] > 0, e, 0.0)


__all__ = ["BatchedDescentResult", "BatchedFrobenius", "BatchedSensing", "batched_descent",
           "batched_effective_rank", "batched_factor_gradients"]
