"""Counter-evidence to Conjecture 1 (Gunasekar et al. 2017) as in Arora et al. 2019, Section 2/Figure 1:
with few observations, GD on a depth-3 factorization from small init does NOT land on the minimum
nuclear norm solution: it reaches a HIGHER nuclear norm and a LOWER effective rank.

Seeded random instances (nothing fixed, nothing filtered): instance i draws a 10 x 10 rank-1
ground truth (||W_gt||_2 = 1), m = 25 observed entries and the GD init from seed i; completion loss
1/2 sum over Omega, the minimum nuclear norm solution from cvxpy/Clarabel (dmf_verify.numerics.nuclear;
certified duality gaps ~1e-9; SCS at eps 1e-9 stopped 'optimal_inaccurate' on instances 214 and 232),
GD (step 0.5) from a Gaussian init of scale 1e-3, depth 3, stopped at loss <= 1e-6 x initial.

The counter-evidence is the VERIFIED statement, claimed as a rate: per instance it holds when
||W_GD||_* > 1.02 min ||W||_* and erank(W_GD) < erank(W_*). The lower reconstruction error that the
fixed instance of the earlier version showed is NOT claimed: on random instances of this size it
holds on ~40% only (reported per instance in details). Control: Conjecture 1 itself on the same runs
(W_GD within 5% of the minimum nuclear norm solution); its rate must be proved below the claimed rate.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Rate

N_DIM, RANK, M_POOR, DEPTH = 10, 1, 25, 3
INIT_SCALE, STEP, REL_TOL, MAX_STEPS = 1e-3, 0.5, 1e-6, 60000
INSTANCES = 30
CLAIMED_RATE = 0.45
EXCESS = 1.02          # nuclear norm at least 2% above the minimum
CONJECTURE_DISTANCE = 0.05


def instance_seeds(seed: int) -> list[int]:
    return [seed * INSTANCES + i for i in range(INSTANCES)]


def ground_truth(index: int) -> np.ndarray:
    rng = np.random.default_rng([index, 1])
    g = rng.standard_normal((N_DIM, RANK)) @ rng.standard_normal((N_DIM, RANK)).T
    return g / np.linalg.norm(g, 2)


def reference_min_nuclear_norm(loss):
    """Clarabel at 1e-9; a solve its own status calls 'inaccurate' is accepted only with a certified relative
    duality gap <= 1e-6 and primal residual <= 1e-8 (SCS at 1e-9 ended 'inaccurate' on 2 of 30 instances of seed 7,
    Clarabel on one instance of seed 11); otherwise SolverError."""
    from dmf_verify.errors import SolverError
    from dmf_verify.numerics.nuclear import min_nuclear_norm

    nuc = min_nuclear_norm(loss, eps=1e-9, solver="CLARABEL", allow_inaccurate=True)
    if nuc.status != "optimal" and not (nuc.duality_gap is not None and nuc.duality_gap <= 1e-6 * nuc.nuclear_norm
                                        and nuc.primal_residual <= 1e-8):
        raise SolverError(f"the minimum nuclear norm solve ended {nuc.status!r} without a certificate (gap "
                          f"{nuc.duality_gap}, residual {nuc.primal_residual:.2e})", status=nuc.status)
    return nuc


@lru_cache(maxsize=128)
def run_instance(index: int) -> dict:
    """The minimum nuclear norm solution and the depth-3 GD limit of instance ``index`` (summaries)."""
    from dmf_verify.errors import DivergenceError
    from dmf_verify.numerics.descent import gradient_descent
    from dmf_verify.numerics.losses import random_completion
    from dmf_verify.numerics.model import random_factors
    from dmf_verify.numerics.spectral import effective_rank, nuclear_norm

    gt = ground_truth(index)
    loss = random_completion(gt, M_POOR, seed=index, reduction="sum", half=True)
    nuc = reference_min_nuclear_norm(loss)
    fs = random_factors([N_DIM] * (DEPTH + 1), scale=INIT_SCALE, seed=index + 1)
    tol = REL_TOL * loss.value(np.zeros((N_DIM, N_DIM)))
    r = gradient_descent(loss, fs, step=STEP, steps=MAX_STEPS, tol=tol)
    if r.status != "converged":
        raise DivergenceError(f"GD (instance {index}, depth {DEPTH}) did not fit the observations in {r.steps} steps "
                              f"(loss {r.loss:.3e} > {tol:.3e})", step=r.steps, value=r.loss)

    def summary(w):
        return {"nuclear_norm": float(nuclear_norm(w)), "effective_rank": float(effective_rank(w)),
                "error": float(np.linalg.norm(w - gt) / np.linalg.norm(gt))}

    return {"min_nuclear": summary(nuc.W), "gd": summary(r.product),
            "distance_gd_to_min_nuclear": float(np.linalg.norm(r.product - nuc.W) / np.linalg.norm(nuc.W)),
            "certified_duality_gap": nuc.duality_gap, "solver_status": nuc.status, "gd_steps": r.steps}


def counterevidence(row: dict) -> bool:
    g, n = row["gd"], row["min_nuclear"]
    return g["nuclear_norm"] > EXCESS * n["nuclear_norm"] and g["effective_rank"] < n["effective_rank"]


def error_lower(row: dict) -> bool:
    return row["gd"]["error"] < row["min_nuclear"]["error"]


def _rate(seed: int, *, conjecture: bool = False) -> Rate:
    rows = {f"instance {i}": run_instance(i) for i in instance_seeds(seed)}
    if conjecture:
        outcomes = {k: r["distance_gd_to_min_nuclear"] <= CONJECTURE_DISTANCE for k, r in rows.items()}
    else:
        outcomes = {k: counterevidence(r) for k, r in rows.items()}
    return Rate(outcomes=outcomes, claimed_rate=CLAIMED_RATE,
                details={"instances": rows, "error_lower_too (reported, not claimed)":
                         f"{sum(error_lower(r) for r in rows.values())}/{len(rows)}", "regime": f"data-poor, m = {M_POOR} of {N_DIM * N_DIM} entries",
                         "statement": "Conjecture 1 (GD = min nuclear norm, distance <= 5%)" if conjecture else
                         "||W_GD||_* > 1.02 min and erank lower"})


CLAIM = Claim(
    id="arora2019.conjecture1.counterevidence",
    source="Arora et al. 2019, Section 2 / Figure 1 (against Conjecture 1 of Gunasekar et al. 2017)",
    statement=r"m \text{ small, } N=3:\ \|W_{GD}\|_* > 1.02\min\|W\|_*\ \text{and}\ \operatorname{erank}(W_{GD}) < "
              r"\operatorname{erank}(W_{*})\ \text{on at least 45\% of random instances}",
    verify=_rate,
    control=lambda seed: _rate(seed, conjecture=True),
    tolerance=1 - CLAIMED_RATE,
    tolerance_reason="a Rate over seeded random instances: per instance the counter-evidence holds when the nuclear "
                     "norm exceeds the minimum by 2% (Clarabel's certified gap is ~1e-9, GD stops at loss 1e-6 x "
                     "initial) and the effective rank is lower. Measured by dmf-verify sweep over seeds 0-19 (seed 11 "
                     "errored there on an uncertified solve, since accepted only with a certificate: 23/30 held): the statement held on 465/570 instances (82%); the 95% "
                     "lower bound was >= 0.501 on every seed (claimed 0.45; worst seed 16); the control held on 2/570, "
                     "upper bound <= 0.149 (seed 0)",
    control_description="Conjecture 1 on the same runs: W_GD within 5% (relative Frobenius distance) of the minimum "
                        "nuclear norm solution; its rate must be proved below 45%",
    slow=True,
    notes="10x10 rank 1, m = 25, depth 3, init scale 1e-3, GD step 0.5; 30 instances per seed (instance seeds 30 s .. "
          "30 s + 29), each drawing ground truth, mask and init. Depth 2 is not claimed: it stays close to the "
          "minimum nuclear norm solution (nuclear norm ~1% higher) and its erank / error are not consistently lower.",
)
