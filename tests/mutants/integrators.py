"""Mutants in the integrators' home (numerics/integrators): they must be caught, and never hang."""

from dmf_verify.checks.mutation import Mutant

MUTANTS = [
    Mutant(id="integrators.dense_output_stale", kind="stale-value", file="dmf_verify/numerics/integrators/scipy_ode.py",
           find="out_y.append(np.asarray(dense(ts[i]), dtype=np.float64).copy())",
           replace="out_y.append(np.asarray(dense(t_old), dtype=np.float64).copy())",
           targets=("arora2019.lemma3", "arora2019.spectral_flow", "arora2019.theorem3"),
           description="requested times get the state at the start of the step"),
    Mutant(id="integrators.gbs_tolerance_loose", kind="precision-loss", file="dmf_verify/numerics/integrators/gbs.py",
           find="tol_r = A.num(10) ** (-(digits + 2)) if rtol is None else opts[\"rtol\"]",
           replace="tol_r = A.num(10) ** (-(digits // 2)) if rtol is None else opts[\"rtol\"]",
           targets=("arora2019.lemma4", "arora2019.eq11", "precision.blowup_certificate"),
           description="the GBS local tolerance loosened from 1e-(digits+2) to 1e-(digits/2)"),
    Mutant(id="integrators.gbs_float_leak_rhs", kind="float-leak", file="dmf_verify/numerics/scalar_ode.py",
           find="        x2 = y[0] * y[0]\n",
           replace="        x2 = mpmath.mpf(float(y[0] * y[0]))\n",
           targets=("arora2019.lemma4",),
           description="a float64 value leaks into the mp right-hand side of Lemma 4 (must fail fast, not hang)"),
    Mutant(id="integrators.gbs_output_rounded", kind="precision-loss", file="dmf_verify/numerics/integrators/gbs.py",
           find="            out_y.append(list(y))\n",
           replace="            out_y.append([A.num(mpmath.nstr(A.to_mpf(v), 20)) for v in y])\n",
           targets=("arora2019.lemma4", "arora2019.eq11"),
           description="the mp integrator's output silently rounded to 20 digits"),
]
