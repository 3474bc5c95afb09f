"""A derivation: ordered steps of sympy expressions with prose, exact checks, LaTeX/text output.

Derivations are built on demand (nothing is computed at import time). Conventions:

* every step's display is an equation, a relation or a matrix identity built *unevaluated*
  (:meth:`Derivation.equation`), never a boolean: ``sp.Eq(Symbol, Matrix)`` evaluates to
  ``False`` in sympy, so :meth:`Derivation.step` refuses ``True``/``False`` displays;
* the ``result`` is what the derivation computes from its premises (never typed in); the
  ``formulas`` it exports (name -> arguments and expression) are what
  :mod:`dmf_verify.theory.compiled` lambdifies for the numerics;
* each exact check is an expression proved identically zero (``sympy.simplify(e) == 0``, an
  expansion or a cancellation to 0), named by a short prose line whose mathematics is LaTeX in
  ``$...$`` (rendered as mathematics in LaTeX and as plain Unicode text in the text format);
* ``references`` are keys of :data:`dmf_verify.theory.references.REFERENCES`; ``source`` is the
  paper's own numbering; ``scope`` says where the argument is checked only in a fixed size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp


class Label(sp.Symbol):
    """A symbol that prints as the given LaTeX (and as its plain-text rendering in ``sympy.pretty``),
    for display names such as ``\\operatorname{tr} W`` or ``\\|W\\|_*`` that are not sympy names."""

    def __new__(cls, latex: str, **assumptions):
        from dmf_verify.theory.textmath import latex_to_text

        obj = super().__new__(cls, latex_to_text(f"${latex}$"), **assumptions)
        obj._latex_form = latex
        return obj

    def __getnewargs_ex__(self):
        return (self._latex_form,), self.assumptions0

    def _latex(self, printer):
        return self._latex_form

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm

        return prettyForm(self.name)


_MATRIX_LATEX: dict[str, str] = {}


class MatLabel(sp.MatrixSymbol):
    """A matrix symbol with a plain identifier as its name (usable as a lambdify argument) that prints
    as the given LaTeX, e.g. ``MatLabel("Gk", 3, 2, latex="G_{j+1}")``."""

    def __new__(cls, name, rows, cols, latex: str | None = None):
        obj = super().__new__(cls, name, rows, cols)
        if latex is not None:
            _MATRIX_LATEX[obj.name] = latex
        return obj

    def _latex(self, printer):
        return _MATRIX_LATEX.get(self.name, self.name)

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm

        from dmf_verify.theory.textmath import latex_to_text

        return prettyForm(latex_to_text(f"${_MATRIX_LATEX.get(self.name, self.name)}$"))


@dataclass
class Step:
    text: str
    expr: Any = None


@dataclass
class Formula:
    """An expression the derivation computed, with the symbols it is a function of."""

    args: tuple
    expr: Any
    description: str = ""


def _check_display(expr, where: str) -> None:
    from dmf_verify.errors import InvalidArgument

    if expr is None:
        return
    if isinstance(expr, (list, tuple)):
        for e in expr:
            _check_display(e, where)
        return
    if isinstance(expr, (bool, sp.logic.boolalg.BooleanAtom)):
        raise InvalidArgument(f"{where}: a derivation displays equations, got the boolean {expr!r} (build the "
                              "equation with Derivation.equation(lhs, rhs), i.e. sp.Eq(..., evaluate=False))")
    if not isinstance(expr, (sp.Basic, sp.MatrixBase)):
        raise InvalidArgument(f"{where}: a display must be a sympy expression, got {type(expr).__name__}")


@dataclass
class Derivation:
    """Steps of a symbolic argument, the computed result, and the identities it proved exactly."""

    title: str
    steps: list[Step] = field(default_factory=list)
    result: Any = None
    assumptions: list[str] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)
    symbols: dict[str, Any] = field(default_factory=dict)
    references: tuple[str, ...] = ("arora2019",)
    source: str = ""
    scope: str = ""
    formulas: dict[str, Formula] = field(default_factory=dict)
    check_methods: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def equation(lhs, rhs) -> sp.Eq:
        """``lhs = rhs`` as an unevaluated sympy equation (matrices allowed on either side)."""
        return sp.Eq(sp.sympify(lhs), sp.sympify(rhs), evaluate=False)

    def step(self, text: str, expr=None) -> Derivation:
        _check_display(expr, f"step {len(self.steps) + 1} of {self.title!r}")
        self.steps.append(Step(text, expr))
        return self

    def set_result(self, expr) -> None:
        _check_display(expr, f"the result of {self.title!r}")
        self.result = expr

    def formula(self, name: str, args, expr, description: str = "") -> None:
        """Export a computed expression as a function of ``args`` (for :mod:`dmf_verify.theory.compiled`)."""
        self.formulas[name] = Formula(tuple(args), expr, description)

    def prove_zero(self, name: str, expr, *, method: str = "simplify") -> bool:
        """Record whether ``expr`` (a scalar or a matrix) is identically zero."""
        ok = is_zero(expr, method=method)
        self.checks[name] = ok
        self.check_methods[name] = method
        return ok

    def record(self, name: str, holds: bool, *, method: str = "exact") -> bool:
        """Record an exact fact established otherwise (a unique solution, a limit, a sign)."""
        self.checks[name] = bool(holds)
        self.check_methods[name] = method
        return bool(holds)

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(self.checks.values())

    # --- rendering (dmf_verify.theory.render) ----------------------------------------------------
    def to_latex(self, *, cite: bool = False) -> str:
        """A LaTeX fragment (no preamble): prose paragraphs and ``align*`` displays."""
        from dmf_verify.theory.render import derivation_latex

        return derivation_latex(self, cite=cite)

    def to_text(self) -> str:
        from dmf_verify.theory.render import derivation_text

        return derivation_text(self)


def is_zero(expr, *, method: str = "simplify") -> bool:
    """True when ``expr`` (scalar or matrix) simplifies to exactly zero."""
    simplify = {"simplify": sp.simplify, "expand": sp.expand, "cancel": sp.cancel}[method]
    if isinstance(expr, sp.MatrixBase):
        return all(simplify(e) == 0 for e in expr)
    if isinstance(expr, (list, tuple)):
        return all(is_zero(e, method=method) for e in expr)
    return simplify(expr) == 0
