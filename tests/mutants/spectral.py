"""Mutants for the spectral-flow claims (arora2019.spectral_flow, arora2019.spectral_flow.mp) and the
compiled Theorem 3 / Lemma 2 formulas behind them."""

from dmf_verify.checks.mutation import Mutant

F = ("arora2019.spectral_flow",)
MP = ("arora2019.spectral_flow.mp",)

MUTANTS = [
    Mutant(id="spectral.sigma_rate_sign", kind="sign-flip", file="dmf_verify/numerics/spectral_flow.py",
           find="ds = np.array([sigma_rate(n, s[r], proj[r]) for r in range(k)], dtype=np.float64)",
           replace="ds = np.array([sigma_rate(n, s[r], -proj[r]) for r in range(k)], dtype=np.float64)",
           targets=F, description="the singular values move against the gradient projection"),
    Mutant(id="spectral.lemma2_pair_swapped", kind="swapped-arguments", file="dmf_verify/theory/compiled.py",
           find="args = (depth, s[q], s[r], gh[q, q], gh[q, r], gh[r, q], gh[r, r])\n                    A[r, q]",
           replace="args = (depth, s[q], s[r], gh[q, q], gh[r, q], gh[q, r], gh[r, r])\n                    A[r, q]",
           targets=F, description="the off-diagonal entries of U^T G V enter the pair formula transposed"),
    Mutant(id="spectral.projection_dropped", kind="dropped-term", file="dmf_verify/theory/compiled.py",
           find="            du = du + perp * coef[None, :]\n",
           replace="            du = du\n",
           targets=F, description="the (I - UU^T) G V S (S^2)^(-1/N) term of dU/dt is lost (numpy backend)"),
    Mutant(id="spectral.reconstruction_transposed", kind="transposed-order",
           file="dmf_verify/numerics/spectral_flow.py",
           find="prods = np.array([(u * s) @ v.T for s, u, v in parts])",
           replace="prods = np.array([(u * s[::-1]) @ v.T for s, u, v in parts])",
           targets=F, description="W reconstructed with the singular values in the wrong order"),
    Mutant(id="spectral.theorem3_exponent", kind="wrong-exponent", file="dmf_verify/theory/svd_flow.py",
           find="summand = x ** e_ab.subs({a: a_j, b: b_j})",
           replace="summand = x ** e_ab.subs({a: a_j, b: b_j + 1 / N})",
           targets=F, description="the derivation sums the wrong exponents (the compiled rate changes)"),
    Mutant(id="spectral.mp_int_exponent_leak", kind="float-leak", file="dmf_verify/theory/compiled.py",
           find="return fn(*[mpmath.mpf(a) if isinstance(a, (int, float)) and not isinstance(a, bool) else a for a in args])",
           replace="return fn(*args)",
           targets=MP, description="an int N reaches the lambdified 2/N exponents: a float64 exponent in mp"),
    Mutant(id="spectral.mp_projection_dropped", kind="dropped-term", file="dmf_verify/theory/compiled.py",
           find="            for i in range(d):\n                du[i, r] += perp[i, r] * c\n",
           replace="            for i in range(d):\n                du[i, r] += 0 * perp[i, r] * c\n",
           targets=MP, description="the projection term dropped in the mpmath backend"),
    Mutant(id="spectral.mp_precision_halved", kind="precision-loss", file="dmf_verify/numerics/spectral_flow.py",
           find="sol = integrate(rhs, y0, t_eval, digits=digits, **options)",
           replace="sol = integrate(rhs, y0, t_eval, digits=digits // 2, **options)",
           targets=MP, description="the mp spectral flow integrated to half the requested digits"),
]
