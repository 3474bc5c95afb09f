"""``dmf-verify report``: every claim's statement, derivation and measured verification table.

    dmf-verify report --format latex|markdown --out FILE [ID ...] [--seed N[,N...]] [--slow] [--no-run]

The LaTeX output is a standalone document (article class, amsmath/amssymb/geometry/longtable,
all in Debian's ``texlive-latex-base``) that compiles with ``pdflatex``; non-ASCII characters
in prose are declared for pdflatex (``\\DeclareUnicodeCharacter``). The Markdown output writes
math as ``$...$`` (inline) and ``$$...$$`` (display), as GitHub and most renderers expect.
"""

from __future__ import annotations

import datetime as _dt
import math
import sys

FORMATS = ("latex", "markdown")

# Unicode characters that may appear in prose, with pdflatex replacements (used in the preamble).
_UNICODE_TEX = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "η": r"\eta",
    "θ": r"\theta", "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu", "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma",
    "τ": r"\tau", "φ": r"\varphi", "ϕ": r"\phi", "ψ": r"\psi", "ω": r"\omega", "Δ": r"\Delta", "Σ": r"\Sigma",
    "Φ": r"\Phi", "Ω": r"\Omega", "Λ": r"\Lambda", "ℓ": r"\ell", "∇": r"\nabla", "∂": r"\partial",
    "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "≈": r"\approx", "∼": r"\sim", "×": r"\times", "·": r"\cdot",
    "⊙": r"\odot", "⊗": r"\otimes", "→": r"\to", "←": r"\leftarrow", "⇒": r"\Rightarrow", "∞": r"\infty",
    "∈": r"\in", "∑": r"\sum", "∫": r"\int", "√": r"\surd", "±": r"\pm", "∓": r"\mp", "⪰": r"\succeq",
    "ᵀ": r"^{\top}", "⁻": r"^{-}", "¹": r"^{1}", "²": r"^{2}", "³": r"^{3}", "₀": r"_{0}", "₁": r"_{1}",
    "₂": r"_{2}", "ᵢ": r"_{i}", "ⱼ": r"_{j}", "∘": r"\circ", "⟨": r"\langle", "⟩": r"\rangle", "‖": r"\|",
    "…": r"\dots", "⋯": r"\cdots", "−": r"-",
}
_UNICODE_TEXT = {"–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "é": r"\'e", "ö": r'\"o',
                 "ü": r'\"u', "ä": r'\"a', "§": r"\S{}", " ": "~"}

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb}
\usepackage[margin=2.2cm]{geometry}
\usepackage{longtable}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{4pt}
"""


# --------------------------------------------------------------------------------------------
# escaping
# --------------------------------------------------------------------------------------------
_TEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "%": r"\%",
                "#": r"\#", "_": r"\_", "^": r"\^{}", "~": r"\~{}", "<": r"$<$", ">": r"$>$", "|": r"$|$"}


def tex_escape(s: str) -> str:
    """Escape plain prose for LaTeX text mode (no math is kept: every special is literal)."""
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in str(s))


def tex_prose(s: str) -> str:
    """Escape prose for LaTeX, keeping ``$...$`` math spans as they are (balanced $ only)."""
    s = str(s)
    if s.count("$") % 2:
        return tex_escape(s)
    parts = s.split("$")
    return "$".join(p if i % 2 else tex_escape(p) for i, p in enumerate(parts))


def unicode_declarations(doc: str) -> str:
    """``\\DeclareUnicodeCharacter`` lines for every non-ASCII character of ``doc``."""
    out = []
    for ch in sorted({c for c in doc if ord(c) > 127}):
        if ch in _UNICODE_TEX:
            rep = rf"\ensuremath{{{_UNICODE_TEX[ch]}}}"
        elif ch in _UNICODE_TEXT:
            rep = _UNICODE_TEXT[ch]
        else:
            rep = rf"\textnormal{{[U+{ord(ch):04X}]}}"
        out.append(rf"\DeclareUnicodeCharacter{{{ord(ch):04X}}}{{{rep}}}")
    return "\n".join(out) + ("\n" if out else "")


# Control characters that a LaTeX command in a non-raw Python string turns into ("\frac" -> form
# feed + "rac", "\beta" -> backspace + "eta", "\tau" -> tab + "au", ...): put the backslash back.
_BROKEN_ESCAPES = {"\a": r"\a", "\b": r"\b", "\t": r"\t", "\v": r"\v", "\f": r"\f", "\r": r"\r"}


def repair_escapes(text: str) -> str:
    """Undo non-raw-string accidents in LaTeX source (tabs and control characters -> \\letter)."""
    return "".join(_BROKEN_ESCAPES.get(ch, ch) for ch in text)


def md_cell(s) -> str:
    return str(s).replace("|", r"\|").replace("\n", " ")


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return f"{x:.2e}"


# --------------------------------------------------------------------------------------------
# collecting
# --------------------------------------------------------------------------------------------
def collect(claims, seeds, *, run: bool = True, progress=None) -> list[dict]:
    """For each claim: the claim, its check results (one per seed) and its derivation (or error)."""
    out = []
    for c in claims:
        entry = {"claim": c, "results": [], "derivation": None, "derivation_error": None}
        if run:
            for s in (seeds or [None]):
                r = c.check(seed=s)
                entry["results"].append(r)
                if progress:
                    progress(f"{c.id:42s} seed {r.seed:<6d} {r.status:14s} {r.seconds:6.2f}s")
        if c.derive is not None:
            try:
                entry["derivation"] = c.derive()
            except Exception as exc:  # reported in the document, never silently dropped
                entry["derivation_error"] = f"{type(exc).__name__}: {exc}"
        out.append(entry)
    return out


# --------------------------------------------------------------------------------------------
# LaTeX
# --------------------------------------------------------------------------------------------
def _latex_claim(e: dict) -> str:
    c = e["claim"]
    lines = [rf"\section*{{\texttt{{{tex_escape(c.id)}}}}}",
             rf"\textbf{{Source.}} {tex_prose(c.source)}" + (r" \quad\textit{(slow)}" if c.slow else ""), "",
             r"\textbf{Statement.}", r"\[", c.statement.strip(), r"\]",
             rf"\textbf{{Tolerance.}} {_fmt(c.tolerance)} --- {tex_escape(c.tolerance_reason)}", "",
             rf"\textbf{{Negative control.}} {tex_escape(c.control_description)}", ""]
    if c.notes:
        lines += [rf"\textbf{{Notes.}} {tex_escape(c.notes)}", ""]
    if e["results"]:
        lines += [r"\textbf{Verification.}", "", r"\begin{tabular}{rlllllr}",
                  r"seed & status & error & tolerance & control error & margin & time (s) \\ \hline"]
        for r in e["results"]:
            lines.append(f"{r.seed} & {tex_escape(r.status)} & {_fmt(r.error)} & {_fmt(r.tolerance)} & "
                         f"{_fmt(r.control_error)} & {_fmt(r.margin)} & {r.seconds:.2f} \\\\")
        lines.append(r"\end{tabular}")
        lines.append("")
        for r in e["results"]:
            if r.message:
                lines += [rf"\textit{{Seed {r.seed}:}} \texttt{{{tex_escape(r.message.strip().splitlines()[0])}}}", ""]
    if e["derivation"] is not None:
        d = e["derivation"]
        body = d.to_latex().replace(r"\subsection*{", r"\subsection*{Derivation: ", 1)
        lines += [body, rf"\textit{{All exact checks hold: {'yes' if d.verified else 'NO'}.}}", ""]
    elif e["derivation_error"]:
        lines += [rf"\textit{{Derivation failed: {tex_escape(e['derivation_error'])}}}", ""]
    else:
        lines += [r"\textit{No symbolic derivation for this claim.}", ""]
    return "\n".join(lines)


def to_latex(entries: list[dict], *, title: str, versions: dict, generated: str) -> str:
    parts = [rf"\title{{{tex_escape(title)}}}", rf"\date{{{tex_escape(generated)}}}", r"\begin{document}",
             r"\maketitle", r"\section*{Versions}", r"\begin{tabular}{ll}"]
    parts += [rf"{tex_escape(k)} & {tex_escape(v)} \\" for k, v in versions.items()]
    parts += [r"\end{tabular}", "", r"\section*{Summary}", r"{\small", r"\begin{longtable}{llllllr}",
              r"claim & status & error & tolerance & control & margin & seed \\ \hline \endhead"]
    for e in entries:
        c = e["claim"]
        for r in e["results"] or [None]:
            if r is None:
                parts.append(rf"\texttt{{{tex_escape(c.id)}}} & not run & - & {_fmt(c.tolerance)} & - & - & - \\")
            else:
                parts.append(rf"\texttt{{{tex_escape(c.id)}}} & {tex_escape(r.status)} & {_fmt(r.error)} & "
                             rf"{_fmt(r.tolerance)} & {_fmt(r.control_error)} & {_fmt(r.margin)} & {r.seed} \\")
    parts += [r"\end{longtable}", "}", ""]
    parts += [_latex_claim(e) for e in entries]
    parts.append(r"\end{document}")
    body = repair_escapes("\n".join(parts) + "\n")
    return PREAMBLE + unicode_declarations(body) + body


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------
def _md_expr(expr) -> str:
    import sympy as sp

    if isinstance(expr, (list, tuple)):
        rows = [_md_expr_row(e) for e in expr]
        return "$$\n\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n$$"
    if isinstance(expr, sp.Equality):
        return "$$\n\\begin{aligned}\n" + _md_expr_row(expr) + "\n\\end{aligned}\n$$"
    return "$$\n" + sp.latex(expr) + "\n$$"


def _md_expr_row(e) -> str:
    import sympy as sp

    if isinstance(e, sp.Equality):
        return f"{sp.latex(e.lhs)} &= {sp.latex(e.rhs)}"
    return sp.latex(e)


def markdown_derivation(d) -> str:
    out = [f"#### Derivation: {d.title}", ""]
    if d.assumptions:
        out += ["**Assumptions.** " + " ".join(d.assumptions), ""]
    for i, st in enumerate(d.steps, 1):
        out += [f"**Step {i}.** {st.text}", ""]
        if st.expr is not None:
            out += [_md_expr(st.expr), ""]
    if d.result is not None:
        out += ["**Result.**", "", _md_expr(d.result), ""]
    if d.checks:
        out += ["**Exact checks.**", ""]
        out += [f"- {name}: {'holds' if ok else '**FAILS**'}" for name, ok in d.checks.items()]
        out.append("")
    return "\n".join(out)


def _md_claim(e: dict) -> str:
    c = e["claim"]
    out = [f"## `{c.id}`", "", f"**Source.** {c.source}" + (" *(slow)*" if c.slow else ""), "",
           "**Statement.**", "", "$$", c.statement.strip(), "$$", "",
           f"**Tolerance.** {_fmt(c.tolerance)} — {c.tolerance_reason}", "",
           f"**Negative control.** {c.control_description}", ""]
    if c.notes:
        out += [f"**Notes.** {c.notes}", ""]
    if e["results"]:
        out += ["### Verification", "", "| seed | status | error | tolerance | control error | margin | time (s) |",
                "|---:|---|---:|---:|---:|---:|---:|"]
        for r in e["results"]:
            out.append(f"| {r.seed} | {r.status} | {_fmt(r.error)} | {_fmt(r.tolerance)} | {_fmt(r.control_error)} "
                       f"| {_fmt(r.margin)} | {r.seconds:.2f} |")
        out.append("")
        for r in e["results"]:
            if r.message:
                out += [f"*Seed {r.seed}:* `{r.message.strip().splitlines()[0]}`", ""]
    if e["derivation"] is not None:
        out += [markdown_derivation(e["derivation"]),
                f"*All exact checks hold: {'yes' if e['derivation'].verified else 'NO'}.*", ""]
    elif e["derivation_error"]:
        out += [f"*Derivation failed: {e['derivation_error']}*", ""]
    else:
        out += ["*No symbolic derivation for this claim.*", ""]
    return "\n".join(out)


def to_markdown(entries: list[dict], *, title: str, versions: dict, generated: str) -> str:
    out = [f"# {title}", "", f"Generated {generated}.", "", "**Versions:** " +
           ", ".join(f"{k} {v}" for k, v in versions.items()), "", "## Summary", "",
           "| claim | status | error | tolerance | control | margin | seed |", "|---|---|---:|---:|---:|---:|---:|"]
    for e in entries:
        c = e["claim"]
        for r in e["results"] or [None]:
            if r is None:
                out.append(f"| `{c.id}` | not run | - | {_fmt(c.tolerance)} | - | - | - |")
            else:
                out.append(f"| `{c.id}` | {r.status} | {_fmt(r.error)} | {_fmt(r.tolerance)} | "
                           f"{_fmt(r.control_error)} | {_fmt(r.margin)} | {r.seed} |")
    out.append("")
    out += [_md_claim(e) for e in entries]
    return repair_escapes("\n".join(out) + "\n")


# --------------------------------------------------------------------------------------------
# command
# --------------------------------------------------------------------------------------------
def build_report(ids=None, *, fmt: str = "latex", seeds=None, include_slow: bool = False, run: bool = True,
                 title: str = "dmf-verify: claims, derivations and verification", progress=None) -> str:
    """The report as a string (see the module docstring)."""
    from dmf_verify.checks import registry
    from dmf_verify.checks.claim import versions
    from dmf_verify.errors import InvalidArgument

    if fmt not in FORMATS:
        raise InvalidArgument(f"format must be one of {FORMATS}, got {fmt!r}")
    claims = registry.select(ids, include_slow=include_slow)
    entries = collect(claims, seeds, run=run, progress=progress)
    generated = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC") + \
        ("" if run else " (claims not run: --no-run)")
    render = to_latex if fmt == "latex" else to_markdown
    return render(entries, title=title, versions=versions(), generated=generated)


def _cmd(args) -> int:
    progress = (lambda s: print(s, file=sys.stderr, flush=True)) if not args.quiet else None
    from dmf_verify.checks import registry

    left_out = 0 if args.slow else registry.count_slow(args.ids)
    if left_out:
        print(f"{left_out} slow claim(s) not in the report (add --slow, or name them by their exact id)",
              file=sys.stderr)
    text = build_report(args.ids, fmt=args.format, seeds=args.seed, include_slow=args.slow, run=not args.no_run,
                        title=args.title, progress=progress)
    if args.out in (None, "-"):
        sys.stdout.write(text)
    else:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {args.out} ({len(text)} characters)", file=sys.stderr)
    return 0


def add(sub) -> None:
    from dmf_verify.checks.cli import comma_list, output_file, seed_option

    s = sub.add_parser("report", help="write every claim's statement, derivation and verification table",
                       description="Write a standalone LaTeX or Markdown report of the claims: statement, "
                                   "symbolic derivation and measured verification table.")
    s.add_argument("ids", nargs="*", metavar="ID",
                   help="claim ids or prefixes ending in '*' (default: all non-slow claims)")
    s.add_argument("--format", choices=FORMATS, default="latex",
                   help="latex (default: a standalone document for pdflatex) or markdown ($...$ math)")
    s.add_argument("--out", type=output_file, default=None, metavar="FILE",
                   help="the file to write (default, or '-': standard output)")
    s.add_argument("--seed", type=comma_list(seed_option), action="extend", default=None, metavar="N[,N...]",
                   help="seed(s) to verify with, comma-separated or repeated (default: each claim's own)")
    s.add_argument("--slow", action="store_true", help="include claims marked slow")
    s.add_argument("--no-run", action="store_true", help="statements and derivations only (no verification)")
    s.add_argument("--title", default="dmf-verify: claims, derivations and verification",
                   help="the document's title")
    s.add_argument("--quiet", "-q", action="store_true", help="no progress lines on standard error")
    s.set_defaults(func=_cmd)
