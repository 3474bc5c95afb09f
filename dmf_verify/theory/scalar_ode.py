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

import sympy as sp

from dmf_verify.theory.derivation import Derivation


def _zero(expr):
    """Canonical form for exact zero checks with symbolic exponents and positive bases."""
    e = sp.powdenest(sp.expand_power_base(expr, force=True), force=True)
    return sp.simplify(sp.powsimp(e, force=True))


def lemma4() -> Derivation:
    t = sp.Symbol("t", real=True)
    N = sp.Symbol("N", positive=True)
    m = sp.Symbol("m", positive=True)  # |x(0)|
    B = sp.Symbol("B", positive=True)  # the base of the N >= 3 power, positive before blow-up
    E = sp.Symbol("E", positive=True)  # exp(G) for N = 2
    g = sp.Function("g", real=True)(t)
    G = sp.Function("G", real=True)(t)
    gs = sp.Symbol("g_0", positive=True)  # constant |g| for the blow-up time
    p = 1 - 2 / N
    d = Derivation(
        "Lemma 4 (Arora et al. 2019): the scalar ODE dx/dt = g(t) (x^2)^(1-1/N)",
        assumptions=[("$g$ continuous, $G(t) = \\int_0^t g$, $x(0) \\neq 0$; $s = \\mathrm{sign}(x(0))$, "
                     "$p = 1 - 2/N$. Checks are exact substitutions into the ODE, done separately for "
                     "$x(0) = m > 0$ and $x(0) = -m < 0$.")],
    )
    d.symbols.update(t=t, N=N, g=g, G=G)

    def ode_residual(x, depth):
        lhs = sp.diff(x, t).subs(sp.Derivative(G, t), g)
        return lhs - g * (x**2) ** (1 - sp.S.One / depth)

    # N = 1
    for s, name in ((1, "x(0) > 0"), (-1, "x(0) < 0")):
        x = s * m + G
        d.prove_zero(f"N = 1, {name}: x = x(0) + G solves x' = g", ode_residual(x, 1))
    d.step("$N = 1$: $(x^2)^0 = 1$, so $\\dot x = g$ and $x(t) = x(0) + G(t)$ (may cross zero).",
           sp.Eq(sp.Symbol("x(t)"), sp.Symbol("x_0") + G))

    # N = 2
    for s, name in ((1, "x(0) > 0"), (-1, "x(0) < 0")):
        x = s * m * sp.exp(s * G)
        res = ode_residual(x, 2)
        res = res.subs(sp.exp(s * G), E ** s).subs(sp.exp(-s * G), E ** (-s))
        d.prove_zero(f"N = 2, {name}: x = x(0) exp(s G) solves x' = g |x|", _zero(res))
    d.step("$N = 2$: $\\dot x = g|x|$. With $s = \\mathrm{sign}\\,x(0)$, $\\frac{d}{dt}\\log|x| = s g$, so "
           "$x(t) = x(0)e^{sG(t)}$: never zero, no finite-time blow-up, sign preserved.",
           sp.Eq(sp.Symbol("x(t)"), sp.Symbol("x_0") * sp.exp(sp.Symbol("s") * G)))

    # N >= 3, symbolic N
    d.step("$N \\ge 3$, $x(0) > 0$ while $x > 0$: $\\frac{d}{dt} x^{-p} = -p\\, x^{-p-1} \\dot x = -p\\, g\\, "
           "x^{-p-1+2-2/N} = -p\\, g$, so $x^{-p} = x(0)^{-p} - p\\,G$; for $x(0) < 0$ apply this to $y = -x$, "
           "which solves $\\dot y = -g (y^2)^{1-1/N}$.",
           sp.Eq(sp.Derivative(sp.Symbol("x") ** (-p), t), -p * g))
    for s, name in ((1, "x(0) > 0"), (-1, "x(0) < 0")):
        x = s * (m ** (-p) - p * s * G) ** (-1 / p)
        res = ode_residual(x, N)
        res = res.subs(G, s * (m ** (-p) - B) / p)  # base = B > 0 before blow-up
        d.prove_zero(f"N symbolic, {name}: x = s (|x0|^-p - p s G)^(-1/p) solves the ODE", _zero(res))
        d.prove_zero(f"N symbolic, {name}: x(0) recovered at G = 0",
                     _zero(x.subs(G, 0) - s * m))
    x0s, Gs, ss = sp.Symbol("x_0"), sp.Symbol("G(t)"), sp.Symbol("s")
    sol = sp.Eq(sp.Symbol("x(t)"), ss * (sp.Abs(x0s) ** (-p) - p * ss * Gs) ** (-1 / p))
    d.step("Solution for $N \\ge 3$ (the sign $s$ is preserved as long as the base is positive):", sol)

    # blow-up time for constant g
    T = sp.Symbol("T", positive=True)
    Texpr = m ** (-p) / (p * gs)
    d.prove_zero("constant g = s g0 (s g > 0): base |x0|^-p - p s G vanishes at T = |x0|^-p/(p g0)",
                 sp.simplify(m ** (-p) - p * gs * Texpr))
    q = sp.Symbol("q", positive=True)  # N = 2 + q > 2, so p = q/(2+q) > 0
    pq = p.subs(N, 2 + q)
    lim = sp.limit(B ** (-1 / pq), B, 0, "+")
    d.prove_zero("N > 2: |x| = B^(-1/p) -> oo as the base B -> 0+", sp.Integer(0) if lim is sp.oo else sp.Integer(1))
    d.step("Blow-up for constant $g$ with $s g > 0$ (g drives $|x|$ up): the base "
           "$|x_0|^{-p} - p|g|t$ reaches 0 at $T$ and $|x| = B^{-1/p} \\to \\infty$; with $s g < 0$ the base grows "
           "and $x \\to 0$ without reaching it. For $N \\le 2$ there is no blow-up.",
           sp.Eq(T, sp.Abs(x0s) ** (-p) / (p * sp.Abs(sp.Symbol("g")))))
    d.result = sol
    d.symbols.update(blowup_time=lambda x0, n, g0: abs(x0) ** (-(1 - 2 / n)) / ((1 - 2 / n) * abs(g0)))
    return d


def eq11() -> Derivation:
    sr, sq = sp.symbols("sigma_r sigma_rp", positive=True)  # sigma_r, sigma_r'
    alpha, c = sp.symbols("alpha c", positive=True)
    cr = sp.Symbol("c", real=True)
    N = sp.Symbol("N", positive=True)
    B = sp.Symbol("B", positive=True)
    t = sp.Symbol("t", real=True)
    P = sp.Function("P", real=True)(t)
    p = 1 - 2 / N
    d = Derivation(
        "Eqs. 10-11 (Arora et al. 2019): sigma_r as a function of sigma_r' under a fixed projection ratio",
        assumptions=[("$\\langle\\nabla\\ell, u_r v_r^\\top\\rangle = \\alpha \\langle\\nabla\\ell, u_{r'} v_{r'}^\\top\\rangle$ "
                     "with constant $\\alpha > 0$, and $\\sigma_r, \\sigma_{r'} > 0$ on the interval considered "
                     "(Lemma 4: a positive singular value stays positive for $N \\ge 2$).")],
    )
    rate = lambda s, n: -n * (s**2) ** (1 - 1 / n) * P
    d.step("Eq. 7 for the two singular values, with projections $\\alpha P(t)$ and $P(t)$:",
           [sp.Eq(sp.Derivative(sp.Symbol("sigma_r"), t), alpha * rate(sp.Symbol("sigma_r"), N)),
            sp.Eq(sp.Derivative(sp.Symbol("sigma_r'"), t), rate(sp.Symbol("sigma_r'"), N))])
    ratio = sp.simplify(alpha * rate(sr, N) / rate(sq, N))
    d.step("Dividing (eq. 10): the time and $P$ drop out.",
           sp.Eq(sp.Derivative(sp.Symbol("sigma_r"), sp.Symbol("sigma_r'")), ratio))
    d.prove_zero("eq. 10: ratio of the two rates = alpha (sr^2)^(1-1/N)/(sq^2)^(1-1/N)",
                 _zero(ratio - alpha * (sr**2) ** (1 - 1 / N) / (sq**2) ** (1 - 1 / N)))

    def residual(F, n):
        return sp.diff(F, sq) - alpha * (F**2) ** (1 - 1 / n) / (sq**2) ** (1 - 1 / n)

    F1 = alpha * sq + cr
    d.prove_zero("N = 1: sigma_r = alpha sigma_r' + c solves eq. 10", sp.simplify(residual(F1, sp.Integer(1))))
    F2 = c * sq**alpha
    d.prove_zero("N = 2: sigma_r = c sigma_r'^alpha solves eq. 10", _zero(residual(F2, sp.Integer(2))))
    F3 = (alpha * sq ** (-p) + cr) ** (-1 / p)
    res3 = residual(F3, N).subs(cr, B - alpha * sq ** (-p))  # base alpha sq^-p + c = B > 0
    d.prove_zero("N symbolic: sigma_r = (alpha sigma_r'^-p + c)^(-1/p) solves eq. 10", _zero(res3))
    # integration constants from the initial values
    a, b = sp.symbols("a b", positive=True)
    c1, c2, c3 = a - alpha * b, a / b**alpha, a ** (-p) - alpha * b ** (-p)
    d.prove_zero("N = 1: c = a - alpha b matches sigma_r(0) = a, sigma_r'(0) = b", sp.simplify(F1.subs({cr: c1, sq: b}) - a))
    d.prove_zero("N = 2: c = a / b^alpha matches the initial values", _zero(F2.subs({c: c2, sq: b}) - a))
    d.prove_zero("N >= 3: c = a^-p - alpha b^-p matches the initial values",
                 _zero(F3.subs({cr: c3, sq: b}) - a))
    s = sp.Symbol("sigma", positive=True)
    d.step("Separating variables: $\\int \\sigma^{-(2-2/N)} d\\sigma = -\\sigma^{-p}/p$ for $N \\ne 2$ "
           "($p = 1-2/N$), $\\log\\sigma$ for $N = 2$, $\\sigma$ for $N = 1$.",
           sp.Eq(sp.Integral(s ** (-(2 - 2 / N)), s), -s ** (-p) / p))
    d.prove_zero("antiderivative: d/dsigma (-sigma^-p/p) = sigma^-(2-2/N)",
                 _zero(sp.diff(-s ** (-p) / p, s) - s ** (-(2 - 2 / N))))
    d.step("The three regimes (c from the initial values $a = \\sigma_r(0)$, $b = \\sigma_{r'}(0)$):",
           [sp.Eq(sp.Symbol("N=1:\\ \\sigma_r"), F1), sp.Eq(sp.Symbol("N=2:\\ \\sigma_r"), F2),
            sp.Eq(sp.Symbol("N\\geq 3:\\ \\sigma_r"), F3)])
    d.step("Initial-value constants", [sp.Eq(sp.Symbol("c_1"), c1), sp.Eq(sp.Symbol("c_2"), c2),
                                       sp.Eq(sp.Symbol("c_{N}"), c3)])
    d.result = sp.Eq(sp.Symbol("sigma_r"), F3)
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
        "Eq. 11 asymptote for N >= 3 and its dependence on depth",
        assumptions=[("$N \\ge 3$, $p = 1 - 2/N \\in (0, 1)$ increases with $N$; $\\alpha > 0$; "
                     "$a = \\sigma_r(0)$, $b = \\sigma_{r'}(0)$ positive; the asymptote exists iff $c_N > 0$.")],
    )
    F = (alpha * sq ** (-P) + c) ** (-1 / P)
    lim = sp.limit(F, sq, sp.oo)
    d.step("As $\\sigma_{r'} \\to \\infty$, $\\alpha\\sigma_{r'}^{-p} \\to 0$, so $\\sigma_r \\to c^{-1/p}$ (needs $c > 0$).",
           sp.Eq(sp.Limit(sp.Symbol("sigma_r"), sp.Symbol("sigma_r'"), sp.oo), lim))
    d.prove_zero("limit of (alpha sq^-p + c)^(-1/p) as sq -> oo is c^(-1/p)", sp.simplify(lim - c ** (-1 / P)))
    # (i) fixed c
    Nn = sp.Symbol("N", positive=True)
    A_c = c ** (-1 / (1 - 2 / Nn))
    dlog = sp.diff(sp.log(A_c), Nn)
    target = 2 * sp.log(c) / (Nn**2 * (1 - 2 / Nn) ** 2)
    d.prove_zero("fixed c: d/dN log c^(-1/p) = 2 log(c) / (N^2 p^2)", _zero(sp.expand_log(dlog, force=True) - target))
    d.step("Reading (i), $c$ held fixed: $\\frac{d}{dN}\\log c^{-1/p} = \\frac{2\\log c}{N^2p^2}$, so the asymptote "
           "decreases with $N$ iff $0 < c < 1$; it is constant for $c = 1$ and INCREASES with $N$ for $c > 1$.",
           sp.Eq(sp.Derivative(sp.log(sp.Symbol("A")), Nn), target))
    # (ii) fixed initial values
    A_ab = a * (1 - alpha * r**P) ** (-1 / P)   # r = a / b
    d.prove_zero("A = (a^-p - alpha b^-p)^(-1/p) = a (1 - alpha (a/b)^p)^(-1/p)",
                 _zero(((a ** (-P) - alpha * b ** (-P)) ** (-1 / P) - A_ab.subs(r, a / b)).subs(
                     alpha, (1 - sp.Symbol("u", positive=True)) * (b / a) ** P)))
    dlogp = sp.diff(sp.log(A_ab), P)
    formula = (sp.log(1 - w) + w * P * sp.log(r) / (1 - w)) / P**2
    d.prove_zero("d/dp log A = [log(1-w) + w p log r/(1-w)] / p^2 with w = alpha r^p",
                 _zero(sp.expand_log(dlogp - formula.subs(w, alpha * r**P), force=True)))
    d.step("Reading (ii), initial values $a, b$ held fixed (the experiment's reading): with $r = a/b$ and "
           "$w = \\alpha r^p \\in (0,1)$ (the asymptote exists), "
           "$\\frac{d}{dp}\\log A = \\frac{1}{p^2}\\left[\\log(1-w) + \\frac{w\\,p\\log r}{1-w}\\right]$. "
           "If $a \\le b$ ($r \\le 1$) both terms are $\\le 0$ and the first is $< 0$: the asymptote strictly "
           "decreases with $N$. If $a > b$ the second term is positive and can win (e.g. $a/b = 100$, "
           "$\\alpha = 0.01$: the asymptote increases for $N = 3..8$), so the condition matters.",
           sp.Eq(sp.Derivative(sp.log(sp.Symbol("A")), P), formula))
    d.result = sp.Eq(sp.Symbol("A_N"), a * (1 - alpha * (a / b) ** (1 - 2 / N)) ** (-1 / (1 - 2 / N)))
    return d


__all__ = ["asymptote_depth", "eq11", "lemma4"]
