"""Balancedness (Arora et al. 2019, eq. 5; docs/theory.md), claims B1 and B2, derived in explicit coordinates.

B1: under gradient flow d/dt (W_{j+1}^T W_{j+1} - W_j W_j^T) = 0.
B2: one GD step changes it by exactly eta^2 (G_{j+1}^T G_{j+1} - G_j G_j^T), G_j = dphi/dW_j.
Both are obtained by expanding polynomials in the entries of explicit factors (depth 3,
non-square widths d = (2, 3, 2, 2)) and of a generic gradient matrix G = grad l(W): the change
of D_j after a step is computed and its coefficients in eta are read off (the result).
"""

from __future__ import annotations

import functools

import sympy as sp

from dmf_verify.theory.derivation import Derivation, MatLabel

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
        for k in range(j):
            right = fs[k] * right
        out.append(left.T * g * right.T)
    return out


@functools.lru_cache(maxsize=2)
def balancedness(dims=DIMS) -> Derivation:
    fs = _factors(dims)
    n = len(fs)
    g = sp.Matrix(dims[-1], dims[0], lambda r, c: sp.Symbol(f"g_{r + 1}{c + 1}", real=True))
    grads = factor_gradients(fs, g)
    eta = sp.Symbol("eta", positive=True)
    d = Derivation(
        "Balancedness is conserved by gradient flow; gradient descent changes it by an exact $\\eta^2$ term",
        source="Arora et al. 2019, eq. 5 (balanced initialization); Arora, Cohen & Hazan 2018, Theorem 1",
        references=("arora2019", "arora2018"),
        assumptions=[(f"Depth {n}, widths $d = {tuple(dims)}$, entries of every factor and of "
                     "$G = \\nabla\\ell(W)$ independent symbols (so the identities hold for every loss).")],
        scope=(f"Checked by polynomial expansion at depth {n} with widths {tuple(dims)} (non-square, narrower and "
               "wider than $\\min(d, d')$); every step uses only the identity "
               "$W_{j+1}^\\top G_{j+1} = G_jW_j^\\top$, which holds at every depth and width."),
    )
    Wj, Wk = MatLabel("Wj", 2, 2, latex="W_j"), MatLabel("Wk", 2, 2, latex="W_{j+1}")
    Gj, Gk = MatLabel("Gj", 2, 2, latex="G_j"), MatLabel("Gk", 2, 2, latex="G_{j+1}")
    d.step("Gradient flow: $\\dot W_j = -G_j$ with $G_j = (W_N\\cdots W_{j+1})^\\top G (W_{j-1}\\cdots W_1)^\\top$. "
           "Key identity (both sides are $(W_N\\cdots W_{j+1})^\\top G (W_j\\cdots W_1)^\\top$):",
           d.equation(Wk.T * Gk, Gj * Wj.T))
    for j in range(n - 1):
        lhs = fs[j + 1].T * grads[j + 1]
        rhs = grads[j] * fs[j].T
        d.prove_zero(f"$W_{j + 2}^\\top G_{j + 2} = G_{j + 1}W_{j + 1}^\\top$", (lhs - rhs).applyfunc(sp.expand),
                     method="expand")
    for j in range(n - 1):
        dW1, dW0 = -grads[j + 1], -grads[j]
        deriv = dW1.T * fs[j + 1] + fs[j + 1].T * dW1 - dW0 * fs[j].T - fs[j] * dW0.T
        d.prove_zero(f"$\\frac{{d}}{{dt}}(W_{j + 2}^\\top W_{j + 2} - W_{j + 1}W_{j + 1}^\\top) = 0$",
                     deriv.applyfunc(sp.expand), method="expand")
    Dm = MatLabel("Ddot", 2, 2, latex="\\dot D_j")
    d.step("Hence, expanded in coordinates (every entry is the zero polynomial):",
           d.equation(Dm, -Gk.T * Wk - Wk.T * Gk + Gj * Wj.T + Wj * Gj.T))
    # one GD step: compute the change of D_j and its coefficients in eta
    coeffs = []
    for j in range(n - 1):
        a1, a0 = fs[j + 1] - eta * grads[j + 1], fs[j] - eta * grads[j]
        change = ((a1.T * a1 - a0 * a0.T) - (fs[j + 1].T * fs[j + 1] - fs[j] * fs[j].T)).applyfunc(sp.expand)
        c1 = change.applyfunc(lambda e: e.coeff(eta, 1))
        c2 = change.applyfunc(lambda e: e.coeff(eta, 2))
        rest = (change - eta * c1 - eta**2 * c2).applyfunc(sp.expand)
        d.prove_zero(f"GD step, $j = {j + 1}$: the change of $D_{j + 1}$ is a polynomial of degree 2 in $\\eta$",
                     rest, method="expand")
        d.prove_zero(f"GD step, $j = {j + 1}$: its $\\eta^1$ coefficient vanishes", c1, method="expand")
        d.prove_zero(f"GD step, $j = {j + 1}$: its $\\eta^2$ coefficient is "
                     f"$G_{j + 2}^\\top G_{j + 2} - G_{j + 1}G_{j + 1}^\\top$",
                     (c2 - (grads[j + 1].T * grads[j + 1] - grads[j] * grads[j].T)).applyfunc(sp.expand), method="expand")
        coeffs.append(c2)
    dD = MatLabel("DeltaD", 2, 2, latex="D_j^+ - D_j")
    d.step("Gradient descent $W_j^+ = W_j - \\eta G_j$: sympy expands $D_j^+ - D_j$, "
           "$D_j = W_{j+1}^\\top W_{j+1} - W_jW_j^\\top$, in powers of $\\eta$; the linear terms cancel by the key "
           "identity and the quadratic one is read off:",
           d.equation(dD, eta**2 * (Gk.T * Gk - Gj * Gj.T)))
    d.set_result(d.equation(dD, eta**2 * (Gk.T * Gk - Gj * Gj.T)))
    d.formula("gd_change", (eta, Gk, Gj), eta**2 * (Gk.T * Gk - Gj * Gj.T),
              "D_j^+ - D_j after one GD step of size eta, from G_{j+1} and G_j")
    return d
