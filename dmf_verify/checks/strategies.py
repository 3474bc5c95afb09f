"""Hypothesis strategies for property tests about deep matrix factorization (public API).

Every strategy draws a small *recipe* (a frozen dataclass of ints, floats and tuples) rather
than raw random arrays; the matrices are built from the recipe on first access. So a failing
example prints as one readable line such as
``BalancedFactorization(depth=2, shape=(2, 2), spectrum=(1.0, 0.5), seed=0)`` and hypothesis
shrinks it towards depth 1, 1x1 shapes, seed 0 and simple spectra. ``x.reproducer()`` returns
Python code that rebuilds the instance outside hypothesis.

Strategies (all arguments optional; a fixed value pins that part, ``None`` draws it)::

    depths(min_depth=1, max_depth=4)
    shapes(min_dim=1, max_dim=4, square=False)
    seeds()
    well_separated_spectra(k=None, low=0.5, high=2.0, min_rel_gap=0.1)
    balanced_factorizations(depth=None, shape=None, scale=None, hidden=None)
    sensing_problems(shape=None, m=None, rank=None, symmetric=False)
    completion_problems(shape=None, m=None, rank=None)
    commuting_measurements(dim=None, m=None, diagonal=False)
    trajectories(problem="sensing", depth=None, shape=None, horizon=None)

Example::

    from hypothesis import given
    from dmf_verify.checks.strategies import balanced_factorizations
    from dmf_verify.numerics import imbalance_norm

    @given(balanced_factorizations())
    def test_balanced(bf):
        assert imbalance_norm(bf.factors, relative=True) < 1e-12

Nothing here computes at import time; numpy work happens when a recipe is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from hypothesis import strategies as st

__all__ = [
    "BalancedFactorization",
    "SensingProblem",
    "CompletionProblem",
    "CommutingSensing",
    "Trajectory",
    "depths",
    "shapes",
    "seeds",
    "well_separated_spectra",
    "balanced_factorizations",
    "sensing_problems",
    "completion_problems",
    "commuting_measurements",
    "trajectories",
]

MAX_SEED = 2**16


# --------------------------------------------------------------------------------------------
# recipes
# --------------------------------------------------------------------------------------------
class _Recipe:
    """Common behaviour: a one-line reproducer and cheap hashing of the recipe fields."""

    def reproducer(self) -> str:
        """Python code that rebuilds this instance (for bug reports and failure messages)."""
        return f"from dmf_verify.checks.strategies import {type(self).__name__}\ninstance = {self!r}"


def _orthonormal(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return q * np.sign(np.where(np.diag(r) == 0, 1.0, np.diag(r)))


def _with_spectrum(rng: np.random.Generator, shape, spectrum) -> np.ndarray:
    d, dp = shape
    k = len(spectrum)
    return (_orthonormal(rng, d, k) * np.asarray(spectrum, dtype=float)) @ _orthonormal(rng, dp, k).T


def _low_rank(rng: np.random.Generator, shape, rank: int) -> np.ndarray:
    """A rank-``rank`` matrix with singular values 1, 1/2, 1/3, ... (scale of order 1)."""
    return _with_spectrum(rng, shape, [1.0 / (i + 1) for i in range(rank)])


@dataclass(frozen=True)
class BalancedFactorization(_Recipe):
    """Balanced factors ``[W_1..W_N]`` whose product has singular values ``scale * spectrum``.

    ``hidden`` lists d_1..d_(N-1) (default min(shape) each). Attributes (built lazily):
    ``factors``, ``product``, ``depth``.
    """

    depth: int
    shape: tuple[int, int]
    spectrum: tuple[float, ...]
    seed: int = 0
    scale: float = 1.0
    hidden: tuple[int, ...] | None = None

    @cached_property
    def product(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        return _with_spectrum(rng, self.shape, [self.scale * s for s in self.spectrum])

    @cached_property
    def factors(self) -> list[np.ndarray]:
        from dmf_verify.numerics.model import balanced_factors

        hidden = None if self.hidden is None else list(self.hidden)
        return balanced_factors(self.product, self.depth, hidden=hidden, seed=self.seed + 1)


@dataclass(frozen=True)
class SensingProblem(_Recipe):
    """Gaussian sensing of a rank-``rank`` ground truth with **consistent** y_i = <A_i, W*>.

    A_i has i.i.d. N(0, 1/(d d')) entries (symmetrized when ``symmetric``), so the loss
    l(W) = 1/2 sum_i (<A_i, W> - y_i)^2 has curvature of order 1 for every shape.
    Attributes: ``loss`` (a :class:`numerics.SensingLoss`), ``ground_truth``.
    """

    shape: tuple[int, int]
    m: int
    rank: int = 1
    seed: int = 0
    symmetric: bool = False

    @cached_property
    def ground_truth(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        w = _low_rank(rng, self.shape, self.rank)
        return 0.5 * (w + w.T) if self.symmetric else w

    @cached_property
    def loss(self):
        from dmf_verify.numerics.losses import SensingLoss

        rng = np.random.default_rng(self.seed + 7919)
        d, dp = self.shape
        a = rng.standard_normal((self.m, d, dp)) / np.sqrt(d * dp)
        if self.symmetric:
            a = 0.5 * (a + a.transpose(0, 2, 1))
        y = a.reshape(self.m, -1) @ self.ground_truth.reshape(-1)
        return SensingLoss(a, y, reduction="sum", half=True)


@dataclass(frozen=True)
class CompletionProblem(_Recipe):
    """Matrix completion: ``m`` distinct observed entries of a rank-``rank`` ground truth.

    ``loss`` is a :class:`numerics.CompletionLoss` (``reduction``/``half`` as given; default the
    paper code's mean without 1/2) whose values are exactly the ground truth's entries.
    """

    shape: tuple[int, int]
    m: int
    rank: int = 1
    seed: int = 0
    reduction: str = "mean"
    half: bool = False

    @cached_property
    def ground_truth(self) -> np.ndarray:
        return _low_rank(np.random.default_rng(self.seed), self.shape, self.rank)

    @cached_property
    def loss(self):
        from dmf_verify.numerics.losses import random_completion

        return random_completion(self.ground_truth, self.m, seed=self.seed + 1,
                                 reduction=self.reduction, half=self.half)


@dataclass(frozen=True)
class CommutingSensing(_Recipe):
    """Symmetric, pairwise commuting A_i = Q diag(c_i) Q^T (Theorem 2's setting), consistent y.

    ``diagonal=True`` uses Q = I (diagonal A_i, the most readable case). y_i = <A_i, W*> for the
    PSD ground truth W* = Q diag(lambda) Q^T with ``rank`` positive eigenvalues.
    Attributes: ``loss``, ``ground_truth``, ``eigenbasis`` (Q), ``matrices`` (A, shape (m, d, d)).
    """

    dim: int
    m: int
    rank: int = 1
    seed: int = 0
    diagonal: bool = False

    @cached_property
    def eigenbasis(self) -> np.ndarray:
        if self.diagonal:
            return np.eye(self.dim)
        return _orthonormal(np.random.default_rng(self.seed), self.dim, self.dim)

    @cached_property
    def matrices(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed + 17)
        c = rng.standard_normal((self.m, self.dim))
        q = self.eigenbasis
        return np.einsum("ij,mj,kj->mik", q, c, q)

    @cached_property
    def ground_truth(self) -> np.ndarray:
        lam = np.zeros(self.dim)
        lam[: self.rank] = [1.0 / (i + 1) for i in range(self.rank)]
        q = self.eigenbasis
        return (q * lam) @ q.T

    @cached_property
    def loss(self):
        from dmf_verify.numerics.losses import SensingLoss

        a = self.matrices
        return SensingLoss(a, a.reshape(self.m, -1) @ self.ground_truth.reshape(-1), reduction="sum", half=True)


@dataclass(frozen=True)
class Trajectory(_Recipe):
    """A problem, an initialization and a horizon: everything needed to run a flow or GD.

    ``problem`` is one of the problem recipes above; ``init`` a :class:`BalancedFactorization`
    of the same shape. Attributes: ``loss``, ``factors``, ``depth``, ``horizon``, and
    ``times(n)`` (n equally spaced times in [0, horizon]).
    """

    problem: SensingProblem | CompletionProblem | CommutingSensing
    init: BalancedFactorization
    horizon: float

    @property
    def loss(self):
        return self.problem.loss

    @property
    def factors(self) -> list[np.ndarray]:
        return [f.copy() for f in self.init.factors]

    @property
    def depth(self) -> int:
        return self.init.depth

    def times(self, n: int = 5) -> np.ndarray:
        return np.linspace(0.0, self.horizon, int(n))

    def reproducer(self) -> str:
        names = sorted({type(self).__name__, type(self.problem).__name__, type(self.init).__name__})
        return f"from dmf_verify.checks.strategies import {', '.join(names)}\ninstance = {self!r}"


# --------------------------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------------------------
def _pinned(value, strategy):
    return st.just(value) if value is not None else strategy


def depths(min_depth: int = 1, max_depth: int = 4) -> st.SearchStrategy[int]:
    """Depths N in [min_depth, max_depth]; shrinks towards ``min_depth``."""
    return st.integers(min_depth, max_depth)


def shapes(min_dim: int = 1, max_dim: int = 4, *, square: bool = False) -> st.SearchStrategy[tuple[int, int]]:
    """(d, d') with entries in [min_dim, max_dim]; shrinks towards (min_dim, min_dim)."""
    dims = st.integers(min_dim, max_dim)
    if square:
        return dims.map(lambda n: (n, n))
    return st.tuples(dims, dims)


def seeds() -> st.SearchStrategy[int]:
    """Seeds in [0, 2^16); shrinks towards 0."""
    return st.integers(0, MAX_SEED - 1)


@st.composite
def well_separated_spectra(draw, k: int | None = None, *, low: float = 0.5, high: float = 2.0,
                           min_rel_gap: float = 0.1, max_k: int = 4) -> tuple[float, ...]:
    """Descending positive values s_1 > ... > s_k with s_i / s_(i+1) - 1 >= ``min_rel_gap``.

    The smallest value lies in [low, high]; consecutive ratios are in [1 + min_rel_gap, 2].
    Values are rounded to 3 significant digits (readable counterexamples) and re-checked.
    Shrinks towards ``(low,)`` and the minimal gap.
    """
    if not (0 < low <= high):
        from dmf_verify.errors import InvalidArgument

        raise InvalidArgument(f"need 0 < low <= high, got low={low}, high={high}")
    n = k if k is not None else draw(st.integers(1, max_k))
    smallest = draw(st.floats(low, high, allow_nan=False, allow_infinity=False))
    vals = [smallest]
    for _ in range(n - 1):
        vals.append(vals[-1] * (1.0 + draw(st.floats(min_rel_gap, 1.0))))
    out = tuple(float(f"{v:.3g}") for v in reversed(vals))
    ok = all(out[i] >= out[i + 1] * (1 + min_rel_gap) * (1 - 1e-12) for i in range(n - 1))
    if not ok:  # rounding ate the gap: fall back to the unrounded values
        out = tuple(reversed(vals))
    return out


@st.composite
def balanced_factorizations(draw, depth: int | None = None, shape: tuple[int, int] | None = None,
                            scale: float | None = None, hidden: tuple[int, ...] | None = None, *,
                            max_depth: int = 4, max_dim: int = 4,
                            spectrum: tuple[float, ...] | None = None) -> BalancedFactorization:
    """Balanced factorizations (Arora et al. 2019, eq. 5) with a full-rank, well-separated product.

    Pin ``depth``, ``shape``, ``scale`` (the product's singular values are ``scale * spectrum``)
    or ``hidden`` widths, or let them be drawn. Drawn hidden widths are min(shape) + {0, 1}.
    """
    n = draw(_pinned(depth, depths(1, max_depth)))
    shp = draw(_pinned(tuple(shape) if shape is not None else None, shapes(1, max_dim)))
    k = min(shp)
    spec = draw(_pinned(tuple(spectrum) if spectrum is not None else None, well_separated_spectra(k)))
    sc = draw(_pinned(scale, st.sampled_from([1.0, 0.5, 2.0, 0.1])))
    if hidden is None:
        hid = tuple(draw(st.lists(st.integers(k, k + 1), min_size=n - 1, max_size=n - 1)))
        hid = None if all(h == k for h in hid) else hid
    else:
        hid = tuple(hidden)
    return BalancedFactorization(depth=n, shape=shp, spectrum=spec, seed=draw(seeds()), scale=sc, hidden=hid)


@st.composite
def sensing_problems(draw, shape: tuple[int, int] | None = None, m: int | None = None,
                     rank: int | None = None, *, symmetric: bool = False, max_dim: int = 4) -> SensingProblem:
    """Sensing problems with consistent measurements; m defaults to a draw in [1, d d']."""
    shp = draw(_pinned(tuple(shape) if shape is not None else None, shapes(1, max_dim, square=symmetric)))
    if symmetric and shp[0] != shp[1]:
        from dmf_verify.errors import ShapeError

        raise ShapeError(f"symmetric sensing needs a square shape, got {shp}")
    r = draw(_pinned(rank, st.integers(1, min(shp))))
    mm = draw(_pinned(m, st.integers(1, shp[0] * shp[1])))
    return SensingProblem(shape=shp, m=mm, rank=r, seed=draw(seeds()), symmetric=symmetric)


@st.composite
def completion_problems(draw, shape: tuple[int, int] | None = None, m: int | None = None,
                        rank: int | None = None, *, max_dim: int = 4, reduction: str = "mean",
                        half: bool = False) -> CompletionProblem:
    """Completion problems: m distinct observed entries (1 <= m <= d d') of a low-rank matrix."""
    shp = draw(_pinned(tuple(shape) if shape is not None else None, shapes(1, max_dim)))
    r = draw(_pinned(rank, st.integers(1, min(shp))))
    mm = draw(_pinned(m, st.integers(1, shp[0] * shp[1])))
    return CompletionProblem(shape=shp, m=mm, rank=r, seed=draw(seeds()), reduction=reduction, half=half)


@st.composite
def commuting_measurements(draw, dim: int | None = None, m: int | None = None, rank: int | None = None,
                           *, diagonal: bool | None = None, max_dim: int = 4) -> CommutingSensing:
    """Commuting symmetric measurement sets (simultaneously diagonalizable) with consistent y."""
    d = draw(_pinned(dim, st.integers(1, max_dim)))
    mm = draw(_pinned(m, st.integers(1, d)))
    r = draw(_pinned(rank, st.integers(1, d)))
    diag = draw(_pinned(diagonal, st.booleans().map(lambda b: not b)))  # shrinks to diagonal=True
    return CommutingSensing(dim=d, m=mm, rank=r, seed=draw(seeds()), diagonal=diag)


@st.composite
def trajectories(draw, problem: str = "sensing", depth: int | None = None, shape: tuple[int, int] | None = None,
                 horizon: float | None = None, *, scale: float | None = None, max_depth: int = 3,
                 max_dim: int = 3) -> Trajectory:
    """A problem (``"sensing"``, ``"completion"`` or ``"commuting"``) + balanced init + horizon.

    Horizons are drawn from {0.5, 1.0, 0.25, 2.0} (shrinking to 0.5): long enough for the
    dynamics to move, short enough for a tight DOP853 solve.
    """
    if problem == "sensing":
        prob = draw(sensing_problems(shape=shape, max_dim=max_dim))
        shp = prob.shape
    elif problem == "completion":
        prob = draw(completion_problems(shape=shape, max_dim=max_dim))
        shp = prob.shape
    elif problem == "commuting":
        dim = None if shape is None else shape[0]
        prob = draw(commuting_measurements(dim=dim, max_dim=max_dim))
        shp = (prob.dim, prob.dim)
    else:
        from dmf_verify.errors import InvalidArgument

        raise InvalidArgument(f"problem must be 'sensing', 'completion' or 'commuting', got {problem!r}")
    init = draw(balanced_factorizations(depth=depth, shape=shp, scale=scale, max_depth=max_depth))
    h = draw(_pinned(horizon, st.sampled_from([0.5, 1.0, 0.25, 2.0])))
    return Trajectory(problem=prob, init=init, horizon=float(h))

