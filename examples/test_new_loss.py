"""A user's new loss, tested with dmf-verify's public API only.

The loss: a weighted Frobenius distance l(W) = 1/2 sum_ab w_ab (W_ab - T_ab)^2 with positive
weights (e.g. per-entry confidence). For depth 1 its gradient flow has the closed form
W_ab(t) = T_ab + (W_ab(0) - T_ab) exp(-w_ab t), which we check along the integrated flow;
for deeper factorizations we check that gradient descent tracks the flow with first-order error
and that balancedness is conserved.

Run:  pytest examples/test_new_loss.py       (the plugin also runs the claim's control and fails if it passes)
      DMF_VERIFY_TESTS=examples/test_new_loss.py dmf-verify check 'example.*'
"""

import numpy as np
import pytest
from hypothesis import given, settings

from dmf_verify.checks.strategies import balanced_factorizations, seeds, shapes
from dmf_verify.numerics import imbalance


class WeightedFrobeniusLoss:
    """l(W) = 1/2 sum_ab weights_ab (W_ab - target_ab)^2 (any object with shape/value/gradient works)."""

    def __init__(self, target, weights):
        self.target = np.asarray(target, float)
        self.weights = np.asarray(weights, float)
        self.shape = self.target.shape

    def value(self, w):
        return float(0.5 * np.sum(self.weights * (w - self.target) ** 2))

    def gradient(self, w):
        return self.weights * (w - self.target)


def make_loss(shape, seed):
    rng = np.random.default_rng(seed)
    return WeightedFrobeniusLoss(rng.standard_normal(shape), rng.uniform(0.5, 2.0, shape))


@settings(max_examples=10, deadline=None)
@given(shape=shapes(max_dim=3), seed=seeds())
def test_gradient_matches_central_differences(shape, seed):
    loss = make_loss(shape, seed)
    w = np.random.default_rng(seed + 1).standard_normal(shape)
    h = 1e-6
    fd = np.zeros(shape)
    for idx in np.ndindex(*shape):
        e = np.zeros(shape)
        e[idx] = h
        fd[idx] = (loss.value(w + e) - loss.value(w - e)) / (2 * h)
    assert np.allclose(fd, loss.gradient(w), rtol=1e-6, atol=1e-8)


@settings(max_examples=5, deadline=None)
@given(bf=balanced_factorizations(depth=1, max_dim=3), seed=seeds())
def test_depth_one_flow_has_closed_form(dmf, bf, seed):
    loss = make_loss(bf.shape, seed)
    w0 = bf.product

    def closed_form(state):
        return loss.target + (w0 - loss.target) * np.exp(-loss.weights * state.t)

    dmf.flow_matches(lambda s: s.W, closed_form, loss=loss, factors=bf.factors, horizon=1.0)


@settings(max_examples=4, deadline=None)
@given(bf=balanced_factorizations(max_depth=3, max_dim=3))
def test_balancedness_is_conserved(dmf, bf):
    loss = make_loss(bf.shape, bf.seed)

    def imbalance_entries(state):
        ds = imbalance(state.factors)
        return np.concatenate([d.ravel() for d in ds]) if ds else np.zeros(1)

    dmf.conserved(imbalance_entries, loss=loss, factors=bf.factors, horizon=1.0)


@pytest.mark.dmf_claim("example.weighted_frobenius.gd_tracks_flow",
                       source="examples/test_new_loss.py",
                       statement=r"\|W_{GD}(T/\eta) - W(T)\|_F = O(\eta)\ \text{for } "
                                 r"\ell(W) = \tfrac12 \sum_{ab} w_{ab}(W_{ab} - T_{ab})^2",
                       control="control_second_order")
def test_gd_tracks_flow(dmf):
    """Gradient descent on the weighted loss tracks the gradient flow with first-order error."""
    from dmf_verify.checks.strategies import BalancedFactorization

    init = BalancedFactorization(depth=2, shape=(3, 2), spectrum=(1.0, 0.5), seed=dmf.seed)
    dmf.gd_tracks_flow(loss=make_loss((3, 2), dmf.seed), factors=init.factors, horizon=1.0)


def control_second_order(dmf):
    """Negative control (not collected by pytest): claims order 2, which must be rejected."""
    from dmf_verify.checks.strategies import BalancedFactorization

    init = BalancedFactorization(depth=2, shape=(3, 2), spectrum=(1.0, 0.5), seed=dmf.seed)
    dmf.gd_tracks_flow(loss=make_loss((3, 2), dmf.seed), factors=init.factors, horizon=1.0, order=2.0)
