"""P1 Lemma 2 (eqs. 8-9): the velocities of the singular vectors of the end-to-end matrix.

For balanced gradient flow of depth N, with an analytic SVD W = U S V^T (signed S, compact,
k = min(d, d')), G = grad l(W) and F_{rr'} = ((s_{r'}^2)^{1/N} - (s_r^2)^{1/N})^{-1} (r != r'),
F_{rr} = 0:

    dU/dt = -U (F o [U^T G V S + S V^T G^T U]) - (I_d  - U U^T) G   V S (S^2)^{-1/N}
    dV/dt = -V (F o [S U^T G V + V^T G^T U S]) - (I_d' - V V^T) G^T U S (S^2)^{-1/N}

For S >= 0 the last factor S (S^2)^{-1/N} equals the paper's (S^2)^{1/2 - 1/N}. At N = 1 the
equations reduce to the classical first-order perturbation of an SVD under dW/dt = -G:
F_{rr'} = 1/(s_{r'}^2 - s_r^2) and the projection factor is S^{-1}.

The formula needs distinct non-zero |s_r|: :func:`lemma2_rates` raises
:class:`~dmf_verify.errors.UndefinedError` (naming the offending values) instead of returning a
division-by-zero NaN.
"""

from __future__ import annotations

import numpy as np

from dmf_verify.errors import InvalidArgument, ShapeError, UndefinedError
from dmf_verify.numerics.validation import as_finite_array, as_matrix, check_depth


def _check_distinct(s: np.ndarray, depth: int, rtol: float) -> np.ndarray:
    a = np.abs(s)
    scale = float(a.max()) if a.size else 0.0
    if scale == 0.0:
        raise UndefinedError("Lemma 2 is undefined at W = 0 (every singular value is zero)")
    for r in range(a.size):
        if a[r] <= rtol * scale:
            raise UndefinedError(
                f"Lemma 2 is undefined: singular value sigma_{r + 1} = {s[r]:.3e} is zero "
                f"(|sigma| <= {rtol:.1e} * max|sigma| = {rtol * scale:.3e})")
    p = (a * a) ** (1.0 / depth)
    pscale = float(p.max())
    for r in range(a.size):
        for q in range(r + 1, a.size):
            if abs(p[r] - p[q]) <= rtol * pscale:
                raise UndefinedError(
                    f"Lemma 2 is undefined: |sigma_{r + 1}| = {a[r]:.6e} and |sigma_{q + 1}| = {a[q]:.6e} are "
                    f"repeated (relative gap {abs(a[r] - a[q]) / scale:.1e} <= {rtol:.1e})")
    return p


def lemma2_rates(u, s, v, grad, depth: int, *, projection: bool = True,
                 projection_exponent: float | None = None, gap_exponent: float | None = None,
                 rtol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """(dU/dt, dV/dt) of eqs. 8-9 at a point with compact SVD W = U diag(s) V^T (s signed).

    ``u`` (d, k), ``s`` (k,), ``v`` (d', k) with k = min(d, d'); ``grad`` (d, d') is grad l(W).
    Variants for negative controls: ``projection=False`` drops the (I - UU^T), (I - VV^T)
    terms; ``projection_exponent=e`` uses S (S^2)^(e - 1/2) instead of S (S^2)^(-1/N) (e = 1/2 -
    1/N is the true one); ``gap_exponent=g`` uses (s^2)^g instead of (s^2)^(1/N) in F.
    Raises :class:`UndefinedError` for zero or repeated |s_r| (relative threshold ``rtol``).
    """
    u = as_matrix(u, "U")
    v = as_matrix(v, "V")
    g = as_matrix(grad, "gradient")
    s = as_finite_array(s, "singular values").reshape(-1)
    n = check_depth(depth)
    d, k = u.shape
    dp = v.shape[0]
    if s.size != k or v.shape[1] != k or k != min(d, dp):
        raise ShapeError(f"need U (d, k), s (k,), V (d', k) with k = min(d, d'); got U {u.shape}, "
                         f"s {s.shape}, V {v.shape}")
    if g.shape != (d, dp):
        raise ShapeError(f"gradient has shape {g.shape}, expected {(d, dp)}")
    if not rtol > 0:
        raise InvalidArgument(f"rtol must be > 0, got {rtol}")
    _check_distinct(s, n, rtol)
    ge = 1.0 / n if gap_exponent is None else float(gap_exponent)
    p = (s * s) ** ge
    diff = p[None, :] - p[:, None]                      # (s_{r'}^2)^g - (s_r^2)^g
    np.fill_diagonal(diff, 1.0)
    f = 1.0 / diff
    np.fill_diagonal(f, 0.0)
    gh = u.T @ g @ v                                     # U^T G V  (k x k)
    du = -u @ (f * (gh * s[None, :] + s[:, None] * gh.T))
    dv = -v @ (f * (s[:, None] * gh + gh.T * s[None, :]))
    if projection:
        e = 0.5 - 1.0 / n if projection_exponent is None else float(projection_exponent)
        factor = s * (s * s) ** (e - 0.5)                # S (S^2)^(e - 1/2) = S (S^2)^(-1/N)
        gv = g @ v
        gtu = g.T @ u
        du -= (gv - u @ (u.T @ gv)) * factor[None, :]
        dv -= (gtu - v @ (v.T @ gtu)) * factor[None, :]
    return du, dv


def lemma2_rates_at(w, grad, depth: int, *, reference=None, **options) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Convenience: SVD of ``w`` (signs aligned to ``reference=(U, V)``), then eqs. 8-9.

    Returns (U, s, V, dU/dt, dV/dt). The SVD is the sorted one with s >= 0 (signs of pairs
    aligned to the reference); for signed, tracked frames call :func:`lemma2_rates` directly.
    """
    from dmf_verify.numerics.spectral import svd_aligned

    u, s, v = svd_aligned(as_matrix(w, "W"), reference)
    du, dv = lemma2_rates(u, s, v, grad, depth, **options)
    return u, s, v, du, dv


def off_diagonal_mass(u, v, grad) -> float:
    """||offdiag(U^T G V)||_F: the gradient's weight on u_r v_{r'}^T, r != r' (Corollary 1)."""
    gh = as_matrix(u, "U").T @ as_matrix(grad, "gradient") @ as_matrix(v, "V")
    return float(np.linalg.norm(gh - np.diag(np.diag(gh))))
