"""Balancedness (Arora et al. 2019, eq. 5; docs/theory.md), claims B1 and B2, derived in explicit coordinates.

B1: under gradient flow d/dt (W_{j+1}^T W_{j+1} - W_j W_j^T) = 0.
B2: one GD step changes it by exactly eta^2 (G_{j+1}^T G_{j+1} - G_j G_j^T), G_j = dphi/dW_j.
Both are checked by expanding polynomials in the entries of explicit factors (depth 3,
non-square widths d = (2, 3, 2, 2)) and of a generic gradient matrix G = grad l(W).
"""

from __future__ import annotations

import sympy as sp

from dmf_verify.theory.derivation import Derivation

DIMS = (2, 3, 2, 2)  # d_0, d_1, d_2, d_3


def _factors(dims):
    fs = []
    for j in range(1, len(dims)):
        fs.append(sp.Matrix(dims[j], dims[j - 1], lambda r, c, j=j: sp.Symbol(f"w{j}_{r + 1}{c + 1}", real=True)))
    return fs


def factor_gradients(fs, g):
    """G_j = (W_N..W_{j+1})^T G (W_{j-1}..W_1)^T for sympy factors fs = [W_1..W_N] and gradient g."""
    n = len(fs)
    out = []
    for j in range(n):
        left = sp.eye(fs[-1].shape[0])
        for k in range(n - 1, j, -1):
            left = left * fs[k]
        right = sp.eye(fs[0].shape[1])
        for k in range(0, j):
            right = fs[k] * right
        out.append(left.T * g * right.T)
    return out


def balancedness(dims=DIMS) -> Derivation:
    fs = _factors(dims)
    g = sp.Matrix(dims[-1], dims[0], lambda r, c: sp.Symbol(f"g_{r + 1}{c + 1}", real=True))
    grads = factor_gradients(fs, g)
    eta = sp.Symbol("eta", positive=True)
    d = Derivation(
        "Balancedness is conserved by gradient flow; gradient descent changes it by an exact $\\eta^2$ term",
        assumptions=[f"Depth {len(fs)}, widths $d = {tuple(dims)}$, entries of every factor and of "
                     "$G = \\nabla\\ell(W)$ independent symbols (so the identities hold for every loss)."],
    )
    d.step("Gradient flow: $\\dot W_j = -G_j$ with $G_j = (W_N\\cdots W_{j+1})^\\top G (W_{j-1}\\cdots W_1)^\\top$. "
           "Key identities: $W_{j+1}^\\top G_{j+1} = G_j W_j^\\top$ ($= (W_N\\cdots W_{j+1})^\\top G (W_j\\cdots W_1)^\\top$).")
    for j in range(len(fs) - 1):
        lhs = fs[j + 1].T * grads[j + 1]
        rhs = grads[j] * fs[j].T
        d.prove_zero(f"W_{j + 2}^T G_{j + 2} = G_{j + 1} W_{j + 1}^T", (lhs - rhs).applyfunc(sp.expand), method="expand")
    for j in range(len(fs) - 1):
        dW1, dW0 = -grads[j + 1], -grads[j]
        deriv = dW1.T * fs[j + 1] + fs[j + 1].T * dW1 - dW0 * fs[j].T - fs[j] * dW0.T
        d.prove_zero(f"d/dt (W_{j + 2}^T W_{j + 2} - W_{j + 1} W_{j + 1}^T) = 0", deriv.applyfunc(sp.expand), method="expand")
    D = sp.Function("D")
    d.step("Hence $\\frac{d}{dt}(W_{j+1}^\\top W_{j+1} - W_j W_j^\\top) = -G_{j+1}^\\top W_{j+1} - W_{j+1}^\\top G_{j+1} "
           "+ G_j W_j^\\top + W_j G_j^\\top = 0$ (expanded in coordinates: every entry is the zero polynomial).",
           sp.Eq(sp.Derivative(D(sp.Symbol("t")), sp.Symbol("t")), 0))
    for j in range(len(fs) - 1):
        a1, a0 = fs[j + 1] - eta * grads[j + 1], fs[j] - eta * grads[j]
        change = (a1.T * a1 - a0 * a0.T) - (fs[j + 1].T * fs[j + 1] - fs[j] * fs[j].T)
        predicted = eta**2 * (grads[j + 1].T * grads[j + 1] - grads[j] * grads[j].T)
        d.prove_zero(f"GD step: Delta D_{j + 1} = eta^2 (G_{j + 2}^T G_{j + 2} - G_{j + 1} G_{j + 1}^T)",
                     (change - predicted).applyfunc(sp.expand), method="expand")
    d.step("Gradient descent: with $W_j^+ = W_j - \\eta G_j$ the terms linear in $\\eta$ cancel by the same identities, "
           "leaving exactly the $\\eta^2$ term (expanded in coordinates).")
    Dj = sp.Symbol("D_j")
    d.result = sp.Eq(sp.Symbol("D_j^{+}") - Dj,
                     sp.Symbol("eta") ** 2 * (sp.Symbol("G_{j+1}^T G_{j+1}") - sp.Symbol("G_j G_j^T")))
    return d
