"""One result type and one status enum for every integrator of the project.

Every integrator (scipy DOP853 wrappers, the hand-written DOPRI5 and RKC flow solvers, the mpmath
Gragg-Bulirsch-Stoer extrapolation) returns a :class:`Solution` whose ``status`` is a
:class:`Status` member, in the manner of diffrax's ``Solution.result``. ``Solution.raise_for_status``
turns a failure into the matching :class:`~dmf_verify.errors.IntegrationError` subclass, carrying the
time at which the integrator failed (``t_final``), never the last requested time reached.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from dmf_verify.errors import BlowUpError, IntegrationError, NonFiniteDerivativeError, StalledError


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


#: The error class :meth:`Solution.raise_for_status` raises for each failure status.
ERRORS = {
    Status.BLOWUP: BlowUpError,
    Status.NONFINITE: NonFiniteDerivativeError,
    Status.STALLED: StalledError,
}


@dataclass
class Solution:
    """What an integrator returns.

    ``t`` holds the requested output times that were reached and ``y`` the states there (an array
    of shape ``(len(t), n)`` in float64, a list of lists of ``mpf`` in mp); integrators never store
    every step. ``t_final`` is the last time the integrator reached: for a failure, the time at
    which it failed; ``y_final`` the state there (for an event: the state at the event).
    ``stats`` counts work (``nfev``, ``steps``, ``rejected``, ...) and records settings (the mp
    integrator: ``digits``, ``dps``, ``columns``, ``arithmetic``).
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
    y_final: Any = None

    @property
    def ok(self) -> bool:
        return self.status.ok

    @property
    def nfev(self) -> int:
        return int(self.stats.get("nfev", 0))

    def raise_for_status(self) -> Solution:
        """Return ``self`` when the run succeeded, else raise the matching error with ``t=t_final``.

        BLOWUP raises :class:`BlowUpError`, NONFINITE :class:`NonFiniteDerivativeError`, STALLED
        :class:`StalledError`, every other failure :class:`IntegrationError`.
        """
        if self.ok:
            return self
        cls = ERRORS.get(self.status, IntegrationError)
        raise cls(f"{self.method} integration ended with status {self.status.value} at t = {_fmt_t(self.t_final)}: "
                  f"{self.message}", t=_as_float(self.t_final))


def _as_float(t):
    try:
        return float(t)
    except (TypeError, ValueError):
        return None


def _fmt_t(t) -> str:
    f = _as_float(t)
    return "?" if f is None else f"{f:.17g}"
