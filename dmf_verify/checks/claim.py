"""Claim and CheckResult: a statement from a paper, checked by two independent computations.

A claim's ``verify(seed)`` returns a :class:`Measurement`: a non-negative discrepancy between two
independently computed quantities (smaller is better). ``control(seed)`` runs the *same*
measurement on a deliberately wrong variant (wrong exponent, wrong sign, dropped term). The
claim passes only when the verified error is ``<= tolerance`` **and** the control's error is
``> tolerance``: a control that is accepted makes the claim fail.

Per-case measurements. A measurement may carry ``cases`` (case name -> error). The claim, not the
module, aggregates them: the verified error is the **maximum** over the cases and the control's
error the **minimum**, so one case cannot hide another and every case is reported.

Empirical statements. Where a statement holds for most but not all random instances it is
claimed as a rate: :class:`Rate` carries the per-instance outcomes and the claimed rate, and the
claim's error is ``1 - (one-sided Clopper-Pearson bound on the success rate)`` at the stated
confidence -- the lower bound for the verified statement, the upper bound for the control -- with
tolerance ``1 - claimed rate``. So "at least 80% of instances" passes only when the data *prove*
a rate above 80% at 95% confidence, and the control is rejected only when its rate is proved
below 80%.

Honesty rules: a NaN or infinite error (verified or control) is an ``ERROR``, never a pass or a
rejection; a negative error is an ``ERROR`` (errors are discrepancies); ``passed`` derives from
the status.
"""

from __future__ import annotations

import enum
import math
import platform
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata

from dmf_verify.errors import InvalidArgument

#: Version of the JSON object written by :meth:`CheckResult.to_dict` and ``dmf-verify check --json``.
SCHEMA_VERSION = 1


class Status(str, enum.Enum):
    """Outcome of checking a claim (a ``str`` enum: ``Status.PASS == "PASS"``)."""

    PASS = "PASS"                      # error <= tolerance and the control was rejected
    FAIL = "FAIL"                      # error > tolerance
    CONTROL_PASSED = "CONTROL-PASSED"  # the wrong variant was accepted: the check proves nothing
    ERROR = "ERROR"                    # an exception, or a non-finite / negative measurement

    def __str__(self) -> str:
        return self.value


# Backwards-compatible names (the strings compare equal to the enum members).
PASS, FAIL, CONTROL_PASSED, ERROR = Status.PASS, Status.FAIL, Status.CONTROL_PASSED, Status.ERROR


@dataclass
class Measurement:
    """A measured discrepancy plus any figures worth reporting (plain JSON-able values).

    Give either ``error`` (one number) or ``cases`` (case name -> error); with ``cases`` the claim
    aggregates (max for the verified statement, min for the control). With both, ``error`` must
    equal the aggregate the claim would compute -- give one of them.
    """

    error: float | None = None
    details: dict = field(default_factory=dict)
    cases: Mapping[str, float] | None = None

    def resolve(self, role: str) -> float:
        """The error this measurement stands for in ``role`` ("verify" or "control")."""
        if self.cases is not None:
            if len(self.cases) == 0:
                raise InvalidArgument("a Measurement's cases must not be empty")
            values = [float(v) for v in self.cases.values()]
            if any(math.isnan(v) for v in values):
                return math.nan
            return max(values) if role == "verify" else min(values)
        if self.error is None:
            raise InvalidArgument("a Measurement needs an error or cases")
        return float(self.error)


@dataclass
class Rate(Measurement):
    """An empirical statement over random instances: per-instance outcomes and the claimed rate.

    ``outcomes`` maps an instance name to whether the statement held on it. The claim's tolerance
    must be ``1 - claimed_rate``; :meth:`resolve` returns ``1 - bound`` where ``bound`` is the
    one-sided Clopper-Pearson bound at ``confidence``: the lower bound for ``verify`` (the data
    must prove the rate is at least the claim), the upper bound for ``control`` (the data must
    prove the wrong variant's rate is below it).

    >>> r = Rate(outcomes={f"seed{i}": True for i in range(20)}, claimed_rate=0.8)
    >>> round(r.resolve("verify"), 4)       # 20/20: 95% lower bound 0.05**(1/20) = 0.8609
    0.1391
    """

    outcomes: Mapping[str, bool] = field(default_factory=dict)
    claimed_rate: float = 0.9
    confidence: float = 0.95

    def __post_init__(self):
        if not 0.0 < self.claimed_rate < 1.0:
            raise InvalidArgument(f"claimed_rate must be in (0, 1), got {self.claimed_rate!r}")
        if not 0.5 <= self.confidence < 1.0:
            raise InvalidArgument(f"confidence must be in [0.5, 1), got {self.confidence!r}")
        if len(self.outcomes) == 0:
            raise InvalidArgument("a Rate needs at least one outcome")

    @property
    def successes(self) -> int:
        return sum(bool(v) for v in self.outcomes.values())

    @property
    def trials(self) -> int:
        return len(self.outcomes)

    def resolve(self, role: str) -> float:
        lo, hi = clopper_pearson(self.successes, self.trials, self.confidence)
        return 1.0 - (lo if role == "verify" else hi)

    def summary(self) -> dict:
        lo, hi = clopper_pearson(self.successes, self.trials, self.confidence)
        return {"successes": self.successes, "trials": self.trials, "rate": self.successes / self.trials,
                "claimed_rate": self.claimed_rate, "confidence": self.confidence,
                "lower_bound": lo, "upper_bound": hi,
                "failed_instances": [k for k, v in self.outcomes.items() if not v]}


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """One-sided exact binomial bounds (lower, upper) on a success probability.

    ``lower`` is the largest p with P(X >= successes | p) <= 1 - confidence, ``upper`` the
    smallest p with P(X <= successes | p) <= 1 - confidence.

    >>> lo, hi = clopper_pearson(20, 20)
    >>> round(lo, 4), hi
    (0.8609, 1.0)
    """
    if trials < 1 or not 0 <= successes <= trials:
        raise InvalidArgument(f"need 0 <= successes <= trials and trials >= 1, got {successes}/{trials}")
    from scipy.stats import beta

    a = 1.0 - confidence
    lo = 0.0 if successes == 0 else float(beta.ppf(a, successes, trials - successes + 1))
    hi = 1.0 if successes == trials else float(beta.ppf(1.0 - a, successes + 1, trials - successes))
    return lo, hi


def _as_measurement(x) -> Measurement:
    if isinstance(x, Measurement):
        return x
    if isinstance(x, bool) or x is None:
        raise InvalidArgument(f"a claim's verify/control must return a Measurement or a number, got {x!r}")
    return Measurement(float(x))


@dataclass
class CheckResult:
    """The outcome of :meth:`Claim.check` (``passed`` derives from ``status``)."""

    id: str
    status: Status
    error: float | None
    tolerance: float
    control_error: float | None
    seconds: float
    seed: int
    details: dict = field(default_factory=dict)
    control_details: dict = field(default_factory=dict)
    message: str = ""
    versions: dict = field(default_factory=dict)
    cases: dict | None = None
    control_cases: dict | None = None

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    @property
    def margin(self) -> float | None:
        """control_error / tolerance: how far the control is from being accepted."""
        if self.control_error is None or self.tolerance == 0 or not math.isfinite(self.control_error):
            return None
        return self.control_error / self.tolerance

    @property
    def error_ratio(self) -> float | None:
        """error / tolerance: how close the verified statement is to failing (< 1 passes)."""
        if self.error is None or self.tolerance == 0 or not math.isfinite(self.error):
            return None
        return self.error / self.tolerance

    def to_dict(self) -> dict:
        """A JSON-ready dict (schema ``SCHEMA_VERSION``; numbers are finite numbers or null)."""
        d = {
            "schema_version": SCHEMA_VERSION,
            "id": self.id,
            "status": self.status.value,
            "passed": self.passed,
            "error": self.error,
            "tolerance": self.tolerance,
            "control_error": self.control_error,
            "margin": self.margin,
            "error_ratio": self.error_ratio,
            "seconds": self.seconds,
            "seed": self.seed,
            "cases": self.cases,
            "control_cases": self.control_cases,
            "details": self.details,
            "control_details": self.control_details,
            "message": self.message,
            "versions": self.versions,
        }
        return jsonable(d)


def jsonable(x):
    """Plain JSON values: dicts with string keys, lists, finite floats; NaN/inf become null."""
    if isinstance(x, enum.Enum):
        return jsonable(x.value)
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in x]
    if hasattr(x, "tolist"):
        return jsonable(x.tolist())
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    try:
        f = float(x)  # mpmath / gmpy2 / numpy scalars
    except (TypeError, ValueError):
        return str(x)
    return f if math.isfinite(f) else None


_VERSIONS: dict | None = None


def versions() -> dict:
    """Versions of Python and the numerical libraries (read from metadata, nothing imported)."""
    global _VERSIONS
    if _VERSIONS is None:
        v = {"python": platform.python_version()}
        for pkg in ("dmf-verify", "numpy", "scipy", "sympy", "mpmath", "torch", "gmpy2", "python-flint", "cvxpy",
                    "scs"):
            try:
                v[pkg] = metadata.version(pkg)
            except metadata.PackageNotFoundError:
                pass
        _VERSIONS = v
    return dict(_VERSIONS)


def check_seed(seed) -> int:
    """A seed is an integer in [0, 2**32 - 1] (numpy's limit for legacy streams too)."""
    if isinstance(seed, bool) or not isinstance(seed, int) and not (hasattr(seed, "__index__")):
        raise InvalidArgument(f"seed must be an integer in [0, 2**32 - 1], got {seed!r}")
    s = int(seed)
    if not 0 <= s <= 2**32 - 1:
        raise InvalidArgument(f"seed must be in [0, 2**32 - 1], got {s}")
    return s


def _bad(value: float) -> str | None:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "infinite"
    if value < 0:
        return f"negative ({value:.3e})"
    return None


@dataclass(frozen=True)
class Claim:
    """A claim from a paper with its verification and negative control.

    ``tolerance_reason`` says where the tolerance comes from (precision, step size or a
    measured convergence order) and quotes the measured figures; it is shown by
    ``dmf-verify list --verbose`` and the report. ``slow`` claims run only with ``--slow``.
    ``formula`` names the derivation(s) the claim's formula comes from (``derivation:formula`` keys of
    :mod:`dmf_verify.theory.compiled`, and the hand-written code checked against them); it is copied
    into every result's details.
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
    formula: str = ""

    def __post_init__(self):
        if not isinstance(self.tolerance, (int, float)) or not math.isfinite(self.tolerance) or self.tolerance < 0:
            raise InvalidArgument(f"claim {self.id!r}: tolerance must be a finite number >= 0, got {self.tolerance!r}")

    def check(self, seed: int | None = None) -> CheckResult:
        seed = self.default_seed if seed is None else check_seed(seed)
        start = time.perf_counter()
        m = c = None
        try:
            m = _as_measurement(self.verify(seed))
            error = m.resolve("verify")
            c = _as_measurement(self.control(seed))
            control_error = c.resolve("control")
        except Exception as exc:  # reported, never swallowed silently
            return CheckResult(self.id, Status.ERROR, None, self.tolerance, None,
                               time.perf_counter() - start, seed,
                               details=_details(m) if m is not None else {},
                               message=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}",
                               versions=versions())
        seconds = time.perf_counter() - start
        if _bad(error):
            status, msg = Status.ERROR, f"the verified error is {_bad(error)}: a measurement that is not a finite " \
                                        "non-negative number proves nothing"
        elif _bad(control_error):
            status, msg = Status.ERROR, f"the control's error is {_bad(control_error)}: a control that breaks down " \
                                        "is not a rejected control"
        elif error > self.tolerance:
            status, msg = Status.FAIL, f"error {error:.3e} exceeds tolerance {self.tolerance:.1e}"
        elif control_error <= self.tolerance:
            status, msg = Status.CONTROL_PASSED, (f"negative control ({self.control_description}) was accepted: "
                                                  f"control error {control_error:.3e} <= tolerance "
                                                  f"{self.tolerance:.1e}")
        else:
            status, msg = Status.PASS, ""
        details = _details(m)
        if self.formula:
            details.setdefault("formula", self.formula)
        return CheckResult(self.id, status, _finite_or_none(error), self.tolerance, _finite_or_none(control_error),
                           seconds, seed, details, _details(c), msg, versions(),
                           cases=_cases(m), control_cases=_cases(c))


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _details(m: Measurement) -> dict:
    d = dict(m.details)
    if isinstance(m, Rate):
        d.setdefault("rate", m.summary())
    return d


def _cases(m: Measurement) -> dict | None:
    if isinstance(m, Rate):
        return {k: bool(v) for k, v in m.outcomes.items()}
    if m.cases is None:
        return None
    return {str(k): float(v) for k, v in m.cases.items()}


def cases_from(values: Sequence[float] | Mapping[str, float], *, prefix: str = "case") -> dict[str, float]:
    """Name unnamed per-case errors ``case0, case1, ...`` (a dict passes through)."""
    if isinstance(values, Mapping):
        return {str(k): float(v) for k, v in values.items()}
    return {f"{prefix}{i}": float(v) for i, v in enumerate(values)}
