"""Richardson extrapolation of a quantity with an asymptotic expansion in a step size.

For gradient descent with step eta run to a fixed time T = K eta (K steps), the factors satisfy
W_GD(eta) = W_flow(T) + eta e_1(T) + eta^2 e_2(T) + ... (GD is the explicit Euler method for the
factor-level gradient flow). With values at eta, eta/2, eta/4, ..., the Neville tableau

    T[i][0] = A(eta / 2^i),   T[i][j] = T[i][j-1] + (T[i][j-1] - T[i-1][j-1]) / (2^j - 1)

cancels eta^1 .. eta^j: column j converges with order j + 1 (the weights are derived and checked in
:mod:`dmf_verify.theory.richardson`). :func:`measured_orders` reads the order of every column off
its errors against a reference. Values may be numpy arrays (float64) or lists of mpf.

>>> import numpy as np
>>> vals = [np.exp(0.5 / 2**i) for i in range(7)]       # A(h) = e^h, limit 1 as h -> 0
>>> tab = tableau(vals)
>>> f"{abs(tab[6][0] - 1):.1e}", f"{abs(tab[6][6] - 1):.1e}"  # plain values vs 6 levels of extrapolation
('7.8e-03', '8.4e-13')
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from dmf_verify.errors import InvalidArgument, ShapeError
from dmf_verify.numerics.validation import _show, as_finite_array, check_exact_real, check_int, check_real


def _combine(a, b, factor):
    """a + (a - b) * factor for arrays or lists of numbers."""
    if isinstance(a, list):
        return [x + (x - y) * factor for x, y in zip(a, b)]
    return a + (a - b) * factor


def tableau(values: Sequence, *, first_power: int = 1) -> list[list]:
    """The Neville tableau for values at eta / 2^i (i = 0, 1, ...), error powers first_power, first_power+1, ...

    ``tab[i][j]`` (j <= i) combines ``values[i-j..i]`` and cancels the powers first_power..first_power+j-1.
    """
    values = _check_values(values)
    first_power = check_int(first_power, "first_power", low=1)
    exact = isinstance(values[0], list)     # mp values: the factors in mp too (a float 1/3 would cap them at ~1e-17)
    if exact:
        import mpmath
    tab = [[values[0]]]
    for i in range(1, len(values)):
        row = [values[i]]
        for j in range(1, i + 1):
            den = 2 ** (first_power + j - 1) - 1
            factor = mpmath.mpf(1) / den if exact else 1.0 / den
            row.append(_combine(row[j - 1], tab[i - 1][j - 1], factor))
        tab.append(row)
    return tab


def _check_values(values) -> list:
    """A non-empty sequence of same-shaped finite float arrays, or of equally long lists of mp reals."""
    if values is None or isinstance(values, (str, bytes, np.ndarray)) or not isinstance(values, Sequence):
        raise InvalidArgument(f"values must be a sequence of arrays (or of lists of mpf), got {_show(values)}")
    if len(values) < 1:
        raise InvalidArgument("values must hold at least one value (tableau needs at least one value)")
    out = []
    for i, v in enumerate(values):
        if isinstance(v, list):
            for k, x in enumerate(v):
                check_exact_real(x, f"values[{i}][{k}]")
            out.append(v)
        else:
            out.append(as_finite_array(v, f"values[{i}]"))
    kinds = {isinstance(v, list) for v in out}
    if len(kinds) > 1:
        raise InvalidArgument("values must be all arrays or all lists of mpf, not a mix")
    shapes = {len(v) if isinstance(v, list) else v.shape for v in out}
    if len(shapes) > 1:
        raise ShapeError(f"values must all have the same shape, got {sorted(map(str, shapes))}")
    return out


def _norm(x) -> float:
    if isinstance(x, list):
        import mpmath

        return float(mpmath.sqrt(sum(v * v for v in x)))
    import numpy as np

    return float(np.linalg.norm(x))


def _sub(a, b):
    if isinstance(a, list):
        return [x - y for x, y in zip(a, b)]
    return a - b


def column_errors(tab: list[list], reference) -> list[list[float]]:
    """errors[j][i] = ||tab[i + j][j] - reference|| / ||reference||, column by column."""
    if not isinstance(tab, list) or not tab or not all(isinstance(row, list) and len(row) == i + 1
                                                         for i, row in enumerate(tab)):
        raise InvalidArgument(f"tab must be a tableau (a list of rows, row i holding i + 1 entries, from tableau()), "
                              f"got {_show(tab)}")
    first = tab[0][0]
    if isinstance(first, list):
        if not isinstance(reference, list) or len(reference) != len(first):
            raise ShapeError(f"reference must be a list of {len(first)} mp reals like the tableau's entries, "
                             f"got {_show(reference)}")
        for k, x in enumerate(reference):
            check_exact_real(x, f"reference[{k}]")
    else:
        reference = as_finite_array(reference, "reference")
        if reference.shape != np.shape(first):
            raise ShapeError(f"reference has shape {reference.shape} but the tableau's entries have shape "
                             f"{np.shape(first)}")
    scale = _norm(reference)
    if scale == 0:
        raise InvalidArgument("the reference is zero: relative errors are undefined")
    n = len(tab)
    return [[_norm(_sub(tab[i][j], reference)) / scale for i in range(j, n)] for j in range(n)]


def measured_orders(errors: list[list[float]]) -> list[list[float]]:
    """log2(e_i / e_{i+1}) along each column (a column j converging with order j + 1 shows ~ j + 1)."""
    if errors is None or isinstance(errors, (str, bytes)) or not isinstance(errors, Sequence):
        raise InvalidArgument(f"errors must be a list of columns of relative errors (from column_errors()), "
                              f"got {_show(errors)}")
    for j, col in enumerate(errors):
        if isinstance(col, (str, bytes)) or not isinstance(col, Sequence):
            raise InvalidArgument(f"errors[{j}] must be a sequence of relative errors, got {_show(col)}")
        for i, e in enumerate(col):
            check_real(e, f"errors[{j}][{i}]", low=0.0)
    out = []
    for col in errors:
        out.append([math.log2(a / b) if a > 0 and b > 0 else math.inf for a, b in itertools.pairwise(col)])
    return out


def digits(error: float) -> float:
    """-log10 of a relative error (inf for 0)."""
    error = check_real(error, "error", low=0.0)
    return math.inf if error == 0 else -math.log10(error)


__all__ = ["column_errors", "digits", "measured_orders", "tableau"]
