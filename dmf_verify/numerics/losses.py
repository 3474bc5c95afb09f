"""Losses on the end-to-end matrix, each with a closed-form gradient.

Every loss has ``shape`` (the shape of W), ``value(W)``, ``gradient(W)`` and ``residual(W)``.
Scaling is explicit: ``reduction`` is ``"sum"`` or ``"mean"`` over measurements and ``half``
puts the factor 1/2 in front, so

* sensing, ``reduction="sum", half=True`` (Arora et al. 2019):  l = 1/2 sum_i (<A_i, W> - y_i)^2;
* Soltanolkotabi et al.: ``reduction="mean", half=True``: l = 1/(2m) sum_i (...)^2;
* the public code of Arora et al. (completion): ``reduction="mean", half=False``:
  l = 1/m sum_(a,b in Omega) (W_ab - y_ab)^2.

Mean vs sum only rescales time by m; each routine states which one it uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dmf_verify.errors import InvalidArgument, ShapeError
from dmf_verify.numerics.validation import (
    as_index_array,
    as_matrix,
    as_real_array,
    check_bool,
    check_int,
    check_option,
    check_seed,
    check_shape,
)

__all__ = ["CompletionLoss", "FrobeniusLoss", "Loss", "SensingLoss", "random_completion", "random_sensing"]


def _weight(reduction: str, half: bool, m: int) -> float:
    reduction = check_option(reduction, "reduction", ("sum", "mean"))
    half = check_bool(half, "half")
    w = 1.0 if reduction == "sum" else 1.0 / m
    return 0.5 * w if half else w


class Loss:
    """Interface: ``value(W)``, ``gradient(W)``; ``shape`` is the expected shape of W."""

    shape: tuple[int, int]

    def value(self, w: np.ndarray) -> float:  # pragma: no cover - interface
        raise NotImplementedError

    def gradient(self, w: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def _check(self, w: np.ndarray) -> np.ndarray:
        # real dtype and shape only: a non-finite W (a diverging iteration) gives a non-finite
        # value, which the callers detect and report as divergence
        w = as_real_array(w, "w", finite=False, nonempty=False)
        if w.shape != tuple(self.shape):
            raise ShapeError(f"w (the end-to-end matrix W) has shape {w.shape} but {type(self).__name__} "
                             f"expects {tuple(self.shape)}")
        return w


@dataclass(eq=False)
class SensingLoss(Loss):
    """l(W) = c * sum_i (<A_i, W> - y_i)^2 with A given as an (m, d, d') array.

    Internally A is kept as an (m, d*d') matrix, so value and gradient are two mat-vecs.

    >>> loss = SensingLoss(np.array([[[1.0, 0.0], [0.0, 2.0]]]), [1.0])
    >>> loss.value(np.eye(2)), loss.gradient(np.eye(2)).tolist()  # 1/2 (1 + 2 - 1)^2; 2 A
    (2.0, [[2.0, 0.0], [0.0, 4.0]])
    """

    A: np.ndarray
    y: np.ndarray
    reduction: str = "sum"
    half: bool = True
    flat: np.ndarray = field(init=False, repr=False)
    weight: float = field(init=False)

    def __post_init__(self):
        a = as_real_array(self.A, "A (the measurement matrices)", ndim=3, nonempty=False)
        if min(a.shape) < 1:
            raise ShapeError(f"A (the measurement matrices) must have shape (m, d, d') with m, d, d' >= 1, "
                             f"got {a.shape}")
        y = as_real_array(self.y, "y (the measurements)", nonempty=False).reshape(-1)
        if y.size != a.shape[0]:
            raise ShapeError(f"y has {y.size} entries but A holds {a.shape[0]} measurement matrices")
        self.A, self.y = a, y
        self.shape = (a.shape[1], a.shape[2])
        self.flat = a.reshape(a.shape[0], -1)
        self.weight = _weight(self.reduction, self.half, a.shape[0])

    @property
    def m(self) -> int:
        return self.y.size

    def measure(self, w) -> np.ndarray:
        return self.flat @ self._check(w).reshape(-1)

    def residual(self, w) -> np.ndarray:
        return self.measure(w) - self.y

    def value(self, w) -> float:
        r = self.residual(w)
        return float(self.weight * (r @ r))

    def gradient(self, w) -> np.ndarray:
        return self._gradient(self.residual(w))

    def _gradient(self, r) -> np.ndarray:
        # the gradient from a residual r = A(w) - y the caller already holds (checks/experiments/dynamics.py
        # caches it between value and gradient: the m x dd' mat-vec is the expensive part)
        return (2.0 * self.weight) * (r @ self.flat).reshape(self.shape)


@dataclass(eq=False)
class CompletionLoss(Loss):
    """Matrix completion: l(W) = c * sum_((a,b) in Omega) (W_ab - y_ab)^2.

    Defaults to the *mean* without 1/2 as in the public code of Arora et al.

    >>> CompletionLoss([0], [1], [3.0], shape=(2, 2)).value(np.ones((2, 2)))  # (1 - 3)^2
    4.0
    """

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    shape: tuple[int, int] = (0, 0)
    reduction: str = "mean"
    half: bool = False
    weight: float = field(init=False)

    def __post_init__(self):
        self.rows = as_index_array(self.rows, "rows")
        self.cols = as_index_array(self.cols, "cols")
        self.values = as_real_array(self.values, "values (the observed entries)", nonempty=False).reshape(-1)
        self.shape = check_shape(self.shape, "shape")
        if not (self.rows.size == self.cols.size == self.values.size):
            raise ShapeError(
                f"rows, cols and values must have equal lengths, got {self.rows.size}, {self.cols.size}, {self.values.size}"
            )
        if self.rows.size == 0:
            raise InvalidArgument("rows, cols and values are empty: matrix completion needs at least one observed entry")
        for name, idx, n in (("rows", self.rows, self.shape[0]), ("cols", self.cols, self.shape[1])):
            if idx.min() < 0 or idx.max() >= n:
                bad = int(idx[(idx < 0) | (idx >= n)][0])
                raise ShapeError(f"{name} must lie in [0, {n - 1}] for a {self.shape} matrix, got {bad}")
        flat = self.rows * self.shape[1] + self.cols
        uniq, counts = np.unique(flat, return_counts=True)
        if uniq.size != self.rows.size:
            r, c = divmod(int(uniq[counts > 1][0]), self.shape[1])
            raise InvalidArgument(f"observed entries (rows[i], cols[i]) must be distinct: ({r}, {c}) is listed twice")
        self.weight = _weight(self.reduction, self.half, self.rows.size)

    @property
    def m(self) -> int:
        return self.values.size

    def residual(self, w) -> np.ndarray:
        return self._check(w)[self.rows, self.cols] - self.values

    def value(self, w) -> float:
        r = self.residual(w)
        return float(self.weight * (r @ r))

    def gradient(self, w) -> np.ndarray:
        r = self.residual(w)
        g = np.zeros(self.shape)
        g[self.rows, self.cols] = (2.0 * self.weight) * r
        return g

    def as_sensing(self) -> SensingLoss:
        """The same loss written as sensing with A_i = e_a e_b^T (for cross-checks)."""
        a = np.zeros((self.m, *self.shape))
        a[np.arange(self.m), self.rows, self.cols] = 1.0
        return SensingLoss(a, self.values.copy(), reduction=self.reduction, half=self.half)


@dataclass(eq=False)
class FrobeniusLoss(Loss):
    """Estimation (Chou et al.): l(W) = 1/2 ||W - target||_F^2 (``half=False`` drops the 1/2).

    >>> FrobeniusLoss(np.eye(2)).value(np.zeros((2, 2)))
    1.0
    """

    target: np.ndarray
    half: bool = True

    def __post_init__(self):
        self.target = as_matrix(self.target, "target")
        self.half = check_bool(self.half, "half")
        self.shape = self.target.shape

    def residual(self, w) -> np.ndarray:
        return self._check(w) - self.target

    def value(self, w) -> float:
        r = self.residual(w)
        return float((0.5 if self.half else 1.0) * np.sum(r * r))

    def gradient(self, w) -> np.ndarray:
        return (1.0 if self.half else 2.0) * self.residual(w)


def random_sensing(shape, m: int, *, ground_truth=None, seed: int = 0, reduction: str = "sum",
                   half: bool = True, symmetric: bool = False) -> SensingLoss:
    """Gaussian sensing: A_i with i.i.d. N(0, 1) entries (symmetrized if asked), y_i = <A_i, W*>.

    Without ``ground_truth`` the y_i are drawn i.i.d. N(0, 1) (a generic, not necessarily
    realizable, loss).

    >>> random_sensing((2, 3), 4, seed=0).A.shape
    (4, 2, 3)
    """
    d, dp = check_shape(shape, "shape")
    m = check_int(m, "m", low=1)
    symmetric = check_bool(symmetric, "symmetric")
    _weight(reduction, half, m)
    rng = np.random.default_rng(check_seed(seed))
    a = rng.standard_normal((m, d, dp))
    if symmetric:
        if d != dp:
            raise ShapeError(f"symmetric measurements need a square shape, got {(d, dp)}")
        a = 0.5 * (a + a.transpose(0, 2, 1))
    if ground_truth is None:
        y = rng.standard_normal(m)
    else:
        gt = as_matrix(ground_truth, "ground_truth")
        if gt.shape != (d, dp):
            raise ShapeError(f"ground_truth has shape {gt.shape}, expected {(d, dp)}")
        y = a.reshape(m, -1) @ gt.reshape(-1)
    return SensingLoss(a, y, reduction=reduction, half=half)


def random_completion(ground_truth, m: int, *, seed: int = 0, reduction: str = "mean",
                      half: bool = False) -> CompletionLoss:
    """Observe ``m`` distinct entries of ``ground_truth`` chosen uniformly without replacement.

    >>> random_completion(np.eye(3), 9, seed=0).value(np.eye(3))
    0.0
    """
    gt = as_matrix(ground_truth, "ground_truth")
    total = gt.size
    m = check_int(m, "m", low=1, high=total)
    _weight(reduction, half, m)
    rng = np.random.default_rng(check_seed(seed))
    idx = rng.choice(total, size=m, replace=False)
    rows, cols = np.unravel_index(idx, gt.shape)
    return CompletionLoss(rows, cols, gt[rows, cols], shape=gt.shape, reduction=reduction, half=half)
