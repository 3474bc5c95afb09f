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
from dmf_verify.errors import InvalidArgument
from dmf_verify.numerics import FrobeniusLoss, imbalance

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
    nocontrol = claims["mine.nocontrol"].check()
    assert nocontrol.status == "ERROR" and "no dmf assertion" in nocontrol.message
    fail = claims["mine.plainfail"].check()
    # a plain assert carries no measured error: the claim reports ERROR (never an infinite "error")
    assert fail.status == "ERROR" and fail.error is None and "plain assert" in fail.message


# --- user claims in the user's own units ---------------------------------------------------------
GD_CLAIMS = """
    import math
    import numpy as np
    import pytest
    from dmf_verify.checks.strategies import BalancedFactorization, SensingProblem
    from dmf_verify.numerics import gradient_descent, imbalance_norm

    def ratio(seed, eta=0.02):
        p = SensingProblem(shape=(3, 3), m=6, seed=seed)
        init = BalancedFactorization(depth=3, shape=(3, 3), spectrum=(1.0, 0.7, 0.4), seed=seed)
        d = [imbalance_norm(gradient_descent(p.loss, init.factors, step=h, steps=round(1 / h)).factors)
             for h in (eta / 2, eta)]
        return d[0] / d[1]

    @pytest.mark.dmf_claim("mine.halves", tolerance=0.05, tolerance_reason="worst 0.0133 over seeds 0..19",
                           control="control_quarter")
    def test_halves(dmf):
        dmf.close(ratio(dmf.seed), 0.5, name="ratio")

    def control_quarter(dmf):
        dmf.close(ratio(dmf.seed), 0.25, name="ratio")

    @pytest.mark.dmf_claim("mine.cases", tolerance=0.1, tolerance_reason="r", control="control_cases")
    def test_cases(dmf):
        dmf.close(1.02, 1.0, name="a")
        dmf.close(1.07, 1.0, name="b")
        dmf.close(1.0 + 1e-3, 1.0, tol=0.01, reason="own tolerance", name="c")   # 0.1 of its own tolerance

    def control_cases(dmf):
        dmf.close(1.5, 1.0, name="a")
        dmf.close(1.3, 1.0, name="b")

    @pytest.mark.dmf_claim("mine.weakcontrol", tolerance=0.1, tolerance_reason="r", control="control_weak")
    def test_weak(dmf):
        dmf.close(1.0, 1.0, name="a")

    def control_weak(dmf):
        dmf.close(1.5, 1.0, name="a")
        dmf.close(1.05, 1.0, name="b")      # one accepted case: the control is accepted

    @pytest.mark.dmf_claim("mine.nan", tolerance=0.1, tolerance_reason="r", control="control_cases")
    def test_nan(dmf):
        dmf.close(math.nan, 1.0)

    @pytest.mark.dmf_claim("mine.nancontrol", tolerance=0.1, tolerance_reason="r", control="control_nan")
    def test_ok(dmf):
        dmf.close(1.0, 1.0)

    def control_nan(dmf):
        dmf.close(float("nan"), 1.0)

    @pytest.mark.dmf_claim("mine.rate", tolerance=0.1, tolerance_reason="rate 0.9", control="control_rate")
    def test_rate(dmf):
        dmf.rate([True] * 40)

    def control_rate(dmf):
        dmf.rate([k % 3 != 0 for k in range(40)])       # 26/40

    @pytest.mark.dmf_claim("mine.order", tolerance=0.05, tolerance_reason="exact powers", control="control_order")
    def test_order(dmf):
        h = np.array([0.1, 0.05, 0.025])
        dmf.order(h, h ** 2, expected=2.0)

    def control_order(dmf):
        h = np.array([0.1, 0.05, 0.025])
        dmf.order(h, h ** 2, expected=1.0)
"""


def _gd_claims(tmp_path):
    f = tmp_path / "test_gd_claims.py"
    f.write_text(textwrap.dedent(GD_CLAIMS))
    return {c.id: c for c in claims_from_paths([f])}


def test_user_claim_about_gd_reports_the_users_own_numbers(tmp_path):
    c = _gd_claims(tmp_path)["mine.halves"]
    assert c.tolerance == 0.05 and c.tolerance_reason == "worst 0.0133 over seeds 0..19"
    r = c.check(seed=0)
    assert r.status == "PASS", r.message
    ns: dict = {}
    exec(textwrap.dedent(GD_CLAIMS), ns)
    measured = ns["ratio"](0)
    assert r.error == pytest.approx(abs(measured - 0.5), rel=1e-12)
    assert r.control_error == pytest.approx(abs(measured - 0.25), rel=1e-12)   # measured, not inf
    assert r.margin == pytest.approx(abs(measured - 0.25) / 0.05)
    assert r.details["checks"][0]["tolerance_reason"] == "worst 0.0133 over seeds 0..19"


def test_user_claim_cases_are_aggregated_by_the_claim(tmp_path):
    claims = _gd_claims(tmp_path)
    r = claims["mine.cases"].check()
    assert r.status == "PASS", r.message
    assert r.cases == pytest.approx({"a": 0.02, "b": 0.07, "c": 0.01})   # c: 1e-3 / 0.01 * 0.1
    assert r.error == pytest.approx(0.07) and r.control_error == pytest.approx(0.3)
    weak = claims["mine.weakcontrol"].check()
    assert weak.status == "CONTROL-PASSED" and weak.control_error == pytest.approx(0.05)


def test_nan_in_claim_or_control_is_an_error(tmp_path):
    claims = _gd_claims(tmp_path)
    for cid in ("mine.nan", "mine.nancontrol"):
        r = claims[cid].check()
        assert r.status == "ERROR" and "NaN" in r.message, (cid, r.message)


def test_rate_and_order_claims(tmp_path):
    claims = _gd_claims(tmp_path)
    rate = claims["mine.rate"].check()
    assert rate.status == "PASS", rate.message
    from dmf_verify.checks.claim import clopper_pearson

    assert rate.error == pytest.approx(1 - clopper_pearson(40, 40)[0])
    assert rate.control_error == pytest.approx(1 - clopper_pearson(26, 40)[1])
    order = claims["mine.order"].check()
    assert order.status == "PASS" and order.error < 1e-12 and order.control_error == pytest.approx(1.0)


GIVEN_CLAIM = """
    import pytest
    from hypothesis import given, settings, strategies as st

    @pytest.mark.dmf_claim("g.max", tolerance=0.5, tolerance_reason="r", control="control_g")
    @settings(max_examples=15, deadline=None)
    @given(x=st.floats(0.0, 0.4))
    def test_g(dmf, x):
        dmf.close(x, 0.0, name="x")

    @settings(max_examples=15, deadline=None)
    @given(x=st.floats(0.6, 1.0))
    def control_g(dmf, x):
        dmf.close(x, 0.0, name="x")
"""


def test_given_claim_takes_the_worst_example_and_follows_the_seed(tmp_path):
    f = tmp_path / "test_given_claim.py"
    f.write_text(textwrap.dedent(GIVEN_CLAIM))
    (c,) = claims_from_paths([f])
    r1, r2 = c.check(seed=3), c.check(seed=3)
    assert r1.status == "PASS", r1.message
    assert len(r1.cases) >= 10 and r1.error == max(r1.cases.values()) <= 0.4
    assert 0.6 <= r1.control_error == min(r1.control_cases.values())
    assert r1.cases == r2.cases  # the claim's seed fixes hypothesis's examples


def test_claim_options_are_validated(tmp_path):
    from dmf_verify.checks.errors import ConfigError

    for body, match in [
        ('@pytest.mark.dmf_claim("x.a", contol="c")\ndef test_a(dmf): pass', "unknown keyword 'contol'"),
        ('@pytest.mark.dmf_claim("x.a", tolerance=0.1)\ndef test_a(dmf): pass', "needs tolerance_reason"),
        ('@pytest.mark.dmf_claim("x.a", tolerance=-1, tolerance_reason="r")\ndef test_a(dmf): pass',
         "tolerance must be a finite number > 0"),
        ('@pytest.mark.dmf_claim("x.a", control="missing")\ndef test_a(dmf): pass',
         "control 'missing' is not a function"),
        ('@pytest.mark.dmf_claim("x.a", control="c")\ndef test_a(dmf, tmp_path): pass\ndef c(dmf): pass', None),
    ]:
        f = tmp_path / "test_opts.py"
        f.write_text("import pytest\n" + body + "\n")
        import sys

        for k in [k for k in sys.modules if k.startswith("dmf_user_tests_") and "test_opts" in k]:
            del sys.modules[k]
        if match is None:  # a fixture the claim cannot supply: ERROR at check time, naming it
            (c,) = claims_from_paths([f])
            r = c.check()
            assert r.status == "ERROR" and "tmp_path" in r.message
            continue
        with pytest.raises(ConfigError, match=match):
            claims_from_paths([f])


PYTEST_CLAIMS = """
    import pytest

    @pytest.mark.dmf_claim("p.good", tolerance=0.1, tolerance_reason="r", control="control_good")
    def test_good(dmf):
        dmf.close(1.01, 1.0)

    def control_good(dmf):
        dmf.close(1.5, 1.0)

    @pytest.mark.dmf_claim("p.weak", tolerance=0.1, tolerance_reason="r", control="control_weak")
    def test_weak(dmf):
        dmf.close(1.01, 1.0)

    def control_weak(dmf):
        dmf.close(1.05, 1.0)

    @pytest.mark.dmf_claim("p.none")
    def test_none(dmf):
        dmf.close(1.0, 1.0, tol=0.1, reason="r")

    def test_plain(dmf):
        c = dmf.close(1.0, 1.0, tol=0.1, reason="r")   # no claim: tol is required
        assert c.passed
        with pytest.raises(Exception, match="needs tol"):
            dmf.close(1.0, 1.0, reason="r")
"""


def test_pytest_runs_the_claims_control(pytester):
    pytester.makepyfile(test_pc=textwrap.dedent(PYTEST_CLAIMS))
    res = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers", "-W", "error")
    res.assert_outcomes(passed=2, failed=2)
    out = res.stdout.str()
    assert "the negative control control_weak of dmf_claim 'p.weak' was NOT rejected" in out
    assert "dmf_claim 'p.none' names no negative control" in out


# --- loud configuration errors -------------------------------------------------------------------
def _cli(args, cwd, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "DMF_VERIFY_TESTS"}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "dmf_verify.checks.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_missing_path_is_a_config_error(tmp_path, monkeypatch):
    from dmf_verify.checks.errors import ConfigError
    from dmf_verify.checks.user_claims import discover

    with pytest.raises(ConfigError, match="'/nonexistent/test_x.py', which does not exist"):
        claims_from_paths(["/nonexistent/test_x.py"])
    monkeypatch.setenv("DMF_VERIFY_TESTS", "/nonexistent/test_x.py")
    with pytest.raises(ConfigError, match=r"\$DMF_VERIFY_TESTS names '/nonexistent/test_x.py'"):
        discover()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="holds no test_"):
        claims_from_paths([tmp_path / "empty"])


def _write_bad_config(tmp_path, case, monkeypatch):
    if case == "env-missing":
        monkeypatch.setenv("DMF_VERIFY_TESTS", "tests/test_nothere.py")
        return "tests/test_nothere.py"
    monkeypatch.delenv("DMF_VERIFY_TESTS", raising=False)
    if case == "toml-missing":
        (tmp_path / "pyproject.toml").write_text('[tool.dmf-verify]\nclaim-tests = ["t/test_gone.py"]\n')
        return "t/test_gone.py"
    if case == "toml-syntax":
        (tmp_path / "pyproject.toml").write_text('[tool.dmf-verify]\nclaim-tests = ["test_a.py"\n')
        return "pyproject.toml: invalid TOML"
    if case == "unknown-key":
        (tmp_path / "pyproject.toml").write_text('[tool.dmf-verify]\nclaim_tests = ["test_a.py"]\n')
        return "unknown key 'claim_tests' in [tool.dmf-verify]"
    if case == "not-a-list":
        (tmp_path / "pyproject.toml").write_text('[tool.dmf-verify]\nclaim-tests = 3\n')
        return "claim-tests must be a list of paths"
    (tmp_path / "test_broken.py").write_text("import no_such_module_here\n")
    monkeypatch.setenv("DMF_VERIFY_TESTS", "test_broken.py")
    return "test_broken.py' ($DMF_VERIFY_TESTS) failed to import: ModuleNotFoundError"


@pytest.mark.parametrize("case", ["env-missing", "toml-missing", "toml-syntax", "unknown-key", "not-a-list",
                                  "import-error"])
def test_bad_configuration_exits_2_naming_the_path_or_key(tmp_path, case, monkeypatch, capsys):
    from dmf_verify.checks import cli, registry

    named = _write_bad_config(tmp_path, case, monkeypatch)
    monkeypatch.chdir(tmp_path)
    for args in (["check", "mine.*"], ["list"]):
        registry.reset()
        assert cli.main(args) == 2, case
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("dmf-verify: error: ConfigError:"), lines
        assert named in lines[0], (named, lines[0])
    registry.reset()


def test_bad_configuration_exit_status_from_the_command(tmp_path, monkeypatch):
    _write_bad_config(tmp_path, "toml-syntax", monkeypatch)
    res = _cli(["check", "mine.*"], tmp_path)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "pyproject.toml: invalid TOML" in res.stderr


def test_unrelated_broken_pyproject_is_ignored(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.other]\nx = [\n')
    assert configured_paths(tmp_path) == []


def test_configured_paths_from_env_and_pyproject(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.dmf-verify]\nclaim-tests = ["t/test_a.py"]\n')
    monkeypatch.setenv("DMF_VERIFY_TESTS", os.pathsep.join(["x.py", "y"]))
    assert configured_paths(tmp_path) == ["x.py", "y", str(tmp_path / "t/test_a.py")]


def test_dmf_verify_check_lists_marked_example_tests():
    env = dict(os.environ, DMF_VERIFY_TESTS=str(ROOT / "examples" / "test_new_conjecture.py"))
    res = subprocess.run([sys.executable, "-m", "dmf_verify.checks.cli", "check", "example.*"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "example.commuting_flow_stays_commuting" in res.stdout and "PASS" in res.stdout
