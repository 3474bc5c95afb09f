"""chou.convergence: for eta <= eta* = 1/(N lam^(2-2/N)) the scalar recursion converges monotonically to
lam^(1/N) (x_k = w_k^N increases to lam); the measured monotonicity threshold equals eta*.

eta* is the library's (dmf_verify.numerics.chou.convergence_step_bound, which every other Chou routine
uses); the threshold is measured by bisection on the recursion written in this module."""

from __future__ import annotations

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement

DEPTHS = (2, 3, 4, 5)
LAMS = (0.5, 2.0, 10.0)
ALPHA_REL = 0.3       # w_0 = 0.3 lam^(1/N)
OVERSHOOT_RTOL = 1e-12  # a decrease w_{k+1} < w_k (1 - 1e-12) is a real (not round-off) overshoot
BELOW = (0.25, 0.5, 0.9, 1.0)  # eta / eta* at which monotone convergence is asserted


def _grid(seed: int):
    rng = np.random.default_rng(seed)
    n = np.repeat(DEPTHS, len(LAMS)).astype(float)
    lam = np.tile(LAMS, len(DEPTHS)) * rng.uniform(0.8, 1.25, n.size)
    return n, lam


def eta_star(n, lam) -> np.ndarray:
    """The library's monotone-convergence bound (numerics.chou.convergence_step_bound) for every case."""
    from dmf_verify.numerics.chou import convergence_step_bound

    return np.array([convergence_step_bound(float(b), int(a)) for a, b in zip(np.ravel(n), np.ravel(lam))])


def _run(n, lam, c, steps, alpha_rel=ALPHA_REL):
    """Vectorised recursion (written here) at eta = c * eta* (the library's eta*); returns (monotone flags,
    final relative error of x)."""
    eta = c * eta_star(n, lam)
    w = alpha_rel * lam ** (1.0 / n)
    mono = np.ones(np.broadcast(n, c).shape, bool)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            nw = w + eta * w ** (n - 1) * (lam - w**n)
            mono &= ~(nw < w * (1 - OVERSHOOT_RTOL))
            w = nw
    return mono, np.abs(w**n - lam) / lam


def thresholds(seed: int, *, rounds: int = 36, conv_rounds: int = 14):
    """Measured monotone-convergence threshold and convergence threshold, in units of eta*."""
    n, lam = _grid(seed)
    lo, hi = np.full(n.size, 0.5), np.full(n.size, 1.5)
    for _ in range(rounds):
        mid = 0.5 * (lo + hi)
        ok = _run(n, lam, mid, 400)[0]
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    mono = 0.5 * (lo + hi)
    lo, hi = np.full(n.size, 1.0), np.full(n.size, 3.0)
    for _ in range(conv_rounds):
        mid = 0.5 * (lo + hi)
        err = _run(n, lam, mid, 4000)[1]
        ok = np.isfinite(err) & (err < 1e-6)
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    return n, lam, mono, 0.5 * (lo + hi)


def _measure(seed: int, bound_factor: float = 1.0) -> Measurement:
    n, lam, mono, conv = thresholds(seed)
    bound = bound_factor  # claimed monotone threshold in units of the library's eta*
    dev = np.abs(mono / bound - 1.0)
    # below the bound: monotone AND converged for every case
    fails = 0
    worst_final = 0.0
    for c in BELOW:
        ok, err = _run(n, lam, np.full(n.size, c * bound), 3000)
        fails += int(np.sum(~ok | ~(err < 1e-10)))
        worst_final = max(worst_final, float(np.nanmax(err)))
    per_case = {f"N={int(a)}, lam={b:.3g}": float(d) for a, b, d in zip(n, lam, dev)}
    cases = {f"threshold/bound - 1, {k}": v for k, v in per_case.items()}
    if bound_factor == 1.0:  # the claim's second half: monotone convergence at every eta <= eta*
        cases["runs at eta <= eta* that were not monotone or did not converge"] = float(fails)
    return Measurement(cases=cases, details={
        "monotone_threshold_over_eta_star": {k: float(v) for k, v in zip(per_case, mono)},
        "convergence_threshold_over_eta_star": {k: float(v) for k, v in zip(per_case, conv)},
        "non_monotone_or_unconverged_runs_below_bound": fails,
        "worst_final_relative_error_below_bound": worst_final,
        "claimed_bound_factor": bound_factor,
    })


CLAIM = Claim(
    id="chou.convergence",
    source="Chou et al., abstract (dynamical convergence of the spectrum): monotone convergence below a step-size "
           "bound; theorem number not available (abstract only)",
    statement=r"\eta\le\eta^*=\frac{1}{N\lambda_{\max}^{2-2/N}},\ 0<\alpha^N<\lambda \Rightarrow w_k^N\uparrow\lambda;"
              r"\ \text{for every }\eta>\eta^*\text{ monotonicity fails (stable up to }2\eta^*)",
    verify=_measure,
    control=lambda seed: _measure(seed, bound_factor=2.0),
    tolerance=2e-3,
    tolerance_reason="at eta = (1+eps) eta* the overshoot above lam^(1/N) is O(eps^2) relative; detecting it above "
                     "the 1e-12 round-off floor resolves eps only to 4e-5 (N=2,3) .. 5e-4 (N=4,5) (measured, seeds 0, "
                     "12345); bisection itself resolves 1.5e-11. 2e-3 = 4x the worst resolution; every run at "
                     "eta <= eta* that is not monotone or does not converge counts 1 (a case of its own). Measured by dmf-verify sweep over seeds 0-19: worst error 0.00049 (seed 1) = 0.25 x the tolerance "
                     "(4.1x margin); smallest control 0.5 (seed 1) = 2.5e+02 x the tolerance",
    control_description="the linear-stability bound 2/(N lam^(2-2/N)) claimed as the monotone-convergence bound",
    derive=lambda: __import__("dmf_verify.theory.chou", fromlist=["convergence"]).convergence(),
    notes="depths 2-5, lam ~ 0.5, 2, 10 (jittered by seed); monotone threshold by 36-round bisection (400 steps); "
          "the convergence (not necessarily monotone) threshold is measured at ~1.999 eta* = 2 eta* up to the "
          "4000-step / 1e-6 resolution (details), matching |f'(lam^(1/N))| < 1",
)
