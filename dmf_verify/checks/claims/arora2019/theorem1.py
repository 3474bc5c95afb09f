"""Theorem 1 (Gunasekar et al. 2017, recalled by Arora et al. 2019): W = Z Z^T, Z(0) = alpha I, commuting A_i.

* ``arora2019.theorem1``: as alpha -> 0 the flow limit W_inf(alpha) tends to the minimum nuclear norm
  PSD solution W*, at the rate derived in theory/psd_factorization.py: every eigenvalue of
  W_inf(alpha) off the LP support behaves like alpha^(2 s_k) (s_k the LP's dual slack) and
  ||W_inf(alpha) - W*||_F like alpha^(2 min s). Two independent computations: the gradient flow on
  the full 4 x 4 matrix Z (LSODA, until the loss is < 1e-24) at five alphas, fitted log-log slopes
  with 95% intervals; the exponents 2 s_k from the HiGHS LP and its multipliers.
* ``arora2019.theorem1.finite_alpha``: at each alpha the flow limit equals the entropic minimizer
  alpha^2 exp(Lambda^T nu) (Newton on the dual), the exact finite-alpha form of the same limit.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement

D, M = 4, 2
EPS = 0.02          # asymptotic regime: sum_k C_k alpha^(2 s_k) <= EPS * min_S x*_S at the largest alpha
ALPHA_START = 0.05  # the largest alpha tried; halved until the regime is reached
LADDER = 5          # alphas alpha_c, alpha_c/2, ..., alpha_c/16
MEASURABLE = 1e-12  # an eigenvalue below this at the smallest alpha is not resolved by the flow (rtol 1e-11)
FINITE_ALPHAS = (0.2, 0.1, 0.05, 0.025)  # finite_alpha: integration errors grow like rtol ||Z|| / alpha (see notes)


def alpha_ladder(rates, lam) -> tuple:
    """The alphas of the fit: alpha_c = ALPHA_START / 2^j, the first with sum_k C_k alpha^(2 s_k) <= EPS min x*_S."""
    s, c = rates.slack[rates.off_support], rates.prefactors(lam)
    xs = float(np.min(rates.x[rates.support]))
    a = ALPHA_START
    while float(np.sum(c * a ** (2 * s))) > EPS * xs and a > 1e-12:
        a /= 2.0
    return tuple(a / 2.0**j for j in range(LADDER))


@lru_cache(maxsize=8)
def _instance(seed: int):
    """The first draw k = 0, 1, ... of seed * 1000 + k whose LP solution is a strict vertex (support m) with
    its smallest-slack eigenvalue measurable (C alpha^(2 s) >= MEASURABLE) on the ladder."""
    from dmf_verify.errors import InvalidArgument
    from dmf_verify.numerics.nuclear import random_commuting_sensing
    from dmf_verify.numerics.psd import lp_rates

    for k in range(1000):
        loss, v, lam, _gt = random_commuting_sensing(D, M, seed=seed * 1000 + k)
        try:
            rates = lp_rates(lam, loss.y)
        except InvalidArgument:
            continue
        if rates.support.size != M:
            continue
        alphas = alpha_ladder(rates, lam)
        s, c = rates.slack[rates.off_support], rates.prefactors(lam)
        i = int(np.argmin(s))
        if alphas[0] >= 1e-8 and c[i] * alphas[-1] ** (2 * s[i]) >= MEASURABLE:
            return loss, v, lam, rates, k, alphas
    raise RuntimeError("no qualifying commuting instance")  # pragma: no cover


@lru_cache(maxsize=8)
def _limits(seed: int) -> tuple:
    from dmf_verify.numerics.psd import psd_flow_limit

    loss, *_, alphas = _instance(seed)
    return tuple(psd_flow_limit(loss, alpha=a) for a in alphas)


def _rate(seed: int, *, init_power: float = 2.0, target: str = "nuclear") -> Measurement:
    """Verified: relative deviation of every fitted slope's interval from 2 s_k, and of w_k(alpha_min) from
    C_k alpha_min^(2 s_k). Wrong variants (control): the exclusion of the same intervals from the wrong exponents."""
    from dmf_verify.numerics.nuclear import min_frobenius_norm
    from dmf_verify.numerics.scaling import fit_slope

    loss, v, lam, rates, draw, alphas = _instance(seed)
    limits = _limits(seed)
    w_star = (v * rates.x) @ v.T
    ref = w_star if target == "nuclear" else min_frobenius_norm(loss)
    comps = np.array([np.diag(v.T @ lim.W @ v)[rates.off_support] for lim in limits])
    dist = np.array([np.linalg.norm(lim.W - ref) / np.linalg.norm(ref) for lim in limits])
    slack = rates.slack[rates.off_support]
    const = rates.prefactors(lam)
    wrong = init_power != 2.0 or target != "nuclear"
    cases, fits, skipped = {}, {}, []
    for j, k in enumerate(rates.off_support):
        if const[j] * alphas[-1] ** (2 * slack[j]) < MEASURABLE:
            skipped.append(int(k))
            continue
        f = fit_slope(alphas, comps[:, j])
        fits[f"eigenvalue {k}"] = {**f.as_dict(), "predicted": float(init_power * slack[j])}
        if wrong:
            cases[f"slope {k}"] = f.exclusion(init_power * slack[j])
        else:
            cases[f"slope {k}"] = f.deviation(2.0 * slack[j])
            cases[f"constant {k}"] = abs(float(comps[-1, j] / (const[j] * alphas[-1] ** (2 * slack[j]))) - 1.0)
    f = fit_slope(alphas, dist)
    fits["distance"] = {**f.as_dict(), "predicted (asymptotic)": float(2.0 * slack.min())}
    if target != "nuclear":
        cases = {"distance": f.exclusion(2.0 * float(slack.min()))}
    return Measurement(cases=cases, details={
        "fits": fits, "alphas": alphas, "relative_distance": dist.tolist(), "off_support_eigenvalues":
        comps.tolist(), "predicted_constants": const.tolist(), "dual_slack": rates.slack.tolist(),
        "support": rates.support.tolist(), "unresolved_eigenvalues (below 1e-12)": skipped,
        "lp_solution": rates.x.tolist(), "min_nuclear_norm": rates.nuclear_norm, "target": target,
        "init_power": init_power, "flow_time": [lim.t for lim in limits], "final_loss": [lim.loss for lim in limits],
        "draw": draw, "d": D, "m": M, "feasible_set": "{W PSD : <A_i, W> = y_i}"})


def _control(seed: int) -> Measurement:
    """Both wrong rates, each an exclusion of the measured interval: alpha^(s_k) and a min-Frobenius target."""
    a = _rate(seed, init_power=1.0)
    b = _rate(seed, target="frobenius")
    cases = {f"alpha^s: {k}": v for k, v in a.cases.items()}
    cases.update({f"min-Frobenius target: {k}": v for k, v in b.cases.items()})
    return Measurement(cases=cases, details={"alpha^s": a.details["fits"], "min_frobenius": b.details["fits"]})


@lru_cache(maxsize=8)
def _finite_limits(seed: int) -> tuple:
    from dmf_verify.numerics.psd import psd_flow_limit

    loss, *_ = _instance(seed)
    return tuple(psd_flow_limit(loss, alpha=a) for a in FINITE_ALPHAS)


def _finite_alpha(seed: int, *, power: float = 2.0) -> Measurement:
    from dmf_verify.numerics.psd import entropic_limit

    loss, v, lam, _rates, _draw, _alphas = _instance(seed)
    alphas = FINITE_ALPHAS
    cases = {}
    for a, lim in zip(alphas, _finite_limits(seed)):
        w = entropic_limit(lam, loss.y, alpha=a ** (power / 2.0))
        pred = (v * w) @ v.T
        cases[f"alpha={a:g}"] = float(np.linalg.norm(lim.W - pred) / np.linalg.norm(pred))
    return Measurement(cases=cases, details={"alphas": alphas, "init": f"W(0) = alpha^{power:g} I"})


def _derive():
    from dmf_verify.theory.psd_factorization import theorem1_rate

    return theorem1_rate()


CLAIMS = [
    Claim(
        id="arora2019.theorem1",
        source="Arora et al. 2019, Theorem 1 (Gunasekar et al. 2017, Theorem 1): Z(0) = alpha I, commuting "
               "symmetric A_i, W = Z Z^T",
        statement=r"\lambda_k\big(W_\infty(\alpha)\big) \sim C_k\,\alpha^{2 s_k}\ (k \notin S),\quad "
                  r"\|W_\infty(\alpha) - W^*\|_F \sim C\,\alpha^{2\min_k s_k},\quad W^* = "
                  r"\operatorname{argmin}\{\|W\|_* : W \succeq 0,\ \langle A_i, W\rangle = y_i\}",
        verify=_rate,
        control=_control,
        tolerance=0.025,
        tolerance_reason="error = the farthest end of the 95% least-squares interval of each fitted log-log slope "
                         "(5 alphas, 0.05 to 0.003125), relative to the predicted exponent 2 s_k (max over the "
                         "off-support eigenvalues and the distance to W*). The derivation is asymptotic: the local "
                         "slope approaches 2 s_k like alpha^(2 min s); integration errors (rtol 1e-11, loss < 1e-24) "
                         "are ~1e-10 relative, far below. Measured over seeds 0..19: worst 0.0070 (seed 15; 3.6x "
                         "below 0.025; seeds 0, 1, 12345: 0.0011, 0.0038, 0.0003); control (same "
                         "fits against alpha^(s_k), i.e. W(0) = alpha I, and the distance to the minimum Frobenius "
                         "solution) at least 0.986 (39x the tolerance)",
        control_description="rate alpha^(s_k) (the exponent of W(0) = alpha I, square dropped) and the same rate "
                            "towards the minimum Frobenius norm solution",
        derive=_derive,
        notes=f"d = {D}, m = {M} commuting measurements with a shared Haar-random eigenbasis, full-rank PSD ground "
              "truth; the instance is the first draw whose LP solution is a strict vertex (support m: the rate is a "
              "power law only there) with its smallest-slack eigenvalue resolvable (>= 1e-12) on the alpha ladder. "
              f"Ladder: alpha_c, alpha_c/2, ..., alpha_c/16 with alpha_c = {ALPHA_START} / 2^j the first where the "
              f"predicted perturbation sum_k C_k alpha^(2 s_k) is <= {EPS} min x*_S (the derivation's asymptotic "
              "regime; C_k = exp(Lambda_k^T delta*), Lambda_S^T delta* = ln x*_S). Off-support eigenvalues below "
              "1e-12 at the smallest alpha are reported, not fitted. The distance ||W_inf - W*|| is fitted and "
              "reported (details): it mixes the components' power laws, so it reaches its asymptotic slope "
              "2 min s only as fast as alpha^(2 (s_2 - s_1)). Depth N = 2 of Theorem 2 is the same limit "
              "(W = W_2 W_1 with W_j = Z); arora2019.theorem2 covers N = 2..4 with a coarser criterion.",
    ),
    Claim(
        id="arora2019.theorem1.finite_alpha",
        source="Arora et al. 2019, Theorem 1 (Gunasekar et al. 2017) at finite alpha: W(t) commutes with the A_i "
               "(the argument of P1's proof of Theorem 2, Appendix B.1); theory/psd_factorization.py",
        statement=r"W_\infty(\alpha) = V\operatorname{diag}(w)V^\top,\ w = \alpha^2 e^{\Lambda^\top\nu},\ "
                  r"\Lambda w = y\ \ (= \operatorname{argmin}_{\Lambda w = y} \textstyle\sum_k w_k\ln(w_k/\alpha^2) - w_k)",
        verify=_finite_alpha,
        control=lambda seed: _finite_alpha(seed, power=1.0),
        tolerance=1e-7,
        tolerance_reason="flow (LSODA rtol 1e-11, atol 1e-14, stopped at loss < 1e-24, i.e. residual < 1.4e-12) "
                         "against Newton on the dual (gradient < 1e-14 ||y||). The flow from alpha I amplifies its "
                         "local errors off the commuting subspace by ~||Z|| / alpha, so the error bound is "
                         "~rtol ||Z|| / alpha <= 1e-9 for alpha >= 0.025. Measured over seeds 0..19: worst 2.5e-11 "
                         "(seed 18; 4000x below); "
                         "control at least 0.012 (1.2e5x the tolerance)",
        control_description="the entropic limit for W(0) = alpha I instead of alpha^2 I",
        derive=_derive,
        notes="same instances as arora2019.theorem1, at alpha = 0.2, 0.1, 0.05, 0.025. On the rate claim's far smaller "
              "alphas (down to 6e-9) the same comparison degrades as predicted by the ~rtol ||Z|| / alpha "
              "amplification (measured 1.6e-6 at alpha = 3e-6 on seed 10, and the dual Newton overflows below "
              "alpha ~ 1e-8 without continuation), which is why this claim uses moderate alphas.",
    ),
]
