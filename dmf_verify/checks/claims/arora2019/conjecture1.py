"""Counter-evidence to Conjecture 1 (Gunasekar et al. 2017) as in Arora et al. 2019, Section 2/Figure 1:
with few observations, GD on a deep factorization from small init does NOT land on the minimum
nuclear norm solution: it reaches a HIGHER nuclear norm but LOWER effective rank and LOWER error;
with plenty of observations both coincide (with the ground truth).

Fixed small instance (so it runs in seconds): a 10 x 10 rank-1 ground truth (||W_gt||_2 = 1),
completion loss 1/2 sum over Omega, m = 25 (data-poor) and m = 80 (data-rich) observed entries; the
minimum nuclear norm solution from cvxpy/SCS (dmf_verify.numerics.nuclear), GD (step 0.5) from a random
Gaussian init of scale 1e-3 drawn from the seed, depths 2 and 3.

Error: data-rich regime, max over depths of ||W_GD - W_nuc||_F / ||W_nuc||_F (the conjecture's
prediction holds there). Control: the same comparison in the data-poor regime for depth 3, where it
must FAIL (distance > tolerance) with nuclear norm > minimum, effective rank and error lower for the
median over five GD inits (control error is set to 0 when any of those orderings is violated).
Single inits are not always ordered: on init seed 9 depth 3 lands on a rank-1 completion with
larger error, on seed 6 its nuclear norm is only 1.5% above the minimum.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement

N_DIM, RANK = 10, 1
M_POOR, M_RICH = 25, 80
INIT_SCALE, STEP, REL_TOL, MAX_STEPS = 1e-3, 0.5, 1e-6, 60000
INSTANCE_SEED = 0


@lru_cache(maxsize=1)
def ground_truth() -> np.ndarray:
    rng = np.random.default_rng(INSTANCE_SEED)
    g = rng.standard_normal((N_DIM, RANK)) @ rng.standard_normal((N_DIM, RANK)).T
    return g / np.linalg.norm(g, 2)


@lru_cache(maxsize=4)
def _problem(m: int):
    from dmf_verify.numerics.losses import random_completion
    from dmf_verify.numerics.nuclear import min_nuclear_norm

    loss = random_completion(ground_truth(), m, seed=INSTANCE_SEED, reduction="sum", half=True)
    return loss, min_nuclear_norm(loss, eps=1e-9)


@lru_cache(maxsize=16)
def gd_solution(m: int, depth: int, seed: int) -> np.ndarray:
    from dmf_verify.numerics.descent import gradient_descent
    from dmf_verify.errors import DivergenceError
    from dmf_verify.numerics.model import random_factors

    loss, _ = _problem(m)
    fs = random_factors([N_DIM] * (depth + 1), scale=INIT_SCALE, seed=seed)
    tol = REL_TOL * loss.value(np.zeros((N_DIM, N_DIM)))
    r = gradient_descent(loss, fs, step=STEP, steps=MAX_STEPS, tol=tol)
    if r.status != "converged":
        raise DivergenceError(f"GD (m={m}, depth {depth}) did not fit the observations in {r.steps} steps "
                              f"(loss {r.loss:.3e} > {tol:.3e})", step=r.steps, value=r.loss)
    return r.product


def summary(w: np.ndarray) -> dict:
    from dmf_verify.numerics.spectral import effective_rank, nuclear_norm

    gt = ground_truth()
    return {"nuclear_norm": float(nuclear_norm(w)), "effective_rank": float(effective_rank(w)),
            "error": float(np.linalg.norm(w - gt) / np.linalg.norm(gt))}


def _regime(m: int, seed: int, depths=(2, 3)) -> dict:
    _, nuc = _problem(m)
    out = {"min_nuclear": summary(nuc.W), "solver": {"status": nuc.status, "primal_residual": nuc.primal_residual,
                                                     "duality_gap": nuc.duality_gap, "seconds": nuc.seconds}}
    for n in depths:
        w = gd_solution(m, n, seed)
        s = summary(w)
        s["distance_to_min_nuclear"] = float(np.linalg.norm(w - nuc.W) / np.linalg.norm(nuc.W))
        out[f"depth{n}"] = s
    return out


def _verify(seed: int) -> Measurement:
    rich = _regime(M_RICH, seed)
    err = max(rich[f"depth{n}"]["distance_to_min_nuclear"] for n in (2, 3))
    return Measurement(err, {"regime": f"data-rich, m={M_RICH}", **rich, "init_seed": seed})


CONTROL_INITS = 5  # GD limits vary with the init; the orderings are claimed for the median over inits


def _median_summary(runs: list[dict]) -> dict:
    keys = ("nuclear_norm", "effective_rank", "error", "distance_to_min_nuclear")
    return {k: float(np.median([r[k] for r in runs])) for k in keys}


def _control(seed: int) -> Measurement:
    regimes = [_regime(M_POOR, seed + i) for i in range(CONTROL_INITS)]
    ref = regimes[0]["min_nuclear"]  # the instance is fixed: the same minimum for every init
    d3 = _median_summary([r["depth3"] for r in regimes])
    d2 = _median_summary([r["depth2"] for r in regimes])
    orderings = {"nuclear_norm_higher": d3["nuclear_norm"] > 1.02 * ref["nuclear_norm"],
                 "effective_rank_lower": d3["effective_rank"] < ref["effective_rank"],
                 "error_lower": d3["error"] < ref["error"]}
    depth2 = {"nuclear_norm_higher": d2["nuclear_norm"] > ref["nuclear_norm"],
              "effective_rank_lower": d2["effective_rank"] < ref["effective_rank"],
              "error_lower": d2["error"] < ref["error"]}
    err = d3["distance_to_min_nuclear"] if all(orderings.values()) else 0.0
    return Measurement(err, {"regime": f"data-poor, m={M_POOR}", "min_nuclear": ref,
                             "depth3_median": d3, "depth2_median": d2, "depth3_orderings": orderings,
                             "depth2_orderings (reported, not required)": depth2,
                             "init_seeds": [seed + i for i in range(CONTROL_INITS)]})


CLAIM = Claim(
    id="arora2019.conjecture1.counterevidence",
    source="Arora et al. 2019, Section 2.2 and Figure 8 (against Conjecture 1, Section 1, of Gunasekar et al. 2017)",
    statement=r"m \text{ large}: W_{GD} \approx \operatorname{argmin}\|W\|_*;\quad m \text{ small, } N=3: "
              r"\|W_{GD}\|_* > \min\|W\|_*,\ \operatorname{erank}(W_{GD}) < \operatorname{erank}(W_{*}),\ "
              r"\|W_{GD}-W_{gt}\| < \|W_{*}-W_{gt}\|",
    verify=_verify,
    control=_control,
    tolerance=0.05,
    tolerance_reason="data-rich: GD from init scale 1e-3 stopped at loss <= 1e-6 x initial, SCS at eps 1e-9: "
                     "measured distances 1e-3..1.2e-2 over init seeds 0, 1, 2, 12345; 0.05 bounds the init-scale "
                     "and stopping bias with a ~4x margin",
    control_description="the same GD-vs-minimum-nuclear-norm comparison in the data-poor regime (m = 25), depth 3, "
                        "median over 5 inits, where Conjecture 1 fails (required: nuclear norm > 1.02 x minimum, "
                        "lower effective rank and error)",
    notes="Instance fixed (10x10 rank 1, masks from seed 0); the seed draws the GD init. Depth 2 in the data-poor "
          "regime stays close to the minimum nuclear norm (nuclear norm ~1% higher, distance 0.13-0.26) and its "
          "effective rank / error are NOT consistently lower across init seeds (reported in control details); the "
          "counter-evidence is carried by depth 3.",
)
