"""The project's integrators, in one home, with one result type (:class:`Solution`) and one status enum.

* :func:`solve` (:mod:`.scipy_ode`) -- float64, scipy's DOP853 (or RK45/RK23) driven step by step;
* :func:`integrate_mp` (:mod:`.gbs`) -- mpmath Gragg-Bulirsch-Stoer extrapolation at 10-500 digits;
* :func:`dopri5` and :func:`rkc` -- the hand-written DOPRI5 and Runge-Kutta-Chebyshev flow solvers of
  the training loops (numpy or torch arrays).

Every one returns a :class:`Solution` whose ``status`` is a :class:`Status`; failures carry the
time at which the integrator stopped. The scipy and mpmath submodules are imported on first use.
"""

from __future__ import annotations

import importlib

from dmf_verify.numerics.integrators._solution import Solution, Status

# dopri5/rkc share their names with their submodules: bind the functions eagerly so the package
# attribute is always the function (numpy only; torch is imported by them on demand).
from dmf_verify.numerics.integrators.dopri5 import dopri5
from dmf_verify.numerics.integrators.rkc import rkc

_LAZY = {"solve": ("dmf_verify.numerics.integrators.scipy_ode", "solve"),
         "integrate_mp": ("dmf_verify.numerics.integrators.gbs", "integrate")}

__all__ = ["Solution", "Status", "dopri5", "integrate_mp", "rkc", "solve"]


def __getattr__(name: str):
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
