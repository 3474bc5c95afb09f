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

from dmf_verify.theory.derivation import Derivation

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
    GU_, GV_ = sp.MatrixSymbol("G_U", n1, k), sp.MatrixSymbol("G_V", n2, k)
    d = Derivation(
        "Implicit balancing: $U^\\top U - V^\\top V$ is conserved by gradient flow and changed by exactly "
        "$\\eta^2(G_U^\\top G_U - G_V^\\top G_V)$ by one gradient-descent step",
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
    d.prove_zero("chain rule: d/dU [1/2||UV^T - B||^2] = G V with G = UV^T - B", zero(grad_u - gl * v), method="expand")
    d.prove_zero("chain rule: d/dV [1/2||UV^T - B||^2] = G^T U", zero(grad_v - gl.T * u), method="expand")
    d.prove_zero("U^T G_U = G_V^T V", zero(u.T * gu - gv.T * v), method="expand")
    d.step("Key identity: $U^\\top G_U = U^\\top G V = (G^\\top U)^\\top V = G_V^\\top V$.",
           sp.Eq(U_.T * GU_, GV_.T * V_))
    flow = -(gu.T * u + u.T * gu) + (gv.T * v + v.T * gv)
    d.prove_zero("d/dt (U^T U - V^T V) = 0 under U' = -G_U, V' = -G_V", zero(flow), method="expand")
    t = sp.Symbol("t")
    d.step("Gradient flow: $\\frac{d}{dt}(U^\\top U - V^\\top V) = -(G_U^\\top U + U^\\top G_U) + (G_V^\\top V + V^\\top G_V) = 0$ "
           "(every entry expands to the zero polynomial).",
           sp.Eq(sp.Derivative(sp.Function("D")(t), t), 0))
    un, vn = u - eta * gu, v - eta * gv
    change = (un.T * un - vn.T * vn) - (u.T * u - v.T * v)
    predicted = eta**2 * (gu.T * gu - gv.T * gv)
    d.prove_zero("GD step: Delta(U^T U - V^T V) = eta^2 (G_U^T G_U - G_V^T G_V)", zero(change - predicted), method="expand")
    d.step("Gradient descent $U^+ = U - \\eta G_U$, $V^+ = V - \\eta G_V$: the terms linear in $\\eta$ cancel by the key "
           "identity, leaving exactly the $\\eta^2$ term.")
    un2, vn2 = u - eu * gu, v - ev * gv
    change2 = (un2.T * un2 - vn2.T * vn2) - (u.T * u - v.T * v)
    predicted2 = eu**2 * gu.T * gu - ev**2 * gv.T * gv - (eu - ev) * (u.T * gu + gu.T * u)
    d.prove_zero("unequal steps: Delta = eta_U^2 G_U^T G_U - eta_V^2 G_V^T G_V - (eta_U - eta_V)(U^T G_U + G_U^T U)",
                 zero(change2 - predicted2), method="expand")
    linear = zero(u.T * gu + gu.T * u)
    d.checks["control: the surviving linear term U^T G_U + G_U^T U is not identically zero"] = any(e != 0 for e in linear)
    d.step("Control: with unequal steps $\\eta_U \\ne \\eta_V$ the linear term $-(\\eta_U - \\eta_V)(U^\\top G_U + G_U^\\top U)$ "
           "survives, so the exact $\\eta^2$ bookkeeping needs the same step for both factors.")
    d.result = sp.Eq(sp.MatrixSymbol("D^+", k, k) - sp.MatrixSymbol("D", k, k),
                     eta**2 * (GU_.T * GU_ - GV_.T * GV_))
    return d
