"""A derivation: ordered steps of sympy expressions with prose, exact checks, LaTeX/text output.

Derivations are built on demand (nothing is computed at import time). Each exact check is an
expression that the derivation proves to be identically zero (``sympy.simplify(e) == 0``, or
an expansion to 0); ``Derivation.verified`` says whether all of them held.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp


@dataclass
class Step:
    text: str
    expr: sp.Basic | None = None


@dataclass
class Derivation:
    """Steps of a symbolic argument, the result, and the identities it proved exactly."""

    title: str
    steps: list[Step] = field(default_factory=list)
    result: sp.Basic | None = None
    assumptions: list[str] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)
    symbols: dict[str, sp.Basic] = field(default_factory=dict)

    def step(self, text: str, expr: sp.Basic | None = None) -> "Derivation":
        self.steps.append(Step(text, expr))
        return self

    def prove_zero(self, name: str, expr, *, method: str = "simplify") -> bool:
        """Record whether ``expr`` (a scalar or a matrix) is identically zero."""
        ok = is_zero(expr, method=method)
        self.checks[name] = ok
        return ok

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(self.checks.values())

    # --- rendering -------------------------------------------------------------------------
    def to_latex(self) -> str:
        """A LaTeX fragment (no preamble): prose paragraphs and ``align*`` displays."""
        lines = [f"\\subsection*{{{_latex_text(self.title)}}}"]
        if self.assumptions:
            lines.append("\\textbf{Assumptions.} " + " ".join(_latex_text(a) for a in self.assumptions))
            lines.append("")
        for i, st in enumerate(self.steps, 1):
            lines.append(f"\\paragraph{{Step {i}.}} {_latex_text(st.text)}")
            if st.expr is not None:
                lines.append("\\begin{align*}")
                lines.append(_latex_expr(st.expr))
                lines.append("\\end{align*}")
        if self.result is not None:
            lines.append("\\paragraph{Result.}")
            lines.append("\\begin{align*}")
            lines.append(_latex_expr(self.result))
            lines.append("\\end{align*}")
        if self.checks:
            lines.append("\\paragraph{Exact checks.}")
            lines.append("\\begin{itemize}")
            for name, ok in self.checks.items():
                lines.append(f"\\item {_latex_text(name)}: {'holds' if ok else 'FAILS'}")
            lines.append("\\end{itemize}")
        return "\n".join(lines) + "\n"

    def to_text(self) -> str:
        out = [self.title, "=" * len(self.title)]
        for a in self.assumptions:
            out.append(f"Assume: {a}")
        for i, st in enumerate(self.steps, 1):
            out.append(f"\nStep {i}. {st.text}")
            if st.expr is not None:
                out.append(_indent(sp.pretty(st.expr, use_unicode=True, wrap_line=False)))
        if self.result is not None:
            out.append("\nResult:")
            out.append(_indent(sp.pretty(self.result, use_unicode=True, wrap_line=False)))
        if self.checks:
            out.append("\nExact checks:")
            for name, ok in self.checks.items():
                out.append(f"  [{'ok' if ok else 'FAILS'}] {name}")
        return "\n".join(out) + "\n"


def is_zero(expr, *, method: str = "simplify") -> bool:
    """True when ``expr`` (scalar or matrix) simplifies to exactly zero."""
    simplify = {"simplify": sp.simplify, "expand": sp.expand, "cancel": sp.cancel}[method]
    if isinstance(expr, sp.MatrixBase):
        return all(simplify(e) == 0 for e in expr)
    return simplify(expr) == 0


def _indent(s: str) -> str:
    return "\n".join("    " + line for line in s.splitlines())


_LATEX_ESCAPES = {"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}


def _latex_text(s: str) -> str:
    """Escape prose for LaTeX, leaving $...$ math untouched."""
    parts = s.split("$")
    for i in range(0, len(parts), 2):  # even parts are outside math
        for a, b in _LATEX_ESCAPES.items():
            parts[i] = parts[i].replace(a, b)
    return "$".join(parts)


def _latex_expr(expr) -> str:
    if isinstance(expr, sp.Equality):
        return f"{sp.latex(expr.lhs)} &= {sp.latex(expr.rhs)}"
    if isinstance(expr, (list, tuple)):
        return " \\\\\n".join(_latex_expr(e) for e in expr)
    return sp.latex(expr)
