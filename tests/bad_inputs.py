"""The project's bad-input table: every public entry point must answer bad input with a specific error.

A *case* calls one public function with one bad argument (all others valid) and passes when the
call raises the expected :mod:`dmf_verify.errors` class AND the message names the parameter (and,
for scalars, shows the bad value; for options, lists the allowed values). Returning normally (a
silent wrong or NaN result), a generic exception (TypeError, numpy's LinAlgError, ...), a hang
(past the per-case timeout) or a crash of the interpreter are failures.

Where the rows come from
------------------------
* ``SPECS``: one :class:`Spec` per public function -- the callable and a *valid* call. For every
  parameter of the signature the *kind* (integer >= 1, real in (0, 1), option, seed, matrix,
  factors, ...) is taken from ``Spec.kinds``, else from ``NAME_RULES`` (by parameter name), else
  inferred from the annotation and the valid value; each kind generates its bad values (nan, inf,
  -1, 0, 2.5 and 2.0 for integers, complex / NaN / wrongly shaped arrays, unknown option strings,
  wrong types). The valid call itself is run as a control: it must succeed.
* ``HAND``: rows generation cannot express (shapes that must agree between parameters, indices
  listed twice, an alpha above the switch-on level, ...).
* ``CLI_ROWS``: command lines that must exit with status 2 and one line on stderr (the CLI's
  extension point: add ``CliRow(...)`` entries).

Every row is strict: no row carries an ``owner`` and ``KNOWN_HANGS`` is empty. (The mechanism
stays for a module being rewritten elsewhere: a row with ``owner="#N ..."`` is an expected failure
under pytest until its owner fixes it, and a known hang is skipped there unless
DMF_BAD_INPUT_HANGS=1.)

Running
-------
``python -m pytest -q tests/test_bad_input.py`` runs every row (each in a worker process with a
per-case timeout). ``python tests/bad_inputs.py`` prints the counts (tried / specific / generic /
silent / hang), ``--failures`` lists every failing row, ``--json FILE`` writes the per-case
outcomes. Point ``PYTHONPATH`` at another checkout to count against it.

Adding rows: a new public function gets a ``Spec`` (``tests/test_bad_input.py`` fails for public
names without one unless they are listed in ``EXEMPT`` with a reason); a new rule for a parameter
name goes into ``NAME_RULES``; anything else is a ``Row`` in ``HAND``.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import math
import os
import re
import select
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dmf_verify.errors import (
    DMFError,
    InvalidArgument,
    NonFiniteError,
    NotBalancedError,
    NotPSDError,
    ShapeError,
    UndefinedError,
)

NAN = float("nan")
INF = float("inf")
DEFAULT_TIMEOUT = 6.0  # seconds per case (a hang costs this much; valid calls are tiny)
_NEEDS_BASE = object()



# ============================================================================================
# bad values by kind
# ============================================================================================
@dataclass(frozen=True)
class Bad:
    """One bad value: ``make(valid_value)`` builds it; the error must be ``expected``; the message
    must contain ``text`` (case-insensitive) and every string of ``mentions``."""

    label: str
    make: Callable[[Any], Any]
    expected: type = InvalidArgument
    text: str | None = None
    mentions: tuple[str, ...] = ()
    needs_base: bool = False


def _const(v):
    return lambda _base: v


def _num(x) -> str:
    return repr(x) if isinstance(x, float) and not float(x).is_integer() else str(int(x)) if math.isfinite(x) else repr(x)


@dataclass(frozen=True)
class Kind:
    optional: bool = False

    def bads(self) -> list[Bad]:  # pragma: no cover - interface
        raise NotImplementedError

    def _none(self) -> list[Bad]:
        return [] if self.optional else [Bad("None", _const(None), text="None")]


@dataclass(frozen=True)
class Skip(Kind):
    reason: str = ""

    def bads(self):
        return []


@dataclass(frozen=True)
class Int(Kind):
    low: int | None = 0
    high: int | None = None

    def bads(self):
        out = [Bad("2.5", _const(2.5), text="2.5"),
               Bad("integral-float", lambda v: float(v) if isinstance(v, int) else 2.0, needs_base=False),
               Bad("nan", _const(NAN), text="nan"),
               Bad("str", _const("3"), text="'3'"),
               Bad("bool", _const(True), text="True"),
               Bad("complex", _const(1j), text="1j")] + self._none()
        if self.low is not None:
            out.append(Bad(f"below-{self.low}", _const(self.low - 1), text=str(self.low - 1)))
        if self.high is not None:
            out.append(Bad(f"above-{self.high}", _const(self.high + 1), text=str(self.high + 1)))
        return out


@dataclass(frozen=True)
class Real(Kind):
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    allow_inf: bool = False

    def bads(self):
        out = [Bad("nan", _const(NAN), NonFiniteError, "nan")]
        if not self.allow_inf:
            out += [Bad("inf", _const(INF), NonFiniteError, "inf"), Bad("-inf", _const(-INF), NonFiniteError, "-inf")]
        else:
            if self.low is not None:
                out.append(Bad("-inf", _const(-INF), text="-inf"))
            if self.high is not None:
                out.append(Bad("inf", _const(INF), text="inf"))
        out += [Bad("str", _const("abc"), text="abc"), Bad("complex", _const(1j), text="1j"),
                Bad("array", _const(np.ones(2))), Bad("bool", _const(True), text="True")] + self._none()
        if self.low is not None:
            if self.low_open:
                out.append(Bad(f"at-{_num(self.low)}", _const(self.low), text=_num(self.low)))
            out.append(Bad(f"below-{_num(self.low)}", _const(self.low - 1), text=_num(self.low - 1)))
        if self.high is not None:
            if self.high_open:
                out.append(Bad(f"at-{_num(self.high)}", _const(self.high), text=_num(self.high)))
            out.append(Bad(f"above-{_num(self.high)}", _const(self.high + 1), text=_num(self.high + 1)))
        return out


@dataclass(frozen=True)
class Bool(Kind):
    def bads(self):
        return [Bad("str", _const("yes"), text="yes"), Bad("int", _const(1), text="1"),
                Bad("nan", _const(NAN), text="nan"), Bad("array", _const(np.array([True, False])))] + self._none()


@dataclass(frozen=True)
class Option(Kind):
    choices: tuple[str, ...] = ()
    case_sensitive: bool = True

    def bads(self):
        out = [Bad("unknown", _const("bogus"), text="bogus", mentions=self.choices),
               Bad("empty", _const(""), text="''", mentions=self.choices),
               Bad("int", _const(3), text="3", mentions=self.choices)] + self._none()
        if self.case_sensitive and self.choices:
            c = self.choices[0]
            variant = c.upper() if c.upper() != c else c.lower()
            if variant not in self.choices:
                out.append(Bad("case", _const(variant), text=variant, mentions=self.choices))
        return out


@dataclass(frozen=True)
class Seed(Kind):
    def bads(self):
        # library seeds are any integer >= 0 (claims derive seed * 101 + d from a user seed); the
        # user-facing [0, 2**32 - 1] is the CLI's (CLI_ROWS)
        return [Bad("-1", _const(-1), text="-1"), Bad("2.5", _const(2.5), text="2.5"), Bad("integral-float", _const(1.0), text="1.0"),
                Bad("str", _const("0"), text="'0'"), Bad("bool", _const(True), text="True"),
                Bad("nan", _const(NAN), text="nan")] + self._none()


def _with_first(a: np.ndarray, value) -> np.ndarray:
    b = np.array(a, dtype=np.result_type(a.dtype, np.asarray(value).dtype, np.float64), copy=True)
    b.flat[0] = value
    return b


def _grow(a: np.ndarray, axis: int) -> np.ndarray:
    pad = [(0, 0)] * a.ndim
    pad[axis] = (0, 1)
    return np.pad(np.asarray(a, dtype=float), pad, constant_values=1.0)


@dataclass(frozen=True)
class Array(Kind):
    """A real array of ``ndim`` dimensions (``also_ndim``: further accepted dimensions).

    ``finite``: NaN/inf must be rejected; ``fixed``: the shape is fixed by other arguments
    (a grown copy must be rejected with a ShapeError); ``nonempty``: an empty array is bad.
    """

    ndim: int = 2
    also_ndim: tuple[int, ...] = ()
    finite: bool = True
    fixed: bool = False
    nonempty: bool = True
    numbers_as_text_ok: bool = False  # decimal strings / mpf objects are documented input (mpmath APIs)

    def bads(self):
        A = np.asarray
        out = [Bad("complex", lambda v: A(v, dtype=float) + 0.5j, text="complex", needs_base=True),
               Bad("complex-zero-imag", lambda v: A(v, dtype=complex), text="complex", needs_base=True),
               Bad("bool", lambda v: A(v, dtype=float) != 0, needs_base=True),
               Bad("str", _const("abc"), text="abc")] + self._none()
        if not self.numbers_as_text_ok:
            out += [Bad("strings", lambda v: A(v, dtype=float).astype(str), needs_base=True),
                    Bad("object", lambda v: A(v, dtype=float).astype(object), needs_base=True)]
        if self.finite:
            out += [Bad("nan", lambda v: _with_first(A(v, dtype=float), NAN), NonFiniteError, needs_base=True),
                    Bad("inf", lambda v: _with_first(A(v, dtype=float), INF), NonFiniteError, needs_base=True)]
        ok = {self.ndim, *self.also_ndim}
        if self.ndim + 1 not in ok:
            out.append(Bad(f"{self.ndim + 1}-D", lambda v: A(v, dtype=float)[None], ShapeError, needs_base=True))
        if self.ndim - 1 >= 1 and self.ndim - 1 not in ok:
            out.append(Bad(f"{self.ndim - 1}-D", lambda v: A(v, dtype=float).reshape(-1) if self.ndim == 2 else A(v, dtype=float)[0],
                           ShapeError, needs_base=True))
        if self.ndim >= 2:
            out.append(Bad("ragged", _const([[1.0, 2.0], [3.0]])))
        if self.nonempty:
            out.append(Bad("empty", lambda v: A(v, dtype=float)[:0], needs_base=True))
        if self.fixed:
            out.append(Bad("wrong-shape", lambda v: _grow(A(v, dtype=float), 0), ShapeError, needs_base=True))
        return out


def Matrix(**kw) -> Array:
    return Array(ndim=2, **kw)


def Vector(**kw) -> Array:
    return Array(ndim=1, **kw)


def Array3(**kw) -> Array:
    return Array(ndim=3, **kw)


@dataclass(frozen=True)
class Factors(Kind):
    def bads(self):
        def nan_first(v):
            fs = [np.array(f, dtype=float) for f in v]
            fs[0] = _with_first(fs[0], NAN)
            return fs

        def complex_first(v):
            fs = [np.array(f, dtype=float) for f in v]
            fs[0] = fs[0] + 0.5j
            return fs

        def no_chain(v):
            d = np.asarray(v[0]).shape[0]
            return [np.asarray(v[0], dtype=float), np.ones((d + 1, d + 1))]

        return [Bad("empty", _const([])), Bad("str", _const("abc"), text="abc"), Bad("int", _const(5), text="5"),
                Bad("nan-entry", nan_first, NonFiniteError, needs_base=True),
                Bad("complex", complex_first, text="complex", needs_base=True),
                Bad("no-chain", no_chain, ShapeError, needs_base=True),
                Bad("vector-factor", _const([np.ones(3)]), ShapeError),
                Bad("str-factor", lambda v: [np.asarray(v[0], dtype=float), "x"], needs_base=True)] + self._none()


@dataclass(frozen=True)
class Pair(Kind):
    """A pair (U, V) of matrices (singular vector references)."""

    def bads(self):
        def nan_u(v):
            return (_with_first(np.asarray(v[0], dtype=float), NAN), np.asarray(v[1], dtype=float))

        def complex_u(v):
            return (np.asarray(v[0], dtype=float) + 0.5j, np.asarray(v[1], dtype=float))

        def short_u(v):
            return (np.asarray(v[0], dtype=float)[:-1], np.asarray(v[1], dtype=float))

        return [Bad("str", _const("abc"), text="abc"), Bad("one-matrix", lambda v: (np.asarray(v[0]),), needs_base=True),
                Bad("matrix-not-pair", lambda v: np.asarray(v[0], dtype=float), needs_base=True),
                Bad("nan-entry", nan_u, NonFiniteError, needs_base=True),
                Bad("complex", complex_u, text="complex", needs_base=True),
                Bad("wrong-rows", short_u, ShapeError, needs_base=True)] + self._none()


@dataclass(frozen=True)
class Obj(Kind):
    """An object of a project type (a loss, a problem): wrong types must be rejected."""

    def bads(self):
        return [Bad("str", _const("abc")), Bad("int", _const(3)), Bad("array", _const(np.eye(2)))] + self._none()


@dataclass(frozen=True)
class Func(Kind):
    def bads(self):
        return [Bad("str", _const("abc"), text="abc"), Bad("int", _const(3), text="3")] + self._none()


@dataclass(frozen=True)
class Ints(Kind):
    """A sequence of integers (layer widths)."""

    low: int = 1

    def bads(self):
        def first(x):
            return lambda v: [x] + list(v)[1:]

        return [Bad("str", _const("abc"), text="abc"), Bad("scalar", _const(3), text="3"),
                Bad("2.5", first(2.5), text="2.5", needs_base=True), Bad("integral-float", first(2.0), text="2.0", needs_base=True),
                Bad("nan", first(NAN), text="nan", needs_base=True), Bad("bool", first(True), text="True", needs_base=True),
                Bad(f"below-{self.low}", first(self.low - 1), text=str(self.low - 1), needs_base=True)] + self._none()


@dataclass(frozen=True)
class Shape(Kind):
    def bads(self):
        def first(x):
            return lambda v: (x, *tuple(v)[1:])

        return [Bad("2.5", first(2.5), text="2.5", needs_base=True), Bad("integral-float", first(2.0), text="2.0", needs_base=True),
                Bad("zero", first(0), text="0", needs_base=True), Bad("-1", first(-1), text="-1", needs_base=True),
                Bad("nan", first(NAN), text="nan", needs_base=True), Bad("one-entry", lambda v: tuple(v)[:1], needs_base=True),
                Bad("three-entries", lambda v: (*tuple(v), 2), needs_base=True), Bad("str", _const("ab"), text="ab"),
                Bad("int", _const(3), text="3")] + self._none()


@dataclass(frozen=True)
class Indices(Kind):
    def bads(self):
        return [Bad("fractional", lambda v: np.asarray(v, dtype=float) + 0.5, needs_base=True),
                Bad("integral-float", lambda v: np.asarray(v, dtype=float), needs_base=True),
                Bad("strings", lambda v: np.asarray(v).astype(str), needs_base=True),
                Bad("complex", lambda v: np.asarray(v) + 0j, needs_base=True),
                Bad("str", _const("abc"), text="abc")] + self._none()


POS = {"low": 0.0, "low_open": True}
UNIT = {"low": 0.0, "high": 1.0, "low_open": True, "high_open": True}

# Kinds by parameter name (a Spec's ``kinds`` override these; a default of None makes a kind optional).
NAME_RULES: dict[str, Kind] = {
    "seed": Seed(),
    **{n: Int(low=1) for n in ("depth", "dim", "d", "m", "n", "n1", "n2", "k", "r", "rank", "max_iters",
                               "max_steps", "n_levels", "dps", "digits", "columns")},
    **{n: Int(low=0) for n in ("steps", "record_every", "max_iter")},
    **{n: Real(**POS) for n in ("step", "step_v", "alpha", "scale", "init_scale", "lr", "eps", "delta", "rate_v",
                                "rtol", "atol", "tol", "balance_rtol", "t_max", "h0", "max_abs", "max_norm",
                                "time_limit")},
    **{n: Real(**UNIT) for n in ("theta", "min_overlap", "remaining")},
    "q": Real(low=0.0),
    "p": Real(**POS),
    "condition": Real(low=1.0),
    "reduction": Option(choices=("sum", "mean")),
    "side": Option(choices=("left", "right")),
    "on_divergence": Option(choices=("raise", "return")),
    "path": Option(choices=("auto", "symmetric", "svd")),
    **{n: Bool() for n in ("half", "psd", "symmetric", "relative", "projection", "warn", "track_steps", "angles",
                           "verbose", "allow_inaccurate")},
    "factors": Factors(),
    "loss": Obj(),
    "problem": Obj(),
    "observe": Func(optional=True),
    "rhs": Func(),
    "exponents": Func(),
    "reference": Pair(optional=True),
    "shape": Shape(),
    "dims": Ints(low=1),
    "hidden": Ints(low=1, optional=True),
}


def infer_kind(param: inspect.Parameter, value) -> Kind:
    """The kind of a parameter from its annotation and valid value (when no rule names it)."""
    ann = str(param.annotation).replace(" ", "")
    if isinstance(value, (bool, np.bool_)) or ann.startswith("bool"):
        return Bool()
    if isinstance(value, (int, np.integer)) or ann in ("int", "int|None"):
        return Int(low=None)
    if isinstance(value, (float, np.floating)) or ann in ("float", "float|None"):
        return Real()
    if isinstance(value, str):
        return Option()
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf" and value.ndim in (1, 2, 3):
        return Array(ndim=value.ndim)
    if isinstance(value, list) and value and all(isinstance(x, np.ndarray) and x.ndim == 2 for x in value):
        return Factors()
    if hasattr(value, "gradient"):
        return Obj()
    if callable(value):
        return Func()
    return Skip(reason=f"no rule for {param.name} = {value!r:.40}")


# ============================================================================================
# specs and cases
# ============================================================================================
@dataclass
class Spec:
    """A public function with a valid call (``valid()`` returns the keyword arguments)."""

    name: str
    target: Callable[[], Callable]
    valid: Callable[[], dict]
    kinds: dict[str, Kind] = field(default_factory=dict)
    owner: str | None = None
    timeout: float = DEFAULT_TIMEOUT


@dataclass
class Case:
    id: str
    call: Callable[[], Any]
    param: str
    expected: type
    text: str | None = None
    mentions: tuple[str, ...] = ()
    owner: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    control: bool = False  # a valid call: it must return normally


@dataclass
class Row:
    """A hand-written case: ``call`` must raise ``expected`` naming ``param`` (and showing ``text``)."""

    id: str
    call: Callable[[], Any]
    param: str
    expected: type = InvalidArgument
    text: str | None = None
    owner: str | None = None
    timeout: float = DEFAULT_TIMEOUT


def _imp(module: str, attr: str):
    return lambda: getattr(importlib.import_module(module), attr)


def _method(factory: Callable[[], Any], attr: str):
    return lambda: getattr(factory(), attr)


# --- small valid inputs (deterministic) ------------------------------------------------------
def M22():
    return np.array([[2.0, 0.5], [0.3, 1.0]])


def M23():
    return np.array([[1.0, 0.2, 0.3], [0.1, 0.9, 0.4]])


def G22():
    return np.array([[0.3, -0.2], [0.1, 0.4]])


def F32():
    """Factors [W_1 (3x2), W_2 (2x3)] with a 2x2 product."""
    return [np.array([[1.0, 0.2], [0.1, 0.8], [0.3, 0.4]]), np.array([[0.5, 0.1, 0.2], [0.3, 0.9, 0.1]])]


def balanced():
    from dmf_verify.numerics.model import balanced_factors

    return balanced_factors(np.diag([2.0, 1.0]), 2, seed=0)


def frob():
    from dmf_verify.numerics.losses import FrobeniusLoss

    return FrobeniusLoss(np.eye(2))


def A322():
    return np.array([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 1.0]]])


def sensing():
    from dmf_verify.numerics.losses import SensingLoss

    return SensingLoss(A322(), [1.0, 0.5, 2.0])


def completion():
    from dmf_verify.numerics.losses import CompletionLoss

    return CompletionLoss([0, 1], [1, 0], [1.0, 2.0], shape=(2, 2))


def commuting():
    """Two commuting symmetric 2x2 measurement matrices (diagonal) and consistent y."""
    return np.array([[[1.0, 0.0], [0.0, 2.0]], [[3.0, 0.0], [0.0, -1.0]]]), np.array([1.0, 2.0])


def svd22():
    u, s, vt = np.linalg.svd(np.diag([2.0, 1.0]) + 0.1, full_matrices=False)
    return u, s, vt.T


def problem():
    from dmf_verify.numerics.asymmetric import sensing_problem

    return sensing_problem(3, 2, 1, 6, seed=0)


def trajectory():
    t = np.linspace(0.0, 0.2, 4)
    return np.stack([np.diag([2.0 + s, 1.0 - s]) + 0.05 * s for s in t])


def _tiny_training_loss():
    from dmf_verify.numerics.training import completion_problem

    return completion_problem(3, 1, 4, seed=0).loss


def _tiny_training_factors():
    from dmf_verify.numerics.training import init_factors

    return init_factors(3, 2, 0.1, seed=0)


N = "dmf_verify.numerics"
SPECS: list[Spec] = [
    # ---- model ------------------------------------------------------------------------------
    Spec("model.product", _imp(f"{N}.model", "product"), lambda: {"factors": F32()}),
    Spec("model.factor_gradients", _imp(f"{N}.model", "factor_gradients"), lambda: {"factors": F32(), "loss": frob()}),
    Spec("model.layer_dims", _imp(f"{N}.model", "layer_dims"), lambda: {"factors": F32()}),
    Spec("model.imbalance", _imp(f"{N}.model", "imbalance"), lambda: {"factors": F32()}),
    Spec("model.imbalance_norm", _imp(f"{N}.model", "imbalance_norm"), lambda: {"factors": F32(), "relative": True}),
    Spec("model.require_balanced", _imp(f"{N}.model", "require_balanced"), lambda: {"factors": balanced(), "rtol": 1e-10}),
    Spec("model.balanced_factors", _imp(f"{N}.model", "balanced_factors"),
         lambda: {"end_to_end": np.diag([2.0, 1.0]), "depth": 3, "hidden": [2, 3], "seed": 0}),
    Spec("model.random_factors", _imp(f"{N}.model", "random_factors"), lambda: {"dims": [2, 3, 2], "scale": 1.0, "seed": 0}),
    Spec("model.scaled_identity_factors", _imp(f"{N}.model", "scaled_identity_factors"),
         lambda: {"dim": 2, "depth": 2, "alpha": 0.5}),
    # ---- losses -----------------------------------------------------------------------------
    Spec("losses.SensingLoss", _imp(f"{N}.losses", "SensingLoss"),
         lambda: {"A": A322(), "y": np.array([1.0, 0.5, 2.0]), "reduction": "sum", "half": True},
         kinds={"A": Array3(), "y": Vector(fixed=True, also_ndim=(2,))}),
    Spec("losses.CompletionLoss", _imp(f"{N}.losses", "CompletionLoss"),
         lambda: {"rows": [0, 1], "cols": [1, 0], "values": np.array([1.0, 2.0]), "shape": (2, 2), "reduction": "mean",
                  "half": False},
         kinds={"rows": Indices(), "cols": Indices(), "values": Vector(fixed=True, also_ndim=(2,))}),
    Spec("losses.FrobeniusLoss", _imp(f"{N}.losses", "FrobeniusLoss"), lambda: {"target": M22(), "half": True}),
    Spec("losses.random_sensing", _imp(f"{N}.losses", "random_sensing"),
         lambda: {"shape": (2, 2), "m": 3, "ground_truth": M22(), "seed": 0, "reduction": "sum", "half": True,
                  "symmetric": False},
         kinds={"ground_truth": Matrix(fixed=True, optional=True)}),
    Spec("losses.random_completion", _imp(f"{N}.losses", "random_completion"),
         lambda: {"ground_truth": M22(), "m": 2, "seed": 0, "reduction": "mean", "half": False},
         kinds={"m": Int(low=1, high=4)}),
    *[Spec(f"losses.{cls}.{meth}", _method(fac, meth), lambda: {"w": M22()},
           kinds={"w": Matrix(fixed=True, finite=False)})
      for cls, fac, meths in (("SensingLoss", sensing, ("value", "gradient", "residual", "measure")),
                              ("CompletionLoss", completion, ("value", "gradient", "residual")),
                              ("FrobeniusLoss", frob, ("value", "gradient", "residual")))
      for meth in meths],
    # ---- spectral ---------------------------------------------------------------------------
    Spec("spectral.svd_sorted", _imp(f"{N}.spectral", "svd_sorted"), lambda: {"w": M23()}),
    Spec("spectral.svd_aligned", _imp(f"{N}.spectral", "svd_aligned"),
         lambda: {"w": M22(), "reference": (np.eye(2), np.eye(2))}),
    Spec("spectral.gram_power_apply", _imp(f"{N}.spectral", "gram_power_apply"),
         lambda: {"u": np.eye(2), "s": np.array([2.0, 1.0]), "q": 0.5, "x": np.ones((2, 1))},
         kinds={n: Skip(reason="documented building block for validated SVD factors") for n in ("u", "s", "x")}),
    Spec("spectral.gram_power", _imp(f"{N}.spectral", "gram_power"), lambda: {"w": M23(), "q": 0.5, "side": "left"}),
    Spec("spectral.psd_power", _imp(f"{N}.spectral", "psd_power"),
         lambda: {"m": np.diag([4.0, 9.0]), "q": 0.5, "atol": None}, kinds={"atol": Real(low=0.0, optional=True)}),
    Spec("spectral.singular_values", _imp(f"{N}.spectral", "singular_values"), lambda: {"w": M23()}),
    *[Spec(f"spectral.{fn}({what})", _imp(f"{N}.spectral", fn), (lambda v=v, extra=extra: {"w_or_s": v(), **extra}),
           kinds={"w_or_s": Array(ndim=nd, also_ndim=(3 - nd,)),
                  **({"p": Real(low=0.0, low_open=True, allow_inf=True)} if fn == "schatten_norm" else {})})
      for fn, extra in (("effective_rank", {}), ("schatten_p_power", {"p": 0.5}), ("schatten_norm", {"p": 2.0}),
                        ("nuclear_norm", {}))
      for what, v, nd in (("matrix", M22, 2), ("vector", lambda: np.array([2.0, 1.0]), 1))],
    # ---- descent ----------------------------------------------------------------------------
    Spec("descent.gradient_descent", _imp(f"{N}.descent", "gradient_descent"),
         lambda: {"loss": frob(), "factors": F32(), "step": 0.01, "steps": 3, "tol": None, "record_every": 1,
                  "observe": None, "on_divergence": "raise", "max_loss": None},
         kinds={"tol": Real(low=0.0, optional=True), "max_loss": Real(low=0.0, low_open=True, allow_inf=True, optional=True)}),
    # ---- nuclear ----------------------------------------------------------------------------
    Spec("nuclear.min_nuclear_norm", _imp(f"{N}.nuclear", "min_nuclear_norm"),
         lambda: {"loss": sensing(), "psd": False, "eps": 1e-6, "max_iters": 5000, "solver": "SCS",
                  "allow_inaccurate": False, "verbose": False},
         kinds={"solver": Option(choices=("SCS", "CLARABEL"), case_sensitive=False)}, timeout=15.0),
    Spec("nuclear.joint_eigenbasis", _imp(f"{N}.nuclear", "joint_eigenbasis"),
         lambda: {"a": commuting()[0], "tol": 1e-9, "seed": 0}, kinds={"a": Array3()}),
    Spec("nuclear.min_nuclear_norm_commuting", _imp(f"{N}.nuclear", "min_nuclear_norm_commuting"),
         lambda: {"eigenvalues": np.array([[1.0, 2.0], [3.0, -1.0]]), "y": np.array([1.0, 2.0]), "psd": False},
         kinds={"y": Vector(fixed=True, also_ndim=(2,))}),
    Spec("nuclear.min_nuclear_norm_commuting_matrices", _imp(f"{N}.nuclear", "min_nuclear_norm_commuting_matrices"),
         lambda: {"a": commuting()[0], "y": commuting()[1], "psd": False, "tol": 1e-9},
         kinds={"a": Array3(), "y": Vector(fixed=True, also_ndim=(2,))}),
    Spec("nuclear.min_frobenius_norm", _imp(f"{N}.nuclear", "min_frobenius_norm"), lambda: {"loss": sensing()}),
    Spec("nuclear.measurement_operator", _imp(f"{N}.nuclear", "measurement_operator"), lambda: {"loss": completion()}),
    Spec("nuclear.random_commuting_sensing", _imp(f"{N}.nuclear", "random_commuting_sensing"),
         lambda: {"d": 2, "m": 2, "seed": 0, "spectrum": np.array([1.0, 0.5])},
         kinds={"spectrum": Vector(fixed=True, optional=True)}),
    # ---- chou -------------------------------------------------------------------------------
    Spec("chou.convergence_step_bound", _imp(f"{N}.chou", "convergence_step_bound"),
         lambda: {"lam_max": 1.0, "depth": 2}, kinds={"lam_max": Real(**POS), "depth": Int(low=2)}),
    Spec("chou.check_step", _imp(f"{N}.chou", "check_step"), lambda: {"step": 0.1, "lam_max": 1.0, "depth": 2},
         kinds={"lam_max": Real(**POS), "depth": Int(low=2), "stacklevel": Skip(reason="warnings plumbing")}),
    Spec("chou.recursion_step", _imp(f"{N}.chou", "recursion_step"),
         lambda: {"w": np.array([0.1, 0.2]), "lam": np.array([1.0, 0.5]), "depth": 2, "step": 0.1},
         kinds={"w": Vector(also_ndim=(0, 2, 3)), "lam": Vector(also_ndim=(0, 2, 3))}),
    Spec("chou.scalar_recursion", _imp(f"{N}.chou", "scalar_recursion"),
         lambda: {"lam": np.array([1.0, 0.5]), "depth": 2, "alpha": 0.1, "step": 0.1, "steps": 3, "warn": True},
         kinds={"lam": Vector(also_ndim=(0,)), "depth": Int(low=2)}),
    Spec("chou.measured_switch_on", _imp(f"{N}.chou", "measured_switch_on"),
         lambda: {"lam": 1.0, "depth": 2, "alpha": 0.1, "step": 0.1, "theta": 0.5, "max_steps": 10_000},
         kinds={"lam": Real(**POS), "depth": Int(low=2)}),
    *[Spec(f"chou.{fn}", _imp(f"{N}.chou", fn), (lambda extra=extra: {"lam": 1.0, "depth": 2, "alpha": 0.1, "theta": 0.5, **extra}),
           kinds={"lam": Real(**POS), "depth": Int(low=2)})
      for fn, extra in (("switch_on_time", {}), ("switch_on_time_quadrature", {}), ("switch_on_bounds", {"step": 0.1}))],
    Spec("chou.recursion_map", _imp(f"{N}.chou", "recursion_map"),
         lambda: {"depth": np.array([2, 3]), "step": np.array([0.1, 0.1])},
         kinds={"depth": Vector(also_ndim=(0,)), "step": Vector(also_ndim=(0,))}),
    Spec("chou.erank_rows", _imp(f"{N}.chou", "erank_rows"), lambda: {"x": np.array([[1.0, 0.5], [0.2, 0.2]])},
         kinds={"x": Matrix(also_ndim=(1, 3))}),
    Spec("chou.erank_box_bounds", _imp(f"{N}.chou", "erank_box_bounds"),
         lambda: {"lo": np.array([0.5, 0.1]), "hi": np.array([1.0, 0.2])},
         kinds={"lo": Vector(fixed=True), "hi": Vector(fixed=True)}),
    Spec("chou.enclosure_breakpoints", _imp(f"{N}.chou", "enclosure_breakpoints"),
         lambda: {"lam": 1.0, "depth": 2, "alpha": 0.1, "step": 0.1, "n_levels": 5},
         kinds={"lam": Real(**POS), "depth": Int(low=2)}),
    Spec("chou.predict_erank_intervals", _imp(f"{N}.chou", "predict_erank_intervals"),
         lambda: {"spectrum": np.array([1.0, 0.5]), "depth": 2, "alpha": 0.05, "step": 0.1, "rank": 1, "delta": 0.05,
                  "n_levels": 5, "rank_tol": None},
         kinds={"depth": Int(low=2), "rank_tol": Real(low=0.0, optional=True), "spectrum": Vector(also_ndim=(0,))}),
    Spec("chou.measured_erank_interval", _imp(f"{N}.chou", "measured_erank_interval"),
         lambda: {"erank_values": np.array([1.0, 1.5, 2.0]), "target": 1.5, "delta": 0.1, "inside": None},
         kinds={"target": Real(), "inside": Skip(reason="hand rows")}),
    Spec("chou.aligned_factors", _imp(f"{N}.chou", "aligned_factors"),
         lambda: {"a": np.diag([2.0, 1.0]), "depth": 2, "alpha": 0.1, "path": "auto"},
         kinds={"depth": Int(low=2)}),
    Spec("chou.early_stopping_interval", _imp(f"{N}.chou", "early_stopping_interval"),
         lambda: {"depth": 2, "alpha": 0.05, "step": 0.1, "rank": 1, "spectrum": np.array([1.0, 0.5]), "delta": 0.05,
                  "path": "auto", "n_levels": 5},
         kinds={"depth": Int(low=2), "a": Skip(reason="covered by chou.aligned_factors"),
                "spectrum": Vector(also_ndim=(0,), optional=True)}),
    # ---- asymmetric ---------------------------------------------------------------------------
    Spec("asymmetric.AsymmetricSensing", _imp(f"{N}.asymmetric", "AsymmetricSensing"),
         lambda: {"x_star": np.outer([1.0, 0.5, 0.2], [0.3, 1.0]), "A_flat": np.arange(18.0).reshape(3, 6) % 5 - 2.0,
                  "y": np.array([1.0, 0.0, -1.0]), "rank": 1, "seed": None},
         kinds={"A_flat": Matrix(fixed=True), "y": Vector(fixed=True, also_ndim=(2,)), "rank": Int(low=1, optional=True)}),
    Spec("asymmetric.AsymmetricSensing.measure", _method(problem, "measure"),
         lambda: {"x": np.ones((3, 2))}, kinds={"x": Matrix(fixed=True)}),
    Spec("asymmetric.AsymmetricSensing.adjoint", _method(problem, "adjoint"),
         lambda: {"r": np.ones(6)}, kinds={"r": Vector(fixed=True, also_ndim=(2,))}),
    Spec("asymmetric.AsymmetricSensing.value", _method(problem, "value"),
         lambda: {"u": np.ones((3, 2)), "v": np.ones((2, 2))}, kinds={"u": Matrix(fixed=True), "v": Matrix(fixed=True)}),
    Spec("asymmetric.AsymmetricSensing.gradients", _method(problem, "gradients"),
         lambda: {"u": np.ones((3, 2)), "v": np.ones((2, 2))}, kinds={"u": Matrix(fixed=True), "v": Matrix(fixed=True)}),
    Spec("asymmetric.AsymmetricSensing.relative_error", _method(problem, "relative_error"),
         lambda: {"x": np.ones((3, 2))}, kinds={"x": Matrix(fixed=True)}),
    Spec("asymmetric.low_rank_matrix", _imp(f"{N}.asymmetric", "low_rank_matrix"),
         lambda: {"n1": 3, "n2": 2, "r": 1, "seed": 0, "condition": 1.0}),
    Spec("asymmetric.sensing_problem", _imp(f"{N}.asymmetric", "sensing_problem"),
         lambda: {"n1": 3, "n2": 2, "r": 1, "m": 5, "seed": 0, "condition": 1.0}),
    Spec("asymmetric.small_init", _imp(f"{N}.asymmetric", "small_init"),
         lambda: {"n1": 3, "n2": 2, "k": 2, "alpha": 0.1, "seed": 0}),
    Spec("asymmetric.imbalance", _imp(f"{N}.asymmetric", "imbalance"),
         lambda: {"u": np.ones((3, 2)), "v": np.ones((2, 2))}),
    Spec("asymmetric.sin_theta", _imp(f"{N}.asymmetric", "sin_theta"),
         lambda: {"x": np.outer([1.0, 0.5, 0.2], [0.3, 1.0]), "reference": np.outer([1.0, 0.4, 0.2], [0.3, 1.0]), "r": 1},
         kinds={"reference": Matrix(fixed=True), "r": Int(low=1, high=2)}),
    Spec("asymmetric.asymmetric_gd", _imp(f"{N}.asymmetric", "asymmetric_gd"),
         lambda: {"problem": problem(), "u0": 0.1 * np.ones((3, 2)), "v0": 0.1 * np.ones((2, 2)), "step": 0.05, "steps": 3,
                  "step_v": None, "tol": None, "record_every": 1, "track_steps": False, "angles": False,
                  "on_divergence": "raise", "max_loss": None},
         kinds={"u0": Matrix(fixed=True), "v0": Matrix(fixed=True), "tol": Real(low=0.0, optional=True),
                "max_loss": Real(low=0.0, low_open=True, allow_inf=True, optional=True)}),
    Spec("asymmetric.asymmetric_flow", _imp(f"{N}.asymmetric", "asymmetric_flow"),
         lambda: {"problem": problem(), "u0": 0.1 * np.ones((3, 2)), "v0": 0.1 * np.ones((2, 2)),
                  "t_eval": np.array([0.0, 0.1]), "rate_v": 1.0, "rtol": 1e-6, "atol": 1e-9},
         kinds={"u0": Matrix(fixed=True), "v0": Matrix(fixed=True), "t_eval": Vector(also_ndim=(0, 2))}),
    Spec("asymmetric.batched_gd", _imp(f"{N}.asymmetric", "batched_gd"),
         lambda: {"problem": problem(), "u0s": 0.1 * np.ones((2, 3, 2)), "v0s": 0.1 * np.ones((2, 2, 2)), "step": 0.05,
                  "steps": 3, "record_every": 1, "max_loss": None},
         kinds={"u0s": Array3(), "v0s": Array3(), "max_loss": Real(low=0.0, low_open=True, allow_inf=True, optional=True)}),
    Spec("asymmetric.alpha_sweep", _imp(f"{N}.asymmetric", "alpha_sweep"),
         lambda: {"problem": problem(), "k": 2, "alphas": np.array([0.1, 0.2]), "step": 0.05, "steps": 3, "seed": 0,
                  "record_every": 0}),
    Spec("asymmetric.loglog_slope", _imp(f"{N}.asymmetric", "loglog_slope"),
         lambda: {"xs": np.array([1.0, 2.0, 4.0]), "ys": np.array([1.0, 4.0, 16.0])},
         kinds={"xs": Vector(fixed=True), "ys": Vector(fixed=True)}),
    # ---- singular vectors, tracking ---------------------------------------------------------------
    Spec("singular_vectors.lemma2_rates", _imp(f"{N}.singular_vectors", "lemma2_rates"),
         lambda: dict(zip(("u", "s", "v"), svd22()), grad=G22(), depth=2, projection=True, projection_exponent=None,
                      gap_exponent=None, rtol=1e-12),
         kinds={"u": Matrix(fixed=True), "s": Vector(fixed=True), "v": Matrix(fixed=True), "grad": Matrix(fixed=True),
                "projection_exponent": Real(optional=True), "gap_exponent": Real(optional=True)}),
    Spec("singular_vectors.lemma2_rates_at", _imp(f"{N}.singular_vectors", "lemma2_rates_at"),
         lambda: {"w": np.diag([2.0, 1.0]) + 0.1, "grad": G22(), "depth": 2, "reference": (np.eye(2), np.eye(2))},
         kinds={"grad": Matrix(fixed=True)}),
    Spec("singular_vectors.off_diagonal_mass", _imp(f"{N}.singular_vectors", "off_diagonal_mass"),
         lambda: {"u": np.eye(2), "v": np.eye(2), "grad": G22()},
         kinds={"u": Matrix(fixed=True), "v": Matrix(fixed=True), "grad": Matrix(fixed=True)}),
    Spec("tracking.track_svd", _imp(f"{N}.tracking", "track_svd"),
         lambda: {"products": trajectory(), "reference": None, "cluster_rtol": 1e-9, "min_overlap": 0.5},
         kinds={"products": Array3(), "cluster_rtol": Real(low=0.0)}),
    # ---- checks.instances -------------------------------------------------------------------------
    Spec("instances.matrix_with_spectrum", _imp("dmf_verify.checks.instances", "matrix_with_spectrum"),
         lambda: {"shape": (3, 2), "spectrum": np.array([2.0, 1.0]), "seed": 0}),
    Spec("instances.sensing_loss", _imp("dmf_verify.checks.instances", "sensing_loss"),
         lambda: {"shape": (2, 2), "m": 3, "seed": 0}),
    Spec("instances.completion_loss", _imp("dmf_verify.checks.instances", "completion_loss"),
         lambda: {"shape": (2, 2), "m": 2, "seed": 0}, kinds={"m": Int(low=1, high=4)}),
    Spec("instances.balanced_instance", _imp("dmf_verify.checks.instances", "balanced_instance"),
         lambda: {"shape": (2, 2), "depth": 2, "seed": 0, "spectrum": np.array([1.5, 0.5]), "hidden": [3]},
         kinds={"spectrum": Vector(optional=True)}),
    # ---- flows, rates, the scalar ODE, the mp integrator, training -----------------------------------
    Spec("flow.end_to_end_velocity", _imp(f"{N}.flow", "end_to_end_velocity"),
         lambda: {"w": M22(), "grad": G22(), "depth": 2}, kinds={"grad": Matrix(fixed=True)}),
    Spec("flow.integrate_factor_flow", _imp(f"{N}.flow", "integrate_factor_flow"),
         lambda: {"loss": frob(), "factors": F32(), "t_eval": np.array([0.0, 0.1]), "rtol": 1e-8, "atol": 1e-10,
                  "method": "DOP853", "layer_rates": np.array([1.0, 1.0]), "max_norm": None},
         kinds={"t_eval": Vector(), "layer_rates": Vector(fixed=True, optional=True),
                "method": Option(choices=("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA"))}),
    Spec("flow.integrate_end_to_end_flow", _imp(f"{N}.flow", "integrate_end_to_end_flow"),
         lambda: {"loss": frob(), "w0": M22(), "depth": 2, "t_eval": np.array([0.0, 0.1]), "rtol": 1e-8, "atol": 1e-10,
                  "method": "DOP853", "max_norm": None},
         kinds={"w0": Matrix(fixed=True), "t_eval": Vector(),
                "method": Option(choices=("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA"))}),
    Spec("flow.integrate_end_to_end_from_factors", _imp(f"{N}.flow", "integrate_end_to_end_from_factors"),
         lambda: {"loss": frob(), "factors": balanced(), "t_eval": np.array([0.0, 0.1]), "balance_rtol": 1e-10},
         kinds={"t_eval": Vector()}),
    Spec("flow.solve_flow", _imp(f"{N}.flow", "solve_flow"),
         lambda: {"rhs": lambda t, y: -y, "y0": np.array([1.0]), "t_eval": np.array([0.0, 0.1]), "rtol": 1e-8,
                  "atol": 1e-10, "method": "DOP853", "max_norm": None},
         kinds={"y0": Vector(), "t_eval": Vector(),
                "method": Option(choices=("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA"))}),
    Spec("rates.singular_value_rates", _imp(f"{N}.rates", "singular_value_rates"),
         lambda: {"w": M22(), "grad": G22(), "depth": 2, "exponent": None, "reference": (np.eye(2), np.eye(2))},
         kinds={"grad": Matrix(fixed=True), "exponent": Real(optional=True)}),
    Spec("rates.five_point_derivative", _imp(f"{N}.rates", "five_point_derivative"),
         lambda: {"values": np.arange(5.0), "h": 0.1}, kinds={"values": Vector(fixed=True), "h": Real(**POS)}),
    *[Spec(f"scalar_ode.{fn}", _imp(f"{N}.scalar_ode", fn), (lambda extra=extra: {"x0": 0.5, "depth": 3, **extra}),
           kinds={"x0": Real(), "g": Real(), "threshold": Real(**POS, optional=True)})
      for fn, extra in (("check_problem", {}), ("blowup_threshold", {}), ("blowup_time", {"g": 1.0, "t_max": 1e4}),
                        ("solution", {"t": np.array([0.0, 0.1]), "g": 1.0}),
                        ("integrate_dop853", {"t_eval": np.array([0.0, 0.1]), "g": 1.0, "rtol": 1e-10, "atol": 1e-300}),
                        ("blowup_time_dop853", {"g": 1.0, "t_max": 100.0, "threshold": None, "rtol": 1e-10,
                                                "remaining": 1e-6}),
                        ("solution_mp", {"t": 0.1, "g": 1.0, "dps": 30}), ("blowup_time_mp", {"g": 1.0, "digits": 15}))],
    Spec("scalar_ode.rhs_mp", _imp(f"{N}.scalar_ode", "rhs_mp"), lambda: {"depth": 3, "g": 1.0, "exponent": None},
         kinds={"g": Real(), "exponent": Real(optional=True)}),
    Spec("scalar_ode.cosine", _imp(f"{N}.scalar_ode", "cosine"), lambda: {"a": 1.0, "b": 0.5, "omega": 2.0},
         kinds={"a": Real(), "b": Real(), "omega": Real()}),
    Spec("precise.integrate", _imp(f"{N}.precise", "integrate"),
         lambda: {"rhs": lambda t, y: [-y[0]], "y0": [1], "t_eval": [0.1], "digits": 15, "t0": 0, "columns": None,
                  "rtol": None, "atol": None, "h0": None, "max_steps": 1000, "max_abs": None, "arithmetic": "mpmath"},
         kinds={"digits": Int(low=5, high=500), "columns": Int(low=2, high=60, optional=True), "t0": Real(),
                "y0": Vector(numbers_as_text_ok=True), "t_eval": Vector(numbers_as_text_ok=True),
                "arithmetic": Option(choices=("mpmath", "gmpy2"))}),
    Spec("precise.default_columns", _imp(f"{N}.precise", "default_columns"), lambda: {"digits": 30}),
    Spec("precise.mp_digits_agreement", _imp(f"{N}.precise", "mp_digits_agreement"), lambda: {"a": 1.0, "b": 1.0 + 1e-9},
         kinds={"a": Real(), "b": Real()}),
    Spec("precise.diagonal_flow_rhs", _imp(f"{N}.precise", "diagonal_flow_rhs"),
         lambda: {"depth": 3, "target": [1.0, 0.5], "backend": "mp"},
         # decimal strings are documented targets (exact mp use); "float" is a documented backend (scipy callable)
         kinds={"target": Vector(numbers_as_text_ok=True), "backend": Option(choices=("mp", "gmpy2", "float"))}),
    Spec("flow.default_exponents", _imp(f"{N}.flow", "default_exponents"), lambda: {"j": 1, "depth": 2},
         kinds={"j": Int(low=1)}),
    *[Spec(f"scalar_ode.{fn}", _imp(f"{N}.scalar_ode", fn), (lambda kw=kw: dict(kw)),
           kinds={k: Real() for k in kw if k in ("a", "b", "g")})
      for fn, kw in (("constant", {"a": 1.0}), ("affine", {"a": 1.0, "b": 0.5}), ("as_forcing", {"g": 1.0}),
                     ("exponent_p", {"depth": 3}), ("rhs", {"depth": 3, "g": 1.0}))],
    Spec("training.ground_truth", _imp(f"{N}.training", "ground_truth"), lambda: {"n": 3, "rank": 1, "seed": 0},
         kinds={"rank": Int(low=1, high=3)}),
    Spec("training.make_problem", _imp(f"{N}.training", "make_problem"),
         lambda: {"task": "completion", "n": 3, "rank": 1, "m": 4, "seed": 0},
         kinds={"task": Option(choices=("completion", "sensing"))}),
    *[Spec(f"training.{fn}", _imp(f"{N}.training", fn), lambda: {"n": 3, "rank": 1, "m": 4, "seed": 0},
           kinds={"rank": Int(low=1, high=3), "m": Int(low=1, high=high)})
      for fn, high in (("completion_problem", 9), ("sensing_problem", None))],
    Spec("training.init_factors", _imp(f"{N}.training", "init_factors"),
         lambda: {"n": 3, "depth": 2, "init_scale": 0.1, "seed": 0}),
    Spec("training.train", _imp(f"{N}.training", "train"),
         lambda: {"loss": _tiny_training_loss(), "factors": _tiny_training_factors(), "optimizer": "gd", "lr": 0.01,
                  "tol": 1e-6, "max_iter": 3, "rho": 0.9, "eps": 1e-4, "rtol": 1e-4, "atol": 1e-8, "max_loss": None,
                  "record_every": 0, "time_limit": None, "flow_method": "rkc"},
         kinds={"optimizer": Option(choices=("gd", "adaptive", "flow")), "rho": Real(low=0.0, high=1.0, high_open=True),
                "tol": Real(low=0.0), "eps": Real(low=0.0), "max_loss": Real(**POS, allow_inf=True, optional=True),
                "flow_method": Option(choices=("rkc", "dopri5")), "dtype": Skip(reason="numpy dtype"),
                # a torch device string, only meaningful with backend="torch" (else device must stay None)
                "device": Option(choices=("cpu", "cuda"), optional=True)}),
    Spec("training.SensingOperator", _imp(f"{N}.training", "SensingOperator"),
         lambda: {"flat": np.arange(12.0).reshape(3, 4) % 5 - 2.0, "y": np.array([1.0, 0.0, -1.0]), "shape": (2, 2),
                  "reduction": "mean", "half": False},
         kinds={"flat": Matrix(fixed=True), "y": Vector(fixed=True)}),
    Spec("training.public_observations", _imp(f"{N}.training", "public_observations"),
         lambda: {"n": 3, "m": 4, "seed": 0, "task": "sensing", "ground_truth32": np.eye(3), "chunk": 2},
         kinds={"task": Option(choices=("completion", "sensing")), "ground_truth32": Matrix(fixed=True),
                "chunk": Int(low=1)}, timeout=20.0),
]


def _ratings_file() -> str:
    """A small u.data file (user item rating timestamp) in the temp directory, rewritten on each call."""
    import tempfile

    path = os.path.join(tempfile.gettempdir(), f"dmf_bad_inputs_{os.getpid()}_u.data")
    with open(path, "w") as fh:
        fh.write("1 1 5 100\n1 2 3 101\n2 1 4 102\n2 3 1 103\n3 2 2 104\n")
    return path


def _ratings():
    from dmf_verify.numerics.ratings import load_ratings

    return load_ratings(_ratings_file())


def _bfrob():
    from dmf_verify.numerics.batched import BatchedFrobenius

    return BatchedFrobenius(np.stack([M22(), 2 * M22()]))


def _bstacks():
    return [np.stack([0.1 * np.eye(2), 0.2 * np.eye(2)]), np.stack([0.3 * np.eye(2), 0.1 * np.eye(2)])]


def _lp():
    """Commuting PSD sensing on eigenvalues: Lambda (2 x 3) and y = Lambda @ [0.5, 0.25, 0]."""
    lam = np.array([[1.0, 2.0, 3.0], [2.0, 1.0, 1.0]])
    return lam, lam @ np.array([0.5, 0.25, 0.0])


SPECS += [
    # ---- scaling, richardson, ratings ------------------------------------------------------------
    Spec("scaling.fit_slope", _imp(f"{N}.scaling", "fit_slope"),
         lambda: {"x": np.array([1.0, 2.0, 4.0, 8.0]), "y": np.array([1.0, 4.1, 16.0, 63.0]), "log": True,
                  "confidence": 0.95},
         kinds={"x": Vector(fixed=True), "y": Vector(fixed=True), "confidence": Real(low=0.5, high=1.0, high_open=True)}),
    Spec("richardson.tableau", _imp(f"{N}.richardson", "tableau"),
         lambda: {"values": [np.array([1.0, 2.0]), np.array([1.1, 2.1])], "first_power": 1},
         kinds={"values": Skip(reason="a list of arrays or of mp lists: HAND rows"), "first_power": Int(low=1)}),
    Spec("richardson.column_errors", _imp(f"{N}.richardson", "column_errors"),
         lambda: {"tab": [[np.array([1.0, 2.0])], [np.array([1.1, 2.1]), np.array([1.2, 2.2])]],
                  "reference": np.array([1.0, 2.0])},
         kinds={"tab": Skip(reason="a tableau from tableau(): HAND rows"), "reference": Vector(fixed=True)}),
    Spec("richardson.measured_orders", _imp(f"{N}.richardson", "measured_orders"),
         lambda: {"errors": [[0.1, 0.05, 0.025], [0.01, 0.0025]]},
         kinds={"errors": Skip(reason="columns of relative errors: HAND rows")}),
    Spec("richardson.digits", _imp(f"{N}.richardson", "digits"), lambda: {"error": 1e-10},
         kinds={"error": Real(low=0.0)}),
    Spec("ratings.load_ratings", _imp(f"{N}.ratings", "load_ratings"), lambda: {"path": _ratings_file()},
         kinds={"path": Obj()}),
    Spec("ratings.ratings_problem", _imp(f"{N}.ratings", "ratings_problem"),
         lambda: {"data": _ratings(), "m": 3, "seed": 0}, kinds={"data": Obj(), "m": Int(low=1, high=4)}),
    # ---- psd (the commuting PSD flow of Theorem 1) ---------------------------------------------------
    Spec("psd.psd_gradient", _imp(f"{N}.psd", "psd_gradient"), lambda: {"loss": frob(), "z": np.eye(2)},
         kinds={"z": Matrix(fixed=True)}),
    Spec("psd.psd_flow", _imp(f"{N}.psd", "psd_flow"),
         lambda: {"loss": frob(), "z0": 0.5 * np.eye(2), "t_eval": np.array([0.0, 0.1]), "rtol": 1e-8, "atol": 1e-10,
                  "method": "LSODA"},
         kinds={"z0": Matrix(fixed=True), "t_eval": Vector(),
                "method": Option(choices=("DOP853", "RK45", "RK23", "Radau", "BDF", "LSODA"))}),
    Spec("psd.psd_flow_limit", _imp(f"{N}.psd", "psd_flow_limit"),
         lambda: {"loss": frob(), "alpha": 0.5, "loss_tol": 1e-4, "rtol": 1e-8, "max_doublings": 20,
                  "method": "LSODA"},
         kinds={"loss_tol": Real(**POS), "max_doublings": Int(low=1),
                "method": Option(choices=("DOP853", "RK45", "RK23", "Radau", "BDF", "LSODA"))}, timeout=15.0),
    Spec("psd.entropic_limit", _imp(f"{N}.psd", "entropic_limit"),
         lambda: {"eigenvalues": _lp()[0], "y": _lp()[1], "alpha": 0.1, "tol": 1e-10, "max_iter": 200},
         kinds={"eigenvalues": Matrix(), "y": Vector(fixed=True), "max_iter": Int(low=1)}),
    Spec("psd.lp_rates", _imp(f"{N}.psd", "lp_rates"),
         lambda: {"eigenvalues": _lp()[0], "y": _lp()[1], "support_tol": 1e-10},
         kinds={"eigenvalues": Matrix(), "y": Vector(fixed=True), "support_tol": Real(**POS)}),
    # ---- batched (stacks of instances) ---------------------------------------------------------------
    Spec("batched.BatchedFrobenius", _imp(f"{N}.batched", "BatchedFrobenius"),
         lambda: {"targets": np.stack([M22(), 2 * M22()])}, kinds={"targets": Array3()}),
    Spec("batched.BatchedSensing", _imp(f"{N}.batched", "BatchedSensing"),
         lambda: {"A": np.stack([A322(), 2 * A322()]), "y": np.ones((2, 3)), "reduction": "mean"},
         kinds={"A": Array(ndim=4), "y": Matrix(fixed=True)}),
    Spec("batched.batched_factor_gradients", _imp(f"{N}.batched", "batched_factor_gradients"),
         lambda: {"fs": _bstacks(), "g": np.ones((2, 2, 2))},
         kinds={"fs": Skip(reason="factor stacks: covered through batched.batched_descent's factors (HAND rows)"),
                "g": Array3(fixed=True)}),
    Spec("batched.batched_descent", _imp(f"{N}.batched", "batched_descent"),
         lambda: {"loss": _bfrob(), "factors": _bstacks(), "step": np.array([0.1, 0.2]), "steps": 3, "record_every": 1,
                  "observe": None,
                  "max_loss": None},
         kinds={"factors": Skip(reason="factor stacks (3-D): HAND rows"),
                # one step per instance (B = 2); scalar steps: HAND rows
                "step": Vector(fixed=True), "max_loss": Real(**POS, allow_inf=True, optional=True)}),
    Spec("batched.batched_effective_rank", _imp(f"{N}.batched", "batched_effective_rank"),
         lambda: {"w": np.stack([M22(), np.eye(2)])}, kinds={"w": Array3()}),
]


def _mp_field():
    """(gradient, sigma_rate, vector_rates) for integrate_spectral_flow_mp (the claim's own mp field)."""
    from dmf_verify.checks.claims.arora2019.spectral_flow import _field
    from dmf_verify.checks.dynamics_reference import mp_gradient

    sigma_rate, vector_rates = _field(None, "mpmath")
    return mp_gradient(frob()), sigma_rate, vector_rates


def _batch_runs():
    from dmf_verify.numerics.training import completion_problem, init_factors

    return ([completion_problem(3, 1, 4, seed=s) for s in (0, 1)], [init_factors(3, 2, 0.1, seed=s) for s in (0, 1)])


_HOT = Skip(reason="hot-loop building block (the default field of integrate_spectral_flow, called per step)")
_METHODS = Option(choices=("DOP853", "RK45", "RK23", "Radau", "BDF", "LSODA"))
SPECS += [
    # ---- spectral_flow (Theorem 3 / Lemma 2 as an ODE on (sigma, U, V)) -------------------------------
    Spec("spectral_flow.handwritten_rate", _imp(f"{N}.spectral_flow", "handwritten_rate"),
         lambda: {"n": 2, "sigma": 1.0, "proj": 0.5}, kinds={"n": _HOT, "sigma": _HOT, "proj": _HOT}),
    Spec("spectral_flow.handwritten_vectors", _imp(f"{N}.spectral_flow", "handwritten_vectors"),
         lambda: dict(zip(("u", "s", "v"), svd22()), g=G22(), n=2), kinds={k: _HOT for k in ("u", "s", "v", "g", "n")}),
    Spec("spectral_flow.initial_state", _imp(f"{N}.spectral_flow", "initial_state"),
         lambda: {"w0": np.diag([2.0, 1.0]) + 0.1}),
    Spec("spectral_flow.mp_svd", _imp(f"{N}.spectral_flow", "mp_svd"), lambda: {"w": M23()}),
    Spec("spectral_flow.integrate_spectral_flow", _imp(f"{N}.spectral_flow", "integrate_spectral_flow"),
         lambda: {"gradient": frob().gradient, "w0": np.diag([2.0, 1.0]) + 0.1, "depth": 2,
                  "t_eval": np.array([0.0, 0.05]), "rtol": 1e-8, "atol": 1e-10, "method": "DOP853"},
         kinds={"gradient": Func(), "sigma_rate": Func(), "vector_rates": Func(), "t_eval": Vector(),
                "method": _METHODS}),
    Spec("spectral_flow.integrate_spectral_flow_mp", _imp(f"{N}.spectral_flow", "integrate_spectral_flow_mp"),
         lambda: dict(zip(("gradient", "sigma_rate", "vector_rates"), _mp_field()), w0=np.diag([2.0, 1.0]) + 0.1,
                      depth=2, t_eval=[0.01], digits=15),
         kinds={"gradient": Func(), "sigma_rate": Func(), "vector_rates": Func(),
                "t_eval": Vector(numbers_as_text_ok=True), "digits": Int(low=5, high=500)}, timeout=15.0),
    # ---- torch_backend -------------------------------------------------------------------------------
    Spec("torch_backend.default_device", _imp(f"{N}.torch_backend", "default_device"), dict),
    Spec("torch_backend.train_batch", _imp(f"{N}.torch_backend", "train_batch"),
         lambda: {"problems": _batch_runs()[0], "factor_lists": _batch_runs()[1], "optimizer": "gd", "lr": 0.01,
                  "tol": 1e-6, "max_iter": 3, "rho": 0.9, "eps": 1e-4, "device": "cpu"},
         kinds={"problems": Skip(reason="a list of problems: HAND rows"),
                "factor_lists": Skip(reason="a list of factor lists: HAND rows"),
                "optimizer": Option(choices=("gd", "adaptive")), "rho": Real(low=0.0, high=1.0, high_open=True),
                "tol": Real(low=0.0), "eps": Real(low=0.0), "dtype": Skip(reason="numpy dtype"),
                "device": Option(choices=("cpu", "cuda"), optional=True)}, timeout=20.0),
]


def _qloss():
    from dmf_verify.numerics.mp_model import quadratic_loss

    return quadratic_loss(frob())


_MP_BLOCK = Skip(reason="mp building block called per step (gradient_descent, flows): validated at the entry points")
SPECS += [
    # ---- mp_model (the mp forms of the model and GD) ---------------------------------------------------
    Spec("mp_model.to_mp", _imp(f"{N}.mp_model", "to_mp"), lambda: {"a": M22(), "name": "a"},
         kinds={"name": Skip(reason="the name used in messages")}),
    *[Spec(f"mp_model.{fn}", _imp(f"{N}.mp_model", fn), (lambda kw=kw: kw()), kinds={k: _MP_BLOCK for k in ks})
      for fn, kw, ks in (("to_float", lambda: {"a": [[1, 2]]}, ("a",)),
                         ("matmul", lambda: {"a": [[1]], "b": [[2]]}, ("a", "b")),
                         ("transpose", lambda: {"a": [[1, 2]]}, ("a",)),
                         ("axpy", lambda: {"alpha": 2, "x": [[1]], "y": [[1]]}, ("alpha", "x", "y")),
                         ("product", lambda: {"factors": [[[1]], [[2]]]}, ("factors",)),
                         ("flatten", lambda: {"a": [[1, 2]]}, ("a",)),
                         ("frobenius", lambda: {"a": [[3, 4]]}, ("a",)),
                         ("factor_gradients", lambda: {"factors": [[[1]], [[2]]], "grad_w": [[1]]},
                          ("factors", "grad_w")))],
    Spec("mp_model.QuadraticLoss", _imp(f"{N}.mp_model", "QuadraticLoss"),
         lambda: {"A": [[1, 0], [0, 1]], "y": [1, 2], "c": "0.5", "shape": (1, 2)},
         kinds={"A": Skip(reason="mp rows: HAND rows"), "y": Skip(reason="a list of mp reals: HAND rows"),
                "c": Real()}),
    Spec("mp_model.quadratic_loss", _imp(f"{N}.mp_model", "quadratic_loss"), lambda: {"loss": frob()}),
    Spec("mp_model.gradient_descent", _imp(f"{N}.mp_model", "gradient_descent"),
         lambda: {"loss": _qloss(), "factors": F32(), "step": 0.01, "steps": 2, "sequential": False,
                  "gradient_scale": None},
         kinds={"gradient_scale": Real(optional=True)}),
    Spec("mp_model.orthonormal_columns", _imp(f"{N}.mp_model", "orthonormal_columns"), lambda: {"a": M23().T}),
    Spec("mp_model.balanced_factors", _imp(f"{N}.mp_model", "balanced_factors"),
         lambda: {"u": np.eye(2), "s": np.array([2.0, 1.0]), "v": np.eye(2), "hidden_bases": [np.eye(3)[:, :2]]},
         # v's row count d' is free; s is taken exactly, so decimal strings are valid entries
         kinds={"u": Matrix(), "v": Matrix(), "s": Vector(fixed=True, numbers_as_text_ok=True),
                "hidden_bases": Skip(reason="a list of matrices: HAND rows")}),
    Spec("mp_model.imbalance", _imp(f"{N}.mp_model", "imbalance"), lambda: {"factors": F32()}),
]


# --- rows that generation cannot express ------------------------------------------------------
def _call(module: str, attr: str, *args, **kwargs):
    return lambda: getattr(importlib.import_module(module), attr)(*args, **kwargs)


def _losses():
    return importlib.import_module(f"{N}.losses")


HAND: list[Row] = [
    # the examples
    Row("spectral.effective_rank[1j*I]", _call(f"{N}.spectral", "effective_rank", 1j * np.eye(3)), "w_or_s", text="complex"),
    Row("model.require_balanced[rtol=nan,unbalanced]", _call(f"{N}.model", "require_balanced", F32(), rtol=NAN), "rtol",
        NonFiniteError, "nan"),
    Row("model.require_balanced[unbalanced]", _call(f"{N}.model", "require_balanced", F32()), "factors", NotBalancedError),
    Row("spectral.svd_aligned[reference-nan]",
        _call(f"{N}.spectral", "svd_aligned", M22(), (np.full((2, 2), NAN), np.eye(2))), "reference", NonFiniteError),
    Row("losses.random_sensing[m=0,positional]", _call(f"{N}.losses", "random_sensing", (2, 2), 0), "m", text="0"),
    Row("losses.random_sensing[m=2.5,positional]", _call(f"{N}.losses", "random_sensing", (2, 2), 2.5), "m", text="2.5"),
    Row("losses.SensingLoss[m=0]", lambda: _losses().SensingLoss(np.zeros((0, 2, 2)), np.zeros(0)), "A", ShapeError),
    # shapes that must agree between arguments
    Row("losses.SensingLoss[y-length]", lambda: _losses().SensingLoss(A322(), np.ones(2)), "y", ShapeError),
    Row("losses.random_sensing[symmetric-non-square]",
        _call(f"{N}.losses", "random_sensing", (2, 3), 3, symmetric=True), "symmetric", ShapeError),
    Row("losses.CompletionLoss[lengths]", lambda: _losses().CompletionLoss([0, 1], [1], [1.0, 2.0], shape=(2, 2)),
        "cols", ShapeError),
    Row("losses.CompletionLoss[duplicate]", lambda: _losses().CompletionLoss([0, 0], [1, 1], [1.0, 2.0], shape=(2, 2)),
        "rows"),
    Row("losses.CompletionLoss[row-out-of-range]",
        lambda: _losses().CompletionLoss([0, 5], [1, 1], [1.0, 2.0], shape=(2, 2)), "rows", ShapeError, "5"),
    Row("losses.CompletionLoss[negative-col]",
        lambda: _losses().CompletionLoss([0, 1], [-1, 1], [1.0, 2.0], shape=(2, 2)), "cols", ShapeError, "-1"),
    Row("losses.CompletionLoss[empty]", lambda: _losses().CompletionLoss([], [], [], shape=(2, 2)), "rows"),
    Row("losses.CompletionLoss[no-shape]", lambda: _losses().CompletionLoss([0], [1], [1.0]), "shape"),
    Row("losses.random_completion[m>size]", _call(f"{N}.losses", "random_completion", M22(), 5), "m", text="5"),
    Row("model.factor_gradients[loss-shape]", lambda: importlib.import_module(f"{N}.model").factor_gradients(
        [np.eye(3)], frob()), "factors", ShapeError),
    Row("model.balanced_factors[hidden-length]", _call(f"{N}.model", "balanced_factors", np.eye(2), 3, hidden=[2]),
        "hidden", ShapeError),
    Row("model.balanced_factors[hidden<k]", _call(f"{N}.model", "balanced_factors", np.eye(3), 3, hidden=[2, 3]),
        "hidden", ShapeError),
    Row("model.random_factors[one-dim]", _call(f"{N}.model", "random_factors", [3], scale=1.0), "dims"),
    Row("descent.gradient_descent[loss-shape]", lambda: importlib.import_module(f"{N}.descent").gradient_descent(
        frob(), [np.eye(3)], step=0.1, steps=1), "factors", ShapeError),
    Row("descent.gradient_descent[record_every=-1]", lambda: importlib.import_module(f"{N}.descent").gradient_descent(
        frob(), F32(), step=0.1, steps=2, record_every=-1), "record_every", text="-1"),
    Row("spectral.psd_power[not-psd]", _call(f"{N}.spectral", "psd_power", np.diag([1.0, -0.5]), 0.5), "m", NotPSDError),
    Row("spectral.psd_power[asymmetric]", _call(f"{N}.spectral", "psd_power", np.array([[1.0, 2.0], [0.0, 1.0]]), 0.5),
        "m", NotPSDError),
    Row("spectral.psd_power[non-square]", _call(f"{N}.spectral", "psd_power", np.ones((2, 3)), 0.5), "m", NotPSDError),
    Row("spectral.svd_aligned[reference-columns]",
        _call(f"{N}.spectral", "svd_aligned", M22(), (np.eye(2), np.eye(2)[:, :1])), "reference", ShapeError),
    Row("singular_vectors.lemma2_rates[repeated]", _call(f"{N}.singular_vectors", "lemma2_rates", np.eye(2),
                                                         np.array([1.0, 1.0]), np.eye(2), G22(), 2), "s", UndefinedError),
    Row("singular_vectors.lemma2_rates[shape-mismatch]", _call(f"{N}.singular_vectors", "lemma2_rates", np.eye(2),
                                                               np.array([2.0, 1.0, 0.5]), np.eye(2), G22(), 2),
        "s", ShapeError),
    Row("singular_vectors.off_diagonal_mass[shape-mismatch]",
        _call(f"{N}.singular_vectors", "off_diagonal_mass", np.eye(3), np.eye(2), G22()), "u", ShapeError),
    Row("asymmetric.imbalance[k-mismatch]", _call(f"{N}.asymmetric", "imbalance", np.ones((3, 2)), np.ones((2, 3))),
        "v", ShapeError),
    Row("asymmetric.sin_theta[shape-mismatch]", _call(f"{N}.asymmetric", "sin_theta", np.ones((3, 2)), np.ones((2, 2)), 1),
        "reference", ShapeError),
    Row("asymmetric.loglog_slope[negative]", _call(f"{N}.asymmetric", "loglog_slope", [1.0, 2.0], [1.0, -4.0]), "ys"),
    Row("asymmetric.loglog_slope[one-point]", _call(f"{N}.asymmetric", "loglog_slope", [1.0], [1.0]), "xs"),
    Row("asymmetric.low_rank_matrix[r>min]", _call(f"{N}.asymmetric", "low_rank_matrix", 3, 2, 3), "r", text="3"),
    Row("asymmetric.alpha_sweep[empty]", lambda: importlib.import_module(f"{N}.asymmetric").alpha_sweep(
        problem(), 2, [], step=0.05, steps=2), "alphas", ShapeError),
    Row("chou.switch_on_time[alpha-above-level]", _call(f"{N}.chou", "switch_on_time", 1.0, 3, alpha=0.9, theta=0.5),
        "alpha"),
    Row("chou.switch_on_time[lam<0]", _call(f"{N}.chou", "switch_on_time", -1.0, 2, alpha=0.1, theta=0.5), "lam", text="-1"),
    Row("chou.early_stopping_interval[rank>rank(A)]", _call(f"{N}.chou", "early_stopping_interval", spectrum=[1.0, 0.0],
                                                            depth=2, alpha=0.05, step=0.1, rank=2), "rank", text="2"),
    Row("chou.early_stopping_interval[both]", _call(f"{N}.chou", "early_stopping_interval", np.eye(2), 2,
                                                    spectrum=[1.0, 1.0], alpha=0.1, step=0.1, rank=1), "spectrum"),
    Row("chou.aligned_factors[symmetric-path]", _call(f"{N}.chou", "aligned_factors", np.array([[1.0, 2.0], [0.0, 1.0]]), 3,
                                                      alpha=0.1, path="symmetric"), "a"),
    Row("chou.predict_erank_intervals[negative-spectrum]", _call(f"{N}.chou", "predict_erank_intervals", [1.0, -0.5], 2,
                                                                 alpha=0.05, step=0.1, rank=1), "spectrum"),
    Row("chou.erank_rows[negative]", _call(f"{N}.chou", "erank_rows", np.array([[1.0, -0.5]])), "x"),
    Row("chou.erank_box_bounds[lengths]", _call(f"{N}.chou", "erank_box_bounds", [0.5, 0.1], [1.0]), "hi", ShapeError),
    Row("chou.erank_box_bounds[lo>hi]", _call(f"{N}.chou", "erank_box_bounds", [0.5, 0.3], [1.0, 0.2]), "lo"),
    Row("chou.measured_erank_interval[inside-str]", _call(f"{N}.chou", "measured_erank_interval", [1.0, 1.5], 1.5, 0.1,
                                                          "ab"), "inside"),
    Row("chou.measured_erank_interval[inside-floats]", _call(f"{N}.chou", "measured_erank_interval", [1.0, 1.5], 1.5, 0.1,
                                                             (0.5, 1.5)), "inside"),
    Row("nuclear.joint_eigenbasis[not-commuting]", _call(f"{N}.nuclear", "joint_eigenbasis",
                                                         np.array([[[1.0, 0.0], [0.0, 2.0]], [[0.0, 1.0], [1.0, 0.0]]])),
        "a"),
    Row("nuclear.min_nuclear_norm[psd-non-square]", lambda: importlib.import_module(f"{N}.nuclear").min_nuclear_norm(
        _losses().random_sensing((2, 3), 3, seed=0), psd=True), "psd", ShapeError),
    Row("tracking.track_svd[ragged-sequence]", _call(f"{N}.tracking", "track_svd", [np.eye(2), np.eye(3)]), "products",
        ShapeError),
    Row("tracking.track_svd[reference-shape]", _call(f"{N}.tracking", "track_svd", trajectory(),
                                                     reference=(np.eye(3), np.eye(2))), "reference", ShapeError),
    Row("instances.matrix_with_spectrum[too-long]", _call("dmf_verify.checks.instances", "matrix_with_spectrum", (3, 2),
                                                          [3.0, 2.0, 1.0], seed=0), "spectrum", ShapeError),
    # richardson, batched stacks, ratings
    Row("richardson.tableau[str]", _call(f"{N}.richardson", "tableau", "abc"), "values", text="abc"),
    Row("richardson.tableau[None]", _call(f"{N}.richardson", "tableau", None), "values", text="None"),
    Row("richardson.tableau[empty]", _call(f"{N}.richardson", "tableau", []), "values"),
    Row("richardson.tableau[nan]", _call(f"{N}.richardson", "tableau", [np.array([1.0, NAN])]), "values",
        NonFiniteError),
    Row("richardson.tableau[complex]", _call(f"{N}.richardson", "tableau", [np.array([1.0 + 1j])]), "values",
        text="complex"),
    Row("richardson.tableau[shapes]", _call(f"{N}.richardson", "tableau", [np.ones(2), np.ones(3)]), "values",
        ShapeError),
    Row("richardson.tableau[mp-nan]", _call(f"{N}.richardson", "tableau", [["nan"]]), "values", NonFiniteError),
    Row("richardson.column_errors[tab-str]", _call(f"{N}.richardson", "column_errors", "abc", np.ones(2)), "tab"),
    Row("richardson.column_errors[tab-ragged]", _call(f"{N}.richardson", "column_errors", [[np.ones(2), np.ones(2)]],
                                                      np.ones(2)), "tab"),
    Row("richardson.measured_orders[str]", _call(f"{N}.richardson", "measured_orders", "abc"), "errors", text="abc"),
    Row("richardson.measured_orders[nan]", _call(f"{N}.richardson", "measured_orders", [[0.1, NAN]]), "errors",
        NonFiniteError),
    Row("richardson.measured_orders[negative]", _call(f"{N}.richardson", "measured_orders", [[0.1, -1.0]]), "errors",
        text="-1"),
    Row("ratings.load_ratings[missing]", _call(f"{N}.ratings", "load_ratings", "no/such/u.data"), "path",
        text="no/such/u.data"),
    Row("batched.batched_descent[factors-empty]", lambda: importlib.import_module(f"{N}.batched").batched_descent(
        _bfrob(), [], step=0.1, steps=1), "factors"),
    Row("batched.batched_descent[factors-str]", lambda: importlib.import_module(f"{N}.batched").batched_descent(
        _bfrob(), "abc", step=0.1, steps=1), "factors", text="abc"),
    Row("batched.batched_descent[factors-2d]", lambda: importlib.import_module(f"{N}.batched").batched_descent(
        _bfrob(), [np.eye(2)], step=0.1, steps=1), "factors", ShapeError),
    Row("batched.batched_descent[factors-nan]", lambda: importlib.import_module(f"{N}.batched").batched_descent(
        _bfrob(), [np.full((2, 2, 2), NAN)], step=0.1, steps=1), "factors", NonFiniteError),
    Row("batched.batched_descent[factors-no-chain]", lambda: importlib.import_module(f"{N}.batched").batched_descent(
        _bfrob(), [np.ones((2, 2, 2)), np.ones((2, 3, 3))], step=0.1, steps=1), "factors", ShapeError),
    Row("batched.batched_descent[loss-shape]", lambda: importlib.import_module(f"{N}.batched").batched_descent(
        _bfrob(), [np.ones((2, 3, 3))], step=0.1, steps=1), "factors", ShapeError),
    Row("batched.batched_descent[step-per-instance-length]",
        lambda: importlib.import_module(f"{N}.batched").batched_descent(_bfrob(), _bstacks(), step=[0.1, 0.1, 0.1],
                                                                        steps=1), "step"),
    Row("batched.batched_descent[step-per-instance-nan]",
        lambda: importlib.import_module(f"{N}.batched").batched_descent(_bfrob(), _bstacks(), step=[0.1, NAN],
                                                                        steps=1), "step", NonFiniteError),
    Row("batched.batched_descent[step=0-scalar]", lambda: importlib.import_module(f"{N}.batched").batched_descent(
        _bfrob(), _bstacks(), step=0.0, steps=1), "step", text="0"),
    Row("batched.batched_descent[step=-1-scalar]", lambda: importlib.import_module(f"{N}.batched").batched_descent(
        _bfrob(), _bstacks(), step=-1.0, steps=1), "step", text="-1"),
    Row("batched.batched_descent[step=nan-scalar]", lambda: importlib.import_module(f"{N}.batched").batched_descent(
        _bfrob(), _bstacks(), step=NAN, steps=1), "step", NonFiniteError, "nan"),
    Row("batched.batched_descent[step=[0.1,0]]", lambda: importlib.import_module(f"{N}.batched").batched_descent(
        _bfrob(), _bstacks(), step=[0.1, 0.0], steps=1), "step"),
    Row("batched.batched_factor_gradients[fs-no-chain]", _call(f"{N}.batched", "batched_factor_gradients",
                                                               [np.ones((2, 2, 2)), np.ones((2, 3, 3))],
                                                               np.ones((2, 3, 2))), "fs", ShapeError),
    Row("batched.BatchedSensing[y-shape]", lambda: importlib.import_module(f"{N}.batched").BatchedSensing(
        np.stack([A322(), A322()]), np.ones((2, 2))), "y", ShapeError),
    # mp_model
    Row("mp_model.to_mp[ragged]", _call(f"{N}.mp_model", "to_mp", [[1.0, 2.0], [3.0]]), "a", ShapeError),
    Row("mp_model.to_mp[str-entry]", _call(f"{N}.mp_model", "to_mp", [["x", 2.0]]), "a", text="x"),
    Row("mp_model.to_mp[nan-entry]", _call(f"{N}.mp_model", "to_mp", [["nan", 2.0]]), "a", NonFiniteError),
    Row("mp_model.QuadraticLoss[A-str]", lambda: importlib.import_module(f"{N}.mp_model").QuadraticLoss(
        "abc", [1, 2], 1, (1, 2)), "A", text="abc"),
    Row("mp_model.QuadraticLoss[A-width]", lambda: importlib.import_module(f"{N}.mp_model").QuadraticLoss(
        [[1, 0, 0]], [1], 1, (1, 2)), "A", ShapeError),
    Row("mp_model.QuadraticLoss[y-nan]", lambda: importlib.import_module(f"{N}.mp_model").QuadraticLoss(
        [[1, 0], [0, 1]], [1, NAN], 1, (1, 2)), "y", NonFiniteError),
    Row("mp_model.QuadraticLoss[y-length]", lambda: importlib.import_module(f"{N}.mp_model").QuadraticLoss(
        [[1, 0], [0, 1]], [1], 1, (1, 2)), "y", ShapeError),
    Row("mp_model.gradient_descent[loss-shape]", lambda: importlib.import_module(f"{N}.mp_model").gradient_descent(
        _qloss(), [np.eye(3)], step=0.1, steps=1), "factors", ShapeError),
    Row("mp_model.balanced_factors[hidden-str]", _call(f"{N}.mp_model", "balanced_factors", np.eye(2), [2.0, 1.0],
                                                       np.eye(2), "abc"), "hidden_bases", text="abc"),
    Row("mp_model.balanced_factors[hidden-columns]", _call(f"{N}.mp_model", "balanced_factors", np.eye(2), [2.0, 1.0],
                                                           np.eye(2), [np.eye(3)]), "hidden_bases", ShapeError),
    Row("mp_model.balanced_factors[s-negative]", _call(f"{N}.mp_model", "balanced_factors", np.eye(2), [2.0, -1.0],
                                                       np.eye(2), []), "s", text="-1"),
    # torch_backend.train_batch's run lists
    Row("torch_backend.train_batch[problems-str]", lambda: importlib.import_module(f"{N}.torch_backend").train_batch(
        "abc", _batch_runs()[1], optimizer="gd", max_iter=1), "problems", text="abc"),
    Row("torch_backend.train_batch[lengths]", lambda: importlib.import_module(f"{N}.torch_backend").train_batch(
        _batch_runs()[0], _batch_runs()[1][:1], optimizer="gd", max_iter=1), "factor_lists"),
    Row("torch_backend.train_batch[problem-int]", lambda: importlib.import_module(f"{N}.torch_backend").train_batch(
        [3, 3], _batch_runs()[1], optimizer="gd", max_iter=1), "problems"),
    Row("torch_backend.train_batch[factors-nan]", lambda: importlib.import_module(f"{N}.torch_backend").train_batch(
        _batch_runs()[0], [[np.full((3, 3), NAN)] * 2] * 2, optimizer="gd", max_iter=1), "factor_lists",
        NonFiniteError),
    Row("torch_backend.train_batch[factors-shape]", lambda: importlib.import_module(f"{N}.torch_backend").train_batch(
        _batch_runs()[0], [[np.eye(2)] * 2] * 2, optimizer="gd", max_iter=1), "factor_lists", ShapeError),
    # flows, the scalar ODE (the examples there)
    Row("flow.integrate_factor_flow[layer_rates=[1,nan,1]]", lambda: importlib.import_module(f"{N}.flow").integrate_factor_flow(
        frob(), [np.eye(2), np.eye(2), np.eye(2)], [0.0, 1.0], layer_rates=[1.0, NAN, 1.0]), "layer_rates", NonFiniteError),
    Row("flow.end_to_end_velocity[depth=-3]", _call(f"{N}.flow", "end_to_end_velocity", M22(), G22(), -3), "depth",
        text="-3"),
    Row("flow.end_to_end_velocity[shape-mismatch]", _call(f"{N}.flow", "end_to_end_velocity", M22(), np.ones((3, 3)), 2),
        "grad", ShapeError),
    Row("flow.integrate_factor_flow[rtol=tight]", lambda: importlib.import_module(f"{N}.flow").integrate_factor_flow(
        frob(), F32(), [0.0, 0.1], rtol="tight"), "rtol"),
    Row("flow.integrate_factor_flow[method=Euler]", lambda: importlib.import_module(f"{N}.flow").integrate_factor_flow(
        frob(), F32(), [0.0, 0.1], method="Euler"), "method"),
    Row("scalar_ode.solution_mp[dps=0]", _call(f"{N}.scalar_ode", "solution_mp", 0.1, 0.5, 3, 1.0, dps=0), "dps", text="0"),
    Row("scalar_ode.check_problem[x0=0]", _call(f"{N}.scalar_ode", "check_problem", 0.0, 3), "x0"),
]


def _fits(kind: Kind, value) -> bool:
    """Does a name rule fit the valid value (``m`` is an integer in one API and a matrix in another)?"""
    if value is None:
        return True
    if isinstance(kind, (Int, Seed)):
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if isinstance(kind, Real):
        return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if isinstance(kind, Bool):
        return isinstance(value, (bool, np.bool_))
    if isinstance(kind, Option):
        return isinstance(value, str)
    if isinstance(kind, Array):
        return isinstance(value, np.ndarray) and value.ndim == kind.ndim
    return True


# Rows that hang (no answer within the timeout) cost a timeout and a worker restart each; the
# pytest run skips them (as expected failures) unless DMF_BAD_INPUT_HANGS=1. The counting script
# always runs them.
KNOWN_HANGS: dict[str, str] = {}  # empty: every former hang is now an immediate specific error

# Public names without a Spec, with the reason (tests/test_bad_input.py checks the list is complete).
EXEMPT: dict[str, str] = {
    **{f"{m}.{n}": "a result or interface type (constructed by the library, not an entry point)" for m, n in (
        ("losses", "Loss"), ("descent", "DescentResult"), ("nuclear", "NuclearNormResult"), ("chou", "RecursionResult"),
        ("chou", "SwitchOnBounds"), ("chou", "IntervalPrediction"), ("chou", "EarlyStoppingInterval"),
        ("asymmetric", "AsymmetricResult"), ("tracking", "TrackedSVD"), ("flow", "FlowResult"),
        ("scalar_ode", "BlowUpEstimate"), ("precise", "PreciseResult"), ("training", "Problem"),
        ("training", "TrainResult"))},
    "scalar_ode.Forcing": "built by constant/affine/cosine (which have Specs)",
    **{f"{m}.{n}": "a result type (constructed by the library, not an entry point)" for m, n in (
        ("scaling", "SlopeFit"), ("psd", "PSDLimit"), ("psd", "LPRate"), ("batched", "BatchedDescentResult"),
        ("ratings", "Ratings"), ("spectral_flow", "SpectralFlowResult"))},
    "torch_backend.TorchObjective": "built by torch_backend.train from a loss training.train validated",
    "torch_backend.train": "the torch half of training.train, which validates every argument first (Spec training.train)",
    **{f"validation.{n}": "the validators themselves: tests/test_bad_input_validators.py" for n in (
        "as_finite_array", "as_generator", "as_index_array", "as_matrix", "as_real_array", "as_vector", "check_bool",
        "check_callable", "check_depth", "check_exact_real", "check_factors", "check_int", "check_int_sequence", "check_loss",
        "check_matrix_pair", "check_option", "check_positive", "check_real", "check_seed", "check_shape",
        "check_tolerance")},
}

# Modules whose public functions must all have a Spec (short name -> module).
MODULES = {**{m: f"{N}.{m}" for m in ("model", "losses", "spectral", "descent", "nuclear", "chou", "asymmetric",
                                      "singular_vectors", "tracking", "flow", "rates", "scalar_ode", "precise",
                                      "training", "validation", "scaling", "richardson", "ratings", "psd",
                                      "batched", "spectral_flow", "torch_backend", "mp_model")},
           "instances": "dmf_verify.checks.instances"}


def public_names() -> list[str]:
    """"module.name" for every public function and class of MODULES (``__all__`` where defined)."""
    out = []
    for short, modname in MODULES.items():
        mod = importlib.import_module(modname)
        names = getattr(mod, "__all__", None)
        if names is None:
            names = [n for n, o in vars(mod).items() if not n.startswith("_") and getattr(o, "__module__", "") == modname]
        for n in names:
            obj = getattr(mod, n)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and not (inspect.isclass(obj) and
                                                                           issubclass(obj, BaseException)):
                out.append(f"{short}.{n}")
    return sorted(out)


def covered_names() -> set[str]:
    """Names that have a Spec ("losses.SensingLoss.value" also covers "losses.SensingLoss")."""
    out = set()
    for spec in SPECS:
        name = spec.name.split("(")[0]
        parts = name.split(".")
        out.update(".".join(parts[:k]) for k in range(2, len(parts) + 1))
    return out


def build_cases() -> list[Case]:
    """All rows: generated ones (one per parameter and bad value, plus one valid control per spec), then HAND."""
    cases: list[Case] = []
    for spec in SPECS:
        cases.extend(_spec_cases(spec))
    for row in HAND:
        cases.append(Case(row.id, row.call, row.param, row.expected, row.text, (), row.owner, row.timeout))
    ids = [c.id for c in cases]
    dup = [i for i, n in Counter(ids).items() if n > 1]
    if dup:
        raise RuntimeError(f"duplicate case ids: {dup[:5]}")
    return cases


def _spec_cases(spec: Spec) -> list[Case]:
    fn = spec.target()
    sig = inspect.signature(fn)
    valid_keys = set(spec.valid())
    out = [Case(f"{spec.name}[valid]", (lambda spec=spec: spec.target()(**spec.valid())), "", type(None),
                owner=spec.owner, timeout=spec.timeout, control=True)]
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name == "self":
            continue
        if p.name not in valid_keys and p.default is p.empty:
            raise RuntimeError(f"{spec.name}: the valid call lacks the required parameter {p.name!r}")
        base_value = spec.valid()[p.name] if p.name in valid_keys else p.default
        kind = spec.kinds.get(p.name)
        if kind is None:
            rule = NAME_RULES.get(p.name)
            kind = rule if rule is not None and _fits(rule, base_value) else infer_kind(p, base_value)
        if p.default is None and not kind.optional:
            kind = dataclasses.replace(kind, optional=True)
        for bad in kind.bads():
            if bad.needs_base and base_value is None:
                continue
            out.append(Case(f"{spec.name}[{p.name}={bad.label}]", _bad_call(spec, p.name, bad), p.name, bad.expected,
                            bad.text, bad.mentions, spec.owner, spec.timeout))
    return out


def _bad_call(spec: Spec, name: str, bad: Bad):
    def call():
        fn = spec.target()
        kwargs = spec.valid()
        sig = inspect.signature(fn)
        base = kwargs[name] if name in kwargs else sig.parameters[name].default
        kwargs[name] = bad.make(base)
        return fn(**kwargs)
    return call


# ============================================================================================
# verdicts
# ============================================================================================
OUTCOMES = ("specific", "generic", "silent", "hang", "crash")


def names_param(message: str, param: str) -> bool:
    """Does the message name the parameter? (single letters: upper case anywhere, or lower case as a subject)."""
    if not param:
        return True
    if len(param) > 1:
        return re.search(rf"(?<![\w]){re.escape(param)}(?![\w])", message, re.IGNORECASE) is not None
    return (re.search(rf"(?<![\w]){param.upper()}(?![A-Za-z0-9])", message) is not None
            or re.search(rf"(?<![\w]){param}(?=\s*(must\b|has\b|is\b|and\b|\(|\[|=|:|,))", message) is not None)


def execute(case: Case) -> dict:
    """Run one case in this process and return its verdict (a JSON-able dict)."""
    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            try:
                value = case.call()
            except Exception as exc:  # noqa: BLE001 - classifying every exception is the point
                msg = str(exc)
                specific = isinstance(exc, DMFError)
                problems = []
                if case.control:
                    problems.append("the valid call raised")
                else:
                    if not isinstance(exc, case.expected):
                        problems.append(f"expected {case.expected.__name__}")
                    if not names_param(msg, case.param):
                        problems.append(f"message does not name {case.param!r}")
                    if case.text is not None and case.text.lower() not in msg.lower():
                        problems.append(f"message does not show the value {case.text!r}")
                    missing = [m for m in case.mentions if m not in msg]
                    if missing:
                        problems.append(f"message does not list the allowed values {missing}")
                return {"id": case.id, "outcome": "specific" if specific else "generic",
                        "error": f"{type(exc).__module__}.{type(exc).__qualname__}", "message": msg[:400],
                        "passed": not problems, "problems": problems, "cpu": time.process_time() - start}
    if case.control:
        return {"id": case.id, "outcome": "ok", "passed": True, "problems": [], "cpu": time.process_time() - start}
    return {"id": case.id, "outcome": "silent", "returned": _summary(value), "passed": False,
            "problems": ["returned normally"], "cpu": time.process_time() - start}


def _summary(value) -> str:
    try:
        arr = np.asarray(value, dtype=float)
        if arr.size and not np.all(np.isfinite(arr)):
            return f"non-finite result {arr.ravel()[:4].tolist()}"
    except (TypeError, ValueError):
        pass
    text = repr(value)
    return text[:120] + ("..." if len(text) > 120 else "")


def _select(cases: list[Case], only: list[str] | None) -> list[Case]:
    return cases if not only else [c for c in cases if any(c.id.startswith(o) for o in only)]


def _worker(ids_file: str, start: int) -> None:
    with open(ids_file) as fh:
        ids = json.load(fh)
    table = {c.id: c for c in build_cases()}
    missing = [i for i in ids if i not in table]
    cases = [table[i] for i in ids if i in table]
    # heavy imports before the first timed case
    for mod in ("scipy.integrate", "scipy.optimize", "scipy.special", "cvxpy", "mpmath"):
        try:
            importlib.import_module(mod)
        except ImportError:
            pass
    # the protocol gets its own copy of stdout; whatever the cases print (solver logs, C code) goes nowhere
    out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the worker
    out.write(json.dumps({"ready": len(cases), "missing": missing}) + "\n")
    out.flush()
    for case in cases[start:]:
        out.write(json.dumps(execute(case)) + "\n")
        out.flush()


def run_cases(cases: list[Case] | None = None, *, env: dict | None = None, startup_timeout: float = 120.0,
              progress: Callable[[int, int], None] | None = None) -> dict[str, dict]:
    """Run the cases (by id) in a worker process, restarted after a hang or a crash; verdicts by case id.

    The worker rebuilds the table and looks the ids up, so ``cases`` may be any subset of
    :func:`build_cases` (default: all of it).
    """
    import tempfile

    cases = build_cases() if cases is None else cases
    results: dict[str, dict] = {}
    fd, ids_file = tempfile.mkstemp(prefix="bad_inputs_", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump([c.id for c in cases], fh)
    i = 0
    try:
        while i < len(cases):
            i = _run_from(cases, i, ids_file, results, env, startup_timeout, progress)
    finally:
        os.unlink(ids_file)
    return results


def _run_from(cases, i, ids_file, results, env, startup_timeout, progress) -> int:
    """Start a worker at case ``i``; return the index to restart from (len(cases) when done)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", ids_file, str(i)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, cwd=os.path.dirname(os.path.abspath(__file__)))
    reader = _LineReader(proc.stdout.fileno())
    try:
        head = reader.line(startup_timeout)
        if head is None:
            raise RuntimeError("the bad-input worker did not start (import error?)")
        info = json.loads(head)
        if info["missing"] or info["ready"] != len(cases):
            raise RuntimeError(f"the worker's table lacks {info['missing'][:5]} (non-deterministic case ids?)")
        while i < len(cases):
            case = cases[i]
            t0 = time.monotonic()
            line = reader.line(case.timeout)
            if line is None:
                outcome = "hang" if proc.poll() is None else "crash"
                results[case.id] = {"id": case.id, "outcome": outcome, "passed": False,
                                    "problems": [f"no answer within {case.timeout:g} s" if outcome == "hang"
                                                 else f"the worker died (exit {proc.returncode})"],
                                    "seconds": time.monotonic() - t0}
                return i + 1
            r = json.loads(line)
            if r["id"] != case.id:
                raise RuntimeError(f"worker answered {r['id']!r} for {case.id!r}")
            results[case.id] = r
            i += 1
            if progress:
                progress(i, len(cases))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
    return i


class _LineReader:
    def __init__(self, fd: int):
        self.fd = fd
        self.buf = b""

    def line(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


def counts(cases: list[Case], results: dict[str, dict], *, owned: bool | None = None) -> dict:
    """tried / specific / generic / silent / hang / crash (+ passed) over the bad-input rows.

    ``owned=True`` keeps rows without an owner (the modules fixed here), ``False`` only rows with
    an owner, None all of them.
    """
    rows = [c for c in cases if not c.control and (owned is None or (c.owner is None) == owned)]
    out = Counter(results[c.id]["outcome"] for c in rows)
    summary = {"tried": len(rows), **{k: out.get(k, 0) for k in OUTCOMES}}
    summary["passed"] = sum(results[c.id]["passed"] for c in rows)
    summary["specific_but_unnamed"] = sum(results[c.id]["outcome"] == "specific" and not results[c.id]["passed"]
                                          for c in rows)
    controls = [c for c in cases if c.control and (owned is None or (c.owner is None) == owned)]
    summary["controls_ok"] = f"{sum(results[c.id]['passed'] for c in controls)}/{len(controls)}"
    return summary


# ============================================================================================
# the command line (CLI rows: the extension point for `dmf-verify` options)
# ============================================================================================
@dataclass
class CliRow:
    """``dmf-verify ARGV`` must exit with status 2 and exactly one line on stderr (no traceback)."""

    id: str
    argv: list[str]
    owner: str | None = None
    timeout: float = 60.0


CLI_ROWS: list[CliRow] = [
    CliRow("check --seed -1", ["check", "--seed", "-1", "balancedness.gd"]),
    CliRow("check --seed 2**32", ["check", "--seed", str(2**32), "balancedness.gd"]),
    CliRow("check --seed 2.5", ["check", "--seed", "2.5", "balancedness.gd"]),
    CliRow("check unknown-id", ["check", "no.such.claim"]),
    CliRow("derive --format pdf", ["derive", "arora2019.lemma2", "--format", "pdf"]),
    # mutate
    CliRow("mutate --timeout -1", ["mutate", "--timeout", "-1", "--list"]),
    CliRow("mutate --timeout nan", ["mutate", "--timeout", "nan", "--list"]),
    CliRow("mutate --jobs 0", ["mutate", "--jobs", "0", "--list"]),
    CliRow("mutate --min-score 2", ["mutate", "--min-score", "2", "--list"]),
    CliRow("mutate --min-score abc", ["mutate", "--min-score", "abc", "--list"]),
    CliRow("mutate --seed -1", ["mutate", "--seed", "-1", "--list"]),
    CliRow("mutate missing-path", ["mutate", "--list", "no/such/catalogue.py"]),
    CliRow("mutate --claim unknown-id", ["mutate", "--list", "--claim", "no.such.claim"]),
    # sweep
    CliRow("sweep --seeds bogus", ["sweep", "--seeds", "bogus", "balancedness.gd"]),
    CliRow("sweep --seeds 5-2", ["sweep", "--seeds", "5-2", "balancedness.gd"]),
    CliRow("sweep --seeds -1", ["sweep", "--seeds=-1", "balancedness.gd"]),
    CliRow("sweep --seeds 2**32", ["sweep", "--seeds", str(2**32), "balancedness.gd"]),
    CliRow("sweep --jobs 0", ["sweep", "--jobs", "0", "balancedness.gd"]),
    CliRow("sweep unknown-id", ["sweep", "--seeds", "0", "no.such.claim"]),
    # experiment (--rng, --backend, --data and the instance sizes)
    CliRow("experiment --rng bogus", ["experiment", "completion", "--rng", "bogus"]),
    CliRow("experiment --backend bogus", ["experiment", "completion", "--backend", "bogus"]),
    CliRow("experiment --data missing", ["experiment", "completion", "--data", "no/such/u.data"]),
    CliRow("experiment --data malformed", ["experiment", "completion", "--data", os.path.abspath(__file__)]),
    CliRow("experiment --n 0", ["experiment", "completion", "--n", "0"]),
    CliRow("experiment --m > n*n", ["experiment", "completion", "--n", "3", "--rank", "1", "--m", "10"]),
    CliRow("experiment --rank > n", ["experiment", "completion", "--n", "3", "--rank", "4", "--m", "5"]),
    CliRow("experiment --seed -1", ["experiment", "completion", "--seed", "-1"]),
    CliRow("experiment --lr nan", ["experiment", "completion", "--lr", "nan"]),
    CliRow("experiment --batch-size 0", ["experiment", "sensing", "--optimizer", "sgd", "--batch-size", "0"]),
    CliRow("experiment unknown", ["experiment", "no-such-experiment"]),
]


def run_cli_row(row: CliRow) -> dict:
    cmd = [sys.executable, "-c", "import sys; from dmf_verify.checks.cli import main; sys.exit(main())", *row.argv]
    try:
        p = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=row.timeout)
    except subprocess.TimeoutExpired:
        return {"id": row.id, "outcome": "hang", "passed": False, "problems": [f"no exit within {row.timeout:g} s"]}
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    problems = []
    if p.returncode != 2:
        problems.append(f"exit status {p.returncode}, expected 2")
    if "Traceback" in p.stderr:
        problems.append("a traceback on stderr")
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr, expected 1")
    return {"id": row.id, "outcome": "specific" if p.returncode == 2 and "Traceback" not in p.stderr else "generic",
            "passed": not problems, "problems": problems, "stderr": p.stderr[-400:]}


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Count how the public API answers the bad-input table.")
    ap.add_argument("--worker", nargs=2, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--json", help="write per-case outcomes to this file")
    ap.add_argument("--failures", action="store_true", help="list every failing row")
    ap.add_argument("--only", nargs="*", default=None, help="run only the rows whose id starts with one of these")
    args = ap.parse_args(argv)
    if args.worker is not None:
        _worker(args.worker[0], int(args.worker[1]))
        return 0
    t0, c0 = time.monotonic(), time.process_time()
    cases = _select(build_cases(), args.only)
    results = run_cases(cases)
    wall = time.monotonic() - t0
    worker_cpu = sum(r.get("cpu", 0.0) for r in results.values())
    import dmf_verify

    print(f"package: {os.path.dirname(dmf_verify.__file__)}")
    for label, owned in (("all rows", None), ("modules fixed here (no owner)", True), ("rows with an owner", False)):
        print(f"{label:32s} {json.dumps(counts(cases, results, owned=owned))}")
    print(f"wall {wall:.1f} s, worker CPU {worker_cpu:.1f} s (+ parent {time.process_time() - c0:.1f} s), "
          f"load average {os.getloadavg()[0]:.2f}")
    if args.failures:
        for c in cases:
            r = results[c.id]
            if not r["passed"]:
                detail = r.get("message") or r.get("returned") or ""
                print(f"  [{r['outcome']}] {c.id}{' (' + c.owner.split(' ')[0] + ')' if c.owner else ''}: "
                      f"{'; '.join(r['problems'])} | {r.get('error', '')} {detail[:160]!r}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"counts": {"all": counts(cases, results), "fixed_here": counts(cases, results, owned=True),
                                  "owned_elsewhere": counts(cases, results, owned=False)},
                       "results": [{**results[c.id], "owner": c.owner} for c in cases]}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
