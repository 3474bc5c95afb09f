"""Gradient flows and descent: invariants, Lemma 3, convergence order, divergence reports."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmf_verify.checks.instances import balanced_instance, sensing_loss
from dmf_verify.numerics import (
    DivergenceError,
    FrobeniusLoss,
    InvalidArgument,
    NotBalancedError,
    gradient_descent,
    imbalance,
    integrate_end_to_end_flow,
    integrate_end_to_end_from_factors,
    integrate_factor_flow,
    product,
    random_factors,
)
from dmf_verify.numerics.rates import five_point_derivative, singular_value_rates
from dmf_verify.numerics.spectral import svd_aligned

depths = st.integers(1, 5)
seeds = st.integers(0, 2**16)


@given(depth=st.integers(2, 5), seed=seeds, d0=st.integers(1, 4), dn=st.integers(1, 4))
def test_flow_conserves_imbalance_from_any_init(depth, seed, d0, dn):
    dims = [d0] + list(np.random.default_rng(seed).integers(1, 5, size=depth - 1)) + [dn]
    fs = random_factors(dims, scale=1.0, seed=seed)
    loss = sensing_loss((dn, d0), 4, seed=seed)
    sol = integrate_factor_flow(loss, fs, [0.0, 0.5, 1.0], rtol=1e-12, atol=1e-14)
    scale = max(1.0, max(np.linalg.norm(f) ** 2 for f in fs))
    for a, b in zip(imbalance(sol.factors[-1]), imbalance(fs)):
        assert np.linalg.norm(a - b) <= 1e-9 * scale


@given(depth=st.integers(2, 4), seed=seeds)
def test_unequal_layer_rates_break_conservation(depth, seed):
    fs = random_factors([3] * (depth + 1), scale=1.0, seed=seed)
    loss = sensing_loss((3, 3), 5, seed=seed)
    sol = integrate_factor_flow(loss, fs, [0.0, 1.0], layer_rates=[3.0] + [1.0] * (depth - 1))
    drift = max(np.linalg.norm(a - b) for a, b in zip(imbalance(sol.factors[-1]), imbalance(fs)))
    assert drift > 1e-6


@given(depth=depths, seed=seeds)
def test_end_to_end_ode_matches_factor_flow(depth, seed):
    fs = balanced_instance((4, 3), depth, seed=seed, hidden=[5] * (depth - 1))
    loss = sensing_loss((4, 3), 6, seed=seed)
    times = [0.0, 0.5, 1.0]
    fac = integrate_factor_flow(loss, fs, times, rtol=1e-11, atol=1e-13)
    e2e = integrate_end_to_end_from_factors(loss, fs, times, rtol=1e-11, atol=1e-13)
    for a, b in zip(e2e.products, fac.products):
        assert np.linalg.norm(a - b) <= 1e-8 * np.linalg.norm(b)


@given(depth=st.integers(2, 5), seed=seeds)
def test_wrong_exponents_do_not_match_factor_flow(depth, seed):
    fs = balanced_instance((4, 3), depth, seed=seed)
    loss = sensing_loss((4, 3), 6, seed=seed)
    fac = integrate_factor_flow(loss, fs, [0.0, 1.0])
    bad = integrate_end_to_end_flow(loss, product(fs), depth, [0.0, 1.0],
                                    exponents=lambda j, n: (j / n, (n - j) / n))
    assert np.linalg.norm(bad.products[-1] - fac.products[-1]) > 1e-4 * np.linalg.norm(fac.products[-1])


def test_end_to_end_from_unbalanced_factors_is_refused():
    fs = random_factors([3, 3, 3], scale=1.0, seed=0)
    with pytest.raises(NotBalancedError, match="not balanced"):
        integrate_end_to_end_from_factors(FrobeniusLoss(np.eye(3)), fs, [0.0, 1.0])


@given(depth=depths, seed=seeds)
def test_theorem3_rate_matches_finite_differences(depth, seed):
    fs = balanced_instance((4, 3), depth, seed=seed, spectrum=[1.6, 1.0, 0.4])
    loss = sensing_loss((4, 3), 6, seed=seed)
    h, t0 = 2e-3, 0.2
    sol = integrate_factor_flow(loss, fs, np.r_[0.0, t0 + h * np.arange(-2, 3)], rtol=1e-12, atol=1e-14)
    sig = np.array([svd_aligned(w)[1] for w in sol.products[1:]])
    fd = five_point_derivative(sig, h)
    mid = sol.products[3]
    _, rate = singular_value_rates(mid, loss.gradient(mid), depth)
    assert np.max(np.abs(fd - rate)) <= 1e-6 * np.max(np.abs(rate))
    if depth >= 2:  # the control: a wrong exponent is detectably off
        _, wrong = singular_value_rates(mid, loss.gradient(mid), depth, exponent=1 - 1 / (depth + 1))
        assert np.max(np.abs(fd - wrong)) > 1e-3 * np.max(np.abs(rate))


def test_gd_converges_to_flow_with_order_one():
    """Measured convergence order of GD towards the flow (diffrax-style order test)."""
    fs = balanced_instance((3, 3), 3, seed=4)
    loss = sensing_loss((3, 3), 5, seed=4)
    ref = integrate_factor_flow(loss, fs, [0.0, 1.0], rtol=1e-12, atol=1e-14).products[-1]
    errs = [np.linalg.norm(gradient_descent(loss, fs, step=1.0 / k, steps=k).product - ref) for k in (200, 400, 800)]
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(orders - 1.0) < 0.05), orders


def test_gd_divergence_reports_the_step():
    loss = FrobeniusLoss(np.diag([5.0, 3.0]))
    fs = [np.eye(2), np.eye(2)]
    with pytest.raises(DivergenceError) as info:
        gradient_descent(loss, fs, step=2.0, steps=100)
    assert info.value.step >= 1 and "step" in str(info.value)
    res = gradient_descent(loss, fs, step=2.0, steps=100, on_divergence="return")
    assert res.status == "diverged" and res.diverged_at == info.value.step


def test_gd_stops_at_tolerance_and_records_history():
    loss = FrobeniusLoss(np.diag([2.0, 1.0]))
    res = gradient_descent(loss, [0.5 * np.eye(2)] * 2, step=0.05, steps=10_000, tol=1e-10, record_every=10)
    assert res.status == "converged" and res.loss <= 1e-10
    assert res.history["step"][0] == 0 and res.history["step"][-1] == res.steps
    assert np.all(np.diff(res.history["loss"]) <= 0)


@pytest.mark.parametrize("kwargs", [dict(step=0.0, steps=1), dict(step=-1.0, steps=1), dict(step=0.1, steps=-1),
                                    dict(step=np.nan, steps=1), dict(step=0.1, steps=1, on_divergence="ignore")])
def test_gd_rejects_bad_options(kwargs):
    with pytest.raises(InvalidArgument):
        gradient_descent(FrobeniusLoss(np.eye(2)), [np.eye(2)], **kwargs)


def test_flow_rejects_bad_times():
    with pytest.raises(InvalidArgument):
        integrate_factor_flow(FrobeniusLoss(np.eye(2)), [np.eye(2)], [1.0, 0.5])
    with pytest.raises(InvalidArgument):
        integrate_factor_flow(FrobeniusLoss(np.eye(2)), [np.eye(2)], [])


def test_flow_stops_at_norm_bound():
    # x' = x^2-type growth: depth 3 on a scalar target far away blows up only slowly, but the
    # norm bound must stop the run and say so.
    loss = FrobeniusLoss(np.array([[100.0]]))
    sol = integrate_factor_flow(loss, [np.array([[1.0]])] * 3, [0.0, 50.0], max_norm=3.0)
    assert sol.status == "event"
