"""The project's integrators, in one home, with one result type (:class:`Solution`) and one status enum.

(Being assembled: the scipy DOP853 wrappers of ``numerics.flow``/``numerics.scalar_ode``, the
DOPRI5/RKC flow solvers of ``numerics.training`` and the mpmath GBS integrator of
``numerics.precise`` move here.)
"""

from dmf_verify.numerics.integrators._solution import Solution, Status
from dmf_verify.numerics.integrators.dopri5 import dopri5
from dmf_verify.numerics.integrators.rkc import rkc

__all__ = ["Solution", "Status", "dopri5", "rkc"]
