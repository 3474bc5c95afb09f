"""SVD tracker (dmf_verify.numerics.tracking): planted analytic trajectories with crossings, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmf_verify.errors import InvalidArgument, NonFiniteError, ShapeError
from dmf_verify.numerics.tracking import track_svd


def _expm_skew(k, t):
    from scipy.linalg import expm

    return expm(t * k)


def planted(d, dp, seed, n=301, t_end=1.0):
    """W(t) = U(t) diag(sigma(t)) V(t)^T, sigma linear with random slopes (crossings and zero
    crossings happen), U(t) = expm(t K_U) U_0; times offset so no sample hits a crossing."""
    rng = np.random.default_rng(seed)
    k = min(d, dp)
    intercepts = np.sort(rng.uniform(0.2, 2.0, size=k))[::-1] + 0.05 * np.arange(k)[::-1]
    slopes = rng.uniform(-2.5, 2.5, size=k)
    ku = rng.standard_normal((d, d))
    kv = rng.standard_normal((dp, dp))
    ku, kv = 0.7 * (ku - ku.T), 0.7 * (kv - kv.T)
    u0, _ = np.linalg.qr(rng.standard_normal((d, k)))
    v0, _ = np.linalg.qr(rng.standard_normal((dp, k)))
    h = t_end / (n - 1)
    t = np.arange(n) * h + h * (np.sqrt(2) - 1)
    sig = intercepts[None, :] + slopes[None, :] * t[:, None]
    eu, ev = _expm_skew(ku, h), _expm_skew(kv, h)
    us, vs = np.empty((n, d, k)), np.empty((n, dp, k))
    us[0], vs[0] = _expm_skew(ku, t[0]) @ u0, _expm_skew(kv, t[0]) @ v0
    for i in range(1, n):
        us[i], vs[i] = eu @ us[i - 1], ev @ vs[i - 1]
    ws = np.einsum("tir,tr,tjr->tij", us, sig, vs)
    return t, ws, us, sig, vs


def _min_gap(sig):
    a = np.abs(sig)
    k = a.shape[1]
    gaps = [np.min(np.abs(a[:, r] - a[:, q])) for r in range(k) for q in range(r + 1, k)]
    return min(gaps + [np.min(a)]) if gaps else np.min(a)


@given(d=st.integers(1, 5), dp=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_tracker_recovers_planted_analytic_svd(d, dp, seed):
    t, ws, us, sig, vs = planted(d, dp, seed)
    # near-exact coincidences of |sigma| at a sample make the SVD ill-conditioned: skip those draws
    if _min_gap(sig) < 1e-6:
        return
    tr = track_svd(ws)
    # identify tracked columns with planted ones at t_0 (distinct positive intercepts)
    ident = np.argsort(np.argsort(-sig[0]))
    s = tr.S[:, ident]
    u, v = tr.U[:, :, ident], tr.V[:, :, ident]
    flips = np.sign(np.sum(u[0] * us[0], axis=0))  # the pair (u_r, v_r) has a free joint sign at t_0
    u, v = u * flips, v * flips
    scale = np.abs(sig).max()
    cond = _min_gap(sig) / scale
    tol = 1e-12 / cond + 1e-11
    np.testing.assert_allclose(s, sig, atol=tol * scale)
    np.testing.assert_allclose(u, us, atol=tol)
    np.testing.assert_allclose(v, vs, atol=tol)
    for i in (0, len(t) // 2, len(t) - 1):
        np.testing.assert_allclose(tr.reconstruct(i), ws[i], atol=1e-12 * scale)


def test_tracker_follows_crossing_and_zero_crossing_that_sorted_svd_kinks():
    _t, ws, _, sig, _ = planted(5, 3, 7)
    tr = track_svd(ws)
    ident = np.argsort(np.argsort(-sig[0]))
    assert np.max(np.abs(tr.S[:, ident] - sig)) < 1e-10
    sorted_vals = tr.sorted_singular_values()
    # second differences: smooth for the tracked (linear sigma -> ~0), large for sorted at kinks
    d2_tracked = np.abs(np.diff(tr.S, 2, axis=0)).max()
    d2_sorted = np.abs(np.diff(sorted_vals, 2, axis=0)).max()
    assert d2_tracked < 1e-10
    assert d2_sorted > 1e-3
    assert (np.diff(np.sign(sig), axis=0) != 0).any() or tr.swaps  # something non-trivial happened


def test_signed_value_crosses_zero_for_square_matrix():
    t = np.linspace(-1, 1, 201) + 1e-3 / 3
    rot = lambda a: np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    ws = np.stack([rot(0.3 * ti) @ np.diag([2.0, ti]) @ rot(-0.5 * ti).T for ti in t])
    tr = track_svd(ws)
    np.testing.assert_allclose(tr.S[:, 1], t * np.sign(tr.S[0, 1] * t[0]), atol=1e-12)
    assert tr.S[0, 1] * tr.S[-1, 1] < 0  # the signed value changed sign, continuously


def test_reference_fixes_initial_frame():
    _, ws, us, sig, vs = planted(4, 3, 3, n=50)
    tr = track_svd(ws, reference=(us[0], vs[0]))
    np.testing.assert_allclose(tr.S[0], sig[0], atol=1e-12)
    np.testing.assert_allclose(tr.U[0], us[0], atol=1e-12)


def test_degenerate_cluster_is_rotated_consistently():
    # a constant matrix with a repeated singular value: the arbitrary cluster basis is rotated onto
    # the previous one, so the tracked frame stays constant
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    w = (q * np.array([2.0, 1.0, 1.0, 0.5])) @ q.T
    ws = np.stack([w + 1e-14 * rng.standard_normal((4, 4)) for _ in range(5)])
    tr = track_svd(ws)
    for i in range(5):
        np.testing.assert_allclose(tr.reconstruct(i), ws[i], atol=1e-12)
        np.testing.assert_allclose(np.abs(tr.U[i].T @ tr.U[0]), np.eye(4), atol=1e-6)


def test_sequence_input_and_single_sample():
    w = np.diag([3.0, 1.0])
    tr = track_svd([w])
    assert len(tr) == 1 and np.allclose(tr.S[0], [3.0, 1.0])


@pytest.mark.parametrize("bad, err", [
    (np.zeros((3, 3)), ShapeError),
    (np.full((2, 2, 2), np.nan), NonFiniteError),
    ([np.eye(2), np.eye(3)], ShapeError),
])
def test_bad_trajectories_raise(bad, err):
    with pytest.raises(err):
        track_svd(bad)


def test_undersampled_trajectory_is_reported():
    rng = np.random.default_rng(1)
    ws = rng.standard_normal((6, 5, 5))  # unrelated matrices: no continuity to follow
    with pytest.raises(InvalidArgument, match="too far apart"):
        track_svd(ws, min_overlap=0.9)


@pytest.mark.parametrize("kw", [{"min_overlap": 0.0}, {"min_overlap": 1.5}, {"cluster_rtol": -1.0}])
def test_bad_options_raise(kw):
    with pytest.raises(InvalidArgument):
        track_svd(np.stack([np.eye(2)] * 2), **kw)


def test_bad_reference_shape_raises():
    with pytest.raises(ShapeError):
        track_svd(np.stack([np.eye(3)] * 2), reference=(np.eye(2), np.eye(3)))
