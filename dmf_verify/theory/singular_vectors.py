"""Lemma 2 (eqs. 8-9) and Corollary 1 of Arora et al. 2019, derived in explicit coordinates for k = 2.

Setting: W in R^{3x2} (d = 3 > d' = 2, so the projection term (I - UU^T) of dU/dt is present;
the case d < d' is the transpose), balanced gradient flow of symbolic depth N, so W follows
Lemma 3. At a fixed time, by the equivariance W -> P W Q^T, G -> P G Q^T, U -> P U, V -> Q V
(P, Q orthogonal: Lemma 3 and eqs. 8-9 are both equivariant), take the frame
U = [e_1 e_2], V = I_2, S = diag(s_1, s_2) with s_r > 0 distinct, and a generic gradient G.
The unknown velocities are s_1', s_2', the antisymmetric U^T U' = [[0, -a], [a, 0]],
V^T V' = [[0, -b], [b, 0]] and the component (I - UU^T) U' = e_3 [p_1, p_2]. Matching
W' = U' S V^T + U S' V^T + U S V'^T with Lemma 3 entry by entry gives six linear equations
in these six unknowns; sympy solves them (the result), and the solution is compared with
eqs. 8-9 exactly. Writing s_r = alpha_r^{N/2} (alpha_r = (s_r^2)^{1/N} > 0) keeps every power
rational in alpha.

Corollary 1: U' = V' = 0 forces the off-diagonal of U^T G V to vanish (sympy solves a = b = 0
for the off-diagonal entries of G) and (I - UU^T) G V = 0.
"""

from __future__ import annotations

import functools

import sympy as sp

from dmf_verify.theory.derivation import Derivation


def generic_branch(expr):
    """Replace every Piecewise by its generic (last, condition True) branch: sympy's closed form of a
    geometric sum splits off the case ratio = 1, which distinct singular values exclude."""
    while expr.has(sp.Piecewise):
        expr = expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[-1].expr)
    return expr


def geometric_sum_identity(d: Derivation, N, j) -> sp.Expr:
    """sum_{j=1}^N x^{(j-1)/N} y^{(N-j)/N} in alpha = x^{1/N}, beta = y^{1/N}: computed, returned."""
    al, be = sp.symbols("alpha beta", positive=True)
    total = sp.Sum(al ** (j - 1) * be ** (N - j), (j, 1, N)).doit()
    total = generic_branch(total)
    closed = sp.factor(sp.simplify(total))
    d.step("Each off-diagonal entry of Lemma 3 collects the geometric sum "
           "$c_{rr'} = \\sum_{j=1}^N (\\sigma_r^2)^{(j-1)/N}(\\sigma_{r'}^2)^{(N-j)/N}$; with "
           "$\\alpha = (\\sigma_r^2)^{1/N} \\ne \\beta = (\\sigma_{r'}^2)^{1/N}$ sympy sums it:",
           d.equation(sp.Sum(al ** (j - 1) * be ** (N - j), (j, 1, N)), closed))
    d.prove_zero("$(\\beta - \\alpha)\\sum_j \\alpha^{j-1}\\beta^{N-j} = \\beta^N - \\alpha^N$ ($\\alpha \\ne \\beta$)",
                 sp.simplify((be - al) * closed - (be**N - al**N)))
    return sp.Lambda((al, be), closed)


@functools.lru_cache(maxsize=1)
def lemma2() -> Derivation:
    N = sp.Symbol("N", positive=True, integer=True)
    j = sp.Symbol("j", positive=True, integer=True)
    a1, a2 = sp.symbols("alpha_1 alpha_2", positive=True)       # alpha_r = (sigma_r^2)^(1/N)
    s1, s2 = a1 ** (N / 2), a2 ** (N / 2)                          # sigma_r > 0
    g = sp.Matrix(3, 2, sp.symbols("g_11 g_12 g_21 g_22 g_31 g_32", real=True))
    a, b, p1, p2, ds1, ds2 = sp.symbols("a b p_1 p_2 sigmadot_1 sigmadot_2", real=True)

    d = Derivation(
        "Lemma 2: the singular vectors of the end-to-end matrix",
        source="Arora et al. 2019, Lemma 2 (eqs. 8-9), proof in Appendix B",
        references=("arora2019", "arora2018"),
        assumptions=[
            ("Balanced initialization, so $W$ follows Lemma 3: "
             "$\\dot W = -\\sum_{j=1}^N (WW^\\top)^{(j-1)/N} G (W^\\top W)^{(N-j)/N}$, $G = \\nabla\\ell(W)$."),
            "An analytic SVD $W = USV^\\top$ (Lemma 1) with distinct positive $\\sigma_1 \\ne \\sigma_2$ at the time considered.",
            ("By orthogonal equivariance ($W\\to PWQ^\\top$, $G\\to PGQ^\\top$, $U\\to PU$, $V\\to QV$) the frame "
             "$U = [e_1\\ e_2]$, $V = I_2$ loses no generality."),
        ],
        scope=("Solved in explicit coordinates for $k = 2$, $d = 3 > d' = 2$ and symbolic depth $N$. The "
               "$(r, r')$ entries of Lemma 3 in the singular frame involve only $\\sigma_r, \\sigma_{r'}$ and "
               "$(U^\\top GV)_{rr'}, (U^\\top GV)_{r'r}$, so larger $k$ decouples into these $2\\times2$ systems; "
               "$d < d'$ is the transpose."),
    )
    U = sp.Matrix([[1, 0], [0, 1], [0, 0]])
    V = sp.eye(2)
    S = sp.diag(s1, s2)
    A = sp.Matrix([[0, -a], [a, 0]])
    B = sp.Matrix([[0, -b], [b, 0]])
    Udot = U * A + sp.Matrix([[0, 0], [0, 0], [p1, p2]])
    Vdot = V * B
    Sdot = sp.diag(ds1, ds2)
    Wdot = Udot * S * V.T + U * Sdot * V.T + U * S * Vdot.T
    Wd = sp.MatrixSymbol("Wdot", 3, 2)
    d.step("Differentiate $W = USV^\\top$ with $U^\\top\\dot U = [[0, -a], [a, 0]]$, $V^\\top\\dot V = "
           "[[0, -b], [b, 0]]$ antisymmetric (from $U^\\top U = V^\\top V = I$) and $(I - UU^\\top)\\dot U = "
           "e_3[p_1\\ p_2]$; in the frame, with $\\sigma_r = \\alpha_r^{N/2}$:", d.equation(Wd, Wdot))

    c = geometric_sum_identity(d, N, j)
    alphas = (a1, a2)
    rhs = sp.zeros(3, 2)
    for r in range(2):
        for q in range(2):
            coef = N * alphas[r] ** (N - 1) if r == q else c(alphas[r], alphas[q])
            rhs[r, q] = -g[r, q] * coef
    for q in range(2):   # row 3: only j = 1 survives, (WW^T)^0 = I_3 and (WW^T)^{c>0} e_3 = 0
        rhs[2, q] = -g[2, q] * alphas[q] ** (N - 1)
    d.step("In this frame $(WW^\\top)^{c} = \\mathrm{diag}(\\alpha_1^{Nc}, \\alpha_2^{Nc}, 0)$ for $c > 0$ but "
           "$(WW^\\top)^0 = I_3$, so row 3 of Lemma 3 keeps only the $j = 1$ term; the diagonal entries collect "
           "$N\\alpha_r^{N-1}$ and the off-diagonal ones the geometric sums:",
           d.equation(sp.MatrixSymbol("Wdot_Lemma3", 3, 2), rhs))
    sol = sp.solve(list(Wdot - rhs), [a, b, p1, p2, ds1, ds2], dict=True)
    d.record("the six linear equations have exactly one solution", len(sol) == 1, method="solve")
    if len(sol) != 1:
        raise RuntimeError(f"expected a unique solution of the linear system, got {len(sol)}")
    sol = {k: sp.factor(sp.simplify(v)) for k, v in sol[0].items()}
    solved = [d.equation(k, sol[k]) for k in (a, b, p1, p2, ds1, ds2)]
    d.step("The six entries give six linear equations in $(a, b, p_1, p_2, \\dot\\sigma_1, \\dot\\sigma_2)$; "
           "sympy solves them (the $2\\times2$ blocks have determinant $\\sigma_2^2 - \\sigma_1^2 \\ne 0$):", solved)

    # eqs. 8-9 in the same frame
    Gh = U.T * g * V
    F = sp.Matrix([[0, 1 / (a2 - a1)], [1 / (a1 - a2), 0]])
    M_u = Gh * S + S * Gh.T
    M_v = S * Gh + Gh.T * S
    proj_factor = sp.diag(s1 * a1 ** -1, s2 * a2 ** -1)
    Udot_formula = -U * F.multiply_elementwise(M_u) - (sp.eye(3) - U * U.T) * g * V * proj_factor
    Vdot_formula = -V * F.multiply_elementwise(M_v)
    Udot_solved = Udot.subs(sol)
    Vdot_solved = Vdot.subs(sol)
    d.prove_zero("$\\dot U$ solved from Lemma 3 equals eq. 8 (the $F$-term and the projection term)",
                 (Udot_solved - Udot_formula).applyfunc(lambda e: sp.simplify(sp.powsimp(e, force=True))))
    d.prove_zero("$\\dot V$ solved from Lemma 3 equals eq. 9", (Vdot_solved - Vdot_formula).applyfunc(sp.simplify))
    d.prove_zero("$\\dot\\sigma_r$ solved from Lemma 3 equals Theorem 3, $-N(\\sigma_r^2)^{1-1/N}(U^\\top GV)_{rr}$",
                 sp.Matrix([sol[ds1] + N * a1 ** (N - 1) * g[0, 0], sol[ds2] + N * a2 ** (N - 1) * g[1, 1]])
                 .applyfunc(sp.simplify))
    proj_n1 = (sp.eye(3) - U * U.T) * g * V * proj_factor
    d.prove_zero("at $N = 1$ the projection factor $S(S^2)^{-1/N}$ is $S^{-1}$ (classical SVD perturbation)",
                 (proj_n1.subs(N, 1) - (sp.eye(3) - U * U.T) * g * V * sp.diag(1 / a1 ** sp.Rational(1, 2),
                                                                               1 / a2 ** sp.Rational(1, 2))
                  ).applyfunc(sp.simplify))
    dd, dp, kk = sp.symbols("d d' k", positive=True, integer=True)
    Um, Vm = sp.MatrixSymbol("U", dd, kk), sp.MatrixSymbol("V", dp, kk)
    Gm, Sm, Fm = sp.MatrixSymbol("G", dd, dp), sp.MatrixSymbol("S", kk, kk), sp.MatrixSymbol("F", kk, kk)
    P = sp.MatPow(Sm * Sm, sp.Rational(1, 2) - 1 / N)
    d.step("So the solution is eqs. 8-9 with $F_{rr'} = ((\\sigma_{r'}^2)^{1/N} - (\\sigma_r^2)^{1/N})^{-1} = "
           "(\\alpha_{r'} - \\alpha_r)^{-1}$, $F_{rr} = 0$, and projection factor $(S^2)^{1/2 - 1/N} = "
           "S(S^2)^{-1/N}$ (checked entrywise in the frame; by equivariance in every frame; for $d < d'$ the "
           "projection term moves to $\\dot V$):",
           [d.equation(sp.MatrixSymbol("Udot", dd, kk),
                       -Um * sp.hadamard_product(Fm, Um.T * Gm * Vm * Sm + Sm * Vm.T * Gm.T * Um)
                       - (sp.Identity(dd) - Um * Um.T) * Gm * Vm * P),
            d.equation(sp.MatrixSymbol("Vdot", dp, kk),
                       -Vm * sp.hadamard_product(Fm, Sm * Um.T * Gm * Vm + Vm.T * Gm.T * Um * Sm)
                       - (sp.Identity(dp) - Vm * Vm.T) * Gm.T * Um * P)])
    d.set_result(solved)

    # formulas in terms of sigma_r > 0 (alpha_r = (sigma_r^2)^(1/N))
    sg1, sg2 = sp.symbols("sigma_1 sigma_2", positive=True)
    to_sigma = {a1: sg1 ** (2 / N), a2: sg2 ** (2 / N)}
    gs = (g[0, 0], g[0, 1], g[1, 0], g[1, 1])
    conv = lambda e: sp.factor(sp.cancel(sp.powsimp(sp.powdenest(e.subs(to_sigma), force=True), force=True)))
    d.formula("rotation_u", (N, sg1, sg2, *gs), conv(sol[a]),
              "(U^T U')_21 of the pair (sigma_1, sigma_2) with G_hat = U^T G V entries g_11, g_12, g_21, g_22")
    d.formula("rotation_v", (N, sg1, sg2, *gs), conv(sol[b]), "(V^T V')_21 of the pair")
    d.formula("projection", (N, sg1, g[2, 0]), conv(sol[p1]),
              "the coefficient of (I - UU^T) U' along a unit direction where (I - UU^T) G v_1 has length g_31")
    d.formula("sigma_rate", (N, sg1, g[0, 0]), conv(sol[ds1]), "sigma_1' (Theorem 3)")
    d.symbols.update(N=N, alpha_1=a1, alpha_2=a2, G=g, solution=sol, frame=(U, V, S),
                     velocities=(Udot, Vdot, Sdot), lemma3_rhs=rhs, rotation_symbols=(a, b))
    return d


@functools.lru_cache(maxsize=1)
def corollary1() -> Derivation:
    """Stationary singular vectors force U^T grad l(W) V to be diagonal (and (I - UU^T) G V = 0)."""
    l2 = lemma2()
    sol, g = l2.symbols["solution"], l2.symbols["G"]
    a, b = l2.symbols["rotation_symbols"]
    p = [k for k in sol if k.name in ("p_1", "p_2")]
    d = Derivation(
        "Corollary 1: stationary singular vectors align with the gradient",
        source="Arora et al. 2019, Corollary 1 (from Lemma 2)",
        references=("arora2019",),
        assumptions=[("The setting and frame of Lemma 2 ($k = 2$, $d = 3 > d' = 2$, distinct positive "
                     "$\\sigma_r$), and $\\dot U = 0$, $\\dot V = 0$ at the time considered.")],
        scope="As in Lemma 2: the frame computation with $k = 2$; larger $k$ decouples into pairs.",
    )
    eqs = [sp.Eq(sol[a], 0), sp.Eq(sol[b], 0)]
    d.step("$\\dot U = \\dot V = 0$ means $a = b = 0$ and $p_1 = p_2 = 0$ in Lemma 2's solution:",
           [d.equation(sol[a], 0), d.equation(sol[b], 0)] + [d.equation(sol[k], 0) for k in p])
    off = sp.solve(eqs, [g[0, 1], g[1, 0]], dict=True)
    d.record("$a = b = 0$ has exactly one solution in $(g_{12}, g_{21})$", len(off) == 1, method="solve")
    off = off[0]
    proj = sp.solve([sp.Eq(sol[k], 0) for k in p], [g[2, 0], g[2, 1]], dict=True)
    d.record("$p_1 = p_2 = 0$ has exactly one solution in $(g_{31}, g_{32})$", len(proj) == 1, method="solve")
    proj = proj[0]
    d.step("Sympy solves the two linear systems (determinants $\\propto \\sigma_2^2 - \\sigma_1^2 \\ne 0$ and "
           "$\\sigma_r \\ne 0$):", [d.equation(k, v) for k, v in {**off, **proj}.items()])
    d.prove_zero("the off-diagonal entries of $U^\\top GV$ vanish", sp.Matrix([off[g[0, 1]], off[g[1, 0]]]))
    d.prove_zero("$(I - UU^\\top)GV = 0$", sp.Matrix([proj[g[2, 0]], proj[g[2, 1]]]))
    Um, Vm, Gm = sp.MatrixSymbol("U", 3, 2), sp.MatrixSymbol("V", 2, 2), sp.MatrixSymbol("G", 3, 2)
    Gh = sp.Matrix(2, 2, lambda r, q: g[r, q]).subs(off)
    d.set_result([d.equation(Um.T * Gm * Vm, Gh), d.equation((sp.Identity(3) - Um * Um.T) * Gm * Vm, sp.zeros(3, 2))])
    return d


__all__ = ["corollary1", "geometric_sum_identity", "lemma2"]
