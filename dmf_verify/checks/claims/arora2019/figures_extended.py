"""Figures 1/4 and 8/5 of Arora et al. 2019 beyond arora2019.fig1/fig8: sensing, depth 4, the paper's size.

All runs follow the protocol of numerics/training.py (ground truth n W0/||W0||_F of rank r, mean loss without
1/2, N full-width factors, i.i.d. N(0, s^2) init with s = init_scale^(1/N)/sqrt(n), init scale 1e-3) with the
gradient flow in place of GD (``optimizer="flow"``, stopped at train loss 1e-6) and the minimum nuclear norm
solution from SCS (eps 1e-6). Per instance, nothing is aggregated over instances except as a rate:

* ``arora2019.fig4.depth_helps`` / ``arora2019.fig5.not_nuclear`` (sensing, n = 20, rank 1, m = 60 Gaussian
  measurements; 40 instances per seed; rates, slow): depth 3 reconstructs better than depth 2 and than the
  nuclear norm minimizer; its nuclear norm exceeds the minimum (by > 0.4%) while its effective rank is lower.
* ``arora2019.fig1.paper_size`` / ``arora2019.fig8.paper_size`` (completion at the paper's size n = 100,
  rank 5, m = 2000 observed entries; depths 2, 3, 4; 2 instances per seed; slow, ~1 min per seed): depths 3 and
  4 reconstruct better than depth 2 and the nuclear norm minimizer; their nuclear norms exceed the minimum while
  their effective ranks are lower.
* ``arora2019.fig4.large`` / ``arora2019.fig5.large`` (sensing n = 50, rank 3, m = 500: dense Gaussian sensing at
  n = 100 makes the SCS baseline too heavy for this machine; 2 instances per seed; slow).
"""

from __future__ import annotations

import math
from functools import lru_cache

from dmf_verify.checks.claim import Claim, Measurement, Rate

INIT_SCALE, TRAIN_TOL, FLOW_RTOL, SCS_EPS = 1e-3, 1e-6, 1e-3, 1e-6
EXCESS_MIN = 0.004  # nuclear-norm excess resolved by the measurement (see tolerance reasons)
SETTINGS = {
    "sensing-small": {"task": "sensing", "n": 20, "rank": 1, "m": 60, "depths": (2, 3), "instances": 40},
    "completion-paper": {"task": "completion", "n": 100, "rank": 5, "m": 2000, "depths": (2, 3, 4), "instances": 2},
    "sensing-large": {"task": "sensing", "n": 50, "rank": 3, "m": 500, "depths": (2, 3, 4), "instances": 2},
}
CLAIMED_RATE = {"fig4": 0.6, "fig5": 0.75}


@lru_cache(maxsize=128)
def run_instance(setting: str, seed: int) -> dict:
    """Errors, nuclear norms and effective ranks of the nuclear-norm minimizer and of each depth's flow limit."""
    from dmf_verify.errors import DivergenceError
    from dmf_verify.numerics.nuclear import min_nuclear_norm
    from dmf_verify.numerics.spectral import effective_rank, singular_values
    from dmf_verify.numerics.training import init_factors, make_problem, train

    cfg = SETTINGS[setting]
    p = make_problem(cfg["task"], cfg["n"], cfg["rank"], cfg["m"], seed=seed)
    nuc = min_nuclear_norm(p.loss, eps=SCS_EPS)
    out = {"nuclear": {"error": p.reconstruction_error(nuc.W), "nuclear_norm": nuc.nuclear_norm,
                       "effective_rank": effective_rank(nuc.W), "relative_gap": (nuc.duality_gap or 0.0) / nuc.nuclear_norm}}
    for depth in cfg["depths"]:
        r = train(p.loss, init_factors(cfg["n"], depth, INIT_SCALE, seed=seed), optimizer="flow", lr=1.0,
                  rtol=FLOW_RTOL, tol=TRAIN_TOL)
        if r.status != "converged":
            raise DivergenceError(f"{setting} depth {depth} flow ended with status {r.status} at loss {r.loss:.3g}",
                                  step=r.iterations, value=r.loss)
        s = singular_values(r.product)
        out[f"depth{depth}"] = {"error": p.reconstruction_error(r.product), "nuclear_norm": float(s.sum()),
                                "effective_rank": effective_rank(s), "seconds": r.seconds}
    return out


def _seeds(setting: str, seed: int) -> list[int]:
    return [seed * 1000 + i for i in range(SETTINGS[setting]["instances"])]


def depth_violation(inst: dict, depth: int) -> float:
    """Decades by which depth ``depth`` fails to beat depth 2 and the nuclear norm minimizer (0 when it does)."""
    e = inst[f"depth{depth}"]["error"]
    return max(0.0, math.log10(e / inst["depth2"]["error"]), math.log10(e / inst["nuclear"]["error"]))


def not_nuclear_violation(inst: dict, depth: int) -> float:
    """Violation of (excess >= EXCESS_MIN, erank below the minimizer's): 0 when both hold."""
    d, n = inst[f"depth{depth}"], inst["nuclear"]
    excess = d["nuclear_norm"] / n["nuclear_norm"] - 1.0
    return max(0.0, EXCESS_MIN - excess, math.log(d["effective_rank"] / n["effective_rank"]))


def _excess(inst: dict, depth: int) -> float:
    return inst[f"depth{depth}"]["nuclear_norm"] / inst["nuclear"]["nuclear_norm"] - 1.0


def _summary(insts: dict) -> dict:
    return {str(k): {name: {q: round(float(v), 6) for q, v in vals.items()} for name, vals in inst.items()}
            for k, inst in insts.items()}


# ------------------------------------------------------------------------------------------ rates (small sensing)
def _fig4_rate(seed: int, *, reverse: bool = False) -> Rate:
    insts = {s: run_instance("sensing-small", s) for s in _seeds("sensing-small", seed)}
    if reverse:  # control: "depth 2 reconstructs better than depth 3"
        outcomes = {f"instance {s}": i["depth2"]["error"] < i["depth3"]["error"] for s, i in insts.items()}
    else:
        outcomes = {f"instance {s}": depth_violation(i, 3) == 0.0 for s, i in insts.items()}
    return Rate(outcomes=outcomes, claimed_rate=CLAIMED_RATE["fig4"], details={"instances": _summary(insts),
                                                                               **SETTINGS["sensing-small"]})


def _fig5_rate(seed: int, *, conjecture: bool = False) -> Rate:
    insts = {s: run_instance("sensing-small", s) for s in _seeds("sensing-small", seed)}
    if conjecture:  # control: Conjecture 1 (the depth-3 solution has the minimum nuclear norm)
        outcomes = {f"instance {s}": abs(_excess(i, 3)) < EXCESS_MIN for s, i in insts.items()}
    else:
        outcomes = {f"instance {s}": not_nuclear_violation(i, 3) == 0.0 for s, i in insts.items()}
    return Rate(outcomes=outcomes, claimed_rate=CLAIMED_RATE["fig5"], details={"instances": _summary(insts),
                                                                               "excess_threshold": EXCESS_MIN,
                                                                               **SETTINGS["sensing-small"]})


# ------------------------------------------------------------------------------------------ per-instance (large)
def _depth_cases(setting: str, seed: int, *, reverse: bool = False) -> Measurement:
    insts = {s: run_instance(setting, s) for s in _seeds(setting, seed)}
    cases = {}
    for s, i in insts.items():
        for d in SETTINGS[setting]["depths"][1:]:
            if reverse:  # control: depth 2 reconstructs better than depth d
                cases[f"instance {s}, depth {d}"] = max(0.0, math.log10(i["depth2"]["error"] / i[f"depth{d}"]["error"]))
            else:
                cases[f"instance {s}, depth {d}"] = depth_violation(i, d)
    return Measurement(cases=cases, details={"instances": _summary(insts), **SETTINGS[setting]})


def _nuclear_cases(setting: str, seed: int, *, conjecture: bool = False) -> Measurement:
    insts = {s: run_instance(setting, s) for s in _seeds(setting, seed)}
    cases = {}
    for s, i in insts.items():
        for d in SETTINGS[setting]["depths"][1:]:
            cases[f"instance {s}, depth {d}"] = abs(_excess(i, d)) if conjecture else not_nuclear_violation(i, d)
    return Measurement(cases=cases, details={"instances": _summary(insts), "excess_threshold": EXCESS_MIN,
                                             **SETTINGS[setting]})


DEPTH_REASON = ("an ordering: error = log10 of the ratio by which a deep factorization's reconstruction error "
                "exceeds that of depth 2 or of the nuclear norm minimizer (0 when it is lower). 0.05 decade (12%) "
                "covers the flow-vs-GD difference (< 1% in reconstruction error) and the stop at train loss 1e-6. ")
NUC_REASON = ("error = violation of (||W||_*/min - 1 >= 0.004 and ln(erank(W)/erank(W_nuc)) <= 0). The excess is "
              "known to the SCS gap (eps 1e-6) plus the effect of stopping at train MSE 1e-6 (the residual moves "
              "||W||_* by <= sqrt(n m) 1e-3 / ||W||_*, 0.2% at n = 100, m = 2000); 0.004 covers both. ")

CLAIMS = [
    Claim(
        id="arora2019.fig4.depth_helps",
        source="Arora et al. 2019, Figure 4 (matrix sensing, data-poor regime; Appendix D)",
        statement=r"\Pr\big[\|W_{N=3}-W^*\| < \min(\|W_{N=2}-W^*\|, \|W_{\rm nuc}-W^*\|)\big] \ge 0.6",
        verify=_fig4_rate,
        control=lambda seed: _fig4_rate(seed, reverse=True),
        tolerance=1.0 - CLAIMED_RATE["fig4"],
        tolerance_reason="a rate over 40 instances per seed (one-sided 95% Clopper-Pearson lower bound > 0.6); per "
                         "instance the ordering is not universal: a depth-3 run can settle on a wrong, higher-rank "
                         "fit (35/40 instances succeeded in a first look). Measured over seeds 0..19: 713 of 800 "
                         "instances (89%), 31-39 of 40 per seed, worst error 0.36 (seed 2; the 40-trial bound leaves "
                         "a thin 1.1x margin); control "
                         "1-7 of 40 (error >= 0.70)",
        control_description="the reverse ordering (depth 2 reconstructs better than depth 3)",
        slow=True,
        notes="sensing n = 20, rank 1 (39 degrees of freedom), m = 60 Gaussian A_i (N(0, 1/n^2) entries), mean loss; "
              "~2 s per instance (mostly SCS).",
    ),
    Claim(
        id="arora2019.fig5.not_nuclear",
        source="Arora et al. 2019, Figure 5 (matrix sensing; evidence against Conjecture 1, Appendix D)",
        statement=r"\Pr\big[\|W_{N=3}\|_* > 1.004\min\|W\|_*\ \wedge\ \operatorname{erank}(W_{N=3}) < "
                  r"\operatorname{erank}(W_{\rm nuc})\big] \ge 0.75",
        verify=_fig5_rate,
        control=lambda seed: _fig5_rate(seed, conjecture=True),
        tolerance=1.0 - CLAIMED_RATE["fig5"],
        tolerance_reason="a rate (lower bound > 0.75) over the same 40 instances per seed as arora2019.fig4.depth_helps. " + NUC_REASON +
                         "Measured over seeds 0..19: 768 of 800 (96%), 35-40 of 40 per seed, worst error 0.245 (seed "
                         "2; thin 1.02x margin); control 0-2 of 40 (error >= 0.85)",
        control_description="Conjecture 1: the depth-3 solution's nuclear norm equals the minimum (|excess| < 0.004)",
        slow=True,
        notes="same runs as arora2019.fig4.depth_helps (cached within a process)",
    ),
    Claim(
        id="arora2019.fig1.paper_size",
        source="Arora et al. 2019, Figure 1 (matrix completion, 100 x 100 of rank 5, data-poor m = 2000; depths 2-4)",
        statement=r"N\in\{3,4\}:\ \|W_N-W^*\|_F < \min(\|W_2-W^*\|_F, \|W_{\rm nuc}-W^*\|_F)\ \text{(every instance)}",
        verify=lambda seed: _depth_cases("completion-paper", seed),
        control=lambda seed: _depth_cases("completion-paper", seed, reverse=True),
        tolerance=0.05,
        tolerance_reason=DEPTH_REASON + "Measured over seeds 0..19: 0 on every instance (depth 4: error ~0.004 vs ~0.27 for depth 2 and ~0.2 for the nuclear norm); control at least 1.45 decades",
        control_description="the reverse ordering (depth 2 reconstructs better than depths 3 and 4)",
        slow=True,
        notes="the paper's size: n = 100, rank 5 (975 degrees of freedom), m = 2000 observed entries; two instances "
              "per "
              "seed; ~30 s per instance on one core (SCS ~3 s, flows 5-10 s per depth).",
    ),
    Claim(
        id="arora2019.fig8.paper_size",
        source="Arora et al. 2019, Figure 8 / Section 2.2 (100 x 100 of rank 5, m = 2000; depths 3 and 4)",
        statement=r"N\in\{3,4\}:\ \|W_N\|_* > \min\|W\|_*\ \wedge\ \operatorname{erank}(W_N) < "
                  r"\operatorname{erank}(W_{\rm nuc})\ \text{(every instance)}",
        verify=lambda seed: _nuclear_cases("completion-paper", seed),
        control=lambda seed: _nuclear_cases("completion-paper", seed, conjecture=True),
        tolerance=EXCESS_MIN,
        tolerance_reason=NUC_REASON + "Measured over seeds 0..19: 0 on every instance; control (Conjecture 1: |excess|) "
                                      "at least 0.0082 (excess 0.8-1.6%; 2.1x)",
        control_description="Conjecture 1: |||W_N||_*/min - 1| is 0",
        slow=True,
        notes="same runs as arora2019.fig1.paper_size (cached within a process)",
    ),
    Claim(
        id="arora2019.fig4.large",
        source="Arora et al. 2019, Figure 4 (matrix sensing; depths 2-4), at n = 50, rank 3, m = 500",
        statement=r"N\in\{3,4\}:\ \|W_N-W^*\|_F < \min(\|W_2-W^*\|_F, \|W_{\rm nuc}-W^*\|_F)\ \text{(every instance)}",
        verify=lambda seed: _depth_cases("sensing-large", seed),
        control=lambda seed: _depth_cases("sensing-large", seed, reverse=True),
        tolerance=0.05,
        tolerance_reason=DEPTH_REASON + "Measured over seeds 0..19: 0 on every instance; control at least 1.35 decades",
        control_description="the reverse ordering (depth 2 reconstructs better than depths 3 and 4)",
        slow=True,
        notes="sensing n = 50, rank 3 (291 degrees of freedom), m = 500 dense Gaussian measurements; two instances per "
              "seed; ~15 s per instance (SCS ~9 s). Not the paper's n = 100 (see docs/claims_extended.md).",
    ),
    Claim(
        id="arora2019.fig5.large",
        source="Arora et al. 2019, Figure 5 (matrix sensing; depths 3, 4), at n = 50, rank 3, m = 500",
        statement=r"N\in\{3,4\}:\ \|W_N\|_* > \min\|W\|_*\ \wedge\ \operatorname{erank}(W_N) < "
                  r"\operatorname{erank}(W_{\rm nuc})\ \text{(every instance)}",
        verify=lambda seed: _nuclear_cases("sensing-large", seed),
        control=lambda seed: _nuclear_cases("sensing-large", seed, conjecture=True),
        tolerance=EXCESS_MIN,
        tolerance_reason=NUC_REASON + "Measured over seeds 0..19: 0 on every instance; control at least 0.0074 (1.8x)",
        control_description="Conjecture 1: |||W_N||_*/min - 1| is 0",
        slow=True,
        notes="same runs as arora2019.fig4.large",
    ),
]
