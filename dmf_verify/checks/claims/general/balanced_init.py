"""The balanced initialization every Arora et al. flow claim starts from (Arora et al. 2019, Section 3:
W_{j+1}^T W_{j+1} = W_j W_j^T at t = 0, with a prescribed end-to-end matrix W(0)).

``model.balanced_factors(W, N, hidden)`` must return factors whose product is W and whose
imbalances D_j = W_{j+1}^T W_{j+1} - W_j W_j^T vanish, for square and rectangular W, hidden widths
at and above min(d, d'), depths 1-5. Both are measured directly (products and Gram matrices
written out here), relative to ||W||_F and ||W||_F^(2/N).
"""

from __future__ import annotations

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement

SHAPES = ((5, 3), (3, 5), (4, 4))
HIDDEN = [4, 6, 3, 5]


def _measure(seed: int, *, unbalanced: bool = False) -> Measurement:
    from dmf_verify.checks.instances import matrix_with_spectrum
    from dmf_verify.numerics.model import balanced_factors, random_factors

    rng = np.random.default_rng([seed, 41])
    cases = {}
    for shape in SHAPES:
        k = min(shape)
        w0 = matrix_with_spectrum(shape, np.sort(rng.uniform(0.3, 2.0, k))[::-1], seed=seed + shape[0])
        for depth in range(1, 6):
            hidden = [max(h, k) for h in HIDDEN[: depth - 1]]
            if unbalanced:  # control: a small random init with the same product scale is not balanced
                dims = [shape[1]] + hidden + [shape[0]]
                fs = random_factors(dims, scale=float(np.linalg.norm(w0, 2)), seed=seed + depth)
            else:
                fs = balanced_factors(w0, depth, hidden=hidden, seed=seed + depth)
            w = fs[0]
            for f in fs[1:]:
                w = f @ w
            name = f"{shape[0]}x{shape[1]}, N={depth}"
            scale = float(np.linalg.norm(w0)) ** (2.0 / depth)
            imb = max((float(np.linalg.norm(fs[j + 1].T @ fs[j + 1] - fs[j] @ fs[j].T)) / scale
                       for j in range(depth - 1)), default=0.0)
            if not unbalanced:
                cases[f"{name}: ||W_N...W_1 - W|| / ||W||"] = float(np.linalg.norm(w - w0) / np.linalg.norm(w0))
            if depth > 1:
                cases[f"{name}: max_j ||D_j|| / ||W||^(2/N)"] = imb
    return Measurement(cases=cases, details={"shapes": [list(s) for s in SHAPES], "hidden": HIDDEN, "seed": seed})


CLAIM = Claim(
    id="model.balanced_init",
    source="Arora et al. 2019, Section 3 (balanced initialization, the premise of Lemma 3 and Theorem 3)",
    statement=r"W_N\cdots W_1 = W(0),\quad W_{j+1}^\top W_{j+1} = W_j W_j^\top\ (j = 1, \ldots, N-1)",
    verify=_measure,
    control=lambda seed: _measure(seed, unbalanced=True),
    tolerance=1e-12,
    tolerance_reason="float64 round-off of a product of <= 5 factors built from a compact SVD and orthonormal "
                     "Q_j: ~N eps relative. Measured by dmf-verify sweep over seeds 0-19: worst error 3.5e-15 (seed 16) = 0.0035 x the tolerance "
                     "(2.9e+02x margin); smallest control 0.54 (seed 14) = 5.4e+11 x the tolerance",
    control_description="random factors of the same scale (model.random_factors): their imbalances must exceed "
                        "the tolerance (a generic init is not balanced)",
    notes="shapes 5x3, 3x5, 4x4; depths 1-5 with hidden widths max(4, 6, 3, 5; min(d, d')); W(0) with random "
          "distinct singular values in [0.3, 2]",
)
