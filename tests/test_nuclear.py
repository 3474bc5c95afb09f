"""Minimum nuclear norm solvers (numerics/nuclear.py): SCS vs the eigenvalue LP, feasibility and
bad-input errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmf_verify.errors import InvalidArgument, ShapeError, SolverError
from dmf_verify.numerics.losses import CompletionLoss, FrobeniusLoss, SensingLoss, random_completion
from dmf_verify.numerics.nuclear import (
    NuclearNormResult,
    joint_eigenbasis,
    min_frobenius_norm,
    min_nuclear_norm,
    min_nuclear_norm_commuting,
    min_nuclear_norm_commuting_matrices,
    random_commuting_sensing,
)


@given(d=st.integers(3, 8), data=st.data(), seed=st.integers(0, 2**16), psd=st.booleans())
def test_lp_and_scs_agree_on_random_commuting_instances(d, data, seed, psd):
    m = data.draw(st.integers(1, d - 1))
    loss, v, lam, _ = random_commuting_sensing(d, m, seed=seed)
    lp = min_nuclear_norm_commuting(lam, loss.y, psd=psd)
    scs = min_nuclear_norm(loss, psd=psd, eps=1e-9)
    assert isinstance(scs, NuclearNormResult) and scs.status == "optimal"
    assert abs(lp.nuclear_norm - scs.nuclear_norm) <= 1e-6 * max(1.0, lp.nuclear_norm)
    assert lp.duality_gap is not None and abs(lp.duality_gap) < 1e-8
    assert scs.duality_gap is not None and -1e-6 < scs.duality_gap < 1e-6
    assert scs.primal_residual < 1e-7
    # the LP minimizer, mapped back, is feasible and has the LP's nuclear norm
    w = (v * lp.eigenvalues) @ v.T
    assert np.max(np.abs(loss.residual(w))) < 1e-9
    if psd:
        assert np.all(lp.eigenvalues >= -1e-12)
        assert np.linalg.eigvalsh(scs.W)[0] > -1e-6


@given(d=st.integers(3, 8), seed=st.integers(0, 2**16))
def test_psd_minimum_is_never_below_the_unrestricted_one(d, seed):
    loss, _, lam, _ = random_commuting_sensing(d, d - 1, seed=seed)
    free = min_nuclear_norm_commuting(lam, loss.y, psd=False)
    psd = min_nuclear_norm_commuting(lam, loss.y, psd=True)
    assert psd.psd and not free.psd
    assert psd.nuclear_norm >= free.nuclear_norm - 1e-9


def test_matrices_path_recovers_the_eigenbasis():
    loss, *_ = random_commuting_sensing(6, 3, seed=3)
    vv, ll = joint_eigenbasis(loss.A)
    for i in range(3):
        assert np.allclose(vv.T @ loss.A[i] @ vv, np.diag(ll[i]), atol=1e-10)
    r = min_nuclear_norm_commuting_matrices(loss.A, loss.y, psd=True)
    assert np.max(np.abs(loss.residual(r.W))) < 1e-9
    assert abs(np.trace(r.W) - r.nuclear_norm) < 1e-9


def test_non_commuting_measurements_are_detected():
    a = np.stack([np.diag([1.0, 2.0, 3.0]), np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 0]])])
    with pytest.raises(InvalidArgument, match="do not commute"):
        min_nuclear_norm_commuting_matrices(a, np.array([1.0, 0.5]), psd=True)


def test_non_symmetric_measurements_are_rejected():
    a = np.stack([np.array([[1.0, 1.0], [0.0, 1.0]])])
    with pytest.raises(InvalidArgument, match="not symmetric"):
        joint_eigenbasis(a)


def test_inconsistent_measurements_raise_infeasible():
    a = np.stack([np.eye(3), 2 * np.eye(3)])  # linearly dependent
    y = np.array([1.0, 3.0])  # ... and incompatible
    with pytest.raises(SolverError) as e:
        min_nuclear_norm(SensingLoss(a, y))
    assert e.value.status == "infeasible"
    with pytest.raises(SolverError) as e:
        min_nuclear_norm_commuting(np.array([[1.0, 1, 1], [2, 2, 2]]), y, psd=False)
    assert e.value.status == "infeasible"
    with pytest.raises(SolverError) as e:
        min_nuclear_norm_commuting(np.array([[1.0, 1, 1], [2, 2, 2]]), y, psd=True)
    assert e.value.status == "infeasible"


def test_dependent_but_consistent_measurements_are_fine():
    a = np.stack([np.eye(3), 2 * np.eye(3)])
    r = min_nuclear_norm(SensingLoss(a, np.array([3.0, 6.0])), psd=True)
    assert abs(r.nuclear_norm - 3.0) < 1e-6


def test_psd_infeasible_completion_raises():
    loss = CompletionLoss([0, 1], [0, 1], [-1.0, 1.0], shape=(3, 3))  # a negative diagonal entry
    with pytest.raises(SolverError) as e:
        min_nuclear_norm(loss, psd=True)
    assert "infeasible" in e.value.status


def test_iteration_limit_is_an_error_not_a_silent_result():
    gt = np.outer(np.arange(1.0, 9), np.arange(2.0, 10))
    loss = random_completion(gt, 30, seed=0)
    with pytest.raises(SolverError) as e:
        min_nuclear_norm(loss, max_iters=3)
    assert e.value.status != "optimal"


def test_completion_formulation_matches_generic_sensing_formulation_and_recovers():
    rng = np.random.default_rng(0)
    gt = rng.standard_normal((12, 2)) @ rng.standard_normal((2, 12))
    loss = random_completion(gt, 130, seed=1)
    a = min_nuclear_norm(loss)
    b = min_nuclear_norm(loss.as_sensing())
    assert abs(a.nuclear_norm - b.nuclear_norm) < 1e-6 * a.nuclear_norm
    assert np.linalg.norm(a.W - gt) / np.linalg.norm(gt) < 1e-4  # exact recovery with enough entries
    assert a.duality_gap is not None and abs(a.duality_gap) < 1e-5


def test_bad_arguments():
    loss, *_ = random_commuting_sensing(3, 2, seed=0)
    with pytest.raises(InvalidArgument):
        min_nuclear_norm(FrobeniusLoss(np.eye(3)))
    with pytest.raises(InvalidArgument):
        min_nuclear_norm(loss, eps=0.0)
    with pytest.raises(InvalidArgument):
        min_nuclear_norm(loss, max_iters=0)
    with pytest.raises(InvalidArgument):
        min_nuclear_norm(loss, solver="MOSEK")
    with pytest.raises(ShapeError):
        min_nuclear_norm(SensingLoss(np.ones((1, 2, 3)), [1.0]), psd=True)
    with pytest.raises(ShapeError):
        min_nuclear_norm_commuting(np.ones((2, 3)), np.ones(3), psd=True)
    with pytest.raises(InvalidArgument):
        random_commuting_sensing(0, 1)


def test_min_frobenius_fits_and_is_not_the_nuclear_solution():
    loss, _, lam, _ = random_commuting_sensing(5, 2, seed=4)
    w = min_frobenius_norm(loss)
    assert np.max(np.abs(loss.residual(w))) < 1e-10
    lp = min_nuclear_norm_commuting(lam, loss.y, psd=False)
    assert np.sum(np.linalg.svd(w, compute_uv=False)) > lp.nuclear_norm + 1e-3
