"""Figures 1 and 8 of Arora et al. 2019 on a reduced completion instance (n = 20, rank 1).

Fig. 1: with few observations, a depth-3 factorization reconstructs better than depth 2 and than
the minimum nuclear norm solution. Fig. 8: its nuclear norm is *higher* than the minimum (so it
is not the nuclear-norm minimizer of Conjecture 1) while its effective rank is lower.

Reduced size (so both claims run in seconds, not slow): the paper's protocol (issue #7,
``dmf_verify.numerics.training``) at n = 20, rank 1 (39 degrees of freedom) with m = 120 observations for
Fig. 1 (3.1x the degrees of freedom) and m = 90 for Fig. 8 (2.3x; m = 2000 at n = 100, rank 5
is 2.05x). At m = 90 some instances leave rows almost unobserved and no method recovers W*, so
the error ordering is noise there; at m = 120 the nuclear-norm minimizer sometimes recovers W*
exactly, so Fig. 8's contrast needs the poorer m = 90. Five instances per
seed (``seed`` .. ``seed + 4``), and the orderings are claimed for the median instance (single
instances are not always ordered, as the error bars of the paper's figures show); GD is replaced by the gradient flow it discretizes
(``optimizer="flow"``), measured to reach the same solution as the public code's GroupRMSprop
(test MSE 1.997e-5 vs 2.006e-5 at n = 100, depth 3). The full-size figures are
``dmf-verify experiment figure1`` / ``figure8``.
"""

from __future__ import annotations

import functools
import math

from dmf_verify.checks.claim import Claim, Measurement

N, RANK = 20, 1
M_FIG1 = 120   # 3.1x the 39 degrees of freedom: depth 3 recovers, depth 2 and nuclear norm do not
M_FIG8 = 90    # 2.3x: data-poor enough that the nuclear-norm minimizer is not W* on any seed tried
INIT_SCALE = 1e-3
SCS_EPS = 1e-5


@functools.lru_cache(maxsize=16)
def _instance(seed: int, m: int) -> dict:
    from dmf_verify.numerics.nuclear import min_nuclear_norm
    from dmf_verify.numerics.spectral import effective_rank, singular_values
    from dmf_verify.numerics.training import completion_problem, init_factors, train

    p = completion_problem(N, RANK, m, seed=seed)
    out = {"seed": seed}
    nuc = min_nuclear_norm(p.loss, eps=SCS_EPS)
    out["nuclear"] = {"error": p.reconstruction_error(nuc.W), "nuclear_norm": nuc.nuclear_norm,
                      "effective_rank": effective_rank(nuc.W), "duality_gap": nuc.duality_gap,
                      "primal_residual": nuc.primal_residual}
    for depth in (2, 3):
        r = train(p.loss, init_factors(N, depth, INIT_SCALE, seed=seed), optimizer="flow", lr=1.0, rtol=1e-3)
        if r.status != "converged":
            from dmf_verify.errors import DivergenceError

            raise DivergenceError(f"depth-{depth} flow ended with status {r.status} at loss {r.loss:.3g}",
                                  step=r.iterations, value=r.loss)
        s = singular_values(r.product)
        out[f"depth{depth}"] = {"error": p.reconstruction_error(r.product), "nuclear_norm": float(s.sum()),
                                "effective_rank": effective_rank(s), "train_loss": r.loss}
    return out


def _instances(seed: int, m: int, count: int = 2) -> list[dict]:
    return [_instance(seed + i, m) for i in range(count)]


FIG1_INSTANCES = 5  # the figure's error bars are over seeds: the ordering is claimed for the median


def _depth_helps(seed: int, reverse: bool = False) -> Measurement:
    """Violation (in decades) of the median-error ordering over FIG1_INSTANCES instances.

    Single instances are not ordered every time (an instance that happens to be well sampled is
    recovered exactly by the nuclear-norm minimizer; on another depth 2 edges out depth 3), so,
    like the paper's figure, the claim is about the typical (median) instance.
    """
    import numpy as np

    cases = _instances(seed, M_FIG1, FIG1_INSTANCES)
    e2, e3, en = (float(np.median([c[k]["error"] for c in cases])) for k in ("depth2", "depth3", "nuclear"))
    if reverse:   # control: "depth hurts": depth 2 beats depth 3
        viol = max(0.0, math.log10(e2 / e3))
    else:
        viol = max(0.0, math.log10(e3 / e2), math.log10(e3 / en))
    return Measurement(viol, {"median_errors": {"depth2": e2, "depth3": e3, "nuclear": en}, "cases": cases,
                              "n": N, "rank": RANK, "m": M_FIG1})


def _not_nuclear(seed: int, conjecture: bool = False) -> Measurement:
    """Fig. 8 on the median of FIG1_INSTANCES instances (single instances vary, as for Fig. 1)."""
    import numpy as np

    cases = _instances(seed, M_FIG8, FIG1_INSTANCES)
    excess = float(np.median([c["depth3"]["nuclear_norm"] / c["nuclear"]["nuclear_norm"] - 1.0 for c in cases]))
    log_erank = float(np.median([math.log(c["depth3"]["effective_rank"] / c["nuclear"]["effective_rank"])
                                 for c in cases]))
    if conjecture:   # control: Conjecture 1 (GD finds the min nuclear norm): relative excess ~ 0
        value = abs(excess)
    else:
        value = max(0.0, -excess, log_erank)
    return Measurement(value, {"median_excess": excess, "median_log_erank_ratio": log_erank, "cases": cases,
                               "n": N, "rank": RANK, "m": M_FIG8})


CLAIMS = [
    Claim(
        id="arora2019.fig1.depth_helps",
        source="Arora et al. 2019, Figure 1 (Section 1; matrix completion, data-poor regime)",
        statement=r"\|W_{N=3}-W^*\|_F < \min\big(\|W_{N=2}-W^*\|_F,\ \|W_{\min\|\cdot\|_*}-W^*\|_F\big)",
        verify=_depth_helps,
        control=lambda seed: _depth_helps(seed, reverse=True),
        tolerance=0.05,
        tolerance_reason="an ordering: error = the violation log10(e3/e2), log10(e3/e_nuc) of the median errors "
                         "over five instances (0 when it holds). 0.05 decade (12%) covers the flow-vs-GroupRMSprop "
                         "difference (measured < 1% in reconstruction error) and the stop at train MSE 1e-6; "
                         "measured errors are 0 on seeds 0-13 and 12345, the control's 1.2-1.7 decades",
        control_description="the reverse ordering (depth 2 reconstructs better than depth 3)",
        notes="reduced size n=20, rank 1, m=120, median of 5 instances, init scale 1e-3, gradient flow (not slow: "
              "~3-8 s, mostly the SCS solves). Per instance the ordering fails on some seeds (the nuclear-norm "
              "minimizer recovers a well-sampled instance exactly; on another depth 2 edges out depth 3), which "
              "is why the median is claimed. Depth 2 vs the nuclear-norm "
              "baseline is NOT ordered consistently at init 1e-3 (measured both ways over seeds, also at "
              "n=100, m=2000: depth-2 test MSE 7.5e-2 > nuclear 3.8e-2 on seed 0), so it is not claimed.",
    ),
    Claim(
        id="arora2019.fig8.not_nuclear",
        source="Arora et al. 2019, Figure 8 (Section 2.2: evidence against Conjecture 1)",
        statement=r"\|W_{N=3}\|_* > \min_{\mathcal{A}(W)=y}\|W\|_*\quad\text{and}\quad "
                  r"\operatorname{erank}(W_{N=3}) < \operatorname{erank}(W_{\min\|\cdot\|_*})",
        verify=_not_nuclear,
        control=lambda seed: _not_nuclear(seed, conjecture=True),
        tolerance=0.01,
        tolerance_reason="error = violation of (median excess >= 0, median log erank ratio <= 0). The excess "
                         "||W_GD||_*/min - 1 is uncertain by the SCS certified duality gap (<= 1e-5 relative) "
                         "plus GD's infeasibility: train MSE 1e-6 means ||P_Omega(W - W*)||_F <= 1e-3 sqrt(m), "
                         "moving ||.||_* by <= sqrt(n) 1e-3 sqrt(m) = 0.042, i.e. 0.2% of ~19; 1% covers both 5x",
        control_description="Conjecture 1: the depth-3 solution has the minimum nuclear norm (relative excess 0)",
        notes="reduced size n=20, rank 1, m=90, median of 5 instances, init 1e-3, gradient flow; the median "
              "relative excess is 3-12% (seeds 0-13, 12345) and the median log effective-rank ratio -0.16 to "
              "-0.48. Per instance the claim failed on one instance of 15 (seeds 8, 9), hence the median.",
    ),
]
