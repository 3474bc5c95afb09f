"""Reference flows for the dynamics claims, built only from the compiled derivations.

The spectral-flow and Richardson claims compare the project's float64 and mp numerics with flows
whose vector fields come from :mod:`dmf_verify.theory.compiled` -- the loss gradient sympy derives
from the loss *value* (``2c A^T (A vec W - y)``) and the factor gradients it derives by matrix calculus
-- so a bug in ``losses.*.gradient``, ``model.factor_gradients_from`` or ``mp_model`` cannot cancel
against the same bug in the reference. Also here: the first coefficient e_1(T) of GD's error expansion,
integrated from e_1' = f'(y) (e_1 - f(y)/2) (the direction computed in
:func:`dmf_verify.theory.richardson.gd_error_expansion`) with exact Jacobian-vector products by the
complex step (the compiled field is polynomial, hence analytic).
"""

from __future__ import annotations

import numpy as np

from dmf_verify.errors import InvalidArgument


# --- loss data -----------------------------------------------------------------------------------------
def quadratic_data(loss):
    """(A (m x n), y (m,), c) with l(W) = c ||A vec(W) - y||^2 (vec row-major) for the project's losses."""
    from dmf_verify.numerics.losses import CompletionLoss, FrobeniusLoss, SensingLoss

    d, dp = loss.shape
    if isinstance(loss, SensingLoss):
        return np.array(loss.flat, dtype=np.float64), np.array(loss.y, dtype=np.float64), float(loss.weight)
    if isinstance(loss, CompletionLoss):
        a = np.zeros((loss.m, d * dp))
        a[np.arange(loss.m), loss.rows * dp + loss.cols] = 1.0
        return a, np.array(loss.values, dtype=np.float64), float(loss.weight)
    if isinstance(loss, FrobeniusLoss):
        return np.eye(d * dp), loss.target.reshape(-1).astype(np.float64), 0.5 if loss.half else 1.0
    raise InvalidArgument(f"no quadratic form for {type(loss).__name__}")


def compiled_gradient(loss):
    """W -> grad l(W) from the compiled loss gradient (numpy; complex W allowed, for the complex step)."""
    from dmf_verify.theory import compiled

    a, y, c = quadratic_data(loss)
    lg = compiled.loss_gradient("numpy")
    y2 = y.reshape(-1, 1)
    shape = loss.shape

    def grad(w):
        return np.asarray(lg(a, y2, c, np.reshape(w, (-1, 1)))).reshape(shape)
    return grad


def _shapes(factors):
    return [tuple(np.shape(f)) for f in factors]


def _pack(fs):
    return np.concatenate([np.ravel(f) for f in fs])


def _unpack(y, shapes):
    out, i = [], 0
    for r, c in shapes:
        out.append(y[i:i + r * c].reshape(r, c))
        i += r * c
    return out


def compiled_field(loss, depth: int):
    """y -> f(y) = -grad phi(y) for the packed factors, from the compiled gradients (numpy, complex-safe)."""
    from dmf_verify.theory import compiled

    grad = compiled_gradient(loss)
    fg = compiled.factor_gradients(depth, "numpy")
    prod = compiled.product(depth, "numpy")

    def field(shapes):
        def f(y):
            fs = _unpack(y, shapes)
            w = np.asarray(prod(*fs))
            gs = fg(*fs, grad(w))
            return -np.concatenate([np.ravel(np.asarray(g)) for g in gs])
        return f
    return field


def jvp(f, y, v, h: float = 1e-30):
    """The Jacobian of ``f`` at ``y`` applied to ``v`` by the complex step (exact to rounding for analytic f)."""
    return np.imag(f(y + 1j * h * v)) / h


def reference_factor_flow(loss, factors, t_eval, *, rtol: float = 1e-13, atol: float = 1e-15) -> list:
    """Factors at the times ``t_eval`` under gradient flow with the compiled field (DOP853)."""
    from dmf_verify.numerics.integrators.scipy_ode import solve

    shapes = _shapes(factors)
    f = compiled_field(loss, len(factors))(shapes)
    sol = solve(lambda _t, y: f(y), _pack(factors), t_eval, rtol=rtol, atol=atol)
    return [_unpack(y.copy(), shapes) for y in sol.y]


def first_coefficient(loss, factors, horizon: float, *, rtol: float = 1e-12, atol: float = 1e-14):
    """(y(T), e_1(T)) packed: the flow and the first coefficient of GD's error expansion at T."""
    from dmf_verify.numerics.integrators.scipy_ode import solve
    from dmf_verify.theory import compiled

    shapes = _shapes(factors)
    f = compiled_field(loss, len(factors))(shapes)
    direction = compiled.function("gd_error_expansion", "first_coefficient_direction", "numpy")
    n = sum(r * c for r, c in shapes)

    def rhs(_t, z):
        y, e = z[:n], z[n:]
        fy = f(y)
        return np.concatenate([fy, jvp(f, y, direction(e, fy))])

    z0 = np.concatenate([_pack(factors), np.zeros(n)])
    sol = solve(rhs, z0, [horizon], rtol=rtol, atol=atol)
    return sol.y[-1][:n], sol.y[-1][n:]


# --- mp ------------------------------------------------------------------------------------------------
def mp_quadratic(loss):
    """(A, y, c) as mpmath matrices / mpf (exact binary values of the float64 data)."""
    import mpmath

    a, y, c = quadratic_data(loss)
    return mpmath.matrix(a.tolist()), mpmath.matrix(y.reshape(-1, 1).tolist()), mpmath.mpf(c)


def mp_gradient(loss):
    """W (mpmath matrix) -> grad l(W) from the compiled loss gradient (mpmath; call inside mp.workdps)."""
    import mpmath

    from dmf_verify.theory import compiled

    lg = compiled.loss_gradient("mpmath")
    d, dp = loss.shape
    cache = {}

    def grad(W):
        key = mpmath.mp.prec
        if key not in cache:
            cache.clear()
            cache[key] = mp_quadratic(loss)
        a, y, c = cache[key]
        w = mpmath.matrix(d * dp, 1)
        for i in range(d):
            for j in range(dp):
                w[i * dp + j] = W[i, j]
        g = lg(a, y, c, w)
        G = mpmath.matrix(d, dp)
        for i in range(d):
            for j in range(dp):
                G[i, j] = g[i * dp + j]
        return G
    return grad


def mp_factor_flow_rhs(loss, shapes):
    """The packed mp right-hand side of the factor-level flow from the compiled gradients."""
    import mpmath

    from dmf_verify.theory import compiled

    depth = len(shapes)
    grad = mp_gradient(loss)
    fg = compiled.factor_gradients(depth, "mpmath")
    prod = compiled.product(depth, "mpmath")

    def unpack(y):
        out, i = [], 0
        for r, c in shapes:
            m = mpmath.matrix(r, c)
            for a in range(r):
                for b in range(c):
                    m[a, b] = y[i + a * c + b]
            out.append(m)
            i += r * c
        return out

    def rhs(_t, y):
        fs = unpack(y)
        w = prod(*fs)
        gs = fg(*fs, grad(w))
        return [-g[a, b] for g in gs for a in range(g.rows) for b in range(g.cols)]
    return rhs, unpack, prod


def mp_reference_factor_flow(loss, factors_mp, t_eval, *, digits: int):
    """GBS integration of the mp factor-level flow (compiled field); returns (states, unpack, product)."""
    from dmf_verify.numerics.integrators.gbs import integrate

    shapes = [(len(f), len(f[0])) for f in factors_mp]
    rhs, unpack, prod = mp_factor_flow_rhs(loss, shapes)
    y0 = [x for f in factors_mp for row in f for x in row]
    sol = integrate(rhs, y0, t_eval, digits=digits)
    return sol, unpack, prod


def mp_first_coefficient(loss, factors_mp, horizon, *, digits: int):
    """(y(T), e_1(T)) in mp: the flow and GD's first error coefficient, complex-step JVPs in mpmath."""
    import mpmath

    from dmf_verify.numerics.integrators.gbs import integrate
    from dmf_verify.theory import compiled

    shapes = [(len(f), len(f[0])) for f in factors_mp]
    rhs, _unpack_mp, _prod = mp_factor_flow_rhs(loss, shapes)
    direction = compiled.function("gd_error_expansion", "first_coefficient_direction", "mpmath")
    n = sum(r * c for r, c in shapes)

    def rhs2(t, z):
        y, e = z[:n], z[n:]
        fy = rhs(t, y)
        dv = [direction(ei, fi) for ei, fi in zip(e, fy)]
        h = mpmath.mpf(10) ** (-(mpmath.mp.dps + 5))
        fc = rhs(t, [yi + mpmath.mpc(0, 1) * h * vi for yi, vi in zip(y, dv)])
        return fy + [mpmath.im(x) / h for x in fc]

    z0 = [x for f in factors_mp for row in f for x in row] + [mpmath.mpf(0)] * n
    sol = integrate(rhs2, z0, [horizon], digits=digits, probe=False)
    return sol.y[-1][:n], sol.y[-1][n:]


__all__ = ["compiled_field", "compiled_gradient", "first_coefficient", "jvp", "mp_first_coefficient",
           "mp_gradient", "mp_quadratic", "mp_reference_factor_flow", "quadratic_data", "reference_factor_flow"]
