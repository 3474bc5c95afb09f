"""The worked examples in examples/ (docs/user_tests.md, "Worked examples"): they pass as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DMF_VERIFY_TESTS", "PYTEST_CURRENT_TEST")}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def _run(args, cwd, **kw):
    return subprocess.run([sys.executable, *args], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=600, **kw)


def test_examples_pass_under_plain_pytest():
    res = _run(["-m", "pytest", "-q", "examples"], ROOT)
    assert res.returncode == 0, res.stdout[-3000:]
    assert " passed" in res.stdout and "failed" not in res.stdout


@pytest.mark.parametrize("folder, ids", [
    ("new_statement", {"mine.gd.imbalance_first_order", "mine.gd.factor_gradients"}),
    ("paper_export", {"mine.scalar.imbalance_contraction"}),
])
def test_example_projects_find_and_pass_their_claims(folder, ids):
    res = _run(["-m", "dmf_verify.checks.cli", "check", "mine.*", "--json"], EXAMPLES / folder)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    results = {r["id"]: r for r in json.loads(res.stdout)["results"]}
    assert set(results) == ids
    for r in results.values():
        assert r["status"] == "PASS" and 0 <= r["error"] < r["tolerance"] < r["control_error"]


@pytest.mark.mutation
def test_every_mutant_of_the_new_statement_example_is_killed():
    res = _run([str(EXAMPLES / "new_statement" / "run_mutants.py")], EXAMPLES / "new_statement")
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("KILLED") == len(_mutants()), res.stdout


def _mutants():
    # loaded from its file: the name ``mutants`` would otherwise resolve to tests/mutants (the catalogue)
    import importlib.util

    spec = importlib.util.spec_from_file_location("example_new_statement_mutants",
                                                  EXAMPLES / "new_statement" / "mutants.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.MUTANTS


def test_mutant_catalogue_matches_the_example_code_and_each_claim_has_three_kinds():
    mutants = _mutants()
    text = (EXAMPLES / "new_statement" / "gd_balance.py").read_text()
    for m in mutants:
        m.patched(text)  # raises when the catalogue no longer matches the code
    for claim in ("mine.gd.imbalance_first_order", "mine.gd.factor_gradients"):
        assert len({m.kind for m in mutants if claim in m.targets}) >= 3, claim


def test_derivation_exports_to_latex_and_compiles(tmp_path):
    res = _run([str(EXAMPLES / "paper_export" / "export_latex.py"), "--out", str(tmp_path)], tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    frag = (tmp_path / "scalar_imbalance_fragment.tex").read_text()
    assert "\\begin{align*}" in frag and "holds" in frag and "FAILS" not in frag
    assert "\\documentclass" in (tmp_path / "scalar_imbalance.tex").read_text()
    if shutil.which("pdflatex"):
        assert (tmp_path / "scalar_imbalance.pdf").stat().st_size > 1000
    else:
        print("pdflatex not found: the PDF step was skipped")


def test_user_claim_derivation_reaches_derive_and_report(tmp_path):
    folder = EXAMPLES / "paper_export"
    res = _run(["-m", "dmf_verify.checks.cli", "derive", "mine.scalar.imbalance_contraction", "--format", "latex"],
               folder)
    assert res.returncode == 0, res.stderr
    assert "\\begin{align*}" in res.stdout and "holds" in res.stdout
    out = tmp_path / "claims.tex"
    res = _run(["-m", "dmf_verify.checks.cli", "report", "mine.*", "--format", "latex", "--out", str(out), "-q"],
               folder)
    assert res.returncode == 0, res.stdout + res.stderr
    tex = out.read_text()
    assert "mine.scalar.imbalance" in tex and "PASS" in tex
    if shutil.which("pdflatex"):
        res = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", out.name], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stdout[-3000:]
