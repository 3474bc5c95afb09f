"""chou.early_stopping.denoise: stopping inside the predicted interval returns the low-rank projection.

Chou et al. (abstract): the intervals where erank(W_k) is close to erank(A_r) "can be used as criteria for
early stopping if a certain regularity is desired". Setting: a noisy ground truth A = L + E (L of rank
r = 2 with eigenvalues ~10 and ~6, E a symmetric Gaussian perturbation of spectral size ~1), the
estimation problem 1/2 ||W - A||_F^2, full-matrix GD from W_j(0) = alpha I. Gradient descent converges to
W_inf = A_+ (the PSD part of A: negative eigen-directions are never learned from alpha I, chou.decoupling),
whose distance to the rank-r projection P_r(A) is the norm of A's positive tail. Measured: for every k in the
predicted inner interval (predict_erank_intervals, delta = 0.01, from the eigenvalues of A clipped at 0)

    rho = max_{k in I_inner} ||W_k - P_r(A)||_F / ||W_inf - P_r(A)||_F,

max over 16 instances (N = 2, 3). Control: depth 1 (plain GD on W, the linear model), stopped at its best
iteration anywhere: its iterates shrink every direction alike and never get close to P_r(A).
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement

D, RANK = 8, 2
SIGNAL = (10.0, 6.0)
NOISE = 0.5
DELTA = 0.01
CONFIGS = {2: 0.01, 3: 0.05}   # depth -> alpha
PER_DEPTH = 8
STEP_FRACTION = 0.5
DEPTH1_STEP, DEPTH1_STEPS = 0.5, 200


@lru_cache(maxsize=16)
def _instances(seed: int, depth: int):
    from dmf_verify.numerics.chou import StepSizeWarning, convergence_step_bound, predict_erank_intervals

    rng = np.random.default_rng([seed, depth, 91])
    out = []
    for _ in range(PER_DEPTH):
        q, _r = np.linalg.qr(rng.standard_normal((D, D)))
        clean = (q[:, :RANK] * (np.asarray(SIGNAL) * rng.uniform(0.9, 1.1, RANK))) @ q[:, :RANK].T
        g = rng.standard_normal((D, D))
        a = clean + NOISE * (g + g.T) / np.sqrt(2 * D)
        a = 0.5 * (a + a.T)
        lam, v = np.linalg.eigh(a)
        lam, v = lam[::-1], v[:, ::-1]
        eta = STEP_FRACTION * convergence_step_bound(lam[0], depth)
        with warnings.catch_warnings():
            warnings.simplefilter("error", StepSizeWarning)
            pred = predict_erank_intervals(np.clip(lam, 0.0, None), depth, alpha=CONFIGS[depth], step=eta, rank=RANK,
                                           delta=DELTA, n_levels=20)
        proj = (v[:, :RANK] * lam[:RANK]) @ v[:, :RANK].T
        limit = (v * np.clip(lam, 0.0, None)) @ v.T
        out.append({"A": a, "clean": clean, "proj": proj, "limit": limit, "eta": eta, "inner": pred.inner,
                    "spectrum": lam})
    return out


def _errors(w, refs):
    return np.linalg.norm((w - refs).reshape(w.shape[0], -1), axis=1)


def _measure(seed: int, *, depth1: bool = False) -> Measurement:
    from dmf_verify.numerics.batched import BatchedFrobenius, batched_descent

    cases, info = {}, {}
    for depth, alpha in CONFIGS.items():
        inst = _instances(seed, depth)
        a = np.stack([x["A"] for x in inst])
        proj = np.stack([x["proj"] for x in inst])
        clean = np.stack([x["clean"] for x in inst])
        base = np.array([np.linalg.norm(x["limit"] - x["proj"]) for x in inst])
        base_clean = np.array([np.linalg.norm(x["limit"] - x["clean"]) for x in inst])
        if any(x["inner"] is None for x in inst):
            raise RuntimeError("no predicted inner interval for an instance")  # pragma: no cover - guarded by design
        eye = np.broadcast_to(np.eye(D), a.shape)
        if depth1:
            fs, eta, steps = [alpha * eye.copy()], DEPTH1_STEP, DEPTH1_STEPS
        else:
            fs = [alpha * eye.copy() for _ in range(depth)]
            eta, steps = np.array([x["eta"] for x in inst]), max(x["inner"][1] for x in inst)
        def observe(w, proj=proj, clean=clean):
            return {"to_proj": _errors(w, proj), "to_clean": _errors(w, clean)}

        res = batched_descent(BatchedFrobenius(a), fs, step=eta, steps=steps, record_every=1, observe=observe)
        to_proj, to_clean = res.history["to_proj"], res.history["to_clean"]
        per = []
        for i, x in enumerate(inst):
            if depth1:
                rho = float(to_proj[:, i].min() / base[i])
                clean_mid = float(to_clean[:, i].min() / base_clean[i])
            else:
                lo, hi = x["inner"]
                rho = float(to_proj[lo:hi + 1, i].max() / base[i])
                mid = round(float(np.sqrt(lo * hi)))
                clean_mid = float(to_clean[mid, i] / base_clean[i])
            per.append(rho)
            info.setdefault(f"N={depth}", []).append({"rho": rho, "clean_ratio": clean_mid, "inner": x["inner"],
                                                      "tail_norm": float(base[i])})
        cases[f"N={depth}"] = max(per) if not depth1 else min(per)
    return Measurement(cases=cases, details={"instances": info, "delta": DELTA, "noise": NOISE, "d": D, "r": RANK,
                                             "model": "depth 1, best iteration (control)" if depth1 else "depth N",
                                             "clean_ratio": "||W - L|| / ||W_inf - L|| (clean L; at the geometric "
                                                            "midpoint of I_inner, or the best k for depth 1)"})


CLAIM = Claim(
    id="chou.early_stopping.denoise",
    source="Chou et al., abstract ('those intervals can be used as criteria for early stopping')",
    statement=r"\max_{k\in I_{\rm inner}}\frac{\|W_k - P_r(A)\|_F}{\|W_\infty - P_r(A)\|_F}\ \ll 1,\quad "
              r"A = L + E\ (\text{noisy}),\ W_\infty = A_+",
    verify=_measure,
    control=lambda seed: _measure(seed, depth1=True),
    tolerance=0.45,
    tolerance_reason="an ordering made quantitative: the statement 'closer than training to convergence' is rho < 1; "
                     "inside the inner interval erank(W_k) is within 0.01 of erank(A_r), which bounds how much of "
                     "the tail has been learned. Measured over seeds 0..19 (320 instances): worst rho 0.141 (seed "
                     "11; 3.2x below 0.45); depth-1 "
                     "control at least 1.05 (the worst instance per depth for the claim, the best for the control)",
    control_description="depth 1 (GD on W itself, the linear model) stopped at its best iteration",
    notes=f"d = {D}, r = {RANK}, L = Q diag(10, 6) Q^T jittered +-10%, E = {NOISE} (G + G^T)/sqrt(2d); N = 2 "
          f"(alpha = 0.01) and N = 3 (alpha = 0.05), eta = 0.5 eta*, 8 instances each per seed. The distance to the "
          "clean L is reported (clean_ratio): early stopping removes the noise outside the top-r eigenspace only, so "
          "that ratio is ~0.5-0.95, not small.",
)
