"""chou.random_init and chou.sensing (empirical, as the paper's experiments): with a small random
(non-aligned) initialisation, and with Gaussian matrix sensing, erank(W_k) still passes through the
plateaus erank(A_1), erank(A_2) and stays on each for a window as long (in log-iterations) as half of
the aligned theory's plateau.

Measurement: the aligned plateau of rank r is the run [a, b] where the aligned scalar recursions have
|erank - erank(A_r)| <= 0.05 (chou.decoupling: identical to GD from alpha I). For the other dynamics
we take the best window [k, rho k], rho = sqrt(b/a), of max |erank(W_k) - erank(A_r)|, and report
where it sits. The claims report the median over three instances (seed, seed + 1, seed + 2):
single instances have rare outliers. Control: the same measurement from a large initialisation, where every direction is
learned at once and the plateaus disappear."""

from __future__ import annotations

import warnings

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.checks.claims.chou._common import symmetric_with_spectrum
from dmf_verify.numerics.chou import (StepSizeWarning, convergence_step_bound, erank_rows, measured_erank_interval,
                           scalar_recursion)
from dmf_verify.numerics.descent import gradient_descent
from dmf_verify.numerics.losses import FrobeniusLoss, random_sensing
from dmf_verify.numerics.model import random_factors, scaled_identity_factors
from dmf_verify.numerics.spectral import effective_rank

SPECTRUM = (10.0, 3.0, 1.0, 0.0, 0.0)
DEPTH, ALPHA, DELTA = 3, 0.05, 0.05
RANKS = (1, 2)
M_SENSING = 100  # Gaussian measurements of a 5x5 matrix (25 unknowns), mean-reduced loss
HORIZON = 1.5  # run GD to 1.5x the end of the last aligned plateau


def reference_plateaus(step: float) -> dict:
    """Aligned-theory plateaus: rank r -> (erank(A_r), run (a, b) of |erank - erank(A_r)| <= DELTA)."""
    lam = np.asarray(SPECTRUM)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StepSizeWarning)
        x = scalar_recursion(lam, DEPTH, alpha=ALPHA, step=step, steps=int(2.0 / (ALPHA * step))).x
    e = erank_rows(x)
    out = {}
    for r in RANKS:
        target = float(erank_rows(lam[None, :r])[0])
        out[r] = (target, measured_erank_interval(e, target, DELTA, None))
    return out


def best_window_deviation(erank_values: np.ndarray, target: float, ratio: float, starts: int = 300) -> tuple:
    """min over windows [k, ratio k] (k on a geometric grid) of max |erank - target| on the window."""
    dev = np.abs(np.asarray(erank_values) - target)
    n = dev.size
    best, where = np.inf, None
    for k in np.unique(np.geomspace(1, n / ratio, starts).astype(int)):
        hi = int(np.ceil(ratio * k))
        if hi >= n:
            break
        m = float(dev[k:hi + 1].max())
        if m < best:
            best, where = m, (int(k), hi)
    return best, where


def _measure(seed: int, kind: str, big: bool = False, aggregate=max) -> Measurement:
    a = symmetric_with_spectrum(SPECTRUM, seed)
    d = a.shape[0]
    eta = 0.5 * convergence_step_bound(max(SPECTRUM), DEPTH)
    if kind == "random":
        fs = random_factors([d] * (DEPTH + 1), scale=1.0 if big else ALPHA**DEPTH, seed=seed)
        loss = FrobeniusLoss(a)
    else:
        fs = scaled_identity_factors(d, DEPTH, alpha=1.0 if big else ALPHA)
        loss = random_sensing((d, d), M_SENSING, ground_truth=a, seed=seed, reduction="mean")
    ref = reference_plateaus(eta)
    steps = int(HORIZON * max(run[1] for _, run in ref.values()))
    res = gradient_descent(loss, fs, step=eta, steps=steps, record_every=1,
                           observe=lambda f, w: {"erank": effective_rank(w)})
    e = res.history["erank"]
    dev, windows, ratios = {}, {}, {}
    for r, (target, (lo, hi)) in ref.items():
        ratios[r] = float(np.sqrt(hi / max(lo, 1)))  # half the aligned plateau's length in log-iterations
        dev[r], windows[r] = best_window_deviation(e, target, ratios[r])
    return Measurement(aggregate(dev.values()), {
        "max_abs_erank_deviation_by_rank": dev,
        "best_windows": windows,
        "window_ratio_by_rank": ratios,
        "aligned_reference_runs": {r: v[1] for r, v in ref.items()},
        "targets": {r: v[0] for r, v in ref.items()},
        "init": ("scale 1 (control)" if big else f"small (alpha = {ALPHA})") + (" random" if kind == "random" else
                                                                                 " alpha I"),
        "step": eta,
        "steps": steps,
    })


INSTANCES = 3  # single instances have rare outliers (seed 6 random init: 0.19; seed 8 sensing: 0.12)


def _median_measure(seed: int, kind: str, big: bool = False, aggregate=max) -> Measurement:
    """The median over INSTANCES instances (seed, seed + 1, ...) of :func:`_measure`'s error."""
    runs = [_measure(seed + i, kind, big=big, aggregate=aggregate) for i in range(INSTANCES)]
    errors = [m.error for m in runs]
    return Measurement(float(np.median(errors)), {"error_by_instance_seed": dict(zip(range(seed, seed + INSTANCES),
                                                                                   errors)),
                                                  "first_instance": runs[0].details})


CLAIMS = [
    Claim(
        id="chou.random_init",
        source="Chou et al., abstract (empirical evidence for random initialization)",
        statement=r"W_j(0)\sim\mathcal N(0,\alpha^2/d)\ \text{i.i.d.}:\ \max_{k\in\text{central part of }I_r}"
                  r"|\mathrm{erank}(W_k)-\mathrm{erank}(A_r)|\ \text{small},\ r=1,2",
        verify=lambda seed: _median_measure(seed, "random"),
        control=lambda seed: _median_measure(seed, "random", big=True, aggregate=min),
        tolerance=0.02,
        tolerance_reason="empirical: single instances deviate by 0.0004-0.003 on 15 of seeds 0-15 (the aligned "
                         "recursion itself: 0.002) and by 0.19 on one (seed 6), so the error is the median over 3 "
                         "instances: 0.0005-0.0028 on seeds 0-13, 12345; 0.02 is ~7x the worst. The scale-1 control "
                         "gives 0.086-0.199 on the same seeds (>= 4.3x the tolerance)",
        control_description="the same random init at scale 1 instead of alpha^N (no small-initialisation regime)",
        notes="A = Q diag(10, 3, 1, 0, 0) Q^T (random Q per seed), N = 3, per-factor scale alpha = 0.05 "
              "(random_factors with scale = alpha^N), eta = 0.5 eta*; full GD on the 5x5 factors; error = max over r "
              "of the best window [k, rho_r k] (rho_r = sqrt(b/a) of the aligned plateau [a, b]) of "
              "max |erank - erank(A_r)|; the windows shift by up to ~1.7x in time vs the aligned plateaus (details)",
    ),
    Claim(
        id="chou.sensing",
        source="Chou et al., abstract (empirical evidence for matrix sensing)",
        statement=r"\ell(W)=\frac1{2m}\sum_i(\langle A_i,W\rangle-y_i)^2,\ W_j(0)=\alpha I:\ "
                  r"\max_{k\in\text{central part of }I_r}|\mathrm{erank}(W_k)-\mathrm{erank}(A_r)|\ \text{small}",
        verify=lambda seed: _median_measure(seed, "sensing"),
        control=lambda seed: _median_measure(seed, "sensing", big=True, aggregate=min),
        tolerance=0.05,
        tolerance_reason="empirical: single instances deviate by 0.001-0.020 on 15 of seeds 0-15 (sensing with "
                         "m = 100 > 25 couples the eigen-directions) and by 0.118 on one (seed 8), so the error is the "
                         "median over 3 instances: 0.003-0.019 on seeds 0-13, 12345; 0.05 = delta, 2.6x the worst; "
                         "the alpha = 1 control gives 0.50-0.53",
        control_description="the same sensing problem from W_j(0) = I (alpha = 1) instead of alpha = 0.05",
        notes="Gaussian A_i (i.i.d. N(0,1) entries), m = 100, mean reduction, A = Q diag(10, 3, 1, 0, 0) Q^T, N = 3, "
              "eta = 0.5 eta*; error = max over r of the best window [k, rho_r k] (rho_r = sqrt(b/a) of the aligned "
              "plateau [a, b]) of max |erank - erank(A_r)|; plateau timing shifts are reported, not tested",
    ),
]
