"""Theorem 1 of Arora et al. 2019 (Gunasekar et al. 2017): W = Z Z^T, Z(0) = alpha I, commuting measurements.

:func:`theorem1_rate` derives, with exact sympy checks, (a) that the flow Z' = -(G + G^T) Z keeps
Z in the shared eigenbasis of the A_i, (b) the closed form w_k(t) = alpha^2 exp((Lambda^T nu(t))_k)
of the eigenvalues of W, (c) that the t -> infinity limit minimizes an entropy over the feasible
set (its KKT conditions) and (d) the rate in alpha: off the support of the minimum nuclear norm
solution, w_k(alpha) = alpha^(2 s_k) exp((Lambda^T delta)_k) with s_k the dual slack of the LP, so
||W_inf(alpha) - W*|| = Theta(alpha^(2 min_k s_k)).
"""

from __future__ import annotations

import sympy as sp

from dmf_verify.theory.derivation import Derivation


def _cayley(t):
    c = (1 - t**2) / (1 + t**2)
    s = 2 * t / (1 + t**2)
    return sp.Matrix([[c, -s], [s, c]])


def theorem1_rate() -> Derivation:
    d = Derivation(
        "Theorem 1 (symmetric PSD factorization, commuting measurements): the limit and its rate in $\\alpha$",
        assumptions=[("$W = ZZ^\\top$, $\\ell(W) = \\frac12\\sum_i(\\langle A_i, W\\rangle - y_i)^2$, $A_i = V\\,"
                     "\\mathrm{diag}(\\lambda_i)V^\\top$ with one orthogonal $V$ (commuting), $Z(0) = \\alpha I$, "
                     "gradient flow $\\dot Z = -\\nabla_Z \\ell(ZZ^\\top) = -(G + G^\\top)Z$, $G = \\sum_i r_i A_i$, "
                     "$r_i = \\langle A_i, W\\rangle - y_i$."),
                     ("The minimum nuclear norm PSD solution is a strict LP vertex: support $S$ of size $m$, "
                      "$\\Lambda_S$ invertible, dual slacks $s_k > 0$ off $S$.")],
    )
    # (a) the eigenbasis is preserved (2x2, exactly orthogonal rational V)
    t = sp.Symbol("t", real=True)
    V = _cayley(t)
    z1, z2, g1, g2 = sp.symbols("z_1 z_2 g_1 g_2", real=True)
    Z = V * sp.diag(z1, z2) * V.T
    G = V * sp.diag(g1, g2) * V.T
    rhs = -(G + G.T) * Z
    d.prove_zero("(G + G^T) Z = V diag(2 g_k z_k) V^T when G = V diag(g) V^T and Z = V diag(z) V^T",
                 (rhs + V * sp.diag(2 * g1 * z1, 2 * g2 * z2) * V.T).applyfunc(sp.cancel), method="cancel")
    d.step("If $Z = V\\,\\mathrm{diag}(z)V^\\top$ then $G = V\\,\\mathrm{diag}(g)V^\\top$ with $g = \\Lambda^\\top r$ "
           "($\\Lambda$: $m\\times d$, row $i$ = $\\lambda_i$), and the velocity is again diagonal in $V$: "
           "$\\dot z_k = -2 g_k z_k$. $Z(0) = \\alpha I$ is diagonal in every basis, so $Z(t)$ stays so.")
    # (b) closed form of w_k = z_k^2
    tt = sp.Symbol("tau", real=True)
    gfun = sp.Function("g")
    alpha = sp.Symbol("alpha", positive=True)
    Gint = sp.Integral(gfun(sp.Symbol("s")), (sp.Symbol("s"), 0, tt))
    w_closed = alpha**2 * sp.exp(-4 * Gint)
    d.prove_zero("d/dt [alpha^2 exp(-4 int_0^t g)] = -4 g(t) w(t)  (w_k = z_k^2: w' = 2 z z' = -4 g w)",
                 sp.simplify(sp.diff(w_closed, tt) + 4 * gfun(tt) * w_closed))
    d.prove_zero("w(0) = alpha^2", sp.simplify(w_closed.subs(tt, 0) - alpha**2))
    d.step("So $w_k(t) = \\alpha^2\\exp((\\Lambda^\\top\\nu(t))_k)$ with $\\nu(t) = -4\\int_0^t r$ (one vector $\\nu$ for "
           "all $k$).")
    # (c) the limit is the entropic minimizer
    wk, c = sp.symbols("w_k c_k", positive=True)
    ent = wk * sp.log(wk / alpha**2) - wk
    d.prove_zero("d/dw [w ln(w/alpha^2) - w] = ln(w/alpha^2)", sp.simplify(sp.diff(ent, wk) - sp.log(wk / alpha**2)))
    d.step("Hence $w = \\alpha^2\\exp(\\Lambda^\\top\\nu)$ with $\\Lambda w = y$ is the KKT point of the strictly "
           "convex $\\min\\{\\sum_k w_k\\ln(w_k/\\alpha^2) - w_k : \\Lambda w = y, w \\ge 0\\}$: if the flow fits the "
           "measurements, $W_\\infty(\\alpha)$ is that minimizer (computed independently by Newton's method on the "
           "dual, numerics/psd.py: entropic_limit).")
    # (d) the rate in alpha
    e = sp.Symbol("e_k", real=True)
    lhs = alpha**2 * sp.exp(sp.log(1 / alpha**2) * c + e)
    s = 1 - c
    d.prove_zero("alpha^2 exp(ln(1/alpha^2) c_k + e_k) = alpha^(2 (1 - c_k)) exp(e_k)",
                 sp.simplify(sp.expand_log(sp.log(lhs) - sp.log(alpha ** (2 * s) * sp.exp(e)), force=True)))
    d.step("Write $\\nu = \\ln(1/\\alpha^2)\\,\\mu + \\delta$ with $\\mu$ a dual LP solution "
           "($\\max y^\\top\\mu$ s.t. $\\Lambda^\\top\\mu \\le 1$): then $w_k = \\alpha^{2 s_k}\\exp((\\Lambda^\\top\\delta)_k)$, "
           "$s_k = 1 - (\\Lambda^\\top\\mu)_k$. Bounded feasible $w$ as $\\alpha \\to 0$ needs $s_k \\ge 0$, and on the "
           "support $s_k = 0$ (complementary slackness), so $w_S = \\exp(\\Lambda_S^\\top\\delta)$ stays finite while "
           "$w_k \\to 0$ like $\\alpha^{2 s_k}$ off $S$. Feasibility, $\\Lambda_S w_S = y - \\Lambda_{\\bar S} w_{\\bar S}$, "
           "then gives $w_S - x^*_S = -\\Lambda_S^{-1}\\Lambda_{\\bar S}w_{\\bar S} = O(\\alpha^{2\\min s})$ and "
           "$\\delta \\to \\Lambda_S^{-\\top}\\ln x^*_S$, so $\\ln w_k/\\ln\\alpha \\to 2 s_k$.")
    a_s = sp.Symbol("a", positive=True)
    # the log-log slope of C alpha^(2 s) is exactly 2 s
    C = sp.Symbol("C", positive=True)
    d.prove_zero("d ln(C alpha^(2 s)) / d ln(alpha) = 2 s",
                 sp.simplify(a_s * sp.diff(sp.log(C * a_s ** (2 * s)), a_s) - 2 * s))
    d.result = sp.Eq(sp.Symbol("w_k(alpha)"), sp.Symbol("C_k") * alpha ** (2 * sp.Symbol("s_k")))
    return d


__all__ = ["theorem1_rate"]
