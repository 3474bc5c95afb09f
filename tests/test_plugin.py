"""The pytest plugin (fixtures, marker), the dmf assertions, and dmf_claim tests as claims."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from dmf_verify.checks.assertions import (
    DMFAssertionError,
    assert_conserved,
    assert_flow_matches,
    assert_gd_tracks_flow,
)
from dmf_verify.checks.strategies import BalancedFactorization, SensingProblem, Trajectory, trajectories
from dmf_verify.checks.user_claims import claims_from_paths, configured_paths
from dmf_verify.numerics import FrobeniusLoss, imbalance
from dmf_verify.errors import InvalidArgument

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[1]


def _imbalance_entries(state):
    ds = imbalance(state.factors)
    return np.concatenate([d.ravel() for d in ds]) if ds else np.zeros(1)


# --- assertions -------------------------------------------------------------------------------
@settings(max_examples=6)
@given(trajectories(max_depth=3))
def test_balancedness_is_conserved_on_drawn_trajectories(tr):
    check = assert_conserved(_imbalance_entries, trajectory=tr, seed=1)
    assert check.passed and check.tolerance < 1e-6


@settings(max_examples=4)
@given(trajectories(depth=2))
def test_loss_is_not_an_invariant(tr):
    # negative control: the loss decreases along the flow (unless it starts at a critical point)
    g = tr.loss.gradient(tr.init.product)
    if np.linalg.norm(g) < 1e-3:
        return
    with pytest.raises(DMFAssertionError) as info:
        assert_conserved(lambda s: s.loss.value(s.W), trajectory=tr, seed=3)
    msg = str(info.value)
    for part in ("measured error", "tolerance", "seed           : 3", "reproduce", "Trajectory("):
        assert part in msg
    assert info.value.check.ratio > 1e3


def _frobenius_case():
    target = np.array([[1.0, -0.5], [0.25, 2.0]])
    w0 = np.array([[0.3, 0.1], [-0.2, 0.4]])
    return FrobeniusLoss(target), target, w0


def test_depth_one_closed_form_matches_and_wrong_rate_fails():
    loss, target, w0 = _frobenius_case()
    ok = assert_flow_matches(lambda s: s.W, lambda s: target + (w0 - target) * np.exp(-s.t),
                             loss=loss, factors=[w0], horizon=2.0)
    assert ok.error < 1e-9 and ok.tolerance < 1e-7
    with pytest.raises(DMFAssertionError, match="np.array"):  # small inputs are printed in full
        assert_flow_matches(lambda s: s.W, lambda s: target + (w0 - target) * np.exp(-1.01 * s.t),
                            loss=loss, factors=[w0], horizon=2.0)


def test_tolerance_follows_the_integrator_error_estimate():
    loss, target, w0 = _frobenius_case()
    loose = assert_flow_matches(lambda s: s.W, lambda s: target + (w0 - target) * np.exp(-s.t),
                                loss=loss, factors=[w0], horizon=2.0, rtol=1e-5, atol=1e-7)
    tight = assert_flow_matches(lambda s: s.W, lambda s: target + (w0 - target) * np.exp(-s.t),
                                loss=loss, factors=[w0], horizon=2.0, rtol=1e-10, atol=1e-12)
    assert loose.tolerance > 100 * tight.tolerance


def test_gd_tracks_flow_first_order_and_rejects_second_order():
    tr = Trajectory(problem=SensingProblem(shape=(3, 2), m=4, seed=1),
                    init=BalancedFactorization(depth=2, shape=(3, 2), spectrum=(1.0, 0.5), seed=2), horizon=1.0)
    ok = assert_gd_tracks_flow(trajectory=tr)
    assert ok.passed and ok.error < 0.05
    with pytest.raises(DMFAssertionError, match="observed orders"):
        assert_gd_tracks_flow(trajectory=tr, order=2.0)


def test_bad_inputs_raise_project_errors():
    with pytest.raises(InvalidArgument, match="trajectory="):
        assert_conserved(lambda s: 0.0, loss=None, factors=None, horizon=1.0)
    loss, _, w0 = _frobenius_case()
    with pytest.raises(InvalidArgument, match="horizon"):
        assert_conserved(lambda s: 0.0, loss=loss, factors=[w0], horizon=-1.0)
    with pytest.raises(InvalidArgument, match="twice the previous"):
        assert_gd_tracks_flow(loss=loss, factors=[w0], horizon=1.0, steps=(10, 30, 40))


# --- the plugin under pytester ----------------------------------------------------------------
USER_TEST = """
    import numpy as np
    import pytest
    from dmf_verify.numerics import FrobeniusLoss

    T = np.array([[1.0, 0.0], [0.0, 2.0]])
    W0 = np.array([[0.5, 0.1], [0.0, 0.3]])

    def test_right(dmf):
        dmf.flow_matches(lambda s: s.W, lambda s: T + (W0 - T) * np.exp(-s.t),
                         loss=FrobeniusLoss(T), factors=[W0], horizon=1.0)
        assert len(dmf.checks) == 1

    @pytest.mark.dmf_claim("user.wrong", control="control_x")
    def test_wrong(dmf, dmf_seed):
        assert dmf.seed == dmf_seed
        dmf.flow_matches(lambda s: s.W, lambda s: T + (W0 - T) * np.exp(-2 * s.t),
                         loss=FrobeniusLoss(T), factors=[W0], horizon=1.0)
"""


def test_fixtures_and_failure_message(pytester):
    pytester.makepyfile(test_user=textwrap.dedent(USER_TEST))
    res = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers", "--dmf-seed", "7")
    res.assert_outcomes(passed=1, failed=1)
    out = res.stdout.str()
    assert "measured error" in out and "tolerance" in out
    assert "seed           : 7" in out
    assert "pytest 'test_user.py::test_wrong' --dmf-seed 7" in out


def test_marker_is_registered(pytester):
    res = pytester.runpytest("--markers")
    assert "@pytest.mark.dmf_claim" in res.stdout.str()


def test_plugin_import_is_cheap():
    code = "import sys, dmf_verify.checks.pytest_plugin; print(sorted(m for m in ('numpy', 'scipy', 'hypothesis', " \
           "'sympy', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- dmf_claim -> claims ----------------------------------------------------------------------
CLAIM_TESTS = """
    import pytest
    from dmf_verify.checks.strategies import BalancedFactorization, SensingProblem, Trajectory
    from dmf_verify.numerics import imbalance

    TR = Trajectory(problem=SensingProblem(shape=(2, 2), m=3), init=BalancedFactorization(2, (2, 2), (1.0, 0.5)),
                    horizon=0.5)

    @pytest.mark.dmf_claim("mine.balance", statement=r"D_1(t) = D_1(0)", control="control_loss")
    def test_balance(dmf):
        dmf.conserved(lambda s: imbalance(s.factors)[0], trajectory=TR)

    def control_loss(dmf):
        dmf.conserved(lambda s: s.loss.value(s.W), trajectory=TR)

    @pytest.mark.dmf_claim("mine.nocontrol")
    def test_nocontrol():
        assert True

    @pytest.mark.dmf_claim("mine.plainfail", control="test_nocontrol")
    def test_plainfail():
        assert 1 == 2
"""


def test_marked_tests_become_claims(tmp_path):
    f = tmp_path / "test_mine.py"
    f.write_text(textwrap.dedent(CLAIM_TESTS))
    claims = {c.id: c for c in claims_from_paths([tmp_path])}
    assert set(claims) == {"mine.balance", "mine.nocontrol", "mine.plainfail"}
    r = claims["mine.balance"].check(seed=0)
    assert r.passed, r.message
    assert r.error <= 1.0 < r.control_error
    assert claims["mine.nocontrol"].check().status == "ERROR"
    fail = claims["mine.plainfail"].check()
    # a plain assert carries no measured error: the claim reports ERROR (never an infinite "error")
    assert fail.status == "ERROR" and fail.error is None


def test_configured_paths_from_env_and_pyproject(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.dmf-verify]\nclaim-tests = ["t/test_a.py"]\n')
    monkeypatch.setenv("DMF_VERIFY_TESTS", os.pathsep.join(["x.py", "y"]))
    assert configured_paths(tmp_path) == ["x.py", "y", str(tmp_path / "t/test_a.py")]


def test_missing_path_becomes_an_error_claim(monkeypatch):
    from dmf_verify.checks.user_claims import discover

    with pytest.raises(FileNotFoundError):
        claims_from_paths(["/nonexistent/test_x.py"])
    monkeypatch.setenv("DMF_VERIFY_TESTS", "/nonexistent/test_x.py")
    (c,) = discover()
    assert c.id.startswith("import-error.user") and c.check().status == "ERROR"


def test_dmf_verify_check_lists_marked_example_tests():
    env = dict(os.environ, DMF_VERIFY_TESTS=str(ROOT / "examples" / "test_new_conjecture.py"))
    res = subprocess.run([sys.executable, "-m", "dmf_verify.checks.cli", "check", "example.*"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "example.commuting_flow_stays_commuting" in res.stdout and "PASS" in res.stdout


def test_examples_pass_under_plain_pytest():
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "examples"], cwd=ROOT, capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stdout[-3000:]
    assert " passed" in res.stdout
