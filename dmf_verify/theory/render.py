"""Render derivations as a standalone LaTeX document or plain text."""

from __future__ import annotations

from collections.abc import Iterable

from dmf_verify.theory.derivation import Derivation

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage{amsmath,amssymb}
\usepackage[margin=2.2cm]{geometry}
\allowdisplaybreaks
"""


def latex_document(derivations: Iterable[Derivation], *, title: str = "Derivations") -> str:
    body = "\n".join(d.to_latex() for d in derivations)
    return f"{PREAMBLE}\\title{{{title}}}\n\\date{{}}\n\\begin{{document}}\n\\maketitle\n{body}\n\\end{{document}}\n"


def render(derivation: Derivation, fmt: str = "text") -> str:
    if fmt == "latex":
        return derivation.to_latex()
    if fmt == "latex-document":
        return latex_document([derivation], title=derivation.title)
    if fmt == "text":
        return derivation.to_text()
    from dmf_verify.errors import InvalidArgument

    raise InvalidArgument(f"format must be 'latex', 'latex-document' or 'text', got {fmt!r}")
