"""Deep matrix factorization in mpmath: quadratic losses, factor gradients and gradient descent.

Matrices are lists of rows of ``mpf`` (small sizes; plain lists are several times cheaper than
``mpmath.matrix``). Everything runs at the caller's ``mp.workdps``. A loss is a
:class:`QuadraticLoss`: l(W) = c ||A vec(W) - y||^2 with vec row-major -- sensing (the rows of A are
the flattened A_i), completion (A selects the observed entries) and the Chou et al. estimation loss
(A = I, y = vec(target)); :func:`quadratic_loss` converts the float64 losses of
:mod:`dmf_verify.numerics.losses` exactly (their binary values).

This is an implementation independent of the float64 code (``losses.*.gradient``,
``model.factor_gradients_from``) and of the compiled matrix-calculus gradients of
:mod:`dmf_verify.theory.gradients`; tests/test_formulas.py checks it against the latter.

>>> from mpmath import mp, mpf
>>> with mp.workdps(30):
...     loss = QuadraticLoss([[mpf(1), mpf(0)]], [mpf(1)], mpf("0.5"), (1, 2))   # l = (w_11 - 1)^2 / 2
...     [[float(g) for g in row] for row in loss.gradient([[mpf(3), mpf(5)]])]
[[2.0, 0.0]]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import mpmath
from mpmath import mp

from dmf_verify.errors import InvalidArgument, ShapeError
from dmf_verify.numerics.validation import _show, as_matrix, check_bool, check_exact_real, check_int, check_shape


def to_mp(a, name: str = "a") -> list[list]:
    """A 2-D array (numpy or nested lists; floats are taken at their exact binary value) as mp rows."""
    return [[mpmath.mpf(x) for x in row] for row in _check_matrix(a, name)]


def _check_matrix(a, name: str) -> list[list]:
    """Rows of a finite real matrix: a numpy array (float64-checked), an mpmath matrix or nested lists of
    int/float/decimal str/mpf; the entries are kept as given (no rounding to the current precision)."""
    import numpy as np

    if isinstance(a, np.ndarray):
        return as_matrix(a, name).tolist()
    if isinstance(a, mpmath.matrix):
        a = a.tolist()
    if a is None or isinstance(a, (str, bytes)) or not isinstance(a, (list, tuple)):
        raise InvalidArgument(f"{name} must be a matrix (a 2-D array or a list of rows), got {_show(a)}")
    rows = []
    for i, row in enumerate(a):
        if isinstance(row, np.ndarray):
            row = row.tolist()
        if isinstance(row, (str, bytes)) or not isinstance(row, (list, tuple)):
            raise ShapeError(f"{name} must be 2-D (a list of rows), got {_show(row)} as row {i}")
        for k, x in enumerate(row):
            check_exact_real(x, f"{name}[{i}][{k}]")
        rows.append(list(row))
    if not rows or not rows[0]:
        raise ShapeError(f"{name} is empty")
    if len({len(r) for r in rows}) != 1:
        raise ShapeError(f"{name} is ragged: its rows have lengths {sorted({len(r) for r in rows})}")
    return rows


def _check_factors(factors, name: str = "factors") -> list[list[list]]:
    """[W_1, ..., W_N] as mp rows (numpy input converted exactly), chaining."""
    import numpy as np

    if factors is None or isinstance(factors, (str, bytes, np.ndarray)) or not isinstance(factors, (list, tuple)):
        raise InvalidArgument(f"{name} must be a sequence of matrices [W_1, ..., W_N], got {_show(factors)}")
    if not factors:
        raise InvalidArgument(f"{name} must hold at least one matrix, got an empty sequence")
    fs = [_check_matrix(f, f"{name}[{j}]") for j, f in enumerate(factors)]
    fs = [[[mpmath.mpf(x) if isinstance(x, (float, int, str)) else x for x in r] for r in f] for f in fs]
    for j in range(1, len(fs)):
        if len(fs[j][0]) != len(fs[j - 1]):
            raise ShapeError(f"{name} do not chain: W_{j + 1} is {len(fs[j])} x {len(fs[j][0])} but W_{j} is "
                             f"{len(fs[j - 1])} x {len(fs[j - 1][0])}")
    return fs


def to_float(a):
    import numpy as np

    return np.array([[float(x) for x in row] for row in a])


def matmul(a, b):
    bt = list(zip(*b))
    return [[mpmath.fsum(x * y for x, y in zip(row, col)) for col in bt] for row in a]


def transpose(a):
    return [list(r) for r in zip(*a)]


def axpy(alpha, x, y):
    """y + alpha x for matrices."""
    return [[b + alpha * a for a, b in zip(rx, ry)] for rx, ry in zip(x, y)]


def product(factors):
    """W_N ... W_1 for factors [W_1, ..., W_N]."""
    w = factors[0]
    for f in factors[1:]:
        w = matmul(f, w)
    return w


def flatten(a) -> list:
    return [x for row in a for x in row]


def frobenius(a) -> mpmath.mpf:
    return mpmath.sqrt(mpmath.fsum(x * x for row in a for x in row))


@dataclass
class QuadraticLoss:
    """l(W) = c ||A vec(W) - y||^2 in mp (``A`` as rows, vec row-major, W of shape ``shape``)."""

    A: list
    y: list
    c: object
    shape: tuple[int, int]

    def __post_init__(self):
        self.shape = check_shape(self.shape, "shape")
        _check_matrix(self.A, "A")
        if self.y is None or isinstance(self.y, (str, bytes)) or not isinstance(self.y, (list, tuple)):
            raise InvalidArgument(f"y must be a list of real numbers, got {_show(self.y)}")
        for i, v in enumerate(self.y):
            check_exact_real(v, f"y[{i}]")
        check_exact_real(self.c, "c")
        n = self.shape[0] * self.shape[1]
        if any(len(row) != n for row in self.A):
            raise ShapeError(f"A must be m x {n} (one row per measurement, one column per entry of W), got rows of "
                             f"lengths {sorted({len(row) for row in self.A})}")
        if len(self.A) != len(self.y):
            raise ShapeError(f"y must have one value per row of A (m = {len(self.A)}), got {len(self.y)} values")

    def residual(self, w):
        v = flatten(w)
        return [mpmath.fsum(a * x for a, x in zip(row, v)) - yi for row, yi in zip(self.A, self.y)]

    def value(self, w):
        return self.c * mpmath.fsum(r * r for r in self.residual(w))

    def gradient(self, w):
        r = self.residual(w)
        n = self.shape[0] * self.shape[1]
        two_c = 2 * self.c
        flat = [two_c * mpmath.fsum(self.A[i][k] * r[i] for i in range(len(r))) for k in range(n)]
        q = self.shape[1]
        return [flat[i * q:(i + 1) * q] for i in range(self.shape[0])]


def quadratic_loss(loss) -> QuadraticLoss:
    """The mp form of a float64 SensingLoss, CompletionLoss or FrobeniusLoss (exact binary values)."""
    from dmf_verify.numerics.losses import CompletionLoss, FrobeniusLoss, SensingLoss

    if not isinstance(loss, (SensingLoss, CompletionLoss, FrobeniusLoss)):
        raise InvalidArgument(f"loss must be a SensingLoss, CompletionLoss or FrobeniusLoss, got {_show(loss)}")
    d, dp = loss.shape
    n = d * dp
    if isinstance(loss, SensingLoss):
        A = to_mp(loss.flat)
        y = [mpmath.mpf(v) for v in loss.y.tolist()]
        c = mpmath.mpf(loss.weight)
    elif isinstance(loss, CompletionLoss):
        A = []
        for r, q in zip(loss.rows.tolist(), loss.cols.tolist()):
            row = [mpmath.mpf(0)] * n
            row[r * dp + q] = mpmath.mpf(1)
            A.append(row)
        y = [mpmath.mpf(v) for v in loss.values.tolist()]
        c = mpmath.mpf(loss.weight)
    elif isinstance(loss, FrobeniusLoss):
        A = [[mpmath.mpf(1) if i == k else mpmath.mpf(0) for k in range(n)] for i in range(n)]
        y = [mpmath.mpf(v) for v in loss.target.reshape(-1).tolist()]
        c = mpmath.mpf("0.5") if loss.half else mpmath.mpf(1)
    else:
        raise InvalidArgument(f"quadratic_loss converts SensingLoss, CompletionLoss or FrobeniusLoss, got "
                              f"{type(loss).__name__}")
    return QuadraticLoss(A, y, c, (d, dp))


def factor_gradients(factors, grad_w):
    """(W_N...W_{j+1})^T G (W_{j-1}...W_1)^T for every j, from prefix and suffix products."""
    n = len(factors)
    pre = [None] * (n + 1)          # pre[j] = W_j ... W_1
    for j in range(n):
        pre[j + 1] = factors[0] if j == 0 else matmul(factors[j], pre[j])
    suf = [None] * (n + 1)          # suf[j] = W_N ... W_{j+1}
    for j in range(n - 1, -1, -1):
        suf[j] = factors[j] if j == n - 1 else matmul(suf[j + 1], factors[j])
    out = []
    for j in range(n):
        g = grad_w
        if j + 1 < n:
            g = matmul(transpose(suf[j + 1]), g)
        if j > 0:
            g = matmul(g, transpose(pre[j]))
        out.append(g)
    return out


def gradient_descent(loss: QuadraticLoss, factors: Sequence, *, step, steps: int, sequential: bool = False,
                     gradient_scale=None) -> list:
    """``steps`` GD iterations W_j <- W_j - step dphi/dW_j in mp, returning the factors.

    Simultaneous updates by default. ``sequential=True`` updates W_1, W_2, ... in turn, each with the
    gradient at the factors updated so far (Gauss-Seidel), and ``gradient_scale`` multiplies the loss
    gradient: both are negative controls.
    """
    if not isinstance(loss, QuadraticLoss):
        raise InvalidArgument(f"loss must be a QuadraticLoss (see quadratic_loss), got {_show(loss)}")
    steps = check_int(steps, "steps", low=0)
    sequential = check_bool(sequential, "sequential")
    fs = _check_factors(factors)
    if (len(fs[-1]), len(fs[0][0])) != tuple(loss.shape):
        raise ShapeError(f"the product of the factors is {len(fs[-1])} x {len(fs[0][0])} but the loss expects "
                         f"{tuple(loss.shape)}")
    eta = mpmath.mpf(check_exact_real(step, "step"))
    if not eta > 0:
        raise InvalidArgument(f"step must be > 0, got {_show(step)}")
    scale = None if gradient_scale is None else mpmath.mpf(check_exact_real(gradient_scale, "gradient_scale"))

    def grad_w(w):
        g = loss.gradient(w)
        return g if scale is None else [[scale * x for x in row] for row in g]

    for _ in range(steps):
        if sequential:
            for j in range(len(fs)):
                gj = factor_gradients(fs, grad_w(product(fs)))[j]
                fs[j] = axpy(-eta, gj, fs[j])
        else:
            grads = factor_gradients(fs, grad_w(product(fs)))
            fs = [axpy(-eta, g, f) for f, g in zip(fs, grads)]
    return fs


def orthonormal_columns(a) -> list[list]:
    """Gram-Schmidt (twice) at the working precision: the columns of ``a`` made orthonormal to ~10^-dps."""
    cols = [list(c) for c in zip(*to_mp(a, "a"))]
    out = []
    for c in cols:
        for _ in range(2):
            for q in out:
                dot = mpmath.fsum(x * y for x, y in zip(c, q))
                c = [x - dot * y for x, y in zip(c, q)]
        nrm = mpmath.sqrt(mpmath.fsum(x * x for x in c))
        if nrm == 0:
            raise InvalidArgument("orthonormal_columns: the columns are linearly dependent")
        out.append([x / nrm for x in c])
    return transpose(out)


def balanced_factors(u, s, v, hidden_bases) -> list:
    """Exactly (to the working precision) balanced factors with product U diag(s) V^T:
    W_1 = Q_1 S^(1/N) V^T, W_j = Q_j S^(1/N) Q_(j-1)^T, W_N = U S^(1/N) Q_(N-1)^T.

    ``u`` (d, k), ``v`` (d', k) and the hidden bases Q_j (d_j, k) are re-orthonormalized in mp; ``s``
    (k positive numbers) is taken exactly. N = len(hidden_bases) + 1.
    """
    import numpy as np

    if hidden_bases is None or isinstance(hidden_bases, (str, bytes, np.ndarray)) or \
            not isinstance(hidden_bases, (list, tuple)):
        raise InvalidArgument(f"hidden_bases must be a list of matrices Q_j (d_j, k), got {_show(hidden_bases)}")
    n = len(hidden_bases) + 1
    U, V = orthonormal_columns(_check_matrix(u, "u")), orthonormal_columns(_check_matrix(v, "v"))
    k = len(U[0])
    if len(V[0]) != k:
        raise ShapeError(f"u and v must have the same number of columns k, got {k} and {len(V[0])}")
    Qs = []
    for j, q in enumerate(hidden_bases):
        rows = _check_matrix(q, f"hidden_bases[{j}]")
        if len(rows[0]) != k:
            raise ShapeError(f"hidden_bases[{j}] must have k = {k} columns, got {len(rows[0])}")
        Qs.append(orthonormal_columns(rows))
    sv = s.tolist() if isinstance(s, np.ndarray) else s
    if sv is None or isinstance(sv, (str, bytes)) or not isinstance(sv, (list, tuple)):
        raise InvalidArgument(f"s must be a list of {k} positive singular values, got {_show(s)}")
    if len(sv) != k:
        raise ShapeError(f"s must hold k = {k} singular values (one per column of u), got {len(sv)}")
    for i, x in enumerate(sv):
        if not mpmath.mpf(check_exact_real(x, f"s[{i}]")) > 0:
            raise InvalidArgument(f"s[{i}] must be > 0, got {_show(x)}")
    root = [mpmath.root(mpmath.mpf(x), n) for x in sv]

    def scaled(a):  # a diag(root)
        return [[x * r for x, r in zip(row, root)] for row in a]

    if n == 1:
        return [matmul(scaled(U), transpose(V))]
    fs = [matmul(scaled(Qs[0]), transpose(V))]
    for j in range(1, n - 1):
        fs.append(matmul(scaled(Qs[j]), transpose(Qs[j - 1])))
    fs.append(matmul(scaled(U), transpose(Qs[-1])))
    return fs


def imbalance(factors) -> mpmath.mpf:
    """max_j ||W_{j+1}^T W_{j+1} - W_j W_j^T||_F in mp."""
    factors = _check_factors(factors)
    worst = mpmath.mpf(0)
    for a, b in itertools.pairwise(factors):
        dd = axpy(-1, matmul(a, transpose(a)), matmul(transpose(b), b))
        worst = max(worst, frobenius(dd))
    return worst


def workdps(digits: int):
    """``mp.workdps`` (re-exported so callers need not import mpmath for it)."""
    return mp.workdps(check_int(digits, "digits", low=1))


__all__ = [
    "QuadraticLoss",
    "axpy",
    "balanced_factors",
    "factor_gradients",
    "flatten",
    "frobenius",
    "gradient_descent",
    "imbalance",
    "matmul",
    "orthonormal_columns",
    "product",
    "quadratic_loss",
    "to_float",
    "to_mp",
    "transpose",
]
