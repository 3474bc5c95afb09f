"""Render derivations as plain text (sympy's pretty printer) or LaTeX (fragment or document).

* text: prose with its ``$...$`` mathematics turned into Unicode (:mod:`dmf_verify.theory.textmath`),
  displays by ``sympy.pretty``; no LaTeX survives.
* LaTeX: ``align*`` displays (long sums broken over lines), the exact checks as an enumerated list
  of mathematics, and one bibliography line per paper (``thebibliography`` in a document).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable

import sympy as sp

from dmf_verify.theory.derivation import Derivation
from dmf_verify.theory.references import bibliography_line
from dmf_verify.theory.textmath import latex_to_text

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage{amsmath,amssymb}
\usepackage[margin=2.2cm]{geometry}
\allowdisplaybreaks
\setlength{\emergencystretch}{3em}
\sloppy
"""

#: Displays wider than this many "characters" (a crude width estimate) are broken over lines.
DISPLAY_WIDTH = 70
WRAP = 100

_LATEX_ESCAPES = {"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}


def latex_text(s: str) -> str:
    """Escape prose for LaTeX, leaving ``$...$`` math untouched."""
    parts = s.split("$")
    for i in range(0, len(parts), 2):  # even parts are outside math
        for a, b in _LATEX_ESCAPES.items():
            parts[i] = re.sub(r"(?<!\\)" + re.escape(a), lambda _m, b=b: b, parts[i])
    return "$".join(parts)


# kept for callers of the old private name
_latex_text = latex_text


def _width(tex: str) -> int:
    """A rough printed width of a LaTeX math string (fractions count their wider part)."""
    t = re.sub(r"\\(left|right|big|Big|bigg|Bigg)\b", "", tex)
    t = re.sub(r"\\begin\{matrix\}(.*?)\\end\{matrix\}",
               lambda m: "M" * max(sum(max(len(c), 1) + 2 for c in row.split("&")) for row in m.group(1).split(r"\\")),
               t, flags=re.DOTALL)
    for _ in range(4):
        t = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", lambda m: "F" * max(len(m.group(1)), len(m.group(2))), t)
    t = re.sub(r"[_^]\{([^{}]*)\}", lambda m: "s" * max(1, len(m.group(1)) // 2), t)
    t = re.sub(r"\\[A-Za-z]+", "x", t)
    t = re.sub(r"[{}\s]", "", t)
    return len(t)


def _split_sum(expr) -> list[str]:
    """LaTeX of the terms of a sum, each with its sign, for breaking a long display."""
    terms = sp.Add.make_args(expr)
    out = []
    for k, term in enumerate(terms):
        tex = sp.latex(term)
        if k == 0:
            out.append(tex)
        elif tex.startswith("-"):
            out.append("- " + tex[1:])
        else:
            out.append("+ " + tex)
    return out


def _latex_row(expr) -> str:
    if isinstance(expr, sp.core.relational.Relational):
        rel = {"==": "=", "<": "<", "<=": r"\le", ">": ">", ">=": r"\ge", "!=": r"\ne"}[expr.rel_op]
        lhs, rhs = sp.latex(expr.lhs), sp.latex(expr.rhs)
        if _width(lhs) + _width(rhs) > DISPLAY_WIDTH and isinstance(expr.rhs, sp.Add):
            terms = _split_sum(expr.rhs)
            lines, cur = [], terms[0]
            for term in terms[1:]:
                if _width(cur) + _width(term) > DISPLAY_WIDTH - 8:
                    lines.append(cur)
                    cur = term
                else:
                    cur = f"{cur} {term}"
            lines.append(cur)
            return f"{lhs} &{rel} {lines[0]}" + "".join(f" \\\\\n&\\qquad {ln}" for ln in lines[1:])
        return f"{lhs} &{rel} {rhs}"
    if isinstance(expr, sp.And):
        return r" \\ ".join(_latex_row(a) for a in expr.args)
    return f"&{sp.latex(expr)}"


def latex_display(expr) -> str:
    rows = expr if isinstance(expr, (list, tuple)) else [expr]
    return "\\begin{align*}\n" + " \\\\\n".join(_latex_row(e) for e in rows) + "\n\\end{align*}"


def derivation_latex(d: Derivation, *, cite: bool = False) -> str:
    """A LaTeX fragment: section heading, source, assumptions, steps, result, exact checks, references."""
    lines = [f"\\subsection*{{{latex_text(d.title)}}}"]
    refs = [k for k in d.references]
    if d.source or refs:
        src = latex_text(d.source) if d.source else ""
        if cite and refs:
            src = (src + " " if src else "") + "\\cite{" + ",".join(refs) + "}"
        lines.append(f"\\noindent\\textit{{Source:}} {src}\n")
    if d.assumptions:
        lines.append("\\paragraph{Assumptions.}")
        lines.append("\\begin{itemize}")
        lines += [f"\\item {latex_text(a)}" for a in d.assumptions]
        lines.append("\\end{itemize}")
    for i, st in enumerate(d.steps, 1):
        lines.append(f"\\paragraph{{Step {i}.}} {latex_text(st.text)}")
        if st.expr is not None:
            lines.append(latex_display(st.expr))
    if d.result is not None:
        lines.append("\\paragraph{Result.}")
        lines.append(latex_display(d.result))
    if d.scope:
        lines.append(f"\\paragraph{{Scope.}} {latex_text(d.scope)}")
    if d.checks:
        lines.append("\\paragraph{Exact checks.} Each statement below was proved by sympy with the method named "
                     "(\\texttt{expand}, \\texttt{cancel}, \\texttt{simplify}: the difference of the two sides "
                     "reduces to $0$; \\texttt{solve}: the solution set; \\texttt{limit}, \\texttt{assumptions}: "
                     "sympy's limits and sign inference).")
        lines.append("\\begin{enumerate}")
        for name, ok in d.checks.items():
            method = d.check_methods.get(name, "simplify")
            verdict = "holds" if ok else "\\textbf{FAILS}"
            lines.append(f"\\item {latex_text(name)} \\hfill {verdict} (\\texttt{{{method}}})")
        lines.append("\\end{enumerate}")
    if refs and not cite:
        lines.append("\\paragraph{References.}")
        lines.append("\\begin{itemize}")
        lines += [f"\\item[{{[{k}]}}] {latex_text(bibliography_line(k, latex=True))}" for k in refs]
        lines.append("\\end{itemize}")
    return "\n".join(lines) + "\n"


def latex_document(derivations: Iterable[Derivation], *, title: str = "Derivations") -> str:
    ds = list(derivations)
    body = "\n".join(derivation_latex(d, cite=True) for d in ds)
    keys = []
    for d in ds:
        keys += [k for k in d.references if k not in keys]
    bib = ""
    if keys:
        bib = "\\begin{thebibliography}{9}\n" + "\n".join(
            f"\\bibitem{{{k}}} {latex_text(bibliography_line(k, latex=True))}" for k in keys) + "\n\\end{thebibliography}\n"
    return (f"{PREAMBLE}\\title{{{latex_text(title)}}}\n\\author{{dmf-verify}}\n\\date{{}}\n\\begin{{document}}\n\\maketitle\n{body}\n"
            f"{bib}\\end{{document}}\n")


def _pretty(expr) -> str:
    rows = expr if isinstance(expr, (list, tuple)) else [expr]
    return "\n\n".join(sp.pretty(e, use_unicode=True, wrap_line=False) for e in rows)


def _indent(s: str, pad: str = "    ") -> str:
    return "\n".join(pad + line if line.strip() else "" for line in s.splitlines())


def _wrap(s: str, pad: str = "") -> str:
    return textwrap.fill(s, width=WRAP, initial_indent=pad, subsequent_indent=pad, break_long_words=False,
                         break_on_hyphens=False)


def derivation_text(d: Derivation) -> str:
    title = latex_to_text(d.title)
    out = [title, "=" * len(title)]
    if d.source:
        out.append(_wrap("Source: " + latex_to_text(d.source)))
    if d.assumptions:
        out.append("Assumptions:")
        out += [_wrap("- " + latex_to_text(a), "  ").replace("  - ", "- ", 1) for a in d.assumptions]
    for i, st in enumerate(d.steps, 1):
        out.append("")
        out.append(_wrap(f"Step {i}. {latex_to_text(st.text)}"))
        if st.expr is not None:
            out.append("")
            out.append(_indent(_pretty(st.expr)))
    if d.result is not None:
        out += ["", "Result:", "", _indent(_pretty(d.result))]
    if d.scope:
        out += ["", _wrap("Scope: " + latex_to_text(d.scope))]
    if d.checks:
        out += ["", ("Exact checks (proved by sympy with the method named; expand/cancel/simplify: the difference "
                     "of the two sides reduces to 0):")]
        for name, ok in d.checks.items():
            method = d.check_methods.get(name, "simplify")
            out.append(_wrap(f"[{'ok' if ok else 'FAILS'}] {latex_to_text(name)} ({method})", "  ")
                       .replace("  [", "[", 1))
    if d.references:
        out += ["", "References:"]
        out += [_wrap(f"[{k}] {bibliography_line(k)}") for k in d.references]
    return "\n".join(out) + "\n"


def render(derivation: Derivation, fmt: str = "text") -> str:
    if fmt == "latex":
        return derivation.to_latex()
    if fmt == "latex-document":
        return latex_document([derivation], title=derivation.title)
    if fmt == "text":
        return derivation.to_text()
    from dmf_verify.errors import InvalidArgument

    raise InvalidArgument(f"format must be 'latex', 'latex-document' or 'text', got {fmt!r}")
