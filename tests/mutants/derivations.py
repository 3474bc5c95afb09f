"""Mutants in the derivations (dmf_verify/theory): a wrong step either breaks an exact check -- the compiled
formulas refuse an unverified derivation -- or changes a compiled formula; the claims whose formulas come
from the derivation must notice."""

from dmf_verify.checks.mutation import Mutant

MUTANTS = [
    Mutant(id="derivations.lemma3_exponent_off_by_one", kind="off-by-one", file="dmf_verify/theory/end_to_end.py",
           find="sol_a = sp.solve(sp.Eq(2 * N * a, 2 * (N - j)), a)",
           replace="sol_a = sp.solve(sp.Eq(2 * N * a, 2 * (N - j + 1)), a)",
           targets=("arora2019.lemma3", "arora2019.spectral_flow"),
           description="Lemma 3's power of W W^T solved from the wrong exponent equation"),
    Mutant(id="derivations.lemma2_row3_exponent", kind="wrong-exponent", file="dmf_verify/theory/singular_vectors.py",
           find="rhs[2, q] = -g[2, q] * alphas[q] ** (N - 1)",
           replace="rhs[2, q] = -g[2, q] * alphas[q] ** N",
           targets=("arora2019.spectral_flow",),
           description="the projection row of Lemma 3 in the frame gets the wrong power"),
    Mutant(id="derivations.loss_value_sign", kind="sign-flip", file="dmf_verify/theory/gradients.py",
           find="value = c * (A * w - y).T * (A * w - y)",
           replace="value = c * (A * w + y).T * (A * w + y)",
           targets=("arora2019.gd_richardson",),
           description="the loss value the gradient is derived from has the wrong sign of y"),
    Mutant(id="derivations.chain_rule_doubled", kind="scaled-gradient", file="dmf_verify/theory/gradients.py",
           find="grads = [sp.diff(phi, W) for W in Ws]",
           replace="grads = [2 * sp.diff(phi, W) for W in Ws]",
           targets=("arora2019.gd_richardson",),
           description="the matrix-calculus factor gradients of the reference flow are doubled"),
    Mutant(id="derivations.first_coefficient_half", kind="wrong-constant", file="dmf_verify/theory/richardson.py",
           find="flow = {sp.Derivative(Y, (t, 2)): sp.diff(f(Y), t).subs(sp.Derivative(Y, t), f(Y)),",
           replace="flow = {sp.Derivative(Y, (t, 2)): 2 * sp.diff(f(Y), t).subs(sp.Derivative(Y, t), f(Y)),",
           targets=("arora2019.gd_richardson",),
           description="the second derivative of the flow doubled in the error expansion"),
]
