"""Spectral helpers: PSD powers from a compact SVD, effective rank, Schatten norms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmf_verify.numerics import NotPSDError, effective_rank, gram_power, nuclear_norm, psd_power, schatten_norm, schatten_p_power
from dmf_verify.numerics.spectral import svd_aligned


@given(d=st.integers(1, 6), dp=st.integers(1, 6), q=st.sampled_from([0.0, 0.25, 1 / 3, 0.5, 1.0, 1.5]),
       seed=st.integers(0, 2**16))
def test_gram_power_matches_definition(d, dp, q, seed):
    w = np.random.default_rng(seed).standard_normal((d, dp))
    left = gram_power(w, q, side="left")
    right = gram_power(w, q, side="right")
    # the q-th power composes: (WW^T)^q (WW^T)^(1-q) = WW^T
    np.testing.assert_allclose(left @ gram_power(w, 1 - q, side="left") if q <= 1 else left,
                               w @ w.T if q <= 1 else left, atol=1e-11 * max(1.0, np.linalg.norm(w) ** 2))
    assert left.shape == (d, d) and right.shape == (dp, dp)
    if q == 0:
        np.testing.assert_array_equal(left, np.eye(d))
    if q == 1:
        np.testing.assert_allclose(right, w.T @ w, atol=1e-12 * max(1.0, np.linalg.norm(w) ** 2))


def test_compact_svd_keeps_digits_that_eigh_of_gram_loses():
    # W (4x2) with singular values 1 and 1e-9: (W W^T)^(1/4) has eigenvalue sqrt(1e-9) ~ 3.16e-5.
    # (A 4x3 W of rank 2 would add a round-off singular value ~1e-17 whose fractional power is
    # ~1e-9: fractional powers amplify round-off in any method.)
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.standard_normal((4, 2)))
    v, _ = np.linalg.qr(rng.standard_normal((2, 2)))
    w = (u * [1.0, 1e-9]) @ v.T
    exact = (u * np.array([1.0, 1e-9]) ** 0.5) @ u.T
    ours = gram_power(w, 0.25)
    lam, q = np.linalg.eigh(w @ w.T)
    naive = (q * np.clip(lam, 0, None) ** 0.25) @ q.T
    err_ours = np.linalg.norm(ours - exact)
    err_naive = np.linalg.norm(naive - exact)
    assert err_ours < 1e-11  # sigma_2 = 1e-9 carries relative error ~eps/1e-9; its root ~1e-12 absolute
    assert err_naive > 100 * err_ours  # the squared route loses about half the digits


def test_psd_power_rejects_non_psd_and_asymmetric():
    with pytest.raises(NotPSDError):
        psd_power(np.diag([1.0, -0.5]), 0.5)
    with pytest.raises(NotPSDError):
        psd_power(np.array([[1.0, 2.0], [0.0, 1.0]]), 0.5)
    with pytest.raises(NotPSDError):
        psd_power(np.ones((2, 3)), 0.5)
    np.testing.assert_allclose(psd_power(np.diag([4.0, 9.0]), 0.5), np.diag([2.0, 3.0]))


def test_effective_rank_reference_values():
    assert effective_rank(np.eye(4)) == pytest.approx(4.0, rel=1e-14)
    assert effective_rank(np.diag([1.0, 0.0, 0.0])) == pytest.approx(1.0)
    assert effective_rank(np.zeros((3, 3))) == 0.0
    # p = (2/3, 1/3): exp(H) = exp(-(2/3 ln 2/3 + 1/3 ln 1/3)) = 1.8899...
    assert effective_rank(np.array([2.0, 1.0])) == pytest.approx(1.8898815748423097, rel=1e-14)


@given(seed=st.integers(0, 2**16), p=st.floats(0.1, 3.0))
def test_schatten_norms(seed, p):
    w = np.random.default_rng(seed).standard_normal((4, 3))
    s = np.linalg.svd(w, compute_uv=False)
    assert schatten_p_power(w, p) == pytest.approx(np.sum(s**p), rel=1e-12)
    assert schatten_norm(w, 1.0) == pytest.approx(nuclear_norm(w), rel=1e-12)
    assert schatten_norm(w, 2.0) == pytest.approx(np.linalg.norm(w), rel=1e-12)
    assert schatten_norm(w, np.inf) == pytest.approx(s[0], rel=1e-12)


def test_svd_aligned_follows_reference_signs():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 3))
    u, s, v = svd_aligned(w)
    u2, s2, v2 = svd_aligned(w + 1e-6 * rng.standard_normal((4, 3)), reference=(-u, -v))
    assert np.all(np.sum(u2 * -u, axis=0) > 0.99)
    np.testing.assert_allclose((u2 * s2) @ v2.T, w, atol=1e-5)
