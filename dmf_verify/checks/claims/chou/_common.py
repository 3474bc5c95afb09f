"""Shared instances for the chou.* claims (built inside functions; nothing runs at import)."""

from __future__ import annotations

import numpy as np


def orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def symmetric_with_spectrum(spectrum, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lam = np.asarray(spectrum, dtype=float)
    q = orthogonal(lam.size, rng)
    a = (q * lam) @ q.T
    return 0.5 * (a + a.T)
