"""Spectral tools: PSD powers from a compact SVD, sign-aligned SVD, effective rank, Schatten norms.

Powers of Gram matrices are taken from a compact SVD of W, never from ``eigh(W W^T)``: squaring
W first loses about half the significant digits of the small singular values (tests/test_spectral.py measures it).
"""

from __future__ import annotations

import numpy as np

from dmf_verify.errors import NotPSDError
from dmf_verify.numerics.validation import as_matrix, as_real_array, check_matrix_pair, check_option, check_real

__all__ = ["effective_rank", "gram_power", "gram_power_apply", "nuclear_norm", "psd_power", "schatten_norm",
           "schatten_p_power", "singular_values", "svd_aligned", "svd_sorted"]


def svd_sorted(w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compact SVD W = U diag(s) V^T with s descending; returns (U, s, V) (V, not V^T).

    >>> svd_sorted(np.diag([1.0, 3.0]))[1]
    array([3., 1.])
    """
    w = as_matrix(w, "w")
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    return u, s, vt.T


def svd_aligned(w, reference=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted compact SVD whose column signs follow ``reference = (U_prev, V_prev)``.

    The sign of each pair (u_r, v_r) is flipped jointly (W is unchanged) so that
    u_r . u_r_prev + v_r . v_r_prev >= 0. Ordering stays the sorted one; for tracking through
    near-crossings use a column-matching tracker instead.

    >>> u, s, v = svd_aligned(np.diag([2.0, 1.0]), (-np.eye(2), -np.eye(2)))
    >>> np.diag(u).tolist(), s.tolist()  # both pairs flipped to follow the reference
    ([-1.0, -1.0], [2.0, 1.0])
    """
    u, s, v = svd_sorted(w)
    if reference is not None:
        up, vp = check_matrix_pair(reference, "reference", rows=(u.shape[0], v.shape[0]))
        k = min(u.shape[1], up.shape[1])
        flips = np.sign(np.sum(u[:, :k] * up[:, :k], axis=0) + np.sum(v[:, :k] * vp[:, :k], axis=0))
        flips[flips == 0] = 1.0
        u[:, :k] *= flips
        v[:, :k] *= flips
    return u, s, v


def gram_power_apply(u: np.ndarray, s: np.ndarray, q: float, x: np.ndarray) -> np.ndarray:
    """(W W^T)^q x from W's compact SVD factors (u, s); q = 0 is the full identity.

    A building block for already validated SVD factors: only ``q`` is checked here.

    >>> gram_power_apply(np.eye(2), np.array([2.0, 1.0]), 0.5, np.ones((2, 1)))
    array([[2.],
           [1.]])
    """
    q = check_real(q, "q", low=0.0)
    if q == 0:
        return x
    return u @ ((s ** (2.0 * q))[:, None] * (u.T @ x))


def gram_power(w, q: float, *, side: str = "left") -> np.ndarray:
    """(W W^T)^q (``side="left"``) or (W^T W)^q (``side="right"``), q >= 0, from a compact SVD.

    >>> gram_power(np.array([[3.0, 0.0], [0.0, 0.0]]), 0.5)  # (W W^T)^(1/2) = |W| here
    array([[3., 0.],
           [0., 0.]])
    """
    w = as_matrix(w, "w")
    q = check_real(q, "q", low=0.0)  # (W W^T may be singular: no negative powers)
    side = check_option(side, "side", ("left", "right"))
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    basis = u if side == "left" else vt.T
    n = basis.shape[0]
    if q == 0:
        return np.eye(n)
    return (basis * s ** (2.0 * q)) @ basis.T


def psd_power(m, q: float, *, atol: float | None = None) -> np.ndarray:
    """M^q for a symmetric PSD matrix M (q >= 0); raises :class:`NotPSDError` otherwise.

    Uses the eigendecomposition of M itself (M is given, nothing is squared). Eigenvalues in
    [-atol, 0) are treated as round-off and clipped; the default atol is 100 eps ||M||_2.

    >>> psd_power(np.diag([4.0, 9.0]), 0.5)
    array([[2., 0.],
           [0., 3.]])
    """
    m = as_matrix(m, "m")
    q = check_real(q, "q", low=0.0)
    atol = check_real(atol, "atol", low=0.0, optional=True)
    if m.shape[0] != m.shape[1]:
        raise NotPSDError(f"m: a fractional power needs a square matrix, got shape {m.shape}")
    asym = float(np.max(np.abs(m - m.T))) if m.size else 0.0
    scale = float(np.max(np.abs(m))) if m.size else 0.0
    if asym > 1e-12 * max(scale, 1.0):
        raise NotPSDError(f"m is not symmetric: max |M - M^T| = {asym:.3e}")
    lam, q_ = np.linalg.eigh(0.5 * (m + m.T))
    tol = 100 * np.finfo(float).eps * max(float(np.max(np.abs(lam))), 1e-300) if atol is None else atol
    if lam.min() < -tol:
        raise NotPSDError(f"m is not PSD: smallest eigenvalue {lam.min():.3e} < -{tol:.1e}")
    lam = np.clip(lam, 0.0, None)
    return (q_ * lam**q) @ q_.T if q != 0 else np.eye(m.shape[0])


def singular_values(w) -> np.ndarray:
    """Singular values of a matrix, descending.

    >>> singular_values([[0.0, 2.0], [1.0, 0.0]])
    array([2., 1.])
    """
    return np.linalg.svd(as_matrix(w, "w"), compute_uv=False)


def _spectrum(w_or_s) -> np.ndarray:
    """A matrix's singular values, or |s| for a vector of (possibly signed) singular values."""
    a = as_real_array(w_or_s, "w_or_s", ndim=(1, 2))
    if a.ndim == 1:
        return np.abs(a)
    return np.linalg.svd(a, compute_uv=False)


def effective_rank(w_or_s) -> float:
    """Roy & Vetterli (2007): exp(-sum p_i ln p_i), p_i = sigma_i / sum_j sigma_j.

    Accepts a matrix or a vector of singular values; the zero matrix has effective rank 0 by
    convention (no mass to distribute).

    >>> round(effective_rank(np.diag([1.0, 1.0, 0.0])), 12)
    2.0
    """
    s = _spectrum(w_or_s)
    total = s.sum()
    if total == 0:
        return 0.0
    p = s[s > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


def schatten_p_power(w_or_s, p: float) -> float:
    """sum_i sigma_i^p (the Schatten-p quasi-norm to the power p for 0 < p < 1).

    >>> schatten_p_power([4.0, 9.0], 0.5)
    5.0
    """
    p = check_real(p, "p", low=0.0, low_open=True)
    s = _spectrum(w_or_s)
    return float(np.sum(s[s > 0] ** p))


def schatten_norm(w_or_s, p: float) -> float:
    """(sum_i sigma_i^p)^(1/p); p = inf gives the spectral norm.

    >>> schatten_norm([3.0, 4.0], 2), schatten_norm([3.0, -4.0], float("inf"))
    (5.0, 4.0)
    """
    p = check_real(p, "p", low=0.0, low_open=True, allow_inf=True)
    if p == np.inf:
        s = _spectrum(w_or_s)
        return float(s.max()) if s.size else 0.0
    return schatten_p_power(w_or_s, p) ** (1.0 / p)


def nuclear_norm(w_or_s) -> float:
    """Sum of the singular values (of a matrix, or of |s| for a vector).

    >>> nuclear_norm([[3.0, 0.0], [0.0, -4.0]])
    7.0
    """
    return float(np.sum(_spectrum(w_or_s)))
