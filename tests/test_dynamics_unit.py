"""Unit tests of the spectral flow, Richardson tableau, mp factorization and the layering rules."""

from __future__ import annotations

import itertools
import subprocess
import sys

import mpmath
import numpy as np
import pytest
from mpmath import mp

from dmf_verify.errors import InvalidArgument, UndefinedError


def test_spectral_state_needs_distinct_positive_singular_values():
    from dmf_verify.numerics.spectral_flow import initial_state, integrate_spectral_flow

    with pytest.raises(UndefinedError, match="distinct"):
        initial_state(np.diag([1.0, 1.0, 0.5]))
    with pytest.raises(UndefinedError, match="positive"):
        initial_state(np.diag([1.0, 0.5, 0.0]))
    with pytest.raises(InvalidArgument):
        integrate_spectral_flow(lambda w: w, np.diag([2.0, 1.0]), 0, [0.0, 1.0])


def test_spectral_flow_default_field_matches_factor_flow():
    """The hand-written default field (rates + singular_vectors) gives the same W(t) as the factor flow."""
    from dmf_verify.checks.instances import balanced_instance, sensing_loss
    from dmf_verify.numerics.flow import integrate_factor_flow
    from dmf_verify.numerics.model import product
    from dmf_verify.numerics.spectral_flow import integrate_spectral_flow

    loss = sensing_loss((4, 3), 8, seed=2)
    fs = balanced_instance((4, 3), 3, seed=2)
    sp = integrate_spectral_flow(loss.gradient, product(fs), 3, [0.0, 0.3])
    fac = integrate_factor_flow(loss, fs, [0.0, 0.3], rtol=1e-12, atol=1e-14)
    assert np.linalg.norm(sp.products[-1] - fac.products[-1]) < 1e-10 * np.linalg.norm(fac.products[-1])
    assert sp.orthonormality < 1e-10 and sp.sigmas.shape == (2, 3) and sp.U.shape == (2, 4, 3)


def test_mp_svd_reconstructs():
    from dmf_verify.numerics.spectral_flow import mp_svd

    rng = np.random.default_rng(0)
    for shape in ((3, 2), (2, 3), (3, 3)):
        with mp.workdps(40):
            w = mpmath.matrix(rng.standard_normal(shape).tolist())
            s, U, V = mp_svd(w)
            assert all(a > b for a, b in itertools.pairwise(s))
            assert mpmath.mnorm(U * mpmath.diag(s) * V.T - w, "F") < mpmath.mpf(10) ** -35


def test_tableau_orders_on_a_known_expansion():
    from dmf_verify.numerics.richardson import column_errors, measured_orders, tableau

    vals = [np.array([np.expm1(0.5 / 2**i) / (0.5 / 2**i)]) for i in range(7)]   # 1 + h/2 + h^2/6 + ...
    orders = measured_orders(column_errors(tableau(vals), np.array([1.0])))
    for j in range(4):
        assert abs(orders[j][-1] - (j + 1)) < 0.1
    with pytest.raises(InvalidArgument):
        tableau([])


def test_mp_tableau_keeps_the_precision():
    """In mp the Neville factors are exact: extrapolating exp(h) to h = 0 reaches 1e-30 (a float 1/3 caps ~1e-17)."""
    from dmf_verify.numerics.richardson import tableau

    with mp.workdps(50):
        vals = [[mpmath.exp(mpmath.mpf(1) / 2 ** (i + 3))] for i in range(16)]
        assert abs(tableau(vals)[-1][-1][0] - 1) < mpmath.mpf(10) ** -30


def test_mp_balanced_factors_are_balanced_to_working_precision():
    from dmf_verify.numerics import mp_model as M

    rng = np.random.default_rng(1)
    u, _ = np.linalg.qr(rng.standard_normal((3, 2)))
    v, _ = np.linalg.qr(rng.standard_normal((2, 2)))
    hidden = [np.linalg.qr(rng.standard_normal((3, 2)))[0], np.linalg.qr(rng.standard_normal((2, 2)))[0]]
    with mp.workdps(40):
        fs = M.balanced_factors(u, np.array([1.3, 0.4]), v, hidden)
        assert M.imbalance(fs) < mpmath.mpf(10) ** -35
        s = sorted(mpmath.svd_r(mpmath.matrix(M.product(fs)), compute_uv=False), reverse=True)
        assert abs(s[0] - mpmath.mpf(1.3)) < mpmath.mpf(10) ** -35


def test_mp_gd_matches_float_gd_for_a_few_steps():
    from dmf_verify.checks.instances import sensing_loss
    from dmf_verify.numerics import mp_model as M
    from dmf_verify.numerics.descent import gradient_descent
    from dmf_verify.numerics.model import random_factors

    loss = sensing_loss((3, 2), 6, seed=0)
    fs = random_factors([2, 3, 3], scale=1.0, seed=0)
    ref = gradient_descent(loss, fs, step=0.01, steps=20).factors
    with mp.workdps(30):
        got = M.gradient_descent(M.quadratic_loss(loss), [M.to_mp(f) for f in fs], step=0.01, steps=20)
    for a, b in zip(ref, got):
        assert np.allclose(a, M.to_float(b), rtol=1e-12, atol=1e-14)


def test_numerics_do_not_import_sympy_or_theory():
    code = ("import sys; import dmf_verify.numerics.spectral_flow, dmf_verify.numerics.richardson, "
            "dmf_verify.numerics.mp_model, dmf_verify.numerics.integrators.scipy_ode, "
            "dmf_verify.numerics.integrators.gbs, dmf_verify.numerics.flow, dmf_verify.numerics.precise, "
            "dmf_verify.numerics.scalar_ode; "
            "print(sorted(m for m in sys.modules if m == 'sympy' or m.startswith('dmf_verify.theory')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_compiled_refuses_an_unverified_derivation(monkeypatch, tmp_path):
    from dmf_verify.theory import catalog, compiled
    from dmf_verify.theory.derivation import Derivation

    def broken():
        import sympy as sp

        d = Derivation("broken", source="-")
        d.prove_zero("$x = 0$", sp.Symbol("x"))
        d.formula("f", (), sp.Integer(1))
        return d

    monkeypatch.setenv("DMF_VERIFY_CACHE", "off")
    monkeypatch.setitem(catalog.DERIVATIONS, "broken_test", "tests.test_dynamics_unit:_unused")
    monkeypatch.setattr(catalog, "builder", lambda name: broken)
    compiled.formulas.cache_clear()
    try:
        with pytest.raises(UndefinedError, match="not verified"):
            compiled.formula("broken_test", "f")
    finally:
        compiled.formulas.cache_clear()
