"""Mutants of the flows and of what the Arora et al. claims read off them: the factor and
end-to-end flows (numerics/flow.py), singular values and vectors (spectral.py, tracking.py,
rates.py, singular_vectors.py)."""

from dmf_verify.checks.mutation import Mutant

FL = "dmf_verify/numerics/flow.py"
TR = "dmf_verify/numerics/tracking.py"
RA = "dmf_verify/numerics/rates.py"
SV = "dmf_verify/numerics/singular_vectors.py"
SP = "dmf_verify/numerics/spectral.py"

MUTANTS = [
    # ---- flows ----------------------------------------------------------------------------------
    Mutant(id="flow.factor_rhs_sign", kind="sign-flip", file=FL,
           find="return -np.concatenate([r * g.ravel() for r, g in zip(rates, grads)])",
           replace="return np.concatenate([r * g.ravel() for r, g in zip(rates, grads)])",
           targets=("arora2019.theorem3", "arora2019.lemma3"),
           description="the factor flow ascends the loss"),
    Mutant(id="flow.factor_rhs_stale", kind="stale-value", file=FL,
           find="grads = factor_gradients_from(cur, loss.gradient(w))",
           replace="grads = factor_gradients_from(fs, loss.gradient(_product(fs)))",
           targets=("balancedness.flow", "arora2019.lemma3"),
           description="the vector field is evaluated at the initial factors (frozen)"),
    Mutant(id="flow.lemma3_exponent_off_by_one", kind="off-by-one", file=FL,
           find="return (j - 1) / depth, (depth - j) / depth",
           replace="return j / depth, (depth - j) / depth",
           targets=("arora2019.lemma3",),
           description="Lemma 3's exponents (j/N, (N-j)/N)"),
    Mutant(id="flow.lemma3_power", kind="wrong-exponent", file=FL,
           find="x = grad if a == 0 else u @ ((s ** (2 * a))[:, None] * (u.T @ grad))",
           replace="x = grad if a == 0 else u @ ((s ** a)[:, None] * (u.T @ grad))",
           targets=("arora2019.lemma3",),
           description="(W W^T)^a computed as U S^a U^T instead of U S^(2a) U^T"),
    Mutant(id="flow.lemma3_sign", kind="sign-flip", file=FL,
           find="        out -= x\n", replace="        out += x\n",
           targets=("arora2019.lemma3",),
           description="the end-to-end velocity has the wrong sign"),
    # ---- tracking -------------------------------------------------------------------------------
    Mutant(id="tracking.sign_v_dropped", kind="dropped-factor", file=TR,
           find="            s = s * su * sv\n", replace="            s = s * su\n",
           targets=("arora2019.lemma1", "arora2019.theorem3.sign"),
           description="the signed singular value ignores the flip of v_r"),
    Mutant(id="tracking.values_not_reordered", kind="wrong-index", file=TR,
           find="u, v, s = u[:, order], v[:, order], s[order]", replace="u, v, s = u[:, order], v[:, order], s",
           targets=("arora2019.lemma1",),
           description="after a crossing the vectors are matched but the values keep the sorted order"),
    Mutant(id="tracking.worst_matching", kind="sign-flip", file=TR,
           find="rows, cols = linear_sum_assignment(-overlap)", replace="rows, cols = linear_sum_assignment(overlap)",
           targets=("arora2019.lemma1", "arora2019.lemma2"),
           description="the column matching minimizes the overlap"),
    # ---- rates ----------------------------------------------------------------------------------
    Mutant(id="rates.theorem3_drops_N", kind="dropped-factor", file=RA,
           find="return s, -n * (s * s) ** e * proj", replace="return s, -(s * s) ** e * proj",
           targets=("arora2019.theorem3",),
           description="Theorem 3's rate without the factor N"),
    Mutant(id="rates.stencil_constant", kind="wrong-constant", file=RA,
           find="return (-v[4] + 8 * v[3] - 8 * v[1] + v[0]) / (12.0 * h)",
           replace="return (-v[4] + 8 * v[3] - 8 * v[1] + v[0]) / (6.0 * h)",
           targets=("arora2019.theorem3", "arora2019.lemma2", "arora2019.corollary1"),
           description="the five-point stencil divides by 6h instead of 12h"),
    Mutant(id="rates.stencil_order", kind="swapped-arguments", file=RA,
           find="return (-v[4] + 8 * v[3] - 8 * v[1] + v[0]) / (12.0 * h)",
           replace="return (-v[4] + 8 * v[1] - 8 * v[3] + v[0]) / (12.0 * h)",
           targets=("arora2019.theorem3", "arora2019.lemma2"),
           description="the inner stencil weights are swapped"),
    # ---- singular vectors (Lemma 2) ------------------------------------------------------------
    Mutant(id="lemma2.gap_sign", kind="sign-flip", file=SV,
           find="diff = p[None, :] - p[:, None]", replace="diff = p[:, None] - p[None, :]",
           targets=("arora2019.lemma2",),
           description="F_(rr') with the gap reversed"),
    Mutant(id="lemma2.projection_drops_s", kind="dropped-factor", file=SV,
           find="factor = s * (s * s) ** (e - 0.5)", replace="factor = (s * s) ** (e - 0.5)",
           targets=("arora2019.lemma2",),
           description="the projection term loses its factor S"),
    Mutant(id="lemma2.dv_wrong_index", kind="wrong-index", file=SV,
           find="dv = -v @ (f * (s[:, None] * gh + gh.T * s[None, :]))",
           replace="dv = -v @ (f * (s[:, None] * gh + gh.T * s[:, None]))",
           targets=("arora2019.lemma2",),
           description="dV/dt scales V^T G^T U by the wrong singular value"),
    # ---- spectral -------------------------------------------------------------------------------
    Mutant(id="spectral.erank_squares", kind="wrong-exponent", file=SP,
           find="    p = s[s > 0] / total\n", replace="    p = s[s > 0] ** 2 / float(np.sum(s * s))\n",
           targets=("chou.random_init", "chou.sensing"),
           description="effective rank from the squared singular values"),
]
