"""Theorem 3 of Arora et al. 2019 (eq. 7), derived in explicit coordinates, and the spectral flow.

:func:`theorem3`: W(t) = U(t) S(t) V(t)^T with U = R(theta(t)), V = R(phi(t)) rotations and
S = diag(sigma_1(t), sigma_2(t)) (signed). Differentiating, conjugating by the singular vectors and
substituting Lemma 3 (whose exponents come from :func:`dmf_verify.theory.end_to_end.lemma3`), sympy
computes the rate of sigma_r; every step is an explicit 2x2 computation, and the one matrix-level
fact used -- u_r^T (W W^T)^a G (W^T W)^b v_r = (sigma_r^2)^(a+b) <G, u_r v_r^T> -- holds in any size
because (W W^T)^a = U (S^2)^a U^T.

:func:`spectral_flow`: the state (sigma, U, V) with Theorem 3 and Lemma 2 as its vector field
reproduces the end-to-end flow of Lemma 3: d/dt (U S V^T) equals Lemma 3's right-hand side, and
U^T U, V^T V stay the identity.
"""

from __future__ import annotations

import functools

import sympy as sp

from dmf_verify.theory.derivation import Derivation


def _rotation(angle):
    return sp.Matrix([[sp.cos(angle), -sp.sin(angle)], [sp.sin(angle), sp.cos(angle)]])


def _inner(g, u, v):
    """<G, u v^T> for explicit matrices."""
    return (u.T * g * v)[0, 0]


@functools.lru_cache(maxsize=1)
def theorem3() -> Derivation:
    from dmf_verify.theory.end_to_end import lemma3

    t = sp.Symbol("t", real=True)
    N = sp.Symbol("N", positive=True, integer=True)
    j = sp.Symbol("j", positive=True, integer=True)
    theta, phi = sp.Function("theta", real=True)(t), sp.Function("phi", real=True)(t)
    s1, s2 = sp.Function("sigma_1", real=True)(t), sp.Function("sigma_2", real=True)(t)
    U, V = _rotation(theta), _rotation(phi)
    S = sp.diag(s1, s2)
    W = U * S * V.T
    Um, Vm, Sm, Wm = (sp.MatrixSymbol(n, 2, 2) for n in ("U", "V", "S", "W"))
    Ud, Vd, Sd, Wd = (sp.MatrixSymbol(n, 2, 2) for n in ("Udot", "Vdot", "Sdot", "Wdot"))

    d = Derivation(
        "Theorem 3: the singular values of the end-to-end matrix",
        source="Arora et al. 2019, Theorem 3 (eq. 7); Lemma 3 from Arora, Cohen & Hazan 2018",
        references=("arora2019", "arora2018"),
        assumptions=[
            "Balanced initialization, so the end-to-end matrix $W$ obeys Lemma 3.",
            ("An analytic SVD $W = USV^\\top$ with $U^\\top U = V^\\top V = I$ (Lemma 1), in explicit "
             "coordinates $U = R(\\theta(t))$, $V = R(\\phi(t))$ (rotations), $S = \\mathrm{diag}(\\sigma_1, "
             "\\sigma_2)$ with signed $\\sigma_r$."),
        ],
        scope=("The coordinate computation is $2\\times 2$. The only matrix-level fact it uses, "
               "$u_r^\\top(WW^\\top)^a G(W^\\top W)^b v_r = (\\sigma_r^2)^{a+b}\\langle G, u_rv_r^\\top\\rangle$, holds "
               "in every size because $(WW^\\top)^a = U(S^2)^aU^\\top$ and $(W^\\top W)^b = V(S^2)^bV^\\top$; the sum "
               "over $j$ is done for symbolic $N$."),
    )
    d.symbols.update(t=t, N=N, theta=theta, phi=phi, sigma_1=s1, sigma_2=s2)

    # 1. product rule
    Wdot = W.diff(t)
    d.step("Differentiate $W = USV^\\top$ (product rule):", d.equation(Wd, Ud * Sm * Vm.T + Um * Sd * Vm.T + Um * Sm * Vd.T))
    d.prove_zero("$\\dot W = \\dot U S V^\\top + U\\dot S V^\\top + U S\\dot V^\\top$ in coordinates",
                 (Wdot - (U.diff(t) * S * V.T + U * S.diff(t) * V.T + U * S * V.diff(t).T)).applyfunc(sp.expand),
                 method="expand")
    # 2. conjugation
    d.step("Multiply by $U^\\top$ on the left and $V$ on the right ($U^\\top U = V^\\top V = I$):",
           d.equation(Um.T * Wd * Vm, Um.T * Ud * Sm + Sd + Sm * Vd.T * Vm))
    A_u = (U.T * U.diff(t)).applyfunc(sp.simplify)
    B_v = (V.diff(t).T * V).applyfunc(sp.simplify)
    d.step("In coordinates $U^\\top\\dot U$ and $\\dot V^\\top V$ are antisymmetric, so their diagonals vanish:",
           [d.equation(Um.T * Ud, A_u), d.equation(Vd.T * Vm, B_v)])
    d.prove_zero("$U^\\top\\dot U + \\dot U^\\top U = 0$", (A_u + A_u.T).applyfunc(sp.simplify))
    M = (U.T * Wdot * V).applyfunc(sp.simplify)
    d.step("Hence the diagonal of $U^\\top\\dot W V$ is $\\dot S$, computed entrywise:", d.equation(Um.T * Wd * Vm, M))
    sdot = [M[0, 0], M[1, 1]]
    d.prove_zero("$(U^\\top\\dot WV)_{rr} = \\dot\\sigma_r$, $r = 1, 2$",
                 sp.Matrix([sdot[0] - s1.diff(t), sdot[1] - s2.diff(t)]))

    # 3. Lemma 3 term by term, generic exponents and gradient
    a, b = sp.symbols("a b", nonnegative=True)
    g = sp.Matrix(2, 2, sp.symbols("g_11 g_12 g_21 g_22", real=True))
    p1, p2 = sp.symbols("p_1 p_2", positive=True)          # p_r = sigma_r^2 > 0 at a fixed time
    th, ph = sp.symbols("theta_0 phi_0", real=True)
    Uc, Vc = _rotation(th), _rotation(ph)
    left = Uc * sp.diag(p1**a, p2**a) * Uc.T                # (W W^T)^a = U (S^2)^a U^T
    right = Vc * sp.diag(p1**b, p2**b) * Vc.T               # (W^T W)^b = V (S^2)^b V^T
    term = left * g * right
    exps = []
    for r, pr in ((0, p1), (1, p2)):
        proj = _inner(g, Uc[:, r], Vc[:, r])
        coef = sp.simplify(_inner(term, Uc[:, r], Vc[:, r]) / proj)
        d.record(f"$u_{r + 1}^\\top(WW^\\top)^aG(W^\\top W)^bv_{r + 1}/\\langle G, u_{r + 1}v_{r + 1}^\\top\\rangle$ "
                 f"depends on $\\sigma_{r + 1}^2$ only (free symbols of the simplified quotient)",
                 coef.free_symbols <= {pr, a, b}, method="simplify")
        exps.append(sp.simplify(sp.expand_log(sp.log(coef), force=True) / sp.log(pr)))
    d.record("the exponent of $\\sigma_r^2$ is the same for $r = 1, 2$", sp.simplify(exps[0] - exps[1]) == 0,
             method="simplify")
    e_ab = exps[0]
    P, x = sp.Symbol("P_r", real=True), sp.Symbol("x", positive=True)
    ur, vr, Gm = sp.MatrixSymbol("u_r", 2, 1), sp.MatrixSymbol("v_r", 2, 1), sp.MatrixSymbol("G", 2, 2)
    d.step("Lemma 3 term by term, with generic exponents $a, b \\ge 0$ and a generic gradient "
           "$G = \\nabla\\ell(W)$; $P_r = \\langle G, u_rv_r^\\top\\rangle$ and $x = \\sigma_r^2$. Sympy computes "
           "the quotient by $P_r$ and its exponent of $x$:",
           d.equation(ur.T * sp.MatPow(Wm * Wm.T, a) * Gm * sp.MatPow(Wm.T * Wm, b) * vr, x**e_ab * P))

    # 4. sum over j with Lemma 3's exponents
    lem3 = lemma3()
    (jj, NN), (ea, eb) = lem3.formulas["exponents"].args, lem3.formulas["exponents"].expr
    a_j, b_j = ea.subs({jj: j, NN: N}), eb.subs({jj: j, NN: N})
    summand = x ** e_ab.subs({a: a_j, b: b_j})
    total = sp.simplify(sp.powsimp(sp.Sum(sp.powsimp(summand, force=True), (j, 1, N)).doit(), force=True))
    d.step("Lemma 3 has exponents $a_j = (j-1)/N$, $b_j = (N-j)/N$ (derived in Lemma 3); sympy sums "
           "$x^{a_j + b_j}$ over $j$ for symbolic $N$:", d.equation(sp.Sum(summand, (j, 1, N)), total))
    rate = sp.powsimp(-total.subs(x, sp.Symbol("sigma_r", real=True) ** 2) * P, force=False)
    sig = sp.Symbol("sigma_r", real=True)
    d.set_result(d.equation(sp.Derivative(sig, t), rate))
    d.formula("rate", (N, sig, P), rate, "d sigma_r/dt as a function of (N, sigma_r, P_r = <grad l(W), u_r v_r^T>)")
    d.prove_zero("the computed rate agrees with eq. 7 as printed in the paper, "
                 "$-N(\\sigma_r^2)^{1-1/N}P_r$", rate + N * (sig**2) ** (1 - 1 / N) * P)
    return d


@functools.lru_cache(maxsize=1)
def spectral_flow() -> Derivation:
    """The spectral flow (sigma, U, V) with Theorem 3 and Lemma 2 as vector field reproduces Lemma 3."""
    from dmf_verify.theory.singular_vectors import lemma2

    l2 = lemma2()
    th3 = theorem3()
    sol = l2.symbols["solution"]
    N, a1, a2 = l2.symbols["N"], l2.symbols["alpha_1"], l2.symbols["alpha_2"]
    g = l2.symbols["G"]
    U, V, S = l2.symbols["frame"]
    Udot, Vdot, Sdot = l2.symbols["velocities"]
    lemma3_rhs = l2.symbols["lemma3_rhs"]
    d = Derivation(
        "The spectral flow: $(\\sigma, U, V)$ driven by Theorem 3 and Lemma 2 reproduces the end-to-end flow",
        source="Arora et al. 2019, Theorem 3 (eq. 7), Lemma 2 (eqs. 8-9) and Lemma 3",
        references=("arora2019", "arora2018"),
        assumptions=[("Balanced gradient flow, distinct positive singular values (Lemma 2's setting); the frame "
                     "$U = [e_1\\ e_2]$, $V = I_2$ of Lemma 2's derivation ($d = 3 > d' = 2$).")],
        scope=("Checked in the frame of Lemma 2's derivation ($k = 2$, $d = 3$, symbolic depth $N$); by the "
               "orthogonal equivariance of Lemma 3 and eqs. 7-9 the identity holds in every frame. The "
               "$(r, r')$ entries of $U^\\top\\dot U$, $V^\\top\\dot V$ involve only $\\sigma_r, \\sigma_{r'}$ "
               "and $(U^\\top GV)_{rr'}, (U^\\top GV)_{r'r}$, so general $k$ reduces to the pairs computed here."),
    )
    Wd = sp.MatrixSymbol("Wdot", 3, 2)
    Um, Vm, Sm = sp.MatrixSymbol("U", 3, 2), sp.MatrixSymbol("V", 2, 2), sp.MatrixSymbol("S", 2, 2)
    Ud, Vd, Sd = sp.MatrixSymbol("Udot", 3, 2), sp.MatrixSymbol("Vdot", 2, 2), sp.MatrixSymbol("Sdot", 2, 2)
    d.step("State $(\\sigma, U, V)$; vector field: $\\dot\\sigma_r$ from Theorem 3, $\\dot U, \\dot V$ from "
           "Lemma 2. The end-to-end matrix is reconstructed as $W = U\\,\\mathrm{diag}(\\sigma)\\,V^\\top$, so",
           d.equation(Wd, Ud * Sm * Vm.T + Um * Sd * Vm.T + Um * Sm * Vd.T))
    Wdot_field = (Udot * S * V.T + U * Sdot * V.T + U * S * Vdot.T).subs(sol)
    residual = (Wdot_field - lemma3_rhs).applyfunc(lambda e: sp.simplify(sp.powsimp(e, force=True)))
    d.prove_zero("$\\dot U S V^\\top + U\\dot S V^\\top + US\\dot V^\\top$ with Theorem 3 and eqs. 8-9 equals "
                 "Lemma 3's $\\dot W$", residual)
    orth_u = (Udot.T * U + U.T * Udot).subs(sol).applyfunc(sp.simplify)
    orth_v = (Vdot.T * V + V.T * Vdot).subs(sol).applyfunc(sp.simplify)
    d.prove_zero("$\\frac{d}{dt}(U^\\top U) = \\dot U^\\top U + U^\\top\\dot U = 0$", orth_u)
    d.prove_zero("$\\frac{d}{dt}(V^\\top V) = 0$", orth_v)
    d.prove_zero("$\\dot\\sigma_r$ of the vector field is Theorem 3's rate", sp.Matrix(
        [sol[Sdot[r, r]] - th3.formulas["rate"].expr.subs({th3.formulas["rate"].args[0]: N,
                                                            th3.formulas["rate"].args[1]: (a1, a2)[r] ** (N / 2),
                                                            th3.formulas["rate"].args[2]: g[r, r]})
         for r in range(2)]).applyfunc(lambda e: sp.simplify(sp.powsimp(e, force=True))))
    d.step("So the spectral flow and Lemma 3 have the same $\\dot W$ and, from the same $W(0)$, the same solution; "
           "the vector field keeps $U, V$ orthonormal (their Gram matrices have zero derivative).")
    d.set_result([d.equation(Wd, Ud * Sm * Vm.T + Um * Sd * Vm.T + Um * Sm * Vd.T),
                  d.equation(sp.MatrixSymbol("Lemma3", 3, 2), Wd)])
    return d


__all__ = ["spectral_flow", "theorem3"]
