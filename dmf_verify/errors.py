"""The project's exception hierarchy, one home for all three parts.

Every error raised on purpose by this project derives from :class:`DMFError`, so callers can
catch one type. ``dmf_verify.numerics``, ``dmf_verify.theory`` and ``dmf_verify.checks`` import
their errors from here; errors that only the claim layer raises (an unknown claim id, a bad
configuration) are defined in :mod:`dmf_verify.checks.errors` on top of :class:`DMFError`. Messages name the offending value and the limit it broke (hypothesis's
``InvalidArgument`` style).
"""

from __future__ import annotations


class DMFError(Exception):
    """Base class of every error this project raises on purpose."""


class InvalidArgument(DMFError, ValueError):
    """An argument is outside its documented domain (depth < 1, negative step, ...)."""


class ShapeError(InvalidArgument):
    """Matrix shapes do not chain or do not match the problem."""


class NonFiniteError(InvalidArgument):
    """Input data contains NaN or infinity."""


class NotBalancedError(DMFError):
    """A routine that assumes balanced factors got unbalanced ones.

    ``imbalance`` holds the measured max_j ||W_{j+1}^T W_{j+1} - W_j W_j^T||_F.
    """

    def __init__(self, message: str, *, imbalance: float):
        super().__init__(message)
        self.imbalance = imbalance


class NotPSDError(InvalidArgument):
    """A fractional power was requested of a matrix that is not symmetric PSD."""


class DivergenceError(DMFError):
    """An iteration diverged; ``step`` is the first step with a non-finite or exploding value."""

    def __init__(self, message: str, *, step: int, value: float):
        super().__init__(message)
        self.step = step
        self.value = value


class IntegrationError(DMFError):
    """An ODE integrator failed (reports the solver's status message and the time reached)."""

    def __init__(self, message: str, *, t: float | None = None):
        super().__init__(message)
        self.t = t


class BlowUpError(IntegrationError):
    """A solution was requested past its finite blow-up time, or an integration found it growing without bound."""


class NonFiniteDerivativeError(IntegrationError, NonFiniteError):
    """The right-hand side of an ODE returned NaN or infinity at a finite state (``t``: the last time reached)."""


class StalledError(IntegrationError):
    """An integrator cannot meet its tolerance at any step size: its error estimate sits on a noise floor
    (in the mpmath integrator, typically a float64 value leaking into the right-hand side)."""


class UndefinedError(DMFError):
    """A formula is undefined at the given point (e.g. repeated singular values in Lemma 2)."""


class SolverError(DMFError):
    """An optimization solver failed or returned an inaccurate/infeasible status."""

    def __init__(self, message: str, *, status: str | None = None):
        super().__init__(message)
        self.status = status


__all__ = [
    "DMFError",
    "InvalidArgument",
    "ShapeError",
    "NonFiniteError",
    "NotBalancedError",
    "NotPSDError",
    "DivergenceError",
    "IntegrationError",
    "BlowUpError",
    "NonFiniteDerivativeError",
    "StalledError",
    "UndefinedError",
    "SolverError",
]
