"""dmf_verify.numerics.training: the protocol of Arora et al. 2019 (problems, GD, GroupRMSprop, flow)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmf_verify.numerics.descent import gradient_descent
from dmf_verify.errors import InvalidArgument, ShapeError
from dmf_verify.numerics.flow import integrate_factor_flow
from dmf_verify.numerics.model import factor_gradients, product
from dmf_verify.numerics.training import (
    _Objective,
    _rkc_coefficients,
    completion_problem,
    ground_truth,
    init_factors,
    make_problem,
    sensing_problem,
    train,
)


def test_ground_truth_protocol():
    w = ground_truth(30, 3, seed=4)
    s = np.linalg.svd(w, compute_uv=False)
    assert np.isclose(np.linalg.norm(w), 30.0)
    assert s[2] > 1e-6 * s[0] and s[3] < 1e-10 * s[0]  # rank exactly 3
    assert np.array_equal(w, ground_truth(30, 3, seed=4))
    assert not np.allclose(w, w.T)


@pytest.mark.parametrize("kwargs", [dict(n=5, rank=6), dict(n=0, rank=1), dict(n=5, rank=0), dict(n=5.0, rank=1)])
def test_ground_truth_bad_input(kwargs):
    with pytest.raises(InvalidArgument):
        ground_truth(kwargs["n"], kwargs["rank"])


def test_completion_problem_observes_distinct_entries():
    p = completion_problem(10, 2, 37, seed=1)
    idx = p.loss.rows * 10 + p.loss.cols
    assert np.unique(idx).size == 37
    assert np.allclose(p.loss.values, p.ground_truth[p.loss.rows, p.loss.cols])
    assert p.loss.value(p.ground_truth) == 0.0
    assert math.isclose(p.test_mse(np.zeros((10, 10))), 1.0)  # ||W*||_F^2 / n^2 = 1
    assert math.isclose(p.reconstruction_error(np.zeros((10, 10))), 1.0)


def test_sensing_problem_scaling():
    p = sensing_problem(8, 1, 50, seed=2)
    assert p.loss.A.shape == (50, 8, 8)
    assert abs(p.loss.value(p.ground_truth)) < 1e-20
    assert 0.5 < np.mean(np.sum(p.loss.A ** 2, axis=(1, 2))) < 1.5  # ||A_i||_F ~ 1


@pytest.mark.parametrize("task,m", [("completion", 101), ("completion", 0), ("tensor", 5), ("sensing", 0)])
def test_problem_bad_input(task, m):
    with pytest.raises(InvalidArgument):
        make_problem(task, 10, 2, m)


def test_init_scale():
    fs = init_factors(200, 3, 1e-3, seed=0)
    s = (1e-3) ** (1 / 3) / math.sqrt(200)
    assert all(abs(f.std() / s - 1) < 0.02 for f in fs)
    # ||W||_F ~ init_scale sqrt(n) at the start
    assert 0.5 < np.linalg.norm(product(fs)) / (1e-3 * math.sqrt(200)) < 2.0
    with pytest.raises(InvalidArgument):
        init_factors(10, 2, -1.0)
    with pytest.raises(InvalidArgument):
        init_factors(10, 0, 1e-3)


@settings(max_examples=20, deadline=None)
@given(depth=st.integers(1, 4), seed=st.integers(0, 10_000), task=st.sampled_from(["completion", "sensing"]))
def test_objective_matches_closed_form_gradients(depth, seed, task):
    p = make_problem(task, 6, 2, 20, seed=seed)
    fs = init_factors(6, depth, 1.0, seed=seed)
    value, grads, w = _Objective(p.loss, np.float64)(fs)
    ref = factor_gradients(fs, p.loss)
    assert math.isclose(value, p.loss.value(product(fs)), rel_tol=1e-12)
    for g, r in zip(grads, ref):
        assert np.allclose(g, r, rtol=1e-11, atol=1e-14)


def _reference_group_rmsprop(loss, fs, lr, steps, rho=0.99, eps=1e-4):
    fs = [f.copy() for f in fs]
    v = 0.0
    for t in range(1, steps + 1):
        grads = factor_gradients(fs, loss)
        v = rho * v + (1 - rho) * sum(np.sum(g * g) for g in grads)
        eta = lr / (np.sqrt(v / (1 - rho ** t)) + eps)
        fs = [f - eta * g for f, g in zip(fs, grads)]
    return fs


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_adaptive_is_group_rmsprop(depth):
    p = completion_problem(8, 2, 30, seed=3)
    fs = init_factors(8, depth, 1e-2, seed=3)
    r = train(p, fs, optimizer="adaptive", lr=1e-2, max_iter=25, tol=0.0)
    ref = _reference_group_rmsprop(p.loss, fs, 1e-2, 25)
    assert r.status == "max_iter" and r.iterations == 25 and r.nfev == 26
    for a, b in zip(r.factors, ref):
        assert np.allclose(a, b, rtol=1e-10, atol=1e-14)


def test_gd_matches_foundation_gradient_descent():
    p = sensing_problem(5, 1, 15, seed=0)
    fs = init_factors(5, 3, 0.5, seed=0)
    r = train(p, fs, optimizer="gd", lr=0.05, max_iter=40, tol=0.0)
    ref = gradient_descent(p.loss, fs, step=0.05, steps=40)
    assert np.allclose(r.product, ref.product, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("method", ["rkc", "dopri5"])
def test_flow_follows_the_gradient_flow(method):
    p = completion_problem(8, 1, 30, seed=5)
    fs = init_factors(8, 3, 0.5, seed=5)
    r = train(p, fs, optimizer="flow", lr=1.0, tol=1e-6, rtol=1e-6, atol=1e-10, flow_method=method)
    assert r.status == "converged" and r.loss <= 1e-6
    ref = integrate_factor_flow(p.loss, fs, [0.0, r.flow_time], rtol=1e-10, atol=1e-12).products[-1]
    err = np.linalg.norm(r.product - ref) / np.linalg.norm(ref)
    assert err < 1e-3
    # negative control: the flow at a tenth of the time is much farther away
    early = integrate_factor_flow(p.loss, fs, [0.0, 0.1 * r.flow_time], rtol=1e-10, atol=1e-12).products[-1]
    assert np.linalg.norm(r.product - early) / np.linalg.norm(ref) > 10 * err


def test_flow_reaches_the_adaptive_solution():
    p = completion_problem(12, 1, 60, seed=0)
    fs = init_factors(12, 3, 1e-3, seed=0)
    a = train(p, fs, optimizer="adaptive", lr=1e-2)
    f = train(p, fs, optimizer="flow", lr=1.0)
    f32 = train(p, fs, optimizer="flow", lr=1.0, dtype=np.float32)
    assert a.status == f.status == f32.status == "converged"
    assert f.nfev < a.nfev
    for r in (f, f32):
        assert np.linalg.norm(r.product - a.product) / np.linalg.norm(a.product) < 2e-2
        assert abs(p.test_mse(r.product) - p.test_mse(a.product)) <= 0.2 * p.test_mse(a.product) + 1e-6


@settings(max_examples=15, deadline=None)
@given(s=st.integers(1, 120))
def test_rkc_stability_interval(s):
    """R_s(z) from the stage recurrence on y' = z y stays in [-1, 1] on [-beta(s), 0], beta ~ 1.93 s^2."""
    mu, nu, mut, beta = _rkc_coefficients(s)
    assert beta >= 1.9 * s * s
    for z in np.linspace(-beta, 0.0, 201):
        y2, y1 = 1.0, 1.0 + mut[1] * z
        for j in range(2, s + 1):
            y2, y1 = y1, mu[j] * y1 + nu[j] * y2 + mut[j] * z * y1
        assert abs(y1) <= 1.0 + 1e-9
    # first order: R_s(z) = 1 + z + O(z^2)
    z = 1e-6
    y2, y1 = 1.0, 1.0 + mut[1] * z
    for j in range(2, s + 1):
        y2, y1 = y1, mu[j] * y1 + nu[j] * y2 + mut[j] * z * y1
    assert abs(y1 - (1 + z)) < 1e-9


def test_divergence_is_recorded_not_raised():
    p = completion_problem(8, 1, 30, seed=0)
    r = train(p, init_factors(8, 2, 1.0, seed=0), optimizer="gd", lr=1e4, max_iter=1000)
    assert r.status == "diverged"


@pytest.mark.parametrize("kwargs,err", [
    (dict(optimizer="adam"), InvalidArgument),
    (dict(lr=0.0), InvalidArgument),
    (dict(lr=-1.0), InvalidArgument),
    (dict(dtype=np.int64), InvalidArgument),
    (dict(flow_method="euler"), InvalidArgument),
    (dict(rho=1.0), InvalidArgument),
    (dict(max_iter=-1), InvalidArgument),
])
def test_train_bad_input(kwargs, err):
    p = completion_problem(6, 1, 10, seed=0)
    with pytest.raises(err):
        train(p, init_factors(6, 2, 1e-3), **kwargs)


def test_train_shape_mismatch():
    p = completion_problem(6, 1, 10, seed=0)
    with pytest.raises(ShapeError):
        train(p, init_factors(5, 2, 1e-3))
    with pytest.raises(ShapeError):
        train(p, [np.ones((6, 4)), np.ones((6, 6))])
