"""dmf_verify.numerics.precise: accuracy at 10-45 digits, precision scoping (mp.dps never leaks), errors."""

from __future__ import annotations

import mpmath
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mpmath import mp

from dmf_verify.numerics import scalar_ode as so
from dmf_verify.errors import BlowUpError, IntegrationError, InvalidArgument, NonFiniteError
from dmf_verify.numerics.precise import diagonal_flow_rhs, integrate, mp_digits_agreement


def _rel(a, b):
    with mp.workdps(80):
        return abs(mpmath.mpf(a) - mpmath.mpf(b)) / abs(mpmath.mpf(b))


@given(digits=st.integers(10, 45), lam=st.sampled_from(["-1.5", "-0.3", "0.7", "2"]))
def test_linear_ode_to_requested_digits(digits, lam):
    res = integrate(lambda t, y: [mpmath.mpf(lam) * y[0]], ["1"], ["0.5", "1"], digits=digits)
    with mp.workdps(digits + 20):
        for t, row in zip(("0.5", "1"), res.y):
            assert _rel(row[0], mpmath.exp(mpmath.mpf(lam) * mpmath.mpf(t))) < mpmath.mpf(10) ** (-digits)


def test_oscillator_two_components():
    res = integrate(lambda t, y: [y[1], -y[0]], [0, 1], [3], digits=40)
    with mp.workdps(60):
        assert abs(res.y[-1][0] - mpmath.sin(3)) < mpmath.mpf(10) ** -40
        assert abs(res.y[-1][1] - mpmath.cos(3)) < mpmath.mpf(10) ** -40


@st.composite
def forcings(draw):
    kind = draw(st.sampled_from(so.KINDS))
    p = st.integers(-15, 15).map(lambda k: f"{k / 10:.1f}")
    if kind == "constant":
        return so.constant(draw(p))
    if kind == "affine":
        return so.affine(draw(p), draw(p))
    return so.cosine(draw(p), draw(p), draw(st.integers(5, 40).map(lambda k: f"{k / 10:.1f}")))


@given(n=st.integers(2, 5), x0=st.integers(2, 15).map(lambda k: f"{k / 10:.1f}"), s=st.sampled_from(["", "-"]),
       g=forcings())
def test_lemma4_mp_vs_closed_form_25_digits(n, x0, s, g):
    x0 = s + x0
    T = so.blowup_time(x0, n, g, t_max=1.0)
    t_end = f"{min(0.4, 0.7 * T):.6f}"
    res = integrate(so.rhs_mp(n, g), [x0], [t_end], digits=30)  # 40-digit working precision
    assert res.stats["dps"] == 40
    assert _rel(res.y[-1][0], so.solution_mp(t_end, x0, n, g, dps=60)) < 1e-25
    assert (res.y[-1][0] > 0) == (x0[0] != "-")


def test_mp_dps_unchanged_after_calls():
    before = mp.dps
    integrate(lambda t, y: [y[0]], ["1"], ["1"], digits=35)
    so.solution_mp("0.3", "0.5", 3, 1.0, dps=70)
    so.blowup_time_mp("0.5", 3, 1.0, digits=20)
    mp_digits_agreement("1.0", "1.0000001")
    with pytest.raises(BlowUpError):
        integrate(lambda t, y: [y[0] * y[0]], ["1"], ["2"], digits=20, max_abs="1e8")
    with pytest.raises(ZeroDivisionError):  # an rhs bug propagates, precision still restored
        integrate(lambda t, y: [1 / mpmath.mpf(0)], ["1"], ["1"], digits=20)
    assert mp.dps == before


def test_values_keep_their_precision_outside_the_block():
    res = integrate(lambda t, y: [y[0]], ["1"], ["1"], digits=40)
    with mp.workdps(60):
        assert _rel(res.y[-1][0], mpmath.e) < 1e-40


def test_blowup_detected_with_time():
    with pytest.raises(BlowUpError) as exc:
        integrate(lambda t, y: [y[0] * y[0]], ["1"], ["2"], digits=20, max_abs="1e8")  # y = 1/(1-t)
    assert 0.999 < exc.value.t <= 1.0
    assert "blow-up" in str(exc.value)
    T = so.blowup_time("0.5", 3, 1.0)
    with pytest.raises(BlowUpError):
        integrate(so.rhs_mp(3, 1.0), ["0.5"], [T * 1.01], digits=20, max_abs="1e8")


def test_blowup_time_mp_matches_closed_form():
    T, tail = so.blowup_time_mp("0.7", 4, "1.3", digits=35)
    with mp.workdps(60):
        p = 1 - mpmath.mpf(2) / 4
        ref = mpmath.mpf("0.7") ** (-p) / (p * mpmath.mpf("1.3"))
        assert _rel(T, ref) < 1e-33 and tail < 1e-38
    with pytest.raises(InvalidArgument):
        so.blowup_time_mp("0.7", 4, "-1.3")  # |x| decays: no blow-up
    with pytest.raises(InvalidArgument):
        so.blowup_time_mp("0.7", 2, "1.3")


def test_diagonal_flow_float_and_mp_agree():
    import numpy as np

    tgt, y0 = ["1.5", "0.7"], ["0.3", "0.5", "0.4", "0.35", "0.45", "0.5"]
    ff, fm = diagonal_flow_rhs(3, tgt, backend="float"), diagonal_flow_rhs(3, tgt)
    with mp.workdps(30):
        a = fm(0, [mpmath.mpf(v) for v in y0])
    b = ff(0.0, np.array([float(v) for v in y0]))
    assert np.allclose([float(v) for v in a], b, rtol=1e-14)
    with pytest.raises(InvalidArgument):
        diagonal_flow_rhs(0, tgt)
    with pytest.raises(InvalidArgument):
        diagonal_flow_rhs(3, tgt, backend="torch")


@pytest.mark.parametrize("kwargs, err", [
    ({"digits": 2}, InvalidArgument), ({"digits": 1000}, InvalidArgument), ({"digits": 30.0}, InvalidArgument),
    ({"columns": 1}, InvalidArgument), ({"max_steps": 0}, InvalidArgument), ({"h0": -1}, InvalidArgument),
    ({"rtol": 0}, InvalidArgument), ({"y0": ["nan"]}, NonFiniteError), ({"y0": [float("inf")]}, NonFiniteError),
    ({"y0": ["abc"]}, InvalidArgument), ({"y0": []}, InvalidArgument), ({"t_eval": []}, InvalidArgument),
    ({"t_eval": ["1", "0.5"]}, InvalidArgument), ({"t_eval": ["-1"]}, InvalidArgument),
])
def test_bad_arguments(kwargs, err):
    args = {"y0": ["1"], "t_eval": ["1"]} | kwargs
    y0, t_eval = args.pop("y0"), args.pop("t_eval")
    before = mp.dps
    with pytest.raises(err):
        integrate(lambda t, y: [y[0]], y0, t_eval, **args)
    assert mp.dps == before


def test_bad_rhs():
    with pytest.raises(InvalidArgument, match="returned 2 values"):
        integrate(lambda t, y: [y[0], y[0]], ["1"], ["1"], digits=20)
    with pytest.raises(NonFiniteError):
        integrate(lambda t, y: [mpmath.nan], ["1"], ["1"], digits=20)
    with pytest.raises(IntegrationError, match="max_steps"):
        integrate(lambda t, y: [mpmath.cos(50 * t) * y[0]], ["1"], ["20"], digits=30, max_steps=3)


def test_gmpy2_arithmetic_matches_mpmath():
    tgt, y0 = ["1.5", "0.7"], ["0.3", "0.5", "0.4", "0.35", "0.45", "0.5"]
    a = integrate(diagonal_flow_rhs(3, tgt), y0, ["0.5", "1"], digits=30)
    b = integrate(diagonal_flow_rhs(3, tgt, backend="gmpy2"), y0, ["0.5", "1"], digits=30, arithmetic="gmpy2")
    assert b.stats["arithmetic"] == "gmpy2"
    for ra, rb in zip(a.y, b.y):
        for u, v in zip(ra, rb):
            assert isinstance(v, mpmath.mpf) and _rel(u, v) < 1e-30
    with pytest.raises(InvalidArgument):
        integrate(lambda t, y: y, ["1"], ["1"], arithmetic="float")


def test_arb_conversion_exact_and_precision_restored():
    from fractions import Fraction

    import flint

    from dmf_verify.checks.claims.precision import certificate as cert

    before = flint.ctx.prec
    with mp.workdps(50):
        for v in (mpmath.mpf("-0.65606582902474104724283143654208083911"), mpmath.mpf("1e-30"), mpmath.mpf(0)):
            box = cert._mpf_to_arb(flint, v)
            assert box.rad() == 0 and box.contains(cert._mpf_to_arb(flint, v))
    box = cert.arb_blowup_time(Fraction(7, 10), 3, Fraction(3, 2))
    assert 2 * float(box.rad()) < 1e-30
    with mp.workdps(60):
        p = mpmath.mpf(1) / 3
        ref = mpmath.mpf("0.7") ** (-p) / (p * mpmath.mpf("1.5"))
        assert box.contains(cert._mpf_to_arb(flint, ref))
        wrong = cert.arb_blowup_time(Fraction(7, 10), 3, Fraction(3, 2), exponent=Fraction(2, 3))
        assert not wrong.contains(cert._mpf_to_arb(flint, ref))
    assert flint.ctx.prec == before
