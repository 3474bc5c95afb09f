"""pytest plugin (entry point ``pytest11`` named ``dmf_verify``), loaded in every pytest run.

It registers the ``dmf_claim`` marker, the ``--dmf-seed`` option and two fixtures:

* ``dmf_seed`` -- the seed for this run (``--dmf-seed N``, default 0);
* ``dmf`` -- a :class:`DMF` helper whose methods wrap :mod:`dmf_verify.checks.assertions`
  (``close``, ``rate``, ``order``, ``flow_matches``, ``conserved``, ``gd_tracks_flow``) with the
  seed and a reproducer (``pytest NODEID --dmf-seed N``) filled in; ``dmf.rng`` is a seeded
  ``numpy.random.Generator``; ``dmf.checks`` lists the checks made so far.

A test marked ``@pytest.mark.dmf_claim("my.claim.id", source=..., statement=..., tolerance=...,
tolerance_reason=..., control=...)`` becomes a claim of ``dmf-verify check`` when its file is
listed in ``DMF_VERIFY_TESTS`` or in ``[tool.dmf-verify] claim-tests`` of the current
directory's pyproject.toml (see :mod:`dmf_verify.checks.user_claims` and docs/user_tests.md).
Inside such a test ``dmf.close`` / ``dmf.order`` / ``dmf.rate`` default to the claim's
tolerance, and after the test passes the plugin runs the named control the way
``dmf-verify check`` does: the test fails when the control is not rejected.

This module imports nothing heavy at import time (numpy, scipy and hypothesis are imported by
the fixtures when a test asks for them).
"""

from __future__ import annotations

import math

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("dmf-verify")
    group.addoption("--dmf-seed", type=int, default=0, dest="dmf_seed",
                    help="seed passed to the dmf / dmf_seed fixtures (default 0)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "dmf_claim(id, source='', statement='', control=None, tolerance=None, tolerance_reason=None, notes='', "
        "slow=False, derive=None): turn this test into a claim of dmf-verify check; its control must be rejected "
        "(see docs/user_tests.md)",
    )


class DMF:
    """Per-test helper: seeded assertions with reproducers naming the test and the seed.

    ``command`` (a format string with ``{seed}``) replaces the first reproducer line.
    ``tolerance`` / ``tolerance_reason`` are the enclosing ``dmf_claim``'s (None outside one):
    ``close`` and ``order`` use them when called without ``tol=``, ``rate`` uses
    ``at_least = 1 - tolerance`` when called without ``at_least=``.
    """

    def __init__(self, seed: int, nodeid: str = "", *, tolerance: float | None = None,
                 tolerance_reason: str | None = None, command: str | None = None):
        self.seed = int(seed)
        self.nodeid = nodeid
        self.tolerance = tolerance
        self.tolerance_reason = tolerance_reason
        self.command = command
        self.checks: list = []
        self._rng = None

    @property
    def rng(self):
        if self._rng is None:
            import numpy as np

            self._rng = np.random.default_rng(self.seed)
        return self._rng

    def _reproducer(self, kwargs) -> str | None:
        if "reproducer" in kwargs and kwargs["reproducer"] is not None:
            return kwargs["reproducer"]
        lines = []
        if self.command:
            lines.append(self.command.format(seed=self.seed))
        elif self.nodeid:
            lines.append(f"pytest '{self.nodeid}' --dmf-seed {self.seed}")
        traj = kwargs.get("trajectory")
        if traj is not None and hasattr(traj, "reproducer"):
            lines.append(traj.reproducer())
        return "\n".join(lines) if lines else None

    def _call(self, fn, *args, **kwargs):
        kwargs.setdefault("seed", self.seed)
        rep = self._reproducer(kwargs)
        if rep is not None:
            kwargs["reproducer"] = rep
        from dmf_verify.checks import assertions

        rec = self.checks.append
        added = rec not in assertions._RECORDERS
        if added:
            assertions._RECORDERS.append(rec)
        try:
            return fn(*args, **kwargs)
        finally:
            if added:
                assertions._RECORDERS.remove(rec)

    def _claim_tol(self, kwargs) -> None:
        if kwargs.get("tol") is None and kwargs.get("digits") is None and self.tolerance is not None:
            kwargs["tol"] = self.tolerance
            if kwargs.get("reason") is None:
                kwargs["reason"] = self.tolerance_reason

    def close(self, measured, expected, **kwargs):
        """:func:`dmf_verify.checks.assertions.assert_close` (tol defaults to the claim's tolerance)."""
        from dmf_verify.checks.assertions import assert_close

        self._claim_tol(kwargs)
        return self._call(assert_close, measured, expected, **kwargs)

    def order(self, steps, errors, **kwargs):
        """:func:`dmf_verify.checks.assertions.assert_order` (tol defaults to the claim's tolerance)."""
        from dmf_verify.checks.assertions import assert_order

        self._claim_tol(kwargs)
        return self._call(assert_order, steps, errors, **kwargs)

    def rate(self, outcomes, **kwargs):
        """:func:`dmf_verify.checks.assertions.assert_rate` (at_least defaults to 1 - the claim's tolerance)."""
        from dmf_verify.checks.assertions import assert_rate

        if kwargs.get("at_least") is None and self.tolerance is not None:
            kwargs["at_least"] = 1.0 - self.tolerance
            kwargs.setdefault("reason", self.tolerance_reason)
        return self._call(assert_rate, outcomes, **kwargs)

    def flow_matches(self, quantity, formula, **kwargs):
        """:func:`dmf_verify.checks.assertions.assert_flow_matches` with seed and reproducer filled in."""
        from dmf_verify.checks.assertions import assert_flow_matches

        return self._call(assert_flow_matches, quantity, formula, **kwargs)

    def conserved(self, invariant, **kwargs):
        """:func:`dmf_verify.checks.assertions.assert_conserved` with seed and reproducer filled in."""
        from dmf_verify.checks.assertions import assert_conserved

        return self._call(assert_conserved, invariant, **kwargs)

    def gd_tracks_flow(self, **kwargs):
        """:func:`dmf_verify.checks.assertions.assert_gd_tracks_flow` with seed and reproducer filled in."""
        from dmf_verify.checks.assertions import assert_gd_tracks_flow

        return self._call(assert_gd_tracks_flow, **kwargs)


_SESSION_HELPER: DMF | None = None


@pytest.fixture(scope="session")
def dmf_seed(request) -> int:
    """The seed of this run (``--dmf-seed``, default 0)."""
    return int(request.config.getoption("dmf_seed", 0) or 0)


@pytest.fixture(scope="session")
def dmf(dmf_seed) -> DMF:
    """Seeded dmf-verify assertions (see :class:`DMF`).

    Session-scoped, so it can be used inside ``@given`` tests without hypothesis's
    function-scoped-fixture health check; the plugin resets its per-test state (test id, rng,
    recorded checks) before every test.
    """
    global _SESSION_HELPER
    _SESSION_HELPER = DMF(dmf_seed)
    yield _SESSION_HELPER
    _SESSION_HELPER = None


def _claim_mark(item):
    mark = item.get_closest_marker("dmf_claim")
    if mark is None:
        return None
    from dmf_verify.checks.user_claims import claim_options

    return claim_options(mark, item.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item):
    if _SESSION_HELPER is not None:
        _SESSION_HELPER.nodeid = item.nodeid
        _SESSION_HELPER.checks = []
        _SESSION_HELPER._rng = None
        _SESSION_HELPER.tolerance = _SESSION_HELPER.tolerance_reason = None
        opts = _claim_mark(item)
        if opts is not None:
            _SESSION_HELPER.tolerance = opts.get("tolerance")
            _SESSION_HELPER.tolerance_reason = opts.get("tolerance_reason")


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """After a passing ``dmf_claim`` test, run its negative control as ``dmf-verify check`` would."""
    result = yield
    opts = _claim_mark(pyfuncitem)
    if opts is not None:
        _check_control(pyfuncitem, opts)
    return result


def _check_control(item, opts) -> None:
    from dmf_verify.checks.assertions import Check, DMFAssertionError
    from dmf_verify.checks.user_claims import resolve_control, run_test

    cid = opts.get("id", item.name)
    control = resolve_control(opts.get("control"), item.module, item.nodeid)
    seed = int(item.config.getoption("dmf_seed", 0) or 0)
    if control is None:
        raise DMFAssertionError(f"dmf_claim {cid!r} names no negative control (control='function_name'): a claim "
                                "without one proves nothing", Check(cid, float("nan"), 0.0, "no control"))
    tol = opts.get("tolerance")
    run = run_test(control, seed, role="control", tolerance=tol, tolerance_reason=opts.get("tolerance_reason"),
                   command=f"pytest '{item.nodeid}' --dmf-seed {{seed}}")
    errors = run.case_errors("control", tol)
    unit = tol if tol is not None else 1.0
    worst_name, worst = min(errors.items(), key=lambda kv: -1.0 if math.isnan(kv[1]) else kv[1])
    if math.isnan(worst) or worst <= unit:  # NaN, or the wrong variant was accepted
        check = Check(f"negative control {control.__name__} of {cid}", worst, unit,
                      "the claim's tolerance" if tol is not None else "each assertion's own tolerance (error/tol)",
                      seed, f"pytest '{item.nodeid}' --dmf-seed {seed}",
                      {"accepted case": worst_name, "control cases": len(errors)})
        raise DMFAssertionError(
            f"dmf-verify: the negative control {control.__name__} of dmf_claim {cid!r} was NOT rejected: its error "
            f"{worst:.3e} (case {worst_name!r}) is not above the tolerance {unit:.3e}, so the test proves nothing\n"
            + check.message(), check)


def pytest_runtest_teardown(item):
    h = _SESSION_HELPER
    if h is not None and h.nodeid == item.nodeid and h.checks:
        item.user_properties.append(("dmf_error_over_tolerance", max(c.ratio for c in h.checks)))
