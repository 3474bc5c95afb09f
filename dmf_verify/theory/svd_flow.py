"""Theorem 3 of Arora et al. 2019 (eq. 7), derived in explicit coordinates.

W(t) = U(t) S(t) V(t)^T with U = R(theta(t)), V = R(phi(t)) rotations and
S = diag(sigma_1(t), sigma_2(t)) (signed): every step is an explicit 2x2 computation that sympy
checks exactly, and the matrix-level argument is the same for any size.
"""

from __future__ import annotations

import sympy as sp

from dmf_verify.theory.derivation import Derivation


def _rotation(angle):
    return sp.Matrix([[sp.cos(angle), -sp.sin(angle)], [sp.sin(angle), sp.cos(angle)]])


def theorem3() -> Derivation:
    t = sp.Symbol("t", real=True)
    N = sp.Symbol("N", positive=True, integer=True)
    j = sp.Symbol("j", positive=True, integer=True)
    theta, phi = sp.Function("theta", real=True)(t), sp.Function("phi", real=True)(t)
    s1, s2 = sp.Function("sigma_1", real=True)(t), sp.Function("sigma_2", real=True)(t)
    U, V = _rotation(theta), _rotation(phi)
    S = sp.diag(s1, s2)
    W = U * S * V.T

    d = Derivation(
        "Theorem 3 (Arora et al. 2019, eq. 7): the singular values of the end-to-end matrix",
        assumptions=[
            "Balanced initialization, so the end-to-end matrix obeys Lemma 3.",
            ("An analytic SVD $W = U S V^\\top$ with $U^\\top U = V^\\top V = I$ (Lemma 1); "
             "shown here in explicit coordinates $U = R(\\theta(t))$, $V = R(\\phi(t))$, $S = \\mathrm{diag}(\\sigma_1, \\sigma_2)$."),
        ],
    )
    d.symbols.update(t=t, N=N, theta=theta, phi=phi, sigma_1=s1, sigma_2=s2)
    Wdot = W.diff(t)
    d.step("Differentiate $W = U S V^\\top$ entrywise.", sp.Eq(sp.Symbol("\\dot W"), Wdot.applyfunc(sp.simplify)))
    M = (U.T * Wdot * V).applyfunc(sp.simplify)
    d.step("Conjugate by the singular vectors: $U^\\top \\dot W V = U^\\top\\dot U S + \\dot S + S \\dot V^\\top V$; "
           "$U^\\top \\dot U$ and $\\dot V^\\top V$ are antisymmetric (from $U^\\top U = I$), so their diagonals vanish.",
           sp.Eq(sp.Symbol("U^T \\dot W V"), M))
    d.prove_zero("(U^T W' V)_11 = sigma_1'", M[0, 0] - s1.diff(t))
    d.prove_zero("(U^T W' V)_22 = sigma_2'", M[1, 1] - s2.diff(t))
    d.prove_zero("U^T U' is antisymmetric", (U.T * U.diff(t) + (U.T * U.diff(t)).T).applyfunc(sp.simplify))

    # Lemma 3 term j, in coordinates, with generic exponents a, b and a generic gradient G.
    a, b = sp.symbols("a b", nonnegative=True)
    g = sp.Matrix(2, 2, sp.symbols("g_11 g_12 g_21 g_22", real=True))
    p1, p2 = sp.symbols("s_1 s_2", positive=True)  # sigma_r^2 > 0 at a fixed time
    th, ph = sp.symbols("theta_0 phi_0", real=True)
    Uc, Vc = _rotation(th), _rotation(ph)
    left = Uc * sp.diag(p1**a, p2**a) * Uc.T      # (W W^T)^a
    right = Vc * sp.diag(p1**b, p2**b) * Vc.T     # (W^T W)^b
    term = left * g * right
    proj = (Uc.T * g * Vc)
    for r, pr in ((0, p1), (1, p2)):
        lhs = (Uc[:, r].T * term * Vc[:, r])[0, 0]
        d.prove_zero(f"u_{r + 1}^T (WW^T)^a G (W^TW)^b v_{r + 1} = (sigma_{r + 1}^2)^(a+b) <G, u_{r + 1} v_{r + 1}^T>",
                     sp.expand(sp.simplify(lhs - pr ** (a + b) * proj[r, r])), method="simplify")
    d.step("Lemma 3 gives $\\dot W = -\\sum_{j=1}^N (WW^\\top)^{(j-1)/N}\\nabla\\ell(W)(W^\\top W)^{(N-j)/N}$. "
           "Since $(WW^\\top)^a = U (S^2)^a U^\\top$ and $(W^\\top W)^b = V (S^2)^b V^\\top$, each term contributes "
           "$u_r^\\top(\\cdot)v_r = (\\sigma_r^2)^{a+b}\\langle\\nabla\\ell(W), u_r v_r^\\top\\rangle$ (checked in coordinates).",
           sp.Eq(sp.Symbol("u_r^T (W W^T)^a G (W^T W)^b v_r"), sp.Symbol("sigma_r^2") ** (a + b) * sp.Symbol("<G, u_r v_r^T>")))
    x = sp.Symbol("x", positive=True)  # x = sigma_r^2
    summand = sp.powsimp(x ** ((j - 1) / N) * x ** ((N - j) / N), force=True)
    total = sp.simplify(sp.Sum(summand, (j, 1, N)).doit())
    d.step("Sum over $j$: the exponents add to $(N-1)/N$ for every $j$.",
           sp.Eq(sp.Sum(x ** ((j - 1) / N) * x ** ((N - j) / N), (j, 1, N)), total))
    d.prove_zero("sum_j x^((j-1)/N) x^((N-j)/N) = N x^(1-1/N)", total - N * x ** (1 - 1 / N))
    sig, proj_sym = sp.Symbol("sigma_r", real=True), sp.Symbol("P_r", real=True)
    d.step("Write $P_r = \\langle\\nabla\\ell(W), u_r v_r^\\top\\rangle$ for the projection of the gradient.")
    d.result = sp.Eq(sp.Derivative(sig, t), -N * (sig**2) ** (1 - 1 / N) * proj_sym)
    d.symbols.update(result_rate=lambda n, s, p: -n * (s * s) ** (1 - 1 / n) * p)
    return d
