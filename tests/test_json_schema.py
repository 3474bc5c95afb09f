"""`dmf-verify check --json` follows its documented schema (docs/json.md, schema_version 1)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from dmf_verify.checks import registry
from dmf_verify.checks.claim import Claim, Measurement, Rate
from dmf_verify.checks.cli import main
from dmf_verify.checks.result_schema import (
    DOCUMENT_FIELDS,
    RESULT_FIELDS,
    SUMMARY_FIELDS,
    SchemaError,
    loads_strict,
    validate_document,
    validate_result,
)

ROOT = Path(__file__).resolve().parents[1]

# cheap claims (each well under a second on one core): a real run of the CLI validates them
FAST = ["balancedness.gd", "chou.decoupling", "precision.float64_vs_mp", "arora2019.lemma1"]


def _claim(verify, control, tolerance=1e-3, **kw):
    return Claim(id=kw.pop("id", "synthetic.claim"), source="test", statement="x", verify=verify, control=control,
                 tolerance=tolerance, tolerance_reason="synthetic", control_description="synthetic", **kw)


def _boom(seed):
    raise ValueError("boom")


SYNTHETIC = {
    "pass": _claim(lambda s: Measurement(1e-6, {"a": [1.0, 2.0]}), lambda s: Measurement(0.5)),
    "fail": _claim(lambda s: Measurement(0.1), lambda s: Measurement(0.5)),
    "control-passed": _claim(lambda s: Measurement(1e-6), lambda s: Measurement(1e-5)),
    "error-exception": _claim(_boom, lambda s: Measurement(0.5)),
    "error-in-control": _claim(lambda s: Measurement(1e-6, {"kept": 1}), _boom),
    "error-nan": _claim(lambda s: Measurement(math.nan, {"x": math.inf}), lambda s: Measurement(0.5)),
    "error-negative": _claim(lambda s: Measurement(-1.0), lambda s: Measurement(0.5)),
    "error-control-inf": _claim(lambda s: Measurement(1e-6), lambda s: Measurement(math.inf)),
    "cases": _claim(lambda s: Measurement(cases={"depth2": 1e-7, "depth3": 2e-7}),
                    lambda s: Measurement(cases={"depth2": 0.4, "depth3": 0.6})),
    "cases-nan": _claim(lambda s: Measurement(cases={"a": math.nan, "b": 1e-7}), lambda s: Measurement(0.5)),
    "rate": _claim(lambda s: Rate(outcomes={f"seed{i}": True for i in range(20)}, claimed_rate=0.8),
                   lambda s: Rate(outcomes={f"seed{i}": i < 2 for i in range(20)}, claimed_rate=0.8),
                   tolerance=0.2),
    "zero-tolerance": _claim(lambda s: Measurement(0.0), lambda s: Measurement(1.0), tolerance=0.0),
    "numpy-details": _claim(lambda s: Measurement(1e-6, {"arr": __import__("numpy").arange(3.0),
                                                         "f32": __import__("numpy").float32(2.5)}),
                            lambda s: Measurement(0.5)),
}
EXPECTED_STATUS = {"pass": "PASS", "fail": "FAIL", "control-passed": "CONTROL-PASSED", "cases": "PASS",
                   "rate": "PASS", "zero-tolerance": "PASS", "numpy-details": "PASS"}


@pytest.mark.parametrize("name", list(SYNTHETIC))
def test_synthetic_results_of_every_status_follow_the_schema(name):
    r = SYNTHETIC[name].check(seed=3)
    d = r.to_dict()
    assert d["status"] == EXPECTED_STATUS.get(name, "ERROR")
    text = json.dumps(d, allow_nan=False)  # numbers are finite or null
    validate_result(loads_strict(text))


def test_all_statuses_are_covered():
    statuses = {SYNTHETIC[n].check(seed=0).status.value for n in SYNTHETIC}
    assert statuses == {"PASS", "FAIL", "CONTROL-PASSED", "ERROR"}


def test_cli_json_document_of_fast_claims(capsys):
    rc = main(["check", *FAST, "--json", "--seed", "4"])
    out = capsys.readouterr().out
    doc = loads_strict(out)
    validate_document(doc)
    assert rc == (0 if doc["summary"]["failed"] == 0 else 1)
    assert [r["id"] for r in doc["results"]] == FAST


def test_default_seed_is_null_in_the_envelope(capsys):
    main(["check", "balancedness.gd", "--json"])
    doc = loads_strict(capsys.readouterr().out)
    validate_document(doc)
    assert doc["seed"] is None and doc["results"][0]["seed"] == registry.get("balancedness.gd").default_seed


@pytest.mark.parametrize("mutate,field", [
    (lambda d: d.update(error="inf"), "error"),
    (lambda d: d.update(passed=False), "passed"),
    (lambda d: d.update(status="OK"), "status"),
    (lambda d: d.update(margin=1.0), "margin"),
    (lambda d: d.update(seed=-1), "seed"),
    (lambda d: d.update(extra=1), "undocumented"),
    (lambda d: d.pop("versions"), "missing"),
    (lambda d: d.update(error=1.0), "PASS needs"),
    (lambda d: d["details"].update(x=float("nan")), "details"),
    (lambda d: d.update(cases={"a": "1e-3"}), "cases"),
])
def test_the_validator_rejects_what_the_schema_forbids(mutate, field):
    d = SYNTHETIC["pass"].check(seed=0).to_dict()
    validate_result(d)
    mutate(d)
    with pytest.raises(SchemaError, match=field):
        validate_result(d)


def test_strict_loading_rejects_nan_and_infinity():
    for bad in ('{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', "{"):
        with pytest.raises(SchemaError):
            loads_strict(bad)


def test_docs_json_md_documents_every_field():
    text = (ROOT / "docs" / "json.md").read_text()
    for f in set(RESULT_FIELDS) | set(DOCUMENT_FIELDS) | set(SUMMARY_FIELDS):
        assert re.search(rf"`{f}`", text), f"docs/json.md does not document `{f}`"


@pytest.mark.slow
def test_every_claim_result_follows_the_schema(capsys):
    """All claims, slow ones included (minutes): the schema holds for every real result."""
    main(["check", "--slow", "--json"])
    doc = loads_strict(capsys.readouterr().out)
    validate_document(doc)
    assert {r["id"] for r in doc["results"]} == {c.id for c in registry.all_claims()}
