"""The bad-input table (tests/bad_inputs.py): every public entry point answers bad input with a
specific dmf_verify error whose message names the parameter (and shows the value / the allowed
options). Each row is one test; all rows run in one worker process with a per-case timeout, so a
hang fails its row instead of blocking the run (the worker is restarted after it).

Rows owned by a helper that is rewriting the module (``owner``) are expected failures until fixed;
rows that are known to hang are not run here unless DMF_BAD_INPUT_HANGS=1 (the counting script,
``python tests/bad_inputs.py``, always runs them).
"""

from __future__ import annotations

import inspect
import os

import bad_inputs as bi
import pytest

CASES = bi.build_cases()
RUN_HANGS = os.environ.get("DMF_BAD_INPUT_HANGS") == "1"


@pytest.fixture(scope="module")
def verdicts() -> dict[str, dict]:
    return bi.run_cases([c for c in CASES if RUN_HANGS or c.id not in bi.KNOWN_HANGS])


def _describe(r: dict) -> str:
    detail = r.get("message") or r.get("returned") or ""
    return f"[{r['outcome']}] {'; '.join(r['problems'])} | {r.get('error', '')} {detail[:300]!r}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, verdicts):
    if case.id in bi.KNOWN_HANGS and not RUN_HANGS:
        pytest.xfail(f"known hang, owned by {bi.KNOWN_HANGS[case.id]} (not run; DMF_BAD_INPUT_HANGS=1 runs it)")
    r = verdicts[case.id]
    if r["passed"]:
        return
    if case.owner:
        pytest.xfail(f"owned by {case.owner}: {_describe(r)}")
    pytest.fail(_describe(r))


def test_table_covers_every_public_function():
    missing = [n for n in bi.public_names() if n not in bi.covered_names() and n not in bi.EXEMPT]
    assert not missing, f"public names without a Spec in tests/bad_inputs.py (or an EXEMPT reason): {missing}"
    stale = [n for n in bi.EXEMPT if n not in bi.public_names()]
    assert not stale, f"EXEMPT lists names that are no longer public: {stale}"


def test_every_parameter_has_a_kind():
    """Generation must not silently skip a parameter: a Skip needs an explicit reason in Spec.kinds."""
    unknown = []
    for spec in bi.SPECS:
        for p in inspect.signature(spec.target()).parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in spec.kinds:
                continue
            base = spec.valid().get(p.name, p.default)
            rule = bi.NAME_RULES.get(p.name)
            kind = rule if rule is not None and bi._fits(rule, base) else bi.infer_kind(p, base)
            if isinstance(kind, bi.Skip):
                unknown.append(f"{spec.name}: {p.name}")
    assert not unknown, f"parameters without a kind (add a NAME_RULES entry or a Spec.kinds override): {unknown}"


def test_table_is_large_and_owned_rows_are_marked():
    bad = [c for c in CASES if not c.control]
    assert len(bad) >= 500
    assert all(c.owner is None or c.owner.startswith("#") for c in CASES)


def test_verdicts_detect_failures():
    """The verdict logic itself: a silent return, a generic exception and an unnamed message all fail."""
    from dmf_verify.errors import InvalidArgument

    def case(call, param="depth", text=None):
        return bi.Case("probe", call, param, InvalidArgument, text)

    def boom(exc):
        def call():
            raise exc
        return call

    assert not bi.execute(case(lambda: 1.0))["passed"]
    assert bi.execute(case(lambda: 1.0))["outcome"] == "silent"
    assert bi.execute(case(boom(TypeError("depth must be int"))))["outcome"] == "generic"
    assert not bi.execute(case(boom(InvalidArgument("must be >= 1, got -1"))))["passed"]
    assert not bi.execute(case(boom(InvalidArgument("depth must be >= 1")), text="-1"))["passed"]
    assert bi.execute(case(boom(InvalidArgument("depth must be >= 1, got -1")), text="-1"))["passed"]
    assert not bi.names_param("x must be a real number", "a")  # the article "a" does not name parameter a
    assert bi.names_param("A must have shape (m, d, d')", "a")


@pytest.mark.parametrize("row", bi.CLI_ROWS, ids=[r.id for r in bi.CLI_ROWS])
def test_cli_bad_input(row):
    """The CLI extension point: `dmf-verify ARGV` must exit 2 with one line on stderr."""
    r = bi.run_cli_row(row)
    if r["passed"]:
        return
    msg = f"{'; '.join(r['problems'])} | stderr: {r.get('stderr', '')!r}"
    if row.owner:
        pytest.xfail(f"owned by {row.owner}: {msg}")
    pytest.fail(msg)
