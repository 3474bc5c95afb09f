"""One source of truth per formula: every hand-written formula agrees with the one compiled from its
derivation (dmf_verify.theory.compiled, sympy.lambdify) at random points, to ~1e-13 relative in float64
and ~1e-25 in mpmath.

Coverage (derivation: formula -> hand-written code):
  theorem3: rate                       -> numerics.rates.singular_value_rates, spectral_flow.handwritten_rate
  lemma3: exponents                    -> numerics.flow.default_exponents, end_to_end_velocity
  lemma2: rotation_u/v, projection     -> numerics.singular_vectors.lemma2_rates
  lemma4: solution*, blowup*           -> numerics.scalar_ode (float64, mp), precision/certificate.py (arb)
  eq11: law*                           -> checks/claims/arora2019/eq11.law
  chou_decoupling: recursion           -> numerics.chou.recursion_step
  balancedness: gd_change              -> one numerics GD step (model.imbalance)
  implicit_balancing: gd_change        -> numerics.asymmetric (asymmetric_gd + imbalance)
  gd_error_expansion: weights_L        -> numerics.richardson.tableau
  factor_gradients: loss_gradient, factor_gradients_N, product_N
                                       -> numerics.losses.*.gradient, model.factor_gradients_from, model.product,
                                          numerics.mp_model (mp)
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from mpmath import mp

from dmf_verify.theory import compiled

RTOL = 1e-13
SEEDS = range(5)


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(np.max(np.abs(b)), 1e-300)
    return float(np.max(np.abs(a - b)) / scale)


# --- Theorem 3, Lemma 3, Lemma 2 -----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_theorem3_rate(seed):
    from dmf_verify.numerics.rates import singular_value_rates
    from dmf_verify.numerics.spectral_flow import handwritten_rate

    rng = np.random.default_rng(seed)
    rate = compiled.theorem3_rate()
    w, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    proj = np.einsum("ir,ij,jr->r", u, g, vt.T)
    for n in range(1, 7):
        want = [rate(n, si, pi) for si, pi in zip(s, proj)]
        assert _rel(singular_value_rates(w, g, n)[1], want) < RTOL
        assert _rel([handwritten_rate(n, si, pi) for si, pi in zip(s, proj)], want) < RTOL
    rate_mp = compiled.theorem3_rate("mpmath")
    with mp.workdps(40):
        got = rate_mp(3, mpmath.mpf("0.7"), mpmath.mpf("0.3"))
        assert abs(got + 3 * mpmath.mpf("0.49") ** (mpmath.mpf(2) / 3) * mpmath.mpf("0.3")) < mpmath.mpf(10) ** -38


def _mp_psd_power(w, q, *, left: bool):
    """(W W^T)^q (left) or (W^T W)^q, the Gram matrix formed in mp and powered by an mp eigendecomposition
    (eigenvalues below 1e-40 max are exact zeros: the Gram matrix of a rectangular W is singular)."""
    with mp.workdps(60):
        W = mpmath.matrix(w.tolist())
        a = W * W.T if left else W.T * W
        ev, Q = mpmath.eigsy(a)
        top = max(abs(x) for x in ev)
        d = [mpmath.mpf(0) if abs(x) < mpmath.mpf(10) ** -40 * top else x ** q for x in ev]
        return np.array((Q * mpmath.diag(d) * Q.T).tolist(), dtype=float)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3)])
def test_lemma3_velocity(seed, shape):
    """end_to_end_velocity (SVD powers) against the compiled exponents with mp eigendecomposition powers."""
    from dmf_verify.numerics.flow import default_exponents, end_to_end_velocity

    ex = compiled.lemma3_exponents()
    rng = np.random.default_rng(seed)
    w, g = rng.standard_normal(shape), rng.standard_normal(shape)
    for n in range(1, 6):
        ref = np.zeros(shape)
        for j in range(1, n + 1):
            a, b = ex(j, n)
            assert (a, b) == pytest.approx(default_exponents(j, n), abs=1e-15)
            left = np.eye(shape[0]) if a == 0 else _mp_psd_power(w, mpmath.mpf(a), left=True)
            right = np.eye(shape[1]) if b == 0 else _mp_psd_power(w, mpmath.mpf(b), left=False)
            ref -= left @ g @ right
        assert _rel(end_to_end_velocity(w, g, n), ref) < 1e-12


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (3, 2)])
def test_lemma2_rates(seed, shape):
    from dmf_verify.numerics.singular_vectors import lemma2_rates

    rng = np.random.default_rng(seed)
    w, g = rng.standard_normal(shape), rng.standard_normal(shape)
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    for n in range(1, 6):
        du, dv = compiled.lemma2_rates(u, s, vt.T, g, n)
        hu, hv = lemma2_rates(u, s, vt.T, g, n)
        assert _rel(hu, du) < 1e-12 and _rel(hv, dv) < 1e-12
        hu0, hv0 = lemma2_rates(u, s, vt.T, g, n, projection=False)
        du0, dv0 = compiled.lemma2_rates(u, s, vt.T, g, n, projection=False)
        assert _rel(hu0, du0) < 1e-12 and _rel(hv0, dv0) < 1e-12


def test_lemma2_rates_mp_matches_float():
    rng = np.random.default_rng(7)
    w, g = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    with mp.workdps(40):
        U, V, G = (mpmath.matrix(x.tolist()) for x in (u, vt.T, g))
        du, dv = compiled.lemma2_rates(U, [mpmath.mpf(x) for x in s], V, G, 3, backend="mpmath")
    fu, fv = compiled.lemma2_rates(u, s, vt.T, g, 3)
    assert _rel(np.array(du.tolist(), dtype=float), fu) < 1e-13 and _rel(np.array(dv.tolist(), dtype=float), fv) < 1e-13


# --- Lemma 4, eqs. 10-11 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_lemma4_solution_and_blowup(seed):
    from dmf_verify.numerics import scalar_ode as so

    rng = np.random.default_rng(seed)
    sol_f, sol_m = compiled.lemma4_solution(), compiled.lemma4_solution("mpmath")
    thr = compiled.function("lemma4", "blowup_threshold")
    btime = compiled.function("lemma4", "blowup_time")
    for n in range(1, 6):
        for sign in (1, -1):
            x0 = sign * rng.uniform(0.3, 1.5)
            g = so.constant(f"{-sign * rng.uniform(0.2, 1.0):.6f}")   # drives |x| down: no blow-up
            t = rng.uniform(0.1, 1.0)
            G = float(g.G(t))
            assert _rel(so.solution(t, x0, n, g), sol_f(n, x0, G)) < RTOL
            with mp.workdps(40):
                want = sol_m(n, mpmath.mpf(x0), g.G_mp(mpmath.mpf(t)))
                got = so.solution_mp(t, x0, n, g, dps=40)
                assert abs(got - want) < mpmath.mpf(10) ** -36 * abs(want)
            if n >= 3:
                assert _rel(so.blowup_threshold(x0, n), thr(n, abs(x0))) < RTOL
                gup = so.constant(f"{sign * 0.8:.6f}")
                assert _rel(so.blowup_time(x0, n, gup), btime(n, abs(x0), 0.8)) < RTOL


def test_lemma4_arb_enclosures_match_the_certificate():
    from dmf_verify.checks.claims.precision import certificate as cert

    flint = pytest.importorskip("flint")
    btime = compiled.function("lemma4", "blowup_time", "arb")
    old = flint.ctx.prec
    flint.ctx.prec = cert.ARB_PREC
    try:
        for n in (3, 4, 5):
            x0, g = Fraction(7, 10), Fraction(13, 10)
            ours = btime(flint.arb(n), flint.arb(flint.fmpq(7, 10)), flint.arb(flint.fmpq(13, 10)))
            theirs = cert.arb_blowup_time(x0, n, g)
            assert ours.overlaps(theirs) and float(abs(ours.mid() - theirs.mid())) < 1e-30
    finally:
        flint.ctx.prec = old


@pytest.mark.parametrize("seed", SEEDS)
def test_eq11_law(seed):
    from dmf_verify.checks.claims.arora2019.eq11 import law

    rng = np.random.default_rng(seed)
    ours = compiled.eq11_law("mpmath")
    with mp.workdps(40):
        for n in range(1, 7):
            alpha, a, b, sq = (mpmath.mpf(f"{x:.6f}") for x in rng.uniform(0.2, 0.9, size=4))
            want = ours(n, alpha, a, b, sq)
            assert abs(law(n, alpha, a, b, sq) - want) < mpmath.mpf(10) ** -30 * abs(want)


# --- Chou recursion, balancing identities ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_chou_recursion(seed):
    from dmf_verify.numerics.chou import recursion_step

    rng = np.random.default_rng(seed)
    f = compiled.function("chou_decoupling", "recursion")
    w, lam = rng.uniform(0.1, 1.2, size=6), rng.uniform(0.5, 2.0, size=6)
    for n in range(1, 6):
        assert _rel(recursion_step(w, lam, n, 0.01), f(w, lam, 0.01, n)) < RTOL


@pytest.mark.parametrize("seed", SEEDS)
def test_balancing_identity_of_one_gd_step(seed):
    from dmf_verify.checks.instances import sensing_loss
    from dmf_verify.numerics.descent import gradient_descent
    from dmf_verify.numerics.model import factor_gradients, imbalance, random_factors

    f = compiled.function("balancedness", "gd_change")
    loss = sensing_loss((4, 3), 6, seed=seed)
    fs = random_factors([3, 5, 2, 4], scale=1.0, seed=seed)
    grads = factor_gradients(fs, loss)
    new = gradient_descent(loss, fs, step=0.05, steps=1).factors
    for j, (a, b) in enumerate(zip(imbalance(new), imbalance(fs))):
        assert _rel(a - b, f(0.05, grads[j + 1], grads[j])) < 1e-9   # a difference of O(1) matrices


def test_implicit_balancing_identity():
    from dmf_verify.numerics.asymmetric import asymmetric_gd, imbalance, sensing_problem, small_init

    f = compiled.function("implicit_balancing", "gd_change")
    prob = sensing_problem(5, 4, 2, 30, seed=1)
    u, v = small_init(5, 4, 3, 0.5, seed=2)
    gu, gv = prob.gradients(u, v)
    res = asymmetric_gd(prob, u, v, step=0.05, steps=1)
    assert _rel(imbalance(res.u, res.v) - imbalance(u, v), f(0.05, gu, gv)) < 1e-9


# --- Richardson, gradients ----------------------------------------------------------------------------------------
def test_richardson_weights_match_the_tableau():
    from dmf_verify.numerics.richardson import tableau

    for level in range(1, 9):
        w = compiled.richardson_weights(level)
        unit = [np.eye(level + 1)[i] for i in range(level + 1)]
        assert _rel(tableau(unit)[level][level], w) < RTOL


@pytest.mark.parametrize("seed", SEEDS)
def test_loss_and_factor_gradients(seed):
    from dmf_verify.checks.dynamics_reference import compiled_gradient
    from dmf_verify.checks.instances import completion_loss, sensing_loss
    from dmf_verify.numerics.losses import FrobeniusLoss
    from dmf_verify.numerics.model import factor_gradients_from, product, random_factors

    rng = np.random.default_rng(seed)
    losses = [sensing_loss((4, 3), 7, seed=seed), completion_loss((4, 3), 6, seed=seed),
              FrobeniusLoss(rng.standard_normal((4, 3)))]
    w = rng.standard_normal((4, 3))
    for loss in losses:
        assert _rel(loss.gradient(w), compiled_gradient(loss)(w)) < RTOL
    for depth in range(1, 6):
        dims = [3] + list(rng.integers(2, 5, size=depth - 1)) + [4]
        fs = random_factors(dims, scale=1.0, seed=seed + depth)
        g = rng.standard_normal((4, 3))
        ours = compiled.factor_gradients(depth)(*fs, g)
        ours = ours if isinstance(ours, (list, tuple)) else [ours]
        for a, b in zip(factor_gradients_from(fs, g), ours):
            assert _rel(a, np.asarray(b)) < RTOL
        assert _rel(product(fs), np.asarray(compiled.product(depth)(*fs))) < RTOL


def test_mp_model_gradients():
    from dmf_verify.checks.dynamics_reference import mp_gradient
    from dmf_verify.checks.instances import completion_loss, sensing_loss
    from dmf_verify.numerics import mp_model as M
    from dmf_verify.numerics.model import random_factors

    rng = np.random.default_rng(11)
    with mp.workdps(40):
        for loss in (sensing_loss((3, 2), 6, seed=1), completion_loss((3, 2), 4, seed=2)):
            q, ref = M.quadratic_loss(loss), mp_gradient(loss)
            W = M.to_mp(rng.standard_normal((3, 2)))
            ours = ref(mpmath.matrix(W))
            assert max(abs(a - b) for a, b in zip(M.flatten(q.gradient(W)), list(ours))) < mpmath.mpf(10) ** -35
        fs = [M.to_mp(f) for f in random_factors([2, 3, 2, 3], scale=1.0, seed=3)]
        G = M.to_mp(rng.standard_normal((3, 2)))
        ours = compiled.factor_gradients(3, "mpmath")(*[mpmath.matrix(f) for f in fs], mpmath.matrix(G))
        for a, b in zip(M.factor_gradients(fs, G), ours):
            assert max(abs(x - y) for x, y in zip(M.flatten(a), list(b))) < mpmath.mpf(10) ** -35
