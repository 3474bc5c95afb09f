"""Lemma 3 under approximately balanced initialization (Arora et al. 2019, Section 3: "Equation (5) is
satisfied approximately in the common setting of near-zero initialization").

Lemma 3's end-to-end ODE is exact for balanced factors. For factors with imbalance
D_j = W_{j+1}^T W_{j+1} - W_j W_j^T (conserved by gradient flow) the product's velocity differs from
Lemma 3's by terms linear in the D_j, so over a fixed horizon the deviation of the product from the
Lemma 3 solution started at the same product is O(max_j ||D_j||). Measured as a scaling law: the
factor flow (DOP853 on the factors) from a balanced init perturbed by eps * (random direction),
eps = 1e-2 .. 1e-4, against the Lemma 3 ODE (DOP853 on W) from the same product; the fitted log-log
slope of the deviation against the imbalance must be 1 (95% interval), for depths 2, 3, 4.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dmf_verify.checks.claim import Claim, Measurement

SHAPE = (5, 3)
HIDDEN = [4, 6, 3]
DEPTHS = (2, 3, 4)
EPSILONS = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4)
TIMES = np.linspace(0.0, 1.0, 6)
RTOL, ATOL = 1e-11, 1e-13


def _wrong_exponents(j, n):  # the off-by-one exponents of arora2019.lemma3's control
    return j / n, (n - j) / n


@lru_cache(maxsize=16)
def _deviations(seed: int, depth: int, wrong: bool = False) -> tuple:
    from dmf_verify.checks.instances import balanced_instance, sensing_loss
    from dmf_verify.numerics.flow import integrate_end_to_end_flow, integrate_factor_flow
    from dmf_verify.numerics.model import imbalance_norm, product

    loss = sensing_loss(SHAPE, 8, seed=seed)
    fs = balanced_instance(SHAPE, depth, seed=seed + depth, hidden=HIDDEN[: depth - 1])
    rng = np.random.default_rng([seed, depth, 31])
    dirs = [rng.standard_normal(f.shape) for f in fs]
    dirs = [d / np.linalg.norm(d) for d in dirs]
    opts = {"exponents": _wrong_exponents} if wrong else {}
    imb, dev, ratio = [], [], []
    for eps in EPSILONS:
        g = [f + eps * d for f, d in zip(fs, dirs)]
        fac = integrate_factor_flow(loss, g, TIMES, rtol=RTOL, atol=ATOL)
        e2e = integrate_end_to_end_flow(loss, product(g), depth, TIMES, rtol=RTOL, atol=ATOL, **opts)
        dv = max(float(np.linalg.norm(a - b) / np.linalg.norm(b)) for a, b in zip(e2e.products, fac.products))
        i = imbalance_norm(g)
        imb.append(i)
        dev.append(dv)
        ratio.append(dv / i)
    return tuple(imb), tuple(dev), tuple(ratio)


def _measure(seed: int, *, control: bool = False) -> Measurement:
    from dmf_verify.numerics.scaling import fit_slope

    cases, fits = {}, {}
    for n in DEPTHS:
        imb, dev, ratio = _deviations(seed, n)
        f = fit_slope(imb, dev)
        fits[f"N={n}"] = {**f.as_dict(), "imbalance": imb, "deviation": dev, "deviation_over_imbalance": ratio}
        if control:
            cases[f"quadratic N={n}"] = f.exclusion(2.0)  # "first-order exact": deviation ~ imbalance^2
            imb_w, dev_w, _ = _deviations(seed, n, wrong=True)
            fw = fit_slope(imb_w, dev_w)
            fits[f"off-by-one exponents N={n}"] = fw.as_dict()
            cases[f"off-by-one exponents N={n}"] = fw.deviation(1.0)
        else:
            cases[f"N={n}"] = f.deviation(1.0)
    return Measurement(cases=cases, details={"fits": fits, "epsilons": EPSILONS, "horizon": float(TIMES[-1]),
                                             "shape": SHAPE, "hidden": HIDDEN, "rtol": RTOL, "seed": seed})


def _derive():
    from dmf_verify.theory.end_to_end import lemma3  # the end-to-end equation the factor flow is compared with

    return lemma3()


CLAIM = Claim(
    id="arora2019.lemma3.approx_balanced",
    source="Arora et al. 2019, Lemma 3 and Section 3 (Equation (5) 'satisfied approximately' near zero init)",
    statement=r"\max_{t\le T}\frac{\|W_{\rm factors}(t) - W_{\rm Lemma 3}(t)\|_F}{\|W_{\rm factors}(t)\|_F} "
              r"= \Theta\big(\max_j\|W_{j+1}^\top W_{j+1} - W_jW_j^\top\|_F\big)\quad(\text{slope } 1)",
    verify=_measure,
    control=lambda seed: _measure(seed, control=True),
    tolerance=0.03,
    tolerance_reason="error = the farthest end of the 95% interval of the fitted log-log slope of the deviation "
                     "against the imbalance (5 eps from 1e-2 to 1e-4) relative to 1, max over N = 2, 3, 4. The "
                     "deviation is linear in D plus O(D^2): the local slope tends to 1 like eps; both ODEs at rtol "
                     "1e-11 add ~1e-9, far below the smallest deviation (~1e-6). Measured over seeds 0..19: worst "
                     "0.0084 (seed 9; 3.6x below 0.03); "
                     "control at least 0.496 (16x)",
    control_description="a quadratic law (deviation ~ imbalance^2, 'balancedness is first-order exact') and Lemma 3 "
                        "with off-by-one exponents (j/N, (N-j)/N) fitted the same way (min over both)",
    derive=_derive,
    notes="5x3 end-to-end matrix, hidden widths 4, 6, 3, 1/2-sum Gaussian sensing of a rank-1 target (8 "
          "measurements), balanced init from checks.instances.balanced_instance perturbed by eps times a unit-norm "
          "random direction per factor; horizon t = 1. The constant deviation/imbalance is reported per eps "
          "(details). The paper's remark concerns near-zero random init, where the imbalance is O(s^2) in the "
          "per-factor scale s, i.e. small in absolute terms but not relative to the factors; this claim measures "
          "the mechanism (deviation proportional to the imbalance), not a particular init.",
)
