"""Symbolic derivations: results computed, every exact check holds, displays are equations, output renders.

The LaTeX document of every derivation is compiled with pdflatex (skipped when it is missing) and
its log must show no overfull box; the text format must be plain text (no LaTeX survives) and no
step may display a bare True/False.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp

from dmf_verify.errors import InvalidArgument
from dmf_verify.theory.catalog import DERIVATIONS, derivation
from dmf_verify.theory.derivation import Derivation
from dmf_verify.theory.render import latex_document, render

NAMES = sorted(DERIVATIONS)


def _displays(d: Derivation):
    for st in d.steps:
        if st.expr is not None:
            yield from (st.expr if isinstance(st.expr, (list, tuple)) else [st.expr])
    if d.result is not None:
        yield from (d.result if isinstance(d.result, (list, tuple)) else [d.result])


@pytest.mark.parametrize("name", NAMES)
def test_derivation_verified_and_displays_equations(name):
    d = derivation(name)
    assert d.verified, {k: v for k, v in d.checks.items() if not v}
    assert d.result is not None and d.references and d.source
    for e in _displays(d):
        assert not isinstance(e, (bool, sp.logic.boolalg.BooleanAtom)), (name, e)
    text = d.to_text()
    assert "\\" not in text and "$" not in text, name          # plain text: no LaTeX survives
    assert not re.search(r"^\s*(True|False)\s*$", text, re.MULTILINE), name
    tex = d.to_latex()
    assert "\\begin{align*}" in tex and "\\paragraph{Exact checks.}" in tex and "FAILS" not in tex


def test_step_refuses_a_boolean_display():
    d = Derivation("t")
    with pytest.raises(InvalidArgument, match="boolean"):
        d.step("Sympy evaluates Eq(Symbol, Matrix) to False", sp.Eq(sp.Symbol("x"), sp.Matrix([[1, 2]])))
    d.step("unevaluated is fine", d.equation(sp.Symbol("x"), sp.Matrix([[1, 2]])))


def test_prove_zero_detects_nonzero():
    x = sp.Symbol("x")
    d = Derivation("t")
    assert d.prove_zero("$x - x$", x - x)
    assert not d.prove_zero("$x^2 - x$", x**2 - x)
    assert not d.verified


def test_theorem3_result_is_computed_and_matches_the_numerics():
    """The rate sympy arrives at is the one numerics.rates implements (no formula typed here)."""
    from dmf_verify.numerics.rates import singular_value_rates

    d = derivation("theorem3")
    f = d.formulas["rate"]
    rate = sp.lambdify(f.args, f.expr, "numpy")
    rng = np.random.default_rng(3)
    w, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    proj = np.einsum("ir,ij,jr->r", u, g, vt.T)
    for n in (1, 2, 3, 5):
        _, want = singular_value_rates(w, g, n)
        assert np.allclose([rate(n, si, pi) for si, pi in zip(s, proj)], want, rtol=1e-13, atol=0)


def test_latex_document_has_preamble_bibliography_and_escapes_prose():
    d = Derivation("Title with 50% and #1 and under_score", source="Arora et al. 2019, Theorem 3",
                   references=("arora2019",))
    d.step("text $a_b$ & more", d.equation(sp.Symbol("a"), 1))
    d.set_result(d.equation(sp.Symbol("a"), 1))
    doc = latex_document([d])
    assert doc.startswith("\\documentclass") and doc.rstrip().endswith("\\end{document}")
    assert "50\\%" in doc and "under\\_score" in doc and "$a_b$" in doc and "\\&" in doc
    assert "\\begin{thebibliography}" in doc and "\\bibitem{arora2019}" in doc and "\\cite{arora2019}" in doc
    with pytest.raises(InvalidArgument):
        render(d, "html")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not on PATH")
def test_every_derivation_compiles_without_overfull_boxes(tmp_path):
    doc = latex_document([derivation(n) for n in NAMES], title="dmf-verify derivations")
    (tmp_path / "all.tex").write_text(doc)
    for _ in range(2):   # the second run resolves the citations
        res = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "all.tex"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300, check=False)
    log = (tmp_path / "all.log").read_text(errors="replace")
    assert res.returncode == 0, log[-3000:]
    assert "Overfull" not in log, [ln for ln in log.splitlines() if "Overfull" in ln][:5]
    assert "Citation" not in log or "undefined" not in log


def test_cli_derive_for_every_claim_with_a_derivation(capsys):
    """dmf-verify derive ID: text without True/False or LaTeX, LaTeX with align* and the references."""
    from dmf_verify.checks import registry
    from dmf_verify.checks.cli import main

    ids = [c.id for c in registry.all_claims() if c.derive is not None]
    assert {"arora2019.theorem3", "arora2019.lemma3", "arora2019.lemma2", "arora2019.lemma4",
            "arora2019.corollary1"} <= set(ids)
    for cid in ids:
        assert main(["derive", cid]) == 0
        out = capsys.readouterr().out
        assert not re.search(r"\b(True|False)\b", out), cid
        assert "\\" not in out and "$" not in out, cid
        assert main(["derive", cid, "--format", "latex"]) == 0
        tex = capsys.readouterr().out
        assert "\\begin{align*}" in tex and "References" in tex, cid
