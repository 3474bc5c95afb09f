"""pytest plugin (entry point ``pytest11`` named ``dmf_verify``), loaded in every pytest run.

It registers the ``dmf_claim`` marker, the ``--dmf-seed`` option and two fixtures:

* ``dmf_seed`` -- the seed for this run (``--dmf-seed N``, default 0);
* ``dmf`` -- a :class:`DMF` helper whose methods wrap :mod:`dmf_verify.checks.assertions`
  (``flow_matches``, ``conserved``, ``gd_tracks_flow``) with the seed and a reproducer
  (``pytest NODEID --dmf-seed N`` plus the instance) filled in; ``dmf.rng`` is a seeded
  ``numpy.random.Generator``; ``dmf.checks`` lists the checks made so far.

A test marked ``@pytest.mark.dmf_claim("my.claim.id", source=..., statement=..., control=...)``
becomes a claim of ``dmf-verify check`` when its file is listed in ``DMF_VERIFY_TESTS`` or in
``[tool.dmf-verify] claim-tests`` of the current directory's pyproject.toml (see
:mod:`dmf_verify.checks.user_claims` and docs/user_tests.md).

This module imports nothing heavy at import time (numpy, scipy and hypothesis are imported by
the fixtures when a test asks for them).
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("dmf-verify")
    group.addoption("--dmf-seed", type=int, default=0, dest="dmf_seed",
                    help="seed passed to the dmf / dmf_seed fixtures (default 0)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "dmf_claim(id, source='', statement='', control=None, notes=''): turn this test into a claim "
        "listed by dmf-verify (see docs/user_tests.md)",
    )


class DMF:
    """Per-test helper: seeded assertions with reproducers naming the test and the seed."""

    def __init__(self, seed: int, nodeid: str = ""):
        self.seed = int(seed)
        self.nodeid = nodeid
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
        if self.nodeid:
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

        assertions._RECORDERS.append(self.checks.append)
        try:
            return fn(*args, **kwargs)
        finally:
            assertions._RECORDERS.remove(self.checks.append)

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


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item):
    if _SESSION_HELPER is not None:
        _SESSION_HELPER.nodeid = item.nodeid
        _SESSION_HELPER.checks = []
        _SESSION_HELPER._rng = None


def pytest_runtest_teardown(item):
    h = _SESSION_HELPER
    if h is not None and h.nodeid == item.nodeid and h.checks:
        item.user_properties.append(("dmf_error_over_tolerance", max(c.ratio for c in h.checks)))
