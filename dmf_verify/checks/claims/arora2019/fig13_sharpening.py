"""Figure 13 (Arora et al. 2019): the rise of each singular value is sharper with depth.

Quantified: for depth N, GD on matrix completion from a small balanced init; for each of the
top ``rank`` singular values sharpness = (iterations from 10% to 90% of its final value) /
(iterations to reach 10%) (checks/experiments/dynamics.py, interpolated between iterations).
The paper says the transition from slow to rapid movement is sharper with a deeper
factorization: the mean sharpness must decrease with depth, N = 1..4.

Per instance (problem seed) the statement holds when every ratio sharpness(N+1) / sharpness(N),
N = 1, 2, 3, is below 0.9 AND every run has converged (top singular values moving < 2% over the
last 10% of the run; the sharpness of an unsettled run is not meaningful). The learning rate per
depth comes from the scalar model with the dynamics module's default fill 0.5 (90% of sigma* at half
the run); an earlier version used fill 0.3 after runs had not settled on some seeds. At fill 0.5 the
ratios are below 0.9 on every instance measured, but 8 of 30 runs had not settled, so the
statement is claimed as a RATE. Negative control: the same test when depth N is replaced by the
dynamics without the depth-dependent factor (sigma^2)^(1-1/N) of Theorem 3, i.e. end-to-end GD
W <- W - N eta_N grad l(W) with the depth's own learning rate eta_N.

Reduced size (30x30, rank 2, 300 observed entries, 400 iterations per depth); the full-size numbers
come from `dmf-verify experiment dynamics`.
"""

from __future__ import annotations

import numpy as np

from dmf_verify.checks.claim import Claim, Rate

DEPTHS = (1, 2, 3, 4)
FILL = 0.5        # the dynamics module's default: the scalar model reaches 90% of sigma* at half the run
RATIO_BAR = 0.9   # per instance: every consecutive-depth ratio below 0.9 (a decrease of at least 10%)
INSTANCES = 30
CLAIMED_RATE = 0.35


def instance_seeds(seed: int) -> list[int]:
    return [seed * INSTANCES + i for i in range(INSTANCES)]


def measure_instance(index: int, *, control: bool = False) -> dict:
    """Sharpness per depth for problem seed ``index`` (the claim's run, or the control's depth-free dynamics)."""
    from dmf_verify.checks.experiments.dynamics import CLAIM_SIZE, depth_lr, run_depth

    size, rank, m, steps = (CLAIM_SIZE[k] for k in ("size", "rank", "m", "steps"))
    sharp, conv = {}, {}
    for n in DEPTHS:
        if control:
            lr = n * depth_lr("completion", n, size=size, rank=rank, m=m, steps=steps, seed=index, fill=FILL)
            run = run_depth("completion", 1, size=size, rank=rank, m=m, steps=steps, seed=index, lr=lr,
                            record_every=1)
        else:
            run = run_depth("completion", n, size=size, rank=rank, m=m, steps=steps, seed=index, record_every=1,
                            fill=FILL)
        sharp[n] = float(np.mean(run.sharpness))
        conv[n] = bool(run.converged)
    ratios = {f"{n + 1}/{n}": sharp[n + 1] / sharp[n] for n in DEPTHS[:-1]}
    return {"ratios": ratios, "converged": all(conv.values()), "sharpness": sharp,
            "holds": all(conv.values()) and max(ratios.values()) < RATIO_BAR}


def _rate(seed: int, *, control: bool = False) -> Rate:
    rows = {f"instance {i}": measure_instance(i, control=control) for i in instance_seeds(seed)}
    return Rate(outcomes={k: r["holds"] for k, r in rows.items()}, claimed_rate=CLAIMED_RATE,
                details={"instances": rows, "not_converged": [k for k, r in rows.items() if not r["converged"]],
                         "fill": FILL, "ratio_bar": RATIO_BAR})


CLAIM = Claim(
    id="arora2019.fig13.sharpening",
    source="Arora et al. 2019, Figure 13 (Section 3: transition 'sharper with a deeper factorization')",
    statement=r"\text{sharpness}(N) = \frac{t_{90\%} - t_{10\%}}{t_{10\%}} \text{ decreases with } N "
              r"\ (\max_N \text{sharpness}(N{+}1)/\text{sharpness}(N) < 0.9)\ \text{on at least 35\% of instances}",
    verify=_rate,
    control=lambda seed: _rate(seed, control=True),
    tolerance=1 - CLAIMED_RATE,
    tolerance_reason="a Rate: the paper's statement is qualitative; 0.9 demands a decrease of at least 10% per added "
                     "layer, and a run must have settled. Measured on problem seeds 0-29: 22/30 hold; the 8 failures "
                     "(seeds 3, 4, 6, 7, 12, 21, 27, 28) are all unsettled runs (their ratios 0.06-0.66 are below 0.9 "
                     "too). With 30 instances per seed the 95% lower bound exceeds 0.35 with probability ~0.99 at "
                     "p = 0.73. The depth-free control held on 0/30 (ratios ~1). Measured by dmf-verify sweep over seeds 0-19: the statement held on 449/600 instances (75%); the 95% "
                     "lower bound was >= 0.402 on every seed (claimed 0.35; worst seed 19); the control held on 0/600, "
                     "upper bound <= 0.095 (seed 0)",
    control_description="depth-N dynamics without the factor (sigma^2)^(1-1/N): end-to-end GD with step N eta_N, "
                        "the same per-instance test",
    slow=True,
    notes="completion 30x30, rank 2, 300 observed entries (mean loss, no 1/2), balanced init of spectral norm "
          "1e-3 ||W*||_2, 400 GD iterations per depth, learning rate per depth from the scalar model at fill 0.5 "
          "(docs/dynamics.md); 30 problem seeds per claim seed (30 s .. 30 s + 29), ~20 s",
)
