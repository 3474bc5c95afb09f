"""The claim machinery: pass/fail logic, registry, and the foundation claims on several seeds."""

from __future__ import annotations

import math

import pytest

from dmf_verify.checks import registry
from dmf_verify.checks.claim import Claim, Measurement

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
    assert not r.passed


def test_exceptions_become_error_results():
    def boom(_seed):
        raise RuntimeError("kaboom")

    c = Claim(id="test.boom", source="t", statement="x", verify=boom, control=boom, tolerance=1.0,
              tolerance_reason="t", control_description="t")
    r = c.check(seed=3)
    assert r.status == "ERROR" and "kaboom" in r.message and r.seed == 3


def test_result_serializes():
    d = _claim(1e-5, 1.0).check(seed=7).to_dict()
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
