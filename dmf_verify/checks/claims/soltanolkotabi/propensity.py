"""soltanolkotabi.low_rank_propensity: the iterates stay close to rank r along the whole trajectory.

Soltanolkotabi, Stöger & Xie (abstract): "an algorithmic regularization property where the iterates show a
propensity towards low-rank models despite the overparameterized nature of the factorized model". Measured
along GD from U_0 = alpha U_bar, V_0 = alpha V_bar (k = 2r and k = min(n1, n2) columns, alpha = 1e-4): at every
5th step the (r+1)-th singular value of U_t V_t^T relative to sigma_r(X*), and the relative error at the end.

    max_t sigma_{r+1}(U_t V_t^T) / sigma_r(X*)    and    ||U_T V_T^T - X*||_F / ||X*||_F

must both be small (one case per k, its value the larger of the two: the statement at k is their conjunction;
the first is over the whole run, including the phase where the error falls from 1).
Control: alpha = 1 (lazy): U_0 V_0^T is a generic rank-k matrix of the size of X* from the first step.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement

N1, N2, R, M = 20, 15, 2, 210
KS = (2 * R, min(N1, N2))
ALPHA, ETA, STEPS, EVERY = 1e-4, 0.1, 1500, 5


@lru_cache(maxsize=8)
def _trajectory(seed: int, k: int, alpha: float) -> dict:
    from dmf_verify.numerics.asymmetric import sensing_problem, small_init

    p = sensing_problem(N1, N2, R, M, seed=seed)
    u, v = small_init(N1, N2, k, alpha, seed=seed)
    s_star = np.linalg.svd(p.x_star, compute_uv=False)
    spurious, errors, steps = [], [], []
    for t in range(STEPS + 1):
        x = u @ v.T
        if t % EVERY == 0:
            s = np.linalg.svd(x, compute_uv=False)
            spurious.append(float(s[R]))
            errors.append(p.relative_error(x))
            steps.append(t)
        if t == STEPS:
            break
        g = p.loss.gradient(x)
        u, v = u - ETA * (g @ v), v - ETA * (g.T @ u)
    sp = np.asarray(spurious) / s_star[R - 1]
    err = np.asarray(errors)
    i = int(np.argmax(sp))
    return {"max_spurious": float(sp.max()), "at_step": steps[i], "error_at_max": float(err[i]),
            "final_error": float(err[-1]), "final_spurious": float(sp[-1]),
            "error_every_100": err[::20].round(6).tolist(), "spurious_every_100": sp[::20].tolist()}


def _measure(seed: int, *, alpha: float = ALPHA) -> Measurement:
    cases, info = {}, {}
    for k in KS:  # one case per k: the statement at k is the conjunction of both conditions
        d = _trajectory(seed, k, alpha)
        cases[f"k={k}"] = max(d["max_spurious"], d["final_error"])
        info[f"k={k}"] = d
    return Measurement(cases=cases, details={"by_k": info, "alpha": alpha, "step": ETA, "steps": STEPS,
                                             "record_every": EVERY, "shape": (N1, N2), "r": R, "m": M, "seed": seed})


CLAIM = Claim(
    id="soltanolkotabi.low_rank_propensity",
    source="Soltanolkotabi, Stöger & Xie 2023, abstract ('the iterates show a propensity towards low-rank models "
           "despite the overparameterized nature of the factorized model')",
    statement=r"\max_{t\le T}\frac{\sigma_{r+1}(U_tV_t^\top)}{\sigma_r(X^*)}\ \text{small and}\ "
              r"\frac{\|U_TV_T^\top - X^*\|_F}{\|X^*\|_F}\ \text{small},\ k\in\{2r,\min(n_1,n_2)\}",
    verify=_measure,
    control=lambda seed: _measure(seed, alpha=1.0),
    tolerance=0.05,
    tolerance_reason="a generalization criterion: 5% of sigma_r(X*) for the spurious singular value anywhere on the "
                     "trajectory and 5% relative error at the end (a rank-k model could carry k - r spurious "
                     "directions of any size). Measured over seeds 0..19: worst 0.0071 (seed 15; 7x below 0.05); "
                     "lazy control at least 1.44 (29x)",
    control_description="alpha = 1 (lazy init): a generic rank-k product of the size of X* from the first step",
    notes=f"{N1}x{N2}, r = {R}, m = {M} = 3 r (n1 + n2), eta = {ETA}, {STEPS} steps, sigma_(r+1) recorded every {EVERY} "
          "steps. The spurious singular value peaks at the end of the alignment phase and shrinks with alpha "
          "(soltanolkotabi.alpha_slope measures the final error's slope).",
)
