"""Lemma 2 (eqs. 8-9) evaluated numerically; claims of issue 4; the dynamics experiment."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmf_verify.errors import InvalidArgument, ShapeError, UndefinedError
from dmf_verify.numerics.flow import end_to_end_velocity
from dmf_verify.numerics.singular_vectors import lemma2_rates, lemma2_rates_at, off_diagonal_mass


def _state(d, dp, seed, spread=True):
    rng = np.random.default_rng(seed)
    k = min(d, dp)
    u, _ = np.linalg.qr(rng.standard_normal((d, k)))
    v, _ = np.linalg.qr(rng.standard_normal((dp, k)))
    s = np.sort(rng.uniform(0.3, 2.0, size=k))[::-1] + 0.2 * np.arange(k)[::-1] if spread else np.ones(k)
    return u, s, v, rng.standard_normal((d, dp))


def _theorem3(s, u, v, g, depth):
    proj = np.einsum("ir,ij,jr->r", u, g, v)
    return -depth * (s * s) ** (1 - 1 / depth) * proj


@given(d=st.integers(1, 5), dp=st.integers(1, 5), depth=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_lemma2_with_theorem3_reproduces_lemma3_velocity(d, dp, depth, seed):
    """U' S V^T + U S' V^T + U S V'^T must equal the end-to-end velocity of Lemma 3 (computed
    independently from matrix powers), and U^T U', V^T V' must be antisymmetric."""
    u, s, v, g = _state(d, dp, seed)
    w = (u * s) @ v.T
    du, dv = lemma2_rates(u, s, v, g, depth)
    ds = _theorem3(s, u, v, g, depth)
    wdot = du @ np.diag(s) @ v.T + (u * ds) @ v.T + (u * s) @ dv.T
    ref = end_to_end_velocity(w, g, depth)
    np.testing.assert_allclose(wdot, ref, atol=1e-10 * max(1.0, np.abs(ref).max()))
    np.testing.assert_allclose(u.T @ du, -(u.T @ du).T, atol=1e-10 * max(1.0, np.abs(du).max()))
    np.testing.assert_allclose(v.T @ dv, -(v.T @ dv).T, atol=1e-10 * max(1.0, np.abs(dv).max()))


@given(depth=st.integers(1, 5), seed=st.integers(0, 2**16), tall=st.booleans())
def test_dropping_projection_breaks_the_identity_when_d_ne_dprime(depth, seed, tall):
    d, dp = (5, 3) if tall else (3, 5)
    u, s, v, g = _state(d, dp, seed)
    du, dv = lemma2_rates(u, s, v, g, depth, projection=False)
    ds = _theorem3(s, u, v, g, depth)
    wdot = du @ np.diag(s) @ v.T + (u * ds) @ v.T + (u * s) @ dv.T
    ref = end_to_end_velocity((u * s) @ v.T, g, depth)
    assert np.abs(wdot - ref).max() > 1e-3 * np.abs(ref).max()


def test_signed_singular_values_are_supported():
    u, s, v, g = _state(3, 3, 5)
    s = s * np.array([1.0, -1.0, 1.0])
    w = (u * s) @ v.T
    for depth in (1, 2, 3):
        du, dv = lemma2_rates(u, s, v, g, depth)
        ds = _theorem3(s, u, v, g, depth)
        wdot = du @ np.diag(s) @ v.T + (u * ds) @ v.T + (u * s) @ dv.T
        np.testing.assert_allclose(wdot, end_to_end_velocity(w, g, depth), atol=1e-10)


def test_lemma2_at_n1_is_classical_svd_perturbation():
    """N = 1: dW/dt = -G; first-order perturbation of the SVD along W - eps G."""
    u, s, v, g = _state(5, 3, 11)
    w = (u * s) @ v.T
    du, dv = lemma2_rates(u, s, v, g, 1)
    eps = 1e-6
    u2, _s2, v2, *_ = lemma2_rates_at(w - eps * g, g, 1, reference=(u, v))
    u1, _s1, v1, *_ = lemma2_rates_at(w + eps * g, g, 1, reference=(u, v))
    np.testing.assert_allclose((u2 - u1) / (2 * eps), du, atol=1e-6)
    np.testing.assert_allclose((v2 - v1) / (2 * eps), dv, atol=1e-6)


@pytest.mark.parametrize("s", [np.array([2.0, 1.0, 1.0]), np.array([2.0, -2.0, 1.0]), np.array([2.0, 1.0, 0.0]),
                               np.zeros(3)])
def test_repeated_or_zero_singular_values_raise_undefined(s):
    u, _, v, g = _state(4, 3, 2)
    with pytest.raises(UndefinedError, match="undefined"):
        lemma2_rates(u, s, v, g, 2)


def test_bad_shapes_and_options_raise():
    u, s, v, g = _state(4, 3, 2)
    with pytest.raises(ShapeError):
        lemma2_rates(u, s[:2], v, g, 2)
    with pytest.raises(ShapeError):
        lemma2_rates(u, s, v, g.T, 2)
    with pytest.raises(InvalidArgument):
        lemma2_rates(u, s, v, g, 0)
    with pytest.raises(InvalidArgument):
        lemma2_rates(u, s, v, g, 2, rtol=0.0)
    with pytest.raises(InvalidArgument):
        lemma2_rates(u, s, v, np.full_like(g, np.nan), 2)


def test_off_diagonal_mass_zero_for_aligned_gradient():
    u, _s, v, _ = _state(4, 3, 9)
    g = (u * np.array([0.3, -1.0, 2.0])) @ v.T
    assert off_diagonal_mass(u, v, g) < 1e-14
    assert off_diagonal_mass(u, v, np.random.default_rng(0).standard_normal((4, 3))) > 0.1


# --- claims of issue 4 --------------------------------------------------------------------

@pytest.mark.parametrize("claim_id", ["arora2019.lemma1", "arora2019.theorem3.sign"])
def test_cheap_claims_pass_with_control_rejected(claim_id):
    from dmf_verify.checks import registry

    r = registry.get(claim_id).check(seed=2)
    assert r.passed, r.message
    assert r.control_error > r.tolerance


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", ["arora2019.lemma2", "arora2019.corollary1", "arora2019.fig13.sharpening"])
@pytest.mark.parametrize("seed", [0, 12345])
def test_heavier_claims_pass(claim_id, seed):
    from dmf_verify.checks import registry

    r = registry.get(claim_id).check(seed=seed)
    assert r.passed, r.message


@pytest.mark.slow
def test_lemma2_derivation_verified():
    from dmf_verify.theory.singular_vectors import lemma2

    d = lemma2()
    assert d.verified, d.checks
    assert len(d.checks) >= 5


def test_lemma4_closed_form_solves_scalar_ode():
    from scipy.integrate import solve_ivp

    from dmf_verify.checks.claims.arora2019.theorem3_sign import lemma4

    t = np.linspace(0, 2, 41)
    g = lambda tt: -1.0 - 0.5 * np.sin(3 * tt)
    big_g = -t - 0.5 * (1 - np.cos(3 * t)) / 3
    for depth in (1, 2, 3, 4):
        for x0 in (0.7, -0.4):
            sol = solve_ivp(lambda tt, x, n=depth: g(tt) * (x * x) ** (1 - 1 / n), (0, 2), [x0], t_eval=t,
                            rtol=1e-12, atol=1e-14, method="DOP853")
            np.testing.assert_allclose(lemma4(x0, big_g, depth), sol.y[0], rtol=1e-8, atol=1e-10)


# --- dynamics experiment -------------------------------------------------------------------

def test_crossing_times_and_sharpness():
    from dmf_verify.checks.experiments.dynamics import crossing_times, sharpness

    steps = np.arange(0, 11)
    vals = steps / 10.0
    assert crossing_times(steps, vals, 0.55) == pytest.approx(5.5)
    assert np.isnan(crossing_times(steps, vals, 2.0))
    sig = np.stack([vals, vals], axis=1)
    sh, *_ = sharpness(steps, sig, 2)
    np.testing.assert_allclose(sh, (9 - 1) / 1)


def test_dynamics_run_shows_sharpening_small():
    from dmf_verify.checks.experiments.dynamics import run_depth

    sh = [np.mean(run_depth("completion", n, size=20, rank=2, m=150, steps=300, seed=3).sharpness)
          for n in (1, 3)]
    assert sh[1] < 0.5 * sh[0]


def test_dynamics_bad_input_raises():
    from dmf_verify.checks.experiments.dynamics import run_depth

    with pytest.raises(InvalidArgument):
        run_depth("completion", 0, size=10, rank=2, m=50, steps=50, seed=0)
    with pytest.raises(InvalidArgument):
        run_depth("nonsense", 1, size=10, rank=2, m=50, steps=50, seed=0)
    with pytest.raises(InvalidArgument):
        run_depth("completion", 1, size=10, rank=2, m=50, steps=5, seed=0)
    with pytest.raises(InvalidArgument):
        run_depth("completion", 1, size=10, rank=2, m=50, steps=50, seed=0, fill=1.5)


def test_dynamics_cli_writes_csv_and_png(tmp_path):
    from dmf_verify.checks.cli import main

    rc = main(["experiment", "dynamics", "--task", "sensing", "--depths", "1", "2", "--steps", "60", "--size",
               "8", "--rank", "2", "--m", "40", "--out", str(tmp_path)])
    assert rc == 0
    csv = (tmp_path / "dynamics_sensing.csv").read_text().splitlines()
    assert csv[0].startswith("task,depth,lr,step,loss,sigma_1")
    assert len(csv) > 10
    assert (tmp_path / "figure6_sensing.png").stat().st_size > 1000
    assert (tmp_path / "dynamics_sensing_sharpness.csv").exists()


def test_dynamics_cli_bad_depths(tmp_path, capsys):
    from dmf_verify.checks.cli import main

    assert main(["experiment", "dynamics", "--depths", "0", "--out", str(tmp_path)]) == 2


def test_residual_cache_tracks_in_place_updates():
    from dmf_verify.checks.experiments.dynamics import _ResidualCache, make_problem

    loss, *_ = make_problem("sensing", 6, 2, 20, 0)
    c = _ResidualCache(loss)
    w = np.ones((6, 6))
    assert c.value(w) == pytest.approx(loss.value(w))
    w -= 0.5  # same object, new contents (depth 1: the product is the factor itself)
    assert c.value(w) == pytest.approx(loss.value(w))
    np.testing.assert_allclose(c.gradient(w), loss.gradient(w))
