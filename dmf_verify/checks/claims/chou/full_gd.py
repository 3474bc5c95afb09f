"""Effective-rank intervals on full-matrix gradient descent, and their timing under random init and sensing.

The predicted intervals (dmf_verify.numerics.chou.predict_erank_intervals: the switch-on bounds of every
eigenvalue enclose x_k, erank is bounded exactly over the box) are derived for the decoupled recursion.

* ``chou.erank_intervals.full_gd``: GD on the full 5 x 5 factors from W_j(0) = alpha I on
  A = Q diag(lambda) Q^T (random Q), erank from an SVD of the product at every step: the predicted inner
  interval lies inside the measured run of |erank(W_k) - erank(A_3)| <= delta and the run inside the outer
  interval (error: iterations outside).
* ``chou.erank_intervals.random_init`` and ``.sensing``: the same prediction against GD from small random
  factors (N = 2) and against Gaussian sensing from alpha I (N = 3). The *timing* is tested: an instance
  succeeds when its measured run exists and both of its ends are within a factor TIMING of the predicted
  enclosure (start in [outer_a / c, inner_a c], end in [inner_b / c, outer_b c]); claimed as a rate.

Controls: full_gd, the predicted intervals on a time scale without the factor N (x' = x^(2-2/N)(lambda - x));
the timing rates, the intervals the predictor gives for depth N + 1 (an off-by-one depth).
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement, Rate

D = 5
SPECTRUM = (10.0, 8.0, 6.0, 0.5, 0.25)
RANK, DELTA, ALPHA, STEP_FRACTION, N_LEVELS = 3, 0.05, 0.05, 0.5, 20
FULL_GD = {2: 3, 3: 3}            # depth -> instances (full_gd claim)
RATE_CASES = {"random_init": {2: 30}, "sensing": {3: 30}}
M_FACTOR = 4                      # sensing: m = 4 d^2 Gaussian measurements, mean loss
TIMING = 2.0
CLAIMED_RATE = 0.8


@lru_cache(maxsize=32)
def _prediction(seed: int, depth: int, salt: int, predict_depth: int | None = None):
    """Jittered spectrum, step and the predicted intervals (for ``predict_depth``, default ``depth``)."""
    from dmf_verify.numerics.chou import StepSizeWarning, convergence_step_bound, predict_erank_intervals

    rng = np.random.default_rng([seed, depth, salt, 11])
    lam = np.sort(np.asarray(SPECTRUM) * rng.uniform(0.9, 1.1, len(SPECTRUM)))[::-1]
    eta = STEP_FRACTION * convergence_step_bound(lam[0], depth)
    with warnings.catch_warnings():
        warnings.simplefilter("error" if predict_depth is None else "ignore", StepSizeWarning)
        pred = predict_erank_intervals(lam, predict_depth or depth, alpha=ALPHA, step=eta, rank=RANK, delta=DELTA,
                                       n_levels=N_LEVELS)
    return lam, eta, pred


def _orthogonal(rng, d):
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


@lru_cache(maxsize=32)
def _runs(seed: int, depth: int, count: int, kind: str):
    """Measured runs of |erank(W_k) - erank(A_r)| <= delta (one per instance) and the prediction they face."""
    from dmf_verify.numerics.batched import BatchedFrobenius, BatchedSensing, batched_descent, batched_effective_rank
    from dmf_verify.numerics.chou import measured_erank_interval

    salt = {"aligned": 1, "random_init": 2, "sensing": 3}[kind]
    lam, eta, pred = _prediction(seed, depth, salt)
    rng = np.random.default_rng([seed, depth, salt, 12])
    a = np.stack([(q * lam) @ q.T for q in (_orthogonal(rng, D) for _ in range(count))])
    a = 0.5 * (a + a.transpose(0, 2, 1))
    eye = np.broadcast_to(np.eye(D), (count, D, D))
    if kind == "random_init":
        fs = [ALPHA / np.sqrt(D) * rng.standard_normal((count, D, D)) for _ in range(depth)]
    else:
        fs = [ALPHA * eye.copy() for _ in range(depth)]
    if kind == "sensing":
        am = rng.standard_normal((count, M_FACTOR * D * D, D, D))
        loss = BatchedSensing(am, np.einsum("bmij,bij->bm", am, a), reduction="mean")
    else:
        loss = BatchedFrobenius(a)
    steps = int(1.2 * pred.outer[1] + 10)
    res = batched_descent(loss, fs, step=eta, steps=steps, record_every=1,
                          observe=lambda w: {"erank": batched_effective_rank(w)})
    er = res.history["erank"]
    meas = [measured_erank_interval(er[:, i], pred.target_erank, DELTA, pred.inner) for i in range(count)]
    return lam, eta, pred, meas


def _scaled(pred, factor):
    return tuple(factor * v for v in pred.inner), tuple(factor * v for v in pred.outer)


def _containment(seed: int, *, time_factor: bool = False) -> Measurement:
    cases, info = {}, {}
    for depth, count in FULL_GD.items():
        lam, eta, pred, meas = _runs(seed, depth, count, "aligned")
        inner, outer = _scaled(pred, depth if time_factor else 1)
        for i, m in enumerate(meas):
            if m is None:
                v = float("inf")
            else:
                v = float(max(0, m[0] - inner[0], inner[1] - m[1], outer[0] - m[0], m[1] - outer[1]))
            cases[f"N={depth} #{i}"] = v
        info[f"N={depth}"] = {"spectrum": lam.round(4).tolist(), "step": eta, "inner": inner, "outer": outer,
                              "measured": meas, "target_erank": pred.target_erank}
    return Measurement(cases=cases, details={"by_depth": info, "rank": RANK, "delta": DELTA, "alpha": ALPHA,
                                             "time_scale": "without the factor N (control)" if time_factor else "derived"})


def timing_ok(measured, inner, outer, factor: float = TIMING) -> bool:
    """Both ends of the measured run within ``factor`` of the predicted enclosure."""
    if measured is None:
        return False
    a, b = max(measured[0], 1), measured[1]
    return bool(outer[0] / factor <= a <= inner[0] * factor and inner[1] / factor <= b <= outer[1] * factor)


def _timing(seed: int, kind: str, *, wrong_depth: bool = False) -> Rate:
    outcomes, info = {}, {}
    for depth, count in RATE_CASES[kind].items():
        lam, _eta, pred, meas = _runs(seed, depth, count, kind)
        if wrong_depth:  # control: the intervals the predictor gives for depth N + 1 (same spectrum, alpha, step)
            pred = _prediction(seed, depth, {"random_init": 2, "sensing": 3}[kind], depth + 1)[2]
        inner, outer = pred.inner, pred.outer
        for i, m in enumerate(meas):
            outcomes[f"N={depth} #{i}"] = timing_ok(m, inner, outer)
        info[f"N={depth}"] = {"inner": inner, "outer": outer, "measured": meas, "spectrum": lam.round(4).tolist()}
    return Rate(outcomes=outcomes, claimed_rate=CLAIMED_RATE, details={"by_depth": info, "timing_factor": TIMING,
                                                                      "kind": kind})


NOTES = (f"spectrum {SPECTRUM} jittered +-10% per seed, r = {RANK}, delta = {DELTA}, alpha = {ALPHA}, eta = "
         f"{STEP_FRACTION} eta*, {N_LEVELS} enclosure levels per side; erank of the full product at every step "
         "(batched GD, numerics/batched.py).")

CLAIMS = [
    Claim(
        id="chou.erank_intervals.full_gd",
        source="Chou et al., abstract ('accurately locate time intervals where the effective rank "
               "of the iterates is close to the effective rank of a low-rank projection'); full-matrix GD",
        statement=r"I_{\rm inner}\subseteq\{k:|\mathrm{erank}(W_k)-\mathrm{erank}(A_r)|\le\delta\}\subseteq I_{\rm outer}"
                  r"\quad(W_k\text{: GD on the full factors from }\alpha I)",
        verify=_containment,
        control=lambda seed: _containment(seed, time_factor=True),
        tolerance=1.0,
        tolerance_reason="the enclosures are rigorous for the exact recursion and full GD equals it to ~1e-15 "
                         "(chou.decoupling), so a violation is 0 iterations; 1 allows a round-off flip of one "
                         "crossing. Measured over seeds 0..19 (120 instances): 0 iterations on every instance; "
                         "control at least 90 iterations outside",
        control_description="the predicted intervals on a time scale missing the factor N",
        notes=NOTES + " N = 2, 3, three random eigenbases each.",
    ),
    Claim(
        id="chou.erank_intervals.random_init",
        source="Chou et al., abstract ('empirical evidence ... random initialization'); empirical, "
               "timing of the predicted intervals",
        statement=r"\Pr\big[\text{both ends of the measured plateau within a factor 2 of the predicted enclosure}\big]"
                  r"\ge 0.8\quad(W_j(0)\sim\mathcal N(0,\alpha^2/d),\ N=2)",
        verify=lambda seed: _timing(seed, "random_init"),
        control=lambda seed: _timing(seed, "random_init", wrong_depth=True),
        tolerance=1.0 - CLAIMED_RATE,
        tolerance_reason="a rate over 30 instances per seed (one-sided 95% Clopper-Pearson lower bound > 0.8). "
                         "Measured over seeds 0..19: 30/30 on every seed (error 0.095); control 0/30 on every seed "
                         "(error 0.905)",
        control_description="the same timing test against the intervals predicted for depth N + 1 (off-by-one depth)",
        notes=NOTES + " N = 2 only: for N = 3 the random product's effective scale differs from alpha^N and the "
                      "plateau start shifts by up to ~3x (measured: 60% of 20 instances within 2x), so that timing "
                      "is reported in docs/claims_extended.md, not claimed.",
    ),
    Claim(
        id="chou.erank_intervals.sensing",
        source="Chou et al., abstract ('empirical evidence ... matrix sensing'); empirical, timing "
               "of the predicted intervals",
        statement=r"\Pr\big[\text{both ends of the measured plateau within a factor 2 of the predicted enclosure}\big]"
                  r"\ge 0.8\quad(\ell=\tfrac1{2m}\textstyle\sum_i(\langle A_i,W\rangle-y_i)^2,\ W_j(0)=\alpha I,\ N=3)",
        verify=lambda seed: _timing(seed, "sensing"),
        control=lambda seed: _timing(seed, "sensing", wrong_depth=True),
        tolerance=1.0 - CLAIMED_RATE,
        tolerance_reason="a rate over 30 instances per seed (N = 3). Measured over seeds 0..19: 30/30 on 19 seeds, "
                         "29/30 on one (error <= 0.149); control "
                         "0/30 on every seed (error 0.905)",
        control_description="the same timing test against the intervals predicted for depth N + 1 (off-by-one depth)",
        notes=NOTES + f" Gaussian A_i (i.i.d. N(0, 1) entries), m = {M_FACTOR} d^2 = {M_FACTOR * D * D}, N = 3. For "
                      "N = 2 the end of the plateau (switch-on of lambda_4 = 0.5) moves more under sensing (measured: "
                      "90% of 20 instances within 2x, up to 3.2x): reported in docs/claims_extended.md, not claimed.",
    ),
]
