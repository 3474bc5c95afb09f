"""The gradients of deep matrix factorization, derived by matrix calculus (sympy) from the loss value.

* Quadratic losses on the end-to-end matrix, l(W) = c ||A vec(W) - y||^2 -- sensing (A holds the
  flattened A_i), completion (A selects the observed entries) and the Chou et al. estimation loss
  (A = I, y = vec(target), c = 1/2) -- have gradient 2c A^T (A vec(W) - y), which sympy computes by
  differentiating the value with respect to the vector vec(W).
* The factor gradients dphi/dW_j of phi(W_1, ..., W_N) = l(W_N ... W_1): sympy differentiates
  tr(G^T W_N ... W_1) with respect to each W_j (G = grad l(W) held fixed: the chain rule), for
  N = 1..5 with symbolic widths.

Both are checked entrywise against the derivative of the explicit scalar (small sizes). These are
the gradients the spectral-flow and Richardson claims use as an *independent* reference: they never
call the project's hand-written ``losses.*.gradient`` or ``model.factor_gradients_from``.
"""

from __future__ import annotations

import functools

import sympy as sp

from dmf_verify.theory.derivation import Derivation, Label, MatLabel

MAX_DEPTH = 5


def _chain(depth: int, dims):
    Ws = [sp.MatrixSymbol(f"W{j + 1}", dims[j + 1], dims[j]) for j in range(depth)]
    G = sp.MatrixSymbol("G", dims[-1], dims[0])
    prod = Ws[-1]
    for W in reversed(Ws[:-1]):
        prod = prod * W
    if depth == 1:
        prod = Ws[0]
    phi = sp.Trace(G.T * prod)
    grads = [sp.diff(phi, W) for W in Ws]
    return Ws, G, prod, grads


@functools.lru_cache(maxsize=1)
def factor_gradients() -> Derivation:
    d = Derivation(
        "The gradients of deep matrix factorization, by matrix calculus from the loss value",
        source="Arora et al. 2019, Section 2 (gradient flow on the factors); Chou, Gieshoff, Maly & Rauhut "
               "(the estimation loss)",
        references=("arora2019", "chou2020"),
        assumptions=[("$\\phi(W_1, \\ldots, W_N) = \\ell(W_N\\cdots W_1)$ with a quadratic loss "
                     "$\\ell(W) = c\\,\\|A\\,\\mathrm{vec}(W) - y\\|^2$ (sensing, completion, estimation).")],
        scope=(f"Matrix calculus with symbolic widths for $N = 1, \\ldots, {MAX_DEPTH}$ and symbolic $m$, $n$; "
               "checked entrywise against derivatives of the explicit scalar for $N = 3$ ($W_1$: $3\\times2$, "
               "$W_2$: $2\\times3$, $W_3$: $2\\times2$) and $m = 2$, $n = 3$."),
    )
    n, m = sp.symbols("n m", integer=True, positive=True)
    w = sp.MatrixSymbol("w", n, 1)
    A, y, c = sp.MatrixSymbol("A", m, n), sp.MatrixSymbol("y", m, 1), sp.Symbol("c", positive=True)
    value = c * (A * w - y).T * (A * w - y)
    grad = sp.diff(value, w)
    d.step("Quadratic loss in $w = \\mathrm{vec}(W)$; sympy differentiates the value:",
           [d.equation(Label("\\ell"), value), d.equation(Label("\\nabla_w\\ell"), grad)])
    # entrywise check
    Ae = sp.Matrix(2, 3, sp.symbols("a_11:14 a_21:24"))
    ye = sp.Matrix(2, 1, sp.symbols("y_1:3"))
    we = sp.Matrix(3, 1, sp.symbols("w_1:4"))
    val_e = (c * (Ae * we - ye).T * (Ae * we - ye))[0, 0]
    grad_e = sp.Matrix(3, 1, lambda i, _j: sp.diff(val_e, we[i]))
    lam = sp.lambdify((A, y, c, w), grad, "sympy")
    d.prove_zero("$\\nabla_w\\ell$ agrees with the entrywise derivatives ($m = 2$, $n = 3$)",
                 (sp.Matrix(lam(Ae, ye, c, we)) - grad_e).applyfunc(sp.expand), method="expand")
    d.formula("loss_gradient", (A, y, c, w), grad, "grad_w of c ||A w - y||^2 (w = vec W)")

    dims = sp.symbols(f"d_0:{MAX_DEPTH + 1}", integer=True, positive=True)
    rows = []
    for depth in range(1, MAX_DEPTH + 1):
        Ws, G, prod, grads = _chain(depth, dims[: depth + 1])
        d.formula(f"factor_gradients_{depth}", (*Ws, G), tuple(grads),
                  f"dphi/dW_j, j = 1..{depth}, from G = grad l(W) (chain rule)")
        d.formula(f"product_{depth}", tuple(Ws), prod, f"W = W_{depth} ... W_1")
        if depth == 3:
            rows = [d.equation(MatLabel(f"dphi{j + 1}", Ws[j].shape[0], Ws[j].shape[1],
                                        latex=f"\\partial\\phi/\\partial W_{j + 1}"), gj) for j, gj in enumerate(grads)]
            # entrywise check with explicit matrices: phi = tr(G^T W3 W2 W1)
            shapes = [(3, 2), (2, 3), (2, 2)]                    # W1: 3x2, W2: 2x3, W3: 2x2 -> W: 2x2
            We = [sp.Matrix(r, q, lambda i, k, j=j: sp.Symbol(f"x{j + 1}_{i + 1}{k + 1}")) for j, (r, q) in
                  enumerate(shapes)]
            Ge = sp.Matrix(2, 2, sp.symbols("g_11 g_12 g_21 g_22"))
            phi_e = (Ge.T * We[2] * We[1] * We[0]).trace()
            lam3 = sp.lambdify((*Ws, G), list(grads), "sympy")
            got = lam3(*We, Ge)
            for j in range(3):
                want = sp.Matrix(*shapes[j], lambda i, k, j=j, phi_e=phi_e, We=We: sp.diff(phi_e, We[j][i, k]))
                d.prove_zero(f"$N = 3$: $\\partial\\phi/\\partial W_{j + 1}$ agrees with the entrywise derivatives",
                             (sp.Matrix(got[j]) - want).applyfunc(sp.expand), method="expand")
    d.step("Chain rule: with $G = \\nabla\\ell(W)$ held fixed, $\\partial\\phi/\\partial W_j$ is the derivative of "
           "$\\mathrm{tr}(G^\\top W_N\\cdots W_1)$ in $W_j$; sympy computes, for $N = 3$ (and $N = 1..5$ in the "
           "formulas):", rows)
    d.set_result(rows + [d.equation(Label("\\nabla_w\\ell"), grad)])
    return d


__all__ = ["MAX_DEPTH", "factor_gradients"]
