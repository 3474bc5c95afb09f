"""Lemma 3 of Arora et al. 2019 (Arora, Cohen & Hazan 2018, Theorem 1), derived in explicit coordinates.

Gradient flow on the factors, dW_j/dt = -(W_N...W_{j+1})^T G (W_{j-1}...W_1)^T with G = grad l(W),
and the product rule give dW/dt = -sum_j P_j G R_j with P_j = W_{N:j+1} W_{N:j+1}^T and
R_j = W_{j-1:1}^T W_{j-1:1}. Balanced factors (square, distinct singular values) are
W_j = Q_j S Q_{j-1}^T with orthogonal Q_j; by induction over the depth (a symbolic exponent)
W_{N:j+1} = Q_N S^(N-j) Q_j^T, so P_j = Q_N S^(2(N-j)) Q_N^T while W W^T = Q_N S^(2N) Q_N^T:
sympy solves for the power a_j with P_j = (W W^T)^(a_j), and likewise b_j for R_j, and the
re-indexed sum is Lemma 3's right-hand side.
"""

from __future__ import annotations

import functools

import sympy as sp

from dmf_verify.theory.balancedness import factor_gradients
from dmf_verify.theory.derivation import Derivation


def _cayley(c):
    """An exactly orthogonal rational 2x2 rotation."""
    return sp.Matrix([[(1 - c**2) / (1 + c**2), -2 * c / (1 + c**2)], [2 * c / (1 + c**2), (1 - c**2) / (1 + c**2)]])


def _prod(fs):
    w = fs[0]
    for f in fs[1:]:
        w = f * w
    return w


def _diag_power(Q, s, e):
    return Q * sp.diag(*[x**e for x in s]) * Q.T


@functools.lru_cache(maxsize=1)
def lemma3(depth: int = 3) -> Derivation:
    t = sp.Symbol("t", real=True)
    N = sp.Symbol("N", positive=True, integer=True)
    j = sp.Symbol("j", positive=True, integer=True)
    k = sp.Symbol("k", positive=True)
    d = Derivation(
        "Lemma 3: the end-to-end dynamics of balanced gradient flow",
        source="Arora et al. 2019, Lemma 3 (Appendix A), from Arora, Cohen & Hazan 2018, Theorem 1",
        references=("arora2019", "arora2018"),
        assumptions=[
            ("Gradient flow $\\dot W_j = -\\partial\\phi/\\partial W_j$ on $\\phi(W_1, \\ldots, W_N) = \\ell(W)$, "
             "$W = W_N\\cdots W_1$, $G = \\nabla\\ell(W)$."),
            ("Balanced initialization $W_{j+1}^\\top W_{j+1} = W_jW_j^\\top$ (eq. 5), conserved by the flow; for "
             "square factors with distinct singular values this forces $W_j = Q_jSQ_{j-1}^\\top$ with orthogonal "
             "$Q_j$ and one diagonal $S > 0$ (uniqueness of the SVD)."),
        ],
        scope=(f"The product rule and the chain rule are checked with generic $2\\times2$ factors at depth "
               f"{depth}; the balanced parametrization at depth {depth} with exactly orthogonal rational rotations "
               "(Cayley transforms at fixed rational parameters) and symbolic $S = \\mathrm{diag}(s_1, s_2)$; the "
               "induction step over the depth with symbolic rotations and a symbolic exponent, so the exponents are "
               "derived for symbolic $N$ and $j$. Non-square factors and rank-deficient $W$ (where "
               "$(WW^\\top)^0 = I$) follow the same lines (Arora, Cohen & Hazan 2018) and are checked numerically "
               "by the claim arora2019.lemma3."),
    )
    # generic factors, functions of t, for the product rule and the chain rule
    fs = [sp.Matrix(2, 2, lambda r, c, i=i: sp.Function(f"w{i}_{r + 1}{c + 1}", real=True)(t))
          for i in range(1, depth + 1)]
    Wd = sp.MatrixSymbol("Wdot", 2, 2)
    Wm, Gm = sp.MatrixSymbol("W", 2, 2), sp.MatrixSymbol("G", 2, 2)
    W = _prod(fs)
    product_rule = sp.zeros(2, 2)
    for i in range(depth):
        left = sp.eye(2)
        for m in range(depth - 1, i, -1):
            left = left * fs[m]
        right = sp.eye(2)
        for m in range(i):
            right = fs[m] * right
        product_rule += left * fs[i].diff(t) * right
    d.step("Product rule: $\\dot W = \\sum_{j=1}^N W_N\\cdots W_{j+1}\\,\\dot W_j\\,W_{j-1}\\cdots W_1$; with "
           "$\\dot W_j = -(W_N\\cdots W_{j+1})^\\top G(W_{j-1}\\cdots W_1)^\\top$ this is",
           d.equation(Wd, -sp.Sum(sp.MatrixSymbol("P_j", 2, 2) * Gm * sp.MatrixSymbol("R_j", 2, 2), (j, 1, N))))
    d.prove_zero(f"product rule for $W = W_{depth}\\cdots W_1$ in coordinates",
                 (W.diff(t) - product_rule).applyfunc(sp.expand), method="expand")
    ws = [sp.Matrix(2, 2, sp.symbols(f"v{i}_11 v{i}_12 v{i}_21 v{i}_22", real=True)) for i in range(1, depth + 1)]
    g = sp.Matrix(2, 2, sp.symbols("g_11 g_12 g_21 g_22", real=True))
    grads = factor_gradients(ws, g)
    flow_sum = sp.zeros(2, 2)
    for i in range(depth):
        left = sp.eye(2)
        for m in range(depth - 1, i, -1):
            left = left * ws[m]
        right = sp.eye(2)
        for m in range(i):
            right = ws[m] * right
        flow_sum += left * (-grads[i]) * right
    explicit = sp.zeros(2, 2)
    for i in range(depth):
        left = sp.eye(2)
        for m in range(depth - 1, i, -1):
            left = left * ws[m]
        right = sp.eye(2)
        for m in range(i):
            right = ws[m] * right
        explicit -= (left * left.T) * g * (right.T * right)
    d.prove_zero("$\\sum_j W_{N:j+1}\\dot W_jW_{j-1:1} = -\\sum_j P_jGR_j$, "
                 "$P_j = W_{N:j+1}W_{N:j+1}^\\top$, $R_j = W_{j-1:1}^\\top W_{j-1:1}$ (generic factors)",
                 (flow_sum - explicit).applyfunc(sp.expand), method="expand")

    # balanced parametrization
    # exactly orthogonal rational rotations at fixed rational parameters (the induction step below
    # is checked with symbolic rotations)
    cs = [sp.Rational(1, 2), sp.Rational(-2, 3), sp.Rational(3, 5), sp.Rational(5, 7), sp.Rational(-1, 4)][: depth + 1]
    s1, s2 = sp.symbols("s_1 s_2", positive=True)
    Qs = [_cayley(c) for c in cs]
    Sd = sp.diag(s1, s2)
    bal = [Qs[i + 1] * Sd * Qs[i].T for i in range(depth)]        # W_1 .. W_depth
    qc = sp.Symbol("q", real=True)
    d.prove_zero("$Q^\\top Q = I$ for the Cayley rotation $Q(q)$, every $q$", (_cayley(qc).T * _cayley(qc) - sp.eye(2))
                 .applyfunc(sp.cancel), method="cancel")
    d.prove_zero(f"$W_j = Q_jSQ_{{j-1}}^\\top$ is balanced, $W_{{j+1}}^\\top W_{{j+1}} = W_jW_j^\\top$ (depth {depth})",
                 sp.Matrix.vstack(*[(bal[i + 1].T * bal[i + 1] - bal[i] * bal[i].T).applyfunc(sp.cancel)
                                    for i in range(depth - 1)]), method="cancel")
    Qa, Qb, Qc = _cayley(sp.Symbol("q_a", real=True)), _cayley(sp.Symbol("q_b", real=True)), \
        _cayley(sp.Symbol("q_c", real=True))
    Sk = sp.diag(s1**k, s2**k)
    step_k = (Qa * Sk * Qb.T) * (Qb * Sd * Qc.T) - Qa * sp.diag(s1 ** (k + 1), s2 ** (k + 1)) * Qc.T
    d.prove_zero("induction step: $(Q_NS^kQ_j^\\top)(Q_jSQ_{j-1}^\\top) = Q_NS^{k+1}Q_{j-1}^\\top$ (symbolic $k$)",
                 step_k.applyfunc(lambda e: sp.cancel(sp.powsimp(e, force=True))), method="cancel")
    QN, Q0 = sp.MatrixSymbol("Q_N", 2, 2), sp.MatrixSymbol("Q_0", 2, 2)
    Sm = sp.MatrixSymbol("S", 2, 2)
    d.step("Balanced factors $W_j = Q_jSQ_{j-1}^\\top$: by induction over the depth (the step is checked with a "
           "symbolic exponent $k$) the partial products are $W_N\\cdots W_{j+1} = Q_NS^{N-j}Q_j^\\top$ and "
           "$W_{j-1}\\cdots W_1 = Q_{j-1}S^{j-1}Q_0^\\top$, hence",
           [d.equation(sp.MatrixSymbol("P_j", 2, 2), QN * sp.MatPow(Sm, 2 * (N - j)) * QN.T),
            d.equation(sp.MatrixSymbol("R_j", 2, 2), Q0 * sp.MatPow(Sm, 2 * (j - 1)) * Q0.T),
            d.equation(Wm * Wm.T, QN * sp.MatPow(Sm, 2 * N) * QN.T),
            d.equation(Wm.T * Wm, Q0 * sp.MatPow(Sm, 2 * N) * Q0.T)])
    Wb = _prod(bal)
    for i in range(depth):
        left = sp.eye(2)
        for m in range(depth - 1, i, -1):
            left = left * bal[m]
        right = sp.eye(2)
        for m in range(i):
            right = bal[m] * right
        jj = i + 1
        d.prove_zero(f"depth {depth}, $j = {jj}$: $P_j = Q_NS^{{{2 * (depth - jj)}}}Q_N^\\top$, "
                     f"$R_j = Q_0S^{{{2 * (jj - 1)}}}Q_0^\\top$",
                     sp.Matrix.vstack((left * left.T - _diag_power(Qs[-1], (s1, s2), 2 * (depth - jj))),
                                      (right.T * right - _diag_power(Qs[0], (s1, s2), 2 * (jj - 1))))
                     .applyfunc(sp.cancel), method="cancel")
    d.prove_zero(f"depth {depth}: $WW^\\top = Q_NS^{{{2 * depth}}}Q_N^\\top$, $W^\\top W = Q_0S^{{{2 * depth}}}Q_0^\\top$",
                 sp.Matrix.vstack(Wb * Wb.T - _diag_power(Qs[-1], (s1, s2), 2 * depth),
                                  Wb.T * Wb - _diag_power(Qs[0], (s1, s2), 2 * depth)).applyfunc(sp.cancel),
                 method="cancel")
    # the powers: (W W^T)^a = Q_N S^(2 N a) Q_N^T; solve for a and b
    a, b = sp.symbols("a b")
    sol_a = sp.solve(sp.Eq(2 * N * a, 2 * (N - j)), a)
    sol_b = sp.solve(sp.Eq(2 * N * b, 2 * (j - 1)), b)
    d.record("each exponent equation has exactly one solution", len(sol_a) == 1 and len(sol_b) == 1, method="solve")
    a_j, b_j = sp.simplify(sol_a[0]), sp.simplify(sol_b[0])
    d.step("The PSD power is $(WW^\\top)^a = Q_NS^{2Na}Q_N^\\top$; matching the powers of $S$ (sympy solves "
           "$2Na = 2(N-j)$ and $2Nb = 2(j-1)$):", [d.equation(sp.Symbol("a_j"), a_j), d.equation(sp.Symbol("b_j"), b_j)])
    # re-index j -> N + 1 - j
    a_r, b_r = sp.simplify(a_j.subs(j, N + 1 - j)), sp.simplify(b_j.subs(j, N + 1 - j))
    d.step("So $\\dot W = -\\sum_j (WW^\\top)^{a_j}G(W^\\top W)^{b_j}$; re-indexing $j \\to N + 1 - j$ gives the "
           "exponents in the order of the paper:", [d.equation(sp.Symbol("a_j'"), a_r), d.equation(sp.Symbol("b_j'"), b_r)])
    rhs = -sp.Sum(sp.MatPow(Wm * Wm.T, a_r) * Gm * sp.MatPow(Wm.T * Wm, b_r), (j, 1, N))
    d.set_result(d.equation(Wd, rhs))
    d.formula("exponents", (j, N), (a_r, b_r), "Lemma 3's (a_j, b_j): term j is (W W^T)^a_j G (W^T W)^b_j")
    d.prove_zero("the exponents agree with Lemma 3 as printed, $((j-1)/N, (N-j)/N)$",
                 sp.Matrix([a_r - (j - 1) / N, b_r - (N - j) / N]))
    return d


__all__ = ["lemma3"]
