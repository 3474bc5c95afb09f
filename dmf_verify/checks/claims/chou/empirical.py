"""chou.random_init and chou.sensing (empirical, as the paper's experiments): with a small random
(non-aligned) initialisation, and with Gaussian matrix sensing, erank(W_k) still passes through the
plateaus erank(A_1), erank(A_2) and stays on each for a window as long (in log-iterations) as half of
the aligned theory's plateau.

Measurement: the aligned plateau of rank r is the run [a, b] where the aligned scalar recursions have
|erank - erank(A_r)| <= 0.05 (chou.decoupling: identical to GD from alpha I). For the other dynamics
we take the best window [k, rho k], rho = sqrt(b/a), of max |erank(W_k) - erank(A_r)|, and report
where it sits.

The statements are empirical and hold on most but not all random instances (measured on instances
0-79: random init 76/80 within 0.02, sensing 71/80 within 0.05), so they are claimed as RATES: on
N_INSTANCES instances per seed the plateau holds (best-window deviation <= the tolerance) on a
fraction whose one-sided 95% Clopper-Pearson lower bound is at least CLAIMED_RATE. Control: the same
per-instance test from a large initialisation, where every direction is learned at once and the
plateaus disappear; its rate must be proved below the claimed rate."""

from __future__ import annotations

import warnings

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement, Rate
from dmf_verify.checks.claims.chou._common import symmetric_with_spectrum
from dmf_verify.numerics.chou import (
    StepSizeWarning,
    convergence_step_bound,
    erank_rows,
    measured_erank_interval,
    scalar_recursion,
)
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


# per-instance thresholds (the former claims' tolerances) and the claimed rates (docs: tolerance_reason)
DEVIATION = {"random": 0.02, "sensing": 0.05}
N_INSTANCES = {"random": 40, "sensing": 40}
N_CONTROL = {"random": 5, "sensing": 5}
CLAIMED_RATE = {"random": 0.65, "sensing": 0.55}


def instance_seeds(seed: int, count: int) -> list[int]:
    """Disjoint instance seeds per claim seed: seed*count, ..., seed*count + count - 1."""
    return [seed * count + i for i in range(count)]


def _rate(seed: int, kind: str, big: bool = False) -> Rate:
    count = N_CONTROL[kind] if big else N_INSTANCES[kind]
    devs = {f"instance {i}": _measure(i, kind, big=big).error for i in instance_seeds(seed, count)}
    return Rate(outcomes={k: v <= DEVIATION[kind] for k, v in devs.items()}, claimed_rate=CLAIMED_RATE[kind],
                details={"deviation_by_instance": devs, "per_instance_threshold": DEVIATION[kind],
                         "init": "scale 1 (control)" if big else f"small (alpha = {ALPHA})"})


CLAIMS = [
    Claim(
        id="chou.random_init",
        source="Chou et al., abstract (empirical evidence for random initialization)",
        statement=r"W_j(0)\sim\mathcal N(0,\alpha^2/d)\ \text{i.i.d.}:\ \max_{k\in\text{central part of }I_r}"
                  r"|\mathrm{erank}(W_k)-\mathrm{erank}(A_r)| \le 0.02,\ r=1,2,\ \text{on at least 65\% of instances}",
        verify=lambda seed: _rate(seed, "random"),
        control=lambda seed: _rate(seed, "random", big=True),
        tolerance=1 - CLAIMED_RATE["random"],
        tolerance_reason="a Rate: per instance the plateau holds when the best-window deviation is <= 0.02 (the aligned "
                         "recursion itself deviates by 0.002); measured on instances 0-79: 76/80 hold (failures 0.10-0.35 "
                         "on instances 6, 27, 70, 72), so p ~ 0.95 and with 40 instances per seed the one-sided 95% "
                         "Clopper-Pearson lower bound exceeds 0.65 on every seed with probability >= 0.99 (binomial "
                         "calculation at p = 0.93). Error = 1 - lower bound, tolerance = 1 - 0.65. The scale-1 control "
                         "never held (0/80, deviations >= 0.39): 0/5 has upper bound 0.45 < 0.65. Measured by dmf-verify sweep over seeds 0-19: the statement held on 738/800 instances (92%); the 95% "
                         "lower bound was >= 0.725 on every seed (claimed 0.65; worst seed 4); the control held on 0/100, "
                         "upper bound <= 0.451 (seed 0)",
        control_description="the same random init at scale 1 instead of alpha^N (no small-initialisation regime), "
                            "5 instances",
        slow=True,
        notes="A = Q diag(10, 3, 1, 0, 0) Q^T (random Q per seed), N = 3, per-factor scale alpha = 0.05 "
              "(random_factors with scale = alpha^N), eta = 0.5 eta*; full GD on the 5x5 factors; error = max over r "
              "of the best window [k, rho_r k] (rho_r = sqrt(b/a) of the aligned plateau [a, b]) of "
              "max |erank - erank(A_r)|; the windows shift by up to ~1.7x in time vs the aligned plateaus. 40 instances "
              "per seed (instance seeds 40 s .. 40 s + 39), ~12 s: slow",
    ),
    Claim(
        id="chou.sensing",
        source="Chou et al., abstract (empirical evidence for matrix sensing)",
        statement=r"\ell(W)=\frac1{2m}\sum_i(\langle A_i,W\rangle-y_i)^2,\ W_j(0)=\alpha I:\ "
                  r"\max_{k\in\text{central part of }I_r}|\mathrm{erank}(W_k)-\mathrm{erank}(A_r)| \le 0.05"
                  r"\ \text{on at least 55\% of instances}",
        verify=lambda seed: _rate(seed, "sensing"),
        control=lambda seed: _rate(seed, "sensing", big=True),
        tolerance=1 - CLAIMED_RATE["sensing"],
        tolerance_reason="a Rate: per instance the plateau holds when the best-window deviation is <= 0.05 (= delta); "
                         "measured on instances 0-79: 71/80 hold (failures 0.051-0.24 on instances 8, 29, 38, 45, 51, 53, "
                         "60, 61, 70), so p ~ 0.89 and with 40 instances per seed the one-sided 95% Clopper-Pearson "
                         "lower bound exceeds 0.55 on every seed with probability >= 0.99 (binomial calculation at "
                         "p = 0.85). The alpha = 1 control never held (0/80, deviations >= 1.2): 0/5 has upper bound "
                         "0.45 < 0.55. Measured by dmf-verify sweep over seeds 0-19: the statement held on 759/800 instances (95%); the 95% "
                         "lower bound was >= 0.725 on every seed (claimed 0.55; worst seed 1); the control held on 0/100, "
                         "upper bound <= 0.451 (seed 0)",
        control_description="the same sensing problem from W_j(0) = I (alpha = 1) instead of alpha = 0.05, 5 instances",
        slow=True,
        notes="Gaussian A_i (i.i.d. N(0,1) entries), m = 100, mean reduction, A = Q diag(10, 3, 1, 0, 0) Q^T, N = 3, "
              "eta = 0.5 eta*; error = max over r of the best window [k, rho_r k] (rho_r = sqrt(b/a) of the aligned "
              "plateau [a, b]) of max |erank - erank(A_r)|; plateau timing shifts are reported, not tested. 40 instances "
              "per seed, ~12 s: slow",
    ),
]
