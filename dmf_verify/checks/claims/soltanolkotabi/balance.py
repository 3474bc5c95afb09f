"""Implicit balancing (Soltanolkotabi et al. 2023, abstract, implicit property (1); docs/theory.md) for X = U V^T.

* ``soltanolkotabi.balance.flow``: U^T U - V^T V is conserved by gradient flow;
* ``soltanolkotabi.balance.gd``: one GD step changes it by exactly eta^2 (G_U^T G_U - G_V^T G_V);
* ``soltanolkotabi.imbalance_bound``: along a whole run D_T = D_0 + sum_t eta^2 (G_U^T G_U - G_V^T G_V)
  (exact bookkeeping), with the measured scaling ||D_T|| ~ alpha^2 (alpha-dominated) and
  ||D_T - D_0|| ~ eta^1 at a fixed time horizon (O(eta^2) per step times T/eta steps).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.numerics.asymmetric import (
    asymmetric_flow,
    asymmetric_gd,
    imbalance,
    loglog_slope,
    sensing_problem,
    small_init,
)

# small rectangular cases (n1, n2, r, m, k): k below, at and above r, and k = min(n1, n2)
FLOW_CASES = ((6, 5, 2, 20, 1), (6, 5, 2, 20, 3), (5, 7, 1, 16, 5))
GD_CASES = ((8, 6, 2, 30, 2), (8, 6, 2, 30, 4), (6, 9, 2, 30, 6), (20, 15, 2, 105, 15))


def _flow_drift(seed: int, rate_v: float = 1.0) -> Measurement:
    cases = {}
    for n1, n2, r, m, k in FLOW_CASES:
        p = sensing_problem(n1, n2, r, m, seed=seed)
        u0, v0 = small_init(n1, n2, k, 1.0, seed=seed)  # any init: the identity needs no small alpha
        _t, states = asymmetric_flow(p, u0, v0, np.linspace(0.0, 3.0, 7), rate_v=rate_v)
        d0 = imbalance(u0, v0)
        scale = max(max(np.linalg.norm(u) ** 2, np.linalg.norm(v) ** 2) for u, v in states)
        cases[f"{n1}x{n2} k={k}"] = max(float(np.linalg.norm(imbalance(u, v) - d0)) for u, v in states) / scale
    return Measurement(max(cases.values()), {"relative_drift": cases, "horizon": 3.0, "seed": seed,
                                             "rtol": 1e-12, "rate_v": rate_v})


def _gd_identity(seed: int, step_v_factor: float = 1.0) -> Measurement:
    eta, steps = 0.02, 50
    cases = {}
    for n1, n2, r, m, k in GD_CASES:
        p = sensing_problem(n1, n2, r, m, seed=seed)
        u0, v0 = small_init(n1, n2, k, 1.0, seed=seed)
        res = asymmetric_gd(p, u0, v0, step=eta, step_v=eta * step_v_factor, steps=steps, track_steps=True)
        cases[f"{n1}x{n2} k={k}"] = res.max_step_residual
    return Measurement(max(cases.values()), {"relative_residual": cases, "step": eta, "steps": steps, "seed": seed,
                                             "step_v": eta * step_v_factor})


def _min_case(measure):
    def run(seed):
        m = measure(seed)
        values = next(v for v in m.details.values() if isinstance(v, dict))
        return Measurement(min(values.values()), m.details)
    return run


N1, N2, R, M = 20, 15, 2, 105


@lru_cache(maxsize=8)
def _bookkeeping_cached(seed: int, drop: bool) -> Measurement:
    return _bookkeeping_run(seed, drop=drop)


def _bookkeeping(seed: int, *, drop: bool = False) -> Measurement:
    return _bookkeeping_cached(seed, drop)


def _bookkeeping_run(seed: int, *, drop: bool = False) -> Measurement:
    """Exact bookkeeping of the imbalance along whole runs, and the measured scaling laws."""
    p = sensing_problem(N1, N2, R, M, seed=seed)
    k = 15
    residuals = {}
    f0 = p.value(*small_init(N1, N2, k, 1e-3, seed=seed))

    def one(alpha, eta, steps, label):
        u0, v0 = small_init(N1, N2, k, alpha, seed=seed)
        res = asymmetric_gd(p, u0, v0, step=eta, steps=steps)
        d0, dt = imbalance(u0, v0), imbalance(res.u, res.v)
        scale = max(np.linalg.norm(res.u) ** 2, np.linalg.norm(res.v) ** 2, np.linalg.norm(u0) ** 2)
        predicted = d0 + (0.0 if drop else res.accumulated)
        residuals[label] = float(np.linalg.norm(dt - predicted)) / scale
        return res, float(np.linalg.norm(d0)), float(np.linalg.norm(dt)), float(np.linalg.norm(res.accumulated))

    # alpha sweep (eta small, horizon t = 30): ||D_T|| is dominated by ||D_0|| = alpha^2 ||U_bar^T U_bar - V_bar^T V_bar||
    alphas, eta_a = (1.0, 0.5, 0.25, 0.125), 0.05
    d_alpha = [one(a, eta_a, 600, f"alpha={a:g}, eta={eta_a:g}")[2] for a in alphas]
    # eta sweep at a fixed time horizon t = eta * steps = 30 from alpha = 1e-3 (imbalance starts at ~1e-6)
    etas, horizon = (0.1, 0.05, 0.025), 30.0
    acc, ratio = [], []
    for eta in etas:
        res, _d0, _dt, a = one(1e-3, eta, round(horizon / eta), f"alpha=1e-3, eta={eta:g}")
        acc.append(a)
        ratio.append(a / (eta * (f0 - res.loss)))  # descent lemma: sum eta^2 ||G||^2 <~ eta (f_0 - f_T)
    details = {
        "relative_residual": residuals,
        "slope_DT_in_alpha": loglog_slope(alphas, d_alpha), "alphas": alphas, "norm_DT": d_alpha,
        "slope_accumulated_in_eta_fixed_horizon": loglog_slope(etas, acc), "etas": etas, "norm_accumulated": acc,
        "accumulated_over_eta_times_loss_decrease": ratio, "horizon": horizon, "shape": (N1, N2), "r": R, "m": M,
        "k": k, "seed": seed,
    }
    return Measurement(max(residuals.values()), details)


ALPHA_SLOPE, ETA_SLOPE = 2.0, 1.0  # ||D_T|| ~ alpha^2 (alpha-dominated); accumulated ~ eta (t/eta steps of eta^2)


def _scaling(seed: int, *, alpha_slope: float = ALPHA_SLOPE, eta_slope: float = ETA_SLOPE) -> Measurement:
    d = _bookkeeping(seed).details
    return Measurement(cases={
        f"|slope of ||D_T|| in alpha - {alpha_slope:g}|": abs(d["slope_DT_in_alpha"] - alpha_slope),
        f"|slope of the accumulated term in eta (fixed t) - {eta_slope:g}|":
            abs(d["slope_accumulated_in_eta_fixed_horizon"] - eta_slope)},
        details={k: d[k] for k in ("slope_DT_in_alpha", "alphas", "norm_DT", "slope_accumulated_in_eta_fixed_horizon",
                                   "etas", "norm_accumulated", "accumulated_over_eta_times_loss_decrease",
                                   "horizon", "shape", "r", "m", "k", "seed")})


def _derive():
    from dmf_verify.theory.implicit_balancing import implicit_balancing

    return implicit_balancing()


CLAIMS = [
    Claim(
        id="soltanolkotabi.balance.flow",
        source="Soltanolkotabi, Stöger & Xie 2023, abstract, implicit property (1): coupling of the factors (implicit "
               "balancing)",
        statement=r"\frac{d}{dt}\left(U^\top U - V^\top V\right) = 0 \text{ under } \dot U = -\nabla_U f,\ \dot V = -\nabla_V f",
        verify=_flow_drift,
        control=_min_case(lambda seed: _flow_drift(seed, rate_v=2.0)),
        tolerance=1e-9,
        tolerance_reason="DOP853 at rtol=1e-12, atol=1e-14 over horizon 3 (a few hundred steps): a conserved quantity "
                         "drifts by ~steps*rtol <~ 1e-9 relative to max(||U||_F^2, ||V||_F^2). Measured by dmf-verify sweep over seeds 0-19: worst error 5.1e-14 (seed 14) = 5.1e-05 x the "
                         "tolerance (2e+04x margin); smallest control 0.078 (seed 7) = 7.8e+07 x the tolerance",
        control_description="V moves at twice the rate of U (V' = -2 G_V): the linear terms no longer cancel",
        derive=_derive,
        formula="implicit_balancing:gd_change (numerics.asymmetric, checked in tests/test_formulas.py)",
    ),
    Claim(
        id="soltanolkotabi.balance.gd",
        source="Soltanolkotabi, Stöger & Xie 2023, abstract, implicit property (1): coupling of the factors (implicit "
               "balancing)",
        statement=r"D_{t+1} - D_t = \eta^2\left(G_U^\top G_U - G_V^\top G_V\right),\ D = U^\top U - V^\top V",
        verify=_gd_identity,
        control=_min_case(lambda seed: _gd_identity(seed, step_v_factor=1.5)),
        tolerance=1e-12,
        tolerance_reason="float64 round-off: each entry of D sums <= 2 n products of size ||U||^2, giving a per-step "
                         "residual ~10-100 eps = 2e-15..2e-14 relative to max(||U||^2, ||V||^2). Measured by dmf-verify sweep over seeds 0-19: worst error 4.5e-16 (seed 11) = 0.00045 x the "
                         "tolerance (2.2e+03x margin); smallest control 0.0069 (seed 16) = 6.9e+09 x the tolerance",
        control_description="V takes step 1.5 eta (unequal steps): the O(eta) terms -(eta_U - eta_V)(U^T G_U + G_U^T U) survive",
        derive=_derive,
    ),
    Claim(
        id="soltanolkotabi.imbalance_bound",
        source="Soltanolkotabi, Stöger & Xie 2023, abstract, implicit property (1): balancing along the whole "
               "trajectory",
        statement=r"U_T^\top U_T - V_T^\top V_T = \alpha^2(\bar U^\top\bar U - \bar V^\top\bar V) + "
                  r"\sum_{t<T}\eta^2\left(G_{U,t}^\top G_{U,t} - G_{V,t}^\top G_{V,t}\right)",
        verify=_bookkeeping,
        control=_min_case(lambda seed: _bookkeeping(seed, drop=True)),
        tolerance=1e-11,
        tolerance_reason="sum of up to 1200 per-step identities each exact to ~10-100 eps relative: accumulated "
                         "round-off <~ 1200 * 2e-14 = 2.4e-11 worst case, ~sqrt(T) * 2e-14 typically. Measured by dmf-verify sweep over seeds 0-19: worst error 1.2e-15 (seed 3) = 0.00012 x the tolerance "
                         "(8.3e+03x margin); smallest control 9.4e-05 (seed 13) = 9.4e+06 x the tolerance",
        control_description="claim that GD conserves U^T U - V^T V (accumulated eta^2 terms dropped)",
        notes="Scaling (details): ||D_T|| has log-log slope ~2 in alpha (alpha-dominated regime, eta = 0.05); at a fixed "
              "time horizon t = eta T the accumulated term has slope ~1 in eta, not 2: it is O(eta^2) per step but there "
              "are t/eta steps, and sum eta^2 ||G||^2 ~ eta (f_0 - f_T) by the descent lemma. So the imbalance is "
              "O(alpha^2) + O(eta) over a run, which differs from a reading 'O(alpha^2) + eta^2 (accumulated)' only in "
              "how the accumulation is counted. The ratio ||accumulated|| / (eta (f_0 - f_T)) is far below 1 "
              "(G_U^T G_U and G_V^T G_V nearly cancel).",
    ),
    Claim(
        id="soltanolkotabi.balance.scaling",
        source="Soltanolkotabi, Stöger & Xie 2023, abstract, implicit property (1) ('coupling of the trajectory'); "
               "the O(alpha^2) scaling of the imbalance from small init is the project's measurement",
        statement=r"\|U_T^\top U_T - V_T^\top V_T\|_F \propto \alpha^2\ (\eta\text{ small}),\quad "
                  r"\Big\|\sum_{t<T}\eta^2(G_U^\top G_U - G_V^\top G_V)\Big\|_F \propto \eta\ (\eta T \text{ fixed})",
        verify=_scaling,
        control=lambda seed: _scaling(seed, alpha_slope=1.0, eta_slope=2.0),
        tolerance=0.25,
        tolerance_reason="log-log slopes fitted over alpha in {1, 1/2, 1/4, 1/8} (eta = 0.05, 600 steps: ||D_0|| "
                         "dominates) and eta in {0.1, 0.05, 0.025} at t = 30 from alpha = 1e-3 (the eta^2 terms "
                         "dominate); the eta-slope carries the O(eta) change of the trajectory itself, hence 0.25 (0.15 "
                         "before left 2.2x on seed 10: deviation 0.069). Measured by dmf-verify sweep over seeds 0-19: worst error 0.069 (seed 10) = 0.28 x the tolerance "
                         "(3.6x margin); smallest control 0.93 (seed 10) = 3.7 x the tolerance",
        control_description="the naive scalings ||D_T|| ~ alpha and accumulated ~ eta^2 (the per-step order counted "
                            "without the t/eta steps): both slopes must miss by more than the tolerance",
        notes="20x15, r = 2, m = 105, k = 15; the same runs as soltanolkotabi.imbalance_bound (cached). Point "
              "estimates of the two slopes on the bookkeeping runs; soltanolkotabi.imbalance_scaling checks the same "
              "laws with 95% slope intervals on separate runs.",
    ),
]
