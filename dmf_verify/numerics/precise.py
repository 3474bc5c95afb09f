"""High-precision tools: the mpmath GBS integrator (re-exported from its home,
:mod:`dmf_verify.numerics.integrators.gbs`), digit agreement, and small test systems.

``integrate(rhs, y0, t_eval, digits=40)`` returns a
:class:`~dmf_verify.numerics.integrators.Solution`; ``PreciseResult`` is kept as a name for it.
"""

from __future__ import annotations

import math

import mpmath
from mpmath import mp

from dmf_verify.errors import ShapeError
from dmf_verify.numerics.integrators._solution import Solution
from dmf_verify.numerics.integrators.gbs import GUARD_DIGITS, _to_mpf_list, default_columns, integrate
from dmf_verify.numerics.validation import check_depth, check_exact_real, check_option

PreciseResult = Solution


def mp_digits_agreement(a, b) -> float:
    """-log10 of the relative difference |a-b|/max(|a|,|b|) (inf when equal), for mpf or float."""
    check_exact_real(a, "a")
    check_exact_real(b, "b")
    with mp.workdps(max(mp.dps, 60)):
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        den = max(abs(a), abs(b))
        if a == b:
            return math.inf
        return float(-mpmath.log10(abs(a - b) / den))


__all__ = ["GUARD_DIGITS", "PreciseResult", "default_columns", "integrate", "mp_digits_agreement"]


# --- small test systems (used by the precision claims and benchmarks/bench_precise.py) ------------
def diagonal_flow_rhs(depth: int, target, *, backend: str = "mp"):
    """Gradient flow of 1/2 ||W_N...W_1 - diag(target)||_F^2 over *diagonal* factors W_j = diag(w_j).

    State layout: y = [w_1 (k entries), w_2, ..., w_N]; component i of layer j obeys
    dw_{j,i}/dt = -(prod_{l != j} w_{l,i}) (prod_l w_{l,i} - target_i). ``backend`` "mp" returns a
    callable for :func:`integrate` (lists of mpf); "gmpy2" the same for ``integrate(...,
    arithmetic="gmpy2")`` (lists of mpfr); "float" a numpy callable for scipy.
    """
    depth = check_depth(depth)
    check_option(backend, "backend", ("mp", "gmpy2", "float"))
    with mp.workdps(60):
        if not _to_mpf_list(target, "target"):
            raise ShapeError("target must hold at least one value, got an empty sequence")
    k = len(target)
    if backend == "float":
        import numpy as np

        tgt = np.asarray([float(mpmath.mpf(v)) for v in target])

        def ff(_t, y):
            w = y.reshape(depth, k)
            prod = np.prod(w, axis=0)
            out = np.empty_like(w)
            for j in range(depth):
                out[j] = -np.prod(np.delete(w, j, axis=0), axis=0) * (prod - tgt)
            return out.ravel()
        return ff
    if backend == "mp":
        conv, key = mpmath.mpf, (lambda: mp.prec)
    elif backend == "gmpy2":
        import gmpy2

        conv, key = gmpy2.mpfr, (lambda: gmpy2.get_context().precision)
    cache = {}

    def f(_t, y):
        kp = key()
        if kp not in cache:
            cache.clear()
            cache[kp] = ([conv(str(v)) if not isinstance(v, mpmath.mpf) else conv(mpmath.nstr(v, 60))
                          for v in target], conv(1))
        tgt, one = cache[kp]
        out = [None] * (depth * k)
        for i in range(k):
            col = [y[j * k + i] for j in range(depth)]
            pre = [one] * (depth + 1)
            for j in range(depth):
                pre[j + 1] = pre[j] * col[j]
            suf = one
            resid = pre[depth] - tgt[i]
            for j in range(depth - 1, -1, -1):
                out[j * k + i] = -(pre[j] * suf) * resid
                suf = suf * col[j]
        return out
    return f


__all__ += ["diagonal_flow_rhs"]
