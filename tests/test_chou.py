"""Tests for numerics/chou.py, theory/chou.py and the chou.* claims (Chou-Gieshoff-Maly-Rauhut)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmf_verify.numerics.chou import (StepSizeWarning, aligned_factors, convergence_step_bound, early_stopping_interval,
                           erank_box_bounds, erank_rows, measured_switch_on, predict_erank_intervals,
                           scalar_recursion, switch_on_bounds, switch_on_time, switch_on_time_quadrature)
from dmf_verify.numerics.descent import gradient_descent
from dmf_verify.errors import InvalidArgument, NonFiniteError, ShapeError
from dmf_verify.numerics.losses import FrobeniusLoss

depths = st.integers(2, 6)
lams = st.floats(0.05, 20.0)


def _r_min(n):
    return {2: 1e-3, 3: 5e-3, 4: 3e-2, 5: 8e-2, 6: 1.2e-1}[n]


@st.composite
def switch_cases(draw):
    n = draw(depths)
    lam = draw(lams)
    r = draw(st.floats(_r_min(n), 0.5))
    c = draw(st.floats(0.05, 1.9))  # eta / eta*, including beyond the convergence bound
    theta = draw(st.floats(0.02, 0.98))
    alpha = r * lam ** (1.0 / n)
    if alpha**n >= 0.9 * theta * lam:
        theta = min(0.98, 2 * alpha**n / lam)
    eta = c / (n * lam ** (2.0 - 2.0 / n))
    return n, lam, alpha, eta, theta


# ------------------------------------------------------------------------------ recursion properties
@given(depths, lams, st.floats(0.01, 0.9), st.floats(0.05, 1.0))
@settings(max_examples=40, deadline=None)
def test_monotone_convergence_below_bound(n, lam, r, c):
    eta = c * convergence_step_bound(lam, n)
    w = scalar_recursion(lam, n, alpha=r * lam ** (1.0 / n), step=eta, steps=200).w[:, 0]
    assert np.all(np.diff(w) >= -1e-15 * w[1:])  # monotone (round-off aside)
    assert np.all(w <= lam ** (1.0 / n) * (1 + 1e-14))  # never overshoots
    assert np.all(w > 0)  # sign preserved


@given(depths, st.floats(0.05, 5.0), st.floats(0.3, 0.9))
@settings(max_examples=20, deadline=None)
def test_non_monotone_above_bound(n, lam, r):
    eta = 1.3 * convergence_step_bound(lam, n)
    with pytest.warns(StepSizeWarning, match="exceeds the monotone-convergence bound"):
        w = scalar_recursion(lam, n, alpha=r * lam ** (1.0 / n), step=eta, steps=1500).w[:, 0]
    assert np.any(w > lam ** (1.0 / n) * (1 + 1e-9))  # overshoot happens for every eta > eta*


@given(depths, st.floats(0.05, 5.0), st.floats(0.05, 0.9))
@settings(max_examples=20, deadline=None)
def test_negative_and_zero_eigenvalues_decay(n, lam, r):
    """lam <= 0 from alpha > 0: w_k decreases and stays positive (never switched on)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StepSizeWarning)
        alpha = r * lam ** (1.0 / n)
        eta = 0.5 * convergence_step_bound(lam, n)
        w = scalar_recursion(np.array([-lam, 0.0]), n, alpha=alpha, step=eta, steps=200).w
    assert np.all(np.diff(w, axis=0) <= 0)
    assert np.all(w > 0)


@given(switch_cases())
@settings(max_examples=60, deadline=None)
def test_switch_on_inside_bounds(case):
    n, lam, alpha, eta, theta = case
    b = switch_on_bounds(lam, n, alpha=alpha, step=eta, theta=theta)
    k = measured_switch_on(lam, n, alpha=alpha, step=eta, theta=theta, max_steps=10**6)
    assert b.lower <= k < b.upper
    assert b.first_possible <= k <= b.last_possible
    assert b.Lambda >= 0 and b.S >= 0


def test_switch_on_bounds_fail_for_dropped_factor_n():
    """Negative control: without the factor N in the time scale the bounds are violated."""
    n, lam, alpha, eta, theta = 3, 1.0, 0.02, 0.1, 0.5
    b = switch_on_bounds(lam, n, alpha=alpha, step=eta, theta=theta)
    k = measured_switch_on(lam, n, alpha=alpha, step=eta, theta=theta)
    assert k < b.lower + (n - 1) * b.T / eta


@given(depths, lams, st.floats(1e-2, 0.5), st.floats(0.05, 0.95))
@settings(max_examples=40, deadline=None)
def test_switch_on_time_closed_form_matches_quadrature(n, lam, r, theta):
    alpha = r * (theta * lam) ** (1.0 / n)
    t1 = switch_on_time(lam, n, alpha=alpha, theta=theta)
    t2 = switch_on_time_quadrature(lam, n, alpha=alpha, theta=theta)
    assert abs(t1 - t2) <= 1e-9 * t2


def test_switch_on_time_asymptotics():
    lam, theta = 2.0, 0.5
    for n in (3, 4):
        a = 1e-4
        t = switch_on_time(lam, n, alpha=a, theta=theta)
        lead = a ** (2 - n) / ((n - 2) * lam)
        assert abs(t / lead - 1) < 1e-2
    t = switch_on_time(lam, 2, alpha=1e-8, theta=theta)
    assert abs(t / (math.log(1e8) / lam) - 1) < 0.05


# ------------------------------------------------------------------------------ decoupling
@given(st.integers(2, 5), st.integers(0, 10**6))
@settings(max_examples=12, deadline=None)
def test_decoupling_symmetric_and_svd(n, seed):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    lam = rng.uniform(0.3, 3.0, 4)
    a = (q * lam) @ q.T
    a = 0.5 * (a + a.T)
    b = rng.standard_normal((3, 5))
    for mat, path in ((a, "symmetric"), (b, "svd")):
        fs, spec, used = aligned_factors(mat, n, alpha=0.4, path=path)
        assert used == path
        eta = 0.5 * convergence_step_bound(spec.max(), n)
        res = gradient_descent(FrobeniusLoss(mat), fs, step=eta, steps=60)
        x = scalar_recursion(spec, n, alpha=0.4, step=eta, steps=60).x[-1]
        if path == "symmetric":
            ev, vec = np.linalg.eigh(mat)
            vec = vec[:, ::-1]
            pred = (vec * x) @ vec.T
        else:
            u, _, vt = np.linalg.svd(mat, full_matrices=False)
            pred = (u * x) @ vt
        assert np.linalg.norm(res.product - pred) <= 1e-12 * np.linalg.norm(pred)


# ------------------------------------------------------------------------------ erank enclosures
@given(st.integers(1, 6), st.integers(0, 10**6))
@settings(max_examples=40, deadline=None)
def test_erank_box_bounds_enclose_samples(d, seed):
    rng = np.random.default_rng(seed)
    lo = rng.uniform(0, 1, d) * rng.choice([1.0, 1e-3], d)
    hi = lo + rng.uniform(0, 1, d) * rng.choice([1.0, 0.05], d)
    emin, emax = erank_box_bounds(lo, hi)
    x = lo + rng.uniform(size=(4000, d)) * (hi - lo)
    e = erank_rows(x)
    assert e.min() >= emin - 1e-12 and e.max() <= emax + 1e-12
    assert 1.0 - 1e-12 <= emin <= emax <= d + 1e-12


def test_predicted_interval_contains_and_is_contained():
    lam = np.array([10.0, 8.0, 6.0, 1.0, 0.5])
    eta = 0.5 * convergence_step_bound(10.0, 2)
    p = predict_erank_intervals(lam, 2, alpha=0.05, step=eta, rank=3, delta=0.05, n_levels=20)
    assert p.inner is not None and p.outer[0] <= p.inner[0] <= p.inner[1] <= p.outer[1]
    x = scalar_recursion(lam, 2, alpha=0.05, step=eta, steps=p.outer[1] + 50).x
    e = erank_rows(x)
    assert np.all(np.abs(e[p.inner[0]:p.inner[1] + 1] - p.target_erank) <= 0.05)
    assert abs(e[p.outer[0] - 1] - p.target_erank) > 0.05 and abs(e[p.outer[1] + 1] - p.target_erank) > 0.05


def test_early_stopping_from_matrix_matches_spectrum():
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    lam = np.array([10.0, 8.0, 6.0, 1.0, 0.5])
    a = (q * lam) @ q.T
    eta = 0.5 * convergence_step_bound(10.0, 2)
    r1 = early_stopping_interval(a, 2, alpha=0.05, step=eta, rank=3, n_levels=15)
    r2 = early_stopping_interval(spectrum=lam, depth=2, alpha=0.05, step=eta, rank=3, n_levels=15)
    assert r1.path == "symmetric" and r1.inner == r2.inner and r1.outer == r2.outer


# ------------------------------------------------------------------------------ bad input
def test_bad_inputs():
    lam = np.array([10.0, 8.0, 6.0, 0.0, 0.0])
    eta = 0.5 * convergence_step_bound(10.0, 3)
    with pytest.raises(InvalidArgument, match="exceeds rank"):
        early_stopping_interval(spectrum=lam, depth=3, alpha=0.05, step=eta, rank=4)
    with pytest.raises(InvalidArgument, match="symmetric path needs a symmetric A"):
        aligned_factors(np.array([[1.0, 2.0], [0.0, 1.0]]), 3, alpha=0.1, path="symmetric")
    with pytest.raises(InvalidArgument, match="negative eigenvalue"):
        aligned_factors(np.diag([1.0, -1.0]), 2, alpha=0.1, path="symmetric")
    fs, s, used = aligned_factors(np.diag([1.0, -1.0]), 2, alpha=0.1)  # auto falls back to the SVD path
    assert used == "svd" and np.allclose(s, [1.0, 1.0])
    with pytest.raises(InvalidArgument, match="negative entries"):
        early_stopping_interval(spectrum=[1.0, -0.5], depth=2, alpha=0.05, step=0.1, rank=1)
    with pytest.raises(InvalidArgument, match="lam must be > 0"):
        switch_on_time(-1.0, 2, alpha=0.1, theta=0.5)
    with pytest.raises(InvalidArgument, match="theta"):
        switch_on_bounds(1.0, 3, alpha=0.1, step=0.1, theta=1.0)
    with pytest.raises(InvalidArgument, match="depth must be >= 2"):
        convergence_step_bound(1.0, 1)
    with pytest.raises(InvalidArgument, match="alpha"):
        switch_on_time(1.0, 3, alpha=0.9, theta=0.5)
    with pytest.raises(NonFiniteError):
        scalar_recursion([1.0, np.nan], 2, alpha=0.1, step=0.1, steps=3)
    with pytest.raises(ShapeError):
        scalar_recursion(np.ones((2, 2)), 2, alpha=0.1, step=0.1, steps=3)
    with pytest.raises(InvalidArgument, match="exactly one"):
        early_stopping_interval(np.eye(2), 2, spectrum=[1.0, 1.0], alpha=0.1, step=0.1, rank=1)
    with pytest.warns(StepSizeWarning, match="1/\\(N lam_max"):
        early_stopping_interval(spectrum=[4.0, 1.0], depth=2, alpha=0.05, step=1.0, rank=1, n_levels=5)


# ------------------------------------------------------------------------------ theory and claims
def test_theory_derivations_verified():
    from dmf_verify.theory import chou

    for f in (chou.convergence, chou.switch_on_bounds, chou.erank_box_max, chou.switch_on_time):
        d = f()
        assert d.verified, [k for k, v in d.checks.items() if not v]


@pytest.mark.slow
def test_decoupling_derivation_verified():
    from dmf_verify.theory import chou

    d = chou.decoupling()
    assert d.verified, [k for k, v in d.checks.items() if not v]


@pytest.mark.parametrize("cid", ["chou.decoupling", "chou.switch_on"])
def test_fast_claims_pass(cid):
    from dmf_verify.checks.registry import get

    r = get(cid).check(0)
    assert r.passed, r.message


@pytest.mark.slow
@pytest.mark.parametrize("cid", ["chou.convergence", "chou.erank_intervals", "chou.random_init", "chou.sensing"])
@pytest.mark.parametrize("seed", [0, 12345])
def test_all_claims_pass(cid, seed):
    from dmf_verify.checks.registry import get

    r = get(cid).check(seed)
    assert r.passed, r.message
