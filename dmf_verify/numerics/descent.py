"""Gradient descent on the factors (simultaneous updates), deterministic, with divergence reports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from dmf_verify.errors import DivergenceError
from dmf_verify.numerics.model import _check_loss_shape, _product, factor_gradients_from
from dmf_verify.numerics.validation import (
    check_callable,
    check_factors,
    check_int,
    check_loss,
    check_option,
    check_positive,
    check_real,
)

__all__ = ["DescentResult", "gradient_descent"]


@dataclass
class DescentResult:
    """Outcome of :func:`gradient_descent`.

    ``status`` is ``"converged"`` (loss <= tol), ``"max_steps"`` or ``"diverged"`` (only with
    ``on_divergence="return"``). ``history`` maps names to arrays recorded every
    ``record_every`` steps (always including ``step`` and ``loss``).
    """

    status: str
    factors: list[np.ndarray]
    steps: int
    loss: float
    history: dict[str, np.ndarray] = field(default_factory=dict)
    diverged_at: int | None = None

    @property
    def product(self) -> np.ndarray:
        return _product(self.factors)


def gradient_descent(
    loss,
    factors: Sequence[np.ndarray],
    *,
    step: float,
    steps: int,
    tol: float | None = None,
    record_every: int = 0,
    observe: Callable[[list[np.ndarray], np.ndarray], dict] | None = None,
    on_divergence: str = "raise",
    max_loss: float | None = None,
) -> DescentResult:
    """Run ``steps`` iterations of W_j <- W_j - step * dphi/dW_j (all layers simultaneously).

    Stops early when the loss is <= ``tol``. Divergence (a non-finite loss, or a loss above
    ``max_loss``, default 1e8 * (initial loss + 1)) raises :class:`DivergenceError` naming the
    step, or with ``on_divergence="return"`` ends the run with status ``"diverged"``.
    ``observe(factors, W)`` may return extra scalars to record at each recorded step.

    Arguments: ``step`` finite > 0; ``steps`` and ``record_every`` integers >= 0 (0: record
    nothing); ``tol`` None or finite >= 0; ``max_loss`` None or > 0 (inf: only a non-finite
    loss counts as divergence).

    >>> from dmf_verify.numerics.losses import FrobeniusLoss
    >>> r = gradient_descent(FrobeniusLoss(np.array([[2.0]])), [np.array([[1.0]])], step=0.5, steps=1)
    >>> r.product, r.loss  # w <- 1 - 0.5 (1 - 2) = 1.5; 1/2 (1.5 - 2)^2
    (array([[1.5]]), 0.125)
    """
    fs = [f.copy() for f in check_factors(factors)]
    check_loss(loss)
    eta = check_positive(step, "step")
    steps = check_int(steps, "steps", low=0)
    tol = check_real(tol, "tol", low=0.0, optional=True)
    record_every = check_int(record_every, "record_every", low=0)
    check_callable(observe, "observe", optional=True)
    on_divergence = check_option(on_divergence, "on_divergence", ("raise", "return"))
    max_loss = check_real(max_loss, "max_loss", low=0.0, low_open=True, allow_inf=True, optional=True)
    w = _product(fs)
    _check_loss_shape(loss, w)
    value = loss.value(w)
    limit = 1e8 * (abs(value) + 1.0) if max_loss is None else max_loss
    rec: dict[str, list] = {"step": [], "loss": []}

    def record(k: int, w: np.ndarray, value: float) -> None:
        rec["step"].append(k)
        rec["loss"].append(value)
        if observe is not None:
            for key, val in observe(fs, w).items():
                rec.setdefault(key, []).append(val)

    status = "max_steps"
    diverged_at = None
    k = 0
    if record_every:
        record(0, w, value)
    while True:
        if tol is not None and value <= tol:
            status = "converged"
            break
        if k >= steps:
            break
        grads = factor_gradients_from(fs, loss.gradient(w))
        for f, g in zip(fs, grads):
            f -= eta * g
        k += 1
        w = _product(fs)
        value = loss.value(w)
        if not np.isfinite(value) or value > limit:
            if on_divergence == "raise":
                raise DivergenceError(
                    f"gradient descent diverged at step {k}: loss = {value:.3e} "
                    f"(limit {limit:.3e}) with step size {eta:g}; try a smaller step",
                    step=k,
                    value=float(value),
                )
            status, diverged_at = "diverged", k
            break
        if record_every and k % record_every == 0:
            record(k, w, value)
    if record_every and (not rec["step"] or rec["step"][-1] != k) and status != "diverged":
        record(k, w, value)
    history = {key: np.asarray(v) for key, v in rec.items()}
    return DescentResult(status=status, factors=fs, steps=k, loss=float(value), history=history,
                         diverged_at=diverged_at)
