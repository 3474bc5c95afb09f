"""Claim and CheckResult: a statement from a paper, checked by two independent computations.

A claim's ``verify(seed)`` returns a :class:`Measurement` whose ``error`` is a non-negative
discrepancy between two independently computed quantities (smaller is better). ``control(seed)``
runs the *same* measurement on a deliberately wrong variant (wrong exponent, wrong sign,
dropped term). The claim passes only when ``error <= tolerance`` **and**
``control_error > tolerance``: a control that passes makes the claim fail.

Conventions for claims that aggregate many cases: ``error`` is the maximum over the cases and
``control_error`` the minimum, so one case cannot hide another.
"""

from __future__ import annotations

import math
import platform
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata

PASS, FAIL, CONTROL_PASSED, ERROR = "PASS", "FAIL", "CONTROL-PASSED", "ERROR"


@dataclass
class Measurement:
    """A measured discrepancy plus any figures worth reporting (plain JSON-able values)."""

    error: float
    details: dict = field(default_factory=dict)


def _as_measurement(x) -> Measurement:
    if isinstance(x, Measurement):
        return x
    return Measurement(float(x))


@dataclass
class CheckResult:
    id: str
    passed: bool
    status: str
    error: float | None
    tolerance: float
    control_error: float | None
    seconds: float
    seed: int
    details: dict = field(default_factory=dict)
    control_details: dict = field(default_factory=dict)
    message: str = ""
    versions: dict = field(default_factory=dict)

    @property
    def margin(self) -> float | None:
        """control_error / tolerance: how far the control is from being accepted."""
        if self.control_error is None or self.tolerance == 0:
            return None
        return self.control_error / self.tolerance

    def to_dict(self) -> dict:
        d = asdict(self)
        d["margin"] = self.margin
        return _jsonable(d)


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if hasattr(x, "tolist"):
        return _jsonable(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


_VERSIONS: dict | None = None


def versions() -> dict:
    """Versions of Python and the numerical libraries (read from metadata, nothing imported)."""
    global _VERSIONS
    if _VERSIONS is None:
        v = {"python": platform.python_version()}
        for pkg in ("numpy", "scipy", "sympy", "mpmath", "torch", "gmpy2", "python-flint", "cvxpy", "scs"):
            try:
                v[pkg] = metadata.version(pkg)
            except metadata.PackageNotFoundError:
                pass
        _VERSIONS = v
    return dict(_VERSIONS)


@dataclass(frozen=True)
class Claim:
    """A claim from a paper with its verification and negative control.

    ``tolerance_reason`` says where the tolerance comes from (precision, step size or a
    measured convergence order); it is shown by ``dmf-verify list --verbose`` and the report.
    """

    id: str
    source: str
    statement: str
    verify: Callable[[int], Measurement]
    control: Callable[[int], Measurement]
    tolerance: float
    tolerance_reason: str
    control_description: str
    derive: Callable[[], object] | None = None
    slow: bool = False
    notes: str = ""
    default_seed: int = 0

    def check(self, seed: int | None = None) -> CheckResult:
        seed = self.default_seed if seed is None else int(seed)
        start = time.perf_counter()
        try:
            m = _as_measurement(self.verify(seed))
            c = _as_measurement(self.control(seed))
        except Exception as exc:  # reported, never swallowed silently
            return CheckResult(self.id, False, ERROR, None, self.tolerance, None,
                               time.perf_counter() - start, seed,
                               message=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}",
                               versions=versions())
        seconds = time.perf_counter() - start
        err_ok = math.isfinite(m.error) and m.error <= self.tolerance
        ctl_rejected = (not math.isfinite(c.error)) or c.error > self.tolerance
        if not math.isnan(c.error) and c.error < 0:
            ctl_rejected = False
        if not err_ok:
            status, msg = FAIL, f"error {m.error:.3e} exceeds tolerance {self.tolerance:.1e}"
        elif not ctl_rejected:
            status, msg = CONTROL_PASSED, (f"negative control ({self.control_description}) was accepted: "
                                           f"control error {c.error:.3e} <= tolerance {self.tolerance:.1e}")
        else:
            status, msg = PASS, ""
        return CheckResult(self.id, status == PASS, status, m.error, self.tolerance, c.error, seconds, seed,
                           m.details, c.details, msg, versions())
