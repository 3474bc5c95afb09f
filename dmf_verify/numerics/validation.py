"""Argument validation shared by the whole library: a specific error, never a silent NaN.

Every validator takes the value and the *parameter name* and either returns the value in its
canonical form (a float64 array, a Python ``int`` or ``float``, ...) or raises a subclass of
:class:`dmf_verify.errors.InvalidArgument` whose message names the parameter, the offending value
and the limit it broke (hypothesis's ``InvalidArgument`` style)::

    >>> check_int(2.5, "depth", low=1)
    Traceback (most recent call last):
    ...
    dmf_verify.errors.InvalidArgument: depth must be an integer >= 1, got 2.5

Policies (the same everywhere):

* **arrays** are real: integer and floating dtypes are converted to float64; complex input is an
  error even when the imaginary part is zero (never a dropped imaginary part), and so are bool,
  string, object and ragged input. NaN/inf raise :class:`NonFiniteError` unless ``finite=False``.
* **integers** are ``int`` or numpy integers; ``bool`` is not an integer and a float is never
  truncated -- not even an integral one such as ``2.0`` (pass ``int(x)`` explicitly).
* **reals** are real scalars (``bool``, complex, strings and arrays are rejected); NaN is always
  a :class:`NonFiniteError`, +-inf too unless ``allow_inf``.
* **tolerances** are finite and > 0; **seeds** are integers >= 0 (any size, as numpy's
  SeedSequence takes them: the claims derive seeds such as ``seed * 101 + d`` from a user seed in
  [0, 2**32 - 1], which the claim layer and the CLI enforce; pass ``high=SEED_MAX`` to cap a
  user-facing seed); where an API takes ``rng`` a :class:`numpy.random.Generator` is accepted as well; **options** are strings from a
  fixed set (the message lists the allowed values); **booleans** are ``bool`` or ``numpy.bool_``.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterable, Sequence

import numpy as np

from dmf_verify.errors import InvalidArgument, NonFiniteError, ShapeError

SEED_MAX = 2**32 - 1

__all__ = [
    "SEED_MAX",
    "as_finite_array",
    "as_generator",
    "as_index_array",
    "as_matrix",
    "as_real_array",
    "as_vector",
    "check_bool",
    "check_callable",
    "check_depth",
    "check_exact_real",
    "check_factors",
    "check_int",
    "check_int_sequence",
    "check_loss",
    "check_matrix_pair",
    "check_option",
    "check_positive",
    "check_real",
    "check_seed",
    "check_shape",
    "check_tolerance",
]


# --------------------------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------------------------
def _show(value) -> str:
    """A short rendering of a bad value for a message (type added where repr hides it)."""
    if isinstance(value, (bool, np.bool_)):
        return f"{bool(value)!r} (bool)"
    if isinstance(value, (float, np.floating)):
        return f"{float(value)!r} (float)" if float(value).is_integer() or not math.isfinite(value) else repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, np.ndarray):
        if value.size <= 4:
            return f"array({value.tolist()!r}, dtype={value.dtype})"
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__name__})" if not isinstance(value, str) else text


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    def num(x):
        return repr(float(x)) if isinstance(x, float) and not float(x).is_integer() else (
            str(int(x)) if math.isfinite(x) else ("inf" if x > 0 else "-inf"))

    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{num(low)}, {num(high)}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {num(low)}"
    if high is not None:
        return f"{'<' if high_open else '<='} {num(high)}"
    return ""


# --------------------------------------------------------------------------------------------
# scalars
# --------------------------------------------------------------------------------------------
def check_bool(value, name: str) -> bool:
    """``value`` as a Python bool; anything but ``bool``/``numpy.bool_`` raises.

    >>> check_bool(np.True_, "half")
    True
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise InvalidArgument(f"{name} must be True or False, got {_show(value)}")


def check_int(value, name: str, *, low: int | None = None, high: int | None = None,
              optional: bool = False) -> int | None:
    """``value`` as a Python int in [low, high] (either bound may be None); ``None`` if ``optional``.

    >>> check_int(np.int64(3), "steps", low=0)
    3
    """
    if value is None and optional:
        return None
    limit = _interval(low, high, False, False)
    need = f"an integer {limit}".rstrip()
    if isinstance(value, (bool, np.bool_)):
        raise InvalidArgument(f"{name} must be {need}, got {_show(value)}")
    if isinstance(value, (float, np.floating)):
        hint = f"; pass int({float(value)!r}) if an integer is meant" if float(value).is_integer() else ""
        raise InvalidArgument(f"{name} must be {need}, got {_show(value)}{hint}")
    if isinstance(value, np.ndarray) and value.dtype.kind not in "iu":
        raise InvalidArgument(f"{name} must be {need}, got {_show(value)}")
    try:
        v = operator.index(value)
    except TypeError:
        raise InvalidArgument(f"{name} must be {need}, got {_show(value)}") from None
    if (low is not None and v < low) or (high is not None and v > high):
        raise InvalidArgument(f"{name} must be {need}, got {v}")
    return int(v)


def check_depth(depth, name: str = "depth", *, minimum: int = 1) -> int:
    """The depth N of a factorization: an integer >= ``minimum`` (default 1)."""
    return check_int(depth, name, low=minimum)


def check_real(value, name: str, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False, allow_inf: bool = False,
               optional: bool = False) -> float | None:
    """``value`` as a float in the given interval; NaN (and inf unless ``allow_inf``) raise NonFiniteError.

    >>> check_real(0.5, "theta", low=0, high=1, low_open=True, high_open=True)
    0.5
    >>> check_real(float("nan"), "q", low=0)
    Traceback (most recent call last):
    ...
    dmf_verify.errors.NonFiniteError: q must be a finite real number >= 0, got nan (float)
    """
    if value is None and optional:
        return None
    limit = _interval(low, high, low_open, high_open)
    need = (f"a real number {limit}" if allow_inf else f"a finite real number {limit}").rstrip()
    if isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise InvalidArgument(f"{name} must be {need} (a scalar), got {_show(value)}")
        value = value[()]
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        raise InvalidArgument(f"{name} must be {need}, got {_show(value)}")
    if isinstance(value, (complex, np.complexfloating)):
        raise InvalidArgument(f"{name} must be {need}, got the complex number {value!r}")
    if not isinstance(value, numbers.Real):
        try:  # mpmath.mpf, Decimal, ...: anything with an exact real conversion
            v = float(value)
        except (TypeError, ValueError):
            raise InvalidArgument(f"{name} must be {need}, got {_show(value)}") from None
    else:
        v = float(value)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise NonFiniteError(f"{name} must be {need}, got {_show(v)}")
    if low is not None and (v < low or (low_open and v == low)):
        raise InvalidArgument(f"{name} must be {need}, got {_show(v)}")
    if high is not None and (v > high or (high_open and v == high)):
        raise InvalidArgument(f"{name} must be {need}, got {_show(v)}")
    return v


def check_exact_real(value, name: str, *, nonzero: bool = False):
    """A real number for the exact (mpmath) routines: int, float, a decimal string or an mpf.

    Returns ``value`` unchanged (a decimal string keeps its exact value); bool, complex, arrays,
    None, unparsable strings and NaN/inf raise, naming ``name`` and showing the value.

    >>> check_exact_real("0.7", "a")
    '0.7'
    >>> check_exact_real("x", "a")
    Traceback (most recent call last):
    ...
    dmf_verify.errors.InvalidArgument: a must be a finite real number (int, float, decimal string or mpf), got 'x'
    """
    import mpmath

    need = "a finite real number (int, float, decimal string or mpf)"
    if nonzero:
        need = "a finite non-zero real number (int, float, decimal string or mpf)"
    if value is None or isinstance(value, (bool, np.bool_, bytes, complex, np.complexfloating, np.ndarray,
                                           list, tuple, dict, set)):
        raise InvalidArgument(f"{name} must be {need}, got {_show(value)}")
    try:
        x = mpmath.mpf(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name} must be {need}, got {_show(value)}") from None
    if not mpmath.isfinite(x):
        raise NonFiniteError(f"{name} must be {need}, got {_show(value)}")
    if nonzero and x == 0:
        raise InvalidArgument(f"{name} must be {need}, got {_show(value)}")
    return value


def check_positive(value, name: str, *, allow_zero: bool = False) -> float:
    """A finite real number > 0 (>= 0 with ``allow_zero``)."""
    return check_real(value, name, low=0.0, low_open=not allow_zero)


def check_tolerance(value, name: str, *, optional: bool = False) -> float | None:
    """A tolerance: a finite real number > 0.

    >>> check_tolerance(1e-10, "rtol")
    1e-10
    """
    return check_real(value, name, low=0.0, low_open=True, optional=optional)


def check_option(value, name: str, choices: Iterable[str], *, case_sensitive: bool = True) -> str:
    """One of ``choices`` (a string); the message lists the allowed values.

    >>> check_option("mean", "reduction", ("sum", "mean"))
    'mean'
    >>> check_option("Sum", "reduction", ("sum", "mean"))
    Traceback (most recent call last):
    ...
    dmf_verify.errors.InvalidArgument: reduction must be one of 'sum', 'mean', got 'Sum'
    """
    choices = tuple(choices)
    allowed = ", ".join(repr(c) for c in choices)
    if isinstance(value, str):
        if value in choices:
            return value
        if not case_sensitive:
            for c in choices:
                if c.lower() == value.lower():
                    return c
    raise InvalidArgument(f"{name} must be one of {allowed}, got {_show(value)}")


def check_seed(seed, name: str = "seed", *, high: int | None = None) -> int:
    """A seed: an integer >= 0 (<= ``high`` if given; user-facing seeds use ``high=SEED_MAX``).

    >>> check_seed(2**40)
    1099511627776
    >>> check_seed(2**32, high=SEED_MAX)
    Traceback (most recent call last):
    ...
    dmf_verify.errors.InvalidArgument: seed must be an integer in [0, 4294967295], got 4294967296
    """
    return check_int(seed, name, low=0, high=high)


def as_generator(rng, name: str = "rng") -> np.random.Generator:
    """A :class:`numpy.random.Generator` as given, or a fresh one from a seed (an integer >= 0)."""
    if isinstance(rng, np.random.Generator):
        return rng
    try:
        return np.random.default_rng(check_seed(rng, name))
    except InvalidArgument:
        raise InvalidArgument(f"{name} must be a numpy Generator or a seed (an integer >= 0), "
                              f"got {_show(rng)}") from None


def check_callable(value, name: str, *, optional: bool = False):
    if value is None and optional:
        return None
    if not callable(value):
        raise InvalidArgument(f"{name} must be callable, got {_show(value)}")
    return value


# --------------------------------------------------------------------------------------------
# arrays
# --------------------------------------------------------------------------------------------
def _as_numeric(x, name: str) -> np.ndarray:
    if x is None or isinstance(x, (str, bytes)):
        raise InvalidArgument(f"{name} must be a real array, got {_show(x)}")
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ShapeError(f"{name} is not a rectangular array of numbers ({exc})") from None
    kind = a.dtype.kind
    if kind == "c":
        how = f"pass {name}.real" if name.isidentifier() else "take the real part"
        raise InvalidArgument(f"{name} is complex (dtype {a.dtype}); only real input is accepted "
                              f"({how} explicitly to drop the imaginary part)")
    if kind not in "iuf":
        what = {"b": "bool", "O": "object", "U": "string", "S": "bytes"}.get(kind, str(a.dtype))
        raise InvalidArgument(f"{name} must be a real numeric array, got dtype {a.dtype} ({what}); "
                              "convert it explicitly, e.g. np.asarray(x, dtype=float)")
    return a


def _check_finite(a: np.ndarray, name: str) -> None:
    ok = np.isfinite(a)
    if not ok.all():
        bad = int(a.size - np.count_nonzero(ok))
        first = tuple(int(i) for i in np.argwhere(~ok)[0]) if a.ndim else ()
        where = f", first at index {first}" if a.ndim else ""
        raise NonFiniteError(f"{name} has {bad} non-finite entries (NaN or inf){where}")


def as_real_array(x, name: str, *, ndim: int | Sequence[int] | None = None, shape: Sequence[int | None] | None = None,
                  finite: bool = True, nonempty: bool = True) -> np.ndarray:
    """``x`` as a float64 array (no copy when it already is one), checked as the policies say.

    ``ndim`` is an int or a tuple of allowed dimensions; ``shape`` may hold None for a free axis.

    >>> as_real_array([1j, 2], "y")
    Traceback (most recent call last):
    ...
    dmf_verify.errors.InvalidArgument: y is complex (dtype complex128); only real input is accepted (pass y.real explicitly to drop the imaginary part)
    """
    a = _as_numeric(x, name)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if a.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ShapeError(f"{name} must be a {want} array, got an array of shape {a.shape}")
    if shape is not None:
        shape = tuple(shape)
        if a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ShapeError(f"{name} must have shape {want}, got {a.shape}")
    if nonempty and a.size == 0:
        raise ShapeError(f"{name} is empty (shape {a.shape})")
    a = a.astype(np.float64, copy=False)
    if finite:
        _check_finite(a, name)
    return a


def as_matrix(x, name: str = "matrix", *, shape: Sequence[int | None] | None = None, finite: bool = True,
              square: bool = False) -> np.ndarray:
    """``x`` as a finite, non-empty float64 2-D array or a specific error."""
    a = as_real_array(x, name, ndim=2, shape=shape, finite=finite)
    if square and a.shape[0] != a.shape[1]:
        raise ShapeError(f"{name} must be a square matrix, got shape {a.shape}")
    return a


def as_vector(x, name: str, *, size: int | None = None, finite: bool = True) -> np.ndarray:
    """``x`` as a finite, non-empty float64 1-D array (of ``size`` entries if given)."""
    return as_real_array(x, name, ndim=1, shape=None if size is None else (size,), finite=finite)


def as_finite_array(x, name: str = "array") -> np.ndarray:
    """``x`` as a finite float64 array of any shape (empty allowed)."""
    return as_real_array(x, name, finite=True, nonempty=False)


def as_index_array(x, name: str) -> np.ndarray:
    """``x`` as a flat intp array; floats are never truncated (an empty input is allowed)."""
    if x is None or isinstance(x, (str, bytes)):
        raise InvalidArgument(f"{name} must be an array of integer indices, got {_show(x)}")
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise ShapeError(f"{name} is not a rectangular array of indices ({exc})") from None
    a = a.reshape(-1)
    if a.size and a.dtype.kind not in "iu":
        raise InvalidArgument(f"{name} must hold integer indices, got dtype {a.dtype} "
                              f"(first entries {a[:3].tolist()!r}); indices are never rounded")
    return a.astype(np.intp, copy=False)


def check_shape(shape, name: str = "shape", *, ndim: int = 2, low: int = 1) -> tuple[int, ...]:
    """A shape tuple of ``ndim`` integers >= ``low``."""
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Iterable):
        raise InvalidArgument(f"{name} must be a tuple of {ndim} integers >= {low}, got {_show(shape)}")
    items = list(shape)
    if len(items) != ndim:
        raise InvalidArgument(f"{name} must be a tuple of {ndim} integers >= {low}, got {_show(shape)}")
    return tuple(check_int(v, f"{name}[{i}]", low=low) for i, v in enumerate(items))


def check_int_sequence(values, name: str, *, low: int | None = None, length: int | None = None,
                       min_length: int = 0) -> list[int]:
    """A sequence of integers (each checked as :func:`check_int`)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidArgument(f"{name} must be a sequence of integers, got {_show(values)}")
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ShapeError(f"{name} must be a 1-D sequence of integers, got an array of shape {values.shape}")
    items = list(values)
    if length is not None and len(items) != length:
        raise ShapeError(f"{name} must list {length} integers, got {len(items)}: {_show(items)}")
    if len(items) < min_length:
        raise InvalidArgument(f"{name} must list at least {min_length} integers, got {_show(items)}")
    return [check_int(v, f"{name}[{i}]", low=low) for i, v in enumerate(items)]


def check_matrix_pair(pair, name: str, *, rows: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A pair (U, V) of finite matrices with the same number of columns (rows as given)."""
    if isinstance(pair, (str, bytes, np.ndarray)) or not isinstance(pair, Sequence) or len(pair) != 2:
        raise InvalidArgument(f"{name} must be a pair (U, V) of matrices, got {_show(pair)}")
    u = as_matrix(pair[0], f"{name}[0]")
    v = as_matrix(pair[1], f"{name}[1]")
    if u.shape[1] != v.shape[1]:
        raise ShapeError(f"{name} = (U, V) needs the same number of columns, got shapes {u.shape} and {v.shape}")
    if rows is not None and (u.shape[0], v.shape[0]) != tuple(rows):
        raise ShapeError(f"{name} = (U, V) must have {rows[0]} and {rows[1]} rows, got shapes {u.shape} and {v.shape}")
    return u, v


def check_factors(factors: Sequence, name: str = "factors") -> list[np.ndarray]:
    """Validate a list [W_1, ..., W_N] with W_j of shape (d_j, d_{j-1}) that chains."""
    if isinstance(factors, np.ndarray) and factors.ndim == 2:
        factors = [factors]
    if factors is None or isinstance(factors, (str, bytes)) or not isinstance(factors, Iterable):
        raise InvalidArgument(f"{name} must be a sequence of matrices [W_1, ..., W_N], got {_show(factors)}")
    fs = list(factors)
    if len(fs) < 1:
        raise InvalidArgument(f"{name} must hold at least one matrix (depth >= 1), got an empty sequence")
    out = [as_matrix(w, f"{name}[{j}] (W_{j + 1})") for j, w in enumerate(fs)]
    for j in range(1, len(out)):
        if out[j].shape[1] != out[j - 1].shape[0]:
            raise ShapeError(
                f"{name} do not chain: W_{j + 1} = {name}[{j}] has shape {out[j].shape} but W_{j} has "
                f"shape {out[j - 1].shape} (need W_{j + 1}.shape[1] == W_{j}.shape[0])"
            )
    return out


def check_loss(loss, name: str = "loss"):
    """An object with callable ``value(W)`` and ``gradient(W)`` (a SensingLoss, CompletionLoss, ...)."""
    if not (callable(getattr(loss, "value", None)) and callable(getattr(loss, "gradient", None))):
        raise InvalidArgument(f"{name} must be a loss with value(W) and gradient(W) methods (e.g. a SensingLoss), "
                              f"got {_show(loss)}")
    return loss
