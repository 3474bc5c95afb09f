"""Measured-error assertions: assert_close, assert_rate, assert_order (dmf_verify.checks.assertions)."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmf_verify.checks.assertions import (
    DMFAssertionError,
    assert_close,
    assert_order,
    assert_rate,
    collecting,
)
from dmf_verify.checks.claim import clopper_pearson
from dmf_verify.errors import InvalidArgument, ShapeError


# --- assert_close ------------------------------------------------------------------------------
def test_close_absolute_relative_and_frobenius():
    m, e = np.array([1.0, 2.0, 4.0]), np.array([1.0, 2.0, 4.0 + 1e-6])
    assert assert_close(m, e, tol=2e-6, reason="r").error == pytest.approx(1e-6)
    assert assert_close(m, e, tol=1e-6, relative=True, reason="r").error == pytest.approx(1e-6 / 4)
    fro = assert_close([[3.0, 0.0]], [[0.0, 4.0]], tol=5.0, norm="fro", reason="r")
    assert fro.error == pytest.approx(5.0)
    assert assert_close(m, 1.0, tol=3.0, reason="scalar broadcasts").error == 3.0


def test_close_failure_carries_error_tolerance_reason_and_reproducer():
    with pytest.raises(DMFAssertionError) as info:
        assert_close(0.52, 0.5, tol=0.01, reason="measured worst 0.003 over seeds 0..19", name="ratio", seed=4)
    msg = str(info.value)
    for part in ("ratio FAILED", "measured error : 2.000e-02", "tolerance      : 1.000e-02",
                 "measured worst 0.003 over seeds 0..19", "seed           : 4", "measured       : 0.52",
                 "expected       : 0.5",
                 ("pytest 'tests/test_assertions.py::test_close_failure_carries_error_tolerance_reason_and_reproducer'"
                  " --dmf-seed 4")):
        assert part in msg, part
    assert info.value.check.ratio == pytest.approx(2.0)


def test_close_keeps_the_imaginary_part():
    c = assert_close(1.0 + 1e-3j, 1.0, tol=1e-2, reason="r")
    assert c.error == pytest.approx(1e-3)
    with pytest.raises(DMFAssertionError):
        assert_close(np.array([1.0 + 1.0j]), np.array([1.0]), tol=0.5, reason="r")


@pytest.mark.parametrize("bad", [math.nan, np.array([1.0, math.nan])])
def test_close_nan_is_never_a_pass(bad):
    with pytest.raises(DMFAssertionError, match="not a finite number"):
        assert_close(bad, 1.0, tol=1e300, reason="huge")
    with collecting():
        c = assert_close(bad, 1.0, tol=1e300, reason="huge")
    assert math.isnan(c.error) and not c.passed and math.isnan(c.ratio)


def test_close_infinite_difference_fails():
    with pytest.raises(DMFAssertionError):
        assert_close(math.inf, 1.0, tol=1e300, reason="huge")


def test_close_mpmath_at_the_operands_precision():
    with mp.workdps(50):
        third = mp.mpf(1) / 3
        near = third + mp.mpf(10) ** -45
    # compared outside workdps: the 1e-45 difference is still measured, not rounded away at 15 digits
    c = assert_close(near, third, digits=40, reason="50-digit arithmetic")
    assert c.error == pytest.approx(3e-45, rel=1e-6)
    with pytest.raises(DMFAssertionError):
        assert_close(near, third, digits=46, reason="50-digit arithmetic")
    with mp.workdps(15):
        low = mp.mpf(1) / 3
    with pytest.raises(DMFAssertionError) as info:
        assert_close(low, third, digits=30, reason="a 15-digit value is not 30 digits")
    assert 1e-17 < info.value.check.error < 1e-15


def test_close_mpmath_matrices_and_complex():
    with mp.workdps(30):
        a = mp.matrix([[1, 2], [3, 4]]) / 7
        b = a.copy()
        b[1, 0] += mp.mpf(10) ** -25
        z = mp.mpc(1, 1) / 3
        z2 = z + mp.mpc(0, 1e-20)
    c = assert_close(a, b, tol=1e-24, reason="r")
    assert c.error == pytest.approx(1e-25, rel=1e-6)
    assert "(1, 0)" in c.details["worst entry"]
    assert assert_close(z, z2, tol=1e-19, reason="r").error == pytest.approx(1e-20, rel=1e-6)


def test_close_torch_tensors():
    torch = pytest.importorskip("torch")
    c = assert_close(torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True), [1.0, 2.5], tol=1.0,
                     reason="r")
    assert c.error == pytest.approx(0.5)


def test_close_bad_arguments_raise_project_errors():
    with pytest.raises(InvalidArgument, match="reason"):
        assert_close(1.0, 1.0, tol=0.1)
    with pytest.raises(InvalidArgument, match="tol= or digits="):
        assert_close(1.0, 1.0, tol=0.1, digits=3, reason="r")
    with pytest.raises(InvalidArgument, match="needs tol"):
        assert_close(1.0, 1.0, reason="r")
    with pytest.raises(InvalidArgument, match="tol must be a finite number >= 0, got -1.0"):
        assert_close(1.0, 1.0, tol=-1.0, reason="r")
    with pytest.raises(InvalidArgument, match="tol must be a finite number"):
        assert_close(1.0, 1.0, tol=math.nan, reason="r")
    with pytest.raises(InvalidArgument, match="expected value of 0"):
        assert_close(1.0, 0.0, tol=0.1, relative=True, reason="r")
    with pytest.raises(ShapeError, match=r"shape \(3,\) but measured has shape \(2,\)"):
        assert_close([1.0, 2.0], [1.0, 2.0, 3.0], tol=0.1, reason="r")
    with pytest.raises(InvalidArgument, match="norm"):
        assert_close(1.0, 1.0, tol=0.1, reason="r", norm="l1")
    with pytest.raises(InvalidArgument, match="empty"):
        assert_close([], [], tol=0.1, reason="r")


# --- assert_rate -------------------------------------------------------------------------------
def test_rate_uses_the_clopper_pearson_lower_bound():
    c = assert_rate([True] * 20, at_least=0.8)
    lo, _ = clopper_pearson(20, 20)
    assert c.error == pytest.approx(1 - lo) and c.tolerance == pytest.approx(0.2)
    assert c.error_as("control") == pytest.approx(0.0)  # the upper bound of 20/20 is 1
    with pytest.raises(DMFAssertionError) as info:
        assert_rate([True] * 20, at_least=0.9, name="monotone descent")
    msg = str(info.value)
    assert "held           : 20/20" in msg and "29 without a failure prove 0.9" in msg


def test_rate_names_failed_instances_and_control_uses_the_upper_bound():
    outcomes = {f"seed{i}": i % 4 != 0 for i in range(40)}  # 30/40
    with collecting():
        c = assert_rate(outcomes, at_least=0.9)
    assert not c.passed and "seed0, seed4" in c.details["failed"]
    _, hi = clopper_pearson(30, 40)
    assert c.error_as("control") == pytest.approx(1 - hi)
    assert c.error_as("control") > c.tolerance  # a control at 30/40 is rejected


@given(st.integers(0, 30), st.integers(1, 30))
def test_rate_passes_exactly_when_the_bound_proves_the_rate(k, n):
    k = min(k, n)
    lo, _ = clopper_pearson(k, n)
    with collecting():
        c = assert_rate([True] * k + [False] * (n - k), at_least=0.75)
    assert c.passed == (lo >= 0.75)


def test_rate_bad_outcomes_raise():
    with pytest.raises(InvalidArgument, match="outcome 'case1' must be True or False, got 0.5"):
        assert_rate([True, 0.5], at_least=0.5)
    with pytest.raises(InvalidArgument, match="claimed_rate"):
        assert_rate([True], at_least=1.0)
    with pytest.raises(InvalidArgument, match="at least one outcome"):
        assert_rate([], at_least=0.5)


# --- assert_order ------------------------------------------------------------------------------
def test_order_fits_the_log_log_slope():
    h = np.array([0.1, 0.05, 0.025, 0.0125])
    c = assert_order(h, 3 * h**2 + 0.5 * h**3, expected=2.0, tol=0.1, reason="next term h^3")
    assert c.error < 0.05
    assert "pairwise orders" in c.details
    with pytest.raises(DMFAssertionError, match="fitted order"):
        assert_order(h, 3 * h**2, expected=1.0, tol=0.1, reason="r")


@pytest.mark.parametrize("bad", [0.0, math.nan, math.inf])
def test_order_undefined_below_resolution_or_for_nan(bad):
    with pytest.raises(DMFAssertionError, match="order is undefined"):
        assert_order([0.1, 0.05, 0.025], [1e-2, 5e-3, bad], expected=1.0, tol=0.1, reason="r")


def test_order_bad_arguments():
    with pytest.raises(InvalidArgument, match="same length"):
        assert_order([0.1, 0.05], [1.0], expected=1, tol=0.1, reason="r")
    with pytest.raises(InvalidArgument, match="at least 2"):
        assert_order([0.1], [1.0], expected=1, tol=0.1, reason="r")
    with pytest.raises(InvalidArgument, match="distinct"):
        assert_order([0.1, 0.1], [1.0, 2.0], expected=1, tol=0.1, reason="r")
    with pytest.raises(InvalidArgument, match="steps must be finite and > 0"):
        assert_order([0.1, -0.1], [1.0, 2.0], expected=1, tol=0.1, reason="r")
    with pytest.raises(InvalidArgument, match="errors must be >= 0"):
        assert_order([0.1, 0.05], [1.0, -2.0], expected=1, tol=0.1, reason="r")
    with pytest.raises(InvalidArgument, match="needs tol"):
        assert_order([0.1, 0.05], [1.0, 0.5], expected=1)


def test_collecting_records_without_raising_and_nests():
    from dmf_verify.checks import assertions

    seen = []
    assertions._RECORDERS.append(seen.append)
    try:
        with collecting():
            with collecting():
                assert_close(2.0, 1.0, tol=0.1, reason="r")
            assert_close(3.0, 1.0, tol=0.1, reason="r")
        with pytest.raises(DMFAssertionError):
            assert_close(4.0, 1.0, tol=0.1, reason="r")
    finally:
        assertions._RECORDERS.remove(seen.append)
    assert [c.error for c in seen] == [1.0, 2.0, 3.0]


def test_doctests_of_the_users_library():
    import doctest

    from dmf_verify.checks import assertions, strategies

    for mod in (assertions, strategies):
        res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert res.attempted > 0 and res.failed == 0, mod.__name__
