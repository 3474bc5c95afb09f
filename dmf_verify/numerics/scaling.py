"""Fitted scaling laws: least-squares slopes with a Student-t confidence interval.

A scaling law y ~ C x^p is checked by fitting ln y against ln x (or y against a given
abscissa) and comparing the whole confidence interval of the slope with the predicted exponent:
:meth:`SlopeFit.deviation` is the largest relative distance from the prediction to an end of the
interval (small only when the fit is both close and certain), :meth:`SlopeFit.exclusion` the
relative distance from a (wrong) exponent to the nearest end (zero when the interval contains it).

>>> f = fit_slope([1.0, 2.0, 4.0, 8.0], [3.0, 12.0, 48.0, 192.0], log=True)
>>> round(f.slope, 12), round(f.stderr, 12)
(2.0, 0.0)
>>> round(f.deviation(2.0), 12), round(f.exclusion(1.0), 12)
(0.0, 1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dmf_verify.errors import InvalidArgument, ShapeError
from dmf_verify.numerics.validation import as_vector, check_bool, check_real


@dataclass(frozen=True)
class SlopeFit:
    """Least-squares line y = intercept + slope x with the two-sided ``confidence`` interval of the slope."""

    slope: float
    intercept: float
    stderr: float
    lower: float
    upper: float
    n: int
    confidence: float
    log: bool

    def deviation(self, predicted: float) -> float:
        """max(|lower - p|, |upper - p|) / |p|: the interval's farthest end from the prediction, relative."""
        p = float(predicted)
        if p == 0:
            raise InvalidArgument("a relative deviation needs a non-zero predicted exponent")
        return max(abs(self.lower - p), abs(self.upper - p)) / abs(p)

    def exclusion(self, exponent: float) -> float:
        """Relative distance from ``exponent`` to the interval (0 when the interval contains it)."""
        q = float(exponent)
        if q == 0:
            raise InvalidArgument("a relative exclusion needs a non-zero exponent")
        if self.lower <= q <= self.upper:
            return 0.0
        return min(abs(self.lower - q), abs(self.upper - q)) / abs(q)

    def as_dict(self) -> dict:
        return {"slope": self.slope, "stderr": self.stderr, "ci": [self.lower, self.upper], "n": self.n,
                "confidence": self.confidence, "log_log": self.log}


def fit_slope(x, y, *, log: bool = True, confidence: float = 0.95) -> SlopeFit:
    """Fit y against x (ln y against ln x when ``log``) by least squares.

    Needs at least 3 points (a confidence interval needs n - 2 >= 1 degrees of freedom) and, with
    ``log``, positive x and y; otherwise :class:`InvalidArgument` names the offending value.
    """
    from scipy import stats

    xs = as_vector(x, "x")
    ys = as_vector(y, "y")
    if xs.size != ys.size:
        raise ShapeError(f"x and y must have the same length, got {xs.size} and {ys.size}")
    if xs.size < 3:
        raise InvalidArgument(f"a slope with a confidence interval needs at least 3 points (x, y), got {xs.size}")
    confidence = check_real(confidence, "confidence", low=0.5, high=1.0, high_open=True)
    log = check_bool(log, "log")
    if log:
        if np.any(xs <= 0) or np.any(ys <= 0):
            bad = float(xs[xs <= 0][0]) if np.any(xs <= 0) else float(ys[ys <= 0][0])
            raise InvalidArgument(f"a log-log fit needs positive values, got {bad!r}")
        xs, ys = np.log(xs), np.log(ys)
    if np.ptp(xs) == 0:
        raise InvalidArgument("x must take at least two distinct values")
    r = stats.linregress(xs, ys)
    t = float(stats.t.ppf(0.5 + confidence / 2.0, xs.size - 2))
    se = float(r.stderr) if math.isfinite(r.stderr) else 0.0
    return SlopeFit(float(r.slope), float(r.intercept), se, float(r.slope) - t * se, float(r.slope) + t * se,
                    int(xs.size), float(confidence), bool(log))


__all__ = ["SlopeFit", "fit_slope"]
