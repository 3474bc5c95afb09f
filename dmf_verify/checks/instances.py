"""Random problem instances shared by the claims (every choice drawn from a seed)."""

from __future__ import annotations

import numpy as np

from dmf_verify.errors import ShapeError
from dmf_verify.numerics.losses import SensingLoss, random_completion
from dmf_verify.numerics.model import balanced_factors
from dmf_verify.numerics.validation import as_vector, check_int, check_seed, check_shape


def matrix_with_spectrum(shape, spectrum, *, seed: int) -> np.ndarray:
    """U diag(spectrum) V^T with Haar-random orthonormal U, V (len(spectrum) <= min(shape))."""
    d, dp = check_shape(shape)
    spectrum = as_vector(spectrum, "spectrum")
    rng = np.random.default_rng(check_seed(seed))
    k = len(spectrum)
    if k > min(d, dp):
        raise ShapeError(f"spectrum has {k} values but a {(d, dp)} matrix has at most {min(d, dp)}")
    u, _ = np.linalg.qr(rng.standard_normal((d, k)))
    v, _ = np.linalg.qr(rng.standard_normal((dp, k)))
    return (u * np.asarray(spectrum, dtype=float)) @ v.T


def sensing_loss(shape, m: int, *, seed: int):
    """1/2-sum Gaussian sensing of a random rank-1 target, with A_i ~ N(0, 1/(d d')) entries.

    The scaling keeps <A_i, W> and the curvature of order 1 for any shape, so the same time
    horizons suit every instance.
    """
    d, dp = check_shape(shape)
    m = check_int(m, "m", low=1)
    rng = np.random.default_rng(check_seed(seed) + 7919)
    target = np.outer(rng.standard_normal(d), rng.standard_normal(dp))
    a = rng.standard_normal((m, d, dp)) / np.sqrt(d * dp)
    return SensingLoss(a, a.reshape(m, -1) @ target.reshape(-1), reduction="sum", half=True)


def completion_loss(shape, m: int, *, seed: int):
    shape = check_shape(shape)
    rng = np.random.default_rng(check_seed(seed) + 104729)
    target = np.outer(rng.standard_normal(shape[0]), rng.standard_normal(shape[1]))
    return random_completion(target, m, seed=seed, reduction="mean", half=True)


def balanced_instance(shape, depth: int, *, seed: int, spectrum=None, hidden=None):
    """Balanced factors with a product of distinct, well-separated singular values."""
    shape, seed = check_shape(shape), check_seed(seed)
    k = min(shape)
    if spectrum is None:
        spectrum = np.linspace(1.5, 0.5, k)
    w0 = matrix_with_spectrum(shape, spectrum, seed=seed)
    return balanced_factors(w0, depth, hidden=hidden, seed=seed + 1)
