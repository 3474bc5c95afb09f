"""Hypothesis strategies for the dynamics property tests: spectral flow, GD vs flow, compiled formulas.

A strategy draws a :class:`DynamicsInstance` -- depth, shape, loss kind (sensing, completion, the Chou
et al. estimation loss), init (balanced or unbalanced) and seed -- a frozen recipe whose ``repr`` is a
one-line reproducer::

    DynamicsInstance(depth=2, shape=(3, 2), loss='sensing', init='balanced', seed=0)

and hypothesis shrinks it towards depth 1, the smallest shape, the first loss kind, the balanced init
and seed 0. The matrices are built on demand (``instance.make_loss()``, ``instance.factors()``).

>>> from dmf_verify.checks.strategies_dynamics import DynamicsInstance
>>> inst = DynamicsInstance(depth=2, shape=(3, 2), loss="estimation", init="balanced", seed=0)
>>> [f.shape for f in inst.factors()], inst.make_loss().shape
([(2, 2), (3, 2)], (3, 2))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

LOSSES = ("sensing", "completion", "estimation")
INITS = ("balanced", "unbalanced")


@dataclass(frozen=True)
class DynamicsInstance:
    depth: int
    shape: tuple[int, int]
    loss: str = "sensing"
    init: str = "balanced"
    seed: int = 0

    def __repr__(self) -> str:
        return (f"DynamicsInstance(depth={self.depth}, shape={self.shape}, loss={self.loss!r}, "
                f"init={self.init!r}, seed={self.seed})")

    def reproducer(self) -> str:
        return f"from dmf_verify.checks.strategies_dynamics import DynamicsInstance\ninstance = {self!r}"

    @property
    def k(self) -> int:
        return min(self.shape)

    def hidden(self) -> list[int]:
        return [self.k + (j % 2) for j in range(self.depth - 1)]

    def make_loss(self):
        from dmf_verify.checks.instances import completion_loss, sensing_loss
        from dmf_verify.numerics.losses import FrobeniusLoss

        d, dp = self.shape
        if self.loss == "sensing":
            return sensing_loss(self.shape, d * dp + 1, seed=self.seed)
        if self.loss == "completion":
            return completion_loss(self.shape, max(1, (d * dp * 2) // 3), seed=self.seed)
        rng = np.random.default_rng([self.seed, 19])
        return FrobeniusLoss(np.outer(rng.standard_normal(d), rng.standard_normal(dp)) / np.sqrt(d * dp))

    def factors(self) -> list[np.ndarray]:
        from dmf_verify.checks.instances import balanced_instance
        from dmf_verify.numerics.model import random_factors

        if self.init == "balanced":
            spectrum = np.linspace(1.4, 0.6, self.k)
            return balanced_instance(self.shape, self.depth, seed=self.seed, spectrum=spectrum, hidden=self.hidden())
        dims = [self.shape[1]] + self.hidden() + [self.shape[0]]
        return random_factors(dims, scale=1.0, seed=self.seed)


def dynamics_instances(*, min_depth: int = 1, max_depth: int = 5, min_dim: int = 2, max_dim: int = 4,
                       losses=LOSSES, inits=INITS, rectangular: bool | None = None) -> st.SearchStrategy:
    """Recipes over depth, shape (d, d'), loss kind, init and seed.

    ``rectangular=True`` forces d != d' (so a projection term of Lemma 2 is active), ``False`` d = d'.
    """
    def shape_ok(s):
        if rectangular is None:
            return True
        return (s[0] != s[1]) == rectangular

    shapes = st.tuples(st.integers(min_dim, max_dim), st.integers(min_dim, max_dim)).filter(shape_ok)
    return st.builds(DynamicsInstance, depth=st.integers(min_depth, max_depth), shape=shapes,
                     loss=st.sampled_from(tuple(losses)), init=st.sampled_from(tuple(inits)),
                     seed=st.integers(0, 2**16))


__all__ = ["INITS", "LOSSES", "DynamicsInstance", "dynamics_instances"]
