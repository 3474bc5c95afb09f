"""Lemma 4 scalar ODE: float64 closed forms, blow-up times, DOP853, bad input, and the sympy derivations."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmf_verify.numerics import scalar_ode as so
from dmf_verify.errors import BlowUpError, DMFError, IntegrationError, InvalidArgument, NonFiniteError

depths = st.integers(min_value=1, max_value=6)
magnitudes = st.floats(min_value=0.2, max_value=2.0)
signs = st.sampled_from([1.0, -1.0])
params = st.floats(min_value=-1.5, max_value=1.5)


@st.composite
def forcings(draw):
    kind = draw(st.sampled_from(so.KINDS))
    if kind == "constant":
        return so.constant(draw(params))
    if kind == "affine":
        return so.affine(draw(params), draw(params))
    return so.cosine(draw(params), draw(params), draw(st.floats(min_value=0.5, max_value=4.0)))


@given(n=depths, mag=magnitudes, s=signs, g=forcings())
def test_closed_form_matches_dop853(n, mag, s, g):
    x0 = s * mag
    T = so.blowup_time(x0, n, g, t_max=1.0)
    t_end = min(1.0, 0.7 * T)
    ts = np.linspace(0.0, t_end, 5)
    closed = so.solution(ts, x0, n, g)
    num = so.integrate_dop853(ts, x0, n, g, rtol=1e-12)
    rel = np.max(np.abs(closed - num) / np.maximum(np.abs(closed), abs(x0)))  # N = 1 may cross zero
    assert rel < 1e-8
    if n >= 2:  # Lemma 4: sign preserved for N >= 2
        assert np.all(np.sign(closed) == np.sign(x0))


@given(n=st.integers(3, 6), mag=magnitudes, s=signs, g=forcings())
def test_blowup_time_is_where_the_base_vanishes(n, mag, s, g):
    x0 = s * mag
    T = so.blowup_time(x0, n, g, t_max=50.0)
    if not T < 50.0:  # (affine g with tiny b: T ~ 1/b is right, but G(T) cancels catastrophically in float)
        return
    K = so.blowup_threshold(x0, n)
    assert s * float(g.G(T)) == pytest.approx(K, rel=1e-9, abs=1e-12)
    # strictly before T the solution exists, at T it does not
    so.solution([T * (1 - 1e-6)], x0, n, g)
    with pytest.raises(BlowUpError):
        so.solution([T], x0, n, g)


@pytest.mark.parametrize("n", [3, 4, 5])
@pytest.mark.parametrize("s", [1.0, -1.0])
def test_blowup_time_constant_g_closed_form(n, s):
    x0, g0 = 0.7 * s, 1.3 * s
    p = 1 - 2 / n
    assert so.blowup_time(x0, n, g0) == pytest.approx(abs(x0) ** (-p) / (p * abs(g0)), rel=1e-15)
    assert so.blowup_time(x0, n, -g0) == math.inf  # g drives |x| down: no blow-up


def test_blowup_time_dop853_event_matches_closed_form():
    for n, x0, g in ((3, 0.8, 1.1), (5, -0.6, -0.9)):
        est = so.blowup_time_dop853(x0, n, g)
        T = so.blowup_time(x0, n, g)
        assert abs(est.estimate - T) / T < 1e-10
        assert est.t_event < T


def test_no_blowup_for_n_le_2():
    assert so.blowup_time(0.5, 2, 10.0) == math.inf
    assert so.blowup_time(0.5, 1, 10.0) == math.inf
    with pytest.raises(InvalidArgument, match="does not blow up"):
        so.blowup_time_dop853(0.5, 2, 1.0)


def test_past_blowup_error_names_the_time():
    T = so.blowup_time(0.5, 3, 1.0)
    with pytest.raises(BlowUpError) as exc:
        so.solution([0.1, 2 * T], 0.5, 3, 1.0)
    assert exc.value.t == pytest.approx(T)
    assert f"{T:.10g}"[:8] in str(exc.value)
    with pytest.raises(BlowUpError):
        so.integrate_dop853([T + 1], 0.5, 3, 1.0)
    with pytest.raises(BlowUpError):
        so.solution_mp(T + 1, "0.5", 3, 1.0)


@pytest.mark.parametrize("bad, err", [
    ({"x0": 0.0}, InvalidArgument), ({"x0": "0"}, InvalidArgument), ({"depth": 0}, InvalidArgument),
    ({"depth": -2}, InvalidArgument), ({"depth": 2.5}, InvalidArgument), ({"x0": float("nan")}, NonFiniteError),
    ({"x0": float("inf")}, NonFiniteError), ({"x0": "abc"}, InvalidArgument),
])
def test_bad_problem_input(bad, err):
    kw = {"x0": 0.5, "depth": 3} | bad
    with pytest.raises(err):
        so.solution([0.1], kw["x0"], kw["depth"], 1.0)
    with pytest.raises(err):
        so.blowup_time(kw["x0"], kw["depth"], 1.0)
    with pytest.raises(DMFError):
        so.solution_mp(0.1, kw["x0"], kw["depth"], 1.0)


def test_bad_forcing_and_times():
    with pytest.raises(NonFiniteError):
        so.constant(float("nan"))
    with pytest.raises(NonFiniteError):
        so.affine(1.0, float("inf"))
    with pytest.raises(InvalidArgument):
        so.cosine(1.0, 1.0, 0.0)
    with pytest.raises(InvalidArgument):
        so.Forcing("quadratic", 1.0)
    with pytest.raises(InvalidArgument):
        so.solution([-0.1], 0.5, 3, 1.0)
    with pytest.raises(NonFiniteError):
        so.solution([float("nan")], 0.5, 3, 1.0)
    with pytest.raises(InvalidArgument):
        so.blowup_time_dop853(0.5, 3, 1.0, remaining=2.0)
    with pytest.raises(IntegrationError):
        so.blowup_time_dop853(0.5, 3, -1.0, t_max=5.0)  # |x| decays: no blow-up before t_max


@given(g=forcings())
def test_forcing_G_is_the_integral_of_g(g):
    from scipy.integrate import quad

    for t in (0.3, 1.7):
        assert float(g.G(t)) == pytest.approx(quad(lambda s: float(g.g(s)), 0, t, epsabs=1e-13)[0], abs=1e-11)


def test_forcing_sympy_matches_float():
    import sympy as sp

    t = sp.Symbol("t")
    for g in (so.constant("0.7"), so.affine("0.5", "-0.25"), so.cosine("0.1", "0.9", "2.5")):
        assert float(g.sympy(t).subs(t, 0.8)) == pytest.approx(float(g.g(0.8)), rel=1e-14)
        assert sp.simplify(sp.diff(sp.integrate(g.sympy(t), (t, 0, t)), t) - g.sympy(t)) == 0


# --- derivations (exact) ------------------------------------------------------------------------
def test_lemma4_derivation_verified():
    from dmf_verify.theory.scalar_ode import lemma4

    d = lemma4()
    assert d.verified and len(d.checks) >= 10
    assert "Lemma 4" in d.to_latex() and "begin{align*}" in d.to_latex()


def test_eq11_and_asymptote_derivations_verified():
    from dmf_verify.theory.scalar_ode import asymptote_depth, eq11

    for d in (eq11(), asymptote_depth()):
        assert d.verified, {k: v for k, v in d.checks.items() if not v}


def test_wrong_exponent_is_not_a_solution():
    """Negative control for the exact check: the off-by-one exponent q = 1 - 1/N leaves a residual."""
    import sympy as sp

    from dmf_verify.theory.scalar_ode import _zero

    t = sp.Symbol("t", real=True)
    N, m, B = (sp.Symbol(n, positive=True) for n in ("N", "m", "B"))
    g, G = sp.Function("g", real=True)(t), sp.Function("G", real=True)(t)
    q = 1 - 1 / N
    x = (m ** (-q) - q * G) ** (-1 / q)
    res = sp.diff(x, t).subs(sp.Derivative(G, t), g) - g * (x**2) ** (1 - 1 / N)
    assert _zero(res.subs(G, (m ** (-q) - B) / q)) != 0


def test_asymptote_decreases_iff_condition_numerically():
    """Closed-form asymptote A_N = (a^-p - alpha b^-p)^(-1/p): decreasing for a <= b, increasing for a = 100 b."""
    def A(n, alpha, a, b):
        p = 1 - 2 / n
        return (a ** (-p) - alpha * b ** (-p)) ** (-1 / p)

    rng = np.random.default_rng(3)
    for _ in range(50):
        a = rng.uniform(0.1, 1.0)
        b, alpha = a * rng.uniform(1.0, 4.0), rng.uniform(0.05, 0.95)
        vals = [A(n, alpha, a, b) for n in range(3, 12)]
        assert all(x > y for x, y in itertools.pairwise(vals))
    vals = [A(n, 0.01, 1.0, 0.01) for n in range(3, 9)]
    assert all(x < y for x, y in itertools.pairwise(vals))
