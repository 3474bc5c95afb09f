"""One result type and one status enum for every integrator of the project.

Every integrator (scipy DOP853 wrappers, the hand-written DOPRI5 and RKC flow solvers, the mpmath
Gragg-Bulirsch-Stoer extrapolation) returns a :class:`Solution` whose ``status`` is a
:class:`Status` member, in the manner of diffrax's ``Solution.result``. ``Solution.raise_for_status``
turns a failure into the matching :class:`~dmf_verify.errors.IntegrationError` subclass, carrying the
time at which the integrator failed (``t_failed``), never the last requested time reached.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from dmf_verify.errors import BlowUpError, IntegrationError


class Status(str, enum.Enum):
    """Why an integration ended (a ``str`` enum, so ``Status.SUCCESSFUL == "successful"``)."""

    SUCCESSFUL = "successful"          # every requested time reached
    EVENT = "event"                    # a terminal event stopped it (norm bound, loss tolerance): not a failure
    MAX_STEPS = "max_steps"            # the step budget ran out
    STEP_UNDERFLOW = "step_underflow"  # the step size fell below the floor the method allows
    NONFINITE = "nonfinite"            # the right-hand side or the state became NaN/inf
    BLOWUP = "blowup"                  # the solution grows without bound (finite-time blow-up)
    STALLED = "stalled"                # the error estimate stays above tolerance: a noise floor (e.g. a float leak in mp)
    TIME_LIMIT = "time_limit"          # the wall-clock budget ran out

    def __str__(self) -> str:
        return self.value

    @property
    def ok(self) -> bool:
        return self in (Status.SUCCESSFUL, Status.EVENT)


@dataclass
class Solution:
    """What an integrator returns.

    ``t`` holds the requested output times that were reached and ``y`` the states there (an array
    of shape ``(len(t), n)`` in float64, a list of lists of ``mpf`` in mp); integrators never store
    every step. ``t_final`` is the last time the integrator reached: for a failure, the time at
    which it failed. ``stats`` counts work (``nfev``, ``steps``, ``rejected``, ...).
    """

    status: Status
    t: Any
    y: Any
    t_final: Any
    method: str
    rtol: Any = None
    atol: Any = None
    stats: dict = field(default_factory=dict)
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status.ok

    def raise_for_status(self) -> "Solution":
        """Return ``self`` when the run succeeded, else raise the matching error with ``t=t_final``."""
        if self.ok:
            return self
        cls = BlowUpError if self.status is Status.BLOWUP else IntegrationError
        raise cls(f"{self.method} integration ended with status {self.status.value} at t = {self.t_final}: "
                  f"{self.message}", t=self.t_final)
