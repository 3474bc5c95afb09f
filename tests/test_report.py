"""dmf-verify report: LaTeX that compiles with a real engine, Markdown with $...$ math."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.checks.cli import main
from dmf_verify.checks.commands.report import (
    build_report,
    collect,
    tex_escape,
    tex_prose,
    to_latex,
    to_markdown,
    unicode_declarations,
)
from dmf_verify.theory.derivation import Derivation

ENGINE = shutil.which("pdflatex") or shutil.which("lualatex")


def compile_latex(text: str, tmp_path: Path) -> None:
    if ENGINE is None:
        print("SKIP reason: no LaTeX engine (pdflatex/lualatex) on PATH; CI installs texlive-latex-base")
        pytest.skip("no LaTeX engine (pdflatex/lualatex) on PATH; install texlive-latex-base")
    tex = tmp_path / "report.tex"
    tex.write_text(text, encoding="utf-8")
    res = subprocess.run([ENGINE, "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    errors = [ln for ln in res.stdout.splitlines() if ln.startswith("!")]
    assert res.returncode == 0 and (tmp_path / "report.pdf").exists(), \
        f"{ENGINE} failed: {errors}\n{res.stdout[-2500:]}"


def _nasty_claim() -> Claim:
    """Every awkward character prose can hold: specials, unicode, $ in text, a failing derivation step."""

    def derive():
        x, eta = sp.symbols("x eta", positive=True)
        d = Derivation("Nasty title with 100% of #specials & under_scores ^ ~ σ ≤ η²",
                       assumptions=["N ≥ 2, σ_r ≠ σ_r' (distinct), ‖W‖ < ∞"])
        d.step(r"Plain text with $\sigma_r^{2-2/N}$ and a_b^c ~ x < y > z | w", sp.Eq(sp.Symbol("y"), x ** eta))
        d.step("A list of equations", [sp.Eq(x, eta), sp.Matrix([[x, 0], [0, eta]])])
        d.step("A non-raw string: $\frac{1}{2} \tau \beta$")  # form feed, tab, backspace: repaired
        d.result = sp.Eq(sp.Function("f")(x), sp.sqrt(x) / eta)
        d.prove_zero("(U^T W' V)_11 - sigma_1' = 0 & more", x - x)
        return d

    return Claim(id="test.nasty_claim_1", source="Paper § 3, eq. (7) — “quoted” & 50% off #1 ~ ^_",
                 statement=r"\dot\sigma_r = -N(\sigma_r^2)^{1-1/N}\langle\nabla\ell(W), u_r v_r^\top\rangle",
                 verify=lambda s: Measurement(1e-9), control=lambda s: Measurement(1.0),
                 tolerance=1e-6, tolerance_reason="h^4/30 |σ^(5)| ≈ 5e-9 at h=2e-3; rtol=1e-12 {braces} \\backslash",
                 control_description="exponent 1 − 1/(N+1) instead of 1 − 1/N", derive=derive,
                 notes="depths 1–5; 5×3 sensing; <x, y> | ‖·‖_F")


def _failing_derivation_claim() -> Claim:
    def derive():
        raise RuntimeError("broken $ derivation_with_underscores")

    return Claim(id="test.broken", source="s", statement=r"a = b", verify=lambda s: 1.0, control=lambda s: 2.0,
                 tolerance=0.5, tolerance_reason="r", control_description="c", derive=derive)


def _entries():
    return collect([_nasty_claim(), _failing_derivation_claim()], [0, 12345])


def test_escaping_helpers():
    assert tex_escape("a_b & 100% #1 ^ ~ {x} \\") == r"a\_b \& 100\% \#1 \^{} \~{} \{x\} \textbackslash{}"
    assert tex_prose(r"keep $\sigma_r^2$ but a_b") == r"keep $\sigma_r^2$ but a\_b"
    assert tex_prose("one $ sign_x") == r"one \$ sign\_x"
    decl = unicode_declarations("σ ≤ ☃")
    assert r"\DeclareUnicodeCharacter{03C3}{\ensuremath{\sigma}}" in decl and "2603" in decl


def test_nasty_latex_report_compiles(tmp_path):
    text = to_latex(_entries(), title="T_1 & co", versions={"py_thon": "3.11"}, generated="today")
    assert r"\begin{document}" in text and "Derivation failed" in text and "FAIL" in text
    assert r"$\frac{1}{2} \tau \beta$" in text
    compile_latex(text, tmp_path)


def test_markdown_report_uses_dollar_math():
    md = to_markdown(_entries(), title="T", versions={"python": "3.11"}, generated="today")
    assert "$$\n\\dot\\sigma_r" in md
    assert "\\begin{aligned}" in md and "&=" in md
    assert md.count("$$") % 2 == 0
    assert "| 12345 | PASS |" in md and "| 0 | FAIL |" in md
    assert "Derivation failed: RuntimeError" in md


def test_real_claims_report_compiles_via_cli(tmp_path, capsys):
    out = tmp_path / "r.tex"
    assert main(["report", "balancedness.gd", "--format", "latex", "--out", str(out), "--seed", "0", "-q"]) == 0
    text = out.read_text()
    assert "balancedness.gd" in text and "PASS" in text and "numpy" in text
    compile_latex(text, tmp_path)
    md = tmp_path / "r.md"
    assert main(["report", "balancedness.gd", "--format", "markdown", "--out", str(md), "--no-run", "-q"]) == 0
    assert "not run" in md.read_text()


def test_bad_format_and_unknown_claim():
    from dmf_verify.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="format"):
        build_report(["balancedness.gd"], fmt="html", run=False)
    assert main(["report", "no.such.claim", "--no-run", "-q"]) == 2


@pytest.mark.slow
def test_full_report_over_every_claim_compiles(tmp_path):
    """Every registered claim (slow ones too), run on seed 0, derivations included."""
    out = tmp_path / "all.tex"
    res = subprocess.run([sys.executable, "-m", "dmf_verify.checks.cli", "report", "--slow", "--format", "latex",
                          "--out", str(out), "-q"], capture_output=True, text=True, timeout=3000)
    assert res.returncode == 0, res.stderr[-3000:]
    compile_latex(out.read_text(), tmp_path)
