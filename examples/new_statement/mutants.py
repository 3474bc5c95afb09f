"""Realistic bugs in gd_balance.py and the claims that must catch them (dmf_verify.checks.mutation).

`python run_mutants.py` injects each into a temporary copy of this folder and runs
`dmf-verify check TARGETS` there; every mutant must be KILLED.
"""

from dmf_verify.checks.mutation import Mutant

FILE = "gd_balance.py"

MUTANTS = [
    Mutant(id="gd_balance.imbalance_transposed", kind="transposed-order", file=FILE,
           find="b.T @ b - a @ a.T", replace="b @ b.T - a @ a.T",
           targets=("mine.gd.imbalance_first_order",),
           description="imbalance with W_{j+1} W_{j+1}^T: not zero at a balanced start, so not O(eta)"),
    Mutant(id="gd_balance.imbalance_squared", kind="wrong-exponent", file=FILE,
           find="float(np.linalg.norm(b.T @ b - a @ a.T))", replace="float(np.linalg.norm(b.T @ b - a @ a.T)) ** 2",
           targets=("mine.gd.imbalance_first_order",),
           description="the squared norm of D_j: second order in eta"),
    Mutant(id="gd_balance.gradient_drops_right_product", kind="dropped-factor", file=FILE,
           find="grads.append(left.T @ grad_w @ right.T)", replace="grads.append(left.T @ grad_w)",
           targets=("mine.gd.factor_gradients", "mine.gd.imbalance_first_order"),
           description="G_j without (W_{j-1} ... W_1)^T"),
    Mutant(id="gd_balance.residual_sign", kind="sign-flip", file=FILE,
           find='r = np.einsum("mij,ij->m", a, w) - y\n    return np.einsum',
           replace='r = y - np.einsum("mij,ij->m", a, w)\n    return np.einsum',
           targets=("mine.gd.factor_gradients",),
           description="grad l with the residual's sign flipped (gradient ascent)"),
    Mutant(id="gd_balance.right_product_order", kind="wrong-index", file=FILE,
           find="right = factors[k] @ right", replace="right = right @ factors[k]",
           targets=("mine.gd.factor_gradients",),
           description="W_{j-1} ... W_1 multiplied in the wrong order"),
]

#: Bugs these claims do NOT catch (measured; kept out of MUTANTS, listed so nobody assumes they are covered):
#: sequential (Gauss-Seidel) layer updates -- the imbalance is still first order in eta.
