"""Model and losses: closed-form gradients against torch autograd, inits, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dmf_verify.numerics import (
    CompletionLoss,
    FrobeniusLoss,
    InvalidArgument,
    NonFiniteError,
    NotBalancedError,
    ShapeError,
    balanced_factors,
    factor_gradients,
    imbalance_norm,
    product,
    random_completion,
    random_factors,
    random_sensing,
    require_balanced,
)

torch.set_num_threads(1)


def _torch_loss(loss, w):
    """The same loss written directly in torch (independent of the closed forms)."""
    if isinstance(loss, FrobeniusLoss):
        r = w - torch.as_tensor(loss.target)
        return (0.5 if loss.half else 1.0) * (r * r).sum()
    if isinstance(loss, CompletionLoss):
        r = w[torch.as_tensor(loss.rows), torch.as_tensor(loss.cols)] - torch.as_tensor(loss.values)
        c = 1.0 / loss.m if loss.reduction == "mean" else 1.0
        return (0.5 if loss.half else 1.0) * c * (r * r).sum()
    a = torch.as_tensor(loss.A)
    r = torch.einsum("mij,ij->m", a, w) - torch.as_tensor(loss.y)
    c = 1.0 / loss.m if loss.reduction == "mean" else 1.0
    return (0.5 if loss.half else 1.0) * c * (r * r).sum()


def _make_loss(kind: str, shape, seed: int, reduction: str, half: bool):
    rng = np.random.default_rng(seed)
    target = rng.standard_normal(shape)
    if kind == "sensing":
        return random_sensing(shape, 5, ground_truth=target, seed=seed, reduction=reduction, half=half)
    if kind == "completion":
        m = max(1, (shape[0] * shape[1]) // 2)
        return random_completion(target, m, seed=seed, reduction=reduction, half=half)
    return FrobeniusLoss(target, half=half)


@given(depth=st.integers(1, 5), d0=st.integers(1, 4), dn=st.integers(1, 4),
       hidden=st.lists(st.integers(1, 4), min_size=4, max_size=4),
       kind=st.sampled_from(["sensing", "completion", "frobenius"]),
       reduction=st.sampled_from(["sum", "mean"]), half=st.booleans(), seed=st.integers(0, 2**16))
def test_factor_gradients_match_torch_autograd(depth, d0, dn, hidden, kind, reduction, half, seed):
    dims = [d0] + hidden[: depth - 1] + [dn]
    fs = random_factors(dims, scale=1.0, seed=seed)
    loss = _make_loss(kind, (dn, d0), seed, reduction, half)
    ours = factor_gradients(fs, loss)
    ts = [torch.tensor(f, requires_grad=True) for f in fs]
    w = ts[0]
    for t in ts[1:]:
        w = t @ w
    val = _torch_loss(loss, w)
    val.backward()
    assert abs(val.item() - loss.value(product(fs))) <= 1e-12 * max(1.0, abs(val.item()))
    for g, t in zip(ours, ts):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_completion_equals_sensing_with_unit_matrices():
    rng = np.random.default_rng(0)
    comp = random_completion(rng.standard_normal((4, 5)), 9, seed=1)
    sens = comp.as_sensing()
    w = rng.standard_normal((4, 5))
    assert comp.value(w) == pytest.approx(sens.value(w), rel=1e-14)
    np.testing.assert_allclose(comp.gradient(w), sens.gradient(w), rtol=1e-14)


def test_completion_mean_is_sum_over_m():
    rng = np.random.default_rng(3)
    gt = rng.standard_normal((5, 5))
    mean = random_completion(gt, 7, seed=0, reduction="mean")
    total = random_completion(gt, 7, seed=0, reduction="sum")
    w = rng.standard_normal((5, 5))
    assert mean.value(w) * 7 == pytest.approx(total.value(w), rel=1e-14)


@given(depth=st.integers(1, 5), d=st.integers(1, 5), dp=st.integers(1, 5), seed=st.integers(0, 2**16),
       extra=st.integers(0, 2))
def test_balanced_factors_reproduce_product_and_are_balanced(depth, d, dp, seed, extra):
    w = np.random.default_rng(seed).standard_normal((d, dp))
    k = min(d, dp)
    fs = balanced_factors(w, depth, hidden=[k + extra] * (depth - 1), seed=seed)
    scale = max(1.0, np.linalg.norm(w))
    np.testing.assert_allclose(product(fs), w, atol=1e-12 * scale)
    assert imbalance_norm(fs, relative=True) < 1e-12
    require_balanced(fs)


def test_random_init_is_unbalanced_and_detected():
    fs = random_factors([3, 4, 3], scale=1.0, seed=0)
    with pytest.raises(NotBalancedError) as info:
        require_balanced(fs)
    assert info.value.imbalance > 1e-3
    assert "not balanced" in str(info.value)


def test_random_factors_scale():
    # ||W|| is of order scale: averaged over seeds the Frobenius norm is within a factor 3 of scale*sqrt(n)
    n, depth, scale = 30, 3, 1e-3
    norms = [np.linalg.norm(product(random_factors([n] * (depth + 1), scale=scale, seed=s))) for s in range(5)]
    ratio = np.mean(norms) / (scale * np.sqrt(n))
    assert 1 / 3 < ratio < 3


@pytest.mark.parametrize("bad, error", [
    (lambda: product([]), InvalidArgument),
    (lambda: product([np.ones((3, 2)), np.ones((2, 2))]), ShapeError),
    (lambda: product([np.array([[1.0, np.nan]])]), NonFiniteError),
    (lambda: product([np.ones(3)]), ShapeError),
    (lambda: balanced_factors(np.eye(2), 0), InvalidArgument),
    (lambda: balanced_factors(np.eye(3), 3, hidden=[2, 3]), ShapeError),
    (lambda: balanced_factors(np.eye(3), 3, hidden=[3]), ShapeError),
    (lambda: random_factors([3, 3], scale=-1.0), InvalidArgument),
    (lambda: random_factors([3], scale=1.0), InvalidArgument),
    (lambda: random_sensing((2, 2), 0), InvalidArgument),
    (lambda: random_completion(np.eye(2), 5), InvalidArgument),
    (lambda: CompletionLoss([0, 0], [1, 1], [1.0, 2.0], shape=(2, 2)), InvalidArgument),
    (lambda: CompletionLoss([0, 5], [1, 1], [1.0, 2.0], shape=(2, 2)), ShapeError),
    (lambda: CompletionLoss([0], [1], [np.inf], shape=(2, 2)), NonFiniteError),
    (lambda: FrobeniusLoss(np.eye(2)).value(np.eye(3)), ShapeError),
    (lambda: factor_gradients([np.eye(3)], FrobeniusLoss(np.eye(2))), ShapeError),
])
def test_bad_inputs_raise_project_errors(bad, error):
    with pytest.raises(error):
        bad()
