"""A user's own derivation, exported to LaTeX for a paper: one GD step on the scalar depth-N product.

Statement. For scalar factors w_1, ..., w_N, P = w_1 ... w_N and any loss l(P) with r = l'(P),
one GD step w_j <- w_j - eta r prod_{k != j} w_k multiplies each imbalance
delta_j = w_{j+1}^2 - w_j^2 by a common factor:

    delta_j^+ = delta_j (1 - eta^2 r^2 prod_{k != j, j+1} w_k^2).

(The terms linear in eta cancel, as in the matrix case; for N = 2 the factor is 1 - eta^2 r^2.)
The derivation expands both sides as polynomials in w_1..w_N, eta, r and proves the difference
zero for N = 2, 3, 4.
"""

import sympy as sp

from dmf_verify.theory.derivation import Derivation

DEPTHS = (2, 3, 4)


def contraction_factor(ws, eta, r, j):
    """1 - eta^2 r^2 prod_{k != j, j+1} w_k^2 (0-based j: the pair w_j, w_{j+1})."""
    rest = sp.Mul(*[w**2 for k, w in enumerate(ws) if k not in (j, j + 1)])
    return 1 - eta**2 * r**2 * rest


def derivation(depths=DEPTHS) -> Derivation:
    eta, r = sp.symbols("eta r", real=True)
    d = Derivation(
        "One gradient-descent step contracts every imbalance of a scalar deep factorization by the same factor",
        assumptions=[("Scalar factors $w_1, \\dots, w_N$, product $P = w_1 \\cdots w_N$, any differentiable loss "
                      "$\\ell(P)$ with $r = \\ell'(P)$ at the current point; step size $\\eta$.")],
    )
    d.step("The gradient of $\\phi(w_1,\\dots,w_N) = \\ell(w_1\\cdots w_N)$ in $w_j$ is $r \\prod_{k\\ne j} w_k$, so "
           "one GD step is $w_j^+ = w_j - \\eta\\, r \\prod_{k \\ne j} w_k$.")
    for n in depths:
        ws = sp.symbols(f"w1:{n + 1}", real=True)
        new = [w - eta * r * sp.Mul(*[v for v in ws if v is not w]) for w in ws]
        for j in range(n - 1):
            before = ws[j + 1] ** 2 - ws[j] ** 2
            after = new[j + 1] ** 2 - new[j] ** 2
            d.prove_zero(f"N = {n}, j = {j + 1}: delta^+ = delta (1 - eta^2 r^2 prod_(k != j, j+1) w_k^2)",
                         sp.expand(after - before * contraction_factor(ws, eta, r, j)), method="expand")
    d.step("Expanding $(w_{j+1}^+)^2 - (w_j^+)^2$: the terms linear in $\\eta$ are $\\mp 2\\eta r P$ and cancel; "
           "the $\\eta^2$ terms are $\\eta^2 r^2 (P^2/w_{j+1}^2 - P^2/w_j^2) = -\\eta^2 r^2 "
           "\\big(\\prod_{k\\ne j,j+1} w_k^2\\big)(w_{j+1}^2 - w_j^2)$.")
    delta, delta_plus, q = sp.symbols("delta_j delta_j^+ Q_j", real=True)
    d.result = sp.Eq(delta_plus, delta * (1 - eta**2 * r**2 * q))
    d.step("Hence, with $Q_j = \\prod_{k \\ne j, j+1} w_k^2$ ($Q_j = 1$ for $N = 2$):", d.result)
    return d
