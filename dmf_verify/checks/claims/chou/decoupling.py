"""chou.decoupling: GD on the full factors equals the decoupled scalar recursions (to round-off)."""

from __future__ import annotations

import warnings

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.checks.claims.chou._common import orthogonal, symmetric_with_spectrum
from dmf_verify.numerics.chou import StepSizeWarning, aligned_factors, convergence_step_bound, scalar_recursion
from dmf_verify.numerics.descent import gradient_descent
from dmf_verify.numerics.losses import CompletionLoss, FrobeniusLoss

DEPTHS = (2, 3, 4, 5)
STEPS = 150
ALPHA = 0.5  # not tiny, so that every eigenvalue moves a lot within STEPS iterations


def _cases(seed: int):
    rng = np.random.default_rng(seed)
    for depth in DEPTHS:
        lam = np.sort(rng.uniform(0.3, 3.0, 4))[::-1]
        yield depth, "symmetric", symmetric_with_spectrum(lam, seed + depth)
        s = np.sort(rng.uniform(0.3, 3.0, 3))[::-1]
        u, v = orthogonal(4, rng)[:, :3], orthogonal(3, rng)
        yield depth, "svd 4x3", (u * s) @ v.T


def _measure(seed: int, coupled: bool = False, aggregate=max) -> Measurement:
    errors = {}
    for depth, path, a in _cases(seed):
        fs, spec, used = aligned_factors(a, depth, alpha=ALPHA, path="auto")
        eta = 0.5 * convergence_step_bound(spec.max(), depth)
        if coupled:  # completion on ~60% of the entries: the loss couples the eigen-directions
            rng = np.random.default_rng(seed + 100 * depth)
            mask = rng.uniform(size=a.shape) < 0.6
            rows, cols = np.nonzero(mask)
            loss = CompletionLoss(rows, cols, a[rows, cols], shape=a.shape, reduction="sum", half=True)
        else:
            loss = FrobeniusLoss(a)
        res = gradient_descent(loss, fs, step=eta, steps=STEPS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StepSizeWarning)
            x = scalar_recursion(spec, depth, alpha=ALPHA, step=eta, steps=STEPS).x[-1]
        if used == "symmetric":
            lam, q = np.linalg.eigh(a)
            q = q[:, ::-1]
            predicted = (q * x) @ q.T
        else:
            u, _, vt = np.linalg.svd(a, full_matrices=False)
            predicted = (u * x) @ vt
        w = res.product
        errors[f"N={depth}, {path}"] = float(np.linalg.norm(w - predicted) / np.linalg.norm(predicted))
    return Measurement(aggregate(errors.values()), {"relative_error": errors, "steps": STEPS, "alpha": ALPHA,
                                                    "step": "0.5/(N lam_max^(2-2/N))"})


CLAIM = Claim(
    id="chou.decoupling",
    source="Chou et al., abstract (dynamics of GD for the estimation problem): reduction to scalar recursions; theorem "
           "number not available (abstract only)",
    statement=r"W_j(0)=\alpha I,\ A=Q\Lambda Q^\top \Rightarrow W_k = Q\,\mathrm{diag}(w_k^N)Q^\top,\ "
              r"w_{k+1}=w_k+\eta w_k^{N-1}(\lambda-w_k^N)\ \text{(also } A=U\Sigma V^\top\text{ via the SVD path)}",
    verify=_measure,
    control=lambda seed: _measure(seed, coupled=True, aggregate=min),
    tolerance=1e-11,
    tolerance_reason="both sides are float64 evaluations of the same exact map (theory/chou.py proves it): each of "
                     "150 steps adds O(N d eps) ~ 1e-15 relative error and the contracting/monotone dynamics do not "
                     "amplify it. Measured by dmf-verify sweep over seeds 0-19: worst error 4.7e-15 (seed 11) = 0.00047 x the "
                     "tolerance (2.1e+03x margin); smallest control 0.0087 (seed 10) = 8.7e+08 x the tolerance",
    control_description="matrix completion on ~60% of the entries (a coupled loss) instead of full observation",
    derive=lambda: __import__("dmf_verify.theory.chou", fromlist=["decoupling"]).decoupling(),
    formula="chou_decoupling:recursion (numerics.chou.recursion_step, checked in tests/test_formulas.py)",
    notes="depths 2-5; symmetric 4x4 A with W_j(0)=alpha I and rectangular 4x3 A on the SVD path "
          "(W_1 = alpha V^T, W_N = alpha U, alpha I in between); 150 GD steps at half the convergence bound",
)
