"""Argument validation shared by the numerics (clear errors, never a silent NaN)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dmf_verify.errors import InvalidArgument, NonFiniteError, ShapeError


def as_matrix(x, name: str = "matrix") -> np.ndarray:
    """Return ``x`` as a finite float64 2-D array or raise a specific error."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ShapeError(f"{name} must be a 2-D matrix, got an array of shape {a.shape}")
    if not np.all(np.isfinite(a)):
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise NonFiniteError(f"{name} has {bad} non-finite entries (NaN or inf)")
    return a


def as_finite_array(x, name: str = "array") -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise NonFiniteError(f"{name} has {bad} non-finite entries (NaN or inf)")
    return a


def check_depth(depth) -> int:
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)):
        raise InvalidArgument(f"depth must be an integer >= 1, got {depth!r}")
    if depth < 1:
        raise InvalidArgument(f"depth must be >= 1, got {depth}")
    return int(depth)


def check_positive(value, name: str, *, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name} must be a real number, got {value!r}") from None
    if not np.isfinite(v):
        raise NonFiniteError(f"{name} must be finite, got {v}")
    if v < 0 or (v == 0 and not allow_zero):
        limit = ">= 0" if allow_zero else "> 0"
        raise InvalidArgument(f"{name} must be {limit}, got {v}")
    return v


def check_factors(factors: Sequence) -> list[np.ndarray]:
    """Validate a list [W_1, ..., W_N] with W_j of shape (d_j, d_{j-1}) that chains."""
    if isinstance(factors, np.ndarray) and factors.ndim == 2:
        factors = [factors]
    try:
        fs = list(factors)
    except TypeError:
        raise InvalidArgument(f"factors must be a sequence of matrices, got {type(factors).__name__}") from None
    if len(fs) < 1:
        raise InvalidArgument("depth must be >= 1: got an empty list of factors")
    out = [as_matrix(w, f"factor W_{j + 1}") for j, w in enumerate(fs)]
    for j in range(1, len(out)):
        if out[j].shape[1] != out[j - 1].shape[0]:
            raise ShapeError(
                f"factors do not chain: W_{j + 1} has shape {out[j].shape} but W_{j} has "
                f"shape {out[j - 1].shape} (need W_{j + 1}.shape[1] == W_{j}.shape[0])"
            )
    return out


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidArgument(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)
