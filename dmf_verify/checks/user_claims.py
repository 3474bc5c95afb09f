"""Turn users' pytest tests marked ``@pytest.mark.dmf_claim(...)`` into registry claims.

Mechanism (docs/user_tests.md):

1. mark a test and name its negative control -- a function that runs the *same* measurement
   on a wrong variant -- exactly as a built-in claim does::

       @pytest.mark.dmf_claim("mine.gd.imbalance_halves", source="my notes, eq. 3",
                              statement=r"\\|D(\\eta/2)\\| / \\|D(\\eta)\\| = 1/2 + O(\\eta)",
                              tolerance=0.05, tolerance_reason="worst |ratio - 1/2| 0.013 over seeds 0..19",
                              control="control_second_order")
       def test_imbalance_halves(dmf):
           dmf.close(ratio(dmf.seed, eta=0.02), 0.5)        # tol and reason: the claim's

       def control_second_order(dmf):                        # not collected by pytest
           dmf.close(ratio(dmf.seed, eta=0.02), 0.25)        # the same measurement, wrong statement

2. tell ``dmf-verify`` where the tests are: ``DMF_VERIFY_TESTS=path/to/test_x.py:path/to/dir``
   (``os.pathsep``-separated files or directories), or in the current directory's
   pyproject.toml::

       [tool.dmf-verify]
       claim-tests = ["tests/test_my_claims.py"]

Measurement. The test runs with the fixtures ``dmf`` and ``dmf_seed`` (seed = the claim's seed)
while failed dmf assertions are *recorded* instead of raised (:func:`assertions.collecting`),
so every measured error counts -- the control's too. Each dmf assertion is a case: the claim's
error is the largest case error of the test, the control's error the smallest case error of the
control (the claim aggregates, as for built-in claims).

* With ``tolerance=`` (and ``tolerance_reason=``) in the marker the errors are in the user's own
  units: an assertion made with the claim's tolerance (the default of ``dmf.close`` /
  ``dmf.order`` / ``dmf.rate`` inside the claim) contributes its measured error as is; one made
  with its own tolerance ``t`` contributes ``error * tolerance / t``.
* Without ``tolerance=`` (e.g. flow assertions whose tolerance comes from an integrator's error
  estimate) the claim's tolerance is 1 and each case is ``error / t``.

A failing plain ``assert``, a test that makes no dmf assertion, a NaN or an exception are ERRORs
(nothing was measured). Under plain pytest the plugin runs the named control after a passing
``dmf_claim`` test and fails the test when the control is not rejected, so ``pytest`` and
``dmf-verify check`` agree.

Loud configuration errors (:class:`dmf_verify.checks.errors.ConfigError`, exit status 2 from
the command line): a path that does not exist or holds no test file, a test file that fails to
import, a TOML syntax error in a pyproject.toml with a ``[tool.dmf-verify]`` table, an unknown
key in that table, an unknown ``dmf_claim`` keyword, a control that is not in the module.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dmf_verify.checks.claim import Claim, Measurement
from dmf_verify.checks.errors import ConfigError
from dmf_verify.errors import DMFError

ENV = "DMF_VERIFY_TESTS"
#: Keys of the ``[tool.dmf-verify]`` table.
CONFIG_KEYS = ("claim-tests",)
#: Keywords of the ``dmf_claim`` marker (besides the id, given first).
MARKER_KEYS = ("id", "source", "statement", "control", "tolerance", "tolerance_reason", "notes", "slow", "derive",
               "default_seed")
_SUPPORTED_FIXTURES = ("dmf", "dmf_seed")


class UnmeasuredClaimError(DMFError):
    """A claim test (or its control) ended without a measured error: a plain assert, no dmf assertion."""


# --------------------------------------------------------------------------------------------
# running a test function as a measurement
# --------------------------------------------------------------------------------------------
@dataclass
class TestRun:
    """The dmf checks one run of a test (or control) function made."""

    __test__ = False  # not a pytest test class

    name: str
    checks: list = field(default_factory=list)

    def case_errors(self, role: str, tolerance: float | None) -> dict[str, float]:
        """Case name -> error in the claim's units (``tolerance``; None: error/own tolerance)."""
        out: dict[str, float] = {}
        for c in self.checks:
            e = c.error_as(role)
            if tolerance is None or c.tolerance != tolerance:
                if math.isnan(e):
                    v = math.nan
                elif c.tolerance > 0:
                    v = e / c.tolerance
                else:
                    v = 0.0 if e == 0 else math.inf
                if tolerance is not None:
                    v *= tolerance
            else:
                v = e
            key, n = c.name, 2
            while key in out:
                key, n = f"{c.name} #{n}", n + 1
            out[key] = float(v)
        return out

    def measurement(self, role: str, tolerance: float | None) -> Measurement:
        cases = self.case_errors(role, tolerance)
        details = {"test": self.name,
                   "checks": [{"name": c.name, "error": c.error_as(role), "tolerance": c.tolerance,
                               "tolerance_reason": c.tolerance_reason,
                               **{k: str(v) for k, v in c.details.items()}} for c in self.checks[:20]]}
        if len(self.checks) > 20:
            details["checks_omitted"] = len(self.checks) - 20
        if len(cases) == 1:
            return Measurement(error=next(iter(cases.values())), details=details)
        return Measurement(cases=cases, details=details)


def _fixture_kwargs(func, seed: int, helper) -> dict:
    params = inspect.signature(func).parameters
    missing = [p for p in params if p not in _SUPPORTED_FIXTURES and params[p].default is inspect.Parameter.empty
               and params[p].kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    if missing:
        raise ConfigError(f"{func.__module__}.{func.__name__} asks for fixtures {missing}; a claim test "
                          f"gets only {list(_SUPPORTED_FIXTURES)} (build other inputs inside the test)")
    kwargs = {"dmf": helper, "dmf_seed": seed}
    return {k: v for k, v in kwargs.items() if k in params}


def run_test(func, seed: int, *, role: str = "verify", tolerance: float | None = None,
             tolerance_reason: str | None = None, command: str | None = None) -> TestRun:
    """Run a test function with the dmf fixtures and collect the checks it made.

    ``command`` (a format string with ``{seed}``) is the first line of the reproducers.
    Failed dmf assertions are recorded, not raised. Raises :class:`UnmeasuredClaimError` for a
    failing plain ``assert`` or a run without dmf assertions.
    """
    from dmf_verify.checks import assertions
    from dmf_verify.checks.pytest_plugin import DMF

    name = f"{func.__module__}.{func.__name__}"
    helper = DMF(seed, f"{func.__module__}::{func.__name__}", tolerance=tolerance,
                 tolerance_reason=tolerance_reason, command=command)
    kwargs = _fixture_kwargs(func, seed, helper)
    if getattr(getattr(func, "hypothesis", None), "inner_test", None) is not None:
        func._hypothesis_internal_use_seed = seed  # a @given test: its examples follow the claim's seed
    assertions._RECORDERS.append(helper.checks.append)
    try:
        with assertions.collecting():
            func(**kwargs)
    except assertions.DMFAssertionError:  # raised by hand: it is recorded already when made by dmf
        raise
    except AssertionError as exc:
        raise UnmeasuredClaimError(
            f"{name} ({role}) failed a plain assert ({str(exc).strip()[:300] or 'no message'}): a plain assert "
            "carries no measured error; measure with dmf.close / dmf.rate / dmf.order") from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # pytest.skip / pytest.fail outcomes are BaseExceptions
        if isinstance(exc, Exception):
            raise
        raise UnmeasuredClaimError(f"{name} ({role}) stopped with {type(exc).__name__}: {exc}") from None
    finally:
        assertions._RECORDERS.remove(helper.checks.append)
    if not helper.checks:
        raise UnmeasuredClaimError(f"{name} ({role}) made no dmf assertion: nothing was measured, so the claim "
                                   "could not fail (use dmf.close / dmf.rate / dmf.order / dmf.conserved ...)")
    return TestRun(name, list(helper.checks))


# --------------------------------------------------------------------------------------------
# marked tests -> claims
# --------------------------------------------------------------------------------------------
def _marks(func) -> list:
    return [m for m in getattr(func, "pytestmark", []) if getattr(m, "name", "") == "dmf_claim"]


def claim_options(mark, where: str) -> dict:
    """Validated keyword options of a ``dmf_claim`` mark (``id`` included); ConfigError otherwise."""
    kw = dict(mark.kwargs)
    if len(mark.args) > 1:
        raise ConfigError(f"{where}: dmf_claim takes the claim id as its only positional argument, got "
                          f"{mark.args!r}")
    if mark.args:
        if "id" in kw:
            raise ConfigError(f"{where}: dmf_claim got the id twice ({mark.args[0]!r} and id={kw['id']!r})")
        kw["id"] = mark.args[0]
    unknown = sorted(set(kw) - set(MARKER_KEYS))
    if unknown:
        raise ConfigError(f"{where}: dmf_claim got unknown keyword {unknown[0]!r}; allowed: {', '.join(MARKER_KEYS)}")
    if "id" in kw and (not isinstance(kw["id"], str) or not kw["id"]):
        raise ConfigError(f"{where}: dmf_claim id must be a non-empty string, got {kw['id']!r}")
    tol = kw.get("tolerance")
    if tol is not None:
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not math.isfinite(tol) or tol <= 0:
            raise ConfigError(f"{where}: dmf_claim tolerance must be a finite number > 0, got {tol!r}")
        reason = kw.get("tolerance_reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{where}: dmf_claim tolerance={tol!r} needs tolerance_reason= (where the tolerance "
                              "comes from, with the measured figures)")
    return kw


def resolve_control(control, module, where: str):
    """The control callable named by ``control`` (a name in ``module`` or a callable), or None."""
    if control is None or callable(control):
        return control
    if isinstance(control, str):
        ctl = getattr(module, control, None)
        if ctl is None or not callable(ctl):
            raise ConfigError(f"{where}: control {control!r} is not a function of {getattr(module, '__name__', '?')}")
        return ctl
    raise ConfigError(f"{where}: control must be a function name or a callable, got {control!r}")


def claim_from_test(func, *, id: str, source: str = "", statement: str = "", control=None, notes: str = "",
                    slow: bool = False, tolerance: float | None = None, tolerance_reason: str | None = None,
                    derive: Callable | None = None, default_seed: int = 0) -> Claim:
    """A Claim whose verification runs ``func`` and whose control runs ``control`` (see the module doc)."""
    where = f"{func.__module__}.{func.__name__}"
    control = resolve_control(control, sys.modules.get(func.__module__), where)
    cmd = f"dmf-verify check '{id}' --seed {{seed}}"
    if tolerance is not None:
        tol, reason = float(tolerance), tolerance_reason
    else:
        tol, reason = 1.0, ("error / tolerance of each dmf assertion of the test (each states its own tolerance and "
                            "reason: see the details); a failing plain assert or no dmf assertion is an ERROR")

    def _verify(seed):
        return run_test(func, seed, role="verify", tolerance=tolerance, tolerance_reason=tolerance_reason,
                        command=cmd).measurement("verify", tolerance)

    def _control(seed):
        if control is None:
            raise ConfigError(f"dmf_claim {id!r} names no negative control (control='function_name'); a claim "
                              "without one proves nothing")
        return run_test(control, seed, role="control", tolerance=tolerance, tolerance_reason=tolerance_reason,
                        command=cmd + "   # the control").measurement("control", tolerance)

    ctl_doc = ""
    if control is not None:
        ctl_doc = (inspect.getdoc(control) or "").split("\n\n")[0].replace("\n", " ")
    return Claim(id=id, source=source or where,
                 statement=statement or rf"\text{{{func.__name__.replace('_', ' ')}}}",
                 verify=_verify, control=_control, tolerance=tol, tolerance_reason=reason,
                 control_description=(f"{control.__name__}: {ctl_doc}" if ctl_doc else
                                      f"{control.__name__} (the same measurement on a wrong variant)")
                 if control is not None else "none given",
                 derive=derive, notes=notes or (inspect.getdoc(func) or "").split("\n\n")[0], slow=bool(slow),
                 default_seed=int(default_seed))


def claims_from_module(module) -> list[Claim]:
    """Claims for every function of ``module`` marked ``dmf_claim``."""
    out = []
    for name, func in sorted(vars(module).items()):
        if not callable(func) or getattr(func, "__module__", None) != module.__name__:
            continue
        for m in _marks(func):
            kw = claim_options(m, f"{getattr(module, '__file__', module.__name__)}::{name}")
            kw.setdefault("id", f"user.{module.__name__}.{name}")
            out.append(claim_from_test(func, **kw))
    return out


def _import_path(path: Path):
    path = path.resolve()
    name = "dmf_user_tests_" + "_".join(path.with_suffix("").parts[-3:]).replace("-", "_").replace(".", "_")
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    if str(path.parent) not in sys.path:  # like pytest's default import mode: the test's folder stays importable
        sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return mod


def _test_files(p: Path, origin: str) -> list[Path]:
    if p.is_dir():
        files = sorted(q for q in p.rglob("*.py") if q.name.startswith("test_") or q.name.endswith("_test.py"))
        if not files:
            raise ConfigError(f"{origin} names the folder {str(p)!r}, which holds no test_*.py or *_test.py file")
        return files
    if p.is_file():
        if p.suffix != ".py":
            raise ConfigError(f"{origin} names {str(p)!r}, which is not a Python file")
        return [p]
    raise ConfigError(f"{origin} names {str(p)!r}, which does not exist (relative paths start at {os.getcwd()})")


def claims_from_paths(paths, *, origin: str = "claim test path") -> list[Claim]:
    """Claims from test files (``test_*.py`` / ``*_test.py`` inside directories) at ``paths``."""
    return _claims_from([(str(p), origin) for p in paths])


def _claims_from(entries) -> list[Claim]:
    files: list[tuple[Path, str]] = []
    for p, origin in entries:
        files += [(f, origin) for f in _test_files(Path(p), origin)]
    out: list[Claim] = []
    seen: dict[str, Path] = {}
    for f, origin in files:
        try:
            mod = _import_path(f)
        except Exception as exc:
            raise ConfigError(f"the claim test file {str(f)!r} ({origin}) failed to import: "
                              f"{type(exc).__name__}: {exc}") from exc
        for c in claims_from_module(mod):
            if c.id in seen:
                raise ConfigError(f"dmf_claim id {c.id!r} appears in {str(seen[c.id])!r} and in {str(f)!r}")
            seen[c.id] = f
            out.append(c)
    return out


def _read_config(root: Path) -> tuple[dict, Path | None]:
    pp = root / "pyproject.toml"
    if not pp.is_file():
        return {}, None
    import tomllib

    text = pp.read_text()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if "dmf-verify" in text:
            raise ConfigError(f"{pp}: invalid TOML ({exc}), so its [tool.dmf-verify] table cannot be read") from None
        return {}, None  # not our table: a broken file that does not configure dmf-verify
    tool = doc.get("tool", {})
    cfg = tool.get("dmf-verify", {}) if isinstance(tool, dict) else {}
    if not isinstance(cfg, dict):
        raise ConfigError(f"{pp}: tool.dmf-verify must be a table, got {cfg!r}")
    unknown = sorted(set(cfg) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(f"{pp}: unknown key {unknown[0]!r} in [tool.dmf-verify]; known keys: "
                          f"{', '.join(CONFIG_KEYS)}")
    tests = cfg.get("claim-tests", [])
    if isinstance(tests, str):
        tests = [tests]
    if not isinstance(tests, list) or not all(isinstance(t, str) and t for t in tests):
        raise ConfigError(f"{pp}: [tool.dmf-verify] claim-tests must be a list of paths, got {tests!r}")
    return {"claim-tests": tests}, pp


def _configured(cwd=None) -> list[tuple[str, str]]:
    entries = [(p, f"${ENV}") for p in os.environ.get(ENV, "").split(os.pathsep) if p]
    root = Path(cwd) if cwd is not None else Path.cwd()
    cfg, pp = _read_config(root)
    entries += [(str(root / p), f"{pp} [tool.dmf-verify] claim-tests") for p in cfg.get("claim-tests", [])]
    return entries


def configured_paths(cwd: str | os.PathLike | None = None) -> list[str]:
    """Paths from ``$DMF_VERIFY_TESTS`` plus ``[tool.dmf-verify] claim-tests`` of ./pyproject.toml.

    Raises :class:`ConfigError` for a malformed ``[tool.dmf-verify]`` table or an unknown key.
    """
    return [p for p, _ in _configured(cwd)]


def discover() -> list[Claim]:
    """The user claims configured for this directory (empty when none are configured).

    Every configuration problem raises :class:`ConfigError` naming the path or key (the command
    line turns it into exit status 2): it never becomes a claim that a filter could hide.
    """
    entries = _configured()
    return _claims_from(entries) if entries else []
