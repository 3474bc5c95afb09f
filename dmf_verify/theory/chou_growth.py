"""Growth laws of the switch-on time (Chou, Gieshoff, Maly & Rauhut): alpha^-(N-2)/lambda and ln(1/alpha)/lambda.

From the closed form of the continuous switch-on time (theory/chou.py: switch_on_time) the exact
log-derivatives are computed and their limits as alpha -> 0 taken symbolically:

* N >= 3: d ln T / d ln alpha -> -(N - 2) and d ln T / d ln lambda -> -1 (checked for N = 3, 4, 5);
* N = 2:  d T / d ln(1/alpha) -> 1/lambda, i.e. lambda T grows like ln(1/alpha) with slope 1.

The B(.; 2/N, 0) part of T is O(1) as alpha -> 0 (B(z) ~ z^a / a), so only the first term matters;
it is kept as a bounded symbol B_0 in the limits.
"""

from __future__ import annotations

import sympy as sp

from dmf_verify.theory.derivation import Derivation


def growth_laws() -> Derivation:
    a, lam, th = sp.symbols("alpha lambda theta", positive=True)
    b0 = sp.Symbol("B_0", real=True)  # the bounded incomplete-beta part (depends on lambda only as lambda^(2/N-2))
    d = Derivation(
        "Growth of the switch-on time $T_\\theta$ in $\\alpha$ and $\\lambda$",
        assumptions=[("$\\dot x = N x^{2-2/N}(\\lambda - x)$, $x(0) = \\alpha^N$, $T_\\theta$ = time to reach "
                     "$\\theta\\lambda$ ($0<\\theta<1$); gradient descent with step $\\eta$ switches on at "
                     "$K_\\theta = T_\\theta/\\eta + O(\\ln(1/\\alpha))$ (chou.switch_on bounds).")],
    )
    for n in (3, 4, 5):
        wt = (th * lam) ** sp.Rational(1, n)
        t_n = (a ** (2 - n) - wt ** (2 - n)) / ((n - 2) * lam) + lam ** (sp.Rational(2, n) - 2) * b0 / n
        slope_a = sp.limit(sp.simplify(a * sp.diff(t_n, a) / t_n), a, 0)
        d.prove_zero(f"N={n}: lim_(alpha->0) d ln T / d ln alpha = -(N-2)", sp.simplify(slope_a + (n - 2)))
        slope_l = sp.limit(sp.simplify(lam * sp.diff(t_n, lam) / t_n), a, 0)
        d.prove_zero(f"N={n}: lim_(alpha->0) d ln T / d ln lambda = -1", sp.simplify(slope_l + 1))
    t2 = sp.log(th * (lam - a**2) / ((1 - th) * a**2)) / (2 * lam)
    slope2 = sp.limit(sp.simplify(-a * sp.diff(t2, a)), a, 0)
    d.prove_zero("N=2: lim_(alpha->0) dT / d ln(1/alpha) = 1/lambda", sp.simplify(slope2 - 1 / lam))
    d.prove_zero("N=2: T - ln(1/alpha)/lambda = ln(theta (lambda - alpha^2)/(1 - theta))/(2 lambda) (bounded)",
                 sp.simplify(sp.expand_log(t2 - sp.log(1 / a) / lam
                                           - sp.log(th * (lam - a**2) / (1 - th)) / (2 * lam), force=True)))
    d.step("So $K_\\theta \\approx \\alpha^{-(N-2)}/((N-2)\\lambda\\eta)$ for $N \\ge 3$ and $K_\\theta \\approx "
           "\\ln(1/\\alpha)/(\\lambda\\eta)$ for $N = 2$: fitted log-log slopes $-(N-2)$ in $\\alpha$ and $-1$ in "
           "$\\lambda$ (N >= 3), and slope 1 of $\\eta\\lambda K_\\theta$ against $\\ln(1/\\alpha)$ (N = 2, every "
           "$\\lambda$). Discrete GD multiplies $x$ by $(1+\\eta\\lambda)^2$ per step while $x$ is small, so for "
           "$N = 2$ the measured slope is $\\eta\\lambda/\\ln(1+\\eta\\lambda) = 1 + \\eta\\lambda/2 + \\dots$.")
    d.result = [sp.Eq(sp.Symbol("K_theta^{(N>=3)}"), a ** (2 - sp.Symbol("N")) / ((sp.Symbol("N") - 2) * lam
                                                                                    * sp.Symbol("eta"))),
                sp.Eq(sp.Symbol("K_theta^{(N=2)}"), sp.log(1 / a) / (lam * sp.Symbol("eta")))]
    return d


__all__ = ["growth_laws"]
