"""Formulas compiled from the derivations: one source of truth for the numerics and the claims.

Each derivation exports the expressions it *computed* (``Derivation.formulas``); this module turns
them into functions with ``sympy.lambdify`` -- for numpy (float64), mpmath (the working precision of
the caller's ``mp.workdps``) and python-flint arb (certificates) -- lazily, on first use, never at
import time. A derivation whose exact checks do not all hold is refused
(:class:`~dmf_verify.errors.UndefinedError`), so a broken derivation cannot feed the numerics.

Cache: running a derivation costs seconds (sympy simplification), so the exported formulas are
pickled to ``$DMF_VERIFY_CACHE`` (default ``~/.cache/dmf-verify``) under a key that hashes the source
of every derivation module of ``dmf_verify/theory`` and the sympy version: any edit of a derivation
(or a mutant injected into one) recomputes it. ``DMF_VERIFY_CACHE=off`` disables the cache.

Which numerics each formula stands behind (the hand-written versions are checked against these at
random points by ``tests/test_formulas.py``):

==================================  =====================================================================
formula                             hand-written counterpart (kept for speed or for its variants)
==================================  =====================================================================
theorem3 ``rate``                   ``numerics.rates.singular_value_rates``
lemma3 ``exponents``                ``numerics.flow.default_exponents`` / ``end_to_end_velocity``
lemma2 ``rotation_u/v``,            ``numerics.singular_vectors.lemma2_rates``
``projection``, ``sigma_rate``
lemma4 ``solution*``, ``blowup*``   ``numerics.scalar_ode.solution``, ``solution_mp``, ``blowup_threshold``,
                                    the arb enclosures of ``checks/claims/precision/certificate.py``
eq11 ``law*``, ``constant``         ``checks/claims/arora2019/eq11.law``
chou_decoupling ``recursion``       ``numerics.chou`` scalar recursion
balancedness ``gd_change``          ``checks/claims/general/balancedness`` (predicted change)
implicit_balancing ``gd_change``    ``checks/claims/soltanolkotabi/balance`` (predicted change)
gd_error_expansion ``weights_L``,   ``numerics.richardson`` (Neville tableau, first-coefficient ODE)
``first_coefficient``
factor_gradients ``*``              ``numerics.losses.*.gradient``, ``numerics.model.factor_gradients_from``
==================================  =====================================================================
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from pathlib import Path

from dmf_verify.errors import UndefinedError

# --- exported formulas, cached -----------------------------------------------------------------------
_NOT_DERIVATIONS = {"compiled.py", "render.py", "textmath.py", "references.py", "__init__.py"}


def _source_key() -> str:
    import sympy

    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for p in sorted(root.glob("*.py")):
        if p.name in _NOT_DERIVATIONS:   # rendering and this module do not change what a derivation computes
            continue
        h.update(p.name.encode())
        h.update(p.read_bytes())
    h.update(sympy.__version__.encode())
    return h.hexdigest()[:24]


def _cache_dir() -> Path | None:
    raw = os.environ.get("DMF_VERIFY_CACHE", "")
    if raw.lower() in ("off", "0", "no", "false"):
        return None
    base = Path(raw) if raw else Path.home() / ".cache" / "dmf-verify"
    return base / "formulas"


@functools.cache
def formulas(name: str) -> dict:
    """The formulas of derivation ``name`` (a key of :data:`dmf_verify.theory.catalog.DERIVATIONS`).

    Runs the derivation (or loads its cached result) and refuses one whose exact checks fail.
    """
    from dmf_verify.theory.catalog import derivation

    cache = _cache_dir()
    path = None
    if cache is not None:
        path = cache / f"{name}-{_source_key()}.pickle"
        try:
            with open(path, "rb") as fh:
                verified, failed, out = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError):
            pass
        else:
            if not verified:
                raise UndefinedError(f"derivation {name!r} is not verified (failed checks: {failed}); its formulas "
                                     "cannot be compiled")
            return out
    d = derivation(name)
    failed = [k for k, ok in d.checks.items() if not ok]
    verified = d.verified
    out = dict(d.formulas)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                pickle.dump((verified, failed, out), fh)
            os.replace(tmp, path)
        except (OSError, pickle.PicklingError):
            pass
    if not verified:
        raise UndefinedError(f"derivation {name!r} is not verified (failed checks: {failed}); its formulas cannot be "
                             "compiled")
    return out


def formula(name: str, key: str):
    """One exported formula: an object with ``args``, ``expr`` and ``description``."""
    fs = formulas(name)
    try:
        return fs[key]
    except KeyError:
        raise UndefinedError(f"derivation {name!r} exports no formula {key!r}; it has {sorted(fs)}") from None


def _mpmath_printer():
    """sympy's mpmath printer with scalar factors of matrix products printed last: ``mpf * matrix`` makes
    mpmath try (and fail) to convert the matrix, formatting its repr for the error message -- ~2 ms a
    product; ``matrix * mpf`` does not."""
    from sympy.printing.precedence import precedence
    from sympy.printing.pycode import MpmathPrinter

    class _Printer(MpmathPrinter):
        def _print_MatMul(self, expr):
            mats = [a for a in expr.args if getattr(a, "is_Matrix", False)]
            scal = [a for a in expr.args if not getattr(a, "is_Matrix", False)]
            return "*".join(self.parenthesize(a, precedence(expr)) for a in mats + scal)

    return _Printer({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True})


def _exact_numbers(fn):
    """Call ``fn`` with Python ints and floats converted to mpf: a lambdified ``2/N`` with an int N would
    otherwise be a float64 exponent leaking into the mp result (measured: 17 instead of 30 digits)."""
    import mpmath

    def wrapped(*args):
        return fn(*[mpmath.mpf(a) if isinstance(a, (int, float)) and not isinstance(a, bool) else a for a in args])

    wrapped.__wrapped__ = fn
    return wrapped


def _arb_namespace():
    import flint

    def mpf(x):
        return flint.arb(x)

    return {"mpf": mpf, "exp": lambda x: flint.arb(x).exp(), "log": lambda x: flint.arb(x).log(),
            "sqrt": lambda x: flint.arb(x).sqrt(), "sin": lambda x: flint.arb(x).sin(),
            "cos": lambda x: flint.arb(x).cos(), "fabs": abs, "sign": lambda x: flint.arb(x).sgn()}


@functools.cache
def function(name: str, key: str, backend: str = "numpy"):
    """``sympy.lambdify`` of a formula for ``backend`` in ("numpy", "mpmath", "arb")."""
    import sympy as sp

    f = formula(name, key)
    expr = f.expr
    if backend == "numpy":
        return sp.lambdify(f.args, expr, "numpy")
    if backend == "mpmath":
        return _exact_numbers(sp.lambdify(f.args, expr, "mpmath", printer=_mpmath_printer()))
    if backend == "arb":
        from sympy.printing.pycode import MpmathPrinter

        return sp.lambdify(f.args, expr, [_arb_namespace(), "mpmath"], printer=MpmathPrinter)
    from dmf_verify.errors import InvalidArgument

    raise InvalidArgument(f"backend must be 'numpy', 'mpmath' or 'arb', got {backend!r}")


# --- convenience wrappers: the formulas as the numerics need them --------------------------------------
def theorem3_rate(backend: str = "numpy"):
    """f(N, sigma_r, P_r) = d sigma_r/dt (Theorem 3)."""
    return function("theorem3", "rate", backend)


def lemma3_exponents():
    """(j, N) -> (a_j, b_j) as floats: term j of Lemma 3 is (W W^T)^a_j G (W^T W)^b_j."""
    f = function("lemma3", "exponents", "numpy")

    def exponents(j: int, n: int) -> tuple[float, float]:
        a, b = f(j, n)
        return float(a), float(b)
    return exponents


def lemma2_rates(u, s, v, g, depth: int, *, backend: str = "numpy", projection: bool = True):
    """(dU/dt, dV/dt) of Lemma 2 assembled from the pairwise solution of the derivation.

    ``u`` (d, k), ``s`` (k,) positive distinct, ``v`` (d', k), ``g`` = grad l(W) (d, d'), k = min(d, d').
    numpy arrays for ``backend="numpy"``, mpmath matrices (and a list s) for ``backend="mpmath"``.
    For d < d' the roles of U and V are exchanged (the transpose). ``projection=False`` drops the
    (I - UU^T) term (a negative control).
    """
    d, dp = _shape(u)[0], _shape(v)[0]
    if d < dp:
        dv, du = lemma2_rates(v, s, u, _transpose(g, backend), depth, backend=backend, projection=projection)
        return du, dv
    rot_u = function("lemma2", "rotation_u", backend)
    rot_v = function("lemma2", "rotation_v", backend)
    proj = function("lemma2", "projection", backend)
    k = len(s)
    if backend == "numpy":
        import numpy as np

        gh = u.T @ g @ v
        A = np.zeros((k, k))
        B = np.zeros((k, k))
        for r in range(k):
            for q in range(k):
                if r != q:
                    args = (depth, s[q], s[r], gh[q, q], gh[q, r], gh[r, q], gh[r, r])
                    A[r, q] = rot_u(*args)
                    B[r, q] = rot_v(*args)
        du = u @ A
        dv = v @ B
        if projection:
            gv = g @ v
            perp = gv - u @ (u.T @ gv)
            coef = np.array([proj(depth, s[r], 1.0) for r in range(k)])
            du = du + perp * coef[None, :]
        return du, dv
    import mpmath

    gh = u.T * g * v
    A = mpmath.zeros(k, k)
    B = mpmath.zeros(k, k)
    for r in range(k):
        for q in range(k):
            if r != q:
                args = (depth, s[q], s[r], gh[q, q], gh[q, r], gh[r, q], gh[r, r])
                A[r, q] = rot_u(*args)
                B[r, q] = rot_v(*args)
    du = u * A
    dv = v * B
    if projection:
        gv = g * v
        perp = gv - u * (u.T * gv)
        for r in range(k):
            c = proj(depth, s[r], 1)
            for i in range(d):
                du[i, r] += perp[i, r] * c
    return du, dv


def _shape(x):
    return (x.rows, x.cols) if hasattr(x, "rows") else x.shape


def _transpose(x, backend):
    return x.T


def lemma4_solution(backend: str = "numpy"):
    """x(t) of Lemma 4 from (N, x0, G): N = 1, 2 and N >= 3 from the derivation's three formulas."""
    f1 = function("lemma4", "solution_n1", backend)
    f2 = function("lemma4", "solution_n2", backend)
    fN = function("lemma4", "solution", backend)

    def solution(n: int, x0, G):
        s = 1 if x0 > 0 else -1
        m = abs(x0)
        if n == 1:
            return f1(m, s, G)
        if n == 2:
            return f2(m, s, G)
        return fN(n, m, s, G)
    return solution


def eq11_law(backend: str = "mpmath"):
    """sigma_r as a function of sigma_r' (eq. 11) from (N, alpha, a, b, sigma_r')."""
    f1 = function("eq11", "law_n1", backend)
    f2 = function("eq11", "law_n2", backend)
    fN = function("eq11", "law", backend)

    def law(n: int, alpha, a, b, sq):
        if n == 1:
            return f1(alpha, a, b, sq)
        if n == 2:
            return f2(alpha, a, b, sq)
        return fN(n, alpha, a, b, sq)
    return law


def richardson_weights(level: int, backend: str = "numpy"):
    """The exact Richardson weights for values at eta/2^i, i = 0..level (floats or mpf)."""
    w = function("gd_error_expansion", f"weights_{level}", backend)()
    return tuple(w)


def loss_gradient(backend: str = "numpy"):
    """(A (m x n), y (m x 1), c, w (n x 1)) -> grad_w of c ||A w - y||^2."""
    return function("factor_gradients", "loss_gradient", backend)


def factor_gradients(depth: int, backend: str = "numpy"):
    """(W_1, ..., W_N, G) -> (dphi/dW_1, ..., dphi/dW_N) (the chain rule by matrix calculus)."""
    return function("factor_gradients", f"factor_gradients_{depth}", backend)


def product(depth: int, backend: str = "numpy"):
    return function("factor_gradients", f"product_{depth}", backend)


__all__ = ["eq11_law", "factor_gradients", "formula", "formulas", "function", "lemma2_rates", "lemma3_exponents",
           "lemma4_solution", "loss_gradient", "product", "richardson_weights", "theorem3_rate"]
