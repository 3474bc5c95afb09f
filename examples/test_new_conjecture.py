"""A user's own conjecture, stated as property tests and as a dmf-verify claim.

Conjecture: with pairwise commuting symmetric measurement matrices A_i and the initialization
W_j(0) = alpha I, the end-to-end matrix W(t) of the depth-N gradient flow commutes with every
A_i for all t (the mechanism behind Theorem 2 of Arora et al. 2019).
Negative control: the same flow with *non*-commuting symmetric A_i, where the commutators
grow away from zero.

Run:  pytest examples/test_new_conjecture.py   (the plugin also runs the claim's control and fails if it passes)
      DMF_VERIFY_TESTS=examples/test_new_conjecture.py dmf-verify check 'example.*'
"""

import numpy as np
import pytest
from hypothesis import given, settings

from dmf_verify.checks.strategies import commuting_measurements, depths
from dmf_verify.numerics import SensingLoss, scaled_identity_factors


def max_commutator(matrices):
    """Max over i of ||W A_i - A_i W||_F: a quantity of the flow state."""
    return lambda state: max(float(np.linalg.norm(state.W @ a - a @ state.W)) for a in matrices)


@settings(max_examples=6, deadline=None)
@given(problem=commuting_measurements(max_dim=3), depth=depths(1, 3))
def test_commuting_measurements_keep_w_commuting(dmf, problem, depth):
    init = scaled_identity_factors(problem.dim, depth, alpha=0.5)
    dmf.flow_matches(max_commutator(problem.matrices), lambda s: 0.0,
                     loss=problem.loss, factors=init, horizon=1.0)


@pytest.mark.dmf_claim("example.commuting_flow_stays_commuting",
                       source="examples/test_new_conjecture.py (Arora et al. 2019, proof of Theorem 2)",
                       statement=r"[A_i, A_k] = 0,\ W_j(0) = \alpha I \implies [W(t), A_i] = 0\ \ \forall t",
                       control="control_noncommuting")
def test_claim_commuting(dmf):
    """W(t) commutes with commuting symmetric measurements along the flow from alpha I."""
    from dmf_verify.checks.strategies import CommutingSensing

    problem = CommutingSensing(dim=3, m=3, rank=1, seed=dmf.seed)
    for depth in (1, 2, 3):
        dmf.flow_matches(max_commutator(problem.matrices), lambda s: 0.0, loss=problem.loss,
                         factors=scaled_identity_factors(3, depth, alpha=0.5), horizon=1.0)


def control_noncommuting(dmf):
    """Negative control (not collected by pytest): random symmetric, non-commuting A_i."""
    rng = np.random.default_rng(dmf.seed)
    a = rng.standard_normal((3, 3, 3))
    a = 0.5 * (a + a.transpose(0, 2, 1))
    loss = SensingLoss(a, a.reshape(3, -1) @ np.diag([1.0, 0.0, 0.0]).ravel())
    for depth in (1, 2, 3):
        dmf.flow_matches(max_commutator(a), lambda s: 0.0, loss=loss,
                         factors=scaled_identity_factors(3, depth, alpha=0.5), horizon=1.0)
