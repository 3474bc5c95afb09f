"""Implicit balancing for asymmetric factorization X = U V^T (Soltanolkotabi et al. 2023, abstract; docs/theory.md).

With G = grad l(U V^T) (any loss on X; for sensing G = (1/m) A^*(A(U V^T) - y)) the factor
gradients are G_U = G V and G_V = G^T U. Claims, proved in explicit coordinates (every entry of
U, V and G an independent symbol, so they hold for every loss):

* flow: d/dt (U^T U - V^T V) = 0 under U' = -G_U, V' = -G_V, because U^T G_U = U^T G V = G_V^T V;
* GD:   (U - eta G_U)^T (U - eta G_U) - (V - eta G_V)^T (V - eta G_V) - (U^T U - V^T V)
        = eta^2 (G_U^T G_U - G_V^T G_V)      (the O(eta) terms cancel by the same identity);
* control: with different steps eta_U != eta_V the linear term -(eta_U - eta_V)(U^T G_U + G_U^T U)
  survives (proved to be exactly that, and not zero).
"""

from __future__ import annotations

import sympy as sp

from dmf_verify.theory.derivation import Derivation, MatLabel

SHAPE = (3, 2, 2)  # n1, n2, k: rectangular, k = n2 (enough for every entry pattern)


def _mat(name: str, rows: int, cols: int) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def zero(e):
    return e.applyfunc(sp.expand)


def implicit_balancing(shape=SHAPE) -> Derivation:
    n1, n2, k = shape
    u, v, g = _mat("u", n1, k), _mat("v", n2, k), _mat("g", n1, n2)
    gu, gv = g * v, g.T * u
    eta, eu, ev = sp.symbols("eta eta_U eta_V", positive=True)
    U_, V_ = sp.MatrixSymbol("U", n1, k), sp.MatrixSymbol("V", n2, k)
    GU_, GV_ = MatLabel("GU", n1, k, latex="G_U"), MatLabel("GV", n2, k, latex="G_V")
    d = Derivation(
        "Implicit balancing: $U^\\top U - V^\\top V$ is conserved by gradient flow and changed by exactly "
        "$\\eta^2(G_U^\\top G_U - G_V^\\top G_V)$ by one gradient-descent step",
        source="Soltanolkotabi, St\u00f6ger & Xie 2023, implicit balancing (Section 1)",
        references=("soltanolkotabi2023",),
        scope=(f"Checked by polynomial expansion for $n_1 = {n1}$, $n_2 = {n2}$, $k = {k}$ with symbolic entries; "
               "the argument uses only $U^\\top G_U = G_V^\\top V$, valid in every size."),
        assumptions=[(f"$U \\in \\mathbb{{R}}^{{{n1}\\times{k}}}$, $V \\in \\mathbb{{R}}^{{{n2}\\times{k}}}$, "
                     f"$G = \\nabla\\ell(UV^\\top) \\in \\mathbb{{R}}^{{{n1}\\times{n2}}}$ with independent symbolic "
                     "entries (the identities hold for every loss $\\ell$ on $X = UV^\\top$).")],
    )
    d.step("Chain rule: $\\nabla_U f = G V =: G_U$ and $\\nabla_V f = G^\\top U =: G_V$, with $G = \\nabla\\ell(UV^\\top)$; "
           "for sensing $G = \\frac1m\\sum_i(\\langle A_i, UV^\\top\\rangle - y_i)A_i$.")
    # chain rule itself, checked on the sensing-type loss l = 1/2 ||U V^T - B||^2 contracted with a symbol matrix
    b = _mat("b", n1, n2)
    loss = sp.Rational(1, 2) * sum((e) ** 2 for e in (u * v.T - b))
    gl = u * v.T - b
    grad_u = sp.Matrix(n1, k, lambda i, j: sp.diff(loss, u[i, j]))
    grad_v = sp.Matrix(n2, k, lambda i, j: sp.diff(loss, v[i, j]))
    d.prove_zero("chain rule: $\\nabla_U \\tfrac12\\|UV^\\top - B\\|_F^2 = GV$ with $G = UV^\\top - B$", zero(grad_u - gl * v), method="expand")
    d.prove_zero("chain rule: $\\nabla_V \\tfrac12\\|UV^\\top - B\\|_F^2 = G^\\top U$", zero(grad_v - gl.T * u), method="expand")
    d.prove_zero("$U^\\top G_U = G_V^\\top V$", zero(u.T * gu - gv.T * v), method="expand")
    d.step("Key identity: $U^\\top G_U = U^\\top G V = (G^\\top U)^\\top V = G_V^\\top V$.",
           d.equation(U_.T * GU_, GV_.T * V_))
    flow = -(gu.T * u + u.T * gu) + (gv.T * v + v.T * gv)
    d.prove_zero("$\\frac{d}{dt}(U^\\top U - V^\\top V) = 0$ under $\\dot U = -G_U$, $\\dot V = -G_V$", zero(flow), method="expand")
    t = sp.Symbol("t")
    d.step("Gradient flow: $\\frac{d}{dt}(U^\\top U - V^\\top V) = -(G_U^\\top U + U^\\top G_U) + (G_V^\\top V + V^\\top G_V) = 0$ "
           "(every entry expands to the zero polynomial).",
           d.equation(sp.Derivative(sp.Function("D")(t), t), 0))
    un, vn = u - eta * gu, v - eta * gv
    change = ((un.T * un - vn.T * vn) - (u.T * u - v.T * v)).applyfunc(sp.expand)
    c1 = change.applyfunc(lambda e: e.coeff(eta, 1))
    c2 = change.applyfunc(lambda e: e.coeff(eta, 2))
    d.prove_zero("GD step: $\\Delta(U^\\top U - V^\\top V)$ is a polynomial of degree 2 in $\\eta$",
                 zero(change - eta * c1 - eta**2 * c2), method="expand")
    d.prove_zero("GD step: its $\\eta^1$ coefficient vanishes", c1, method="expand")
    d.prove_zero("GD step: its $\\eta^2$ coefficient is $G_U^\\top G_U - G_V^\\top G_V$",
                 zero(c2 - (gu.T * gu - gv.T * gv)), method="expand")
    dD = MatLabel("DeltaD", k, k, latex="\\Delta(U^\\top U - V^\\top V)")
    d.step("Gradient descent $U^+ = U - \\eta G_U$, $V^+ = V - \\eta G_V$: sympy expands the change in powers of "
           "$\\eta$; the linear terms cancel by the key identity and the quadratic one is read off:",
           d.equation(dD, eta**2 * (GU_.T * GU_ - GV_.T * GV_)))
    un2, vn2 = u - eu * gu, v - ev * gv
    change2 = (un2.T * un2 - vn2.T * vn2) - (u.T * u - v.T * v)
    predicted2 = eu**2 * gu.T * gu - ev**2 * gv.T * gv - (eu - ev) * (u.T * gu + gu.T * u)
    d.prove_zero("unequal steps: $\\Delta = \\eta_U^2G_U^\\top G_U - \\eta_V^2G_V^\\top G_V - (\\eta_U - \\eta_V)(U^\\top G_U + G_U^\\top U)$",
                 zero(change2 - predicted2), method="expand")
    linear = zero(u.T * gu + gu.T * u)
    d.record("control: the surviving linear term $U^\\top G_U + G_U^\\top U$ is not identically zero",
             any(e != 0 for e in linear), method="expand")
    d.step("Control: with unequal steps $\\eta_U \\ne \\eta_V$ the linear term $-(\\eta_U - \\eta_V)(U^\\top G_U + G_U^\\top U)$ "
           "survives, so the exact $\\eta^2$ bookkeeping needs the same step for both factors.")
    d.set_result(d.equation(dD, eta**2 * (GU_.T * GU_ - GV_.T * GV_)))
    d.formula("gd_change", (eta, GU_, GV_), eta**2 * (GU_.T * GU_ - GV_.T * GV_),
              "change of U^T U - V^T V after one GD step of size eta, from G_U and G_V")
    return d
