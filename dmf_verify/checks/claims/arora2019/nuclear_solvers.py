"""The two minimum nuclear norm solvers agree where both apply: cvxpy/SCS on the full matrix
problem and the HiGHS LP on eigenvalues for commuting symmetric measurements (Theorem 2's reduction:
symmetrizing and pinching to the shared eigenbasis never increase ||W||_*)."""

from __future__ import annotations

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement

CASES = ((3, 2), (5, 3), (8, 4))  # (d, m)


def _measure(seed: int, wrong: bool = False) -> Measurement:
    from dmf_verify.numerics.nuclear import (
        measurement_operator,
        min_frobenius_norm,
        min_nuclear_norm,
        min_nuclear_norm_commuting,
        random_commuting_sensing,
    )

    errs, det = {}, {}
    for d, m in CASES:
        loss, v, lam, _ = random_commuting_sensing(d, m, seed=seed * 101 + d)
        op = measurement_operator(loss)
        for psd in (False, True):
            scs = min_nuclear_norm(loss, psd=psd, eps=1e-9)
            if wrong:
                w = min_frobenius_norm(loss)
                val = float(np.sum(np.linalg.svd(w, compute_uv=False)))
            else:
                lp = min_nuclear_norm_commuting(lam, loss.y, psd=psd)
                val, w = lp.nuclear_norm, (v * lp.eigenvalues) @ v.T
            key = f"d={d},m={m},{'psd' if psd else 'all'}"
            errs[f"{key}: |min_SCS - min_other| / max(1, min)"] = abs(scs.nuclear_norm - val) / max(1.0, val)
            if not wrong:  # the LP's minimizer, mapped back to the original basis, must be feasible (and PSD)
                resid = float(np.max(np.abs(op.apply(w) - loss.y)) / max(1.0, float(np.max(np.abs(loss.y)))))
                neg = max(0.0, -float(np.linalg.eigvalsh(0.5 * (w + w.T))[0])) if psd else 0.0
                errs[f"{key}: LP minimizer infeasible (residual, negative eigenvalue)"] = max(resid, neg)
                errs[f"{key}: LP value vs ||V diag(x) V^T||_*"] = abs(val - float(np.sum(np.linalg.svd(
                    w, compute_uv=False)))) / max(1.0, val)
            det[key] = {"minimizer_difference (not unique on degenerate faces)":
                        float(np.linalg.norm(scs.W - w) / max(1.0, np.linalg.norm(w))), "scs": scs.nuclear_norm,
                        "other": val, "scs_gap": scs.duality_gap, "scs_residual": scs.primal_residual,
                        "scs_seconds": scs.seconds}
    if wrong:  # the control is the value comparison only
        errs = {k: e for k, e in errs.items() if k.endswith("max(1, min)")}
    else:
        errs.update(_lp_vs_enumeration(seed))
    return Measurement(cases=errs, details={"cases": det, "seed": seed,
                                            "enumeration": f"{ENUM_INSTANCES} commuting instances per (d, m) in "
                                                           f"{ENUM_CASES}, PSD and unrestricted"})


ENUM_CASES = ((4, 2), (5, 3))
ENUM_INSTANCES = 20


def basic_solutions(lam: np.ndarray, y: np.ndarray, *, nonnegative: bool) -> list[np.ndarray]:
    """All basic solutions x (support of size m) of lam x = y (and x >= 0 when ``nonnegative``)."""
    import itertools

    m, d = lam.shape
    out = []
    for basis in itertools.combinations(range(d), m):
        b = lam[:, basis]
        if abs(np.linalg.det(b)) < 1e-12:
            continue
        xs = np.linalg.solve(b, y)
        if nonnegative and np.any(xs < -1e-12):
            continue
        x = np.zeros(d)
        x[list(basis)] = xs
        out.append(x)
    return out


def _lp_vs_enumeration(seed: int) -> dict:
    """The LP optimum equals the best basic solution (a linear objective over a polyhedron, resp. the l1 norm
    over an affine set, is minimized at a basic solution): enumeration is the independent reference."""
    from dmf_verify.numerics.nuclear import min_nuclear_norm_commuting, random_commuting_sensing

    out = {}
    for d, m in ENUM_CASES:
        worst = {True: 0.0, False: 0.0}
        for i in range(ENUM_INSTANCES):
            loss, _v, lam, _ = random_commuting_sensing(d, m, seed=10_000 + seed * ENUM_INSTANCES + i)
            for psd in (True, False):
                best = min(basic_solutions(lam, loss.y, nonnegative=psd), key=lambda x: float(np.sum(np.abs(x))))
                lp = min_nuclear_norm_commuting(lam, loss.y, psd=psd)
                worst[psd] = max(worst[psd], float(np.linalg.norm(lp.eigenvalues - best) / np.linalg.norm(best)))
        for psd, w in worst.items():
            out[f"d={d},m={m},{'psd' if psd else 'all'}: LP minimizer vs enumerated vertex (max over "
                f"{ENUM_INSTANCES} instances)"] = w
    return out


CLAIM = Claim(
    id="nuclear.sdp_vs_lp",
    source="Arora et al. 2019, proof of Theorem 2 (Appendix B.1, eqs. 22-23: linear program on eigenvalues)",
    statement=r"\min\{\|W\|_*: \langle A_i,W\rangle=y_i\ (,W\succeq0)\} = \min\{\|x\|_1: \Lambda x = y\ (,x\geq0)\}"
              r"\text{ for } A_i = V\operatorname{diag}(\lambda_i)V^\top",
    verify=_measure,
    control=lambda seed: _measure(seed, wrong=True),
    tolerance=1e-6,
    tolerance_reason="SCS at eps_abs = eps_rel = 1e-9 on these O(1) problems: certified duality gaps <= ~1e-9 and "
                     "measured objective differences <= ~1e-8 (nuclear norm recomputed from the SCS iterate, whose "
                     "entries are accurate to ~1e-7); HiGHS and the enumerated vertices are exact to ~1e-15. The SCS and "
                     "LP minimizers are compared only in details: the optimal face can be degenerate. Measured by dmf-verify sweep over seeds 0-19: worst error 5.3e-09 (seed 16) = 0.0053 x the tolerance "
                     "(1.9e+02x margin); smallest control 0.0082 (seed 6) = 8.2e+03 x the tolerance",
    control_description="the minimum Frobenius norm solution in place of the LP solution",
    notes=f"cases (d, m) = {CASES}, each with and without the PSD restriction; instances from random_commuting_sensing",
)
