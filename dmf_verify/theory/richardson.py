"""Gradient descent as a one-step method for the gradient flow: its error expansion in the step and
Richardson extrapolation, derived with sympy.

* Simultaneous GD W_j <- W_j - eta G_j(W) is the explicit Euler method for the factor-level flow
  y' = f(y), f = -grad phi. Its global error has an asymptotic expansion
  y_n = y(t_n) + eta e_1(t_n) + eta^2 e_2(t_n) + ... (Hairer, Norsett & Wanner I, Thm. II.8.1);
  sympy computes the equation of the first coefficient, e_1' = f'(y) e_1 - f'(y) f(y) / 2, from the
  recursion expanded in eta.
* A sequential (Gauss-Seidel) update over two blocks, x+ = x + eta f_1(x, z), z+ = z + eta f_2(x+, z),
  differs from the simultaneous one by eta^2 (0, d_x f_2 f_1) per step: the same limit eta -> 0, but
  a different e_1 -- so the extrapolated limit cannot tell them apart, the first coefficient can.
* Richardson weights: with values at eta, eta/2, ..., eta/2^L, the combination that cancels the
  powers eta^1..eta^L is solved for exactly, its leading remaining term is eta^(L+1) (order L + 1),
  and the Neville recursion T_{i,j} = T_{i,j-1} + (T_{i,j-1} - T_{i-1,j-1})/(2^j - 1) reproduces it.
"""

from __future__ import annotations

import functools

import sympy as sp

from dmf_verify.theory.derivation import Derivation, Label

MAX_LEVEL = 8


def richardson_weights(level: int) -> list:
    """Exact weights w_0..w_L (values at eta/2^i) cancelling eta^1..eta^L, from a linear solve."""
    ws = sp.symbols(f"w_0:{level + 1}")
    eqs = [sp.Eq(sum(ws), 1)] + [sp.Eq(sum(w * sp.Rational(1, 2 ** (i * k)) for i, w in enumerate(ws)), 0)
                                 for k in range(1, level + 1)]
    sol = sp.solve(eqs, ws, dict=True)
    if len(sol) != 1:
        raise RuntimeError(f"Richardson weights for level {level}: expected one solution, got {len(sol)}")
    return [sol[0][w] for w in ws]


def _neville(values, level):
    """T_{L,L} of the recursion T_{i,j} = T_{i,j-1} + (T_{i,j-1} - T_{i-1,j-1})/(2^j - 1)."""
    T = [[v] for v in values]
    for i in range(1, level + 1):
        for j in range(1, i + 1):
            T[i].append(T[i][j - 1] + (T[i][j - 1] - T[i - 1][j - 1]) / (2**j - 1))
    return sp.expand(T[level][level])


@functools.lru_cache(maxsize=1)
def gd_error_expansion() -> Derivation:
    t = sp.Symbol("t", real=True)
    h = sp.Symbol("eta", positive=True)
    f = sp.Function("f")
    Y, E = sp.Function("y")(t), sp.Function("e_1")(t)
    d = Derivation(
        "Gradient descent and the flow: the error expansion in the step and Richardson extrapolation",
        source="Arora et al. 2019, Section 3 (gradient flow as the limit of gradient descent with small step); "
               "Hairer, N\u00f8rsett & Wanner, Theorem II.8.1 and Section II.9",
        references=("arora2019", "hairer1993"),
        assumptions=[("$f$ smooth; simultaneous gradient descent $W_j \\leftarrow W_j - \\eta G_j(W)$ is the explicit "
                     "Euler method $y_{n+1} = y_n + \\eta f(y_n)$ for the factor-level flow $\\dot y = f(y) = "
                     "-\\nabla\\phi(y)$, with $t_n = n\\eta$.")],
        scope=("Scalar autonomous $f$ for the expansion (the vector case is identical, with $f'$ the Jacobian); two "
               "scalar blocks for the sequential update; Richardson weights for levels $L = 1, \\ldots, "
               f"{MAX_LEVEL}$ exactly."),
    )
    # (a) the first coefficient of the global error
    lhs = Y.subs(t, t + h) + h * E.subs(t, t + h)
    rhs = Y + h * E + h * f(Y + h * E)
    ser = sp.series(lhs - rhs, h, 0, 3).removeO().doit()
    flow = {sp.Derivative(Y, (t, 2)): sp.diff(f(Y), t).subs(sp.Derivative(Y, t), f(Y)),
            sp.Derivative(Y, t): f(Y)}
    c1 = sp.simplify(ser.coeff(h, 1).subs(flow))
    c2 = sp.simplify(ser.coeff(h, 2).subs(flow).subs(flow))
    d.step("Insert the ansatz $y_n = y(t_n) + \\eta\\,e_1(t_n) + O(\\eta^2)$ into $y_{n+1} = y_n + \\eta f(y_n)$, "
           "expand in $\\eta$ with $\\dot y = f(y)$, $\\ddot y = f'(y)f(y)$; the coefficients of $\\eta$ and $\\eta^2$:",
           [d.equation(Label("[\\eta^1]"), c1), d.equation(Label("[\\eta^2]"), c2)])
    d.prove_zero("the $\\eta^1$ coefficient vanishes (consistency: the limit is the flow)", c1)
    e1dot = sp.solve(sp.Eq(c2, 0), sp.Derivative(E, t))
    d.record("the $\\eta^2$ coefficient determines $\\dot e_1$ uniquely", len(e1dot) == 1, method="solve")
    e1dot = sp.simplify(e1dot[0])
    d.step("Sympy solves the $\\eta^2$ coefficient for $\\dot e_1$ ($e_1(0) = 0$): the first coefficient of the error "
           "expansion solves the variational equation forced by $-\\frac12 f'f$,",
           d.equation(sp.Derivative(E, t), e1dot))
    fp = sp.Symbol("J", real=True)       # f'(y)
    fy = sp.Symbol("F", real=True)       # f(y)
    ev = sp.Symbol("e", real=True)
    e1_expr = e1dot.subs({sp.Subs(sp.Derivative(f(sp.Symbol("_xi_1")), sp.Symbol("_xi_1")), sp.Symbol("_xi_1"), Y): fp})
    e1_expr = e1_expr.replace(lambda x: isinstance(x, (sp.Derivative, sp.Subs)), lambda x: fp).subs({f(Y): fy, E: ev})
    d.prove_zero("$\\dot e_1 = f'(y)e_1 - \\frac12 f'(y)f(y)$", sp.expand(e1_expr - (fp * ev - fp * fy / 2)))
    d.formula("first_coefficient", (fp, ev, fy), sp.expand(e1_expr),
              "e_1' as a function of J = f'(y) (acting on vectors), e = e_1 and F = f(y)")
    direction = sp.diff(e1_expr, fp)
    d.prove_zero("$\\dot e_1$ is linear in $f'$: $\\dot e_1 = f'(y)\\,\\delta$ with $\\delta = e_1 - \\frac12 f(y)$",
                 sp.Matrix([sp.diff(e1_expr, fp, 2), sp.expand(e1_expr - fp * direction)]))
    d.formula("first_coefficient_direction", (ev, fy), direction,
              "delta(e, F) with e_1' = f'(y) delta: the Jacobian of the flow applied to delta")

    # (b) sequential update over two blocks
    x, z = sp.symbols("x z", real=True)
    f1, f2 = sp.Function("f_1")(x, z), sp.Function("f_2")(x, z)
    xs = x + h * f1
    zs_seq = z + h * sp.Function("f_2")(xs, z)
    zs_sim = z + h * f2
    diff = sp.series(zs_seq - zs_sim, h, 0, 3).removeO().doit()
    lead = sp.simplify(diff.coeff(h, 2))
    d.step("Sequential update over two blocks, $x^+ = x + \\eta f_1(x, z)$, $z^+ = z + \\eta f_2(x^+, z)$: the step "
           "differs from the simultaneous one by",
           d.equation(Label("z^+_{seq} - z^+_{sim}"), sp.Mul(h**2, lead, evaluate=False) + sp.Order(h**3)))
    d.prove_zero("the difference has no $\\eta^0$, $\\eta^1$ terms (same limit $\\eta \\to 0$)",
                 sp.Matrix([diff.coeff(h, 0), diff.coeff(h, 1)]))
    d.record("its $\\eta^2$ term $\\partial_x f_2\\, f_1$ is not identically zero (a different $e_1$)", lead != 0,
             method="series")
    d.step("So a sequential update converges to the same flow (the extrapolated limit cannot tell them apart) but "
           "its first error coefficient solves $\\dot e_1 = f'e_1 - \\frac12 f'f + (0, \\partial_x f_2 f_1)$: the first "
           "coefficient distinguishes it.")

    # (c) Richardson extrapolation
    A0 = sp.Symbol("A_0")
    cs = sp.symbols(f"c_1:{MAX_LEVEL + 3}")
    rows = []
    for level in range(1, MAX_LEVEL + 1):
        w = richardson_weights(level)
        vals = [A0 + sum(c * (h / 2**i) ** (k + 1) for k, c in enumerate(cs[: level + 2])) for i in range(level + 1)]
        comb = sp.expand(sum(wi * v for wi, v in zip(w, vals)))
        lead_coef = sp.factor(comb.coeff(h, level + 1))
        powers = "$\\eta^1$" if level == 1 else f"$\\eta^1, \\ldots, \\eta^{{{level}}}$"
        d.prove_zero(f"$L = {level}$: the weights cancel {powers} and keep $A_0$",
                     sp.Matrix([comb.coeff(h, k) for k in range(1, level + 1)] + [comb.coeff(h, 0) - A0]))
        d.record(f"$L = {level}$: the $\\eta^{{{level + 1}}}$ term survives (order {level + 1})", lead_coef != 0,
                 method="expand")
        d.prove_zero(f"$L = {level}$: the Neville recursion with factors $1/(2^j - 1)$ gives the same combination",
                     sp.expand(_neville(vals, level) - comb))
        d.formula(f"weights_{level}", (), tuple(w), f"Richardson weights for values at eta/2^i, i = 0..{level}")
        if level <= 3:
            rows.append(d.equation(Label(f"w^{{({level})}}"), sp.Matrix([w])))
    d.step("Richardson extrapolation: values $A(\\eta/2^i)$, $i = 0..L$, with $A(\\eta) = A_0 + \\sum_k c_k\\eta^k$; "
           "sympy solves for the weights that cancel $\\eta^1..\\eta^L$ (first levels shown):", rows)
    d.set_result([d.equation(sp.Derivative(E, t), e1dot),
                  d.equation(Label("T_{L,L} - A_0"), sp.Order(h ** (sp.Symbol("L") + 1), (h, 0)))])
    return d


__all__ = ["MAX_LEVEL", "gd_error_expansion", "richardson_weights"]
