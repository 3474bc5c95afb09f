"""Symbolic derivations: every exact check holds, and they render."""

from __future__ import annotations

import numpy as np
import sympy as sp

from dmf_verify.theory.balancedness import balancedness
from dmf_verify.theory.derivation import Derivation
from dmf_verify.theory.render import latex_document
from dmf_verify.theory.svd_flow import theorem3


def test_theorem3_derivation_is_verified_and_renders():
    d = theorem3()
    assert d.verified, d.checks
    assert len(d.checks) >= 6
    assert "\\begin{align*}" in d.to_latex()
    assert "Result" in d.to_text()
    # the symbolic result evaluates to the numeric formula used by the claims
    rate = sp.lambdify((sp.Symbol("N", positive=True, integer=True), sp.Symbol("sigma_r", real=True),
                        sp.Symbol("P_r", real=True)), d.result.rhs)
    for n in (1, 2, 3, 5):
        for s, p in ((0.7, 0.3), (1.9, -1.1)):
            assert np.isclose(rate(n, s, p), -n * (s * s) ** (1 - 1 / n) * p, rtol=1e-13)


def test_balancedness_derivation_is_verified():
    d = balancedness()
    assert d.verified, d.checks
    assert any("GD step" in k for k in d.checks)


def test_prove_zero_detects_nonzero():
    x = sp.Symbol("x")
    d = Derivation("t")
    assert d.prove_zero("x - x", x - x)
    assert not d.prove_zero("x^2 - x", x**2 - x)
    assert not d.verified


def test_latex_document_has_preamble_and_escapes_prose():
    d = Derivation("Title with 50% and #1 and under_score").step("text $a_b$ & more", sp.Eq(sp.Symbol("a"), 1))
    doc = latex_document([d])
    assert doc.startswith("\\documentclass") and doc.rstrip().endswith("\\end{document}")
    assert "50\\%" in doc and "under\\_score" in doc and "$a_b$" in doc and "\\&" in doc
