"""Proposition 1 counterexample (theory/counterexample.py), the feasible-set distinction, and the
Theorem 2 / Proposition 1 / Conjecture 1 claim helpers."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmf_verify.errors import InvalidArgument
from dmf_verify.numerics.losses import SensingLoss
from dmf_verify.theory.counterexample import (
    interval_certificate,
    measurements,
    proposition1,
    schatten_gap,
    unrestricted_minimizer,
    w_star,
)


@pytest.mark.parametrize("d", [3, 4, 5, 8])
def test_construction_is_commuting_independent_and_w_star_fits(d):
    a, y = measurements(d)
    assert a.shape == (d - 1, d, d)
    for i in range(d - 1):
        assert np.allclose(a[i], a[i].T)
        for j in range(d - 1):
            assert np.allclose(a[i] @ a[j], a[j] @ a[i])
    assert np.linalg.matrix_rank(a.reshape(d - 1, -1)) == d - 1
    loss = SensingLoss(a, y)
    assert np.allclose(loss.residual(w_star(d)), 0)
    eps = 0.3
    we = w_star(d)
    we[0, 1] = we[1, 0] = eps
    assert np.allclose(loss.residual(we), 0)
    assert np.allclose(sorted(np.linalg.eigvalsh(we))[-2:], [1 - eps, 1 + eps])


@pytest.mark.parametrize("d", [0, 1, 2, 2.5, True])
def test_bad_dimension(d):
    with pytest.raises(InvalidArgument):
        measurements(d)


def test_derivation_is_verified_and_renders():
    der = proposition1(4)
    assert der.verified, {k: v for k, v in der.checks.items() if not v}
    tex = der.to_latex()
    assert "p \\left(p - 1\\right)" in tex or "p^{2}" in tex
    assert "Exact checks" in tex and "FAILS" not in tex


@given(p=st.floats(0.01, 0.99), eps=st.floats(1e-3, 1.0))
def test_schatten_inequality_in_high_precision(p, eps):
    with mpmath.workdps(50):
        assert schatten_gap(mpmath.mpf(p), mpmath.mpf(eps)) < 0


@given(p=st.floats(1.01, 3.0), eps=st.floats(1e-2, 1.0))
def test_schatten_inequality_reverses_for_p_above_one(p, eps):
    with mpmath.workdps(50):
        assert schatten_gap(mpmath.mpf(p), mpmath.mpf(eps)) > 0


def test_interval_certificate_and_its_control():
    ok = interval_certificate(p_range=(0.2, 0.8), eps_range=(0.2, 1.0))
    assert ok["failed_boxes"] == 0 and ok["certified_boxes"] > 0 and ok["max_upper_bound_of_f_minus_2"] < 0
    bad = interval_certificate(p_range=(1.2, 1.8), eps_range=(0.2, 1.0), max_boxes=500)
    assert bad["failed_boxes"] > 0 and bad["certified_boxes"] == 0


def test_feasible_set_distinction_with_scs_and_lp():
    from dmf_verify.checks.claims.arora2019.proposition1 import _facts_hold, feasible_set_facts

    facts = feasible_set_facts(0, dims=(3, 4, 5), scs_dims=(3, 4))
    ok, bad = _facts_hold(facts)
    assert ok, bad
    assert facts[3]["unrestricted_min"] == pytest.approx(1.0) and facts[3]["psd_min"] == pytest.approx(2.0)
    assert facts[4]["unrestricted_min"] == pytest.approx(2.0)  # a tie with W*
    assert facts[3]["scs_unrestricted_min"] == pytest.approx(1.0, abs=1e-6)
    w, v = unrestricted_minimizer(3)
    assert np.allclose(w, np.diag([0, 0, -1.0])) and v == 1.0


def test_gd_from_alpha_identity_reaches_w_star_depth2():
    from dmf_verify.checks.claims.arora2019.proposition1 import _gd_limit

    w = _gd_limit(3, 2, 0)
    assert np.linalg.norm(w - w_star(3)) < 1e-6


@pytest.mark.slow
def test_rotated_basis_depth4_escapes_to_rank_one_end_of_the_segment():
    from dmf_verify.checks.claims.arora2019.proposition1 import rotated_limit

    w = rotated_limit(4, 4, 12345)
    s = np.linalg.svd(w, compute_uv=False)
    assert s[0] > 1.9 and s[1] < 1e-3  # rank 1, nuclear norm 2: W_{+-1}, not W*
    assert abs(abs(w[0, 1]) - 1) < 1e-3


def test_theorem2_depth1_tends_to_min_frobenius():
    from dmf_verify.checks.claims.arora2019.theorem2 import depth1_measure

    out = depth1_measure(0)
    assert out["to_frobenius"][-1] < out["to_frobenius"][0] < 1
    assert min(out["to_nuclear"]) > 0.1


def test_theorem2_instances_are_unfiltered_and_the_lp_matches_vertex_enumeration():
    from dmf_verify.checks.claims.arora2019.theorem2 import _instance, instance_seeds
    from dmf_verify.numerics.nuclear import min_nuclear_norm_commuting

    assert instance_seeds(3) == list(range(60, 80))  # disjoint blocks of instance seeds, no selection
    for index in range(6):
        loss, _v, lam, verts = _instance(index)
        assert np.min(verts[0][verts[0] > 1e-12]) == pytest.approx(1.0)
        lp = min_nuclear_norm_commuting(lam, loss.y, psd=True)
        assert np.allclose(lp.eigenvalues, verts[0], atol=1e-9)
        assert all(v.sum() >= verts[0].sum() - 1e-12 for v in verts)


@pytest.mark.slow
@pytest.mark.parametrize("cid", ["arora2019.theorem2", "arora2019.proposition1",
                                 "arora2019.conjecture1.counterevidence", "nuclear.sdp_vs_lp"])
@pytest.mark.parametrize("seed", [0, 12345])
def test_claims_pass(cid, seed):
    from dmf_verify.checks.registry import get

    r = get(cid).check(seed)
    assert r.passed, r.message
