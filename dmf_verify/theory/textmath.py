"""Plain-text rendering of the small LaTeX subset used in derivation prose (``$...$`` math).

Derivations write their prose once, with LaTeX math between ``$`` signs; the LaTeX output uses it
as is, and :func:`latex_to_text` turns it into plain Unicode text for ``dmf-verify derive``'s
text format (no ``$`` and no backslash survive)::

    >>> latex_to_text(r"with $\\sigma_r^2 \\ne 0$ and $U^\\top \\dot U = -F\\odot G$")
    'with σᵣ² ≠ 0 and Uᵀ U̇ = -F⊙ G'
"""

from __future__ import annotations

import re

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}

SYMBOLS = {
    "top": "ᵀ", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "to": "→", "infty": "∞",
    "cdots": "⋯", "ldots": "…", "dots": "…", "sum": "Σ", "prod": "∏", "int": "∫", "partial": "∂", "nabla": "∇",
    "ell": "ℓ", "langle": "⟨", "rangle": "⟩", "odot": "⊙", "otimes": "⊗", "in": "∈", "notin": "∉",
    "times": "×", "cdot": "·", "approx": "≈", "sim": "~", "pm": "±", "mp": "∓", "circ": "∘", "prime": "′",
    "lceil": "⌈", "rceil": "⌉", "lfloor": "⌊", "rfloor": "⌋", "uparrow": "↑", "downarrow": "↓",
    "iff": "⇔", "Rightarrow": "⇒", "Leftarrow": "⇐", "implies": "⇒", "mapsto": "↦", "rightarrow": "→", "leftarrow": "←", "gets": "←",
    "succeq": "⪰", "preceq": "⪯", "succ": "≻", "subset": "⊂", "subseteq": "⊆", "cup": "∪", "cap": "∩",
    "forall": "∀", "exists": "∃", "equiv": "≡", "propto": "∝", "ll": "≪", "gg": "≫", "|": "‖", "{": "{",
    "}": "}", "%": "%", "#": "#", "&": "&", "_": "_", "setminus": "∖", "emptyset": "∅", "star": "⋆",
    "ast": "∗", "dagger": "†", "perp": "⊥", "parallel": "∥", "mid": "|", "colon": ":", "lvert": "|",
    "rvert": "|", "lVert": "‖", "rVert": "‖", "vert": "|", "Vert": "‖", "wedge": "∧", "vee": "∨",
    "neg": "¬", "min": "min", "max": "max", "log": "log", "ln": "ln", "exp": "exp", "sin": "sin",
    "cos": "cos", "det": "det", "lim": "lim", "sup": "sup", "inf": "inf", "tr": "tr", "sgn": "sgn",
}

RELATIONS = {"le", "leq", "ge", "geq", "ne", "neq", "to", "approx", "in", "notin", "iff", "Rightarrow",
             "Leftarrow", "implies", "mapsto", "rightarrow", "succeq", "preceq", "equiv", "propto", "ll", "gg",
             "subset", "subseteq", "sim"}

SPACES = {",": " ", ";": " ", ":": " ", "!": "", " ": " ", "quad": "  ", "qquad": "    ", "enspace": " ",
          "thinspace": " "}
DROP = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "displaystyle",
        "textstyle", "limits", "nolimits"}
FONT = {"mathrm", "mathit", "mathbf", "mathsf", "mathtt", "operatorname", "text", "textrm", "textit", "textbf",
        "emph", "boldsymbol", "mathcal", "mathscr"}
BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼"}

SUPERSCRIPT = dict(zip("0123456789+-=()niTrkjN", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀʳᵏʲᴺ"))
SUBSCRIPT = dict(zip("0123456789+-=()aeijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
ACCENT = {"dot": "\u0307", "ddot": "\u0308", "hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "vec": "\u20d7",
          "overline": "\u0305", "widehat": "\u0302", "widetilde": "\u0303"}


def _group(s: str, i: int) -> tuple[str, int]:
    """The argument starting at s[i]: a {...} group, a \\command, or one character."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s):
        return "", i
    if s[i] == "{":
        depth, j = 0, i
        while j < len(s):
            if s[j] == "{" and (j == 0 or s[j - 1] != "\\"):
                depth += 1
            elif s[j] == "}" and s[j - 1] != "\\":
                depth -= 1
                if depth == 0:
                    return s[i + 1:j], j + 1
            j += 1
        return s[i + 1:], len(s)
    if s[i] == "\\":
        m = re.match(r"\\([A-Za-z]+|.)", s[i:])
        return m.group(0), i + len(m.group(0))
    return s[i], i + 1


def _script(text: str, table: dict, marker: str) -> str:
    if text and all(c in table or c in table.values() for c in text):
        return "".join(table.get(c, c) for c in text)
    if text and all(c in table for c in text):
        return "".join(table[c] for c in text)
    if len(text) == 1:
        return marker + text
    return f"{marker}({text})"


def _math(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", s[i:])
            name = m.group(1)
            i += len(m.group(0))
            if name in SPACES:
                out.append(SPACES[name])
            elif name in DROP:
                continue
            elif name in GREEK:
                out.append(GREEK[name])
            elif name in SYMBOLS:
                out.append(SYMBOLS[name])
            elif name in FONT:
                arg, i = _group(s, i)
                out.append(_math(arg) if name not in ("text", "textrm", "textit", "textbf", "emph") else arg)
            elif name == "mathbb":
                arg, i = _group(s, i)
                out.append(BLACKBOARD.get(arg, arg))
            elif name in ("frac", "tfrac", "dfrac"):
                num, i = _group(s, i)
                den, i = _group(s, i)
                num, den = _math(num), _math(den)
                wrap = lambda x: x if re.fullmatch(r"[\w.′ᵀ⁻¹²³⁰-⁹]+", x) else f"({x})"
                out.append(f"{wrap(num)}/{wrap(den)}")
            elif name == "sqrt":
                arg, i = _group(s, i)
                out.append(f"√({_math(arg)})")
            elif name in ACCENT:
                arg, i = _group(s, i)
                arg = _math(arg)
                out.append(arg[:1] + ACCENT[name] + arg[1:] if len(arg) == 1 else f"{arg}{ACCENT[name]}")
            elif name in ("begin", "end"):
                _arg, i = _group(s, i)
            else:
                out.append(name)
        elif c in "^_":
            arg, i = _group(s, i + 1)
            arg = _math(arg)
            out.append(_script(arg, SUPERSCRIPT if c == "^" else SUBSCRIPT, c))
        elif c in "{}":
            i += 1
        elif c == "~":
            out.append(" ")
            i += 1
        elif c == "&":
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def latex_to_text(s: str) -> str:
    """Plain text for prose with ``$...$`` (or ``$$...$$``) math; prose escapes (\\%, \\&) are undone."""
    parts = re.split(r"\$\$?", s)
    out = []
    for k, part in enumerate(parts):
        if k % 2:
            out.append(_math(part))
        else:
            out.append(re.sub(r"\\([%&#_$])", r"\1", part).replace("~", " ").replace("--", "–"))
    return re.sub(r"  +", " ", "".join(out)).strip()
