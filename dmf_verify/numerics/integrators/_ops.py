"""The few in-place vector operations the flow integrators need, for numpy arrays and torch tensors.

The integrators (:mod:`.dopri5`, :mod:`.rkc`) are written once against this interface, so the same
code runs on numpy (CPU) and on torch (CPU or CUDA: the state stays on the device; only scalars
such as error norms come back to the host). Every operation writes into a buffer given as ``out``.
"""

from __future__ import annotations

import math

import numpy as np


class NumpyOps:
    name = "numpy"

    @staticmethod
    def empty(size, like):
        return np.empty(size, dtype=like.dtype)

    @staticmethod
    def empty_2d(rows, size, like):
        return np.empty((rows, size), dtype=like.dtype)

    @staticmethod
    def coeffs(values, like):
        return np.asarray(values, dtype=like.dtype)

    @staticmethod
    def copy(x):
        return np.array(x, copy=True)

    @staticmethod
    def combo(coeffs, rows, out):
        """out = coeffs @ rows (a linear combination of stacked vectors)."""
        np.dot(coeffs, rows, out=out)

    mul = staticmethod(lambda a, c, out: np.multiply(a, c, out=out))
    add = staticmethod(lambda a, b, out: np.add(a, b, out=out))
    sub = staticmethod(lambda a, b, out: np.subtract(a, b, out=out))
    div = staticmethod(lambda a, b, out: np.divide(a, b, out=out))
    abs = staticmethod(lambda a, out: np.abs(a, out=out))
    maximum = staticmethod(lambda a, b, out: np.maximum(a, b, out=out))
    assign = staticmethod(lambda dst, src: np.copyto(dst, src))

    @staticmethod
    def sqsum(a) -> float:
        return float(np.dot(a, a))

    @staticmethod
    def norm(a) -> float:
        return math.sqrt(float(np.dot(a, a)))

    @staticmethod
    def randn(size, like, seed):
        return np.random.default_rng(seed).standard_normal(size).astype(like.dtype)

    @staticmethod
    def eps(like) -> float:
        return float(np.finfo(like.dtype).eps)

    @staticmethod
    def same(a, b) -> bool:
        return a is b


class TorchOps:
    name = "torch"

    def __init__(self):
        import torch

        self.torch = torch

    def empty(self, size, like):
        return self.torch.empty(size, dtype=like.dtype, device=like.device)

    def empty_2d(self, rows, size, like):
        return self.torch.empty((rows, size), dtype=like.dtype, device=like.device)

    def coeffs(self, values, like):
        return self.torch.tensor(list(values), dtype=like.dtype, device=like.device)

    def copy(self, x):
        return x.clone()

    def combo(self, coeffs, rows, out):
        self.torch.mv(rows.T, coeffs, out=out)

    def mul(self, a, c, out):
        self.torch.mul(a, c, out=out)

    def add(self, a, b, out):
        self.torch.add(a, b, out=out)

    def sub(self, a, b, out):
        self.torch.sub(a, b, out=out)

    def div(self, a, b, out):
        self.torch.div(a, b, out=out)

    def abs(self, a, out):
        self.torch.abs(a, out=out)

    def maximum(self, a, b, out):
        self.torch.maximum(a, b, out=out)

    def assign(self, dst, src):
        dst.copy_(src)

    def sqsum(self, a) -> float:
        return float(self.torch.dot(a, a))

    def norm(self, a) -> float:
        return float(self.torch.linalg.vector_norm(a))

    def randn(self, size, like, seed):
        # the same vector as the numpy path (so CPU runs of both backends take the same steps)
        v = np.random.default_rng(seed).standard_normal(size)
        return self.torch.as_tensor(v, device=like.device).to(like.dtype)

    def eps(self, like) -> float:
        return float(self.torch.finfo(like.dtype).eps)

    @staticmethod
    def same(a, b) -> bool:
        return a is b


_NUMPY = NumpyOps()


def ops_for(y):
    """The operations for the array type of ``y``."""
    if isinstance(y, np.ndarray):
        return _NUMPY
    return TorchOps()
