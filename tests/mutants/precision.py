"""Mutants of the high-precision path: the mp integrator (numerics/precise.py), the Lemma 4 ODE
helpers (numerics/scalar_ode.py) and the interval certificate (checks/claims/precision/certificate.py).

The float-leak mutant makes the GBS extrapolation use float64 weights: its error estimate can no
longer fall below ~1e-16, so the integrator stalls. Claims that call the integrator with its
default max_steps run for minutes then (a HANG); the precision claims bound the work and report
the stall as an error, so the mutant targets them only.
"""

from dmf_verify.checks.mutation import Mutant

P = "dmf_verify/numerics/precise.py"
G = "dmf_verify/numerics/integrators/gbs.py"
S = "dmf_verify/numerics/scalar_ode.py"
C = "dmf_verify/checks/claims/precision/certificate.py"
E = "dmf_verify/checks/claims/arora2019/eq11.py"

MUTANTS = [
    # ---- the mp integrator ----------------------------------------------------------------------
    Mutant(id="precise.tolerance_loosened", kind="wrong-threshold", file=G,
           find="tol_r = A.num(10) ** (-(digits + 2)) if rtol is None else opts[\"rtol\"]",
           replace="tol_r = A.num(10) ** (-(digits - 12)) if rtol is None else opts[\"rtol\"]",
           targets=("precision.mp_digits", "arora2019.lemma4", "arora2019.eq11", "arora2019.eq11.depth_gap"),
           description="the GBS local tolerance loosened 10^14-fold"),
    Mutant(id="precise.output_rounded", kind="precision-loss", file=G,
           find="            out_y.append(list(y))\n",
           replace="            out_y.append([A.num(mpmath.nstr(A.to_mpf(v), max(dps - GUARD_DIGITS - 8, 1))) for v in y])\n",
           targets=("precision.mp_digits", "precision.blowup_certificate", "arora2019.lemma4",
                    "arora2019.eq11.depth_gap"),
           description="the integrator's output is rounded to 8 digits fewer than requested"),
    Mutant(id="precise.float_weights", kind="float-leak", file=G,
           find="weights = [[None] + [1 / (A.num(seq[j] * seq[j]) / (seq[j - l] * seq[j - l]) - 1)",
           replace="weights = [[None] + [1 / ((seq[j] * seq[j]) / (seq[j - l] * seq[j - l]) - 1)",
           targets=("precision.mp_digits",),
           description="the Aitken-Neville weights are float64: extrapolation stalls at ~1e-16"),
    Mutant(id="precise.guard_digits_dropped", kind="precision-loss", file=G,
           find="GUARD_DIGITS = 10\n", replace="GUARD_DIGITS = -6\n",
           targets=("precision.mp_digits", "arora2019.eq11"),
           description="the working precision is 6 digits below the requested accuracy"),
    # ---- Lemma 4 helpers ------------------------------------------------------------------------
    Mutant(id="scalar_ode.rhs_mp_float_exponent", kind="float-leak", file=S,
           find="            e = (1 - mpmath.mpf(1) / n) if exponent is None else mpmath.mpf(exponent)\n",
           replace="            e = mpmath.mpf(1 - 1 / n) if exponent is None else mpmath.mpf(exponent)\n",
           targets=("arora2019.lemma4", "precision.mp_digits"),
           description="the ODE's exponent 1 - 1/N is computed in float64 and then converted"),
    Mutant(id="scalar_ode.solution_mp_exponent", kind="wrong-exponent", file=S,
           find="        p = 1 - mpmath.mpf(2) / n\n        base = abs(x) ** (-p) - p * s * G\n        if base <= 0:",
           replace="        p = 1 - mpmath.mpf(2) / (n + 1)\n        base = abs(x) ** (-p) - p * s * G\n        if base <= 0:",
           targets=("arora2019.lemma4",),
           description="the mp closed form of Lemma 4 uses p = 1 - 2/(N+1)"),
    Mutant(id="scalar_ode.blowup_tail_short", kind="wrong-threshold", file=S,
           find="V = ((digits + 5) * mpmath.log(10) + mpmath.log(c / (p * gmin) + 1)) / p",
           replace="V = ((digits - 15) * mpmath.log(10) + mpmath.log(c / (p * gmin) + 1)) / p",
           targets=("precision.blowup_certificate", "arora2019.lemma4"),
           description="the blow-up-time integration stops 20 decades early (tail not negligible)"),
    Mutant(id="scalar_ode.rhs_float_exponent", kind="off-by-one", file=S,
           find="    e = 1.0 - 1.0 / n\n\n    def f(t, y):\n        return g.g(t) * (y * y) ** e",
           replace="    e = 1.0 - 1.0 / (n + 1)\n\n    def f(t, y):\n        return g.g(t) * (y * y) ** e",
           targets=("precision.float64_vs_mp", "arora2019.lemma4"),
           description="the float64 Lemma 4 right-hand side uses the exponent of depth N + 1"),
    Mutant(id="precise.diagonal_float_rhs", kind="dropped-term", file=P,
           find="out[j] = -np.prod(np.delete(w, j, axis=0), axis=0) * (prod - tgt)",
           replace="out[j] = -np.prod(np.delete(w, j, axis=0), axis=0) * prod",
           targets=("precision.float64_vs_mp",),
           description="the float64 diagonal-flow right-hand side drops the target"),
    Mutant(id="precise.diagonal_mp_rhs_sign", kind="sign-flip", file=P,
           find="                out[j * k + i] = -(pre[j] * suf) * resid\n",
           replace="                out[j * k + i] = (pre[j] * suf) * resid\n",
           targets=("precision.float64_vs_mp",),
           description="the mp diagonal-flow right-hand side ascends"),
    # ---- the interval certificate ---------------------------------------------------------------
    Mutant(id="certificate.made_up_radius", kind="non-rigorous-rounding", file=C,
           find="        return abs(_to_arb(flint, x0)) ** (-p) / (p * abs(_to_arb(flint, g)))\n",
           replace="        with mp.workdps(int(flint.ctx.prec * 0.30103)):\n"
                   "            v = mpmath.mpf(abs(x0.numerator) / x0.denominator) ** (-mpmath.mpf(str(p.mid()))) / "
                   "(mpmath.mpf(str(p.mid())) * abs(mpmath.mpf(g.numerator) / g.denominator))\n"
                   "        return flint.arb(mpmath.nstr(v, 60), 1e-40)\n",
           targets=("precision.blowup_certificate",),
           description="the 'enclosure' is an mpmath value (inputs through float) with a made-up radius 1e-40"),
    Mutant(id="certificate.solution_exponent", kind="wrong-exponent", file=C,
           find="        return s * base ** (-1 / p)\n", replace="        return s * base ** (-p)\n",
           targets=("precision.blowup_certificate",),
           description="the enclosed closed form raises to -p instead of -1/p"),
    Mutant(id="certificate.radius_dropped", kind="non-rigorous-rounding", file=C,
           find="        return s * base ** (-1 / p)\n", replace="        return flint.arb((s * base ** (-1 / p)).mid())\n",
           targets=("precision.blowup_certificate",),
           description="the enclosure of x(t) keeps its midpoint and drops the radius"),
    # ---- eq. 11 ---------------------------------------------------------------------------------
    Mutant(id="eq11.law_exponent", kind="wrong-exponent", file=E,
           find="    return (alpha * sq ** (-p) + c) ** (-1 / p)\n", replace="    return (alpha * sq ** (-p) + c) ** (-p)\n",
           targets=("arora2019.eq11",),
           description="eq. 11 for N >= 3 raised to -p instead of -1/p"),
    Mutant(id="eq11.gap_constant_sign", kind="sign-flip", file=E,
           find="            c = mpmath.mpf(a) ** (-p) - mpmath.mpf(alpha) * mpmath.mpf(b) ** (-p)\n            closed",
           replace="            c = mpmath.mpf(a) ** (-p) + mpmath.mpf(alpha) * mpmath.mpf(b) ** (-p)\n            closed",
           targets=("arora2019.eq11.depth_gap",),
           description="c_N = sigma_r(0)^-p + alpha sigma_r'(0)^-p"),
    Mutant(id="eq11.pair_rhs_alpha_dropped", kind="dropped-factor", file=E,
           find="return [-n * mpmath.power(y[0] * y[0], e) * al * P, -n * mpmath.power(y[1] * y[1], e) * P]",
           replace="return [-n * mpmath.power(y[0] * y[0], e) * P, -n * mpmath.power(y[1] * y[1], e) * P]",
           targets=("arora2019.eq11", "precision.float64_vs_mp"),
           description="eq. 7 for the pair loses the ratio alpha of the projections"),
]
