"""The shared validators (dmf_verify.numerics.validation): what they accept, what they reject, and
what the messages say (the parameter, the value, the limit)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dmf_verify.errors import InvalidArgument, NonFiniteError, ShapeError
from dmf_verify.numerics import validation as v


# ------------------------------------------------------------------------------------ integers
@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3), np.array(3)])
def test_check_int_accepts_integers(value):
    out = v.check_int(value, "steps", low=0)
    assert out == 3 and type(out) is int


@pytest.mark.parametrize("value, shown", [(2.5, "2.5"), (2.0, "2.0 (float)"), (np.float64(2.0), "2.0 (float)"),
                                          (True, "True (bool)"), (np.True_, "True (bool)"), ("3", "'3'"),
                                          (1j, "1j"), (None, "None"), (math.nan, "nan"), (np.array(2.0), "2.0"),
                                          (-1, "-1")])
def test_check_int_rejects_non_integers_and_names_value_and_limit(value, shown):
    with pytest.raises(InvalidArgument) as info:
        v.check_int(value, "depth", low=1)
    msg = str(info.value)
    assert msg.startswith("depth must be an integer >= 1, got ") and shown in msg


def test_check_int_bounds_and_optional():
    assert v.check_int(None, "rank", optional=True) is None
    assert v.check_int(5, "k", low=5, high=5) == 5
    with pytest.raises(InvalidArgument, match=r"k must be an integer in \[1, 4\], got 5"):
        v.check_int(5, "k", low=1, high=4)
    with pytest.raises(InvalidArgument, match="pass int"):  # integral floats are never truncated silently
        v.check_int(4.0, "k")


def test_seeds():
    assert v.check_seed(0) == 0 and v.check_seed(2**40) == 2**40  # library seeds: numpy's domain
    assert v.check_seed(v.SEED_MAX, high=v.SEED_MAX) == 2**32 - 1
    for bad in (-1, 1.0, "0", True, None):
        with pytest.raises(InvalidArgument, match=r"seed must be an integer >= 0"):
            v.check_seed(bad)
    with pytest.raises(InvalidArgument, match=r"seed must be an integer in \[0, 4294967295\], got 4294967296"):
        v.check_seed(2**32, high=v.SEED_MAX)
    g = np.random.default_rng(1)
    assert v.as_generator(g) is g
    assert v.as_generator(3).integers(10**9) == np.random.default_rng(3).integers(10**9)
    with pytest.raises(InvalidArgument, match="rng must be a numpy Generator or a seed"):
        v.as_generator(-2)


# ------------------------------------------------------------------------------------ reals
def test_check_real_accepts_real_scalars():
    assert v.check_real(np.float32(0.5), "x") == 0.5
    assert v.check_real(np.array(0.25), "x") == 0.25
    assert v.check_real(mpmath.mpf("0.125"), "x") == 0.125
    assert v.check_real(3, "x", low=3) == 3.0
    assert v.check_real(math.inf, "p", low=0, low_open=True, allow_inf=True) == math.inf
    assert v.check_real(None, "tol", optional=True) is None


@pytest.mark.parametrize("value, err", [(math.nan, NonFiniteError), (math.inf, NonFiniteError), (-math.inf, NonFiniteError),
                                        (1j, InvalidArgument), (True, InvalidArgument), ("0.5", InvalidArgument),
                                        (np.ones(2), InvalidArgument), (None, InvalidArgument), (0.0, InvalidArgument),
                                        (1.0, InvalidArgument), (-0.5, InvalidArgument)])
def test_check_real_rejects(value, err):
    with pytest.raises(err) as info:
        v.check_real(value, "theta", low=0, high=1, low_open=True, high_open=True)
    assert str(info.value).startswith("theta must be a finite real number in (0, 1)")


def test_positive_and_tolerance():
    assert v.check_positive(0, "alpha", allow_zero=True) == 0.0
    with pytest.raises(InvalidArgument, match=r"alpha must be a finite real number > 0, got 0.0"):
        v.check_positive(0, "alpha")
    with pytest.raises(NonFiniteError, match="rtol must be a finite real number > 0, got nan"):
        v.check_tolerance(math.nan, "rtol")
    with pytest.raises(NonFiniteError, match="got inf"):
        v.check_tolerance(math.inf, "rtol")


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_check_real_never_raises_anything_else(x):
    try:
        out = v.check_real(x, "x", low=0.0)
    except InvalidArgument as exc:
        assert str(exc).startswith("x must be")
        assert math.isnan(x) or math.isinf(x) or x < 0
    else:
        assert out == x and out >= 0 and math.isfinite(out)


# ------------------------------------------------------------------------------------ options, bools
def test_options_and_bools():
    assert v.check_option("scs", "solver", ("SCS", "CLARABEL"), case_sensitive=False) == "SCS"
    with pytest.raises(InvalidArgument, match=r"reduction must be one of 'sum', 'mean', got 'Sum'"):
        v.check_option("Sum", "reduction", ("sum", "mean"))
    with pytest.raises(InvalidArgument, match="got 3"):
        v.check_option(3, "side", ("left", "right"))
    assert v.check_bool(np.False_, "half") is False
    for bad in (1, 0, "yes", None, np.array([True])):
        with pytest.raises(InvalidArgument, match="half must be True or False"):
            v.check_bool(bad, "half")


# ------------------------------------------------------------------------------------ arrays
def test_arrays_are_real_float64_without_copies():
    a = np.eye(2)
    assert v.as_matrix(a, "w") is a
    b = v.as_matrix([[1, 2], [3, 4]], "w")
    assert b.dtype == np.float64 and b.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert v.as_finite_array([], "t").shape == (0,)


@pytest.mark.parametrize("value, err, needle", [
    (1j * np.eye(2), InvalidArgument, "w is complex"),
    (np.eye(2).astype(complex), InvalidArgument, "w is complex"),  # even with a zero imaginary part
    (np.eye(2) > 0, InvalidArgument, "dtype bool"),
    (np.array([["1", "2"]]), InvalidArgument, "string"),
    (np.array([[1.0, None]], dtype=object), InvalidArgument, "dtype object"),
    ([[1.0, 2.0], [3.0]], ShapeError, "not a rectangular array"),
    (np.ones(3), ShapeError, "w must be a 2-D array, got an array of shape (3,)"),
    (np.ones((0, 2)), ShapeError, "w is empty"),
    (np.array([[1.0, np.nan], [np.inf, 0.0]]), NonFiniteError, "w has 2 non-finite entries (NaN or inf), first at index (0, 1)"),
    ("abc", InvalidArgument, "w must be a real array, got 'abc'"),
    (None, InvalidArgument, "w must be a real array, got None"),
])
def test_as_matrix_rejects(value, err, needle):
    with pytest.raises(err) as info:
        v.as_matrix(value, "w")
    assert needle in str(info.value)


def test_shapes_and_vectors():
    with pytest.raises(ShapeError, match=r"y must have shape \(3\), got \(2,\)"):
        v.as_vector([1.0, 2.0], "y", size=3)
    with pytest.raises(ShapeError, match="m must be a square matrix"):
        v.as_matrix(np.ones((2, 3)), "m", square=True)
    with pytest.raises(ShapeError, match=r"must have shape \(any, 2\)"):
        v.as_matrix(np.ones((2, 3)), "u", shape=(None, 2))
    assert v.as_real_array(np.ones((2, 2, 2)), "a", ndim=(1, 3)).shape == (2, 2, 2)


def test_indices_are_never_rounded():
    assert v.as_index_array([0, 2], "rows").dtype == np.intp
    assert v.as_index_array([], "rows").size == 0
    with pytest.raises(InvalidArgument, match="rows must hold integer indices"):
        v.as_index_array([0.0, 1.0], "rows")
    with pytest.raises(InvalidArgument, match="rows must hold integer indices"):
        v.as_index_array(np.array([0.5]), "rows")


def test_shape_tuples_and_int_sequences():
    assert v.check_shape((2, np.int64(3))) == (2, 3)
    with pytest.raises(InvalidArgument, match=r"shape\[0\] must be an integer >= 1, got 2.5"):
        v.check_shape((2.5, 3))
    with pytest.raises(InvalidArgument, match="shape must be a tuple of 2 integers"):
        v.check_shape((2,))
    assert v.check_int_sequence(np.array([2, 3]), "dims", low=1) == [2, 3]
    with pytest.raises(InvalidArgument, match=r"dims\[1\] must be an integer >= 1, got 0"):
        v.check_int_sequence([2, 0], "dims", low=1)
    with pytest.raises(ShapeError, match="hidden must list 2 integers, got 1"):
        v.check_int_sequence([3], "hidden", length=2)


def test_factors_pairs_losses():
    fs = v.check_factors([np.ones((3, 2)), np.ones((4, 3))])
    assert [f.shape for f in fs] == [(3, 2), (4, 3)]
    assert len(v.check_factors(np.eye(2))) == 1  # a single matrix is depth 1
    with pytest.raises(ShapeError, match=r"factors do not chain: W_2 = factors\[1\] has shape \(4, 4\)"):
        v.check_factors([np.ones((3, 2)), np.ones((4, 4))])
    with pytest.raises(InvalidArgument, match="factors must hold at least one matrix"):
        v.check_factors([])
    with pytest.raises(NonFiniteError, match=r"factors\[0\] \(W_1\) has 1 non-finite"):
        v.check_factors([np.array([[np.nan]])])
    u, w = v.check_matrix_pair((np.eye(3)[:, :2], np.eye(2)), "reference", rows=(3, 2))
    assert u.shape == (3, 2) and w.shape == (2, 2)
    with pytest.raises(ShapeError, match="reference = \\(U, V\\) must have 2 and 2 rows"):
        v.check_matrix_pair((np.eye(3)[:, :2], np.eye(2)), "reference", rows=(2, 2))
    with pytest.raises(InvalidArgument, match="reference must be a pair"):
        v.check_matrix_pair(np.eye(2), "reference")
    with pytest.raises(InvalidArgument, match="loss must be a loss with value"):
        v.check_loss(object())
    assert v.check_callable(None, "observe", optional=True) is None
    with pytest.raises(InvalidArgument, match="observe must be callable, got 3"):
        v.check_callable(3, "observe")
