"""Property tests of dmf_verify.checks.strategies: recipes build valid instances and shrink to small ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import find, given
from hypothesis import strategies as st

from dmf_verify.checks.strategies import (
    BalancedFactorization,
    CommutingSensing,
    CompletionProblem,
    SensingProblem,
    Trajectory,
    balanced_factorizations,
    commuting_measurements,
    completion_problems,
    sensing_problems,
    trajectories,
    well_separated_spectra,
)
from dmf_verify.numerics import imbalance_norm, product
from dmf_verify.errors import InvalidArgument, ShapeError


@given(balanced_factorizations())
def test_balanced_factorizations_are_balanced_with_the_recipe_spectrum(bf):
    fs = bf.factors
    assert len(fs) == bf.depth
    assert product(fs).shape == bf.shape
    assert imbalance_norm(fs, relative=True) < 1e-12
    s = np.linalg.svd(product(fs), compute_uv=False)
    assert np.allclose(s, bf.scale * np.asarray(bf.spectrum), rtol=1e-10)


@given(st.integers(1, 4), st.tuples(st.integers(1, 3), st.integers(1, 3)), st.sampled_from([0.1, 3.0]), st.data())
def test_pinned_depth_shape_scale_are_respected(depth, shape, scale, data):
    bf = data.draw(balanced_factorizations(depth=depth, shape=shape, scale=scale))
    assert (bf.depth, bf.shape, bf.scale) == (depth, shape, scale)
    assert np.isclose(np.linalg.norm(bf.product, 2), scale * bf.spectrum[0])


@given(well_separated_spectra(min_rel_gap=0.2))
def test_spectra_are_descending_and_separated(spec):
    s = np.asarray(spec)
    assert np.all(s > 0)
    assert np.all(s[:-1] >= s[1:] * 1.2 * (1 - 1e-12))


@given(data=st.data())
def test_bad_spectrum_bounds_raise(data):
    with pytest.raises(InvalidArgument, match="low"):
        data.draw(well_separated_spectra(low=-1.0))


@given(sensing_problems())
def test_sensing_measurements_are_consistent(p):
    loss = p.loss
    assert loss.shape == p.shape and loss.m == p.m
    assert np.linalg.matrix_rank(p.ground_truth) == p.rank
    assert loss.value(p.ground_truth) < 1e-25
    assert np.allclose(loss.gradient(p.ground_truth), 0.0, atol=1e-13)


@given(sensing_problems(symmetric=True))
def test_symmetric_sensing_is_symmetric(p):
    assert np.allclose(p.loss.A, p.loss.A.transpose(0, 2, 1))
    assert np.allclose(p.ground_truth, p.ground_truth.T)


@given(data=st.data())
def test_symmetric_sensing_needs_square_shape(data):
    with pytest.raises(ShapeError, match="square"):
        data.draw(sensing_problems(shape=(2, 3), symmetric=True))


@given(completion_problems())
def test_completion_values_are_ground_truth_entries(p):
    loss = p.loss
    assert loss.m == p.m
    assert np.array_equal(loss.values, p.ground_truth[loss.rows, loss.cols])
    assert loss.value(p.ground_truth) == 0.0


@given(commuting_measurements())
def test_commuting_measurements_commute_and_are_consistent(p):
    a = p.matrices
    assert np.allclose(a, a.transpose(0, 2, 1))
    for i in range(p.m):
        for k in range(p.m):
            assert np.allclose(a[i] @ a[k], a[k] @ a[i], atol=1e-12)
    assert np.all(np.linalg.eigvalsh(p.ground_truth) > -1e-12)
    assert p.loss.value(p.ground_truth) < 1e-25


@given(trajectories())
def test_trajectory_parts_fit_together(tr):
    assert product(tr.factors).shape == tuple(tr.loss.shape)
    assert tr.times(3)[-1] == tr.horizon > 0
    tr.factors[0][:] = 0.0  # factors are copies: the recipe is not modified
    assert np.any(tr.factors[0] != 0.0) or np.all(tr.init.factors[0] == 0.0)


@pytest.mark.parametrize("kind", ["completion", "commuting"])
@given(data=st.data())
def test_other_trajectory_problems(kind, data):
    tr = data.draw(trajectories(problem=kind))
    assert product(tr.factors).shape == tuple(tr.loss.shape)


@given(data=st.data())
def test_unknown_problem_kind_raises(data):
    with pytest.raises(InvalidArgument, match="problem must be"):
        data.draw(trajectories(problem="nope"))


def test_failing_examples_shrink_to_small_readable_recipes():
    # a "bug" that needs depth >= 2: hypothesis must report the minimal such recipe
    bf = find(balanced_factorizations(), lambda b: b.depth >= 2)
    assert bf == BalancedFactorization(depth=2, shape=(1, 1), spectrum=(1.0,), seed=0, scale=1.0, hidden=None)
    assert len(repr(bf)) < 100
    p = find(sensing_problems(), lambda p: p.m >= 3)
    assert p.m == 3 and p.seed == 0 and p.rank == 1 and p.shape[0] * p.shape[1] in (3, 4)
    c = find(commuting_measurements(), lambda c: c.dim >= 2)
    assert c == CommutingSensing(dim=2, m=1, rank=1, seed=0, diagonal=True)
    q = find(completion_problems(), lambda q: q.m >= 2)
    assert q.m == 2 and q.seed == 0 and q.rank == 1


@pytest.mark.parametrize("recipe", [
    BalancedFactorization(depth=2, shape=(2, 3), spectrum=(1.0, 0.5), seed=3),
    SensingProblem(shape=(2, 2), m=3, seed=1),
    CompletionProblem(shape=(3, 3), m=4, seed=2),
    CommutingSensing(dim=3, m=2, seed=5),
    Trajectory(problem=SensingProblem(shape=(2, 2), m=3), init=BalancedFactorization(2, (2, 2), (1.0, 0.5)),
               horizon=1.0),
])
def test_reproducer_rebuilds_the_same_instance(recipe):
    ns: dict = {}
    exec(recipe.reproducer(), ns)
    again = ns["instance"]
    assert again == recipe
    a = getattr(recipe, "loss", None) or recipe
    b = getattr(again, "loss", None) or again
    if hasattr(a, "value"):
        w = np.ones(a.shape)
        assert a.value(w) == b.value(w)
    else:
        assert all(np.array_equal(x, y) for x, y in zip(recipe.factors, again.factors))
