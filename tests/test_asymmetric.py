"""Asymmetric matrix sensing (numerics/asymmetric.py; Soltanolkotabi et al.): operator, gradients, identities, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmf_verify.numerics.asymmetric import (
    AsymmetricSensing,
    alpha_sweep,
    asymmetric_flow,
    asymmetric_gd,
    batched_gd,
    imbalance,
    loglog_slope,
    low_rank_matrix,
    sensing_problem,
    sin_theta,
    small_init,
)
from dmf_verify.errors import DivergenceError, InvalidArgument, NonFiniteError, ShapeError

dims = st.integers(1, 6)
seeds = st.integers(0, 2**31 - 1)


@st.composite
def instances(draw):
    n1, n2 = draw(dims), draw(dims)
    r = draw(st.integers(1, min(n1, n2)))
    m = draw(st.integers(1, 25))
    k = draw(st.integers(1, 7))
    seed = draw(seeds)
    return sensing_problem(n1, n2, r, m, seed=seed), k, seed


# --- the measurement operator against a direct loop over measurements ---------------------------------------
@given(instances())
def test_operator_matches_direct_loop(inst):
    p, _k, seed = inst
    n1, n2 = p.shape
    a = p.A_flat.reshape(p.m, n1, n2)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n1, n2))
    direct = np.array([np.sum(a[i] * x) for i in range(p.m)])
    np.testing.assert_allclose(p.measure(x), direct, rtol=1e-12, atol=1e-12)
    r = rng.standard_normal(p.m)
    adj = sum(r[i] * a[i] for i in range(p.m))
    np.testing.assert_allclose(p.adjoint(r), adj, rtol=1e-12, atol=1e-12)
    # y really measures X*
    np.testing.assert_allclose(p.y, [np.sum(a[i] * p.x_star) for i in range(p.m)], rtol=1e-12, atol=1e-12)


@given(instances())
def test_loss_and_gradients_match_direct_loop_and_finite_differences(inst):
    p, k, seed = inst
    n1, n2 = p.shape
    u, v = small_init(n1, n2, k, 1.0, seed=seed)
    a = p.A_flat.reshape(p.m, n1, n2)
    res = [np.sum(a[i] * (u @ v.T)) - p.y[i] for i in range(p.m)]
    f = sum(ri**2 for ri in res) / (2 * p.m)
    assert p.value(u, v) == pytest.approx(f, rel=1e-12, abs=1e-14)
    g = sum(res[i] * a[i] for i in range(p.m)) / p.m
    gu, gv = p.gradients(u, v)
    np.testing.assert_allclose(gu, g @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gv, g.T @ u, rtol=1e-10, atol=1e-12)
    # central differences in one random direction
    rng = np.random.default_rng(seed + 1)
    du, dv = rng.standard_normal(u.shape), rng.standard_normal(v.shape)
    h = 1e-5
    fd = (p.value(u + h * du, v + h * dv) - p.value(u - h * du, v - h * dv)) / (2 * h)
    exact = np.sum(gu * du) + np.sum(gv * dv)
    assert fd == pytest.approx(exact, rel=1e-6, abs=1e-6 * (1 + abs(exact)))


# --- implicit balancing: exact identities ----------------------------------------------------------------------
@given(instances(), st.floats(1e-3, 5e-2))
def test_gd_step_changes_imbalance_by_exact_eta2_term(inst, eta):
    p, k, seed = inst
    n1, n2 = p.shape
    u, v = small_init(n1, n2, k, 1.0, seed=seed)
    res = asymmetric_gd(p, u, v, step=eta, steps=5, track_steps=True, on_divergence="return")
    if res.status == "diverged":
        return
    assert res.max_step_residual < 1e-12
    # whole-run bookkeeping
    scale = max(np.linalg.norm(res.u) ** 2, np.linalg.norm(res.v) ** 2, np.linalg.norm(u) ** 2, 1e-300)
    assert np.linalg.norm(imbalance(res.u, res.v) - imbalance(u, v) - res.accumulated) / scale < 1e-12


@given(instances())
def test_unequal_steps_break_the_identity(inst):
    p, k, seed = inst
    n1, n2 = p.shape
    u, v = small_init(n1, n2, k, 1.0, seed=seed)
    gu, _ = p.gradients(u, v)
    lin = u.T @ gu + gu.T @ u
    res = asymmetric_gd(p, u, v, step=0.01, step_v=0.02, steps=1, track_steps=True)
    scale = max(np.linalg.norm(res.u) ** 2, np.linalg.norm(res.v) ** 2)
    # the surviving linear term (eta_U - eta_V)(U^T G_U + G_U^T U) is what is left
    assert res.max_step_residual == pytest.approx(0.01 * np.linalg.norm(lin) / scale, rel=1e-6, abs=1e-13)


@given(st.integers(1, 4), st.integers(1, 5), seeds)
def test_flow_conserves_imbalance(n, k, seed):
    p = sensing_problem(n + 2, n + 1, 1, 10, seed=seed)
    u, v = small_init(n + 2, n + 1, k, 1.0, seed=seed)
    _t, states = asymmetric_flow(p, u, v, [0.0, 0.5, 1.0])
    d0 = imbalance(u, v)
    for uu, vv in states:
        scale = max(np.linalg.norm(uu) ** 2, np.linalg.norm(vv) ** 2)
        assert np.linalg.norm(imbalance(uu, vv) - d0) / scale < 1e-9
    _t, states = asymmetric_flow(p, u, v, [0.0, 1.0], rate_v=2.0)
    uu, vv = states[-1]
    g = p.loss.gradient(u @ v.T)
    if np.linalg.norm(u.T @ g @ v) > 1e-3:  # generic case: the control breaks conservation
        assert np.linalg.norm(imbalance(uu, vv) - d0) > 1e-6


def test_batched_gd_matches_single_runs():
    p = sensing_problem(7, 5, 2, 40, seed=3)
    out = alpha_sweep(p, 3, (0.5, 0.05), step=0.05, steps=60, seed=4, record_every=20)
    ub, vb = small_init(7, 5, 3, 1.0, seed=4)
    for i, a in enumerate((0.5, 0.05)):
        res = asymmetric_gd(p, a * ub, a * vb, step=0.05, steps=60)
        np.testing.assert_allclose(out["u"][i], res.u, rtol=1e-10, atol=1e-13)
        assert out["rel_error"][i] == pytest.approx(p.relative_error(res.product), rel=1e-10)
    assert list(out["history"]["step"]) == [0, 20, 40, 60]


def test_small_init_recovers_and_lazy_does_not():
    p = sensing_problem(12, 10, 1, 66, seed=0)  # m = 3 r (n1 + n2); k = 10 not identifiable by rank
    out = alpha_sweep(p, 10, (1e-4, 1.0), step=0.1, steps=1500, seed=0)
    assert out["rel_error"][0] < 0.05
    assert out["rel_error"][1] > 10 * out["rel_error"][0]


def test_sin_theta_and_slope():
    x = low_rank_matrix(6, 5, 2, seed=1)
    assert sin_theta(x, 3.0 * x, 2) < 1e-12
    u, _s, vt = np.linalg.svd(x)
    y = np.outer(u[:, 3], vt[3])
    assert sin_theta(y + 0.0 * x, x, 1) == pytest.approx(1.0, abs=1e-12)
    assert loglog_slope([1, 10, 100], [2, 200, 20000]) == pytest.approx(2.0)


# --- bad input --------------------------------------------------------------------------------------------------
def test_bad_inputs_raise_project_errors():
    with pytest.raises(InvalidArgument, match="k"):
        small_init(4, 3, 0, 1.0)
    with pytest.raises(InvalidArgument, match="alpha"):
        small_init(4, 3, 2, 0.0)
    with pytest.raises(InvalidArgument, match="alpha"):
        small_init(4, 3, 2, -1e-3)
    with pytest.raises(InvalidArgument, match="m"):
        sensing_problem(4, 3, 1, 0)
    with pytest.raises(InvalidArgument, match="rank"):
        sensing_problem(4, 3, 4, 10)
    with pytest.raises(InvalidArgument, match="k"):
        small_init(4, 3, 2.5, 1.0)
    p = sensing_problem(4, 3, 1, 10, seed=0)
    u, v = small_init(4, 3, 2, 1.0)
    with pytest.raises(ShapeError, match="k"):
        p.gradients(u, v[:, :1])
    with pytest.raises(ShapeError, match="4 x 3"):
        p.value(v, u)
    with pytest.raises(ShapeError):
        p.measure(np.zeros((3, 4)))
    with pytest.raises(ShapeError, match="columns"):
        AsymmetricSensing(np.zeros((4, 3)), np.zeros((5, 11)), np.zeros(5))
    with pytest.raises(ShapeError, match="rows"):
        AsymmetricSensing(np.zeros((4, 3)), np.zeros((5, 12)), np.zeros(6))
    with pytest.raises(NonFiniteError):
        p.value(np.full_like(u, np.nan), v)
    with pytest.raises(InvalidArgument, match="step"):
        asymmetric_gd(p, u, v, step=0.0, steps=1)
    with pytest.raises(ShapeError):
        batched_gd(p, u[None], v[None, :, :1], step=0.1, steps=1)


def test_diverging_step_is_reported_with_its_step():
    p = sensing_problem(8, 6, 2, 30, seed=0)
    u, v = small_init(8, 6, 3, 1.0, seed=0)
    with pytest.raises(DivergenceError, match="diverged at step") as exc:
        asymmetric_gd(p, u, v, step=5.0, steps=100)
    assert 1 <= exc.value.step <= 100
    res = asymmetric_gd(p, u, v, step=5.0, steps=100, on_divergence="return")
    assert res.status == "diverged" and res.diverged_at == exc.value.step
    with pytest.raises(DivergenceError, match="run 0") as exc2:
        batched_gd(p, u[None], v[None], step=5.0, steps=100)
    assert exc2.value.step == exc.value.step


def test_derivation_is_verified():
    from dmf_verify.theory.implicit_balancing import implicit_balancing

    d = implicit_balancing()
    assert d.verified, d.checks
    assert len(d.checks) >= 6


# --- the claims and the experiment ------------------------------------------------------------------------------
SOLT_IDS = ["soltanolkotabi.balance.flow", "soltanolkotabi.balance.gd", "soltanolkotabi.imbalance_bound",
            "soltanolkotabi.balance.scaling", "soltanolkotabi.imbalance_scaling", "soltanolkotabi.gradient", "soltanolkotabi.recovery",
            "soltanolkotabi.phases"]


@pytest.mark.parametrize("seed", [1, pytest.param(12345, marks=pytest.mark.slow)])
def test_soltanolkotabi_claims_pass_with_rejected_controls(seed):
    from dmf_verify.checks import registry

    for cid in SOLT_IDS:
        r = registry.get(cid).check(seed)
        assert r.status == "PASS", (cid, r.message, r.error, r.control_error)
        assert r.control_error >= 3 * r.tolerance and r.error <= r.tolerance / 3  # the project's 3x margins


def test_experiment_tiny_grid_caches_and_plots(tmp_path):
    from dmf_verify.checks.experiments import soltanolkotabi as ex

    grid = {"ms": [60], "ks": [2, 5], "alphas": [1.0, 0.1, 0.01], "steps": 40, "etas": [0.1, 0.05],
            "horizon": 2.0, "seeds": 1}
    specs = ex.build_specs(grid, 0)
    assert len(specs) == 2 * 3 + 2
    rows = ex.run_grid(specs, tmp_path, log=lambda s: None)
    assert all(r["status"] in ("max_steps", "converged") for r in rows)
    assert len(list((tmp_path / "runs").glob("*.npz"))) == len(specs)
    msgs = []
    again = ex.run_grid(specs, tmp_path, log=msgs.append)
    assert "0 to do" in msgs[0] and [r["key"] for r in again] == [r["key"] for r in rows]
    slopes = ex.fit_slopes(rows)
    kinds = {s["quantity"] for s in slopes}
    assert any("eta" in q for q in kinds) and any("final_rel_error" in q for q in kinds)
    eta_slope = next(s["slope"] for s in slopes if "eta" in s["quantity"])
    assert 0.5 < eta_slope < 1.5  # O(eta^2) per step times t/eta steps
    paths = ex.plot(specs, rows, tmp_path, grid)
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)


@pytest.mark.slow
def test_experiment_quick_cli(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "dmf_verify.checks.cli", "experiment", "soltanolkotabi", "--quick",
                          "--out", str(tmp_path), "--no-plot"], capture_output=True, text=True, timeout=300,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "soltanolkotabi.csv").exists() and (tmp_path / "soltanolkotabi_slopes.csv").exists()
