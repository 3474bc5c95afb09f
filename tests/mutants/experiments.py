"""Mutants of the code behind the empirical claims: the training loop of Figures 1/8
(numerics/training.py), the dynamics experiment of Figure 13 (checks/experiments/dynamics.py),
and formulas written inside claim modules (Lemma 4's closed form in theorem3_sign, the inversion of
eqs. 8-9 in corollary1, the vertex enumeration and eigen-flow of theorem2)."""

from dmf_verify.checks.mutation import Mutant

TR = "dmf_verify/numerics/training.py"
DY = "dmf_verify/checks/experiments/dynamics.py"
T3S = "dmf_verify/checks/claims/arora2019/theorem3_sign.py"
COR = "dmf_verify/checks/claims/arora2019/corollary1.py"
TH2 = "dmf_verify/checks/claims/arora2019/theorem2.py"
ASY = "dmf_verify/numerics/asymmetric.py"

MUTANTS = [
    # ---- training (fig1, fig8) ------------------------------------------------------------------
    Mutant(id="training.completion_gradient_drops_2", kind="dropped-factor", file=TR,
           find="        c = (-2.0 if negate else 2.0) * self.weight\n",
           replace="        c = (-1.0 if negate else 1.0) * self.weight\n",
           targets=("descent.gradient_step",),
           description="the training objective's completion gradient drops the factor 2"),
    Mutant(id="training.grad_transpose_dropped", kind="transposed-order", file=TR,
           find="np.matmul(b, self.pre[j - 1].T if j > 1 else fs[0].T, out=grads[j])",
           replace="np.matmul(b, self.pre[j - 1] if j > 1 else fs[0], out=grads[j])",
           targets=("descent.gradient_step",),
           description="the training objective's layer gradient multiplies by W_(j-1)...W_1 without transpose"),
    Mutant(id="training.observations_transposed", kind="transposed-order", file=TR,
           find="        loss = CompletionLoss(rows, cols, gt[rows, cols], shape=(n, n), reduction=\"mean\", half=False)\n",
           replace="        loss = CompletionLoss(rows, cols, gt[cols, rows], shape=(n, n), reduction=\"mean\", half=False)\n", count=2,
           targets=("arora2019.fig1.depth_helps",),
           description="the protocol observes W*^T at the sampled positions"),
    Mutant(id="training.early_stop", kind="wrong-threshold", file=TR,
           find="    if value <= tol:\n        return \"converged\"\n",
           replace="    if value <= 1e4 * tol:\n        return \"converged\"\n",
           targets=("arora2019.fig1.depth_helps", "arora2019.fig8.not_nuclear"),
           description="training stops at 1e4 x the requested loss"),
    # ---- the Figure 13 dynamics -----------------------------------------------------------------
    Mutant(id="dynamics.sharpness_rank_off_by_one", kind="off-by-one", file=DY,
           find="    sh, t10, t90, final = sharpness(hist[\"step\"], sig, rank)\n",
           replace="    sh, t10, t90, final = sharpness(hist[\"step\"], sig, rank + 1)\n",
           targets=("arora2019.fig13.sharpening",),
           description="the sharpness averages over rank + 1 singular values (one that never rises)"),
    Mutant(id="dynamics.lr_drops_fill", kind="dropped-factor", file=DY,
           find="    return scalar_time_to(0.9, depth, sigma_target, sigma0, kappa) / (fill * steps)\n",
           replace="    return scalar_time_to(0.9, depth, sigma_target, sigma0, kappa) / steps\n",
           targets=("arora2019.fig13.sharpening",),
           description="the learning rate ignores the fill fraction (runs twice as slow)"),
    Mutant(id="dynamics.scalar_model_drops_N", kind="dropped-factor", file=DY,
           find="        return 1.0 / (kappa * depth * s ** (2.0 - 2.0 / depth) * (sigma_star - s))\n",
           replace="        return 1.0 / (kappa * s ** (2.0 - 2.0 / depth) * (sigma_star - s))\n",
           targets=("arora2019.fig13.sharpening",),
           description="the scalar model of Theorem 3 without the factor N"),
    # ---- formulas inside claim modules ----------------------------------------------------------
    Mutant(id="theorem3_sign.lemma4_sign_dropped", kind="sign-flip", file=T3S,
           find="        return x0 * np.exp(s * big_g)\n", replace="        return x0 * np.exp(big_g)\n",
           targets=("arora2019.theorem3.sign",),
           description="Lemma 4 at N = 2 without sign(x0) (visible only from sigma(0) < 0)"),
    Mutant(id="theorem3_sign.lemma4_exponent", kind="wrong-exponent", file=T3S,
           find="    q = 1.0 - 2.0 / depth\n", replace="    q = 1.0 - 1.0 / depth\n",
           targets=("arora2019.theorem3.sign",),
           description="Lemma 4 for N >= 3 with q = 1 - 1/N"),
    Mutant(id="theorem3_sign.lemma4_inner_sign", kind="sign-flip", file=T3S,
           find="    return s * (abs(x0) ** (-q) - q * s * big_g) ** (-1.0 / q)\n",
           replace="    return s * (abs(x0) ** (-q) - q * big_g) ** (-1.0 / q)\n",
           targets=("arora2019.theorem3.sign",),
           description="Lemma 4 for N >= 3 loses sign(x0) inside the bracket"),
    Mutant(id="corollary1.block_swapped", kind="swapped-arguments", file=COR,
           find="            m = np.array([[s[q], s[r]], [s[r], s[q]]])\n",
           replace="            m = np.array([[s[r], s[q]], [s[q], s[r]]])\n",
           targets=("arora2019.corollary1",),
           description="the 2x2 block of eqs. 8-9 with sigma_r and sigma_r' exchanged"),
    Mutant(id="training.init_scale_root", kind="wrong-exponent", file=TR,
           find="fs.append((scale ** (1.0 / depth) / math.sqrt(rows)) * g.standard_normal((d_out, d_in)))",
           replace="fs.append((scale ** (1.0 / depth**2) / math.sqrt(rows)) * g.standard_normal((d_out, d_in)))",
           targets=("arora2019.fig8.not_nuclear",),
           description="the protocol's init takes the N^2-th root of the scale (a large init: no low-rank bias)"),
    Mutant(id="corollary1.gap_sign", kind="sign-flip", file=COR,
           find="            delta = p[q] - p[r]\n", replace="            delta = p[r] - p[q]\n",
           targets=("arora2019.corollary1",),
           description="the gap (s_r'^2)^(1/N) - (s_r^2)^(1/N) of eqs. 8-9 with the wrong sign"),
    Mutant(id="theorem2.vertex_max_objective", kind="wrong-objective", file=TH2,
           find="    return sorted(out, key=lambda x: float(x.sum()))\n",
           replace="    return sorted(out, key=lambda x: -float(x.sum()))\n",
           targets=("arora2019.theorem2", "arora2019.theorem2.depth2"),
           description="the enumerated 'minimum' is the feasible vertex of largest trace"),
    Mutant(id="theorem2.vertex_feasibility_dropped", kind="dropped-term", file=TH2,
           find="        if np.all(xs >= -1e-12):\n            x = np.zeros(d)",
           replace="        if True:\n            x = np.zeros(d)",
           targets=("arora2019.theorem2", "arora2019.theorem2.depth2"),
           description="basic solutions with negative entries are taken as vertices"),
    Mutant(id="theorem2.eigen_flow_residual", kind="wrong-exponent", file=TH2,
           find="        return -depth * w ** (depth - 1) * (lam.T @ (lam @ w**depth - y))\n",
           replace="        return -depth * w ** (depth - 1) * (lam.T @ (lam @ w - y))\n",
           targets=("arora2019.theorem2.depth2", "arora2019.theorem2"),
           description="the reduced flow's residual uses w instead of w^N (a field that is no gradient of the loss). "
                       "(w^N instead of w^(N-1) in front would be an equivalent mutant: it is the flow of depth 2N, "
                       "and Theorem 2 holds at every depth)"),
    # ---- fitted slopes (soltanolkotabi) --------------------------------------------------------
    Mutant(id="asym.loglog_intercept", kind="wrong-index", file=ASY,
           find="    return float(np.polyfit(lx, ly, 1)[0])\n", replace="    return float(np.polyfit(lx, ly, 1)[1])\n",
           targets=("soltanolkotabi.balance.scaling", "soltanolkotabi.recovery"),
           description="the log-log fit returns the intercept instead of the slope"),
]
