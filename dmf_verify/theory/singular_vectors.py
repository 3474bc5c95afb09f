"""Lemma 2 of Arora et al. 2019 (eqs. 8-9), derived in explicit coordinates for k = 2.

Setting: W in R^{3x2} (d = 3 > d' = 2, so the projection term (I - UU^T) of dU/dt is present;
the case d < d' is the transpose), balanced gradient flow of symbolic depth N, so W follows
Lemma 3. At a fixed time, by the equivariance W -> P W Q^T, G -> P G Q^T, U -> P U, V -> Q V
(P, Q orthogonal: Lemma 3 and eqs. 8-9 are both equivariant), take the frame
U = [e_1 e_2], V = I_2, S = diag(s_1, s_2) with s_r > 0 distinct, and a generic gradient G.
The unknown velocities are s_1', s_2', the antisymmetric U^T U' = [[0, -a], [a, 0]],
V^T V' = [[0, -b], [b, 0]] and the component (I - UU^T) U' = e_3 [p_1, p_2]. Matching
W' = U' S V^T + U S' V^T + U S V'^T with Lemma 3 entry by entry gives six linear equations
in these six unknowns; sympy solves them and the solution is compared with eqs. 8-9 exactly.
Writing s_r = alpha_r^{N/2} (alpha_r = (s_r^2)^{1/N} > 0) keeps every power rational in alpha.
"""

from __future__ import annotations

import sympy as sp

from dmf_verify.theory.derivation import Derivation


def geometric_sum_identity(d: Derivation, N, j) -> None:
    """sum_{j=1}^N x^{(j-1)/N} y^{(N-j)/N} = (y - x) / (y^{1/N} - x^{1/N}), in alpha = x^{1/N}, beta = y^{1/N}."""
    al, be = sp.symbols("alpha beta", positive=True)
    total = sp.Sum(al ** (j - 1) * be ** (N - j), (j, 1, N)).doit()
    expr = sp.simplify((be - al) * total - (be**N - al**N))
    generic = expr
    if isinstance(expr, sp.Piecewise):  # keep the branch alpha != beta (distinct singular values)
        generic = next(e for e, c in expr.args if c == sp.true)
    d.step("Each off-diagonal entry of Lemma 3 collects the geometric sum "
           "$c_{rr'} = \\sum_{j=1}^N (\\sigma_r^2)^{(j-1)/N}(\\sigma_{r'}^2)^{(N-j)/N}$; with "
           "$\\alpha = (\\sigma_r^2)^{1/N} \\ne \\beta = (\\sigma_{r'}^2)^{1/N}$ it telescopes:",
           sp.Eq((be - al) * sp.Sum(al ** (j - 1) * be ** (N - j), (j, 1, N)), be**N - al**N))
    d.prove_zero("(beta - alpha) sum_j alpha^(j-1) beta^(N-j) = beta^N - alpha^N (alpha != beta)", generic)


def lemma2() -> Derivation:
    N = sp.Symbol("N", positive=True, integer=True)
    j = sp.Symbol("j", positive=True, integer=True)
    a1, a2 = sp.symbols("alpha_1 alpha_2", positive=True)       # alpha_r = (sigma_r^2)^(1/N)
    s1, s2 = a1 ** (N / 2), a2 ** (N / 2)                          # sigma_r > 0
    g = sp.Matrix(3, 2, sp.symbols("g_11 g_12 g_21 g_22 g_31 g_32", real=True))
    a, b, p1, p2, ds1, ds2 = sp.symbols("a b p_1 p_2 sdot_1 sdot_2", real=True)

    d = Derivation(
        "Lemma 2 (Arora et al. 2019, eqs. 8-9): the singular vectors of the end-to-end matrix, k = 2, d = 3 > d' = 2",
        assumptions=[
            ("Balanced initialization, so $W$ follows Lemma 3: "
             "$\\dot W = -\\sum_{j=1}^N (WW^\\top)^{(j-1)/N} G (W^\\top W)^{(N-j)/N}$, $G = \\nabla\\ell(W)$."),
            "An analytic SVD $W = USV^\\top$ (Lemma 1) with distinct positive $\\sigma_1 \\ne \\sigma_2$ at the time considered.",
            ("By orthogonal equivariance ($W\\to PWQ^\\top$, $G\\to PGQ^\\top$, $U\\to PU$, $V\\to QV$) the frame "
             "$U = [e_1\\ e_2]$, $V = I_2$ loses no generality."),
        ],
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
    d.step("Differentiate $W = USV^\\top$ with $U^\\top\\dot U = A$, $V^\\top\\dot V = B$ antisymmetric "
           "(from $U^\\top U = V^\\top V = I$) and $(I - UU^\\top)\\dot U = e_3[p_1\\ p_2]$:",
           sp.Eq(sp.Symbol("\\dot W"), Wdot, evaluate=False))

    geometric_sum_identity(d, N, j)
    c = lambda x, y: (y**N - x**N) / (y - x)                      # c_{rr'} with alpha_r = x, alpha_r' = y
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
           "$N\\alpha_r^{N-1}$ and the off-diagonal ones $c_{rr'} = (\\alpha_{r'}^N - \\alpha_r^N)/(\\alpha_{r'} - \\alpha_r)$:",
           sp.Eq(sp.Symbol("\\dot W_{Lemma 3}"), rhs, evaluate=False))
    sol = sp.solve(list(Wdot - rhs), [a, b, p1, p2, ds1, ds2], dict=True)
    if len(sol) != 1:
        raise RuntimeError(f"expected a unique solution of the linear system, got {len(sol)}")
    sol = {k: sp.simplify(v) for k, v in sol[0].items()}
    d.step("The six entries give six linear equations in $(a, b, p_1, p_2, \\dot\\sigma_1, \\dot\\sigma_2)$ "
           "with a unique solution (the $2\\times2$ blocks have determinant $\\sigma_2^2 - \\sigma_1^2 \\ne 0$):",
           [sp.Eq(k, v) for k, v in sol.items()])

    # eqs. 8-9 in the same frame
    Gh = U.T * g * V
    F = sp.Matrix([[0, 1 / (a2 - a1)], [1 / (a1 - a2), 0]])
    M_u = Gh * S + S * Gh.T
    M_v = S * Gh + Gh.T * S
    Udot_formula = -U * F.multiply_elementwise(M_u) - (sp.eye(3) - U * U.T) * g * V * sp.diag(
        s1 * a1 ** -1, s2 * a2 ** -1)
    Vdot_formula = -V * F.multiply_elementwise(M_v)
    Udot_solved = Udot.subs(sol)
    Vdot_solved = Vdot.subs(sol)
    d.step("Eqs. 8-9 with $F_{rr'} = ((\\sigma_{r'}^2)^{1/N} - (\\sigma_r^2)^{1/N})^{-1} = (\\alpha_{r'} - \\alpha_r)^{-1}$ "
           "and projection factor $(S^2)^{1/2 - 1/N} = S(S^2)^{-1/N} = \\mathrm{diag}(\\sigma_r/\\alpha_r)$, in this frame:",
           [sp.Eq(sp.Symbol("\\dot U_{eq. 8}"), Udot_formula, evaluate=False),
            sp.Eq(sp.Symbol("\\dot V_{eq. 9}"), Vdot_formula, evaluate=False)])
    d.prove_zero("U' solved from Lemma 3 equals eq. 8 (F-term and projection term)",
                 (Udot_solved - Udot_formula).applyfunc(lambda e: sp.simplify(sp.powsimp(e, force=True))))
    d.prove_zero("V' solved from Lemma 3 equals eq. 9", (Vdot_solved - Vdot_formula).applyfunc(sp.simplify))
    d.prove_zero("sigma_r' solved from Lemma 3 equals Theorem 3 (-N (sigma_r^2)^(1-1/N) G_rr)",
                 sp.Matrix([sol[ds1] + N * a1 ** (N - 1) * g[0, 0], sol[ds2] + N * a2 ** (N - 1) * g[1, 1]])
                 .applyfunc(sp.simplify))
    proj_n1 = (sp.eye(3) - U * U.T) * g * V * sp.diag(s1 * a1 ** -1, s2 * a2 ** -1)
    d.prove_zero("at N = 1 the projection factor S (S^2)^(-1/N) is S^(-1) (classical SVD perturbation)",
                 (proj_n1.subs(N, 1) - (sp.eye(3) - U * U.T) * g * V * sp.diag(1 / a1 ** sp.Rational(1, 2),
                                                                               1 / a2 ** sp.Rational(1, 2))
                  ).applyfunc(sp.simplify))
    d.step("The block $U^\\top\\dot U$ of eq. 8 and $V^\\top\\dot V$ of eq. 9 are antisymmetric; in the frame the "
           "general matrix form reads $U^\\top\\dot U = -F\\odot[U^\\top GVS + SV^\\top G^\\top U]$, "
           "$V^\\top\\dot V = -F\\odot[SU^\\top GV + V^\\top G^\\top US]$, "
           "$(I-UU^\\top)\\dot U = -(I-UU^\\top)GV S(S^2)^{-1/N}$, and by equivariance this holds in every frame. "
           "For $d < d'$ transpose everything: the projection term moves to $\\dot V$.")
    dd, dp, kk = sp.symbols("d d' k", positive=True, integer=True)
    Um, Vm = sp.MatrixSymbol("U", dd, kk), sp.MatrixSymbol("V", dp, kk)
    Gm, Sm, Fm = sp.MatrixSymbol("G", dd, dp), sp.MatrixSymbol("S", kk, kk), sp.MatrixSymbol("F", kk, kk)
    P = sp.MatPow(Sm * Sm, sp.Rational(1, 2) - 1 / N)
    d.result = [
        sp.Eq(sp.MatrixSymbol("Udot", dd, kk), -Um * sp.hadamard_product(Fm, Um.T * Gm * Vm * Sm + Sm * Vm.T * Gm.T * Um)
              - (sp.Identity(dd) - Um * Um.T) * Gm * Vm * P, evaluate=False),
        sp.Eq(sp.MatrixSymbol("Vdot", dp, kk), -Vm * sp.hadamard_product(Fm, Sm * Um.T * Gm * Vm + Vm.T * Gm.T * Um * Sm)
              - (sp.Identity(dp) - Vm * Vm.T) * Gm.T * Um * P, evaluate=False),
    ]
    d.symbols.update(N=N, alpha_1=a1, alpha_2=a2, G=g, solution=sol)
    return d
