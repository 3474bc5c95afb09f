"""Deep matrix factorization W = W_N ... W_1: product, per-factor gradients, initializations.

Conventions (those of Arora et al. 2019, Section 3): ``factors = [W_1, ..., W_N]`` with ``W_j`` of shape
``(d_j, d_{j-1})``; the end-to-end matrix is ``W = W_N ... W_1`` of shape ``(d_N, d_0)``.
The gradient of phi(W_1..W_N) = l(W) w.r.t. a factor is
``(W_N ... W_{j+1})^T grad_l(W) (W_{j-1} ... W_1)^T``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dmf_verify.errors import NotBalancedError, ShapeError
from dmf_verify.numerics.validation import (
    as_matrix,
    check_bool,
    check_depth,
    check_factors,
    check_int,
    check_int_sequence,
    check_loss,
    check_positive,
    check_seed,
    check_tolerance,
)

__all__ = [
    "balanced_factors",
    "factor_gradients",
    "imbalance",
    "imbalance_norm",
    "layer_dims",
    "product",
    "random_factors",
    "require_balanced",
    "scaled_identity_factors",
]
# prefix_products, suffix_products and factor_gradients_from are unchecked building blocks for
# factors that were validated already (they run inside integrator right-hand sides).


def product(factors: Sequence[np.ndarray]) -> np.ndarray:
    """The end-to-end matrix W_N ... W_1.

    >>> product([np.array([[1.0, 2.0]]).T, np.array([[3.0, 4.0]])])
    array([[11.]])
    """
    fs = check_factors(factors)
    return _product(fs)


def _product(fs: Sequence[np.ndarray]) -> np.ndarray:
    if len(fs) == 1:  # a copy, so callers never alias (and later mutate) the factor itself
        return fs[0].copy()
    w = fs[0]
    for f in fs[1:]:
        w = f @ w
    return w


def prefix_products(fs: Sequence[np.ndarray]) -> list[np.ndarray | None]:
    """P[j] = W_j ... W_1 for j = 0..N (P[0] = None stands for the identity)."""
    out: list[np.ndarray | None] = [None]
    acc = None
    for f in fs:
        acc = f if acc is None else f @ acc
        out.append(acc)
    return out


def suffix_products(fs: Sequence[np.ndarray]) -> list[np.ndarray | None]:
    """S[j] = W_N ... W_{j+1} for j = 0..N (S[N] = None stands for the identity)."""
    n = len(fs)
    out: list[np.ndarray | None] = [None] * (n + 1)
    acc = None
    for j in range(n - 1, -1, -1):
        out[j + 1] = acc
        acc = fs[j] if acc is None else acc @ fs[j]
    out[0] = acc
    return out


def factor_gradients_from(fs: Sequence[np.ndarray], grad_w: np.ndarray) -> list[np.ndarray]:
    """Per-factor gradients (W_N..W_{j+1})^T G (W_{j-1}..W_1)^T for validated factors."""
    pre = prefix_products(fs)
    suf = suffix_products(fs)
    grads = []
    for j in range(len(fs)):
        g = grad_w
        if suf[j + 1] is not None:
            g = suf[j + 1].T @ g
        if pre[j] is not None:
            g = g @ pre[j].T
        grads.append(g)
    return grads


def factor_gradients(factors: Sequence[np.ndarray], loss) -> list[np.ndarray]:
    """Gradients of phi = loss(W_N ... W_1) with respect to every factor (closed form).

    >>> from dmf_verify.numerics.losses import FrobeniusLoss
    >>> factor_gradients([np.array([[2.0]]), np.array([[3.0]])], FrobeniusLoss(np.array([[1.0]])))  # G = 6 - 1
    [array([[15.]]), array([[10.]])]
    """
    fs = check_factors(factors)
    check_loss(loss)
    w = _product(fs)
    _check_loss_shape(loss, w)
    return factor_gradients_from(fs, loss.gradient(w))


def _check_loss_shape(loss, w: np.ndarray, name: str | None = None) -> None:
    """``w`` (the factors' product, or the matrix called ``name``) has the shape the loss expects."""
    shape = getattr(loss, "shape", None)
    if shape is not None and tuple(shape) != w.shape:
        what = f"{name} has" if name else "the product of the factors has"
        raise ShapeError(f"{what} shape {w.shape} but the loss expects {tuple(shape)}"
                         + ("" if name else " (factors and loss do not match)"))


def layer_dims(factors: Sequence[np.ndarray]) -> list[int]:
    """[d_0, d_1, ..., d_N].

    >>> layer_dims([np.ones((3, 2)), np.ones((4, 3))])
    [2, 3, 4]
    """
    fs = check_factors(factors)
    return [fs[0].shape[1]] + [f.shape[0] for f in fs]


def imbalance(factors: Sequence[np.ndarray]) -> list[np.ndarray]:
    """D_j = W_{j+1}^T W_{j+1} - W_j W_j^T for j = 1..N-1 (empty for N = 1).

    >>> imbalance([np.array([[1.0]]), np.array([[3.0]])])[0]
    array([[8.]])
    """
    fs = check_factors(factors)
    return [fs[j + 1].T @ fs[j + 1] - fs[j] @ fs[j].T for j in range(len(fs) - 1)]


def imbalance_norm(factors: Sequence[np.ndarray], *, relative: bool = False) -> float:
    """max_j ||D_j||_F, optionally divided by max_j ||W_j||_F^2.

    >>> imbalance_norm([np.array([[1.0]]), np.array([[3.0]])], relative=True)  # 8 / 9
    0.8888888888888888
    """
    fs = check_factors(factors)
    relative = check_bool(relative, "relative")
    ds = imbalance(fs)
    if not ds:
        return 0.0
    m = max(float(np.linalg.norm(d)) for d in ds)
    if relative:
        scale = max(float(np.linalg.norm(f)) ** 2 for f in fs)
        return m / scale if scale > 0 else m
    return m


def require_balanced(factors: Sequence[np.ndarray], *, rtol: float = 1e-10) -> None:
    """Raise :class:`NotBalancedError` when the relative imbalance exceeds ``rtol`` (finite, > 0).

    >>> require_balanced([np.array([[2.0]]), np.array([[2.0]])])  # W_2^T W_2 = W_1 W_1^T: nothing raised
    >>> require_balanced([np.array([[1.0]]), np.array([[3.0]])])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dmf_verify.errors.NotBalancedError: factors are not balanced: ... = 8.889e-01 exceeds rtol = 1.0e-10 ...
    """
    rtol = check_tolerance(rtol, "rtol")
    rel = imbalance_norm(factors, relative=True)
    if rel > rtol:
        raise NotBalancedError(
            f"factors are not balanced: max_j ||W_(j+1)^T W_(j+1) - W_j W_j^T||_F / max_j ||W_j||_F^2 "
            f"= {rel:.3e} exceeds rtol = {rtol:.1e} (this routine assumes balanced initialization, "
            "Arora et al. 2019, Section 3; build one with balanced_factors)",
            imbalance=rel,
        )


def _orthonormal_columns(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return q * np.sign(np.diag(r))


def balanced_factors(end_to_end, depth: int, *, hidden=None, seed: int = 0) -> list[np.ndarray]:
    """A balanced factorization whose product is ``end_to_end`` (Arora et al. 2019, Section 3).

    From a compact SVD W = U S V^T (k = min(d, d') columns):
    W_N = U S^(1/N) Q_(N-1)^T, W_j = Q_j S^(1/N) Q_(j-1)^T, W_1 = Q_1 S^(1/N) V^T with random
    orthonormal Q_j in R^(d_j x k). ``hidden`` gives d_1..d_(N-1) (default k each); each must be
    >= k. The random Q_j are drawn from ``seed``.

    >>> fs = balanced_factors(np.diag([4.0, 1.0]), 2, seed=0)
    >>> np.round(np.linalg.svd(fs[0], compute_uv=False), 12)  # S^(1/2) in every factor
    array([2., 1.])
    """
    w = as_matrix(end_to_end, "end_to_end")
    n = check_depth(depth)
    seed = check_seed(seed)
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    k = s.size
    if hidden is None:
        hidden = [k] * (n - 1)
    hidden = check_int_sequence(hidden, "hidden", low=1)
    if len(hidden) != n - 1:
        raise ShapeError(f"hidden must list {n - 1} widths for depth {n}, got {len(hidden)}")
    for i, h in enumerate(hidden):
        if h < k:
            raise ShapeError(f"hidden width d_{i + 1} = hidden[{i}] = {h} is smaller than min(d, d') = {k}")
    root = s ** (1.0 / n)
    if n == 1:
        return [w.copy()]
    rng = np.random.default_rng(seed)
    qs = [_orthonormal_columns(rng, h, k) for h in hidden]
    fs = [(qs[0] * root) @ vt]
    for j in range(1, n - 1):
        fs.append((qs[j] * root) @ qs[j - 1].T)
    fs.append((u * root) @ qs[-1].T)
    return fs


def random_factors(dims: Sequence[int], *, scale: float, seed: int = 0) -> list[np.ndarray]:
    """Small random init: W_j with i.i.d. N(0, s^2) entries, s = scale^(1/N) / sqrt(d_(j-1)).

    ``dims = [d_0, d_1, ..., d_N]``. With this choice ||W_N...W_1|| is of order ``scale`` times
    the norm of a product of N matrices with N(0, 1/d) entries (the public code of Arora et al.
    uses s = init_scale^(1/N) / sqrt(n)).

    >>> [f.shape for f in random_factors([2, 3, 4], scale=1.0, seed=0)]
    [(3, 2), (4, 3)]
    """
    dims = check_int_sequence(dims, "dims", low=1, min_length=2)
    n = len(dims) - 1
    scale = check_positive(scale, "scale")
    rng = np.random.default_rng(check_seed(seed))
    s = scale ** (1.0 / n)
    return [rng.standard_normal((dims[j + 1], dims[j])) * (s / np.sqrt(dims[j])) for j in range(n)]


def scaled_identity_factors(dim: int, depth: int, *, alpha: float) -> list[np.ndarray]:
    """W_j(0) = alpha I (the init of Theorem 2 and of Chou et al.); balanced by construction.

    >>> scaled_identity_factors(2, 3, alpha=0.5)[0]
    array([[0.5, 0. ],
           [0. , 0.5]])
    """
    dim = check_int(dim, "dim", low=1)
    n = check_depth(depth)
    alpha = check_positive(alpha, "alpha")
    return [alpha * np.eye(dim) for _ in range(n)]
