"""Mutants for the Richardson claims (arora2019.gd_richardson, arora2019.gd_richardson.mp): bugs in gradient
descent, the losses, the extrapolation and the reference it is compared with."""

from dmf_verify.checks.mutation import Mutant

F = ("arora2019.gd_richardson",)
MP = ("arora2019.gd_richardson.mp",)

MUTANTS = [
    Mutant(id="richardson.gradient_doubled", kind="scaled-gradient", file="dmf_verify/numerics/losses.py",
           find="return (2.0 * self.weight) * (r @ self.flat).reshape(self.shape)",
           replace="return (4.0 * self.weight) * (r @ self.flat).reshape(self.shape)",
           targets=F, description="the sensing gradient is twice the derivative of the value"),
    Mutant(id="richardson.weight_decay", kind="shifted-gradient", file="dmf_verify/numerics/losses.py",
           find="return (2.0 * self.weight) * (r @ self.flat).reshape(self.shape)",
           replace="return (2.0 * self.weight) * (r @ self.flat).reshape(self.shape) + 1e-3 * self._check(w)",
           targets=F, description="an extra weight-decay term in the sensing gradient"),
    Mutant(id="richardson.sequential_update", kind="sequential-update", file="dmf_verify/numerics/descent.py",
           find="        for f, g in zip(fs, grads):\n            f -= eta * g\n",
           replace="        for j, f in enumerate(fs):\n            f -= eta * factor_gradients_from(fs, loss.gradient(_product(fs)))[j]\n",
           targets=F, description="GD updates the layers one after the other (Gauss-Seidel)"),
    Mutant(id="richardson.tableau_off_by_one", kind="off-by-one", file="dmf_verify/numerics/richardson.py",
           find="den = 2 ** (first_power + j - 1) - 1",
           replace="den = 2 ** (first_power + j) - 1",
           targets=F, description="the Neville factors cancel the wrong powers of eta"),
    Mutant(id="richardson.first_coefficient_forcing_dropped", kind="dropped-term",
           file="dmf_verify/checks/dynamics_reference.py",
           find="return np.concatenate([fy, jvp(f, y, direction(e, fy))])",
           replace="return np.concatenate([fy, jvp(f, y, e)])",
           targets=F, description="the -f'f/2 forcing of e_1' is dropped from the prediction"),
    Mutant(id="richardson.chain_rule_transposed", kind="transposed-order", file="dmf_verify/numerics/model.py",
           find="            g = g @ pre[j].T\n",
           replace="            g = g @ pre[j].T @ pre[j] @ pre[j].T\n",
           targets=F, description="the right factor of the chain rule applied three times (wrong for non-orthogonal "
                                  "prefix products)"),
    Mutant(id="richardson.mp_gradient_halved", kind="dropped-factor", file="dmf_verify/numerics/mp_model.py",
           find="two_c = 2 * self.c",
           replace="two_c = self.c",
           targets=MP, description="the mp loss gradient loses its factor 2"),
    Mutant(id="richardson.mp_sequential", kind="sequential-update", file="dmf_verify/numerics/mp_model.py",
           find="        if sequential:\n",
           replace="        if True:\n",
           targets=MP, description="the mp GD is always sequential over the layers"),
    Mutant(id="richardson.mp_residual_float_leak", kind="float-leak", file="dmf_verify/numerics/mp_model.py",
           find="        r = self.residual(w)\n        n = self.shape[0] * self.shape[1]\n",
           replace="        r = [mpmath.mpf(float(x)) for x in self.residual(w)]\n        n = self.shape[0] * self.shape[1]\n",
           targets=MP, description="the mp loss residual passes through float64 (e.g. computed with numpy)"),
    # Not in the catalogue: the Neville factors 1/(2^j - 1) as float64 in the mp tableau cap the mp limit at
    # ~1e-26 relative -- below the claim's 20-digit statement, so the claim rightly passes; the unit test
    # tests/test_dynamics_unit.py::test_mp_tableau_keeps_the_precision catches it (1e-30 required).
]
