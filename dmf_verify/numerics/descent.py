"""Gradient descent on the factors (simultaneous updates), deterministic, with divergence reports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from dmf_verify.errors import DivergenceError, InvalidArgument
from dmf_verify.numerics.model import _check_loss_shape, _product, factor_gradients_from
from dmf_verify.numerics.validation import check_factors, check_positive


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
    """
    fs = [f.copy() for f in check_factors(factors)]
    eta = check_positive(step, "step")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise InvalidArgument(f"steps must be a non-negative integer, got {steps!r}")
    if on_divergence not in ("raise", "return"):
        raise InvalidArgument(f"on_divergence must be 'raise' or 'return', got {on_divergence!r}")
    w = _product(fs)
    _check_loss_shape(loss, w)
    value = loss.value(w)
    limit = 1e8 * (abs(value) + 1.0) if max_loss is None else float(max_loss)
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
