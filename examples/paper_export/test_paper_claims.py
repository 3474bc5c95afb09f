"""The statement of scalar_imbalance.py as a claim with its derivation attached (for `dmf-verify report`).

Run (from this folder):
    pytest
    dmf-verify check 'mine.*'
    dmf-verify derive mine.scalar.imbalance_contraction --format latex-document > derivation.tex
    dmf-verify report 'mine.*' --format latex --out claims.tex && pdflatex claims.tex
    python export_latex.py          # the derivation alone, as paper-ready LaTeX (+ PDF when pdflatex exists)
"""

import numpy as np
import pytest

from dmf_verify.numerics import FrobeniusLoss, gradient_descent
from scalar_imbalance import derivation

EPS = float(np.finfo(float).eps)
ETA = 0.1


def one_step(seed, depth, *, eta_power=2):
    """(measured delta_j^+, predicted delta_j (1 - eta^power r^2 Q_j)) for random scalar factors."""
    rng = np.random.default_rng([seed, depth])
    w = rng.uniform(0.3, 1.5, depth) * rng.choice([-1.0, 1.0], depth)
    y = rng.uniform(-2.0, 2.0)
    loss = FrobeniusLoss(np.array([[y]]))                       # l(P) = (P - y)^2 / 2, r = P - y
    after = gradient_descent(loss, [np.array([[v]]) for v in w], step=ETA, steps=1).factors
    wp = np.array([f[0, 0] for f in after])
    r = np.prod(w) - y
    measured = wp[1:] ** 2 - wp[:-1] ** 2
    q = np.array([np.prod(np.delete(w, [j, j + 1]) ** 2) for j in range(depth - 1)])
    predicted = (w[1:] ** 2 - w[:-1] ** 2) * (1 - ETA**eta_power * r**2 * q)
    return measured, predicted


@pytest.mark.dmf_claim(
    "mine.scalar.imbalance_contraction",
    source="examples/paper_export/scalar_imbalance.py",
    statement=r"\delta_j^+ = \delta_j\big(1 - \eta^2 r^2 \textstyle\prod_{k\ne j,j+1} w_k^2\big),\quad "
              r"\delta_j = w_{j+1}^2 - w_j^2,\ r = \ell'(w_1\cdots w_N)",
    tolerance=1e-14,
    tolerance_reason="float64 round-off of O(1) squares (|w_k| <= 1.5, |y| <= 2): worst absolute error 5.6e-16 over "
                     "depths 2-4 and seeds 0..19 (18x margin)",
    control="control_first_power",
    derive=derivation,
)
def test_one_step_contracts_the_imbalance(dmf):
    """One GD step multiplies each scalar imbalance by 1 - eta^2 r^2 prod_{k != j, j+1} w_k^2."""
    for depth in (2, 3, 4):
        dmf.close(*one_step(dmf.seed, depth), name=f"depth {depth}")


def control_first_power(dmf):
    """The same comparison with eta in place of eta^2 (wrong exponent)."""
    for depth in (2, 3, 4):
        dmf.close(*one_step(dmf.seed, depth, eta_power=1), name=f"depth {depth}")


def test_derivation_proves_the_identity():
    d = derivation()
    assert d.verified and len(d.checks) == 1 + 2 + 3
