"""Property-based agreement of the dynamics (hypothesis): over depth, shape, loss (sensing, completion,
the Chou et al. estimation loss), balanced/unbalanced init and seed,

* the compiled Lemma 2 and Theorem 3 agree with the hand-written numerics at the instance's W(0);
* the spectral flow (sigma, U, V) reconstructs the factor-level flow's W(t) (balanced inits);
* Richardson-extrapolated gradient descent matches the flow of the compiled gradients to >= 8 digits,
  and its first error coefficient matches e_1(T).

A failure shrinks to a one-line ``DynamicsInstance(...)`` reproducer (dmf_verify.checks.strategies_dynamics).
Example counts follow the DMF_HYPOTHESIS_PROFILE profile (tests/conftest.py).
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, note

from dmf_verify.checks.strategies_dynamics import DynamicsInstance, dynamics_instances


def _rel(a, b):
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(b))


@given(dynamics_instances())
def test_compiled_rates_match_numerics_at_w0(inst: DynamicsInstance):
    from dmf_verify.numerics.model import product
    from dmf_verify.numerics.rates import singular_value_rates
    from dmf_verify.numerics.singular_vectors import lemma2_rates
    from dmf_verify.theory import compiled

    note(inst.reproducer())
    loss, fs = inst.make_loss(), inst.factors()
    w = product(fs)
    g = loss.gradient(w)
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    if s.min() < 1e-3 * s.max() or np.min(np.diff(np.sort(np.abs(s) ** (2 / inst.depth)))) < 1e-3 * s.max():
        return   # Lemma 2 undefined or ill-conditioned at (near-)repeated or zero singular values
    du, dv = compiled.lemma2_rates(u, s, vt.T, g, inst.depth)
    hu, hv = lemma2_rates(u, s, vt.T, g, inst.depth)
    assert np.abs(du - hu).max() <= 1e-10 * max(np.abs(hu).max(), 1e-300)
    assert np.abs(dv - hv).max() <= 1e-10 * max(np.abs(hv).max(), 1e-300)
    rate = compiled.theorem3_rate()
    proj = np.einsum("ir,ij,jr->r", u, g, vt.T)
    assert np.allclose([rate(inst.depth, a, b) for a, b in zip(s, proj)], singular_value_rates(w, g, inst.depth)[1],
                       rtol=1e-12, atol=1e-300)


@given(dynamics_instances(inits=("balanced",), max_depth=4))
def test_spectral_flow_reconstructs_the_factor_flow(inst: DynamicsInstance):
    from dmf_verify.numerics.flow import integrate_factor_flow
    from dmf_verify.numerics.model import product
    from dmf_verify.numerics.spectral_flow import integrate_spectral_flow
    from dmf_verify.theory import compiled

    note(inst.reproducer())
    loss, fs = inst.make_loss(), inst.factors()
    times = [0.0, 0.1, 0.2]
    grid = integrate_factor_flow(loss, fs, np.linspace(0.0, 0.2, 21), rtol=1e-10, atol=1e-12)
    gaps = []
    for w in grid.products:   # the spectral state exists while the singular values stay distinct and positive
        s = np.linalg.svd(w, compute_uv=False)
        p = np.sort(s ** (2.0 / inst.depth))
        gaps.append(min(np.min(np.diff(p)) if p.size > 1 else np.inf, p[0]) / p[-1])
    assume(min(gaps) > 0.05)
    fac = integrate_factor_flow(loss, fs, times, rtol=1e-12, atol=1e-14)
    sp = integrate_spectral_flow(loss.gradient, product(fs), inst.depth, times, sigma_rate=compiled.theorem3_rate(),
                                 vector_rates=compiled.lemma2_rates, rtol=1e-12, atol=1e-14)
    err = max(_rel(a, b) for a, b in zip(sp.products, fac.products))
    note(f"max relative distance {err:.2e}")
    assert err < 1e-9


@given(dynamics_instances(max_depth=4, max_dim=3))
def test_richardson_extrapolated_gd_matches_the_flow(inst: DynamicsInstance):
    from dmf_verify.checks.dynamics_reference import first_coefficient
    from dmf_verify.numerics.descent import gradient_descent
    from dmf_verify.numerics.richardson import column_errors, tableau

    note(inst.reproducer())
    loss, fs = inst.make_loss(), inst.factors()
    T = 0.0625
    y, e1 = first_coefficient(loss, fs, T, rtol=1e-13, atol=1e-15)
    vals, firsts = [], []
    for i in range(8):
        k = 4 * 2**i
        v = np.concatenate([f.ravel() for f in gradient_descent(loss, fs, step=T / k, steps=k).factors])
        vals.append(v)
        firsts.append((v - y) / (T / k))
    lim = column_errors(tableau(vals), y)[-1][-1]
    c1 = column_errors(tableau(firsts), e1)[-1][-1]
    note(f"limit {lim:.2e}, first coefficient {c1:.2e}")
    assert lim < 1e-8 and c1 < 1e-6
