"""Figures 8 / 5 (Arora et al. 2019): the results as the init scale and the learning rate shrink.

The paper runs gradient descent "with different choices of learning rate and standard deviation for
(random, zero-centered) initialization, observing the trends as these become smaller": with enough
observations the solutions tend to the minimum nuclear norm, with few they do not. Reduced size (the
protocol of numerics/training.py at n = 20, rank 1, depth 3; completion and sensing):

* ``arora2019.fig8.init_scale``: the nuclear-norm excess ||W||_* / min ||W||_* - 1 of the depth-3 solution
  for init scales 1e-1, 1e-3, 1e-5. Verified: data-rich (m = 300 completion, 150 sensing), the excess at the
  smallest scale is ~0. Control: the same statement (Conjecture 1) in the data-poor regime (m = 90, 50), where
  the excess stays positive as the scale shrinks (the paper's counter-evidence).
* ``arora2019.fig8.learning_rate``: gradient descent with step eta against the gradient flow it discretizes,
  compared at the same time T (the flow's time to reach loss 1e-4; the last GD step is shortened to land on
  T): ||W_GD(T) - W_flow(T)||_F / ||W_flow(T)||_F = O(eta) (explicit Euler), fitted slope 1 with a 95% interval.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement

N, RANK, DEPTH = 20, 1, 3
M = {"completion": {"rich": 300, "poor": 90}, "sensing": {"rich": 150, "poor": 50}}
SCALES = (1e-1, 1e-3, 1e-5)
TRAIN_TOL, SCS_EPS = 1e-9, 1e-7
LR_M = {"completion": 90, "sensing": 60}
LRS = {"completion": (0.1, 0.05, 0.025, 0.0125), "sensing": (0.1, 0.05, 0.025, 0.0125)}
LR_INIT, LR_HORIZON_LOSS = 1e-3, 1e-4


@lru_cache(maxsize=16)
def _excesses(task: str, regime: str, seed: int) -> tuple:
    from dmf_verify.numerics.nuclear import min_nuclear_norm
    from dmf_verify.numerics.spectral import nuclear_norm
    from dmf_verify.numerics.training import init_factors, make_problem, train

    p = make_problem(task, N, RANK, M[task][regime], seed=seed)
    nuc = min_nuclear_norm(p.loss, eps=SCS_EPS)
    out = []
    for s in SCALES:
        r = train(p.loss, init_factors(N, DEPTH, s, seed=seed), optimizer="flow", lr=1.0, rtol=1e-4, tol=TRAIN_TOL)
        if r.status != "converged":
            from dmf_verify.errors import DivergenceError

            raise DivergenceError(f"{task} flow (init {s:g}) ended with status {r.status}", step=r.iterations,
                                  value=r.loss)
        out.append(nuclear_norm(r.product) / nuc.nuclear_norm - 1.0)
    return tuple(out), float(nuc.duality_gap or 0.0) / nuc.nuclear_norm


def _init_scale(seed: int, *, conjecture: bool = False) -> Measurement:
    cases, info = {}, {}
    for task, sizes in M.items():
        rich, gap_r = _excesses(task, "rich", seed)
        poor, gap_p = _excesses(task, "poor", seed)
        info[task] = {"excess_rich": rich, "excess_poor": poor, "scs_relative_gap": [gap_r, gap_p],
                      "m": sizes}
        if conjecture:  # Conjecture 1 applied where the data are poor
            cases[f"{task}: poor, excess at init {SCALES[-1]:g}"] = abs(poor[-1])
        else:
            cases[f"{task}: rich, excess at init {SCALES[-1]:g}"] = abs(rich[-1])
    return Measurement(cases=cases, details={"by_task": info, "init_scales": SCALES, "depth": DEPTH, "n": N,
                                             "rank": RANK, "train_tol": TRAIN_TOL, "seed": seed})


@lru_cache(maxsize=8)
def _lr_distances(task: str, seed: int) -> tuple:
    from dmf_verify.numerics.training import init_factors, make_problem, train

    p = make_problem(task, N, RANK, LR_M[task], seed=seed)
    fs = init_factors(N, DEPTH, LR_INIT, seed=seed)
    ref = train(p.loss, fs, optimizer="flow", lr=1.0, rtol=1e-10, atol=1e-14, tol=LR_HORIZON_LOSS,
                flow_method="dopri5")
    horizon = float(ref.flow_time)
    dist = []
    for lr in LRS[task]:
        k = int(np.floor(horizon / lr))
        r = train(p.loss, fs, optimizer="gd", lr=lr, tol=0.0, max_iter=k)
        rest = horizon - k * lr
        if rest > 1e-12 * horizon:  # one shortened step lands exactly on the flow's time
            r = train(p.loss, r.factors, optimizer="gd", lr=rest, tol=0.0, max_iter=1)
        dist.append(float(np.linalg.norm(r.product - ref.product) / np.linalg.norm(ref.product)))
    return tuple(dist), horizon


def _learning_rate(seed: int, *, wrong: bool = False) -> Measurement:
    from dmf_verify.numerics.scaling import fit_slope

    cases, info = {}, {}
    for task, lrs in LRS.items():
        dist, horizon = _lr_distances(task, seed)
        f = fit_slope(lrs, dist)
        cases[task] = min(f.exclusion(2.0), f.exclusion(0.5)) if wrong else f.deviation(1.0)
        info[task] = {**f.as_dict(), "distance": dist, "horizon_T": horizon, "lrs": lrs, "m": LR_M[task]}
    return Measurement(cases=cases, details={"fits": info, "init_scale": LR_INIT, "depth": DEPTH, "n": N,
                                             "horizon": f"flow time to loss {LR_HORIZON_LOSS:g}", "seed": seed})


CLAIMS = [
    Claim(
        id="arora2019.fig8.init_scale",
        source="Arora et al. 2019, Figures 8 and 5 / Section 2.2 (trends as the init scale shrinks; completion and "
               "sensing)",
        statement=r"s\to 0:\ \frac{\|W_s\|_*}{\min\|W\|_*}-1 \to 0\ \text{for large}\ m\ "
                  r"(\text{and not for small } m\text{: the control})",
        verify=_init_scale,
        control=lambda seed: _init_scale(seed, conjecture=True),
        tolerance=0.005,
        tolerance_reason="the excess is known to the SCS relative gap (eps 1e-7: < 1e-6) plus the effect of the "
                         "stopping loss 1e-9 (RMS residual 3e-5 on the observations, moving ||W||_* by < 1e-4 "
                         "relative); 0.005 is the 'tends to 0' threshold. Measured over seeds 0..19: "
                         "worst 4.2e-5 (seed 0; 119x below); first version (completion rich m = 250, sensing poor m "
                         "= 60): seed 3's rich completion excess was 0.0045 and the sensing poor excess "
                         "0.0036-0.0044 on seeds 5, 8 (control accepted), hence m = 300 and 50; control (data-poor "
                         "excess, Conjecture 1 predicts "
                         "0) at least 0.019 (3.8x)",
        control_description="Conjecture 1 in the data-poor regime: the excess at the smallest init scale is 0",
        slow=True,
        notes=f"slow (~3-5 s CPU: four SCS solves, two of them dense sensing). n = {N}, rank {RANK}, depth {DEPTH}, gradient flow (train(optimizer='flow'), rtol 1e-4) to loss "
              f"{TRAIN_TOL:g}; init scales {SCALES}; m = {M}. The full excess curves are in details.",
    ),
    Claim(
        id="arora2019.fig8.learning_rate",
        source="Arora et al. 2019, Figures 8 and 5 / Section 2.2 (trends as the learning rate shrinks: gradient "
               "descent "
               "approaches the gradient flow)",
        statement=r"\frac{\|W_{\rm GD}^{(\eta)}(T) - W_{\rm flow}(T)\|_F}{\|W_{\rm flow}(T)\|_F} = \Theta(\eta)",
        verify=_learning_rate,
        control=lambda seed: _learning_rate(seed, wrong=True),
        tolerance=0.12,
        tolerance_reason="error = farthest end of the 95% slope interval (4 learning rates 0.1 .. 0.0125) relative to "
                         "1 (explicit Euler's global error c_1 eta + c_2 eta^2: the local slope is 1 + O(eta)), per "
                         "task. "
                         "With rates 0.2 .. 0.025 the O(eta) bias reached 0.073 on seed 16 (3 of seeds 0..19 above "
                         "0.04). The flow reference (Dormand-Prince, rtol 1e-10) "
                         "is 1e-7-accurate, far below the smallest distance (~5e-5). Measured over seeds 0..19: "
                         "worst 0.038 (seed 14; 3.1x below 0.12); control at least 0.48 (4x)",
        control_description="rates eta^2 and eta^(1/2), excluded from the same intervals (min of both)",
        notes=f"n = {N}, rank {RANK}, depth {DEPTH}, init scale {LR_INIT:g}, m = {LR_M}; horizon T = the flow's time to "
              f"loss {LR_HORIZON_LOSS:g} (the learned, low-rank phase).",
    ),
]
