"""Reference computations for the claims, written independently of the code they check.

A claim compares two independently computed quantities. For gradients, steps and flows the
library's closed forms (``Loss.gradient``, ``model.factor_gradients``, ``descent``, ``training``,
``asymmetric``) are compared here with

* the loss written again from its definition (:func:`loss_value_from_definition`: explicit sums
  over the measurement data, the documented scaling ``reduction``/``half``, nothing shared with
  ``numerics.losses`` but the data);
* central finite differences of a *value* (:func:`central_gradient`), which for the quadratic
  losses are exact up to round-off ``eps |f| / h``;
* torch autograd of the from-definition loss, where torch is installed (:func:`torch_gradient`;
  torch is optional and imported only when asked for).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence

import numpy as np


def loss_value_from_definition(loss, w: np.ndarray) -> float:
    """l(W) from the definition of the loss type and its public data (never its ``weight``/``flat``).

    sensing: c * sum_i (sum_ab A_iab W_ab - y_i)^2; completion: c * sum_(a,b in Omega) (W_ab - y_ab)^2;
    Frobenius: (1/2 if half else 1) * sum_ab (W_ab - T_ab)^2, with c = (1 or 1/m) * (1/2 if half else 1).
    """
    from dmf_verify.numerics.losses import CompletionLoss, FrobeniusLoss, SensingLoss

    w = np.asarray(w, dtype=np.float64)
    if isinstance(loss, SensingLoss):
        a = np.asarray(loss.A)
        m = a.shape[0]
        r = np.einsum("iab,ab->i", a, w) - np.asarray(loss.y)
        c = (1.0 if loss.reduction == "sum" else 1.0 / m) * (0.5 if loss.half else 1.0)
        return float(c * np.sum(r * r))
    if isinstance(loss, CompletionLoss):
        m = len(loss.values)
        total = 0.0
        for a, b, v in zip(loss.rows, loss.cols, loss.values):
            total += (w[a, b] - v) ** 2
        c = (1.0 if loss.reduction == "sum" else 1.0 / m) * (0.5 if loss.half else 1.0)
        return float(c * total)
    if isinstance(loss, FrobeniusLoss):
        d = w - np.asarray(loss.target)
        return float((0.5 if loss.half else 1.0) * np.sum(d * d))
    raise TypeError(f"no definition for {type(loss).__name__}")


def central_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float) -> np.ndarray:
    """(f(x + h e_k) - f(x - h e_k)) / (2h) for every entry k of x (x is not modified)."""
    x = np.array(x, dtype=np.float64, copy=True)
    g = np.empty_like(x)
    flat, gf = x.reshape(-1), g.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + h
        fp = f(x)
        flat[k] = old - h
        fm = f(x)
        flat[k] = old
        gf[k] = (fp - fm) / (2.0 * h)
    return g


def factor_value(loss_value: Callable[[np.ndarray], float], factors: Sequence[np.ndarray]) -> float:
    """phi(W_1, ..., W_N) = l(W_N ... W_1) with the product written out here (not model.product)."""
    w = factors[0]
    for f in factors[1:]:
        w = f @ w
    return loss_value(w)


def factor_central_gradients(loss_value: Callable[[np.ndarray], float], factors: Sequence[np.ndarray],
                             h: float) -> list[np.ndarray]:
    """Central differences of phi with respect to every entry of every factor."""
    fs = [np.array(f, dtype=np.float64, copy=True) for f in factors]
    out = []
    for j in range(len(fs)):
        def phi_j(x, j=j):
            return factor_value(loss_value, fs[:j] + [x] + fs[j + 1:])
        out.append(central_gradient(phi_j, fs[j], h))
    return out


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def torch_gradient(loss, w: np.ndarray) -> np.ndarray | None:
    """grad l(W) by torch autograd of the from-definition loss (float64); None without torch."""
    if not torch_available():
        return None
    import torch

    from dmf_verify.numerics.losses import CompletionLoss, FrobeniusLoss, SensingLoss

    x = torch.tensor(np.asarray(w, dtype=np.float64), requires_grad=True)
    if isinstance(loss, SensingLoss):
        a = torch.tensor(np.asarray(loss.A))
        r = torch.einsum("iab,ab->i", a, x) - torch.tensor(np.asarray(loss.y))
        c = (1.0 if loss.reduction == "sum" else 1.0 / a.shape[0]) * (0.5 if loss.half else 1.0)
        val = c * torch.sum(r * r)
    elif isinstance(loss, CompletionLoss):
        rows = torch.tensor(np.asarray(loss.rows))
        cols = torch.tensor(np.asarray(loss.cols))
        r = x[rows, cols] - torch.tensor(np.asarray(loss.values))
        c = (1.0 if loss.reduction == "sum" else 1.0 / len(loss.values)) * (0.5 if loss.half else 1.0)
        val = c * torch.sum(r * r)
    elif isinstance(loss, FrobeniusLoss):
        d = x - torch.tensor(np.asarray(loss.target))
        val = (0.5 if loss.half else 1.0) * torch.sum(d * d)
    else:
        raise TypeError(f"no definition for {type(loss).__name__}")
    val.backward()
    return x.grad.detach().numpy().copy()


def relative(a, b) -> float:
    """||a - b|| / ||b|| (Frobenius; b must be non-zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


__all__ = ["central_gradient", "factor_central_gradients", "factor_value", "loss_value_from_definition",
           "relative", "torch_available", "torch_gradient"]
