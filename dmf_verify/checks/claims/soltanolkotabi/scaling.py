"""Scaling laws of small-init gradient descent on X = U V^T (Soltanolkotabi, Stöger & Xie 2023), as fitted slopes.

* ``soltanolkotabi.alpha_slope``: the final error shrinks as alpha -> 0: the 95% interval of the fitted
  log-log slope of ||U_T V_T^T - X*||_F / ||X*||_F against alpha (1e-2 .. 1e-6, T = 2000 steps) stays positive.
* ``soltanolkotabi.imbalance_scaling``: ||U_T^T U_T - V_T^T V_T||_F ~ alpha^2 (the imbalance keeps its initial
  scale; eta small) and the accumulated GD terms ||sum_t eta^2 (G_U^T G_U - G_V^T G_V)||_F ~ eta at a fixed
  time horizon eta T (O(eta^2) per step times t / eta steps: "proportional to eta t").
* ``soltanolkotabi.phase_times``: the end t_1 of the spectral (alignment) phase, the first step with
  ||U V^T||_F >= 0.1 ||X*||_F. Linearised at X ~ 0 the factors follow U <- U + eta M V, V <- V + eta M^T U
  with M = (1/m) A^*(y), so U V^T grows like alpha^2 (1 + eta s_1(M))^(2t) and
  t_1 = ln(1/alpha) / ln(1 + eta s_1(M)) + const: fitted slope of t_1 against ln(1/alpha) vs 1/ln(1 + eta s_1(M))
  (s_1 from an SVD of M, independent of the runs), and t_1 ln(1 + eta s_1) independent of eta.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement

N1, N2, R, M = 20, 15, 2, 210     # m = 3 r (n1 + n2)
K = min(N1, N2)
ETA = 0.1
SLOPE_ALPHAS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
SLOPE_STEPS = 2000
SLOPE_RANGE_DECADES = 4.0
IMB_ALPHAS, IMB_ETA, IMB_STEPS = (1.0, 0.5, 0.25, 0.125), 0.05, 600
IMB_ETAS, IMB_HORIZON, IMB_ALPHA = (0.04, 0.02, 0.01, 0.005), 15.0, 1e-3
PHASE_ALPHAS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7)
PHASE_ETAS, PHASE_ALPHA = (0.1, 0.05, 0.025, 0.0125), 1e-4
LEVEL = 0.1


def _problem(seed: int):
    from dmf_verify.numerics.asymmetric import sensing_problem

    return sensing_problem(N1, N2, R, M, seed=seed)


# --------------------------------------------------------------------------------------------- alpha slope
@lru_cache(maxsize=8)
def _final_errors(seed: int, k: int) -> tuple:
    from dmf_verify.numerics.asymmetric import alpha_sweep

    out = alpha_sweep(_problem(seed), k, SLOPE_ALPHAS, step=ETA, steps=SLOPE_STEPS, seed=seed)
    return tuple(float(e) for e in out["rel_error"]), tuple(float(v) for v in out["loss"])


def _alpha_slope(seed: int, *, k: int = K) -> Measurement:
    from dmf_verify.numerics.scaling import fit_slope

    err, loss = _final_errors(seed, k)
    f = fit_slope(SLOPE_ALPHAS, np.maximum(err, 1e-300))
    p = _problem(seed)
    s = np.linalg.svd(p.spectral_matrix(), compute_uv=False)
    rho = np.log1p(ETA * s[R]) / np.log1p(ETA * s[R - 1])
    factor = float(10.0 ** (-SLOPE_RANGE_DECADES * f.lower))  # the interval's pessimistic change over 4 decades
    return Measurement(error=factor, details={
        "fit": f.as_dict(), "final_rel_error": err, "final_loss": loss, "alphas": SLOPE_ALPHAS, "k": k,
        "steps": SLOPE_STEPS, "step": ETA, "pessimistic_error_factor_over_4_decades": factor,
        "linearised_exponent_2(1-ln(1+eta s_r+1)/ln(1+eta s_r)) (reported, not claimed)": float(2 * (1 - rho)),
        "shape": (N1, N2), "r": R, "m": M, "seed": seed})


# --------------------------------------------------------------------------------------------- imbalance
@lru_cache(maxsize=8)
def _imbalance_data(seed: int) -> dict:
    from dmf_verify.numerics.asymmetric import alpha_sweep, asymmetric_gd, imbalance, small_init

    p = _problem(seed)
    sweep = alpha_sweep(p, K, IMB_ALPHAS, step=IMB_ETA, steps=IMB_STEPS, seed=seed)
    dt = [float(np.linalg.norm(imbalance(u, v))) for u, v in zip(sweep["u"], sweep["v"])]
    ub, vb = small_init(N1, N2, K, 1.0, seed=seed)
    d0_unit = float(np.linalg.norm(imbalance(ub, vb)))
    acc, drop = [], []
    u0, v0 = small_init(N1, N2, K, IMB_ALPHA, seed=seed)
    f0 = p.value(u0, v0)
    for eta in IMB_ETAS:
        res = asymmetric_gd(p, u0, v0, step=eta, steps=round(IMB_HORIZON / eta))
        acc.append(float(np.linalg.norm(res.accumulated)))
        drop.append(float(f0 - res.loss))
    return {"norm_DT": dt, "norm_D0_at_alpha_1": d0_unit, "accumulated": acc, "loss_decrease": drop}


def _imbalance(seed: int, *, wrong: bool = False) -> Measurement:
    from dmf_verify.numerics.scaling import fit_slope

    d = _imbalance_data(seed)
    fa = fit_slope(IMB_ALPHAS, d["norm_DT"])
    fe = fit_slope(IMB_ETAS, d["accumulated"])
    if wrong:  # "D_T ~ alpha" and "accumulated ~ eta^2" (O(eta^2) per step, steps not counted)
        cases = {"||D_T|| vs alpha": fa.exclusion(1.0), "accumulated vs eta": fe.exclusion(2.0)}
    else:
        cases = {"||D_T|| vs alpha": fa.deviation(2.0), "accumulated vs eta": fe.deviation(1.0)}
    ratio = [a / (e * x) for a, e, x in zip(d["accumulated"], IMB_ETAS, d["loss_decrease"])]
    return Measurement(cases=cases, details={
        "fit_alpha": fa.as_dict(), "fit_eta": fe.as_dict(), **d, "alphas": IMB_ALPHAS, "eta_alpha_sweep": IMB_ETA,
        "steps_alpha_sweep": IMB_STEPS, "etas": IMB_ETAS, "horizon_eta_T": IMB_HORIZON, "alpha_eta_sweep": IMB_ALPHA,
        "accumulated_over_eta_times_loss_decrease": ratio, "k": K, "seed": seed})


# --------------------------------------------------------------------------------------------- phase times
def first_crossing(problem, u0, v0, *, step: float, level: float, max_steps: int) -> int:
    """First GD step t with ||U_t V_t^T||_F >= level (raises if not reached within max_steps)."""
    from dmf_verify.errors import InvalidArgument

    u, v = u0.copy(), v0.copy()
    for t in range(1, max_steps + 1):
        g = problem.loss.gradient(u @ v.T)
        u, v = u - step * (g @ v), v - step * (g.T @ u)
        if float(np.linalg.norm(u @ v.T)) >= level:
            return t
    raise InvalidArgument(f"||U V^T|| did not reach {level:g} within {max_steps} steps (step {step:g})")


@lru_cache(maxsize=8)
def _phase_data(seed: int) -> dict:
    from dmf_verify.numerics.asymmetric import small_init

    p = _problem(seed)
    level = LEVEL * float(np.linalg.norm(p.x_star))
    s1 = float(np.linalg.svd(p.spectral_matrix(), compute_uv=False)[0])
    t_alpha = []
    for a in PHASE_ALPHAS:
        u0, v0 = small_init(N1, N2, K, a, seed=seed)
        t_alpha.append(first_crossing(p, u0, v0, step=ETA, level=level, max_steps=2000))
    t_eta = []
    u0, v0 = small_init(N1, N2, K, PHASE_ALPHA, seed=seed)
    for eta in PHASE_ETAS:
        guess = np.log(LEVEL / PHASE_ALPHA**2) / (2 * np.log1p(eta * s1))
        t_eta.append(first_crossing(p, u0, v0, step=eta, level=level, max_steps=int(3 * guess) + 50))
    return {"s1": s1, "t1_by_alpha": t_alpha, "t1_by_eta": t_eta}


def _phases(seed: int, *, wrong: bool = False) -> Measurement:
    from dmf_verify.numerics.scaling import fit_slope

    d = _phase_data(seed)
    s1 = d["s1"]
    fa = fit_slope(np.log(1.0 / np.asarray(PHASE_ALPHAS)), d["t1_by_alpha"], log=False)
    fe = fit_slope(np.log1p(np.asarray(PHASE_ETAS) * s1), d["t1_by_eta"])
    pred = 1.0 / np.log1p(ETA * s1)
    if wrong:  # U V^T taken to start at scale alpha (not alpha^2): half the slope
        cases = {"t1 vs ln(1/alpha)": fa.exclusion(0.5 * pred)}
    else:
        cases = {"t1 vs ln(1/alpha)": fa.deviation(pred), "t1 vs ln(1 + eta s1)": fe.deviation(-1.0)}
    return Measurement(cases=cases, details={
        "fit_alpha": {**fa.as_dict(), "predicted": pred}, "fit_eta": {**fe.as_dict(), "predicted": -1.0},
        **d, "alphas": PHASE_ALPHAS, "etas": PHASE_ETAS, "alpha_eta_sweep": PHASE_ALPHA, "step": ETA,
        "level": f"{LEVEL} ||X*||_F", "eta_t1": [e * t for e, t in zip(PHASE_ETAS, d["t1_by_eta"])], "seed": seed})


def _derive():
    from dmf_verify.theory.implicit_balancing import implicit_balancing

    return implicit_balancing()


CLAIMS = [
    Claim(
        id="soltanolkotabi.alpha_slope",
        source="Soltanolkotabi, Stöger & Xie 2023, abstract (small random initialization: generalization); final "
               "error as alpha -> 0",
        statement=r"\frac{\|U_TV_T^\top - X^*\|_F}{\|X^*\|_F} \sim C\alpha^{p},\ p>0:\quad "
                  r"10^{-4\,p_{\rm low}} \le 0.15\ \ (p_{\rm low}\text{: lower end of the 95\% interval})",
        verify=_alpha_slope,
        control=lambda seed: _alpha_slope(seed, k=R),
        tolerance=0.15,
        tolerance_reason="no exponent is predicted (the paper's constants are not in our source), so the claim is "
                         "the sign: error = 10^(-4 p_low), the interval's pessimistic factor by which the final "
                         "error changes over the 4 decades of alpha; <= 0.15 means p_low >= 0.206. Measured over "
                         "seeds 0..19: worst 0.045 (seed 0, p_low = 0.34; 3.3x below 0.15); control at least 1.0 "
                         "(6.7x)",
        control_description="the same fit for k = r (no over-parameterization: the rank constraint alone identifies "
                            "X*, and the final error sits at round-off for every alpha)",
        notes=f"{N1}x{N2}, r = {R}, m = {M} = 3 r (n1 + n2), k = {K}, eta = {ETA}, {SLOPE_STEPS} steps, alphas "
              f"{SLOPE_ALPHAS} (batched, asymmetric.alpha_sweep: the same U_bar, V_bar for every alpha). A linearised "
              "estimate of the exponent, 2 (1 - ln(1 + eta s_{r+1}(M)) / ln(1 + eta s_r(M))), is reported in details: "
              "it is within 6-46% of the fitted slopes (seeds 0-9), too loose to claim.",
    ),
    Claim(
        id="soltanolkotabi.imbalance_scaling",
        source="Soltanolkotabi, Stöger & Xie 2023, abstract ('coupling of the trajectory': implicit balancing); "
               "scaling of the imbalance",
        statement=r"\|U_T^\top U_T - V_T^\top V_T\|_F \propto \alpha^2,\qquad "
                  r"\Big\|\sum_{t<T}\eta^2(G_U^\top G_U - G_V^\top G_V)\Big\|_F \propto \eta\ \ (\eta T\ \text{fixed})",
        verify=_imbalance,
        control=lambda seed: _imbalance(seed, wrong=True),
        tolerance=0.1,
        tolerance_reason="error = farthest end of each 95% slope interval relative to the predicted exponent (2 in "
                         "alpha over 1 .. 0.125 at eta = 0.05, T = 600; 1 in eta over 0.04 .. 0.005 at eta T = 15, "
                         "alpha = 1e-3). Deviations: the eta floor in ||D_T|| and the O(eta^2) correction to the "
                         "per-unit-time rate. Measured over seeds 0..19: worst 0.032 (seed 2, eta-slope 1.017; 3.1x "
                         "below 0.1); control at least 0.48 (4.8x)",
        control_description="||D_T|| ~ alpha and accumulated ~ eta^2 (O(eta^2) per step with the t/eta steps not "
                            "counted), excluded from the same intervals",
        derive=_derive,
        notes="The exact bookkeeping D_T = D_0 + accumulated is soltanolkotabi.imbalance_bound; this claim checks the "
              "two scalings. accumulated / (eta (f_0 - f_T)) (descent-lemma scale) is reported in details.",
    ),
    Claim(
        id="soltanolkotabi.phase_times",
        source="Soltanolkotabi, Stöger & Xie 2023, abstract ('from small random initialization moves towards solutions "
               "that are both globally optimal'); the length of the first (alignment) phase, t_1, as the project "
               "reconstructs it (the spectral picture of Stöger & Soltanolkotabi 2021, in P3's references)",
        statement=r"t_1 = \frac{\ln(1/\alpha)}{\ln(1+\eta s_1(M))} + O(1),\quad M = \tfrac1m\mathcal A^*(y),\quad "
                  r"t_1 = \min\{t : \|U_tV_t^\top\|_F \ge 0.1\|X^*\|_F\}",
        verify=_phases,
        control=lambda seed: _phases(seed, wrong=True),
        tolerance=0.08,
        tolerance_reason="error = farthest end of the 95% interval of the slope of t_1 against ln(1/alpha) (alpha "
                         "1e-2 .. 1e-7, eta = 0.1) relative to 1/ln(1 + eta s_1(M)), and of ln t_1 against "
                         "ln ln(1 + eta s_1) (eta 0.1 .. 0.0125, alpha = 1e-4) relative to -1. Deviations: t_1 is an "
                         "integer (~9 steps per unit of ln(1/alpha)) and the second singular value s_2(M) ~ s_1 "
                         "shifts the crossing by O(1). Measured over seeds 0..19: worst 0.024 (seed 3; 3.3x below "
                         "0.08); control at least 0.97 (12x)",
        control_description="the slope 1/(2 ln(1 + eta s_1)) of a product that starts at scale alpha instead of "
                            "alpha^2",
        notes=f"{N1}x{N2}, r = {R}, m = {M}, k = {K}; t_1 measured at every step (first crossing). The local "
              "refinement time (first step with error <= 5%) is in docs/soltanolkotabi.md's table; it is not a clean "
              "function of alpha and is not claimed.",
    ),
]
