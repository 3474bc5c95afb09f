"""Analytic (continuous) SVD tracking along a trajectory W(t_0), W(t_1), ... (P1 Lemma 1).

A sorted SVD of each W(t_i) is a poor stand-in for the analytic SVD of Lemma 1: sorting swaps
columns where two singular values cross, the sign of each pair (u_r, v_r) is arbitrary, and a
singular value that passes through zero shows up as a kink |sigma|. :func:`track_svd` removes
all three artefacts:

* **ordering**: the columns of each new SVD are matched to the previous ones by a maximum-weight
  assignment on the overlaps |u_prev^T u| + |v_prev^T v| (not by sorted order), so a column keeps
  its identity through a (near-)crossing;
* **signs**: u_r and v_r are flipped *independently* to stay continuous (u_r . u_r_prev >= 0,
  v_r . v_r_prev >= 0); the singular value absorbs the product of the two flips, so it is
  **signed** and continuous through zero (W = U diag(s) V^T exactly at every time);
* **degenerate clusters**: where several |sigma| agree to ``cluster_rtol`` the SVD basis of the
  cluster is arbitrary; it is rotated (orthogonal Procrustes) onto the previous vectors.

The samples must be fine enough that the vectors move little between consecutive times
(``min_overlap`` guards against under-sampling: a matched overlap below it raises).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dmf_verify.errors import InvalidArgument, ShapeError
from dmf_verify.numerics.validation import as_finite_array, as_real_array, check_matrix_pair, check_real


@dataclass
class TrackedSVD:
    """A tracked compact SVD: W[i] = U[i] @ diag(S[i]) @ V[i].T for every sample i.

    ``U`` has shape (T, d, k), ``S`` (T, k) (signed, continuous), ``V`` (T, d', k), with
    k = min(d, d'). ``order[i]`` maps tracked column r to the column of the sorted SVD at time i
    (so the sorted singular values are ``abs(S[i])[argsort(order[i])]``); ``swaps`` lists the
    sample indices where the matching differed from sorted order of the previous step.
    """

    U: np.ndarray
    S: np.ndarray
    V: np.ndarray
    order: np.ndarray
    min_overlap: float
    swaps: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return self.S.shape[0]

    def reconstruct(self, i: int) -> np.ndarray:
        return (self.U[i] * self.S[i]) @ self.V[i].T

    def sorted_singular_values(self) -> np.ndarray:
        """The plain sorted |sigma| at each time (what a naive SVD reports), shape (T, k)."""
        return -np.sort(-np.abs(self.S), axis=1)


def _iterable(products):
    if products is None or isinstance(products, (str, bytes)) or not hasattr(products, "__iter__"):
        raise InvalidArgument(f"products must be an array (T, d, d') or a sequence of matrices, got {products!r:.60}")
    return products


def _products_array(products) -> np.ndarray:
    if isinstance(products, np.ndarray):
        arr = products
    else:
        try:
            arr = np.stack([as_real_array(p, f"products[{i}]", finite=False, nonempty=False)
                            for i, p in enumerate(_iterable(products))])
        except ValueError as exc:
            if isinstance(exc, InvalidArgument):
                raise
            raise ShapeError(f"products: all matrices of the trajectory must share one shape ({exc})") from None
    arr = as_finite_array(arr, "products")
    if arr.ndim != 3:
        raise ShapeError(f"products (a trajectory) must have shape (T, d, d'), got {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1 or arr.shape[2] < 1:
        raise ShapeError(f"products is an empty trajectory: shape {arr.shape}")
    return arr


def _clusters(s: np.ndarray, rtol: float) -> list[list[int]]:
    """Groups of indices of sorted s (descending) whose neighbouring values agree to rtol."""
    scale = max(float(s[0]) if s.size else 0.0, np.finfo(float).tiny)
    groups, cur = [], [0]
    for i in range(1, s.size):
        if s[i - 1] - s[i] <= rtol * scale:
            cur.append(i)
        else:
            groups.append(cur)
            cur = [i]
    groups.append(cur)
    return [g for g in groups if len(g) > 1]


def track_svd(products, *, reference=None, cluster_rtol: float = 1e-9,
              min_overlap: float = 0.5) -> TrackedSVD:
    """Track the compact SVD of a sequence of matrices (see the module docstring).

    ``products``: array (T, d, d') or a sequence of equally shaped matrices (e.g.
    ``FlowResult.products`` or the products recorded along gradient descent).
    ``reference=(U0, V0)`` fixes the column order and signs at the first time (the first
    sample's signed singular values then follow them); by default the first sample uses the
    sorted SVD with positive singular values.

    Raises :class:`InvalidArgument` when consecutive samples are too far apart to match columns
    reliably (a matched combined overlap (|u.u'| + |v.v'|)/2 below ``min_overlap``).
    """
    ws = _products_array(products)
    min_overlap = check_real(min_overlap, "min_overlap", low=0.0, high=1.0, low_open=True, high_open=True)
    cluster_rtol = check_real(cluster_rtol, "cluster_rtol", low=0.0)
    from scipy.optimize import linear_sum_assignment

    t_count, d, dp = ws.shape
    k = min(d, dp)
    us = np.empty((t_count, d, k))
    ss = np.empty((t_count, k))
    vs = np.empty((t_count, dp, k))
    orders = np.empty((t_count, k), dtype=int)
    swaps: list[int] = []
    worst = 1.0
    prev = None
    if reference is not None:
        u0, v0 = check_matrix_pair(reference, "reference")
        if u0.shape != (d, k) or v0.shape != (dp, k):
            raise ShapeError(f"reference must be (U, V) with shapes {(d, k)} and {(dp, k)}, got {u0.shape}, {v0.shape}")
        prev = (u0, v0)
    for i in range(t_count):
        w = ws[i]
        u, s, vt = np.linalg.svd(w, full_matrices=False)
        v = vt.T
        if prev is None:
            us[i], ss[i], vs[i], orders[i] = u, s, v, np.arange(k)
            prev = (u, v)
            continue
        up, vp = prev
        # degenerate clusters: rotate the arbitrary basis onto the previous vectors
        for g in _clusters(s, cluster_rtol):
            m = u[:, g].T @ up[:, g] + v[:, g].T @ vp[:, g]  # overlaps restricted to the cluster
            a, _, bt = np.linalg.svd(m)
            rot = a @ bt
            u[:, g] = u[:, g] @ rot
            v[:, g] = v[:, g] @ rot
        overlap = np.abs(up.T @ u) + np.abs(vp.T @ v)       # (k_prev, k_new)
        rows, cols = linear_sum_assignment(-overlap)
        order = np.empty(k, dtype=int)
        order[rows] = cols
        worst = min(worst, float(overlap[rows, cols].min()) / 2.0)
        if worst < min_overlap:
            raise InvalidArgument(
                f"samples {i - 1} and {i} are too far apart to track the SVD: a matched overlap "
                f"(|u.u'| + |v.v'|)/2 = {worst:.3f} < min_overlap = {min_overlap} (sample more finely)")
        if i >= 1 and not np.array_equal(order, orders[i - 1]):
            swaps.append(i)
        u, v, s = u[:, order], v[:, order], s[order]
        su = np.sign(np.sum(u * up, axis=0))
        sv = np.sign(np.sum(v * vp, axis=0))
        su[su == 0] = 1.0
        sv[sv == 0] = 1.0
        u, v = u * su, v * sv
        if _clusters(np.sort(np.abs(s))[::-1], cluster_rtol):
            s = np.einsum("ir,ij,jr->r", u, w, v)  # rotated cluster: read the signed values back
        else:
            s = s * su * sv
        us[i], ss[i], vs[i], orders[i] = u, s, v, order
        prev = (u, v)
    return TrackedSVD(us, ss, vs, orders, worst, swaps)
