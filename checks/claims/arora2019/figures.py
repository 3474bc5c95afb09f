"""Figures 1 and 8 of Arora et al. 2019 on a reduced completion instance (n = 20, rank 1).

Fig. 1: with few observations, a depth-3 factorization reconstructs better than depth 2 and than
the minimum nuclear norm solution. Fig. 8: its nuclear norm is *higher* than the minimum (so it
is not the nuclear-norm minimizer of Conjecture 1) while its effective rank is lower.

Reduced size (so both claims run in seconds, not slow): the paper's protocol (issue #7,
``numerics.training``) at n = 20, rank 1 (39 degrees of freedom) with m = 120 observations for
Fig. 1 (3.1x the degrees of freedom) and m = 90 for Fig. 8 (2.3x; m = 2000 at n = 100, rank 5
is 2.05x). At m = 90 some instances leave rows almost unobserved and no method recovers W*, so
the error ordering is noise there; at m = 120 the nuclear-norm minimizer sometimes recovers W*
exactly, so Fig. 8's contrast needs the poorer m = 90. Two instances per
seed (``seed`` and ``seed + 1``); GD is replaced by the gradient flow it discretizes
(``optimizer="flow"``), measured to reach the same solution as the public code's GroupRMSprop
(test MSE 1.997e-5 vs 2.006e-5 at n = 100, depth 3). The full-size figures are
``dmf-verify experiment figure1`` / ``figure8``.
"""

from __future__ import annotations

import functools
import math

from checks.claim import Claim, Measurement

N, RANK = 20, 1
M_FIG1 = 120   # 3.1x the 39 degrees of freedom: depth 3 recovers, depth 2 and nuclear norm do not
M_FIG8 = 90    # 2.3x: data-poor enough that the nuclear-norm minimizer is not W* on any seed tried
INIT_SCALE = 1e-3
SCS_EPS = 1e-5


@functools.lru_cache(maxsize=16)
def _instance(seed: int, m: int) -> dict:
    from numerics.nuclear import min_nuclear_norm
    from numerics.spectral import effective_rank, singular_values
    from numerics.training import completion_problem, init_factors, train

    p = completion_problem(N, RANK, m, seed=seed)
    out = {"seed": seed}
    nuc = min_nuclear_norm(p.loss, eps=SCS_EPS)
    out["nuclear"] = {"error": p.reconstruction_error(nuc.W), "nuclear_norm": nuc.nuclear_norm,
                      "effective_rank": effective_rank(nuc.W), "duality_gap": nuc.duality_gap,
                      "primal_residual": nuc.primal_residual}
    for depth in (2, 3):
        r = train(p.loss, init_factors(N, depth, INIT_SCALE, seed=seed), optimizer="flow", lr=1.0, rtol=1e-3)
        if r.status != "converged":
            from numerics.errors import DivergenceError

            raise DivergenceError(f"depth-{depth} flow ended with status {r.status} at loss {r.loss:.3g}",
                                  step=r.iterations, value=r.loss)
        s = singular_values(r.product)
        out[f"depth{depth}"] = {"error": p.reconstruction_error(r.product), "nuclear_norm": float(s.sum()),
                                "effective_rank": effective_rank(s), "train_loss": r.loss}
    return out


def _instances(seed: int, m: int) -> list[dict]:
    return [_instance(seed, m), _instance(seed + 1, m)]


def _depth_helps(seed: int, reverse: bool = False) -> Measurement:
    cases = _instances(seed, M_FIG1)
    viol = []
    for c in cases:
        e2, e3, en = c["depth2"]["error"], c["depth3"]["error"], c["nuclear"]["error"]
        if reverse:   # control: "depth hurts": depth 2 beats depth 3
            viol.append(max(0.0, math.log10(e2 / e3)))
        else:
            viol.append(max(0.0, math.log10(e3 / e2), math.log10(e3 / en)))
    agg = min if reverse else max
    return Measurement(agg(viol), {"violation_decades": viol, "cases": cases, "n": N, "rank": RANK, "m": M_FIG1})


def _not_nuclear(seed: int, conjecture: bool = False) -> Measurement:
    cases = _instances(seed, M_FIG8)
    vals = []
    for c in cases:
        excess = c["depth3"]["nuclear_norm"] / c["nuclear"]["nuclear_norm"] - 1.0
        if conjecture:   # control: Conjecture 1 (GD finds the min nuclear norm): relative excess ~ 0
            vals.append(abs(excess))
        else:
            vals.append(max(0.0, -excess,
                            math.log(c["depth3"]["effective_rank"] / c["nuclear"]["effective_rank"])))
    agg = min if conjecture else max
    return Measurement(agg(vals), {"values": vals, "cases": cases, "n": N, "rank": RANK, "m": M_FIG8})


CLAIMS = [
    Claim(
        id="arora2019.fig1.depth_helps",
        source="Arora et al. 2019, Figure 1 (matrix completion, data-poor regime)",
        statement=r"\|W_{N=3}-W^*\|_F < \min\big(\|W_{N=2}-W^*\|_F,\ \|W_{\min\|\cdot\|_*}-W^*\|_F\big)",
        verify=_depth_helps,
        control=lambda seed: _depth_helps(seed, reverse=True),
        tolerance=0.05,
        tolerance_reason="an ordering: error = the worst violation log10(e3/e2), log10(e3/e_nuc) over two "
                         "instances (0 when it holds). 0.05 decade (12%) covers the flow-vs-GroupRMSprop "
                         "difference (measured < 1% in reconstruction error) and the stop at train MSE 1e-6; "
                         "measured errors are 0 with gaps of 0.8-1.9 decades",
        control_description="the reverse ordering (depth 2 reconstructs better than depth 3)",
        notes="reduced size n=20, rank 1, m=120, init scale 1e-3, gradient flow (not slow: ~3-6 s, mostly the "
              "SCS solves; shared with arora2019.fig8.not_nuclear in one process). Depth 2 vs the nuclear-norm "
              "baseline is NOT ordered consistently at init 1e-3 (measured both ways over seeds, also at "
              "n=100, m=2000: depth-2 test MSE 7.5e-2 > nuclear 3.8e-2 on seed 0), so it is not claimed.",
    ),
    Claim(
        id="arora2019.fig8.not_nuclear",
        source="Arora et al. 2019, Figure 8 / Section 2 (evidence against Conjecture 1)",
        statement=r"\|W_{N=3}\|_* > \min_{\mathcal{A}(W)=y}\|W\|_*\quad\text{and}\quad "
                  r"\operatorname{erank}(W_{N=3}) < \operatorname{erank}(W_{\min\|\cdot\|_*})",
        verify=_not_nuclear,
        control=lambda seed: _not_nuclear(seed, conjecture=True),
        tolerance=0.01,
        tolerance_reason="error = worst violation of (excess >= 0, log erank ratio <= 0). The excess "
                         "||W_GD||_*/min - 1 is uncertain by the SCS certified duality gap (<= 1e-5 relative) "
                         "plus GD's infeasibility: train MSE 1e-6 means ||P_Omega(W - W*)||_F <= 1e-3 sqrt(m), "
                         "moving ||.||_* by <= sqrt(n) 1e-3 sqrt(m) = 0.042, i.e. 0.2% of ~19; 1% covers both 5x",
        control_description="Conjecture 1: the depth-3 solution has the minimum nuclear norm (relative excess 0)",
        notes="reduced size n=20, rank 1, m=90, init 1e-3, gradient flow; the relative excess measured is "
              "~5-9% with effective rank ~1.0 vs 1.4-2.2 for the nuclear-norm minimizer.",
    ),
]
