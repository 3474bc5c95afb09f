"""chou.erank_intervals: predicted iteration intervals where |erank(W_k) - erank(A_r)| <= delta.

From the switch-on bounds every x_k^(i) = w_k^N is enclosed in a box; erank over the box is bounded
exactly (dmf_verify.numerics.chou.erank_box_bounds). The predicted inner interval (bound guaranteed) must lie inside
the measured run and the measured run inside the predicted outer interval (bound possible)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.numerics.chou import (convergence_step_bound, erank_rows, measured_erank_interval, predict_erank_intervals,
                           scalar_recursion)

GAPPED = (10.0, 8.0, 6.0, 0.1, 0.05)
GAPLESS = (10.0, 9.0, 8.0, 7.0, 6.0)
CONFIGS = ((2, 0.05), (3, 0.05))  # (depth, alpha)
RANK, DELTA, STEP_FRACTION = 3, 0.05, 0.5
N_LEVELS = 20  # enclosure levels per side and eigenvalue
PLATEAU_RATIO = 2.0  # a plateau must span at least a doubling of the iteration count


@lru_cache(maxsize=16)
def _predict(spectrum, depth, alpha, seed):
    rng = np.random.default_rng(seed + 7 * depth)
    lam = np.sort(np.asarray(spectrum) * rng.uniform(0.9, 1.1, len(spectrum)))[::-1]
    eta = STEP_FRACTION * convergence_step_bound(lam[0], depth)
    return lam, eta, predict_erank_intervals(lam, depth, alpha=alpha, step=eta, rank=RANK, delta=DELTA,
                                             n_levels=N_LEVELS)


@lru_cache(maxsize=16)
def _measured(spectrum, depth, alpha, seed):
    """Measured run (on the scalar recursions) overlapping the correctly predicted inner interval."""
    lam, eta, pred = _predict(spectrum, depth, alpha, seed)
    steps = int(1.2 * pred.outer[1] + 10)
    x = scalar_recursion(lam, depth, alpha=alpha, step=eta, steps=steps).x
    return measured_erank_interval(erank_rows(x), pred.target_erank, DELTA, pred.inner)


def _case(spectrum, depth, alpha, seed, time_factor=1):
    lam, eta, pred = _predict(tuple(spectrum), depth, alpha, seed)
    info = {"spectrum": lam.round(4).tolist(), "target_erank": pred.target_erank}
    if pred.inner is None or pred.inner[1] < PLATEAU_RATIO * pred.inner[0]:
        info["predicted"] = (f"no plateau: no interval [a, b] with b >= {PLATEAU_RATIO} a and guaranteed "
                             f"|erank - erank(A_r)| <= delta (longest guaranteed run: {pred.inner})")
        return float("inf"), info
    inner = tuple(time_factor * v for v in pred.inner)
    outer = tuple(time_factor * v for v in pred.outer)
    meas = _measured(tuple(spectrum), depth, alpha, seed)
    info.update({"inner": inner, "measured": meas, "outer": outer})
    if meas is None:
        return float("inf"), info
    v = max(0, meas[0] - inner[0], inner[1] - meas[1], outer[0] - meas[0], meas[1] - outer[1])
    info["inner_over_measured_length"] = (inner[1] - inner[0] + 1) / (meas[1] - meas[0] + 1)
    info["measured_over_outer_length"] = (meas[1] - meas[0] + 1) / (outer[1] - outer[0] + 1)
    return float(v), info


def _measure(seed: int) -> Measurement:
    errs, details = [], {}
    for depth, alpha in CONFIGS:
        e, info = _case(GAPPED, depth, alpha, seed)
        errs.append(e)
        details[f"N={depth}, alpha={alpha}"] = info
    return Measurement(max(errs), {"cases": details, "rank": RANK, "delta": DELTA, "step": "0.5 eta*"})


def _control(seed: int) -> Measurement:
    errs, details = [], {}
    for depth, alpha in CONFIGS:
        e, info = _case(GAPLESS, depth, alpha, seed)  # no gap: no plateau is predicted
        errs.append(e)
        details[f"gapless N={depth}"] = info
        e, info = _case(GAPPED, depth, alpha, seed, time_factor=depth)  # time scale without the factor N
        errs.append(e)
        details[f"wrong time scale N={depth}"] = info
    return Measurement(min(errs), {"cases": details})


CLAIM = Claim(
    id="chou.erank_intervals",
    source="Chou et al., abstract (time intervals where the effective rank is close to that of a low-rank projection; "
           "early stopping)",
    statement=r"\exists I_{\rm inner}=[a,b],\ b\ge 2a:\ I_{\rm inner}\subseteq\{k: |\mathrm{erank}(W_k)-\mathrm{erank}(A_r)|\le\delta\}\subseteq I_{\rm outer}"
              r"\ \text{(the run containing } I_{\rm inner})",
    verify=_measure,
    control=_control,
    tolerance=1.0,
    tolerance_reason="the enclosures are rigorous (switch-on bounds + exact erank over a box), so a containment "
                     "violation is 0 iterations in exact arithmetic; one iteration allows a float64 round-off flip "
                     "of a crossing of |erank - erank(A_r)| = delta. Measured 0 on seeds 0, 1, 2, 12345",
    control_description="a gapless spectrum (10, 9, 8, 7, 6) (no plateau [a, b], b >= 2a, can be predicted: error inf) and the "
                        "gapped intervals on a time scale missing the factor N (min of both)",
    derive=lambda: __import__("dmf_verify.theory.chou", fromlist=["erank_box_max"]).erank_box_max(),
    notes="spectrum (10, 8, 6, 0.1, 0.05) jittered +-10% by seed, r = 3, delta = 0.05, eta = 0.5 eta*, N = 2, 3 with "
          "alpha = 0.05; measured on the scalar recursions (chou.decoupling shows they equal full GD). "
          "Tightness: inner/measured and measured/outer lengths in details",
)
