"""Gradient descent with step eta tracks the gradient flow with first-order error:
||W_GD(T) - W_flow(T)|| <= C eta, and the error ratio when eta halves tends to 2 (order 1)."""

from __future__ import annotations

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.checks.instances import balanced_instance, sensing_loss
from dmf_verify.numerics.descent import gradient_descent
from dmf_verify.numerics.flow import integrate_factor_flow

SHAPE = (4, 3)
HORIZON = 1.0
STEPS = (100, 200, 400, 800)   # eta = T / steps


def orders(seed: int) -> dict:
    loss = sensing_loss(SHAPE, 6, seed=seed)
    out = {}
    for depth in range(1, 5):
        fs = balanced_instance(SHAPE, depth, seed=seed + depth)
        ref = integrate_factor_flow(loss, fs, [0.0, HORIZON], rtol=1e-12, atol=1e-14).products[-1]
        errs = []
        for k in STEPS:
            w = gradient_descent(loss, fs, step=HORIZON / k, steps=k).product
            errs.append(float(np.linalg.norm(w - ref) / np.linalg.norm(ref)))
        p = [float(np.log2(errs[i] / errs[i + 1])) for i in range(len(errs) - 1)]
        out[depth] = {"errors": errs, "orders": p, "C": max(e * k / HORIZON for e, k in zip(errs, STEPS))}
    return out


def _measure(seed: int, target: float, aggregate=max) -> Measurement:
    res = orders(seed)
    dev = {d: abs(r["orders"][-1] - target) for d, r in res.items()}
    return Measurement(aggregate(dev.values()), {"by_depth": res, "steps": list(STEPS), "horizon": HORIZON})


CLAIM = Claim(
    id="arora2019.gd_tracks_flow",
    source="Arora et al. 2019, Section 3 (gradient flow as the small-step limit of GD)",
    statement=r"\|W_{GD}(T/\eta) - W(T)\|_F \le C\eta,\ \text{observed order } \log_2\frac{e(\eta)}{e(\eta/2)} \to 1",
    verify=lambda seed: _measure(seed, 1.0),
    control=lambda seed: _measure(seed, 2.0, aggregate=min),
    tolerance=0.05,
    tolerance_reason="e(eta) = C1 eta + C2 eta^2 + ..., so the observed order at eta=2.5e-3 deviates from 1 by "
                     "~C2 eta/(2 C1 ln 2); the measured order sequence halves its deviation each halving "
                     "(first-order behaviour), ending <= 0.0052 over seeds 0-3, 12345; 0.05 leaves ~10x",
    control_description="claim second-order convergence (order 2)",
    notes="depths 1-4, T=1, eta = 1e-2 ... 1.25e-3; flow reference DOP853 at rtol=1e-12",
)
