"""Lemma 4 and eqs. 10-11 of Arora et al. 2019, derived and checked exactly with sympy.

* ``lemma4()``: the solution of dx/dt = g(t) (x^2)^(1-1/N), x(0) != 0, for N = 1, N = 2 and
  symbolic N >= 3 (both signs of x(0)), each verified by substitution into the ODE, and the
  blow-up time for constant g.
* ``eq11()``: the three regimes of sigma_r as a function of sigma_r' when
  <grad, u_r v_r^T> = alpha <grad, u_r' v_r'^T>, verified by substitution into
  d sigma_r / d sigma_r' = alpha (sigma_r^2)^(1-1/N) / (sigma_r'^2)^(1-1/N).
* ``asymptote_depth()``: the asymptote of the N >= 3 regime and its dependence on N, with the
  conditions under which it decreases.

Substitution checks with a symbolic exponent use ``powdenest(force=True)``: this is sound
here because every base it touches is a *positive* symbol (the base of the power is replaced by
a positive symbol B before simplifying, which is exactly the domain where the formulas hold).
Nothing is computed at import time.
"""

from __future__ import annotations

import functools

import sympy as sp

from dmf_verify.theory.derivation import Derivation, Label


def _zero(expr):
    """Canonical form for exact zero checks with symbolic exponents and positive bases."""
    e = sp.powdenest(sp.expand_power_base(expr, force=True), force=True)
    return sp.simplify(sp.powsimp(e, force=True))


def _separate(depth, lower, upper, y):
    """int_lower^upper y^-(2 - 2/N) dy computed by sympy (generic branch)."""
    from dmf_verify.theory.singular_vectors import generic_branch

    return generic_branch(sp.integrate(y ** (-(2 - sp.S(2) / depth)), (y, lower, upper), conds="none"))


@functools.lru_cache(maxsize=1)
def lemma4() -> Derivation:
    t = sp.Symbol("t", real=True)
    N = sp.Symbol("N", positive=True)
    m = sp.Symbol("m", positive=True)  # |x(0)|
    X = sp.Symbol("X", positive=True)  # the unknown x(t) > 0 (before any sign change / blow-up)
    y = sp.Symbol("y", positive=True)
    B = sp.Symbol("B", positive=True)  # the base of the N >= 3 power, positive before blow-up
    E = sp.Symbol("E", positive=True)  # exp(G) for N = 2
    g = sp.Function("g", real=True)(t)
    G = sp.Function("G", real=True)(t)
    Gs = sp.Symbol("G", real=True)     # G(t) as a plain symbol in the formulas
    gs = sp.Symbol("g_0", positive=True)  # constant |g| for the blow-up time
    s_ = sp.Symbol("s", real=True)     # sign(x(0)) = +-1
    p = 1 - 2 / N
    d = Derivation(
        "Lemma 4: the scalar ODE $\\dot x = g(t)(x^2)^{1-1/N}$",
        source="Arora et al. 2019, Lemma 4 (Appendix A)",
        references=("arora2019",),
        assumptions=[("$g$ continuous, $G(t) = \\int_0^t g$, $x(0) \\neq 0$; $s = \\mathrm{sign}(x(0))$, "
                     "$m = |x(0)|$, $p = 1 - 2/N$.")],
        scope=("Symbolic $N$ (the cases $N = 1, 2$ separately); the solutions are computed by separating "
               "variables for $x(0) > 0$, mapped to $x(0) < 0$ by $y = -x$, and verified by substitution "
               "into the ODE for both signs."),
    )
    d.symbols.update(t=t, N=N, g=g, G=G)

    def ode_residual(x, depth):
        lhs = sp.diff(x, t).subs(sp.Derivative(G, t), g)
        return lhs - g * (x**2) ** (1 - sp.S.One / depth)

    sols = {}
    for depth, label in ((1, "N = 1"), (2, "N = 2"), (N, "N symbolic")):
        I = _separate(depth, m, X, y)
        roots = sp.solve(sp.Eq(I, Gs), X)
        d.record(f"{label}: separating variables, $\\int_m^X y^{{-(2-2/N)}}dy = G$ has one solution $X$",
                 len(roots) == 1, method="solve")
        pos = sp.simplify(roots[0])
        neg = -pos.subs(Gs, -Gs)                    # y = -x solves y' = -g (y^2)^(1-1/N)
        sols[depth] = (pos, neg)
        for sign, x in ((1, pos), (-1, neg)):
            name = "x(0) > 0" if sign > 0 else "x(0) < 0"
            res = ode_residual(x.subs(Gs, G), depth)
            if depth == 2:
                res = res.subs(sp.exp(sign * G), E ** sign).subs(sp.exp(-sign * G), E ** (-sign))
            elif depth is N:
                res = res.subs(G, sign * (m ** (-p) - B) / p)  # base = B > 0 before blow-up
            d.prove_zero(f"{label}, ${name}$: the computed $x(t)$ solves $\\dot x = g(x^2)^{{1-1/N}}$", _zero(res))
            d.prove_zero(f"{label}, ${name}$: $x(0) = {'' if sign > 0 else '-'}m$ at $G = 0$",
                         _zero(x.subs(Gs, 0) - sign * m))
    d.step("Separate variables for $x(0) = m > 0$ while $x > 0$: $\\int_m^{x(t)} y^{-(2-2/N)}\\,dy = G(t)$; sympy "
           "integrates and solves for $x(t)$ ($N = 1$, $N = 2$, symbolic $N$):",
           [d.equation(sp.Symbol("x_1"), sols[1][0]), d.equation(sp.Symbol("x_2"), sols[2][0]),
            d.equation(sp.Symbol("x_N"), sols[N][0])])
    d.step("For $x(0) = -m < 0$, $y = -x$ solves $\\dot y = -g(y^2)^{1-1/N}$, so $x(t)$ is minus the positive "
           "solution with $G \\to -G$:", [d.equation(sp.Symbol("x_2"), sols[2][1]), d.equation(sp.Symbol("x_N"), sols[N][1])])
    unified = s_ * (m ** (-p) - p * s_ * Gs) ** (-1 / p)
    for sign in (1, -1):
        d.prove_zero(f"$N \\geq 3$, $s = {sign}$: the computed solution is $s(m^{{-p}} - psG)^{{-1/p}}$",
                     _zero((sols[N][0] if sign > 0 else sols[N][1]) - unified.subs(s_, sign)))
        d.prove_zero(f"$N = 2$, $s = {sign}$: the computed solution is $s\\,m\\,e^{{sG}}$",
                     sp.simplify((sols[2][0] if sign > 0 else sols[2][1]) - sign * m * sp.exp(sign * Gs)))
    d.step("$N = 2$: $x(t) = x(0)e^{sG(t)}$ never vanishes and does not blow up in finite time; $N \\ge 3$ (the "
           "sign $s$ is preserved as long as the base is positive):",
           [d.equation(sp.Symbol("x_2"), s_ * m * sp.exp(s_ * Gs)), d.equation(sp.Symbol("x_N"), unified)])
    # blow-up: the base vanishes
    base = m ** (-p) - p * s_ * Gs
    Gstar = sp.solve(sp.Eq(base, 0), Gs)
    d.record("the base $m^{-p} - psG$ vanishes at exactly one $G$", len(Gstar) == 1, method="solve")
    Gstar = sp.simplify(Gstar[0])
    T = sp.Symbol("T", positive=True)
    Tsol = sp.solve(sp.Eq(gs * T, sp.simplify(s_ * Gstar).subs(s_**2, 1)), T)  # g = s g0 drives |x| up: s G = g0 t
    Tstar = sp.simplify(Tsol[0])
    q = sp.Symbol("q", positive=True)  # N = 2 + q > 2, so p = q/(2+q) > 0
    pq = p.subs(N, 2 + q)
    lim = sp.limit(B ** (-1 / pq), B, 0, "+")
    d.record("$N > 2$: $|x| = B^{-1/p} \\to \\infty$ as the base $B \\to 0^+$", lim is sp.oo, method="limit")
    d.step("Blow-up ($N \\ge 3$): sympy solves base $= 0$ for $G$; for constant $g = s g_0$ (driving $|x|$ up, "
           "$sG = g_0t$) the blow-up time follows; with $sg < 0$ the base grows and $x \\to 0$ without reaching it. "
           "For $N \\le 2$ there is no blow-up.",
           [d.equation(Label("G^*"), Gstar), d.equation(T, Tstar)])
    d.set_result([d.equation(sp.Symbol("x_1"), s_ * m + Gs), d.equation(sp.Symbol("x_2"), s_ * m * sp.exp(s_ * Gs)),
                  d.equation(sp.Symbol("x_N"), unified), d.equation(T, Tstar)])
    d.formula("solution_n1", (m, s_, Gs), s_ * m + Gs, "x(t) for N = 1 from m = |x0|, s = sign(x0), G")
    d.formula("solution_n2", (m, s_, Gs), s_ * m * sp.exp(s_ * Gs), "x(t) for N = 2")
    d.formula("solution", (N, m, s_, Gs), unified, "x(t) for N >= 3 (before blow-up)")
    d.formula("blowup_threshold", (N, m), sp.simplify(s_ * Gstar).subs(s_**2, 1),
              "s G at which the N >= 3 solution blows up")
    d.formula("blowup_time", (N, m, gs), Tstar, "blow-up time for constant |g| = g0 driving |x| up (N >= 3)")
    return d


@functools.lru_cache(maxsize=1)
def sign_preservation() -> Derivation:
    """Theorem 3 with Lemma 4: a singular value that starts non-zero keeps its sign for N >= 2."""
    l4 = lemma4()
    m = sp.Symbol("m", positive=True)
    E = sp.Symbol("E", positive=True)   # e^{sG} > 0
    B = sp.Symbol("B", positive=True)   # the base, positive before blow-up
    N = sp.Symbol("N", positive=True)
    s_ = sp.Symbol("s", real=True)
    Gs = sp.Symbol("G", real=True)
    p = 1 - 2 / N
    d = Derivation(
        "Theorem 3 with Lemma 4: singular values keep their sign for $N \\ge 2$",
        source="Arora et al. 2019, discussion after Theorem 3 (with Lemma 4)",
        references=("arora2019",),
        assumptions=[("Theorem 3: $\\dot\\sigma_r = g(t)(\\sigma_r^2)^{1-1/N}$ with $g(t) = -N\\langle\\nabla\\ell(W(t)), "
                     "u_r(t)v_r(t)^\\top\\rangle$ continuous, i.e. Lemma 4's ODE; $\\sigma_r(0) \\ne 0$, "
                     "$s = \\mathrm{sign}\\,\\sigma_r(0)$, $m = |\\sigma_r(0)|$.")],
        scope="Symbolic $N$; the sign facts are sympy's assumption system applied to the computed solutions.",
    )
    x2 = l4.formulas["solution_n2"].expr.subs(sp.exp(s_ * Gs), E)
    xN = l4.formulas["solution"].expr.subs(l4.formulas["solution"].args[0], N)
    xN = xN.subs(m ** (-p) - p * s_ * Gs, B)
    prod2 = sp.simplify((x2 * s_ * m).subs(s_**2, 1))
    prodN = sp.simplify((xN * s_ * m).subs(s_**2, 1))
    d.step("Lemma 4's solutions times $\\sigma_r(0) = sm$ ($s^2 = 1$; $E = e^{sG} > 0$, $B$ the positive base):",
           [d.equation(Label("\\sigma_r(t)\\sigma_r(0)\\ (N = 2)"), prod2),
            d.equation(Label("\\sigma_r(t)\\sigma_r(0)\\ (N \\ge 3)"), prodN)])
    d.record("$N = 2$: $\\sigma_r(t)\\sigma_r(0) > 0$ for all $t$", bool(prod2.subs(s_**2, 1).is_positive), method="assumptions")
    q = sp.Symbol("q", positive=True)   # N = 2 + q > 2
    d.record("$N > 2$: $\\sigma_r(t)\\sigma_r(0) > 0$ while the base is positive",
             bool(prodN.subs(N, 2 + q).is_positive), method="assumptions")
    x1 = l4.formulas["solution_n1"].expr
    d.record("control, $N = 1$: $\\sigma_r(t) = sm + G$ changes sign when $sG < -m$",
             sp.simplify(x1.subs({s_: 1, Gs: -2 * m})) < 0, method="simplify")
    d.set_result(d.equation(Label("\\mathrm{sign}\\,\\sigma_r(t)"), s_))
    return d


@functools.lru_cache(maxsize=1)
def eq11() -> Derivation:
    sr, sq = sp.symbols("sigma_r sigma_rp", positive=True)  # sigma_r, sigma_r'
    alpha, c = sp.symbols("alpha c", positive=True)
    cr = sp.Symbol("c", real=True)
    N = sp.Symbol("N", positive=True)
    B = sp.Symbol("B", positive=True)
    t = sp.Symbol("t", real=True)
    P = sp.Function("P", real=True)(t)
    a, b = sp.symbols("a b", positive=True)   # sigma_r(0), sigma_r'(0)
    y = sp.Symbol("y", positive=True)
    p = 1 - 2 / N
    d = Derivation(
        "Eqs. 10-11: $\\sigma_r$ as a function of $\\sigma_{r'}$ under a fixed projection ratio",
        source="Arora et al. 2019, eqs. 10-11 (Section 3)",
        references=("arora2019",),
        assumptions=[("$\\langle\\nabla\\ell, u_r v_r^\\top\\rangle = \\alpha \\langle\\nabla\\ell, u_{r'} v_{r'}^\\top\\rangle$ "
                     "with constant $\\alpha > 0$, and $\\sigma_r, \\sigma_{r'} > 0$ on the interval considered "
                     "(Lemma 4: a positive singular value stays positive for $N \\ge 2$); $a = \\sigma_r(0)$, "
                     "$b = \\sigma_{r'}(0)$.")],
        scope="Symbolic $N$ (with $N = 1$ and $N = 2$ separately); verified by substitution into eq. 10.",
    )
    rate = lambda s, n: -n * (s**2) ** (1 - 1 / n) * P
    d.step("Eq. 7 for the two singular values, with projections $\\alpha P(t)$ and $P(t)$:",
           [d.equation(sp.Derivative(sp.Symbol("sigma_r"), t), alpha * rate(sp.Symbol("sigma_r"), N)),
            d.equation(sp.Derivative(sp.Symbol("sigma_rp"), t), rate(sp.Symbol("sigma_rp"), N))])
    ratio = sp.simplify(alpha * rate(sr, N) / rate(sq, N))
    d.step("Dividing (eq. 10): the time and $P$ drop out.",
           d.equation(sp.Derivative(sp.Symbol("sigma_r"), sp.Symbol("sigma_rp")), ratio))
    d.prove_zero("eq. 10: the ratio of the two rates is $\\alpha(\\sigma_r^2)^{1-1/N}/(\\sigma_{r'}^2)^{1-1/N}$",
                 _zero(ratio - alpha * (sr**2) ** (1 - 1 / N) / (sq**2) ** (1 - 1 / N)))

    def residual(F, n):
        return sp.diff(F, sq) - alpha * (F**2) ** (1 - 1 / n) / (sq**2) ** (1 - 1 / n)

    laws = {}
    for depth, label in ((1, "N = 1"), (2, "N = 2"), (N, "N symbolic")):
        lhs = _separate(depth, a, sp.Symbol("X", positive=True), y)
        rhs = alpha * _separate(depth, b, sq, y)
        roots = sp.solve(sp.Eq(lhs, rhs), sp.Symbol("X", positive=True))
        d.record(f"{label}: separating variables, $\\int_a^{{\\sigma_r}} = \\alpha\\int_b^{{\\sigma_{{r'}}}}$ has one "
                 "solution", len(roots) == 1, method="solve")
        laws[depth] = sp.simplify(roots[0])
    F1 = alpha * sq + cr
    F2 = c * sq**alpha
    F3 = (alpha * sq ** (-p) + cr) ** (-1 / p)
    c1 = sp.solve(sp.Eq(F1.subs(sq, b), a), cr)[0]
    c2 = sp.solve(sp.Eq(F2.subs(sq, b), a), c)[0]
    c3 = sp.solve(sp.Eq(alpha * b ** (-p) + cr, a ** (-p)), cr)[0]   # the base of F3 at sigma_r' = b is a^-p
    d.step("Separating variables, $\\int_a^{\\sigma_r} y^{-(2-2/N)}dy = \\alpha\\int_b^{\\sigma_{r'}} y^{-(2-2/N)}dy$; "
           "sympy integrates and solves for $\\sigma_r$:",
           [d.equation(Label("N=1:\\ \\sigma_r"), laws[1]), d.equation(Label("N=2:\\ \\sigma_r"), laws[2]),
            d.equation(Label("N\\geq 3:\\ \\sigma_r"), laws[N])])
    d.prove_zero("$N = 1$: $\\sigma_r = \\alpha\\sigma_{r'} + c$ solves eq. 10", sp.simplify(residual(F1, sp.Integer(1))))
    d.prove_zero("$N = 2$: $\\sigma_r = c\\,\\sigma_{r'}^\\alpha$ solves eq. 10", _zero(residual(F2, sp.Integer(2))))
    res3 = residual(F3, N).subs(cr, B - alpha * sq ** (-p))  # base alpha sq^-p + c = B > 0
    d.prove_zero("symbolic $N$: $\\sigma_r = (\\alpha\\sigma_{r'}^{-p} + c)^{-1/p}$ solves eq. 10", _zero(res3))
    d.prove_zero("$N = 1$: the computed law is $\\alpha\\sigma_{r'} + c_1$", sp.simplify(laws[1] - F1.subs(cr, c1)))
    d.prove_zero("$N = 2$: the computed law is $c_2\\sigma_{r'}^\\alpha$", _zero(laws[2] - F2.subs(c, c2)))
    d.prove_zero("$N \\geq 3$: the computed law is $(\\alpha\\sigma_{r'}^{-p} + c_N)^{-1/p}$",
                 _zero(laws[N] - F3.subs(cr, c3)))
    d.step("The three regimes, with the integration constants sympy fits to the initial values:",
           [d.equation(Label("N=1:\\ \\sigma_r"), F1), d.equation(Label("N=2:\\ \\sigma_r"), F2),
            d.equation(Label("N\\geq 3:\\ \\sigma_r"), F3)])
    d.step("Initial-value constants:", [d.equation(sp.Symbol("c_1"), c1), d.equation(sp.Symbol("c_2"), c2),
                                        d.equation(sp.Symbol("c_N"), c3)])
    d.set_result([d.equation(Label("N=1:\\ \\sigma_r"), F1.subs(cr, c1)),
                  d.equation(Label("N=2:\\ \\sigma_r"), F2.subs(c, c2)),
                  d.equation(Label("N\\geq 3:\\ \\sigma_r"), F3.subs(cr, c3))])
    d.formula("law_n1", (alpha, a, b, sq), F1.subs(cr, c1), "sigma_r(sigma_r') for N = 1, sigma_r(0) = a, sigma_r'(0) = b")
    d.formula("law_n2", (alpha, a, b, sq), F2.subs(c, c2), "sigma_r(sigma_r') for N = 2")
    d.formula("law", (N, alpha, a, b, sq), F3.subs(cr, c3), "sigma_r(sigma_r') for N >= 3")
    d.formula("constant", (N, alpha, a, b), c3, "c_N = a^-p - alpha b^-p")
    return d


def asymptote_depth() -> Derivation:
    """The N >= 3 asymptote and when it decreases with N."""
    N = sp.Symbol("N", positive=True)
    P = sp.Symbol("p", positive=True)  # p = 1 - 2/N in (0, 1), increasing in N
    c = sp.Symbol("c", positive=True)
    a, b, alpha, r = sp.symbols("a b alpha r", positive=True)
    sq = sp.Symbol("sigma_rp", positive=True)
    w = sp.Symbol("w", positive=True)
    d = Derivation(
        "Eq. 11: the asymptote for $N \\ge 3$ and its dependence on depth",
        source="Arora et al. 2019, discussion after eq. 11",
        references=("arora2019",),
        assumptions=[("$N \\ge 3$, $p = 1 - 2/N \\in (0, 1)$ increases with $N$; $\\alpha > 0$; "
                     "$a = \\sigma_r(0)$, $b = \\sigma_{r'}(0)$ positive; the asymptote exists iff $c_N > 0$.")],
    )
    F = (alpha * sq ** (-P) + c) ** (-1 / P)
    lim = sp.limit(F, sq, sp.oo)
    d.step("As $\\sigma_{r'} \\to \\infty$, $\\alpha\\sigma_{r'}^{-p} \\to 0$, so $\\sigma_r \\to c^{-1/p}$ (needs $c > 0$).",
           sp.Eq(sp.Limit(sp.Symbol("sigma_r"), sp.Symbol("sigma_rp"), sp.oo), lim))
    d.prove_zero("$\\lim_{\\sigma_{r'}\\to\\infty}(\\alpha\\sigma_{r'}^{-p} + c)^{-1/p} = c^{-1/p}$", sp.simplify(lim - c ** (-1 / P)))
    # (i) fixed c
    Nn = sp.Symbol("N", positive=True)
    A_c = c ** (-1 / (1 - 2 / Nn))
    dlog = sp.diff(sp.log(A_c), Nn)
    target = 2 * sp.log(c) / (Nn**2 * (1 - 2 / Nn) ** 2)
    d.prove_zero("fixed $c$: $\\frac{d}{dN}\\log c^{-1/p} = \\frac{2\\log c}{N^2p^2}$", _zero(sp.expand_log(dlog, force=True) - target))
    d.step("Reading (i), $c$ held fixed: $\\frac{d}{dN}\\log c^{-1/p} = \\frac{2\\log c}{N^2p^2}$, so the asymptote "
           "decreases with $N$ iff $0 < c < 1$; it is constant for $c = 1$ and INCREASES with $N$ for $c > 1$.",
           sp.Eq(sp.Derivative(sp.log(sp.Symbol("A")), Nn), target))
    # (ii) fixed initial values
    A_ab = a * (1 - alpha * r**P) ** (-1 / P)   # r = a / b
    d.prove_zero("$A = (a^{-p} - \\alpha b^{-p})^{-1/p} = a(1 - \\alpha(a/b)^p)^{-1/p}$",
                 _zero(((a ** (-P) - alpha * b ** (-P)) ** (-1 / P) - A_ab.subs(r, a / b)).subs(
                     alpha, (1 - sp.Symbol("u", positive=True)) * (b / a) ** P)))
    dlogp = sp.diff(sp.log(A_ab), P)
    formula = (sp.log(1 - w) + w * P * sp.log(r) / (1 - w)) / P**2
    d.prove_zero("$\\frac{d}{dp}\\log A = \\frac{1}{p^2}\\big[\\log(1-w) + \\frac{wp\\log r}{1-w}\\big]$ with $w = \\alpha r^p$",
                 _zero(sp.expand_log(dlogp - formula.subs(w, alpha * r**P), force=True)))
    d.step("Reading (ii), initial values $a, b$ held fixed (the experiment's reading): with $r = a/b$ and "
           "$w = \\alpha r^p \\in (0,1)$ (the asymptote exists), "
           "$\\frac{d}{dp}\\log A = \\frac{1}{p^2}\\left[\\log(1-w) + \\frac{w\\,p\\log r}{1-w}\\right]$. "
           "If $a \\le b$ ($r \\le 1$) both terms are $\\le 0$ and the first is $< 0$: the asymptote strictly "
           "decreases with $N$. If $a > b$ the second term is positive and can win (e.g. $a/b = 100$, "
           "$\\alpha = 0.01$: the asymptote increases for $N = 3..8$), so the condition matters.",
           sp.Eq(sp.Derivative(sp.log(sp.Symbol("A")), P), formula))
    d.set_result(d.equation(sp.Symbol("A_N"), a * (1 - alpha * (a / b) ** (1 - 2 / N)) ** (-1 / (1 - 2 / N))))
    return d


__all__ = ["asymptote_depth", "eq11", "lemma4", "sign_preservation"]
