"""The claim machinery: pass/fail logic, registry, and the foundation claims on several seeds."""

from __future__ import annotations

import math

import pytest

from dmf_verify.checks import registry
from dmf_verify.checks.claim import Claim, Measurement, Rate, Status, clopper_pearson
from dmf_verify.errors import InvalidArgument

FOUNDATION = ["balancedness.flow", "balancedness.gd", "arora2019.lemma3", "arora2019.theorem3",
              "arora2019.gd_tracks_flow"]


def _claim(error, control, tol=1e-3):
    return Claim(id="test.synthetic", source="test", statement="x", verify=lambda s: Measurement(error),
                 control=lambda s: control, tolerance=tol, tolerance_reason="test",
                 control_description="wrong variant")


def test_pass_requires_small_error_and_rejected_control():
    assert _claim(1e-5, 1.0).check().status == "PASS"
    r = _claim(1e-2, 1.0).check()
    assert r.status == "FAIL" and not r.passed
    r = _claim(1e-5, 1e-4).check()
    assert r.status == "CONTROL-PASSED" and not r.passed and "control" in r.message
    r = _claim(math.nan, 1.0).check()
    assert r.status == "ERROR" and "NaN" in r.message


@pytest.mark.parametrize("control", [math.nan, math.inf, -1.0])
def test_non_finite_or_negative_control_is_an_error_not_a_rejection(control):
    r = _claim(1e-5, control).check()
    assert r.status is Status.ERROR and not r.passed and "control" in r.message


def test_cases_are_aggregated_by_the_claim():
    c = Claim(id="test.cases", source="t", statement="x",
              verify=lambda s: Measurement(cases={"a": 1e-6, "b": 5e-4}),
              control=lambda s: Measurement(cases={"a": 0.5, "b": 2e-3}), tolerance=1e-3,
              tolerance_reason="t", control_description="t")
    r = c.check()
    assert r.passed and r.error == 5e-4 and r.control_error == 2e-3
    assert r.cases == {"a": 1e-6, "b": 5e-4} and r.control_cases["a"] == 0.5
    bad = Claim(id="test.cases2", source="t", statement="x", verify=lambda s: Measurement(cases={"a": 1e-6}),
                control=lambda s: Measurement(cases={"a": 0.5, "b": 1e-4}), tolerance=1e-3,
                tolerance_reason="t", control_description="t")
    assert bad.check().status is Status.CONTROL_PASSED  # one accepted control case is enough


def test_rate_claims_use_one_sided_binomial_bounds():
    def claim(ok_verify, ok_control):
        return Claim(id="test.rate", source="t", statement="x",
                     verify=lambda s: Rate(outcomes={f"i{k}": k < ok_verify for k in range(30)}, claimed_rate=0.8),
                     control=lambda s: Rate(outcomes={f"i{k}": k < ok_control for k in range(30)}, claimed_rate=0.8),
                     tolerance=0.2, tolerance_reason="t", control_description="t")
    assert claim(30, 10).check().passed            # lower bound 0.905 > 0.8; control upper bound 0.50 < 0.8
    assert claim(27, 10).check().status is Status.FAIL      # 27/30 = 0.9 but the 95% lower bound is 0.761
    assert claim(30, 22).check().status is Status.CONTROL_PASSED  # 22/30: upper bound 0.86 > 0.8
    lo, hi = clopper_pearson(27, 30)
    assert lo == pytest.approx(0.7614, abs=1e-4) and hi == pytest.approx(0.9721, abs=1e-4)


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "3", True])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(InvalidArgument, match="seed"):
        _claim(1e-5, 1.0).check(seed=seed)


def test_exceptions_become_error_results():
    def boom(_seed):
        raise RuntimeError("kaboom")

    c = Claim(id="test.boom", source="t", statement="x", verify=boom, control=boom, tolerance=1.0,
              tolerance_reason="t", control_description="t")
    r = c.check(seed=3)
    assert r.status == "ERROR" and "kaboom" in r.message and r.seed == 3


def test_result_serializes():
    d = _claim(1e-5, 1.0).check(seed=7).to_dict()
    assert d["schema_version"] == 1 and d["status"] == "PASS"
    for key in ("id", "passed", "error", "tolerance", "control_error", "seconds", "seed", "versions", "margin"):
        assert key in d
    assert d["seed"] == 7 and d["margin"] == pytest.approx(1000.0)
    assert "numpy" in d["versions"]


def test_registry_has_foundation_claims_with_metadata():
    ids = [c.id for c in registry.all_claims()]
    for cid in FOUNDATION:
        assert cid in ids
    for c in registry.all_claims():
        assert c.tolerance_reason and c.control_description and c.source and c.statement
    assert not [i for i in ids if i.startswith("import-error.")], "a claim module failed to import"


def test_unknown_claim_id():
    from dmf_verify.checks.errors import UnknownClaimError

    with pytest.raises(UnknownClaimError, match="unknown claim id"):
        registry.get("arora2019.no_such_claim")


@pytest.mark.parametrize("cid", FOUNDATION)
@pytest.mark.parametrize("seed", [1, 2])
def test_foundation_claims_pass_on_other_seeds(cid, seed):
    r = registry.get(cid).check(seed=seed)
    assert r.passed, (r.status, r.error, r.control_error, r.message)
    assert r.control_error > 10 * r.tolerance  # controls rejected by a wide margin
