"""Property tests of gradient-descent dynamics with hypothesis and dmf-verify's measured-error assertions.

1. One GD step changes every imbalance D_j = W_{j+1}^T W_{j+1} - W_j W_j^T by exactly
   eta^2 (G_{j+1}^T G_{j+1} - G_j G_j^T), G_j = dphi/dW_j (the terms linear in eta cancel), for
   every drawn problem, balanced start, depth and step. Checked to float64 round-off.
2. An empirical statement as a rate: GD with eta = 0.1 decreases the loss at every one of 100
   steps on at least 90% of random 3x3 sensing problems -- proved by a Clopper-Pearson bound
   over 40 instances, with a negative control at eta = 1.0.

Run:  pytest examples/test_gd_properties.py
      DMF_VERIFY_TESTS=examples/test_gd_properties.py dmf-verify check 'example.gd.*'
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmf_verify.checks.assertions import DMFAssertionError, assert_close
from dmf_verify.checks.strategies import BalancedFactorization, SensingProblem, trajectories
from dmf_verify.numerics import factor_gradients, gradient_descent, imbalance

EPS = float(np.finfo(float).eps)


def one_step(trajectory, eta):
    """(measured change of the imbalances, eta^2 (G_{j+1}^T G_{j+1} - G_j G_j^T), round-off scale)."""
    before = trajectory.factors
    after = gradient_descent(trajectory.loss, before, step=eta, steps=1).factors
    g = factor_gradients(before, trajectory.loss)
    change = np.concatenate([(a - b).ravel() for a, b in zip(imbalance(after), imbalance(before))])
    predicted = np.concatenate([(eta**2 * (g[j + 1].T @ g[j + 1] - g[j] @ g[j].T)).ravel()
                                for j in range(len(before) - 1)])
    scale = max(float(np.linalg.norm(f)) ** 2 for f in before + after)
    return change, predicted, scale


@settings(max_examples=25, deadline=None)
@given(trajectory=trajectories(problem="sensing", max_depth=4, max_dim=4), eta=st.sampled_from([0.1, 0.03, 0.01]))
def test_one_gd_step_changes_the_imbalance_by_eta_squared(dmf, trajectory, eta):
    if trajectory.depth < 2:
        return  # depth 1 has no imbalance
    change, predicted, scale = one_step(trajectory, eta)
    dmf.close(change, predicted, tol=16 * EPS * scale,
              reason="float64 round-off of O(max ||W_j||_F^2) entries: worst 2.0 eps max||W_j||_F^2 over 300 "
                     "drawn examples (depth 2-4, dims 1-4, eta 0.1/0.03/0.01), so 16 eps is an 8x margin")


def test_gd_does_not_conserve_the_imbalance():
    """Negative control: the flow's conservation law does not hold exactly for a GD step."""
    from dmf_verify.checks.strategies import Trajectory

    tr = Trajectory(problem=SensingProblem(shape=(3, 3), m=6, seed=1),
                    init=BalancedFactorization(depth=3, shape=(3, 3), spectrum=(1.0, 0.7, 0.4), seed=1), horizon=1.0)
    change, _, scale = one_step(tr, 0.1)
    with pytest.raises(DMFAssertionError) as info:
        assert_close(change, 0.0, tol=16 * EPS * scale, reason="the same round-off bound")
    assert info.value.check.error > 1e6 * info.value.check.tolerance


N_INSTANCES = 40


def monotone_descent(seed, eta, steps=100):
    """Did GD (depth 3, balanced start) decrease the loss at every step on sensing problem ``seed``?"""
    problem = SensingProblem(shape=(3, 3), m=6, seed=seed)
    init = BalancedFactorization(depth=3, shape=(3, 3), spectrum=(1.0, 0.7, 0.4), seed=seed)
    run = gradient_descent(problem.loss, init.factors, step=eta, steps=steps, record_every=1, on_divergence="return")
    return run.status != "diverged" and bool(np.all(np.diff(run.history["loss"]) <= 0))


def descent_outcomes(seed, eta):
    return {f"problem{seed * N_INSTANCES + k}": monotone_descent(seed * N_INSTANCES + k, eta)
            for k in range(N_INSTANCES)}


@pytest.mark.dmf_claim(
    "example.gd.monotone_descent_rate",
    source="examples/test_gd_properties.py",
    statement=r"\Pr\big[\ell(W_{k+1}) \le \ell(W_k)\ \forall k < 100\big] \ge 0.9 \text{ at } \eta = 0.1",
    tolerance=0.1,
    tolerance_reason="a rate: tolerance = 1 - claimed rate 0.9; measured 800/800 monotone runs over seeds 0..19 "
                     "(40 instances per seed, 95% one-sided Clopper-Pearson lower bound 0.928 per seed)",
    control="control_large_step",
)
def test_monotone_descent_rate(dmf):
    """GD with a small step decreases the loss monotonically on (at least) 90% of random sensing problems."""
    dmf.rate(descent_outcomes(dmf.seed, eta=0.1), name="monotone descent at eta = 0.1")


def control_large_step(dmf):
    """The same statement at eta = 1.0 (measured: 112/800 monotone runs), which must be rejected."""
    dmf.rate(descent_outcomes(dmf.seed, eta=1.0), name="monotone descent at eta = 1.0")
