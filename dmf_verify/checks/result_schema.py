"""Validate ``dmf-verify check --json`` output against its schema (version 1, docs/json.md).

A small hand-written validator (no dependency): :func:`validate_document` checks the envelope
and every result, :func:`validate_result` one ``CheckResult.to_dict()``; both raise
:class:`SchemaError` naming the path of the first offending field. Besides the types they check
the invariants docs/json.md states (``passed`` is ``status == "PASS"``, a ``PASS`` has
``error <= tolerance < control_error``, ``margin = control_error / tolerance`` ...).

>>> validate_result({"schema_version": 1, "id": "x", "status": "ERROR", "passed": False, "error": None,
...                  "tolerance": 0.1, "control_error": None, "margin": None, "error_ratio": None,
...                  "seconds": 0.0, "seed": 0, "cases": None, "control_cases": None, "details": {},
...                  "control_details": {}, "message": "ValueError: boom", "versions": {"python": "3.11.7"}})
>>> loads_strict('{"error": NaN}')
Traceback (most recent call last):
dmf_verify.checks.result_schema.SchemaError: not JSON: NaN is not a JSON number (schema v1 writes null)
"""

from __future__ import annotations

import json
import math

from dmf_verify.errors import InvalidArgument

SCHEMA_VERSION = 1
STATUSES = ("PASS", "FAIL", "CONTROL-PASSED", "ERROR")
SEED_MAX = 2**32 - 1

RESULT_FIELDS = ("schema_version", "id", "status", "passed", "error", "tolerance", "control_error", "margin",
                 "error_ratio", "seconds", "seed", "cases", "control_cases", "details", "control_details",
                 "message", "versions")
DOCUMENT_FIELDS = ("schema_version", "seed", "versions", "summary", "results")
SUMMARY_FIELDS = ("claims", "passed", "failed", "seconds")


class SchemaError(InvalidArgument):
    """A document that does not follow the ``check --json`` schema; the message names the field."""


def loads_strict(text: str):
    """``json.loads`` that rejects ``NaN``/``Infinity`` (Python's json accepts them; JSON does not)."""

    def bad(token):
        raise SchemaError(f"not JSON: {token} is not a JSON number (schema v1 writes null)")

    try:
        return json.loads(text, parse_constant=bad)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"not JSON: {exc}") from None


def _fail(path: str, msg: str):
    raise SchemaError(f"{path}: {msg}")


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_num(x) -> bool:
    return (isinstance(x, (int, float)) and not isinstance(x, bool)) and math.isfinite(x)


def _num(d, key, path, *, nullable=False, nonneg=False):
    x = d[key]
    if x is None:
        if not nullable:
            _fail(f"{path}.{key}", "must be a number, got null")
        return None
    if not _is_num(x):
        _fail(f"{path}.{key}", f"must be a finite number{' or null' if nullable else ''}, got {x!r}")
    if nonneg and x < 0:
        _fail(f"{path}.{key}", f"must be >= 0, got {x!r}")
    return float(x)


def _json_value(x, path: str) -> None:
    if x is None or isinstance(x, (str, bool)) or _is_int(x):
        return
    if isinstance(x, float):
        if not math.isfinite(x):
            _fail(path, f"non-finite number {x!r} (must be null)")
        return
    if isinstance(x, list):
        for i, v in enumerate(x):
            _json_value(v, f"{path}[{i}]")
        return
    if isinstance(x, dict):
        for k, v in x.items():
            if not isinstance(k, str):
                _fail(path, f"object key {k!r} is not a string")
            _json_value(v, f"{path}.{k}")
        return
    _fail(path, f"{type(x).__name__} is not a JSON value")


def _fields(d, fields, path: str) -> None:
    if not isinstance(d, dict):
        _fail(path, f"must be an object, got {type(d).__name__}")
    missing = [k for k in fields if k not in d]
    extra = [k for k in d if k not in fields]
    if missing:
        _fail(path, f"missing field(s) {missing}")
    if extra:
        _fail(path, f"undocumented field(s) {extra}: document them in docs/json.md and add them to "
                    "dmf_verify/checks/result_schema.py (a changed or removed field needs a new schema_version)")


def _versions(v, path: str) -> None:
    if not isinstance(v, dict) or "python" not in v:
        _fail(path, "must be an object with at least 'python'")
    for k, s in v.items():
        if not isinstance(s, str):
            _fail(f"{path}.{k}", f"must be a version string, got {s!r}")


def _cases(c, path: str) -> None:
    if c is None:
        return
    if not isinstance(c, dict) or not c:
        _fail(path, "must be null or a non-empty object (case name -> error or outcome)")
    kinds = set()
    for k, v in c.items():
        if isinstance(v, bool):
            kinds.add("outcome")
        elif v is None or _is_num(v):
            kinds.add("error")
        else:
            _fail(f"{path}.{k}", f"must be a number, null (a NaN error) or a boolean (a Rate outcome), got {v!r}")
    if len(kinds) > 1:
        _fail(path, "mixes per-case errors (numbers) and Rate outcomes (booleans)")


def validate_result(d, path: str = "result") -> None:
    """Raise :class:`SchemaError` unless ``d`` is a schema-v1 result object (one ``CheckResult.to_dict()``)."""
    _fields(d, RESULT_FIELDS, path)
    if d["schema_version"] != SCHEMA_VERSION or not _is_int(d["schema_version"]):
        _fail(f"{path}.schema_version", f"must be {SCHEMA_VERSION}, got {d['schema_version']!r}")
    if not isinstance(d["id"], str) or not d["id"]:
        _fail(f"{path}.id", f"must be a non-empty string, got {d['id']!r}")
    status = d["status"]
    if status not in STATUSES:
        _fail(f"{path}.status", f"must be one of {STATUSES}, got {status!r}")
    if not isinstance(d["passed"], bool) or d["passed"] != (status == "PASS"):
        _fail(f"{path}.passed", f"must be the boolean status == 'PASS' ({status == 'PASS'}), got {d['passed']!r}")
    tol = _num(d, "tolerance", path, nonneg=True)
    checked = status != "ERROR"  # PASS, FAIL, CONTROL-PASSED carry both errors, finite and >= 0
    err = _num(d, "error", path, nullable=not checked, nonneg=checked)
    ctl = _num(d, "control_error", path, nullable=not checked, nonneg=checked)
    margin = _num(d, "margin", path, nullable=True)
    ratio = _num(d, "error_ratio", path, nullable=True)
    _num(d, "seconds", path, nonneg=True)
    if not _is_int(d["seed"]) or not 0 <= d["seed"] <= SEED_MAX:
        _fail(f"{path}.seed", f"must be an integer in [0, {SEED_MAX}], got {d['seed']!r}")
    _cases(d["cases"], f"{path}.cases")
    _cases(d["control_cases"], f"{path}.control_cases")
    for key in ("details", "control_details"):
        if not isinstance(d[key], dict):
            _fail(f"{path}.{key}", f"must be an object, got {type(d[key]).__name__}")
        _json_value(d[key], f"{path}.{key}")
    if not isinstance(d["message"], str):
        _fail(f"{path}.message", f"must be a string, got {d['message']!r}")
    _versions(d["versions"], f"{path}.versions")
    # invariants of the status
    if status == "PASS" and not (err <= tol < ctl):
        _fail(path, f"PASS needs error <= tolerance < control_error, got {err!r}, {tol!r}, {ctl!r}")
    if status == "FAIL" and not err > tol:
        _fail(path, f"FAIL needs error > tolerance, got {err!r} <= {tol!r}")
    if status == "CONTROL-PASSED" and not (err <= tol and ctl <= tol):
        _fail(path, f"CONTROL-PASSED needs error <= tolerance and control_error <= tolerance, got {err!r}, {ctl!r}")
    if status == "ERROR" and not d["message"]:
        _fail(f"{path}.message", "an ERROR must say why (empty message)")
    if status == "PASS" and d["message"]:
        _fail(f"{path}.message", "a PASS carries no message")
    for key, num, value in (("margin", ctl, margin), ("error_ratio", err, ratio)):
        expected = None if (num is None or tol == 0) else num / tol
        if (expected is None) != (value is None) or (value is not None and not math.isclose(value, expected,
                                                                                             rel_tol=1e-12)):
            _fail(f"{path}.{key}", f"must be {key.split('_')[0]} / tolerance = {expected!r}, got {value!r}")


def validate_document(doc) -> None:
    """Raise :class:`SchemaError` unless ``doc`` is a whole ``dmf-verify check --json`` document (schema v1)."""
    _fields(doc, DOCUMENT_FIELDS, "document")
    if doc["schema_version"] != SCHEMA_VERSION or not _is_int(doc["schema_version"]):
        _fail("document.schema_version", f"must be {SCHEMA_VERSION}, got {doc['schema_version']!r}")
    if doc["seed"] is not None and (not _is_int(doc["seed"]) or not 0 <= doc["seed"] <= SEED_MAX):
        _fail("document.seed", f"must be null or an integer in [0, {SEED_MAX}], got {doc['seed']!r}")
    _versions(doc["versions"], "document.versions")
    s = doc["summary"]
    _fields(s, SUMMARY_FIELDS, "document.summary")
    for k in ("claims", "passed", "failed"):
        if not _is_int(s[k]) or s[k] < 0:
            _fail(f"document.summary.{k}", f"must be an integer >= 0, got {s[k]!r}")
    _num(s, "seconds", "document.summary", nonneg=True)
    results = doc["results"]
    if not isinstance(results, list):
        _fail("document.results", f"must be a list, got {type(results).__name__}")
    for i, r in enumerate(results):
        validate_result(r, f"document.results[{i}]")
        if doc["seed"] is not None and r["seed"] != doc["seed"]:
            _fail(f"document.results[{i}].seed", f"must equal the document's seed {doc['seed']}, got {r['seed']}")
    ids = [r["id"] for r in results]
    if len(set(ids)) != len(ids):
        _fail("document.results", "a claim id appears twice")
    n_pass = sum(r["passed"] for r in results)
    if s["claims"] != len(results) or s["passed"] != n_pass or s["failed"] != len(results) - n_pass:
        _fail("document.summary", f"counts {s['claims']}/{s['passed']}/{s['failed']} do not match the results "
                                  f"({len(results)}/{n_pass}/{len(results) - n_pass})")


__all__ = ["SCHEMA_VERSION", "STATUSES", "SchemaError", "loads_strict", "validate_document", "validate_result"]
