"""Theorem 2 (Arora et al. 2019): commuting symmetric measurements, factors W_j(0) = alpha I,
gradient flow; as alpha -> 0 the limit W_inf(alpha) approaches the minimum nuclear norm PSD
solution argmin { ||W||_* : W PSD, <A_i, W> = y_i }.

Two independent computations: (a) gradient flow on the FULL d x d factors (DOP853-free: LSODA,
integrated until the loss is < 1e-24), (b) the LP on eigenvalues solved by HiGHS
(dmf_verify.numerics.nuclear). For each depth N = 2..4 the relative distance ||W_inf(alpha) - W*||_F /
||W*||_F is measured on alpha in ALPHAS and a log-log slope fitted.

Error: max over N of 2^(-slope_N), the fitted factor by which the distance shrinks when alpha
is halved. Control: the same with the minimum Frobenius norm solution as the target.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement

D, M = 4, 2
ALPHAS = (0.4, 0.3, 0.2)
DEPTHS = (2, 3, 4)
LOSS_TOL = 1e-24


MIN_SLACK = 0.75
MAX_SPREAD = 3.0  # largest / smallest nonzero eigenvalue of W*


def dual_slack(lam, y):
    """(LP result, min over the off-support k of 1 - (Lambda^T nu)_k): the dual slack of the PSD LP."""
    from dmf_verify.numerics.nuclear import min_nuclear_norm_commuting

    lp = min_nuclear_norm_commuting(lam, y, psd=True)
    red = 1.0 - lam.T @ lp.dual
    off = lp.eigenvalues <= 1e-12
    return lp, (float(np.min(red[off])) if off.any() else np.inf), int(np.sum(~off))


@lru_cache(maxsize=8)
def _instance(seed: int):
    """A random commuting instance with a non-degenerate LP vertex (support size m) and dual slack
    >= MIN_SLACK and nonzero eigenvalues within a factor MAX_SPREAD, rescaled so that the smallest nonzero eigenvalue of W* is 1 (draw k = 0, 1, ... of
    seed*1000 + k is the first that qualifies: the asymptotic alpha regime is then reachable in seconds)."""
    from dmf_verify.numerics.losses import SensingLoss
    from dmf_verify.numerics.nuclear import random_commuting_sensing

    for k in range(1000):
        loss, v, lam, gt = random_commuting_sensing(D, M, seed=seed * 1000 + k)
        lp, slack, support = dual_slack(lam, loss.y)
        nz = lp.eigenvalues[lp.eigenvalues > 1e-12]
        if support == M and slack >= MIN_SLACK and float(np.max(nz) / np.min(nz)) <= MAX_SPREAD:
            c = 1.0 / float(np.min(nz))
            return SensingLoss(loss.A, c * loss.y, reduction="sum", half=True), v, lam, c * gt
    raise RuntimeError("no qualifying commuting instance found")  # pragma: no cover


def flow_limit(loss, depth: int, alpha: float, *, rtol: float = 1e-10, max_doublings: int = 40):
    """Gradient flow from W_j(0) = alpha I, integrated in doubling horizons until loss < 1e-24."""
    from dmf_verify.errors import IntegrationError
    from dmf_verify.numerics.flow import integrate_factor_flow

    d = loss.shape[0]
    fs = [alpha * np.eye(d) for _ in range(depth)]
    horizon = 1.0 / alpha ** max(depth - 2, 0)
    total = 0.0
    for _ in range(max_doublings):
        r = integrate_factor_flow(loss, fs, [0.0, horizon], rtol=rtol, atol=1e-14, method="LSODA")
        fs = r.factors[-1]
        total += horizon
        w = r.products[-1]
        if loss.value(w) < LOSS_TOL:
            return w, total
        horizon *= 2.0
    raise IntegrationError(f"gradient flow (depth {depth}, alpha={alpha}) did not fit the measurements "
                           f"by t = {total:g} (loss {loss.value(w):.3e} >= {LOSS_TOL:g})", t=total)


@lru_cache(maxsize=8)
def _limits(seed: int, depth: int) -> tuple:
    """The flow limits for ALPHAS (cached: verify and control measure the same runs)."""
    loss, *_ = _instance(seed)
    return tuple(flow_limit(loss, depth, a)[0] for a in ALPHAS)


def _measure(seed: int, target: str = "nuclear", aggregate=max, depths=DEPTHS) -> Measurement:
    from dmf_verify.numerics.nuclear import min_frobenius_norm, min_nuclear_norm_commuting

    loss, v, lam, _ = _instance(seed)
    lp = min_nuclear_norm_commuting(lam, loss.y, psd=True)
    w_nuc = (v * lp.eigenvalues) @ v.T
    w_fro = min_frobenius_norm(loss)
    ref = w_nuc if target == "nuclear" else w_fro
    slopes, dists, other = {}, {}, {}
    for n in depths:
        ds, dos = [], []
        for w in _limits(seed, n):
            ds.append(float(np.linalg.norm(w - ref) / np.linalg.norm(ref)))
            other_ref = w_fro if target == "nuclear" else w_nuc
            dos.append(float(np.linalg.norm(w - other_ref) / np.linalg.norm(other_ref)))
        slopes[n] = float(np.polyfit(np.log(ALPHAS), np.log(ds), 1)[0])
        dists[n] = ds
        other[n] = dos
    shrink = {n: 2.0 ** (-s) for n, s in slopes.items()}
    extra = {}
    if target == "nuclear":  # depth 1 is outside the theorem: report where its limit goes
        d1 = depth1_measure(seed)
        extra = {"depth1_distance_to_min_nuclear": d1["to_nuclear"], "depth1_distance_to_min_frobenius":
                 d1["to_frobenius"], "depth1_slope_to_min_frobenius": float(
                     np.polyfit(np.log(ALPHAS), np.log(d1["to_frobenius"]), 1)[0])}
    return Measurement(aggregate(shrink.values()), {**extra,
        "target": target, "alphas": ALPHAS, "loglog_slope_by_depth": slopes,
        "relative_distance_by_depth": dists, "distance_to_other_solution": other,
        "shrink_per_halving": shrink, "lp_eigenvalues": lp.eigenvalues, "lp_duality_gap": lp.duality_gap,
        "min_nuclear_norm": lp.nuclear_norm, "nuclear_norm_of_min_frobenius": float(
            np.sum(np.linalg.svd(w_fro, compute_uv=False))), "d": D, "m": M, "seed": seed,
        "feasible_set": "{W PSD : <A_i, W> = y_i}"})


def depth1_measure(seed: int) -> dict:
    """Depth 1 (no factorization) for contrast: W_inf(alpha) -> the minimum Frobenius solution."""
    from dmf_verify.numerics.nuclear import min_frobenius_norm, min_nuclear_norm_commuting

    loss, v, lam, _ = _instance(seed)
    lp = min_nuclear_norm_commuting(lam, loss.y, psd=True)
    w_nuc = (v * lp.eigenvalues) @ v.T
    w_fro = min_frobenius_norm(loss)
    out = {"to_nuclear": [], "to_frobenius": []}
    for a in ALPHAS:
        w, _ = flow_limit(loss, 1, a)
        out["to_nuclear"].append(float(np.linalg.norm(w - w_nuc) / np.linalg.norm(w_nuc)))
        out["to_frobenius"].append(float(np.linalg.norm(w - w_fro) / np.linalg.norm(w_fro)))
    return out


CLAIM = Claim(
    id="arora2019.theorem2",
    source="Arora et al. 2019, Theorem 2 (Section 2.1; proof in Appendix B.1), extending Gunasekar et al. 2017, "
           "Theorem 1, to depth N",
    statement=r"A_i = V\Lambda_i V^\top,\ W_j(0)=\alpha I:\ \lim_{\alpha\to 0} W_\infty(\alpha) "
              r"\in \operatorname{argmin}\{\|W\|_* : W\succeq 0,\ \langle A_i, W\rangle = y_i\}",
    verify=_measure,
    control=lambda seed: _measure(seed, target="frobenius", aggregate=min),
    tolerance=0.5,
    tolerance_reason="error = fitted factor 2^(-slope) by which ||W_inf(alpha) - W*||/||W*|| shrinks when alpha "
                     "halves; the eigenvalue analysis of the flow predicts distance ~ alpha^N for N >= 3 and "
                     "~ alpha^(2 s) for N = 2 (s = dual slack, O(1) for a generic vertex); 0.5 means slope >= 1, "
                     "i.e. clearly positive (measured slopes 1.3-3.0 for N = 2, 2.7-3.3 for N = 3, 3.9-4.1 for N = 4 "
                     "on seeds 0, 1, 2, 7, 12345)",
    control_description="the same slope measured against the minimum Frobenius norm solution (slope ~ 0)",
    notes=f"d={D}, m={M} commuting measurements (shared Haar-random eigenbasis), PSD full-rank ground truth; "
          f"depths {DEPTHS}, alpha in {ALPHAS}; flow integrated on the full factors with LSODA until loss < 1e-24 "
          "(the limit fits the measurements). Depth N = 1 is NOT covered by the theorem: its limit tends to the "
          "minimum Frobenius solution (depth1_measure shows it; see docs/norms.md).",
)
