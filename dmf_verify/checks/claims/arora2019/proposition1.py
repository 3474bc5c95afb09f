"""Proposition 1 (Arora et al. 2019): the limit of Theorem 2 (minimum nuclear norm over PSD
feasible W) need not be even a local minimizer of any Schatten-p quasi-norm, 0 < p < 1.

Independent pieces, all required:
1. the exact sympy argument (theory/counterexample.py): construction, feasibility, PSD
   minimality of W* = diag(1, 1, 0, ...), eigenvalues 1 +- eps of W_eps, the expansion
   2 + p(p-1) eps^2, and a proof of (1+eps)^p + (1-eps)^p < 2 for ALL 0 < eps <= 1, 0 < p < 1;
2. an arb (python-flint) interval certificate of the same inequality on every box of an adaptive
   grid of [0.1, 0.9] x [0.1, 1];
3. the feasible-set facts from the LP on eigenvalues and from cvxpy/SCS: with the PSD restriction
   the minimum is 2 at W* (d = 3..7); WITHOUT it, d = 3 has minimum 1 at diag(0, 0, -1) (W* is not
   a minimizer), d = 4 ties at 2, d >= 5 has minimum 2;
4. numerically: gradient descent from W_j(0) = alpha I (alpha = 0.05, step 0.1) for N = 2..4,
   d = 3, 4, converges to W* (in the basis Q of the seed: seed 0 is the paper's diagonal form,
   other seeds relabel and flip coordinates by a random signed permutation Q).

Error: max over (N, d) of ||W_GD - W*||_F / ||W*||_F (inf when 1-3 fail). Control: the same GD
limits measured against the unrestricted (non-PSD) minimum nuclear norm solution for d = 3.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement

DEPTHS = (2, 3, 4)
DIMS = (3, 4)
ALPHA = 0.05
STEP = 0.1


@lru_cache(maxsize=1)
def _derivation_status() -> tuple:
    from dmf_verify.theory.counterexample import interval_certificate, proposition1

    der = proposition1(4)
    cert = interval_certificate(p_range=(0.1, 0.9), eps_range=(0.1, 1.0))
    cert_ctl = interval_certificate(p_range=(1.1, 1.9), eps_range=(0.1, 1.0), max_boxes=2000)
    return der.verified, {k: bool(v) for k, v in der.checks.items()}, cert, cert_ctl


def _basis(d: int, seed: int) -> np.ndarray:
    """A random signed permutation (identity for seed 0): it relabels and flips coordinates exactly.

    A generic rotation is NOT used: in a rotated basis rounding errors leave the commuting family and,
    for N = 4, are amplified along the plateau so GD ends at the rank-1 end W_{+-1} of the minimizer
    segment instead of W* (see docs/norms.md and rotated_limit)."""
    if seed == 0:
        return np.eye(d)
    rng = np.random.default_rng(seed)
    return np.eye(d)[rng.permutation(d)] * rng.choice([-1.0, 1.0], size=d)


def rotated_limit(d: int = 4, depth: int = 4, seed: int = 12345) -> np.ndarray:
    """GD limit for the instance rotated by a Haar-random orthogonal Q, returned in the paper's basis
    (Q^T W Q). Used by docs/tests to show the rank-1 escape; not part of the claim's error."""
    from dmf_verify.numerics.descent import gradient_descent
    from dmf_verify.numerics.losses import SensingLoss
    from dmf_verify.theory.counterexample import measurements

    a, y = measurements(d)
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    q = q * np.sign(np.diag(r))
    loss = SensingLoss(np.einsum("ik,mkl,jl->mij", q, a, q), y)
    res = gradient_descent(loss, [ALPHA * np.eye(d) for _ in range(depth)], step=STEP, steps=200000, tol=1e-26)
    return q.T @ res.product @ q


@lru_cache(maxsize=16)
def _instance(d: int, seed: int):
    from dmf_verify.numerics.losses import SensingLoss
    from dmf_verify.theory.counterexample import measurements, unrestricted_minimizer, w_star

    a, y = measurements(d)
    q = _basis(d, seed)
    a = np.einsum("ik,mkl,jl->mij", q, a, q)
    return SensingLoss(a, y), q @ w_star(d) @ q.T, q @ unrestricted_minimizer(d)[0] @ q.T


@lru_cache(maxsize=16)
def _gd_limit(d: int, depth: int, seed: int) -> np.ndarray:
    from dmf_verify.numerics.descent import gradient_descent

    loss, _, _ = _instance(d, seed)
    r = gradient_descent(loss, [ALPHA * np.eye(d) for _ in range(depth)], step=STEP, steps=200000, tol=1e-26)
    if r.status != "converged":
        from dmf_verify.errors import DivergenceError

        raise DivergenceError(f"GD (d={d}, N={depth}) did not fit the measurements in {r.steps} steps "
                              f"(loss {r.loss:.3e})", step=r.steps, value=r.loss)
    return r.product


def feasible_set_facts(seed: int = 0, dims=(3, 4, 5, 6, 7), scs_dims=()) -> dict:
    """Minimum nuclear norm with and without the PSD restriction (LP; also cvxpy/SCS for ``scs_dims``,
    off in the claim to keep it fast, on in tests/test_counterexample.py)."""
    from dmf_verify.numerics.nuclear import min_nuclear_norm, min_nuclear_norm_commuting_matrices

    out = {}
    for d in dims:
        loss, ws, wu = _instance(d, seed)
        psd = min_nuclear_norm_commuting_matrices(loss.A, loss.y, psd=True)
        free = min_nuclear_norm_commuting_matrices(loss.A, loss.y, psd=False)
        row = {"psd_min": psd.nuclear_norm, "psd_minimizer_is_W*": bool(np.allclose(psd.W, ws, atol=1e-9)),
               "unrestricted_min": free.nuclear_norm,
               "nuclear_norm_of_W*": float(np.sum(np.linalg.svd(ws, compute_uv=False))),
               "nuclear_norm_of_diag(t-1 tail, t=0)": float(np.sum(np.linalg.svd(wu, compute_uv=False))) if d <= 4 else None}
        if d in scs_dims:
            row["scs_psd_min"] = min_nuclear_norm(loss, psd=True, eps=1e-9).nuclear_norm
            row["scs_unrestricted_min"] = min_nuclear_norm(loss, psd=False, eps=1e-9).nuclear_norm
        out[d] = row
    return out


def _facts_hold(f: dict) -> tuple[bool, list]:
    bad = []
    for d, row in f.items():
        if abs(row["psd_min"] - 2) > 1e-9 or not row["psd_minimizer_is_W*"]:
            bad.append(f"d={d}: PSD minimum {row['psd_min']} (expected 2 at W*)")
        want = 1.0 if d == 3 else 2.0
        if abs(row["unrestricted_min"] - want) > 1e-9:
            bad.append(f"d={d}: unrestricted minimum {row['unrestricted_min']} (expected {want})")
        for k in ("scs_psd_min", "scs_unrestricted_min"):
            if k in row and abs(row[k] - (2.0 if k == "scs_psd_min" else want)) > 1e-6:
                bad.append(f"d={d}: {k} = {row[k]}")
        if d in (3, 4) and abs(row["nuclear_norm_of_diag(t-1 tail, t=0)"] - want) > 1e-12:
            bad.append(f"d={d}: diag(0, 0, -1, ...) has nuclear norm {row['nuclear_norm_of_diag(t-1 tail, t=0)']}")
    return not bad, bad


def _measure(seed: int, against: str = "W*", aggregate=max) -> Measurement:
    verified, checks, cert, cert_ctl = _derivation_status()
    facts = feasible_set_facts(seed)
    ok, bad = _facts_hold(facts)
    dists = {}
    dims = DIMS if against == "W*" else (3,)
    for d in dims:
        _, ws, wu = _instance(d, seed)
        ref = ws if against == "W*" else wu
        for n in DEPTHS:
            w = _gd_limit(d, n, seed)
            dists[f"d={d},N={n}"] = float(np.linalg.norm(w - ref) / np.linalg.norm(ref))
    err = aggregate(dists.values())
    problems = []
    if not verified:
        problems.append("symbolic derivation has a failing check")
    if cert["failed_boxes"]:
        problems.append(f"interval certificate failed on {cert['failed_boxes']} boxes")
    if not cert_ctl["failed_boxes"]:
        problems.append("the interval control (p > 1) was certified, so the certificate cannot discriminate")
    if not ok:
        problems.extend(bad)
    if problems and against == "W*":
        err = float("inf")
    return Measurement(err, {
        "against": against, "gd_relative_distance": dists, "alpha": ALPHA, "step": STEP,
        "symbolic_verified": verified, "symbolic_checks": checks,
        "interval_certificate": {k: v for k, v in cert.items() if k != "first_failed"},
        "interval_control_p_gt_1_failed_boxes": cert_ctl["failed_boxes"],
        "feasible_set_facts": facts, "problems": problems,
        "basis": "identity (paper's diagonal form)" if seed == 0 else f"random orthogonal Q from seed {seed}"})


CLAIM = Claim(
    id="arora2019.proposition1",
    source="Arora et al. 2019, Proposition 1 (Section 2.1; proof in Appendix B.2, eq. 24)",
    statement=r"\exists\, A_i \text{ commuting}: W^* = \operatorname{diag}(1,1,0,\ldots) = \lim_{\alpha\to0}W_\infty(\alpha),"
              r"\ \|W^*+\varepsilon(e_1e_2^\top+e_2e_1^\top)\|_{S_p}^p = (1+\varepsilon)^p+(1-\varepsilon)^p < 2 = \|W^*\|_{S_p}^p",
    verify=_measure,
    control=lambda seed: _measure(seed, against="unrestricted", aggregate=min),
    tolerance=1e-3,
    tolerance_reason="GD from alpha I stays in the commuting family; its off-support eigenvalues end at "
                     "~alpha^N s^(-N/(N-2)) (N >= 3) or alpha^(2s) (N = 2) with dual slack s >= 2 here, measured "
                     "~10x smaller at alpha = 0.05 than at alpha = 0.1, consistent with that order. Symbolic/interval/"
                     "feasible-set failures make the error inf. Measured by dmf-verify sweep over seeds 0-19: worst error 2.3e-05 (seed 0) = 0.023 x the tolerance "
                     "(43x margin); smallest control 1.7 (seed 0) = 1.7e+03 x the tolerance",
    control_description="GD limits compared with the minimum nuclear norm solution WITHOUT the PSD restriction "
                        "(d = 3: diag(0, 0, -1), nuclear norm 1 < 2)",
    derive=lambda: __import__("dmf_verify.theory.counterexample", fromlist=["proposition1"]).proposition1(4),
    notes="Feasible set: {W PSD : <A_i, W> = y_i}. Without PSD, W* is not the minimizer for d = 3, ties for d = 4 "
          "and is one for d >= 5 (reported in details.feasible_set_facts). The PSD minimizers form the segment "
          "W_eps, |eps| <= 1, all of nuclear norm 2; GD from alpha I selects its midpoint W*, the maximizer of the "
          "Schatten-p quasi-norm on the segment.",
)
