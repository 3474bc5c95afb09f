"""Claims about the user's own GD code (gd_balance.py), each with a negative control.

Run:  pytest                         (from this folder: the tests, and each claim's control)
      dmf-verify check 'mine.*'      (the same tests as claims: pyproject.toml lists this file)
      python run_mutants.py          (mutants.py: bugs injected into gd_balance.py must be caught)
"""

import numpy as np
import pytest

from dmf_verify.checks.strategies import BalancedFactorization, SensingProblem
from gd_balance import end_to_end, factor_gradients, gradient_descent, imbalance, sensing_gradient, sensing_value

ETAS = (0.02, 0.01, 0.005)   # step sizes; horizon T = 1 (50, 100, 200 steps)


def instance(seed):
    """A 3x3 sensing problem (6 measurements) and a balanced depth-3 start W(0) with spectrum (1, 0.7, 0.4)."""
    problem = SensingProblem(shape=(3, 3), m=6, seed=seed)
    init = BalancedFactorization(depth=3, shape=(3, 3), spectrum=(1.0, 0.7, 0.4), seed=seed)
    return problem.loss.A, problem.loss.y, init.factors


def imbalances_at_horizon(seed, horizon=1.0):
    """||D(T; eta)|| for each eta in ETAS (GD from a balanced start, T / eta steps)."""
    a, y, factors = instance(seed)
    return [imbalance(gradient_descent(a, y, factors, eta=eta, steps=round(horizon / eta))) for eta in ETAS]


@pytest.mark.dmf_claim(
    "mine.gd.imbalance_first_order",
    source="examples/new_statement (one GD step changes D_j by eta^2 (G_{j+1}^T G_{j+1} - G_j G_j^T))",
    statement=r"\max_j \|W_{j+1}^\top W_{j+1} - W_j W_j^\top\|_F \text{ at } T = C\,\eta + O(\eta^2)"
              r"\text{ (balanced start)}",
    tolerance=0.1,
    tolerance_reason="fitted slope over eta = 0.02, 0.01, 0.005 carries the O(eta) correction: worst |slope - 1| "
                     "= 0.0285 over seeds 0..19 (3.5x margin)",
    control="control_second_order",
)
def test_imbalance_is_first_order_in_eta(dmf):
    """The GD imbalance at a fixed horizon is first order in the step size."""
    dmf.order(ETAS, imbalances_at_horizon(dmf.seed), expected=1.0, name="order of ||D(T)|| in eta")


def control_second_order(dmf):
    """The same fit against order 2 (each step adds eta^2, but T/eta steps add up: wrong exponent)."""
    dmf.order(ETAS, imbalances_at_horizon(dmf.seed), expected=2.0, name="order of ||D(T)|| in eta")


def finite_difference_gradients(a, y, factors, h=1e-4):
    """Central differences of phi = l(W_N ... W_1) in every entry of every factor."""
    out = []
    for j, f in enumerate(factors):
        d = np.zeros_like(f)
        for idx in np.ndindex(*f.shape):
            e = np.zeros_like(f)
            e[idx] = h
            plus = [g if k != j else f + e for k, g in enumerate(factors)]
            minus = [g if k != j else f - e for k, g in enumerate(factors)]
            d[idx] = (sensing_value(a, y, end_to_end(plus)) - sensing_value(a, y, end_to_end(minus))) / (2 * h)
        out.append(d)
    return out


def perturbed_instance(seed):
    a, y, factors = instance(seed)
    rng = np.random.default_rng(seed)
    return a, y, [f + 0.3 * rng.standard_normal(f.shape) for f in factors]  # away from balance


@pytest.mark.dmf_claim(
    "mine.gd.factor_gradients",
    source="examples/new_statement/gd_balance.py, factor_gradients",
    statement=r"G_j = (W_N\cdots W_{j+1})^\top \nabla\ell(W)\,(W_{j-1}\cdots W_1)^\top = \partial\phi/\partial W_j",
    tolerance=1e-10,
    tolerance_reason="phi is quadratic in each single entry (W is multilinear in the factors), so central "
                     "differences are exact up to round-off eps |phi| / h at h = 1e-4: worst relative error "
                     "2.5e-12 over seeds 0..19 (40x margin)",
    control="control_untransposed",
)
def test_factor_gradients_match_finite_differences(dmf):
    """The closed-form factor gradients equal central differences of the loss."""
    a, y, factors = perturbed_instance(dmf.seed)
    grads = factor_gradients(factors, sensing_gradient(a, y, end_to_end(factors)))
    fd = finite_difference_gradients(a, y, factors)
    dmf.close(np.concatenate([g.ravel() for g in grads]), np.concatenate([g.ravel() for g in fd]),
              relative=True, name="G_j vs central differences")


def control_untransposed(dmf):
    """The same comparison for the formula without the transposes (a realistic slip)."""
    a, y, factors = perturbed_instance(dmf.seed)
    gw = sensing_gradient(a, y, end_to_end(factors))
    n = len(factors)
    wrong = []
    for j in range(n):
        left = np.linalg.multi_dot([np.eye(3)] + factors[j + 1:][::-1] + [np.eye(3)])
        right = np.linalg.multi_dot([np.eye(3)] + factors[:j][::-1] + [np.eye(3)])
        wrong.append(left @ gw @ right)
    fd = finite_difference_gradients(a, y, factors)
    dmf.close(np.concatenate([g.ravel() for g in wrong]), np.concatenate([g.ravel() for g in fd]),
              relative=True, name="G_j vs central differences")
