"""Proposition 1 (Arora et al. 2019): the minimum nuclear norm solution reached by deep
factorization (Theorem 2) need not be even a local minimizer of any Schatten-p quasi-norm.

Construction (Appendix B.2; reconstructed and re-derived here), d >= 3, diagonal (hence commuting, symmetric,
linearly independent) measurements:

    A_1 = e_1 e_1^T - e_2 e_2^T,  y_1 = 0        (W_11 = W_22)
    A_k = e_1 e_1^T - e_k e_k^T,  y_k = 1, k = 3..d  (W_11 = W_kk + 1)

* PSD feasible set: W_kk >= 0 forces W_11 = W_kk + 1 >= 1, and ||W||_* = tr W =
  2 W_11 + (d-2)(W_11 - 1) >= 2 with equality iff diag(W) = (1, 1, 0, ..., 0). So
  W* = diag(1, 1, 0, ..., 0) is a minimum nuclear norm PSD solution for every d >= 3, and so is
  every W_eps = W* + eps (e_1 e_2^T + e_2 e_1^T), |eps| <= 1 (the minimizers form a segment).
* Schatten-p, 0 < p < 1: W_eps has eigenvalues 1 +- eps, 0, ..., so
  ||W_eps||_{S_p}^p = (1+eps)^p + (1-eps)^p < 2 = ||W*||_{S_p}^p for 0 < |eps| <= 1: W* is not a
  local minimizer of any Schatten-p quasi-norm.
* Without the PSD restriction the picture changes: for symmetric diagonal W = diag(t, t, t-1, ...)
  ||W||_* = 2|t| + (d-2)|t-1|: d = 3 -> minimum 1 at diag(0, 0, -1) (W* is NOT a minimizer);
  d = 4 -> 2 on the whole interval t in [0, 1] (a tie); d >= 5 -> 2 only at t = 1.

Everything is built on demand (nothing at import time).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from dmf_verify.theory.derivation import Derivation, Label

__all__ = [
    "interval_certificate",
    "measurements",
    "proposition1",
    "schatten_gap",
    "symbolic_measurements",
    "unrestricted_minimizer",
    "w_star",
]


# ------------------------------------------------------------------------------------------
# numeric construction
# ------------------------------------------------------------------------------------------
def measurements(d: int) -> tuple[np.ndarray, np.ndarray]:
    """(A, y) of the counterexample in dimension d >= 3: A has shape (d - 1, d, d)."""
    from dmf_verify.errors import InvalidArgument

    if isinstance(d, bool) or int(d) != d or d < 3:
        raise InvalidArgument(f"the Proposition 1 construction needs an integer d >= 3, got {d!r}")
    d = int(d)
    a = np.zeros((d - 1, d, d))
    y = np.ones(d - 1)
    a[0, 0, 0], a[0, 1, 1], y[0] = 1.0, -1.0, 0.0
    for k in range(2, d):
        a[k - 1, 0, 0], a[k - 1, k, k] = 1.0, -1.0
    return a, y


def w_star(d: int) -> np.ndarray:
    """diag(1, 1, 0, ..., 0)."""
    w = np.zeros((d, d))
    w[0, 0] = w[1, 1] = 1.0
    return w


def unrestricted_minimizer(d: int) -> tuple[np.ndarray, float]:
    """The diagonal minimizer of ||W||_* WITHOUT the PSD restriction, and the minimum.

    ||diag(t, t, t-1, ...)||_* = 2|t| + (d-2)|t-1| is piecewise linear, minimized at t = 0 (d = 3),
    on [0, 1] (d = 4; returns t = 0, a tie with W*) or at t = 1 (d >= 5).
    """
    t = 0.0 if d <= 4 else 1.0
    w = np.diag([t, t] + [t - 1.0] * (d - 2))
    return w, 2 * abs(t) + (d - 2) * abs(t - 1)


def schatten_gap(p, eps):
    """(1+eps)^p + (1-eps)^p - 2 (negative for 0 < p < 1, 0 < |eps| <= 1)."""
    return (1 + eps) ** p + (1 - eps) ** p - 2


# ------------------------------------------------------------------------------------------
# symbolic construction and proof
# ------------------------------------------------------------------------------------------
def symbolic_measurements(d: int):
    a = []
    e = [sp.Matrix(d, 1, lambda i, _j, k=k: 1 if i == k else 0) for k in range(d)]
    a.append(e[0] * e[0].T - e[1] * e[1].T)
    for k in range(2, d):
        a.append(e[0] * e[0].T - e[k] * e[k].T)
    y = [sp.Integer(0)] + [sp.Integer(1)] * (d - 2)
    return a, y


def _inner(a: sp.Matrix, w: sp.Matrix):
    return sum(a[i, j] * w[i, j] for i in range(a.rows) for j in range(a.cols))


def proposition1(d: int = 4) -> Derivation:
    """The whole argument with exact sympy checks (construction in dimension ``d``)."""
    eps = sp.Symbol("epsilon", real=True)
    t = sp.Symbol("t", real=True)
    q, r, s = sp.symbols("q r s", positive=True)
    p = sp.Symbol("p", positive=True)
    der = Derivation(
        "Proposition 1: the minimum nuclear norm PSD solution is not a local minimizer of any Schatten-$p$ quasi-norm",
        source="Arora et al. 2019, Proposition 1 (proof in Appendix B.2)",
        references=("arora2019", "gunasekar2017"),
        scope=(f"The matrices are explicit for $d = {d}$ (the construction is the same for every $d \\ge 3$); the "
               "Schatten inequality is proved for symbolic $0 < p < 1$ and $0 < \\varepsilon \\le 1$."),
        assumptions=[(f"Dimension $d = {d}$ for the explicit matrices (the argument holds for every $d \\geq 3$); "
                     "$0 < p < 1$ written as $p = 1/(1+q)$, $q > 0$; for $0 < \\varepsilon < 1$, "
                     "$b = 1 - \\varepsilon > 0$ and $r = 2\\varepsilon/(1-\\varepsilon) > 0$.")],
    )
    a, y = symbolic_measurements(d)
    der.step("Diagonal measurements (so they commute, are symmetric and linearly independent): "
             "$A_1 = e_1e_1^\\top - e_2e_2^\\top$, $y_1 = 0$; $A_k = e_1e_1^\\top - e_ke_k^\\top$, $y_k = 1$ ($k = 3..d$).",
             [sp.Eq(sp.Symbol(f"A_{i + 1}"), ai, evaluate=False) for i, ai in enumerate(a)])
    # commuting and independent
    comm = sp.zeros(d, d)
    for i in range(len(a)):
        for j in range(len(a)):
            comm += (a[i] * a[j] - a[j] * a[i]).applyfunc(sp.Abs)
    der.prove_zero("the $A_i$ commute pairwise, $A_iA_j = A_jA_i$", comm, method="expand")
    stack = sp.Matrix([[ai[k, k] for k in range(d)] for ai in a])
    der.record("the $A_i$ are linearly independent (rank $d - 1$)", stack.rank() == d - 1, method="rank")
    ws = sp.diag(*([1, 1] + [0] * (d - 2)))
    weps = ws + eps * (sp.Matrix(d, d, lambda i, j: 1 if {i, j} == {0, 1} else 0))
    der.step("Candidate $W^* = \\mathrm{diag}(1, 1, 0, \\ldots, 0)$ and the perturbation family "
             "$W_\\varepsilon = W^* + \\varepsilon(e_1e_2^\\top + e_2e_1^\\top)$; both fit every measurement.",
             [sp.Eq(Label("W^*"), ws, evaluate=False), sp.Eq(Label("W_\\varepsilon"), weps, evaluate=False)])
    der.prove_zero("$\\langle A_i, W^*\\rangle = y_i$", sp.Matrix([_inner(ai, ws) - yi for ai, yi in zip(a, y)]))
    der.prove_zero("$\\langle A_i, W_\\varepsilon\\rangle = y_i$ for every $\\varepsilon$", sp.Matrix([_inner(ai, weps) - yi for ai, yi in zip(a, y)]))
    # PSD feasible set: the trace
    wd = sp.diag(*([t, t] + [t - 1] * (d - 2)))
    der.prove_zero("the constraints fix $\\mathrm{diag}(W) = (t, t, t-1, \\ldots, t-1)$, $t = W_{11}$",
                   sp.Matrix([_inner(ai, wd) - yi for ai, yi in zip(a, y)]))
    trace = sp.expand(wd.trace())
    der.step("PSD feasible set: $W_{kk} \\geq 0$ forces $t = W_{11} \\geq 1$ and $\\|W\\|_* = \\mathrm{tr}\\,W$, "
             "which depends on the diagonal only; it is minimized at $t = 1$ with value 2, attained by $W^*$ and by "
             "every $W_\\varepsilon$, $|\\varepsilon| \\leq 1$ (PSD, eigenvalues $1 \\pm \\varepsilon$).",
             sp.Eq(Label("\\mathrm{tr}\\,W"), trace))
    der.prove_zero("$\\mathrm{tr}\\,W - 2 = d(t - 1)$ ($\\ge 0$ for $t \\ge 1$, $= 0$ iff $t = 1$)", trace - 2 - d * (t - 1), method="expand")
    ev = weps[:2, :2].eigenvals()
    der.step("Eigenvalues of $W_\\varepsilon$: the $2\\times 2$ block has eigenvalues", sp.FiniteSet(*ev.keys()))
    der.checks["the eigenvalues of $W_\\varepsilon$ are $1 \\pm \\varepsilon, 0, \\ldots, 0$"] = (
        len(ev) == 2 and all(any(sp.expand(k - v) == 0 for k in ev) for v in (1 + eps, 1 - eps))
        and all(sp.simplify(weps[i, j]) == 0 for i in range(2, d) for j in range(d)))
    # Schatten expansion
    f = (1 + eps) ** p + (1 - eps) ** p
    ser = sp.series(f, eps, 0, 5).removeO()
    der.step("Schatten-$p$ quasi-norm along the family, $f(\\varepsilon) = \\|W_\\varepsilon\\|_{S_p}^p$ (eigenvalues $1 \\pm \\varepsilon$, $0 \\leq \\varepsilon \\leq 1$):",
             sp.Eq(sp.Symbol("f"), f))
    der.step("Expansion at $\\varepsilon = 0$ (the $\\varepsilon^2$ coefficient $p(p-1) < 0$ for $0 < p < 1$):",
             sp.Eq(sp.Symbol("f"), sp.expand(ser) + sp.O(eps ** 6)))
    der.prove_zero("series: $f(\\varepsilon) = 2 + p(p-1)\\varepsilon^2 + O(\\varepsilon^4)$",
                   sp.expand(ser.coeff(eps, 0) - 2) + sp.expand(ser.coeff(eps, 1))
                   + sp.expand(ser.coeff(eps, 2) - p * (p - 1)) + sp.expand(ser.coeff(eps, 3)), method="simplify")
    der.checks["$p(p-1) < 0$ for $p = 1/(1+q)$, $q > 0$"] = bool((sp.Rational(1) / (1 + q) * (1 / (1 + q) - 1)).is_negative)
    # exact proof for all 0 < eps <= 1, 0 < p < 1
    pq = 1 / (1 + q)
    c = 1 - pq  # = q/(1+q) in (0, 1)
    b = sp.Symbol("b", positive=True)  # b = 1 - eps > 0
    fprime = sp.diff(f, eps)
    der.step("Exact proof for every $0 < \\varepsilon \\leq 1$ and every $0 < p < 1$. Derivative:",
             sp.Eq(sp.Symbol("f'"), p * ((1 + eps) ** (p - 1) - (1 - eps) ** (p - 1))))
    der.prove_zero("$f'(\\varepsilon) = p((1+\\varepsilon)^{p-1} - (1-\\varepsilon)^{p-1})$",
                   sp.powsimp(fprime) - p * ((1 + eps) ** (p - 1) - (1 - eps) ** (p - 1)), method="expand")
    der.prove_zero("$f$ is even: $f(-\\varepsilon) = f(\\varepsilon)$", f.subs(eps, -eps) - f, method="expand")
    J = sp.Symbol("J", positive=True)
    der.prove_zero("with $b = 1 - \\varepsilon > 0$, $r = 2\\varepsilon/(1 - \\varepsilon) > 0$: $1 + \\varepsilon = b(1 + r)$",
                   (1 - eps) * (1 + 2 * eps / (1 - eps)) - (1 + eps), method="simplify")
    lhs = pq * ((b * (1 + r)) ** (pq - 1) - b ** (pq - 1))
    factored = -pq * b ** (-c) * (1 + r) ** (-c) * ((1 + r) ** c - 1)
    der.step("With $p = 1/(1+q)$, $c = 1 - p = q/(1+q) > 0$, $b = 1 - \\varepsilon > 0$ and "
             "$1 + \\varepsilon = b(1 + r)$, $r = 2\\varepsilon/(1-\\varepsilon) > 0$:",
             sp.Eq(sp.Symbol("f'"), factored))
    der.prove_zero("$p((b(1+r))^{p-1} - b^{p-1}) = -pb^{-c}(1+r)^{-c}((1+r)^c - 1)$",
                   sp.expand(sp.expand_power_base(lhs - factored)))
    integrand = c * (1 + s) ** (c - 1)
    der.step("$(1+r)^c - 1$ is an integral of a positive function:",
             sp.Eq((1 + r) ** c - 1, sp.Integral(integrand, (s, 0, r))))
    der.prove_zero("$(1+r)^c - 1 = \\int_0^r c(1+s)^{c-1}ds$", sp.integrate(integrand, (s, 0, r)) - ((1 + r) ** c - 1))
    der.record("the integrand $c(1+s)^{c-1} > 0$ (so $(1+r)^c - 1 = J > 0$)", bool(integrand.is_positive), method="assumptions")
    sign = (-pq * b ** (-c) * (1 + r) ** (-c) * J).is_negative
    der.record("$f'(\\varepsilon) = -pb^{-c}(1+r)^{-c}J < 0$ for all $0 < \\varepsilon < 1$, $0 < p < 1$", bool(sign), method="assumptions")
    der.step("Hence $f' < 0$ on $(0, 1)$; $f$ is continuous on $[0, 1]$ (both powers are, as $p > 0$), so "
             "$f(\\varepsilon) = f(0) + \\int_0^\\varepsilon f' < f(0) = 2$ for $0 < \\varepsilon \\leq 1$, and by evenness for "
             "$0 < |\\varepsilon| \\leq 1$. In particular $f(1) = 2^p < 2$.")
    der.prove_zero("$f(0) = 2$", f.subs(eps, 0) - 2)
    der.record("$f(1) = 2^p < 2$, i.e. $(p - 1)\\log 2 < 0$", bool(((pq - 1) * sp.log(2)).is_negative), method="assumptions")
    # control: p > 1 reverses the sign
    pc = 1 + q
    sign_c = (-pc * b ** q * (1 + r) ** q * (-J)).is_negative  # c = 1 - p = -q: (1+r)^c - 1 = -J' < 0
    der.step("The same factorization for $p > 1$ ($c = 1 - p < 0$) gives $(1+r)^c - 1 < 0$ and $f' > 0$: the "
             "inequality reverses, so the restriction $p < 1$ is essential (Schatten-$p$ norms with $p \\geq 1$ are convex).")
    der.record("control: for $p = 1 + q > 1$ the same factorization gives $f' > 0$ (not $< 0$)", sign_c is False, method="assumptions")
    # unrestricted
    nn = 2 * sp.Abs(t) + (d - 2) * sp.Abs(t - 1)
    der.step("Without the PSD restriction a symmetric diagonal feasible $W = \\mathrm{diag}(t, t, t-1, \\ldots)$ has "
             "$\\|W\\|_* = 2|t| + (d-2)|t-1|$: for $d = 3$ the minimum is 1 at $\\mathrm{diag}(0, 0, -1)$, so $W^*$ is NOT "
             "the minimizer over all matrices; for $d = 4$ every $t \\in [0, 1]$ ties at 2; for $d \\geq 5$ the minimum 2 is "
             "at $t = 1$ only. (Symmetrizing and pinching to the diagonal never increase $\\|\\cdot\\|_*$, so diagonal $W$ suffice.)",
             sp.Eq(Label("\\|W\\|_*"), nn))
    for dd, want in ((3, 1), (4, 2), (5, 2), (6, 2)):
        g = 2 * sp.Abs(t) + (dd - 2) * sp.Abs(t - 1)
        vals = [g.subs(t, tt) for tt in (sp.Integer(0), sp.Rational(1, 2), sp.Integer(1))]
        # piecewise linear with kinks at 0 and 1: the minimum is at a kink
        der.record(f"$d = {dd}$: $\\min_t 2|t| + {dd - 2}|t-1| = {want}$",
                   min(g.subs(t, 0), g.subs(t, 1)) == want and all(v >= want for v in vals), method="exact")
    der.set_result(sp.StrictLessThan(f - 2, 0, evaluate=False))
    der.step("Conclusion: $W^*$ minimizes $\\|W\\|_*$ over PSD feasible $W$ (and is the limit of Theorem 2's flow), but "
             "$\\|W_\\varepsilon\\|_{S_p}^p < \\|W^*\\|_{S_p}^p$ for arbitrarily small $\\varepsilon \\neq 0$: not a local "
             "minimizer of any Schatten-$p$ quasi-norm, $0 < p < 1$.")
    return der


# ------------------------------------------------------------------------------------------
# interval certificate (python-flint arb)
# ------------------------------------------------------------------------------------------
def interval_certificate(p_range=(0.05, 0.95), eps_range=(0.05, 1.0), *, initial=8, max_boxes=200000,
                         prec: int = 64) -> dict:
    """Certify (1+eps)^p + (1-eps)^p < 2 on every box of an adaptively refined grid of
    p_range x eps_range with arb ball arithmetic.

    On a box [p0, p1] x [e0, e1] (0 < p, 0 <= e <= 1), monotonicity of x^p in x and in p gives
    (1+eps)^p <= (1+e1)^p1 and (1-eps)^p <= (1-e0)^p0; both bounds are evaluated in arb at the
    exact (binary) endpoints and their upper end compared with 2. Boxes that fail are bisected
    (up to ``max_boxes``). Returns counts and the largest certified upper bound of f - 2.
    """
    import flint

    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        two = flint.arb(2)
        p_lo, p_hi = p_range
        e_lo, e_hi = eps_range
        ps = np.linspace(p_lo, p_hi, initial + 1)
        es = np.linspace(e_lo, e_hi, initial + 1)
        todo = [(ps[i], ps[i + 1], es[j], es[j + 1]) for i in range(initial) for j in range(initial)]
        certified, worst, processed = 0, -np.inf, 0
        failed = []
        while todo:
            p0, p1, e0, e1 = todo.pop()
            processed += 1
            if processed > max_boxes:
                failed.append((p0, p1, e0, e1))
                break
            P0, P1, E0, E1 = (flint.arb(float(v)) for v in (p0, p1, e0, e1))
            up = (1 + E1) ** P1 + (1 - E0) ** P0  # e0 < 1 on every box, so 1 - E0 > 0
            diff = up - two
            if diff < 0:
                certified += 1
                worst = max(worst, float(diff.mid() + diff.rad()))
            elif (p1 - p0) > 1e-6 and (e1 - e0) > 1e-6:
                pm, em = 0.5 * (p0 + p1), 0.5 * (e0 + e1)
                todo += [(p0, pm, e0, em), (pm, p1, e0, em), (p0, pm, em, e1), (pm, p1, em, e1)]
            else:
                failed.append((p0, p1, e0, e1))
        return {"certified_boxes": certified, "failed_boxes": len(failed) + len(todo),
                "max_upper_bound_of_f_minus_2": worst, "p_range": tuple(p_range), "eps_range": tuple(eps_range),
                "prec_bits": prec, "first_failed": failed[:3]}
    finally:
        flint.ctx.prec = old
